// Fixes to account health (20261202000900_health_fixes.sql): a resumed account is not paused again by
// the quiet its pause caused, alerts that can only be judged with data clear when that data goes,
// a failed read forgets no activity, auto-pause and resume keep what runs beside them, and new
// credentials forget the old ones' expiry. Each test failed on the functions before that migration.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Sql } from "../support/db";
import { claimAccountsForScan, recordHealthScan, resumeAccount } from "../../lib/health/store";
import {
  account, accountRow, asPerson, attempts, evaluate, member, openAlerts, snapshots, steadyBaseline, workspace,
} from "./helpers";

let sql: Sql;
let ws: Awaited<ReturnType<typeof workspace>>;
beforeAll(async () => {
  sql = connect(8);
  ws = await workspace(sql, "health-fixes");
  await sql`insert into public.workspace_health_settings (workspace_id, auto_pause) values (${ws.workspaceId}, 'off')`;
});
afterAll(() => sql.end());

const rules = async (id: string) => (await openAlerts(sql, id)).map((a) => a.rule_id);

async function pausingWorkspace(label: string) {
  const w = await workspace(sql, label);
  await sql`insert into public.workspace_health_settings (workspace_id, auto_pause, pause_below_score)
            values (${w.workspaceId}, 'pause', 40)`;
  return w;
}

/** An account whose latest snapshot against a steady baseline scores 35 (reach, engagement, followers). */
async function decliningAccount(workspaceId: string) {
  const id = await account(sql, workspaceId);
  await steadyBaseline(sql, id);
  await snapshots(sql, id, [{ minutesAgo: 1, reach: 100, engagement: 10, followers: 900 }]);
  return id;
}

/** Waits until another session waits for a lock `holderPid` holds (evaluation or resume reached it). */
async function waitUntilBlockedBy(holderPid: number) {
  for (let i = 0; i < 200; i++) {
    const [row] = await sql`select exists (select 1 from pg_stat_activity
                                           where ${holderPid}::int = any (pg_blocking_pids(pid))) as blocked`;
    if (row.blocked) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing waited for session ${holderPid}`);
}

describe("1. a person's resume is not undone by the quiet its pause caused", () => {
  it("inactivity counts from the resume, and only a warning or critical alert opened since pauses again", async () => {
    const w = await pausingWorkspace("health-fix-resume");
    const editor = await member(sql, w.workspaceId, "editor");
    const id = await decliningAccount(w.workspaceId);
    expect((await evaluate(sql, id)).accountsPaused).toBe(1);
    // Ten days pass while it is paused: nothing is posted, nothing happens.
    await sql`update public.social_accounts set created_at = now() - interval '10 days' where id = ${id}`;
    await sql`update public.health_alerts set opened_at = opened_at - interval '10 days' where account_id = ${id}`;

    await asPerson(sql, editor.id, (tx) => resumeAccount(tx, id));
    expect(await evaluate(sql, id)).toMatchObject({ accountsPaused: 0 });
    expect(await rules(id)).not.toContain("inactive");
    expect((await accountRow(sql, id)).state).toBe("active");

    // Eight quiet days after the resume: inactive opens (info), which alone pauses nothing.
    await sql`update private.account_health_state set resumed_at = now() - interval '8 days' where account_id = ${id}`;
    expect(await evaluate(sql, id)).toMatchObject({ alertsOpened: 1, accountsPaused: 0 });
    expect(await rules(id)).toContain("inactive");
    expect(await accountRow(sql, id)).toMatchObject({ state: "active", health_score: 25 });

    // A warning opened since the resume does.
    await attempts(sql, id, [3, 2, 1].map((minutesAgo) => ({ minutesAgo, outcome: "permanent" })));
    expect((await evaluate(sql, id)).accountsPaused).toBe(1);
    expect(await accountRow(sql, id)).toMatchObject({ state: "paused", paused_reason: "health" });
  });
});

describe("2. the failure rate clears when there are too few attempts to judge", () => {
  it("an open publish_failure_rate alert resolves once the 24-hour window holds fewer than 5 attempts", async () => {
    const id = await account(sql, ws.workspaceId);
    // Failures first, then successes: the rate (3 of 5) fires, the run of failures does not.
    await attempts(sql, id, [
      ...[10, 9, 8].map((minutesAgo) => ({ minutesAgo, outcome: "permanent" })),
      ...[7, 6].map((minutesAgo) => ({ minutesAgo, outcome: "posted" })),
    ]);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual(["publish_failure_rate"]);

    // A day later (the history is append-only; moved as the superuser with triggers off).
    await sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update public.posting_history set started_at = started_at - interval '25 hours',
                                                 finished_at = finished_at - interval '25 hours'
               where account_id = ${id}`;
    });
    expect((await evaluate(sql, id)).alertsResolved).toBe(1);
    expect(await rules(id)).toEqual([]);
    expect((await accountRow(sql, id)).health_score).toBe(100);
  });
});

describe("3. a failed read forgets no activity", () => {
  it("keeps the latest activity known, so inactive does not fire after a failed read", async () => {
    const id = await account(sql, ws.workspaceId);
    await sql`update public.social_accounts set created_at = now() - interval '10 days' where id = ${id}`;
    await sql`insert into public.account_health_snapshots (account_id, workspace_id, taken_at, reach, engagement, followers,
                                                           last_activity_at)
              select id, workspace_id, now() - interval '2 minutes', 1000, 100, 1000, now() - interval '1 day'
              from public.social_accounts where id = ${id}`;
    await evaluate(sql, id);
    expect(await rules(id)).toEqual([]);

    await snapshots(sql, id, [{ minutesAgo: 1, error: "platform unavailable" }]);
    const [state] = await sql`select latest_activity_at > now() - interval '25 hours' as kept
                              from private.account_health_state where account_id = ${id}`;
    expect(state.kept).toBe(true);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual([]);
  });
});

describe("4. auto-pause keeps a state set while it waited for the account", () => {
  it("a restriction committed during evaluation stays; the account is not paused over it", async () => {
    const w = await pausingWorkspace("health-fix-race");
    const id = await decliningAccount(w.workspaceId);
    // The score evaluation will give, already written: evaluation's first touch of the row is the pause.
    await sql`update public.social_accounts set health_score = 35 where id = ${id}`;

    const engine = await sql.reserve();
    try {
      const [{ pid }] = await engine`select pg_backend_pid() as pid`;
      await engine`begin`;
      await engine`update public.social_accounts set state = 'restricted', last_error = 'Restricted by the platform.'
                   where id = ${id}`;
      const evaluation = evaluate(sql, id);
      await waitUntilBlockedBy(pid);
      await engine`commit`;
      expect((await evaluation).accountsPaused).toBe(0);
    } finally {
      await engine`rollback`.catch(() => {}); // after a failure (a no-op after the commit)
      engine.release();
    }
    expect(await accountRow(sql, id)).toMatchObject({ state: "restricted", paused_reason: null });
    const pauses = await sql`select 1 from public.audit_log where entity_id = ${id} and action = 'health_pause'`;
    expect(pauses).toHaveLength(0);
  });
});

describe("5. resume and the scan take their locks in one order", () => {
  it("a resume while a scan records the same account waits for it instead of deadlocking", async () => {
    const w = await workspace(sql, "health-fix-lock");
    await sql`insert into public.workspace_health_settings (workspace_id, auto_pause) values (${w.workspaceId}, 'off')`;
    const editor = await member(sql, w.workspaceId, "editor");
    const id = await account(sql, w.workspaceId);
    await steadyBaseline(sql, id);
    await sql`update public.social_accounts set state = 'paused', paused_reason = 'manual', state_before_pause = 'active'
              where id = ${id}`;
    const [claimed] = await claimAccountsForScan(sql, { worker: "fix-5", limit: 10, leaseSeconds: 60, workspaceId: w.workspaceId });
    expect(claimed.accountId).toBe(id);
    const payload = JSON.stringify([{ account_id: id, lease_id: claimed.leaseId, reach: 100, engagement: 10, followers: 900 }]);

    // The scan's transaction holds the account's scan state (record_health_scan's first lock) ...
    const scan = await sql.reserve();
    let resumed: Promise<unknown> | undefined;
    try {
      const [{ pid }] = await scan`select pg_backend_pid() as pid`;
      await scan`begin`;
      await scan`select 1 from private.account_health_state where account_id = ${id} for update`;
      // ... a person resumes the account meanwhile ...
      resumed = asPerson(sql, editor.id, (tx) => resumeAccount(tx, id)).then(
        (r) => r,
        (e: { code?: string }) => ({ failed: e.code }),
      );
      await waitUntilBlockedBy(pid);
      // ... and the scan records and evaluates it (the score changes: it writes the account).
      const [recorded] = await scan`select * from private.record_health_scan(${payload}::text::jsonb)`;
      expect(recorded).toMatchObject({ recorded: 1, ignored: 0 });
      await scan`commit`;
    } finally {
      await scan`rollback`.catch(() => {}); // after a failure (a no-op after the commit)
      scan.release();
    }
    expect(await resumed).toMatchObject({ state: "active", changed: true });
    expect(await accountRow(sql, id)).toMatchObject({ state: "active", health_score: 35 });
  });
});

describe("6. new credentials forget the old ones' expiry", () => {
  const sealed = (n: number) => `v1:${Buffer.from(`iv${n}`).toString("base64")}:${Buffer.from(`secret${n}`).toString("base64")}`;
  const tokenOf = async (id: string) =>
    (await sql`select token_expires_at from private.account_health_state where account_id = ${id}`)[0].token_expires_at;

  it("reconnecting clears the expiry and its alert; a read with the old credentials in flight is ignored", async () => {
    const w = await workspace(sql, "health-fix-token");
    await sql`insert into public.workspace_health_settings (workspace_id, auto_pause) values (${w.workspaceId}, 'off')`;
    const id = await account(sql, w.workspaceId);
    await sql`select private.store_account_credentials(${id}, ${sealed(1)})`;

    // The platform reports the old credentials expire in two days.
    let [claimed] = await claimAccountsForScan(sql, { worker: "fix-6", limit: 10, leaseSeconds: 60, workspaceId: w.workspaceId });
    const soon = new Date(Date.now() + 2 * 86400_000);
    await recordHealthScan(sql, [{ accountId: id, leaseId: claimed.leaseId, reach: 1, engagement: 1, followers: 1, tokenExpiresAt: soon }]);
    expect(await rules(id)).toEqual(["token_expiring"]);

    // A scan is in flight with the old credentials when the account is reconnected.
    await sql`update private.account_health_state set due_at = now() where account_id = ${id}`;
    [claimed] = await claimAccountsForScan(sql, { worker: "fix-6", limit: 10, leaseSeconds: 60, workspaceId: w.workspaceId });
    await sql`select private.store_account_credentials(${id}, ${sealed(2)})`;
    expect(await tokenOf(id)).toBeNull();
    const late = await recordHealthScan(sql, [
      { accountId: id, leaseId: claimed.leaseId, reach: 1, engagement: 1, followers: 1, tokenExpiresAt: soon },
    ]);
    expect(late).toMatchObject({ recorded: 0, ignored: 1 });

    // The next scan (due at once) reads with the new credentials; the platform says no expiry.
    [claimed] = await claimAccountsForScan(sql, { worker: "fix-6", limit: 10, leaseSeconds: 60, workspaceId: w.workspaceId });
    expect(claimed.credentialsEncrypted).toBe(sealed(2));
    const next = await recordHealthScan(sql, [{ accountId: id, leaseId: claimed.leaseId, reach: 1, engagement: 1, followers: 1 }]);
    expect(next).toMatchObject({ recorded: 1, alertsResolved: 1 });
    expect(await tokenOf(id)).toBeNull();
    expect(await rules(id)).toEqual([]);

    // Storing the same credentials again changes nothing.
    await sql`update private.account_health_state set token_expires_at = now() + interval '30 days' where account_id = ${id}`;
    await sql`select private.store_account_credentials(${id}, ${sealed(2)})`;
    expect(await tokenOf(id)).not.toBeNull();
  });
});
