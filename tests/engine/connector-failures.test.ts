// One account must never fail a run: a connector that throws (or never answers) instead of returning
// an outcome gives that item its outcome, in the class the guarantees require, and the run goes on
// to publish and record everything else.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { startSandbox, type Sandbox } from "../../local/sandbox/index.ts";
import { processQueue } from "../../lib/engine/process.ts";
import type { Connector } from "../../lib/connectors/types.ts";
import { connect, makeUser, type Sql } from "../support/db";
import { sandboxAccounts, sandboxConnector } from "../support/sandbox.ts";

let sql: Sql;
let sandbox: Sandbox;

beforeAll(async () => {
  sql = connect(6);
  sandbox = await startSandbox({ port: 0, seed: 5 });
});
afterAll(async () => {
  await sandbox.stop();
  await sql.end();
});

const CALL_TIMEOUT_MS = 400;

/** The sandbox connector, except that `broken` decides, per handle, how a call goes wrong instead. */
function brokenFor(broken: { publish?: Record<string, () => Promise<never>>; lookup?: Record<string, () => Promise<never>> }): Connector {
  const real = sandboxConnector(sandbox.url);
  return {
    ...real,
    publish: (req, opts) => broken.publish?.[req.account.handle]?.() ?? real.publish(req, opts),
    lookup: (account, key, opts) => broken.lookup?.[account.handle]?.() ?? real.lookup(account, key, opts),
  };
}

const throws = (message: string) => () => Promise.reject(new TypeError(message));
/** A connector method that is not async: it throws before returning any promise. */
const throwsAtOnce = (message: string) => (): Promise<never> => {
  throw new TypeError(message);
};
const neverAnswers = () => new Promise<never>(() => {});

/** A workspace with one sandbox account per name, and one queued post for each; returns the items by name. */
async function itemsFor(names: string[]) {
  const user = await makeUser(sql, "faulty");
  await sql`update public.workspaces set plan_id = 'ultra' where id = ${user.workspaceId}`;
  const made = await sandboxAccounts(sandbox.url, names.map((n) => `${n}_${randomUUID().slice(0, 8)}`));
  const items: Record<string, { id: number; handle: string; key: string }> = {};
  for (const [i, { handle, sealed }] of made.entries()) {
    const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                          values (${user.workspaceId}, 'sandbox', ${handle}, ${handle}, ${sealed}) returning id`;
    const [p] = await sql`insert into public.posts (workspace_id, text) values (${user.workspaceId}, ${`post ${randomUUID()}`}) returning id`;
    const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${user.workspaceId}, ${p.id}, ${a.id})
                          returning id, idempotency_key`;
    items[names[i]] = { id: Number(q.id), handle, key: q.idempotency_key };
  }
  return { workspaceId: user.workspaceId, items };
}

/** Makes an item one whose earlier publish went unanswered, due for its lookup now. */
const toVerify = (id: number) =>
  sql`update public.queue_items set status = 'verifying', attempts = 1, call_deadline_at = now() - interval '1 hour', run_at = now() where id = ${id}`;

const run = (workspaceId: string, connector: Connector) =>
  processQueue({
    sql,
    worker: `faulty-${randomUUID().slice(0, 6)}`,
    connectorFor: () => connector,
    workspaceId,
    budgetMs: 5_000,
    callTimeoutMs: CALL_TIMEOUT_MS,
    leaseSeconds: 60,
    verifyRetryMs: [60_000, 60_000],
    retry: { baseMs: 20, factor: 2, maxRetries: 3, jitter: 0 },
  });

const item = async (id: number) =>
  (await sql`select status, error_class, last_error, lease_id from public.queue_items where id = ${id}`)[0];
const history = async (id: number) =>
  (await sql`select kind, outcome, error_message, applied from public.posting_history where queue_item_id = ${id} order by id`).map((h) => ({ ...h }));
const copies = (key: string) => sandbox.network.postsByClientRef(key).length;

describe("a connector that throws", () => {
  it("during a publish: that item is unknown and goes to verification (never re-sent blindly); the run goes on", async () => {
    const { workspaceId, items } = await itemsFor(["bad", "ok1", "ok2"]);
    const connector = brokenFor({ publish: { [items.bad.handle]: throwsAtOnce("Cannot read properties of undefined (reading 'body')") } });

    const summary = await run(workspaceId, connector);
    expect(summary.claimed).toBe(3);
    expect(summary.recorded).toBe(3);
    expect(summary.byOutcome).toEqual({ posted: 2, unknown: 1 });

    expect(await item(items.bad.id)).toMatchObject({ status: "verifying", error_class: "unknown", lease_id: null });
    expect(await history(items.bad.id)).toEqual([
      { kind: "publish", outcome: "unknown", applied: true, error_message: expect.stringMatching(/^the sandbox connector failed; the post may have reached the platform: .*reading 'body'/) },
    ]);
    for (const ok of [items.ok1, items.ok2]) {
      expect((await item(ok.id)).status).toBe("posted");
      expect(copies(ok.key)).toBe(1);
    }
  });

  it("during a lookup: the platform could not be asked (unavailable, asked again later), and the run goes on", async () => {
    const { workspaceId, items } = await itemsFor(["bad", "ok1", "ok2"]);
    await toVerify(items.bad.id);
    const connector = brokenFor({ lookup: { [items.bad.handle]: throws("lookup exploded") } });

    const summary = await run(workspaceId, connector);
    expect(summary.recorded).toBe(3);
    expect(summary.byOutcome).toEqual({ posted: 2, unavailable: 1 });

    expect(await item(items.bad.id)).toMatchObject({ status: "verifying", error_class: "unavailable", lease_id: null });
    expect(await history(items.bad.id)).toEqual([
      { kind: "verify", outcome: "unavailable", applied: true, error_message: expect.stringContaining("lookup exploded") },
    ]);
    expect(copies(items.bad.key)).toBe(0);
    for (const ok of [items.ok1, items.ok2]) expect((await item(ok.id)).status).toBe("posted");
  });
});

describe("a connector that answers nothing readable", () => {
  it("(a publish resolving to undefined): that item is unknown, the others are posted", async () => {
    const { workspaceId, items } = await itemsFor(["bad", "ok"]);
    const connector = brokenFor({ publish: { [items.bad.handle]: () => Promise.resolve(undefined as never) } });

    const summary = await run(workspaceId, connector);
    expect(summary.byOutcome).toEqual({ posted: 1, unknown: 1 });
    expect(await item(items.bad.id)).toMatchObject({ status: "verifying", error_class: "unknown" });
    expect((await history(items.bad.id)).map((h) => `${h.kind}:${h.outcome}`)).toEqual(["publish:unknown"]);
    expect((await item(items.ok.id)).status).toBe("posted");
  });
});

describe("a connector that never answers", () => {
  it("holds neither the run nor the others: its publish is unknown, its lookup unavailable, once the call's time is up", async () => {
    const { workspaceId, items } = await itemsFor(["hangs", "hangsLooking", "ok"]);
    await toVerify(items.hangsLooking.id);
    const connector = brokenFor({ publish: { [items.hangs.handle]: neverAnswers }, lookup: { [items.hangsLooking.handle]: neverAnswers } });

    const started = Date.now();
    const summary = await run(workspaceId, connector);
    expect(Date.now() - started).toBeLessThan(CALL_TIMEOUT_MS + 3_000);
    expect(summary.byOutcome).toEqual({ posted: 1, unknown: 1, unavailable: 1 });
    expect((await item(items.hangs.id)).status).toBe("verifying");
    expect((await item(items.hangsLooking.id)).status).toBe("verifying");
    expect((await item(items.ok.id)).status).toBe("posted");
  });
});

describe("credentials that cannot be read", () => {
  it("fail a publish (nothing was sent) but never a lookup: the earlier publish may be live, so it is asked again later", async () => {
    const { workspaceId, items } = await itemsFor(["sealedBadly", "verifyingBadly"]);
    await sql`update public.social_accounts set credentials_encrypted = 'v1:AAAA:AAAA'
              where handle in (${items.sealedBadly.handle}, ${items.verifyingBadly.handle})`;
    await toVerify(items.verifyingBadly.id);

    const summary = await run(workspaceId, sandboxConnector(sandbox.url));
    expect(summary.byOutcome).toEqual({ permanent: 1, unavailable: 1 });
    expect((await item(items.sealedBadly.id)).status).toBe("failed");
    expect(await item(items.verifyingBadly.id)).toMatchObject({ status: "verifying", error_class: "unavailable" });
  });
});
