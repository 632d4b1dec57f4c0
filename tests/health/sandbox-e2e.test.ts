// Account health end to end with the sandbox platform, judged by what the platform received (its own
// record of stored posts and refused requests), not only by Pacer's tables: a restricted account is
// sent nothing once Pacer has seen the restriction, and its posts stay its own; a destination that
// keeps rejecting one account is held (from the rejection that reaches the threshold) while that
// account's other posts go, and released posts go once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { startSandbox, type Sandbox } from "../../local/sandbox/index.ts";
import { scanHealth } from "../../lib/health/scan.ts";
import { processQueue } from "../../lib/engine/process.ts";
import { listReview } from "../../lib/review/index.ts";
import { connect, type Sql } from "../support/db";
import { sandboxAccount, sandboxConnector } from "../support/sandbox.ts";
import { asPerson, openAlerts, workspace } from "./helpers";

let sql: Sql;
let sandbox: Sandbox;

beforeAll(async () => {
  sql = connect(4);
  sandbox = await startSandbox({ port: 0, seed: 11 });
});
afterAll(async () => {
  await sandbox.stop();
  await sql.end();
});

/** An account on the sandbox, connected to the workspace as Pacer's connect flow stores it. */
async function connectAccount(workspaceId: string, label: string) {
  const handle = `${label}_${randomUUID().slice(0, 8)}`;
  const made = await sandboxAccount(sandbox.url, handle);
  const [row] = await sql`
    insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
    values (${workspaceId}, 'sandbox', ${handle}, ${handle}, ${made.sealed}) returning id`;
  return { id: row.id as string, handle };
}

/** Scenario state on the sandbox (local/sandbox/routes.ts). */
async function setState(handle: string, state: Record<string, unknown>) {
  const res = await fetch(`${sandbox.url}/v1/admin/accounts/${handle}/state`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(state),
  });
  expect(res.status).toBe(200);
}

interface Queued {
  id: string;
  key: string;
}

/** `n` posts for the account (unique texts: the sandbox refuses a repeated text), due at `at` (default now). */
async function queue(workspaceId: string, accountId: string, n: number, opts: { destination?: string; at?: Date } = {}): Promise<Queued[]> {
  const at = opts.at ?? new Date(Date.now() - 1_000);
  const rows = await sql`
    with p as (insert into public.posts (workspace_id, text, destination)
               select ${workspaceId}, 'e2e ' || gen_random_uuid(), ${opts.destination ?? null} from generate_series(1, ${n}) returning id)
    insert into public.queue_items (workspace_id, post_id, account_id, scheduled_for, run_at)
    select ${workspaceId}, p.id, ${accountId}, ${at}, ${at} from p
    returning id, idempotency_key`;
  return rows.map((r) => ({ id: String(r.id), key: r.idempotency_key as string }));
}

const idsOf = (items: Queued[]) => items.map((i) => i.id);

function processRun(workspaceId: string) {
  const connector = sandboxConnector(sandbox.url);
  return processQueue({ sql, worker: `e2e-${randomUUID().slice(0, 6)}`, workspaceId, connectorFor: () => connector, budgetMs: 10_000, callTimeoutMs: 2_000 });
}

async function scan(workspaceId: string, accountIds: string[]) {
  // Due now, before anything else of the shared database.
  await sql`update private.account_health_state set due_at = now() - interval '10 years', lease_id = null, lease_expires_at = null
            where account_id = any(${accountIds})`;
  const connector = sandboxConnector(sandbox.url);
  return scanHealth({ sql, worker: `e2e-scan-${randomUUID().slice(0, 6)}`, workspaceId, connectorFor: () => connector, budgetMs: 20_000 });
}

/** The platform's copies of a post, by the idempotency key Pacer sends as its client_ref (any account). */
const copiesOf = (item: Queued) => sandbox.network.postsByClientRef(item.key);
const stored = (handle: string) => sandbox.stats().byAccount[handle] ?? 0;
const refused = (handle: string) => sandbox.stats().refusedByAccount[handle] ?? {};

const itemsOf = (ids: string[]) =>
  sql`select id::text, status, account_id, run_at = 'infinity' as parked, error_class, last_error
      from public.queue_items where id = any(${ids}) order by id`;

describe("a restricted account on the sandbox", () => {
  it("is sent nothing once Pacer has seen the restriction, is shown to a person, and keeps its posts while the other account's go once", async () => {
    const owner = await workspace(sql, "e2e-restricted");
    const ws = owner.workspaceId;
    const blocked = await connectAccount(ws, "blocked");
    const healthy = await connectAccount(ws, "healthy");

    // Before the restriction, the account posts like any other.
    const before = await queue(ws, blocked.id, 1);
    await processRun(ws);
    expect(copiesOf(before[0])).toHaveLength(1);

    // The platform restricts it. Pacer learns it from the refusal of its next publish.
    await setState(blocked.handle, { restricted: true });
    const blockedPosts = await queue(ws, blocked.id, 4);
    const healthyPosts = await queue(ws, healthy.id, 4);
    await processRun(ws);
    const [seen] = await sql`select state, requires_review from public.social_accounts where id = ${blocked.id}`;
    expect(seen).toEqual({ state: "restricted", requires_review: true });
    const refusedWhenSeen = refused(blocked.handle).account_restricted ?? 0;
    // The attempts of that one run (claimed together) were refused; none got through.
    expect(refusedWhenSeen).toBeGreaterThanOrEqual(1);
    expect(refusedWhenSeen).toBeLessThanOrEqual(blockedPosts.length);
    expect(stored(blocked.handle)).toBe(1);

    // The platform lifts the restriction: it would take posts again, so anything Pacer sent now would
    // land. Pacer holds the account until a person resumes it — through more posts, runs and a scan.
    await setState(blocked.handle, { restricted: false });
    const later = await queue(ws, blocked.id, 2);
    await processRun(ws);
    const summary = await scan(ws, [blocked.id, healthy.id]);
    expect(summary).toMatchObject({ claimed: 2, read: 2 });
    await processRun(ws);

    // The wire: nothing more reached the restricted account, stored or refused, and none of its posts
    // reached any account (not moved to the healthy one).
    expect(stored(blocked.handle)).toBe(1);
    expect(refused(blocked.handle)).toEqual({ account_restricted: refusedWhenSeen });
    for (const item of [...blockedPosts, ...later]) expect(copiesOf(item)).toEqual([]);
    // The healthy account's posts all went, each once, to it.
    expect(stored(healthy.handle)).toBe(healthyPosts.length);
    for (const item of healthyPosts) expect(copiesOf(item).map((p) => p.handle)).toEqual([healthy.handle]);
    expect(refused(healthy.handle)).toEqual({});

    // Pacer: the restricted account's posts are still its own, waiting (parked until a resume), none lost.
    const waiting = await itemsOf(idsOf([...blockedPosts, ...later]));
    expect(waiting).toHaveLength(6);
    for (const item of waiting) {
      expect(item).toMatchObject({ status: "pending", account_id: blocked.id, parked: true });
    }
    expect((await itemsOf(idsOf(healthyPosts))).map((i) => i.status)).toEqual(healthyPosts.map(() => "posted"));
    // … the account stays restricted (auto-pause leaves it so), with the critical alert …
    const [account] = await sql`select state, requires_review, health_score from public.social_accounts where id = ${blocked.id}`;
    expect(account).toMatchObject({ state: "restricted", requires_review: true });
    expect(account.health_score).toBeLessThanOrEqual(40);
    const alerts = await openAlerts(sql, blocked.id);
    expect(alerts.find((a) => a.rule_id === "restricted")).toMatchObject({ severity: "critical" });
    expect(await openAlerts(sql, healthy.id)).toEqual([]);
    // … and in the review queue's accounts needing a person; the healthy account is not.
    const review = await listReview({ sub: owner.id, role: "authenticated" }, { workspaceId: ws });
    expect(review.accounts.map((a) => [a.id, a.state])).toEqual([[blocked.id, "restricted"]]);
  }, 60_000);
});

describe("a destination that keeps rejecting an account on the sandbox", () => {
  it("is held while the account's other posts go once; released, its held posts go once", async () => {
    const owner = await workspace(sql, "e2e-destination");
    const ws = owner.workspaceId;
    const acct = await connectAccount(ws, "dest");
    const rejecting = "r/rejecting";
    const fine = "r/fine";
    await setState(acct.handle, { rejectedDestinations: [rejecting] });

    // Three posts to the rejecting destination now and two for later; posts to a fine destination and
    // to the account's own feed.
    const rejectedNow = await queue(ws, acct.id, 3, { destination: rejecting });
    const forLater = await queue(ws, acct.id, 2, { destination: rejecting, at: new Date(Date.now() + 3_600_000) });
    const toFine = await queue(ws, acct.id, 2, { destination: fine });
    const toFeed = await queue(ws, acct.id, 2);
    await processRun(ws);
    expect(refused(acct.handle)).toEqual({ destination_rejected: 3 });
    for (const item of [...toFine, ...toFeed]) expect(copiesOf(item)).toHaveLength(1);
    // A rejection is final for that post (the engine's destination_rejected: failed, with its reason,
    // retryable by a person); what the hold keeps are the posts still to go.
    for (const item of await itemsOf(idsOf(rejectedNow))) expect(item).toMatchObject({ status: "failed", error_class: "destination_rejected" });

    // The third rejection, once recorded, held the destination for this account (20261202001700: not
    // only at the next scan): its waiting posts are parked, not failed. The scan then opens the alert.
    const holds = await sql`select destination, rejections, released_at from public.destination_holds where account_id = ${acct.id}`;
    expect(holds).toEqual([{ destination: rejecting, rejections: 3, released_at: null }]);
    await scan(ws, [acct.id]);
    expect(await sql`select destination from public.destination_holds where account_id = ${acct.id}`).toEqual([{ destination: rejecting }]);
    expect((await openAlerts(sql, acct.id)).map((a) => a.rule_id)).toContain("destination_rejections");
    for (const item of await itemsOf(idsOf(forLater))) {
      expect(item).toMatchObject({ status: "pending", account_id: acct.id, parked: true });
      expect(item.last_error).toContain(rejecting);
    }

    // A person retries one rejected post while the hold lasts: it waits with the held ones.
    const [retried, ...stillFailed] = rejectedNow;
    await asPerson(sql, owner.id, (tx) => tx`select private.retry_queue_items(${ws}, ${[Number(retried.id)]}::bigint[])`);
    // Time passes: the later posts fall due, a new post to the held destination and more posts
    // elsewhere are queued. The account's other posts go; nothing is sent to the held destination.
    await sql`update public.queue_items set scheduled_for = now() - interval '1 second' where id = any(${idsOf(forLater)})`;
    const newHeld = await queue(ws, acct.id, 1, { destination: rejecting });
    const moreFine = await queue(ws, acct.id, 1, { destination: fine });
    const moreFeed = await queue(ws, acct.id, 1);
    await processRun(ws);
    await processRun(ws);
    expect(refused(acct.handle)).toEqual({ destination_rejected: 3 });
    const held = [retried, ...forLater, ...newHeld];
    for (const item of held) expect(copiesOf(item)).toEqual([]);
    for (const item of [...toFine, ...toFeed, ...moreFine, ...moreFeed]) expect(copiesOf(item)).toHaveLength(1);
    expect(stored(acct.handle)).toBe(6);
    for (const item of await itemsOf(idsOf(held))) expect(item).toMatchObject({ status: "pending", account_id: acct.id, parked: true });
    const [state] = await sql`select state from public.social_accounts where id = ${acct.id}`;
    expect(state.state).toBe("active");

    // The destination takes posts again and a person releases it: the held posts go, each once.
    await setState(acct.handle, { rejectedDestinations: [] });
    const released = await asPerson(sql, owner.id, (tx) => tx`select public.release_destination(${acct.id}, ${rejecting}) as r`);
    expect(released[0].r).toEqual({ released: true, items: held.length });
    await processRun(ws);
    await processRun(ws);
    for (const item of held) expect(copiesOf(item).map((p) => p.destination)).toEqual([rejecting]);
    expect((await itemsOf(idsOf(held))).map((i) => i.status)).toEqual(held.map(() => "posted"));
    // Everything else still went exactly once, and the rejected posts nobody retried were not sent again.
    for (const item of [...toFine, ...toFeed, ...moreFine, ...moreFeed]) expect(copiesOf(item)).toHaveLength(1);
    for (const item of stillFailed) expect(copiesOf(item)).toEqual([]);
    expect((await itemsOf(idsOf(stillFailed))).map((i) => i.status)).toEqual(["failed", "failed"]);
    expect(stored(acct.handle)).toBe(10);
    expect(sandbox.stats().duplicateClientRefs).toEqual([]);
    const [hold] = await sql`select released_at, released_by from public.destination_holds where account_id = ${acct.id}`;
    expect(hold.released_at).not.toBeNull();
    expect(hold.released_by).toBe(owner.id);
  }, 60_000);
});
