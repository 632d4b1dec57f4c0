// The publishing engine against a real Postgres and the sandbox platform: exactly once, inside
// every limit, across crashes, expired leases and restarts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { startSandbox, type Sandbox } from "../../local/sandbox/index.ts";
import { processQueue, type ProcessOptions } from "../../lib/engine/process.ts";
import { claimDuePosts, recordOutcomes, recoverExpiredLeases } from "../../lib/engine/store.ts";
import { connect, makeUser, type Sql } from "../support/db";
import { sandboxAccounts, sandboxConnector } from "../support/sandbox.ts";

let sql: Sql;
let sandbox: Sandbox;

beforeAll(async () => {
  sql = connect(10);
  sandbox = await startSandbox({ port: 0, seed: 7 });
});
afterAll(async () => {
  await sandbox.stop();
  await sql.end();
});

const FAST_RETRY = { baseMs: 20, factor: 2, maxRetries: 3, jitter: 0 };

function run(extra: Partial<ProcessOptions> = {}) {
  const connector = sandboxConnector(sandbox.url);
  return processQueue({
    sql,
    worker: `test-${randomUUID().slice(0, 6)}`,
    connectorFor: () => connector,
    budgetMs: 10_000,
    callTimeoutMs: 2_000,
    verifyRetryMs: [10, 10],
    retry: FAST_RETRY,
    ...extra,
  });
}

/** A workspace with `n` sandbox accounts, each created on the sandbox under a unique handle, with its token. */
async function workspaceWithAccounts(n: number) {
  const user = await makeUser(sql, "engine");
  await sql`update public.workspaces set plan_id = 'ultra' where id = ${user.workspaceId}`;
  const accounts: Array<{ id: string; handle: string; token: string }> = [];
  const made = await sandboxAccounts(sandbox.url, Array.from({ length: n }, () => `eng_${randomUUID().slice(0, 8)}`));
  for (const { handle, token, sealed } of made) {
    const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                          values (${user.workspaceId}, 'sandbox', ${handle}, ${handle}, ${sealed}) returning id`;
    accounts.push({ id: a.id, handle, token });
  }
  return { workspaceId: user.workspaceId, accounts };
}

/** Queue one post per (account, i) with distinct texts; returns the queue item ids. */
async function enqueue(workspaceId: string, accountIds: string[], perAccount: number, extra: { priority?: number; runAt?: Date } = {}) {
  const ids: number[] = [];
  for (const accountId of accountIds) {
    for (let i = 0; i < perAccount; i++) {
      const [p] = await sql`insert into public.posts (workspace_id, text) values (${workspaceId}, ${`post ${randomUUID()}`}) returning id`;
      const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id, priority, run_at, scheduled_for)
                            values (${workspaceId}, ${p.id}, ${accountId}, ${extra.priority ?? 5}, ${extra.runAt ?? new Date()}, ${extra.runAt ?? new Date()})
                            returning id`;
      ids.push(Number(q.id));
    }
  }
  return ids;
}

const statuses = async (ids: number[]) =>
  Object.fromEntries(
    (await sql`select status, count(*)::int as n from public.queue_items where id = any(${ids}) group by status`).map((r) => [r.status, r.n]),
  );

/** Runs the engine until `done` holds (verifications wait for the attempt's deadline and the platform's margins). */
async function runUntil(done: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not settled in ${timeoutMs} ms`);
    await run();
    await new Promise((r) => setTimeout(r, 50));
  }
}

const acceptedFor = (handle: string) => sandbox.stats().byAccount[handle] ?? 0;

describe("publishing", () => {
  it("publishes every due item exactly once and records each attempt", async () => {
    const { workspaceId, accounts } = await workspaceWithAccounts(5);
    const ids = await enqueue(workspaceId, accounts.map((a) => a.id), 10);
    // Generous: 50 publishes at once on a loaded machine can take seconds, and this test wants no timeout.
    await run({ callTimeoutMs: 10_000 });
    // Its own items only: a run claims every due item in the shared database, not just this test's.
    expect(await statuses(ids)).toEqual({ posted: 50 });
    for (const a of accounts) expect(acceptedFor(a.handle)).toBe(10);
    const [h] = await sql`select count(*)::int as n, count(distinct queue_item_id)::int as items,
                                 bool_and(outcome = 'posted') as all_posted, bool_and(external_id is not null) as ids
                          from public.posting_history where queue_item_id = any(${ids})`;
    expect(h).toEqual({ n: 50, items: 50, all_posted: true, ids: true });
    const refs = await sql`select external_id from public.queue_items where id = any(${ids})`;
    expect(new Set(refs.map((r) => r.external_id)).size).toBe(50);
  });

  it("claims by priority, then time", async () => {
    const { workspaceId, accounts } = await workspaceWithAccounts(1);
    const low = await enqueue(workspaceId, [accounts[0].id], 1, { priority: 2, runAt: new Date(Date.now() - 60_000) });
    const high = await enqueue(workspaceId, [accounts[0].id], 1, { priority: 9 });
    const claimed = await claimDuePosts(sql, { worker: "order", limit: 1000, leaseSeconds: 60 });
    const mine = claimed.filter((c) => [...low, ...high].includes(c.id)).map((c) => c.id);
    expect(mine).toEqual([high[0], low[0]]);
    await recordOutcomes(sql, claimed.map((c) => ({
      id: c.id, leaseId: c.leaseId, mode: c.mode, attempt: 1, outcome: "permanent", next: "give_up",
      startedAt: new Date(), finishedAt: new Date(), latencyMs: 0, worker: "order",
    })));
  });

  it("never claims an item twice across concurrent connections", async () => {
    const { workspaceId, accounts } = await workspaceWithAccounts(20);
    const ids = await enqueue(workspaceId, accounts.map((a) => a.id), 10);
    const pools = Array.from({ length: 4 }, () => connect(2));
    try {
      const claimed: number[] = [];
      for (let round = 0; round < 10; round++) {
        const batches = await Promise.all(pools.map((p, i) => claimDuePosts(p, { worker: `w${i}`, limit: 25, leaseSeconds: 60 })));
        claimed.push(...batches.flat().map((c) => c.id).filter((id) => ids.includes(id)));
      }
      expect(claimed.length).toBe(200);
      expect(new Set(claimed).size).toBe(200);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await sql`update public.queue_items set status = 'cancelled', lease_id = null, lease_expires_at = null where id = any(${ids})`;
    }
  });
});

describe("rate limits", () => {
  it("hold the hourly cap, and still hold it after a restart", async () => {
    const { workspaceId, accounts } = await workspaceWithAccounts(1);
    await sql`insert into public.workspace_rate_limits (workspace_id, platform, action, per_hour)
              values (${workspaceId}, 'sandbox', 'post', 3)`;
    const ids = await enqueue(workspaceId, [accounts[0].id], 8);
    await run();
    expect(acceptedFor(accounts[0].handle)).toBe(3);
    expect(await statuses(ids)).toEqual({ posted: 3, rate_limited: 5 });
    const [wait] = await sql`select min(run_at) as at, min(last_error) as why from public.queue_items
                             where id = any(${ids}) and status = 'rate_limited'`;
    expect(wait.at.getTime()).toBeGreaterThan(Date.now() + 59 * 60_000);
    expect(wait.why).toContain("3/h");

    // A restart: new connections, no process memory. The window comes from the persisted ledger.
    await sql`update public.queue_items set run_at = now() where id = any(${ids}) and status = 'rate_limited'`;
    const fresh = connect(2);
    try {
      const connector = sandboxConnector(sandbox.url);
      await processQueue({ sql: fresh, worker: "restarted", connectorFor: () => connector, budgetMs: 5_000, retry: FAST_RETRY });
    } finally {
      await fresh.end();
    }
    expect(acceptedFor(accounts[0].handle)).toBe(3);
  });

  it("keep the minimum gap between an account's posts", async () => {
    const { workspaceId, accounts } = await workspaceWithAccounts(1);
    await sql`insert into public.workspace_rate_limits (workspace_id, platform, action, min_gap_ms)
              values (${workspaceId}, 'sandbox', 'post', 400)`;
    await enqueue(workspaceId, [accounts[0].id], 3);
    const deadline = Date.now() + 5_000;
    while (acceptedFor(accounts[0].handle) < 3 && Date.now() < deadline) {
      await run({ budgetMs: 300 });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(acceptedFor(accounts[0].handle)).toBe(3);
    // Pacer spaces its attempts exactly (the ledger is what the claim decides on) …
    const ledger = (await sql`select at from private.rate_limit_ledger where account_id = ${accounts[0].id} order by at`).map((r) => r.at.getTime());
    expect(ledger.length).toBe(3);
    expect(ledger[1] - ledger[0]).toBeGreaterThanOrEqual(400);
    expect(ledger[2] - ledger[1]).toBeGreaterThanOrEqual(400);
    // … and the platform sees them that far apart, give or take the moments between claim and send.
    const times = sandbox.network.accounts.get(accounts[0].handle)!.posts.map((p) => Date.parse(p.created_at)).sort();
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(300);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(300);
  });

  it("refuse a workspace limit looser than the platform's", async () => {
    const { workspaceId } = await workspaceWithAccounts(0);
    await expect(sql`insert into public.workspace_rate_limits (workspace_id, platform, action, per_hour)
                     values (${workspaceId}, 'x', 'post', 1000)`).rejects.toThrow(/only make x post limits stricter: at most 10 per hour/);
  });

  it("keep a claim's work flat behind a large blocked backlog", async () => {
    // One connection, so the statistics read below are this backend's own, flushed on demand.
    const one = connect(1);
    const blocked = await workspaceWithAccounts(1);
    await sql`update public.social_accounts set state = 'paused' where id = ${blocked.accounts[0].id}`;
    // 5,000 items of a paused account, set-based.
    await sql`with p as (insert into public.posts (workspace_id, text)
                         select ${blocked.workspaceId}, 'blocked ' || g from generate_series(1, 5000) g returning id)
              insert into public.queue_items (workspace_id, post_id, account_id, priority)
              select ${blocked.workspaceId}, p.id, ${blocked.accounts[0].id}, 10 from p`;
    // The first claim that meets them moves them to the account's next allowed time ('infinity').
    while ((await sql`select count(*)::int as n from public.queue_items where account_id = ${blocked.accounts[0].id} and run_at <= now()`)[0].n > 0) {
      await claimDuePosts(one, { worker: "mover", limit: 500, leaseSeconds: 60 });
    }
    const ready = await workspaceWithAccounts(1);
    await enqueue(ready.workspaceId, [ready.accounts[0].id], 5, { priority: 1 });
    // Moving them left dead index entries behind, as any queue's updates do; autovacuum clears
    // those in production, so clear them here to measure the steady state.
    await one`vacuum public.queue_items`;

    const read = async () => {
      await one`select pg_stat_force_next_flush()`;
      await one`select pg_stat_clear_snapshot()`;
      const [r] = await one`select coalesce(sum(idx_tup_read), 0)::bigint as n from pg_stat_user_indexes where relname = 'queue_items'`;
      return Number(r.n);
    };
    const before = await read();
    const claimed = await claimDuePosts(one, { worker: "flat", limit: 5, leaseSeconds: 60 });
    const tuplesRead = (await read()) - before;
    await one.end();
    expect(claimed.map((c) => c.accountId)).toContain(ready.accounts[0].id);
    // Index entries read by the claim: a handful per claimed item, not the 5,000 that wait.
    expect(tuplesRead).toBeLessThan(200);
  });
});

describe("exactly once when the outcome is unknown", () => {
  it("verifies a post whose response was lost instead of sending it again", async () => {
    const { workspaceId, accounts } = await workspaceWithAccounts(1);
    sandbox.network.setFaults(accounts[0].handle, { error_after_commit: 1 });
    const ids = await enqueue(workspaceId, [accounts[0].id], 1);
    await run();
    sandbox.network.clearFaults(accounts[0].handle);
    expect(acceptedFor(accounts[0].handle)).toBe(1);
    // unknown → verifying → (once the attempt can no longer land) found → posted.
    await runUntil(async () => (await statuses(ids)).posted === 1);
    expect(await statuses(ids)).toEqual({ posted: 1 });
    expect(acceptedFor(accounts[0].handle)).toBe(1);
    const history = await sql`select kind, outcome from public.posting_history where queue_item_id = ${ids[0]} order by id`;
    expect(history.map((h) => `${h.kind}:${h.outcome}`)).toEqual(["publish:unknown", "verify:found"]);
  });

  it("recovers a worker that died mid-attempt: verify first, then post only what is missing", async () => {
    const { workspaceId, accounts } = await workspaceWithAccounts(1);
    const ids = await enqueue(workspaceId, [accounts[0].id], 2);
    const claimed = (await claimDuePosts(sql, { worker: "doomed", limit: 100, leaseSeconds: 1 })).filter((c) => ids.includes(c.id));
    expect(claimed.length).toBe(2);
    // The doomed worker published the first item, then died before recording anything.
    const connector = sandboxConnector(sandbox.url);
    const first = claimed.find((c) => c.id === ids[0])!;
    const out = await connector.publish(
      { account: { id: first.accountId, platform: "sandbox", handle: first.handle, credentials: { accessToken: accounts[0].token } }, idempotencyKey: first.idempotencyKey, text: first.text, mediaUrls: [] },
      { signal: AbortSignal.timeout(2000) },
    );
    expect(out.kind).toBe("posted");
    await new Promise((r) => setTimeout(r, 1100));

    // The not-found one is looked up twice (the second confirms) before it is sent again.
    await runUntil(async () => (await statuses(ids)).posted === 2);
    expect(await statuses(ids)).toEqual({ posted: 2 });
    expect(acceptedFor(accounts[0].handle)).toBe(2);
    const keys = (await sql`select idempotency_key from public.queue_items where id = any(${ids})`).map((r) => r.idempotency_key);
    expect(keys.map((k) => sandbox.network.postsByClientRef(k).length)).toEqual([1, 1]);
    const outcomes = await sql`select queue_item_id, kind, outcome from public.posting_history where queue_item_id = any(${ids}) order by id`;
    const of = (id: number) => outcomes.filter((o) => Number(o.queue_item_id) === id).map((o) => `${o.kind}:${o.outcome}`);
    expect(of(ids[0])).toEqual(["publish:lease_expired", "verify:found"]);
    expect(of(ids[1])).toEqual(["publish:lease_expired", "verify:not_found", "verify:not_found", "publish:posted"]);
  });

  it("lets no worker whose lease expired overwrite a newer attempt", async () => {
    const { workspaceId, accounts } = await workspaceWithAccounts(1);
    const [id] = await enqueue(workspaceId, [accounts[0].id], 1);
    const [old] = (await claimDuePosts(sql, { worker: "slow", limit: 100, leaseSeconds: 1 })).filter((c) => c.id === id);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await recoverExpiredLeases(sql)).toBeGreaterThanOrEqual(1);
    // Its lookup waits until the dead attempt could no longer land (the platform's margin).
    const [due] = await sql`select run_at from public.queue_items where id = ${id}`;
    await new Promise((r) => setTimeout(r, Math.max(0, due.run_at.getTime() - Date.now()) + 20));
    const [fresh] = (await claimDuePosts(sql, { worker: "fast", limit: 100, leaseSeconds: 60 })).filter((c) => c.id === id);
    expect(fresh.mode).toBe("verify");

    const applied = await recordOutcomes(sql, [{
      id, leaseId: old.leaseId, mode: "publish", attempt: 1, outcome: "permanent", errorMessage: "late",
      next: "give_up", startedAt: new Date(), finishedAt: new Date(), latencyMs: 5, worker: "slow",
    }]);
    expect(applied.get(id)).toBe(false);
    const [row] = await sql`select status, lease_id from public.queue_items where id = ${id}`;
    expect(row).toEqual({ status: "verifying", lease_id: fresh.leaseId });
    const [h] = await sql`select applied from public.posting_history where queue_item_id = ${id} and worker = 'slow' and outcome = 'permanent'`;
    expect(h.applied).toBe(false);
  });
});

describe("accounts in trouble", () => {
  it("publish nothing for a paused account, and resume where they left off", async () => {
    const { workspaceId, accounts } = await workspaceWithAccounts(1);
    await sql`update public.social_accounts set state = 'paused' where id = ${accounts[0].id}`;
    const ids = await enqueue(workspaceId, [accounts[0].id], 3);
    await run();
    expect(acceptedFor(accounts[0].handle)).toBe(0);
    const [w] = await sql`select bool_and(run_at = 'infinity') as parked, min(last_error) as why from public.queue_items where id = any(${ids})`;
    expect(w).toEqual({ parked: true, why: "Waiting: the account is paused." });

    await sql`update public.social_accounts set state = 'active' where id = ${accounts[0].id}`;
    await run();
    expect(await statuses(ids)).toEqual({ posted: 3 });
  });

  it("mark an account whose token expired as needing reconnection and hold its posts", async () => {
    const { workspaceId, accounts } = await workspaceWithAccounts(1);
    sandbox.network.setFaults(accounts[0].handle, { token_expired: 1 });
    const ids = await enqueue(workspaceId, [accounts[0].id], 2);
    await run();
    sandbox.network.clearFaults(accounts[0].handle);
    const [a] = await sql`select state from public.social_accounts where id = ${accounts[0].id}`;
    expect(a.state).toBe("needs_reconnect");
    expect(await statuses(ids)).toEqual({ pending: 2 });
    expect(acceptedFor(accounts[0].handle)).toBe(0);
  });

  it("fail a post the platform refuses for good, without retrying it", async () => {
    const { workspaceId, accounts } = await workspaceWithAccounts(1);
    sandbox.network.setFaults(accounts[0].handle, { destination_rejected: 1 });
    const [p] = await sql`insert into public.posts (workspace_id, text, destination) values (${workspaceId}, 'to r/nowhere', 'r/nowhere') returning id`;
    const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${workspaceId}, ${p.id}, ${accounts[0].id}) returning id`;
    await run();
    sandbox.network.clearFaults(accounts[0].handle);
    const [row] = await sql`select status, error_class from public.queue_items where id = ${q.id}`;
    expect(row).toEqual({ status: "failed", error_class: "destination_rejected" });
    const [a] = await sql`select state from public.social_accounts where id = ${accounts[0].id}`;
    expect(a.state).toBe("connected");
  });
});

describe("cancelling and removing", () => {
  it("ends an item cancelled mid-publish as cancelled, even when the platform rate-limited it", async () => {
    const { workspaceId, accounts } = await workspaceWithAccounts(1);
    const [id] = await enqueue(workspaceId, [accounts[0].id], 1);
    const [c] = (await claimDuePosts(sql, { worker: "cancel", limit: 100, leaseSeconds: 60 })).filter((x) => x.id === id);
    await sql`update public.queue_items set cancel_requested = true where id = ${id}`;
    await recordOutcomes(sql, [{
      id, leaseId: c.leaseId, mode: "publish", attempt: 1, outcome: "rate_limited", errorMessage: "429",
      next: { retryAt: new Date(Date.now() + 60_000) }, startedAt: new Date(), finishedAt: new Date(), latencyMs: 1, worker: "cancel",
    }]);
    const [row] = await sql`select status from public.queue_items where id = ${id}`;
    expect(row.status).toBe("cancelled");
  });

  it("takes a removed account's items off the status counters under its platform", async () => {
    const { workspaceId, accounts } = await workspaceWithAccounts(1);
    await enqueue(workspaceId, [accounts[0].id], 3);
    await sql`delete from public.social_accounts where id = ${accounts[0].id}`;
    const counts = await sql`select platform, status, sum(n)::int as n from private.queue_counters
                             where workspace_id = ${workspaceId} group by 1, 2 having sum(n) <> 0`;
    expect(counts).toEqual([]);
  });
});
