// The scan's database side (claim and record, leases, overlap) and who may do what: tenants, roles,
// anon, and pacer_worker's narrow reach.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asUser, connect, errorOf, type Sql } from "../support/db";
import {
  acknowledgeAlert, claimAccountsForScan, maintainHealthStorage, pauseAccount, pauseAtRiskAccounts, recordHealthScan,
  releaseDestination, requestHealthScan, resumeAccount,
} from "../../lib/health/store";
import { account, accountRow, asPerson, attempts, evaluate, member, openAlerts, snapshots, steadyBaseline, workspace } from "./helpers";

let sql: Sql;
let other: Sql;
beforeAll(() => {
  sql = connect();
  other = connect();
});
afterAll(async () => {
  await sql.end();
  await other.end();
});

/** Make these accounts the most overdue of the whole (shared) database, so the next claims take them first. */
const makeFirstDue = (ids: string[]) =>
  sql`update private.account_health_state set due_at = now() - interval '10 years', lease_id = null, lease_expires_at = null
      where account_id in ${sql(ids)}`;

/** Until a backend running `text` waits for a lock (another connection of the pool looks). */
async function waitForLockWait(sql: Sql, text: string) {
  for (let i = 0; i < 200; i++) {
    const [row] = await sql`select count(*)::int as n from pg_stat_activity
                            where wait_event_type = 'Lock' and query ilike ${"%" + text + "%"} and pid <> pg_backend_pid()`;
    if (row.n > 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing running ${text} waited for a lock`);
}

describe("claiming accounts for a scan", () => {
  it("never hands the same account to two overlapping scans", async () => {
    const w = await workspace(sql, "scan-overlap");
    const ids = await Promise.all(Array.from({ length: 15 }, () => account(sql, w.workspaceId)));
    await makeFirstDue(ids);
    let first: string[] = [];
    let secondClaim: Promise<string[]> = Promise.resolve([]);
    // The first claim's transaction stays open (its rows locked) while the second runs. The second
    // takes its accounts (skipping the first's), then waits for the first's turn at the platform's
    // read times (20261202001700), so the first commits before the second is awaited.
    await sql.begin(async (tx) => {
      await tx`set local role pacer_worker`;
      first = (await tx`select account_id from private.claim_accounts_for_scan('scan-a', 10, 60)`).map((r) => r.account_id);
      secondClaim = claimAccountsForScan(other, { worker: "scan-b", limit: 10, leaseSeconds: 60 }).then((c) => c.map((x) => x.accountId));
      await waitForLockWait(sql, "claim_accounts_for_scan");
    });
    const second = await secondClaim;
    expect(first).toHaveLength(10);
    expect(first.every((id) => ids.includes(id))).toBe(true);
    expect(first.filter((id) => second.includes(id))).toEqual([]);
    expect(ids.every((id) => first.includes(id) || second.includes(id))).toBe(true);
    // Leased accounts are not due again until their lease ends.
    const third = await claimAccountsForScan(sql, { worker: "scan-c", limit: 1000, leaseSeconds: 60 });
    expect(third.filter((c) => ids.includes(c.accountId))).toEqual([]);
  });

  it("records a snapshot with the posting history since the last one, releases the lease and evaluates", async () => {
    const w = await workspace(sql, "scan-record");
    const id = await account(sql, w.workspaceId);
    await steadyBaseline(sql, id);
    await attempts(sql, id, [{ minutesAgo: 3, outcome: "posted" }, { minutesAgo: 2, outcome: "retryable" }, { minutesAgo: 1, outcome: "rate_limited" }]);
    await makeFirstDue([id]);
    const [claimed] = (await claimAccountsForScan(sql, { worker: "scan", limit: 1, leaseSeconds: 60 }));
    expect(claimed).toMatchObject({ accountId: id, workspaceId: w.workspaceId, platform: "sandbox" });

    const summary = await recordHealthScan(sql, [
      { accountId: id, leaseId: claimed.leaseId, reach: 100, engagement: 100, followers: 1000 },
    ]);
    expect(summary).toMatchObject({ recorded: 1, ignored: 0, accountsEvaluated: 1, alertsOpened: 1, scoresWritten: 1 });
    const [snap] = await sql`select reach, posts_published, publish_failures, last_activity_at is not null as active
                             from public.account_health_snapshots where account_id = ${id} order by taken_at desc limit 1`;
    expect(snap).toMatchObject({ reach: "100", posts_published: 1, publish_failures: 1, active: true });
    expect((await openAlerts(sql, id)).map((a) => a.rule_id)).toEqual(["reach_decline"]);
    const [state] = await sql`select lease_id, due_at > now() + interval '50 minutes' as later from private.account_health_state
                              where account_id = ${id}`;
    expect(state).toEqual({ lease_id: null, later: true });
  });

  it("ignores a result whose lease ended and was claimed again (fenced by lease id)", async () => {
    const w = await workspace(sql, "scan-fence");
    const id = await account(sql, w.workspaceId);
    await makeFirstDue([id]);
    const [stale] = await claimAccountsForScan(sql, { worker: "slow", limit: 1, leaseSeconds: 60 });
    expect(stale.accountId).toBe(id);
    await sql`update private.account_health_state set due_at = now() - interval '9 years' where account_id = ${id}`;
    const [fresh] = await claimAccountsForScan(sql, { worker: "fast", limit: 1, leaseSeconds: 60 });
    expect(fresh.accountId).toBe(id);
    expect(fresh.leaseId).not.toBe(stale.leaseId);

    const late = await recordHealthScan(sql, [{ accountId: id, leaseId: stale.leaseId, reach: 1, engagement: 1, followers: 1 }]);
    expect(late).toMatchObject({ recorded: 0, ignored: 1 });
    const onTime = await recordHealthScan(sql, [{ accountId: id, leaseId: fresh.leaseId, error: "platform said 503" }]);
    expect(onTime).toMatchObject({ recorded: 1, ignored: 0 });
    const snaps = await sql`select reach, read_error from public.account_health_snapshots where account_id = ${id}`;
    expect(snaps).toEqual([{ reach: null, read_error: "platform said 503" }]);
  });

  it("lets an editor make a workspace's accounts due now, not a viewer", async () => {
    const w = await workspace(sql, "scan-now");
    const id = await account(sql, w.workspaceId);
    await sql`update private.account_health_state set due_at = now() + interval '1 hour' where account_id = ${id}`;
    const viewer = await member(sql, w.workspaceId, "viewer");
    await asUser(sql, viewer.id, async (tx) => {
      expect((await errorOf(tx, (sp) => requestHealthScan(sp, w.workspaceId)))?.code).toBe("42501");
    });
    const editor = await member(sql, w.workspaceId, "editor");
    expect(await asPerson(sql, editor.id, (tx) => requestHealthScan(tx, w.workspaceId))).toBe(1);
    const [state] = await sql`select due_at <= now() as due from private.account_health_state where account_id = ${id}`;
    expect(state.due).toBe(true);
  });

  it("keeps storage: partitions ahead, daily rollups", async () => {
    const w = await workspace(sql, "storage");
    const id = await account(sql, w.workspaceId);
    await snapshots(sql, id, [{ minutesAgo: 2, reach: 10 }, { minutesAgo: 1, reach: 30 }]);
    const result = await maintainHealthStorage(sql);
    expect(result).toHaveProperty("partitions_created");
    const [daily] = await sql`select samples, reach_median::float8 as median from public.account_health_daily where account_id = ${id}`;
    expect(daily.samples).toBeGreaterThanOrEqual(1);
    const parts = await sql`select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
                            where i.inhparent = 'public.account_health_snapshots'::regclass
                              and c.relname = 'account_health_snapshots_p' || to_char(now() + interval '2 months', 'YYYYMM')`;
    expect(parts).toHaveLength(1);
  });
});

describe("who may do what", () => {
  let a: Awaited<ReturnType<typeof workspace>>;
  let b: Awaited<ReturnType<typeof workspace>>;
  let aAccount: string;
  let aAlert: number;

  beforeAll(async () => {
    a = await workspace(sql, "health-tenant-a");
    b = await workspace(sql, "health-tenant-b");
    aAccount = await account(sql, a.workspaceId);
    await steadyBaseline(sql, aAccount);
    await snapshots(sql, aAccount, [{ minutesAgo: 1, reach: 10, engagement: 100, followers: 1000 }]);
    await attempts(sql, aAccount, [1, 2, 3].map((m) => ({ minutesAgo: m, outcome: "destination_rejected", destination: "r/a" })));
    await sql`insert into public.workspace_health_settings (workspace_id, auto_pause) values (${a.workspaceId}, 'off')`;
    await sql`insert into public.workspace_health_rules (workspace_id, rule_id, threshold) values (${a.workspaceId}, 'inactive', 10)`;
    await evaluate(sql, aAccount);
    await sql`select private.maintain_health_storage()`;
    aAlert = Number((await openAlerts(sql, aAccount))[0].id);
  });

  const TABLES = ["health_alerts", "account_health_snapshots", "account_health_scores", "account_health_daily",
    "destination_holds", "workspace_health_settings", "workspace_health_rules"];

  it("shows another workspace's user none of A's health rows, and A all of them", async () => {
    await asUser(sql, b.id, async (tx) => {
      for (const t of TABLES) {
        expect((await tx.unsafe(`select 1 from public.${t} where workspace_id = $1`, [a.workspaceId])).length, t).toBe(0);
      }
    });
    await asUser(sql, a.id, async (tx) => {
      for (const t of TABLES) {
        expect((await tx.unsafe(`select 1 from public.${t} where workspace_id = $1`, [a.workspaceId])).length, t).toBeGreaterThan(0);
      }
    });
  });

  it("refuses another workspace's user every health action on A (as if A's rows did not exist)", async () => {
    await asUser(sql, b.id, async (tx) => {
      const codes = [
        await errorOf(tx, (sp) => pauseAccount(sp, aAccount)),
        await errorOf(tx, (sp) => resumeAccount(sp, aAccount)),
        await errorOf(tx, (sp) => pauseAtRiskAccounts(sp, a.workspaceId)),
        await errorOf(tx, (sp) => acknowledgeAlert(sp, aAlert)),
        await errorOf(tx, (sp) => releaseDestination(sp, aAccount, "r/a")),
        await errorOf(tx, (sp) => requestHealthScan(sp, a.workspaceId)),
      ].map((e) => e?.code);
      expect(codes).toEqual(["P0002", "P0002", "P0002", "P0002", "P0002", "P0002"]);
      const tune = await errorOf(tx, (sp) => sp`insert into public.workspace_health_rules (workspace_id, rule_id, threshold)
                                                  values (${a.workspaceId}, 'reach_decline', 90)`);
      expect(tune?.code).toBe("42501");
      expect((await tx`update public.workspace_health_settings set auto_pause = 'off' where workspace_id = ${a.workspaceId} returning 1`).length).toBe(0);
      expect((await tx`delete from public.workspace_health_rules where workspace_id = ${a.workspaceId} returning 1`).length).toBe(0);
    });
    expect((await accountRow(sql, aAccount)).state).toBe("active");
  });

  it("lets a viewer read but not pause, resume, acknowledge, release or tune", async () => {
    const viewer = await member(sql, a.workspaceId, "viewer");
    await asUser(sql, viewer.id, async (tx) => {
      expect((await tx`select 1 from public.health_alerts where id = ${aAlert}`).length).toBe(1);
      const codes = [
        await errorOf(tx, (sp) => pauseAccount(sp, aAccount)),
        await errorOf(tx, (sp) => resumeAccount(sp, aAccount)),
        await errorOf(tx, (sp) => pauseAtRiskAccounts(sp, a.workspaceId)),
        await errorOf(tx, (sp) => acknowledgeAlert(sp, aAlert)),
        await errorOf(tx, (sp) => releaseDestination(sp, aAccount, "r/a")),
      ].map((e) => e?.code);
      expect(codes).toEqual(["42501", "42501", "42501", "42501", "42501"]);
    });
  });

  it("lets an editor acknowledge (recording who and when) but not tune rules or settings", async () => {
    const editor = await member(sql, a.workspaceId, "editor");
    await asUser(sql, editor.id, async (tx) => {
      const ack = await acknowledgeAlert(tx, aAlert);
      expect(ack.acknowledged_by).toBe(editor.id);
      expect(ack.acknowledged_at).toBeTruthy();
      const tune = await errorOf(tx, (sp) => sp`insert into public.workspace_health_rules (workspace_id, rule_id, threshold)
                                                  values (${a.workspaceId}, 'reach_decline', 90)`);
      expect(tune?.code).toBe("42501");
      expect((await tx`update public.workspace_health_settings set auto_pause = 'pause' where workspace_id = ${a.workspaceId} returning 1`).length).toBe(0);
      expect((await tx`update public.workspace_health_rules set threshold = 20 where workspace_id = ${a.workspaceId} returning 1`).length).toBe(0);
      // Alerts change only through the functions.
      const direct = await errorOf(tx, (sp) => sp`update public.health_alerts set resolved_at = now() where id = ${aAlert}`);
      expect(direct?.code).toBe("42501");
    });
  });

  it("lets an admin tune within bounds only, and never switch off a rule that reports a held state", async () => {
    const admin = await member(sql, a.workspaceId, "admin");
    await asUser(sql, admin.id, async (tx) => {
      await tx`insert into public.workspace_health_rules (workspace_id, rule_id, threshold) values (${a.workspaceId}, 'reach_decline', 30)`;
      const [row] = await tx`select updated_by from public.workspace_health_rules where workspace_id = ${a.workspaceId} and rule_id = 'reach_decline'`;
      expect(row.updated_by).toBe(admin.id);
      const tooLoose = await errorOf(tx, (sp) => sp`update public.workspace_health_rules set threshold = 95
                                                     where workspace_id = ${a.workspaceId} and rule_id = 'reach_decline'`);
      expect(JSON.parse(tooLoose!.detail!)).toMatchObject({ code: "threshold_out_of_bounds", min: 20, max: 90 });
      const badClear = await errorOf(tx, (sp) => sp`update public.workspace_health_rules set clear_threshold = 35
                                                     where workspace_id = ${a.workspaceId} and rule_id = 'reach_decline'`);
      expect(JSON.parse(badClear!.detail!).code).toBe("clear_threshold_invalid");
      const offRestricted = await errorOf(tx, (sp) => sp`insert into public.workspace_health_rules (workspace_id, rule_id, enabled)
                                                          values (${a.workspaceId}, 'restricted', false)`);
      expect(JSON.parse(offRestricted!.detail!).code).toBe("rule_required");
      await tx`update public.workspace_health_settings set auto_pause = 'warn', pause_below_score = 50 where workspace_id = ${a.workspaceId}`;
      const badMode = await errorOf(tx, (sp) => sp`update public.workspace_health_settings set auto_pause = 'always' where workspace_id = ${a.workspaceId}`);
      expect(badMode?.code).toBe("23514");
    });
  });

  it("pauses only at-risk accounts when an editor pauses all, and audits who did it", async () => {
    const healthy = await account(sql, a.workspaceId);
    await evaluate(sql, healthy);
    const editor = await member(sql, a.workspaceId, "editor");
    const result = await asPerson(sql, editor.id, (tx) => pauseAtRiskAccounts(tx, a.workspaceId));
    expect(result.account_ids).toEqual([aAccount]);
    expect((await accountRow(sql, aAccount)).state).toBe("paused");
    expect((await accountRow(sql, healthy)).state).toBe("active");
    const [audit] = await sql`select actor_id from public.audit_log where entity_id = ${aAccount} and action = 'pause'`;
    expect(audit.actor_id).toBe(editor.id);
    expect(await asPerson(sql, editor.id, (tx) => resumeAccount(tx, aAccount))).toMatchObject({ state: "active" });
  });

  it("gives anon nothing", async () => {
    await sql.begin(async (tx) => {
      await tx`set local role anon`;
      for (const t of TABLES) {
        expect((await errorOf(tx, (sp) => sp.unsafe(`select 1 from public.${t} limit 1`)))?.code, t).toBe("42501");
      }
      expect((await errorOf(tx, (sp) => sp`select public.pause_account(${aAccount})`))?.code).toBe("42501");
      expect((await errorOf(tx, (sp) => sp`select public.request_health_scan(${a.workspaceId})`))?.code).toBe("42501");
    });
  });

  it("keeps the scan functions from signed-in users", async () => {
    await asUser(sql, a.id, async (tx) => {
      for (const call of [
        "select private.claim_accounts_for_scan('x', 1, 10)",
        "select private.record_health_scan('[]')",
        "select private.evaluate_account_health('{}')",
        "select private.maintain_health_storage()",
        "select 1 from private.account_health_state",
        "insert into public.health_alerts (workspace_id, account_id, rule_id, severity, threshold, clear_threshold, message, advice) values (gen_random_uuid(), gen_random_uuid(), 'inactive', 'info', 1, 0, 'x', 'y')",
        "insert into public.account_health_snapshots (account_id, workspace_id, taken_at) values (gen_random_uuid(), gen_random_uuid(), now())",
      ]) {
        expect((await errorOf(tx, (sp) => sp.unsafe(call)))?.code, call).toBe("42501");
      }
    });
  });

  it("lets pacer_worker run the scan functions and nothing else of health", async () => {
    await sql.begin(async (tx) => {
      await tx`set local role pacer_worker`;
      expect((await errorOf(tx, (sp) => sp`select * from private.claim_accounts_for_scan('probe', 0, 10)`))).toBeNull();
      for (const call of [
        "select 1 from public.health_alerts limit 1",
        "select 1 from public.account_health_snapshots limit 1",
        "select 1 from private.account_health_state limit 1",
        "update public.workspace_health_settings set auto_pause = 'off'",
        `select public.pause_account('${aAccount}')`,
        `select public.resume_account('${aAccount}')`,
        `select public.acknowledge_health_alert(${aAlert})`,
        // Only the daily upkeep, never the form whose retention argument could drop this month's data.
        "select private.maintain_health_storage('0 days', '0 days')",
      ]) {
        expect((await errorOf(tx, (sp) => sp.unsafe(call)))?.code, call).toBe("42501");
      }
    });
  });
});
