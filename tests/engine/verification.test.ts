// "Not found" is believed only once an attempt can no longer land: an unknown publish is looked up no
// earlier than its send time + call timeout + the platform's margin, and a first "not found" is
// confirmed by a second lookup after the platform's read lag before anything is sent again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { startSandbox, type Sandbox } from "../../local/sandbox/index.ts";
import { sandboxAccount, sandboxConnector } from "../support/sandbox.ts";
import { processQueue } from "../../lib/engine/process.ts";
import { claimDuePosts, recordOutcomes, recoverExpiredLeases, type ClaimedItem } from "../../lib/engine/store.ts";
import { startPrivateDatabase, makeWorkspace, type PrivateDatabase } from "../chaos/database.ts";
import type { Sql } from "../support/db";

// A database of its own: a run of another file claims whatever is due, and would look these items up elsewhere.
let db: PrivateDatabase;
let sql: Sql;
let sandbox: Sandbox;
/** The sandbox platform's timings in this database (public.platforms): short, for a local platform. */
const marginMs = 200;
const confirmMs = 300;
/** One connector for the file, as a worker holds one. */
let connector: ReturnType<typeof sandboxConnector>;

beforeAll(async () => {
  db = await startPrivateDatabase("verification");
  sql = db.sql;
  await sql`update public.platforms set verify_margin_ms = ${marginMs}, verify_confirm_ms = ${confirmMs} where id = 'sandbox'`;
  // Its duplicate-text check off, so a re-send would show as a client_ref stored twice.
  sandbox = await startSandbox({ port: 0, seed: 11, config: { duplicateWindow: 0 } });
  connector = sandboxConnector(sandbox.url);
});
afterAll(async () => {
  await sandbox?.stop();
  await db?.stop();
});

const CALL_TIMEOUT_MS = 500;
const run = () =>
  processQueue({
    sql,
    worker: `verify-${randomUUID().slice(0, 6)}`,
    connectorFor: () => connector,
    budgetMs: 5_000,
    callTimeoutMs: CALL_TIMEOUT_MS,
    retry: { baseMs: 20, factor: 2, maxRetries: 3, jitter: 0 },
  });

async function oneItem() {
  const user = await makeWorkspace(sql, "verify");
  const handle = `ver_${randomUUID().slice(0, 8)}`;
  const { sealed } = await sandboxAccount(sandbox.url, handle);
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                        values (${user.workspaceId}, 'sandbox', ${handle}, ${handle}, ${sealed}) returning id`;
  const [p] = await sql`insert into public.posts (workspace_id, text) values (${user.workspaceId}, ${`post ${randomUUID()}`}) returning id`;
  const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${user.workspaceId}, ${p.id}, ${a.id})
                        returning id, idempotency_key`;
  return { id: Number(q.id), key: q.idempotency_key as string, handle };
}

const item = async (id: number) => {
  const [row] = await sql`select status, run_at, call_deadline_at, absence_seen_at, last_error from public.queue_items where id = ${id}`;
  return row;
};
const history = async (id: number) =>
  (await sql`select kind, outcome, started_at from public.posting_history where queue_item_id = ${id} order by id`).map((h) => ({
    step: `${h.kind}:${h.outcome}`,
    startedAt: h.started_at as Date,
  }));
const steps = async (id: number) => (await history(id)).map((h) => h.step);
const copies = (key: string) => sandbox.network.postsByClientRef(key).length;
const sleepUntil = (at: Date) => new Promise((r) => setTimeout(r, Math.max(0, at.getTime() - Date.now()) + 20));

/** Claims this item now (its database holds nothing else due), as a worker would. */
async function claim(id: number, leaseSeconds = 60): Promise<ClaimedItem> {
  await sql`update public.queue_items set run_at = now() where id = ${id}`; // due now, whatever its timing said
  const mine = (await claimDuePosts(sql, { worker: "verify-test", limit: 10, leaseSeconds })).find((c) => c.id === id);
  if (!mine) throw new Error(`item ${id} could not be claimed`);
  return mine;
}

/** Records that this publish attempt's outcome is unknown, its call's time having run out at `deadline`. */
async function recordUnknown(c: ClaimedItem, deadline: Date) {
  const startedAt = new Date(deadline.getTime() - CALL_TIMEOUT_MS);
  await recordOutcomes(sql, [
    { id: c.id, leaseId: c.leaseId, mode: "publish", attempt: c.attempts, outcome: "unknown", errorMessage: "no answer in time",
      next: "verify", startedAt, finishedAt: deadline, latencyMs: CALL_TIMEOUT_MS, worker: "verify-test", callDeadlineAt: deadline },
  ]);
}

describe("verification of an unknown publish", () => {
  it("looks it up no earlier than its send time + call timeout + the platform's margin, and finds a post that landed late", async () => {
    const { id, key, handle } = await oneItem();
    // The platform stores the post after the client gave up, but within the platform's margin.
    sandbox.network.setFaults(handle, { commit_late: { p: 1, ms: CALL_TIMEOUT_MS + Math.floor(marginMs / 2) } });
    await run();
    const [publish] = await history(id);
    expect(publish.step).toBe("publish:unknown");
    const row = await item(id);
    expect(row.status).toBe("verifying");
    expect(row.call_deadline_at.getTime()).toBeGreaterThanOrEqual(publish.startedAt.getTime() + CALL_TIMEOUT_MS);
    expect(row.run_at.getTime() - row.call_deadline_at.getTime()).toBe(marginMs);
    sandbox.network.clearFaults(handle);

    for (let i = 0; i < 40 && (await item(id)).status !== "posted"; i++) {
      await sleepUntil((await item(id)).run_at);
      await run();
    }
    expect((await item(id)).status).toBe("posted");
    const lookups = (await history(id)).filter((h) => h.step.startsWith("verify:"));
    expect(lookups.at(-1)!.step).toBe("verify:found");
    expect(lookups[0].startedAt.getTime()).toBeGreaterThanOrEqual(publish.startedAt.getTime() + CALL_TIMEOUT_MS + marginMs);
    expect(copies(key)).toBe(1);
  }, 30_000);

  it("keeps the item verifying after a first not_found, for a confirming lookup; only a second sends it back to pending", async () => {
    const { id } = await oneItem();
    const deadline = new Date();
    await recordUnknown(await claim(id), deadline);
    expect((await item(id)).run_at.getTime()).toBe(deadline.getTime() + marginMs);

    await sleepUntil((await item(id)).run_at);
    await run();
    const first = await item(id);
    expect(await steps(id)).toEqual(["publish:unknown", "verify:not_found"]);
    expect(first.status).toBe("verifying");
    expect(first.absence_seen_at).not.toBeNull();
    expect(first.run_at.getTime()).toBeGreaterThanOrEqual(deadline.getTime() + marginMs + confirmMs);
    expect(first.last_error).toContain("asked again before anything is sent");

    await sleepUntil(first.run_at);
    await run();
    expect((await steps(id)).slice(0, 3)).toEqual(["publish:unknown", "verify:not_found", "verify:not_found"]);
    // Confirmed absent: a normal retry with backoff (it may already have been sent again and posted).
    expect(["pending", "posted"]).toContain((await item(id)).status);
  }, 30_000);

  it("finds, with the confirming lookup, a post that landed after the first lookup: posted, never sent again", async () => {
    const { id, key, handle } = await oneItem();
    const deadline = new Date();
    await recordUnknown(await claim(id), deadline);
    await sleepUntil((await item(id)).run_at);
    await run();
    expect(await steps(id)).toEqual(["publish:unknown", "verify:not_found"]);

    // The attempt's post lands now, after the first lookup said there was none (a slow write, or reads lagging).
    const account = sandbox.network.accounts.get(handle)!;
    sandbox.network.commit(account, { text: "late", media_urls: [], first_comment: null, destination: null, client_ref: key });

    await sleepUntil((await item(id)).run_at);
    await run();
    expect(await steps(id)).toEqual(["publish:unknown", "verify:not_found", "verify:found"]);
    expect((await item(id)).status).toBe("posted");
    expect(copies(key)).toBe(1);
  }, 30_000);

  it("does not count a not_found from a lookup that ran before the attempt could land", async () => {
    const { id } = await oneItem();
    const deadline = new Date(Date.now() + 60_000); // a publish whose call is still running, say
    await recordUnknown(await claim(id), deadline);
    const early = await claim(id); // a worker that looks it up too early
    const now = new Date();
    await recordOutcomes(sql, [
      { id, leaseId: early.leaseId, mode: "verify", attempt: early.verifyAttempts, outcome: "not_found", errorMessage: "none",
        next: { retryAt: new Date() }, startedAt: now, finishedAt: now, latencyMs: 1, worker: "early" },
    ]);
    const row = await item(id);
    expect(row.status).toBe("verifying");
    expect(row.absence_seen_at).toBeNull();
    expect(row.run_at.getTime()).toBe(deadline.getTime() + marginMs);
  });

  it("waits between lookups the platform cannot answer by how many went unanswered in a row, then asks a human", async () => {
    const { id } = await oneItem();
    await recordUnknown(await claim(id), new Date(Date.now() - 60_000));
    const unanswered = async () => {
      const c = await claim(id);
      const now = new Date();
      await recordOutcomes(sql, [
        { id, leaseId: c.leaseId, mode: "verify", attempt: c.verifyAttempts, outcome: "unavailable", errorMessage: "down",
          next: "verify", startedAt: now, finishedAt: now, latencyMs: 1, worker: "test", verifyRetryMs: [1_000, 60_000] },
      ]);
      const row = await item(id);
      return { status: row.status as string, waitS: Math.round((row.run_at.getTime() - now.getTime()) / 1000) };
    };
    // A confirming lookup's "not found" comes first: it does not use up a wait.
    const c = await claim(id);
    const now = new Date();
    await recordOutcomes(sql, [
      { id, leaseId: c.leaseId, mode: "verify", attempt: c.verifyAttempts, outcome: "not_found", errorMessage: "none",
        next: { retryAt: new Date() }, startedAt: now, finishedAt: now, latencyMs: 1, worker: "test" },
    ]);
    expect(await unanswered()).toEqual({ status: "verifying", waitS: 1 });
    expect(await unanswered()).toEqual({ status: "verifying", waitS: 60 });
    expect((await unanswered()).status).toBe("needs_review");
  });

  it("recovers an expired lease into a lookup no earlier than the lease's expiry + the platform's margin", async () => {
    const { id } = await oneItem();
    await claim(id, 1);
    const [{ lease_expires_at: expires }] = await sql`select lease_expires_at from public.queue_items where id = ${id}`;
    await sleepUntil(expires);
    await recoverExpiredLeases(sql);
    const row = await item(id);
    expect(row.status).toBe("verifying");
    expect(row.call_deadline_at.getTime()).toBe(expires.getTime());
    expect(row.run_at.getTime()).toBeGreaterThanOrEqual(expires.getTime() + marginMs);
  });
});
