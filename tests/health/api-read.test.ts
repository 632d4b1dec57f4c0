// The health API's reads through their real route handlers with real tokens: the overview's figures
// and the account detail on crafted data (snapshots, attempts, alerts, holds), the rules in force,
// and who may read them (any member; another workspace's user gets 404; no session, 401).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as overviewRoute from "@/app/api/accounts/health/route";
import * as detailRoute from "@/app/api/accounts/[id]/health/route";
import * as rulesRoute from "@/app/api/accounts/health/rules/route";
import { connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";
import { account, attempts, evaluate, snapshots, steadyBaseline } from "./helpers";

type Handler = (req: Request, ctx: any) => Promise<Response>;

let sql: Sql;
let owner: TestUser;
let viewer: TestUser;
let stranger: TestUser;
let ws: string;
let strangerWs: string;

const workspaceOf = async (user: TestUser) =>
  (await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`)[0].workspace_id as string;

function get(handler: Handler, path: string, user: TestUser | null, params: Record<string, string> = {}) {
  const headers = new Headers();
  if (user) headers.set("authorization", `Bearer ${user.accessToken}`);
  return handler(new Request(`http://127.0.0.1:3000${path}`, { headers }), { params: Promise.resolve(params) });
}
const detail = (user: TestUser | null, id: string, query = "") => get(detailRoute.GET, `/api/accounts/${id}/health${query}`, user, { id });

beforeAll(async () => {
  sql = connect();
  [owner, viewer, stranger] = await Promise.all([signUp("hr-owner"), signUp("hr-viewer"), signUp("hr-stranger")]);
  [ws, strangerWs] = await Promise.all([workspaceOf(owner), workspaceOf(stranger)]);
  await sql`update public.workspaces set plan_id = 'ultra' where id = ${ws}`;
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${viewer.id}, 'viewer')`;
});
afterAll(() => sql.end());

describe("GET /api/accounts/health", () => {
  // One workspace of crafted accounts: a reach collapse (70), restricted (40), needs reconnect (50), healthy (100).
  let declining: string, restricted: string, reconnect: string, healthy: string;
  beforeAll(async () => {
    await sql`insert into public.workspace_health_settings (workspace_id, auto_pause, pause_below_score) values (${ws}, 'warn', 50)`;
    [declining, restricted, reconnect, healthy] = await Promise.all([
      account(sql, ws),
      account(sql, ws, "restricted"),
      account(sql, ws, "needs_reconnect"),
      account(sql, ws),
    ]);
    await steadyBaseline(sql, declining);
    await snapshots(sql, declining, [{ minutesAgo: 0, reach: 300, engagement: 100, followers: 1000 }]);
    await evaluate(sql, declining, restricted, reconnect, healthy);
    // An alert of the healthy account that resolved an hour ago: listed after the open ones.
    await sql`insert into public.health_alerts (workspace_id, account_id, rule_id, severity, observed, threshold, clear_threshold,
                                                message, advice, opened_at, resolved_at, resolution)
              values (${ws}, ${healthy}, 'inactive', 'info', 8, 7, 1, 'Inactive for 8 days.', 'Post.', now() - interval '2 hours',
                      now() - interval '1 hour', 'cleared')`;
  });

  it("gives the settings, score distribution, open alerts by severity, at-risk accounts worst first, alerts and the last scan", async () => {
    const res = await get(overviewRoute.GET, `/api/accounts/health?workspaceId=${ws}`, viewer);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.workspaceId).toBe(ws);
    expect(body.settings).toEqual({ autoPause: "warn", pauseBelowScore: 50 });
    expect(body.accounts).toBe(4);
    expect(body.scoreDistribution).toEqual([
      { from: 0, to: 19, accounts: 0 },
      { from: 20, to: 39, accounts: 0 },
      { from: 40, to: 59, accounts: 2 },
      { from: 60, to: 79, accounts: 1 },
      { from: 80, to: 100, accounts: 1 },
    ]);
    expect(body.openAlerts).toEqual({ info: 0, warning: 1, critical: 2 });
    expect(body.atRisk.map((a: { accountId: string; healthScore: number }) => [a.accountId, a.healthScore])).toEqual([
      [restricted, 40],
      [reconnect, 50],
      [declining, 70],
    ]);
    const risky = body.atRisk[2];
    expect(risky).toMatchObject({ state: "active", pausedReason: null });
    expect(risky.alerts).toEqual([
      expect.objectContaining({ ruleId: "reach_decline", ruleName: "Reach decline", severity: "warning", acknowledgedAt: null }),
    ]);
    expect(body.atRisk[0].alerts.map((a: { ruleId: string }) => a.ruleId)).toEqual(["restricted"]);

    // Open first (critical before warning), then the resolved one.
    expect(body.alerts.map((a: { ruleId: string; resolvedAt: string | null }) => [a.ruleId, a.resolvedAt === null])).toEqual([
      [expect.stringMatching(/^(restricted|token_expired)$/), true],
      [expect.stringMatching(/^(restricted|token_expired)$/), true],
      ["reach_decline", true],
      ["inactive", false],
    ]);
    const reach = body.alerts[2];
    expect(reach).toMatchObject({ accountId: declining, observed: 70, baseline: 1000, severity: "warning", acknowledgedBy: null });
    expect(reach.advice).toMatch(/post less/i);
    expect(typeof reach.handle).toBe("string");

    const [latest] = await sql`select max(taken_at) as at from public.account_health_snapshots where workspace_id = ${ws}`;
    expect(body.lastScanAt).toBe(latest.at.toISOString());
  });

  it("counts every at-risk account beyond the 100 listed, and those pause-all would pause", async () => {
    const big = await signUp("hr-many");
    const bigWs = await workspaceOf(big);
    await sql`update public.workspaces set plan_id = 'ultra' where id = ${bigWs}`;
    // 103 accounts under the default threshold (40): 102 that may publish, one already paused; one healthy.
    await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, state, health_score)
              select ${bigWs}, 'sandbox', 'many_' || g, 'Many', case when g = 1 then 'paused' else 'active' end::public.account_state,
                     case when g = 104 then 90 else 10 + g % 20 end
              from generate_series(1, 104) g`;
    const body = await (await get(overviewRoute.GET, "/api/accounts/health", big)).json();
    expect(body.atRisk).toHaveLength(100);
    expect(body.atRiskTotal).toEqual({ accounts: 103, mayPublish: 102 });
  });

  it("refuses another workspace's user (404), no session (401), a malformed workspace id (400)", async () => {
    expect((await get(overviewRoute.GET, `/api/accounts/health?workspaceId=${ws}`, stranger)).status).toBe(404);
    // Their own workspace shows none of this one's accounts.
    const own = await (await get(overviewRoute.GET, "/api/accounts/health", stranger)).json();
    expect(own).toMatchObject({ workspaceId: strangerWs, accounts: 0, atRisk: [], alerts: [], lastScanAt: null });
    expect((await get(overviewRoute.GET, "/api/accounts/health", null)).status).toBe(401);
    expect((await get(overviewRoute.GET, "/api/accounts/health?workspaceId=nope", owner)).status).toBe(400);
  });

  it("account detail: baseline, snapshots within days, step scores, breakdown, alerts, attempts, holds", async () => {
    await attempts(sql, declining, [
      { minutesAgo: 10, outcome: "posted" },
      { minutesAgo: 5, outcome: "destination_rejected", destination: "r/cats" },
    ]);
    await sql`insert into public.destination_holds (workspace_id, account_id, destination, rejections, reason)
              values (${ws}, ${declining}, 'r/cats', 3, 'r/cats rejected 3 posts in 24 hours.')`;

    const res = await detail(viewer, declining);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.account).toMatchObject({ id: declining, platform: "sandbox", state: "active", pausedReason: null, healthScore: 70 });
    expect(body.baseline).toMatchObject({ reach: 1000, engagement: 100, followers: 1000, samples: 48 });
    // Seven days by default: 48 hourly snapshots and the latest, oldest first.
    expect(body.snapshots).toHaveLength(49);
    expect(body.snapshots.at(-1)).toMatchObject({ reach: 300, engagement: 100, followers: 1000, readError: null });
    expect(body.snapshots[0].takenAt < body.snapshots[1].takenAt).toBe(true);
    expect(body.scores.map((s: { score: number }) => s.score)).toEqual([70]);
    expect(body.breakdown).toEqual([{ rule: "reach_decline", name: "Reach decline", severity: "warning", points: 30, observed: 70, threshold: 50 }]);
    expect(body.alerts).toEqual([
      expect.objectContaining({ ruleId: "reach_decline", observed: 70, baseline: 1000, threshold: 50, resolvedAt: null }),
    ]);
    expect(body.attempts.map((a: { outcome: string; destination: string | null }) => [a.outcome, a.destination])).toEqual([
      ["destination_rejected", "r/cats"],
      ["posted", null],
    ]);
    expect(body.destinations).toEqual([expect.objectContaining({ destination: "r/cats", rejections: 3, releasedAt: null })]);
    expect(body.stateChanges).toEqual([]);

    // One day: the snapshots of the last 24 hours only.
    const day = await (await detail(viewer, declining, "?days=1")).json();
    expect(day.snapshots).toHaveLength(24);
    // A score older than the window is carried in at the window's start (the step series' first value).
    await sql`update public.account_health_scores set scored_at = scored_at - interval '3 days' where account_id = ${declining}`;
    const carried = await (await detail(viewer, declining, "?days=1")).json();
    expect(carried.scores).toHaveLength(1);
    expect(carried.scores[0].score).toBe(70);
    expect(Date.now() - Date.parse(carried.scores[0].scoredAt)).toBeLessThan(24 * 3600_000 + 60_000);
  });

  it("account detail: no baseline and empty series for a new account", async () => {
    const body = await (await detail(owner, healthy)).json();
    expect(body.baseline).toBeNull();
    expect(body.snapshots).toEqual([]);
    expect(body.breakdown).toEqual([]);
    expect(body.alerts).toEqual([expect.objectContaining({ ruleId: "inactive", resolvedAt: expect.any(String) })]);
  });

  it("account detail refuses another workspace's user (404), no session (401), bad ids (404) and days out of range (400)", async () => {
    expect((await detail(stranger, declining)).status).toBe(404);
    expect((await detail(null, declining)).status).toBe(401);
    expect((await detail(owner, "not-a-uuid")).status).toBe(404);
    expect((await detail(owner, crypto.randomUUID())).status).toBe(404);
    expect((await detail(owner, declining, "?days=0")).status).toBe(400);
    expect((await detail(owner, declining, "?days=91")).status).toBe(400);
    expect((await detail(owner, declining, `?workspaceId=${strangerWs}`)).status).toBe(404);
  });

  it("the database refuses the detail functions to another workspace's user too (supabase-js calls them directly)", async () => {
    for (const call of [
      (tx: Sql) => tx`select * from public.account_health_baseline(${declining})`,
      (tx: Sql) => tx`select * from public.account_state_changes(${declining}, 50)`,
      (tx: Sql) => tx`select public.workspace_health_last_scan(${ws})`,
    ]) {
      const error = await sql
        .begin(async (tx) => {
          await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: stranger.id, role: "authenticated" })}, true),
                          set_config('role', 'authenticated', true)`;
          await call(tx as unknown as Sql);
        })
        .then(() => null, (e) => e);
      expect(error?.code).toBe("P0002");
    }
    const anon = await sql
      .begin(async (tx) => {
        await tx`select set_config('role', 'anon', true)`;
        await tx`select * from public.account_health_baseline(${declining})`;
      })
      .then(() => null, (e) => e);
    expect(anon?.code).toBe("42501");
  });
});

describe("GET /api/accounts/health/rules", () => {
  it("lists every rule with its default, the threshold in force and its bounds, to any member", async () => {
    const res = await get(rulesRoute.GET, `/api/accounts/health/rules?workspaceId=${ws}`, viewer);
    expect(res.status).toBe(200);
    const { rules } = await res.json();
    expect(rules.map((r: { id: string }) => r.id)).toEqual([
      "reach_decline",
      "engagement_drop",
      "follower_loss",
      "publish_failures_consecutive",
      "publish_failure_rate",
      "inactive",
      "token_expired",
      "token_expiring",
      "restricted",
      "destination_rejections",
    ]);
    expect(rules[0]).toMatchObject({
      name: "Reach decline",
      unit: "%",
      direction: "above",
      severity: "warning",
      points: 30,
      canDisable: true,
      defaultThreshold: 50,
      threshold: 50,
      clearThreshold: 40,
      minThreshold: 20,
      maxThreshold: 90,
      enabled: true,
      tuned: false,
    });
    expect(rules.find((r: { id: string }) => r.id === "restricted")).toMatchObject({ canDisable: false, severity: "critical" });
    expect((await get(rulesRoute.GET, `/api/accounts/health/rules?workspaceId=${ws}`, stranger)).status).toBe(404);
    expect((await get(rulesRoute.GET, "/api/accounts/health/rules", null)).status).toBe(401);
  });
});
