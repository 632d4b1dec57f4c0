// The health scan end to end, as the scan-health Edge Function and `npm run worker` run it: metrics
// read from the sandbox platform through the connector, snapshots and evaluation in the database,
// auto-pause of an account made to decline, its queued posts waiting, and sent once on resume inside
// the workspace's limits.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { startSandbox, type Sandbox } from "../../local/sandbox/index.ts";
import { scanHealth } from "../../lib/health/scan.ts";
import { processQueue } from "../../lib/engine/process.ts";
import { connect, makeUser, type Sql } from "../support/db";
import { sandboxAccount, sandboxConnector } from "../support/sandbox.ts";

let sql: Sql;
let sandbox: Sandbox;

beforeAll(async () => {
  sql = connect(4);
  sandbox = await startSandbox({ port: 0, seed: 5 });
});
afterAll(async () => {
  await sandbox.stop();
  await sql.end();
});

function scan(workspaceId: string) {
  const connector = sandboxConnector(sandbox.url);
  return scanHealth({ sql, worker: `scan-${randomUUID().slice(0, 6)}`, workspaceId, connectorFor: () => connector, budgetMs: 20_000 });
}

/** Due now, before anything else of the shared database. */
const makeDue = (accountId: string) =>
  sql`update private.account_health_state set due_at = now() - interval '10 years', lease_id = null, lease_expires_at = null
      where account_id = ${accountId}`;

describe("a health scan run", () => {
  it("flags and pauses an account whose reach collapses, holds its posts, and sends them once on resume inside the limits", async () => {
    const owner = await makeUser(sql, "scan-run");
    const handle = `scan_${randomUUID().slice(0, 8)}`;
    const made = await sandboxAccount(sandbox.url, handle);
    const [account] = await sql`
      insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
      values (${owner.workspaceId}, 'sandbox', ${handle}, ${handle}, ${made.sealed}) returning id`;
    // Pause when the score falls below 80 (the default, 40, needs more than a reach decline).
    await sql`insert into public.workspace_health_settings (workspace_id, auto_pause, pause_below_score)
              values (${owner.workspaceId}, 'pause', 80)`;
    // Limits tighter than the sandbox platform's, so "inside the limits" shows: 3 an hour, 500 ms apart.
    await sql`insert into public.workspace_rate_limits (workspace_id, platform, action, per_hour, min_gap_ms)
              values (${owner.workspaceId}, 'sandbox', 'post', 3, 500)`;
    // Four posts for later (no processing run elsewhere in the suite sends them before this test does).
    const items = await sql`
      with p as (insert into public.posts (workspace_id, text)
                 select ${owner.workspaceId}, 'after the scan ' || g from generate_series(1, 4) g returning id)
      insert into public.queue_items (workspace_id, post_id, account_id, scheduled_for, run_at)
      select ${owner.workspaceId}, p.id, ${account.id}, now() + interval '1 hour', now() + interval '1 hour' from p
      returning id, idempotency_key`;
    const ids = items.map((i) => i.id);

    // First scan: the first snapshot starts the baseline; nothing is wrong.
    await makeDue(account.id);
    const first = await scan(owner.workspaceId);
    expect(first).toMatchObject({ claimed: 1, read: 1, readErrors: 0, recorded: 1, alertsOpened: 0, accountsPaused: 0 });
    const [snapshot] = await sql`select reach, engagement, followers, read_error from public.account_health_snapshots where account_id = ${account.id}`;
    expect(Number(snapshot.reach)).toBeGreaterThan(0);
    expect(snapshot.read_error).toBeNull();

    // The platform's reach and engagement fall by 80 %.
    const res = await fetch(`${sandbox.url}/v1/admin/accounts/${handle}/metrics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ decline: 0.8 }),
    });
    expect(res.status).toBe(200);

    await makeDue(account.id);
    const second = await scan(owner.workspaceId);
    expect(second).toMatchObject({ claimed: 1, read: 1, accountsPaused: 1 });
    const alerts = await sql`select rule_id, severity, observed, baseline from public.health_alerts
                             where account_id = ${account.id} and resolved_at is null order by rule_id`;
    expect(alerts.map((a) => a.rule_id)).toEqual(expect.arrayContaining(["engagement_drop", "reach_decline"]));
    const [after] = await sql`select state, paused_reason, health_score from public.social_accounts where id = ${account.id}`;
    expect(after).toMatchObject({ state: "paused", paused_reason: "health" });
    expect(after.health_score).toBeLessThan(80);
    // Its posts, due now, wait without being lost: a processing run does not send them.
    const connector = sandboxConnector(sandbox.url);
    const run = (budgetMs = 10_000) =>
      processQueue({ sql, worker: "scan-run", workspaceId: owner.workspaceId, connectorFor: () => connector, budgetMs, callTimeoutMs: 2_000 });
    await sql`update public.queue_items set scheduled_for = now(), run_at = now() where id = any(${ids})`;
    await run();
    const waiting = await sql`select status, account_id from public.queue_items where id = any(${ids})`;
    expect(waiting.map((w) => [w.status, w.account_id])).toEqual(ids.map(() => ["pending", account.id]));
    expect(sandbox.stats().byAccount[handle] ?? 0).toBe(0);
    expect(sandbox.stats().refusedByAccount[handle]).toBeUndefined();

    // A person resumes it: the post is due again and goes out once, inside the limits.
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: owner.id, role: "authenticated" })}, true),
                      set_config('role', 'authenticated', true)`;
      await tx`select public.resume_account(${account.id})`;
    });
    // Runs keep coming (as the scheduler's do) until the hour's three have gone.
    const deadline = Date.now() + 15_000;
    while ((sandbox.stats().byAccount[handle] ?? 0) < 3 && Date.now() < deadline) {
      await run(500);
      await new Promise((r) => setTimeout(r, 50));
    }
    await run(500);
    // What the platform received: three posts, each once, at least the minimum gap apart (give or
    // take the moments between a claim and its request leaving) …
    const received = sandbox.network.accounts.get(handle)!.posts;
    expect(received).toHaveLength(3);
    const refs = new Set(items.map((i) => i.idempotency_key));
    expect(new Set(received.map((p) => p.client_ref)).size).toBe(3);
    expect(received.every((p) => refs.has(p.client_ref!))).toBe(true);
    const times = received.map((p) => Date.parse(p.created_at)).sort((a, b) => a - b);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(300);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(300);
    // … as Pacer started them (the ledger the claim decides on), and the fourth waits for the next hour.
    const ledger = (await sql`select at from private.rate_limit_ledger where account_id = ${account.id} order by at`).map((r) => r.at.getTime());
    expect(ledger).toHaveLength(3);
    expect(ledger[1] - ledger[0]).toBeGreaterThanOrEqual(500);
    expect(ledger[2] - ledger[1]).toBeGreaterThanOrEqual(500);
    const after4 = await sql`select status, run_at, account_id from public.queue_items where id = any(${ids}) order by id`;
    expect(after4.filter((r) => r.status === "posted")).toHaveLength(3);
    const [fourth] = after4.filter((r) => r.status !== "posted");
    expect(fourth.status).toMatch(/^(pending|rate_limited)$/);
    expect(fourth.account_id).toBe(account.id);
    expect(fourth.run_at.getTime()).toBeGreaterThanOrEqual(ledger[0] + 3_600_000 - 1_000);
  }, 60_000);

  it("records an account it cannot read as a read error, and the run goes on", async () => {
    const owner = await makeUser(sql, "scan-unreadable");
    const [broken] = await sql`
      insert into public.social_accounts (workspace_id, platform, handle, display_name)
      values (${owner.workspaceId}, 'sandbox', ${`nobody_${randomUUID().slice(0, 8)}`}, 'No token') returning id`;
    await makeDue(broken.id);
    const summary = await scan(owner.workspaceId);
    expect(summary).toMatchObject({ claimed: 1, read: 0, readErrors: 1, recorded: 1 });
    const [snapshot] = await sql`select reach, read_error from public.account_health_snapshots where account_id = ${broken.id}`;
    expect(snapshot.reach).toBeNull();
    expect(snapshot.read_error).toMatch(/sandbox/i);
  });
});
