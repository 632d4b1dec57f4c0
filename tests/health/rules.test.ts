// Each health rule at its edges on crafted series, hysteresis, the score and its breakdown,
// auto-pause in each mode, and destination holds. Evaluation runs as pacer_worker (lib/health/store).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asUser, connect, type Sql } from "../support/db";
import { claimDuePosts } from "../../lib/engine/store";
import { pauseAccount, releaseDestination, resumeAccount } from "../../lib/health/store";
import {
  account, accountRow, asPerson, attempts, evaluate, member, openAlerts, queueItem, snapshots, steadyBaseline, workspace,
} from "./helpers";

let sql: Sql;
let ws: Awaited<ReturnType<typeof workspace>>;
beforeAll(async () => {
  sql = connect();
  ws = await workspace(sql, "health-rules");
  // Scores and alerts only: pausing is tested on its own below.
  await sql`insert into public.workspace_health_settings (workspace_id, auto_pause) values (${ws.workspaceId}, 'off')`;
});
afterAll(() => sql.end());

const rules = async (id: string) => (await openAlerts(sql, id)).map((a) => a.rule_id);

describe("reach decline (baseline: median of the previous 7 days)", () => {
  it("fires at 50% and not just under, then holds between the thresholds and clears only below 40%", async () => {
    const id = await account(sql, ws.workspaceId);
    await steadyBaseline(sql, id);
    await snapshots(sql, id, [{ minutesAgo: 10, reach: 501, engagement: 100, followers: 1000 }]); // 49.9 %
    await evaluate(sql, id);
    expect(await rules(id)).toEqual([]);

    await snapshots(sql, id, [{ minutesAgo: 8, reach: 499, engagement: 100, followers: 1000 }]); // 50.1 %
    expect((await evaluate(sql, id)).alertsOpened).toBe(1);
    const [alert] = await openAlerts(sql, id);
    expect(alert).toMatchObject({ rule_id: "reach_decline", severity: "warning", observed: 50.1, baseline: 1000 });
    expect(alert.message).toContain("baseline of 1000");
    expect(alert.advice.length).toBeGreaterThan(10);

    // Oscillating around the threshold (45 %, 55 %, 45 %, 44 %): the same alert stays open, none is added.
    for (const [minutesAgo, reach] of [[7, 550], [6, 450], [5, 550], [4, 560]]) {
      await snapshots(sql, id, [{ minutesAgo, reach, engagement: 100, followers: 1000 }]);
      expect(await evaluate(sql, id)).toMatchObject({ alertsOpened: 0, alertsResolved: 0 });
      expect((await openAlerts(sql, id)).map((a) => a.id)).toEqual([alert.id]);
    }

    await snapshots(sql, id, [{ minutesAgo: 3, reach: 610, engagement: 100, followers: 1000 }]); // 39 %
    expect((await evaluate(sql, id)).alertsResolved).toBe(1);
    expect(await rules(id)).toEqual([]);

    // Back in the band (45 %): a resolved alert does not reopen until the threshold is crossed again.
    await snapshots(sql, id, [{ minutesAgo: 2, reach: 550, engagement: 100, followers: 1000 }]);
    expect((await evaluate(sql, id)).alertsOpened).toBe(0);
    const [{ n }] = await sql`select count(*)::int as n from public.health_alerts where account_id = ${id}`;
    expect(n).toBe(1);
  });

  it("is not evaluated for a new account (its first snapshot starts the baseline)", async () => {
    const id = await account(sql, ws.workspaceId);
    await snapshots(sql, id, [{ minutesAgo: 1, reach: 0, engagement: 0, followers: 0 }]);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual([]);
    expect((await accountRow(sql, id)).health_score).toBe(100);
    // The second snapshot has a baseline (the first) and is judged against it.
    const next = await account(sql, ws.workspaceId);
    await snapshots(sql, next, [{ minutesAgo: 60, reach: 1000 }, { minutesAgo: 1, reach: 100 }]);
    await evaluate(sql, next);
    expect(await rules(next)).toEqual(["reach_decline"]);
  });

  it("ignores snapshots older than 7 days for the baseline", async () => {
    const id = await account(sql, ws.workspaceId);
    await snapshots(sql, id, [{ minutesAgo: 8 * 24 * 60, reach: 100000 }, { minutesAgo: 1, reach: 1000 }]);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual([]);
  });

  it("keeps an open alert open when the latest read failed (missing data is not a recovery)", async () => {
    const id = await account(sql, ws.workspaceId);
    await steadyBaseline(sql, id);
    await snapshots(sql, id, [{ minutesAgo: 5, reach: 100, engagement: 100, followers: 1000 }]);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual(["reach_decline"]);
    await snapshots(sql, id, [{ minutesAgo: 1, error: "platform unavailable" }]);
    expect((await evaluate(sql, id)).alertsResolved).toBe(0);
    expect(await rules(id)).toEqual(["reach_decline"]);
  });
});

describe("engagement drop and follower loss", () => {
  it("engagement: 49% stays quiet, 51% fires", async () => {
    const id = await account(sql, ws.workspaceId);
    await steadyBaseline(sql, id);
    await snapshots(sql, id, [{ minutesAgo: 5, reach: 1000, engagement: 51, followers: 1000 }]);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual([]);
    await snapshots(sql, id, [{ minutesAgo: 1, reach: 1000, engagement: 49, followers: 1000 }]);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual(["engagement_drop"]);
  });

  it("followers: 4.9% lost stays quiet, 5.1% fires", async () => {
    const id = await account(sql, ws.workspaceId);
    await steadyBaseline(sql, id);
    await snapshots(sql, id, [{ minutesAgo: 5, reach: 1000, engagement: 100, followers: 951 }]);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual([]);
    await snapshots(sql, id, [{ minutesAgo: 1, reach: 1000, engagement: 100, followers: 949 }]);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual(["follower_loss"]);
  });
});

describe("publishing failures", () => {
  it("consecutive: two failures stay quiet, the third fires, a successful post clears it", async () => {
    const id = await account(sql, ws.workspaceId);
    // Enough successes before them that the failure rate stays under its threshold throughout.
    await attempts(sql, id, [70, 65, 60, 30].map((minutesAgo) => ({ minutesAgo, outcome: "posted" })));
    await attempts(sql, id, [{ minutesAgo: 20, outcome: "permanent" }, { minutesAgo: 15, outcome: "retryable" }]);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual([]);
    await attempts(sql, id, [{ minutesAgo: 10, outcome: "retryable" }]);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual(["publish_failures_consecutive"]);
    await attempts(sql, id, [{ minutesAgo: 5, outcome: "posted" }]);
    expect((await evaluate(sql, id)).alertsResolved).toBe(1);
    expect(await rules(id)).toEqual([]);
  });

  it("rate: not judged under 5 attempts; 3 failed of 5 fires", async () => {
    const id = await account(sql, ws.workspaceId);
    // Failures first, then successes, so no run of failures is ongoing.
    await attempts(sql, id, [
      { minutesAgo: 50, outcome: "permanent" }, { minutesAgo: 40, outcome: "retryable" },
      { minutesAgo: 30, outcome: "posted" }, { minutesAgo: 20, outcome: "posted" },
    ]);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual([]); // 50 % of 4 attempts: too few to judge
    await attempts(sql, id, [{ minutesAgo: 45, outcome: "destination_rejected" }]);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual(["publish_failure_rate"]); // 60 % of 5
  });

  it("rate: rate-limit refusals are not failures", async () => {
    const id = await account(sql, ws.workspaceId);
    await attempts(sql, id, [
      ...[50, 49, 48, 47].map((m) => ({ minutesAgo: m, outcome: "rate_limited" })),
      ...[40, 30, 20, 10, 5].map((m) => ({ minutesAgo: m, outcome: "posted" })),
    ]);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual([]);
  });
});

describe("inactivity, authorisation and restriction", () => {
  it("inactive: 6.9 days quiet, 7.1 days fires; a paused account is not judged", async () => {
    const quiet = await account(sql, ws.workspaceId);
    const stale = await account(sql, ws.workspaceId);
    const paused = await account(sql, ws.workspaceId, "paused");
    await sql`update public.social_accounts set created_at = now() - interval '6.9 days' where id = ${quiet}`;
    await sql`update public.social_accounts set created_at = now() - interval '7.1 days' where id in ${sql([stale, paused])}`;
    await evaluate(sql, quiet, stale, paused);
    expect(await rules(quiet)).toEqual([]);
    expect(await rules(stale)).toEqual(["inactive"]);
    expect(await rules(paused)).toEqual([]);
    // A post brings it back (clear threshold: 1 day).
    await attempts(sql, stale, [{ minutesAgo: 1, outcome: "posted" }]);
    await evaluate(sql, stale);
    expect(await rules(stale)).toEqual([]);
  });

  it("token expired (needs_reconnect) is critical and clears once reconnected", async () => {
    const id = await account(sql, ws.workspaceId, "needs_reconnect");
    await evaluate(sql, id);
    expect((await openAlerts(sql, id)).map((a) => [a.rule_id, a.severity])).toEqual([["token_expired", "critical"]]);
    expect((await accountRow(sql, id)).health_score).toBe(50);
    await sql`update public.social_accounts set state = 'active' where id = ${id}`;
    await evaluate(sql, id);
    expect(await rules(id)).toEqual([]);
    expect((await accountRow(sql, id)).health_score).toBe(100);
  });

  it("token expiring: within 3 days fires, 5 days holds, 8 days clears", async () => {
    const id = await account(sql, ws.workspaceId);
    const expiresIn = (days: number) =>
      sql`update private.account_health_state set token_expires_at = now() + ${days} * interval '1 day' where account_id = ${id}`;
    await expiresIn(3.1);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual([]);
    await expiresIn(2.9);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual(["token_expiring"]);
    await expiresIn(5);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual(["token_expiring"]);
    await expiresIn(8);
    await evaluate(sql, id);
    expect(await rules(id)).toEqual([]);
  });

  it("restricted is critical; the account never publishes and its posts stay its own", async () => {
    const id = await account(sql, ws.workspaceId, "restricted");
    const other = await account(sql, ws.workspaceId, "active");
    const item = await queueItem(sql, id);
    await evaluate(sql, id);
    expect((await openAlerts(sql, id)).map((a) => [a.rule_id, a.severity])).toEqual([["restricted", "critical"]]);
    const claimed = await claimDuePosts(sql, { worker: "health-test", limit: 50, leaseSeconds: 30, workspaceId: ws.workspaceId });
    expect(claimed.map((c) => c.id)).not.toContain(item);
    const [row] = await sql`select account_id, status, run_at = 'infinity' as parked from public.queue_items where id = ${item}`;
    expect(row).toMatchObject({ account_id: id, status: "pending", parked: true });
    expect((await accountRow(sql, id)).state).toBe("restricted");
    expect(other).not.toBe(id);
  });
});

describe("the score", () => {
  it("is 100 minus the points of the open alerts, with a breakdown of which rule took how many", async () => {
    const id = await account(sql, ws.workspaceId);
    await steadyBaseline(sql, id);
    await snapshots(sql, id, [{ minutesAgo: 1, reach: 100, engagement: 10, followers: 900 }]);
    await evaluate(sql, id);
    expect((await accountRow(sql, id)).health_score).toBe(100 - 30 - 20 - 15);
    const [series] = await sql`select score, breakdown from public.account_health_scores where account_id = ${id} order by scored_at desc limit 1`;
    expect(series.score).toBe(35);
    expect(series.breakdown.map((b: { rule: string; points: number }) => [b.rule, b.points])).toEqual([
      ["reach_decline", 30], ["engagement_drop", 20], ["follower_loss", 15],
    ]);
  });

  it("never goes below 0", async () => {
    const id = await account(sql, ws.workspaceId, "restricted");
    await steadyBaseline(sql, id);
    await snapshots(sql, id, [{ minutesAgo: 1, reach: 100, engagement: 10, followers: 900 }]);
    await evaluate(sql, id);
    expect((await accountRow(sql, id)).health_score).toBe(0); // 60 + 30 + 20 + 15 points
  });

  it("follows a workspace's tuning: a rule switched off resolves and gives its points back", async () => {
    const other = await workspace(sql, "health-tuned");
    await sql`insert into public.workspace_health_settings (workspace_id, auto_pause) values (${other.workspaceId}, 'off')`;
    const id = await account(sql, other.workspaceId);
    await steadyBaseline(sql, id);
    await snapshots(sql, id, [{ minutesAgo: 1, reach: 600, engagement: 100, followers: 1000 }]); // 40 %
    await evaluate(sql, id);
    expect(await rules(id)).toEqual([]);
    // Tightened to 30 %: 40 % now fires (the clear threshold moves with it, to 24 %).
    await sql`insert into public.workspace_health_rules (workspace_id, rule_id, threshold) values (${other.workspaceId}, 'reach_decline', 30)`;
    await evaluate(sql, id);
    expect(await rules(id)).toEqual(["reach_decline"]);
    expect((await accountRow(sql, id)).health_score).toBe(70);
    await sql`update public.workspace_health_rules set enabled = false where workspace_id = ${other.workspaceId}`;
    await evaluate(sql, id);
    expect(await rules(id)).toEqual([]);
    expect((await accountRow(sql, id)).health_score).toBe(100);
  });
});

describe("auto-pause", () => {
  async function atRiskAccount(mode: "off" | "warn" | "pause") {
    const w = await workspace(sql, `health-${mode}`);
    await sql`insert into public.workspace_health_settings (workspace_id, auto_pause, pause_below_score)
              values (${w.workspaceId}, ${mode}, 40)`;
    const id = await account(sql, w.workspaceId);
    await steadyBaseline(sql, id);
    await snapshots(sql, id, [{ minutesAgo: 1, reach: 100, engagement: 10, followers: 900 }]); // score 35
    return { w, id };
  }
  const audits = (id: string, action: string) =>
    sql`select actor_id, new_values from public.audit_log where entity_id = ${id} and action = ${action}`;

  it("pause: an account below the threshold is paused by the rule, its posts wait and come back on resume", async () => {
    const { w, id } = await atRiskAccount("pause");
    const item = await queueItem(sql, id);
    expect((await evaluate(sql, id)).accountsPaused).toBe(1);
    expect(await accountRow(sql, id)).toMatchObject({ state: "paused", paused_reason: "health", state_before_pause: "active" });
    const [audit] = await audits(id, "health_pause");
    expect(audit.actor_id).toBeNull();
    expect(audit.new_values).toMatchObject({ by: "rule", score: 35, rules: ["engagement_drop", "follower_loss", "reach_decline"] });

    // The claim parks the paused account's item, nothing is lost.
    const first = await claimDuePosts(sql, { worker: "health-test", limit: 10, leaseSeconds: 30, workspaceId: w.workspaceId });
    expect(first).toEqual([]);
    const [parked] = await sql`select status, run_at = 'infinity' as parked from public.queue_items where id = ${item}`;
    expect(parked).toMatchObject({ status: "pending", parked: true });

    const editor = await member(sql, w.workspaceId, "editor");
    await asUser(sql, editor.id, async (tx) => {
      expect(await resumeAccount(tx, id)).toMatchObject({ state: "active", changed: true });
    });
    // asUser rolls back: resume for real, as the same editor would, to see the item come back.
    await asPerson(sql, editor.id, (tx) => resumeAccount(tx, id));
    const [back] = await sql`select run_at < 'infinity' as due from public.queue_items where id = ${item}`;
    expect(back.due).toBe(true);
    const [resumed] = await audits(id, "resume");
    expect(resumed.actor_id).toBe(editor.id);
    const again = await claimDuePosts(sql, { worker: "health-test", limit: 10, leaseSeconds: 30, workspaceId: w.workspaceId });
    expect(again.map((c) => c.id)).toEqual([item]);

    // The same open alerts do not pause it again: a person decided; only a new alert would.
    expect((await evaluate(sql, id)).accountsPaused).toBe(0);
    expect((await accountRow(sql, id)).state).toBe("active");
  });

  it("warn: the account keeps running and one warning is audited per episode", async () => {
    const { id } = await atRiskAccount("warn");
    expect(await evaluate(sql, id)).toMatchObject({ accountsPaused: 0, accountsWarned: 1 });
    await evaluate(sql, id);
    expect((await accountRow(sql, id)).state).toBe("active");
    expect(await audits(id, "health_warning")).toHaveLength(1);
  });

  it("off: nothing is paused or warned", async () => {
    const { id } = await atRiskAccount("off");
    expect(await evaluate(sql, id)).toMatchObject({ accountsPaused: 0, accountsWarned: 0 });
    expect((await accountRow(sql, id)).state).toBe("active");
    expect(await audits(id, "health_warning")).toHaveLength(0);
  });

  it("pause: a score at or above the threshold is left running", async () => {
    const w = await workspace(sql, "health-edge");
    await sql`insert into public.workspace_health_settings (workspace_id, auto_pause, pause_below_score)
              values (${w.workspaceId}, 'pause', 70)`;
    const id = await account(sql, w.workspaceId);
    await steadyBaseline(sql, id);
    await snapshots(sql, id, [{ minutesAgo: 1, reach: 100, engagement: 100, followers: 1000 }]); // score 70
    await evaluate(sql, id);
    expect(await accountRow(sql, id)).toMatchObject({ state: "active", health_score: 70 });
  });

  it("a person can pause by hand; the reason is 'manual' and the audit names them", async () => {
    const id = await account(sql, ws.workspaceId);
    const editor = await member(sql, ws.workspaceId, "editor");
    const result = await asPerson(sql, editor.id, (tx) => pauseAccount(tx, id));
    expect(result).toMatchObject({ state: "paused", paused_reason: "manual", changed: true });
    const [audit] = await audits(id, "pause");
    expect(audit.actor_id).toBe(editor.id);
  });
});

describe("destination holds", () => {
  it("holds only the rejecting destination's posts, keeps them held through a resume, and releases them", async () => {
    const id = await account(sql, ws.workspaceId);
    const toA = await queueItem(sql, id, "r/a");
    const toB = await queueItem(sql, id, "r/b");
    await attempts(sql, id, [1, 2].map((m) => ({ minutesAgo: m, outcome: "destination_rejected", destination: "r/a" })));
    expect((await evaluate(sql, id)).destinationsHeld).toBe(0); // 2 rejections: under the threshold of 3
    // The third rejection holds it as it is recorded (20261202001700); the evaluation finds it held.
    await attempts(sql, id, [{ minutesAgo: 3, outcome: "destination_rejected", destination: "r/a" }]);
    expect(await sql`select destination from public.destination_holds where account_id = ${id} and released_at is null`)
      .toEqual([{ destination: "r/a" }]);
    expect((await evaluate(sql, id)).destinationsHeld).toBe(0);

    const parked = async () =>
      Object.fromEntries((await sql`select id, run_at = 'infinity' as parked from public.queue_items where id in ${sql([toA, toB])}`)
        .map((r) => [Number(r.id), r.parked]));
    expect(await parked()).toEqual({ [toA]: true, [toB]: false });
    expect((await accountRow(sql, id)).state).toBe("active");
    const [audit] = await sql`select new_values from public.audit_log where entity_id = ${id} and action = 'destination_hold'`;
    expect(audit.new_values).toMatchObject({ destination: "r/a", rejections: 3 });

    // A new post to r/a waits at once; one to r/b does not.
    const newA = await queueItem(sql, id, "r/a");
    const newB = await queueItem(sql, id, "r/b");
    const [n] = await sql`select count(*) filter (where run_at = 'infinity')::int as parked from public.queue_items where id in ${sql([newA, newB])}`;
    expect(n.parked).toBe(1);

    // Paused and resumed: the queue's resume brings items back, except the held destination's.
    await sql`update public.social_accounts set state = 'paused', paused_reason = 'manual', state_before_pause = 'active' where id = ${id}`;
    await sql`update public.queue_items set run_at = 'infinity' where id = ${toB}`;
    await sql`update public.social_accounts set state = 'active' where id = ${id}`;
    expect(await parked()).toEqual({ [toA]: true, [toB]: false });

    // A claim sends r/b only.
    const claimed = await claimDuePosts(sql, { worker: "health-test", limit: 10, leaseSeconds: 30, workspaceId: ws.workspaceId });
    const mine = claimed.filter((c) => c.accountId === id).map((c) => c.destination);
    expect(mine.sort()).toEqual(["r/b", "r/b"]);

    const editor = await member(sql, ws.workspaceId, "editor");
    expect(await asPerson(sql, editor.id, (tx) => releaseDestination(tx, id, "r/a"))).toEqual({ released: true, items: 2 });
    expect(await parked()).toEqual({ [toA]: false, [toB]: false });
    // Rejections before the release do not hold it again.
    expect((await evaluate(sql, id)).destinationsHeld).toBe(0);
  });

  it("are also made by the evaluation, e.g. when a workspace lowers the threshold below rejections already seen", async () => {
    const own = await workspace(sql, "health-hold-eval");
    const id = await account(sql, own.workspaceId);
    const toA = await queueItem(sql, id, "r/a");
    await attempts(sql, id, [1, 2].map((m) => ({ minutesAgo: m, outcome: "destination_rejected", destination: "r/a" })));
    expect((await evaluate(sql, id)).destinationsHeld).toBe(0);
    await sql`insert into public.workspace_health_rules (workspace_id, rule_id, threshold) values (${own.workspaceId}, 'destination_rejections', 2)`;
    expect((await evaluate(sql, id)).destinationsHeld).toBe(1);
    const [item] = await sql`select run_at = 'infinity' as parked from public.queue_items where id = ${toA}`;
    expect(item.parked).toBe(true);
  });
});
