// The health API's actions through their real route handlers with real tokens: pause → resume
// round trip with its audit rows and state changes, pause-all, acknowledge, destination release,
// rules tuning within bounds (and back to default), settings, check-all scanning a sandbox account.
// Each refuses another workspace's user (404), a viewer where an editor or admin is needed (403),
// and a request without a session (401).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import * as pauseRoute from "@/app/api/accounts/[id]/pause/route";
import * as resumeRoute from "@/app/api/accounts/[id]/resume/route";
import * as detailRoute from "@/app/api/accounts/[id]/health/route";
import * as pauseAllRoute from "@/app/api/accounts/pause-all/route";
import * as releaseRoute from "@/app/api/accounts/[id]/destinations/release/route";
import * as ackRoute from "@/app/api/alerts/[id]/acknowledge/route";
import * as ruleRoute from "@/app/api/accounts/health/rules/[ruleId]/route";
import * as settingsRoute from "@/app/api/accounts/health/settings/route";
import * as checkAllRoute from "@/app/api/accounts/health/check-all/route";
import { connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";
import { sandboxAccount } from "../support/sandbox";
import { account, accountRow, evaluate, openAlerts, queueItem, snapshots, steadyBaseline } from "./helpers";

type Handler = (req: Request, ctx: any) => Promise<Response>;

let sql: Sql;
let owner: TestUser;
let admin: TestUser;
let editor: TestUser;
let viewer: TestUser;
let stranger: TestUser;
let ws: string;

const workspaceOf = async (user: TestUser) =>
  (await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`)[0].workspace_id as string;

function call(handler: Handler, method: string, path: string, user: TestUser | null, body?: unknown, params: Record<string, string> = {}) {
  const headers = new Headers();
  if (user) headers.set("authorization", `Bearer ${user.accessToken}`);
  if (body !== undefined) headers.set("content-type", "application/json");
  const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
  return handler(new Request(`http://127.0.0.1:3000${path}`, init), { params: Promise.resolve(params) });
}
const pause = (user: TestUser | null, id: string) => call(pauseRoute.POST, "POST", `/api/accounts/${id}/pause`, user, undefined, { id });
const resume = (user: TestUser | null, id: string) => call(resumeRoute.POST, "POST", `/api/accounts/${id}/resume`, user, undefined, { id });
const ack = (user: TestUser | null, id: string | number) =>
  call(ackRoute.POST, "POST", `/api/alerts/${id}/acknowledge`, user, undefined, { id: String(id) });
const tune = (user: TestUser | null, ruleId: string, body: unknown) =>
  call(ruleRoute.PUT, "PUT", `/api/accounts/health/rules/${ruleId}`, user, body, { ruleId });
const reset = (user: TestUser | null, ruleId: string, workspaceId: string) =>
  call(ruleRoute.DELETE, "DELETE", `/api/accounts/health/rules/${ruleId}?workspaceId=${workspaceId}`, user, undefined, { ruleId });
const settings = (user: TestUser | null, body: unknown) => call(settingsRoute.PUT, "PUT", "/api/accounts/health/settings", user, body);

/** The audit rows health wrote for an account (not the generic row of the update). */
const healthAudit = (accountId: string) =>
  sql`select actor_id, action, new_values from public.audit_log
      where entity = 'social_accounts' and entity_id = ${accountId} and action <> 'update' and action <> 'insert' order by id`;

/** An account whose reach fell 70 % against a steady baseline: one open reach_decline alert (score 70). */
async function declining(workspaceId: string, reach = 300) {
  const id = await account(sql, workspaceId);
  await steadyBaseline(sql, id);
  await snapshots(sql, id, [{ minutesAgo: 0, reach, engagement: 100, followers: 1000 }]);
  await evaluate(sql, id);
  return id;
}

beforeAll(async () => {
  sql = connect();
  [owner, admin, editor, viewer, stranger] = await Promise.all([
    signUp("ha-owner"),
    signUp("ha-admin"),
    signUp("ha-editor"),
    signUp("ha-viewer"),
    signUp("ha-stranger"),
  ]);
  ws = await workspaceOf(owner);
  await sql`update public.workspaces set plan_id = 'ultra' where id = ${ws}`;
  await sql`insert into public.workspace_members (workspace_id, user_id, role)
            values (${ws}, ${admin.id}, 'admin'), (${ws}, ${editor.id}, 'editor'), (${ws}, ${viewer.id}, 'viewer')`;
  // Nothing is paused behind the tests' backs; the settings test turns pausing on itself.
  await sql`insert into public.workspace_health_settings (workspace_id, auto_pause) values (${ws}, 'off')`;
});
afterAll(() => sql.end());

describe("POST /api/accounts/:id/pause and /resume", () => {
  it("pauses and resumes through the API, audited with the person, its post parked and brought back", async () => {
    const id = await account(sql, ws);
    const item = await queueItem(sql, id);
    await sql`update public.queue_items set scheduled_for = now() + interval '1 day', run_at = 'infinity' where id = ${item}`;

    expect((await pause(viewer, id)).status).toBe(403);
    expect((await pause(stranger, id)).status).toBe(404);
    expect((await pause(null, id)).status).toBe(401);
    expect((await pause(editor, "nope")).status).toBe(404);
    expect(await accountRow(sql, id)).toMatchObject({ state: "active" });

    const paused = await pause(editor, id);
    expect(paused.status).toBe(200);
    expect(await paused.json()).toEqual({ accountId: id, state: "paused", pausedReason: "manual", changed: true });
    expect(await accountRow(sql, id)).toMatchObject({ state: "paused", paused_reason: "manual", state_before_pause: "active" });
    // Pausing again changes nothing.
    expect(await (await pause(editor, id)).json()).toMatchObject({ state: "paused", changed: false });

    expect((await resume(viewer, id)).status).toBe(403);
    expect((await resume(stranger, id)).status).toBe(404);
    const resumed = await resume(editor, id);
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toEqual({ accountId: id, state: "active", pausedReason: null, changed: true });
    // The parked post is due again at its scheduled time.
    const [q] = await sql`select run_at, scheduled_for from public.queue_items where id = ${item}`;
    expect(q.run_at.getTime()).toBe(q.scheduled_for.getTime());

    const audit = await healthAudit(id);
    expect(audit.map((a) => [a.action, a.actor_id, a.new_values.by])).toEqual([
      ["pause", editor.id, "person"],
      ["resume", editor.id, "person"],
    ]);
    expect(audit[1].new_values).toMatchObject({ from: "paused", to: "active" });

    // The account detail's state changes say the same, latest first.
    const detail = await call(detailRoute.GET, "GET", `/api/accounts/${id}/health`, viewer, undefined, { id });
    const { stateChanges } = await detail.json();
    expect(stateChanges.map((c: Record<string, unknown>) => [c.action, c.by, c.actorId, c.from, c.to])).toEqual([
      ["resume", "person", editor.id, "paused", "active"],
      ["pause", "person", editor.id, "active", "paused"],
    ]);
    expect(stateChanges[1].reason).toBe("Paused by a person.");
  });

  it("refuses to resume what the plan or a reconnect must (409)", async () => {
    const expired = await account(sql, ws, "needs_reconnect");
    const res = await resume(editor, expired);
    expect(res.status).toBe(409);
    expect((await res.json()).error.code).toBe("needs_reconnect");
    const planPaused = await account(sql, ws);
    await sql`update public.social_accounts set state = 'paused', paused_reason = 'plan_limit', state_before_pause = 'active'
              where id = ${planPaused}`;
    const plan = await resume(owner, planPaused);
    expect(plan.status).toBe(409);
    expect((await plan.json()).error.code).toBe("plan_limit");
    expect(await accountRow(sql, planPaused)).toMatchObject({ state: "paused", paused_reason: "plan_limit" });
  });
});

describe("POST /api/accounts/pause-all", () => {
  it("pauses the at-risk accounts only, audited; a viewer 403, another workspace 404", async () => {
    const owner2 = await signUp("ha-pa-owner");
    const ws2 = await workspaceOf(owner2);
    await sql`insert into public.workspace_health_settings (workspace_id, auto_pause) values (${ws2}, 'off')`;
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${ws2}, ${viewer.id}, 'viewer')`;
    const atRisk = await declining(ws2);
    const fine = await account(sql, ws2);

    expect((await call(pauseAllRoute.POST, "POST", "/api/accounts/pause-all", viewer, { workspaceId: ws2 })).status).toBe(403);
    expect((await call(pauseAllRoute.POST, "POST", "/api/accounts/pause-all", stranger, { workspaceId: ws2 })).status).toBe(404);
    expect((await call(pauseAllRoute.POST, "POST", "/api/accounts/pause-all", null, {})).status).toBe(401);
    expect((await call(pauseAllRoute.POST, "POST", "/api/accounts/pause-all", owner2, { workspaceId: "x" })).status).toBe(400);

    const res = await call(pauseAllRoute.POST, "POST", "/api/accounts/pause-all", owner2, {});
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ paused: 1, accountIds: [atRisk], skipped: 0 });
    expect(await accountRow(sql, atRisk)).toMatchObject({ state: "paused", paused_reason: "health" });
    expect(await accountRow(sql, fine)).toMatchObject({ state: "active" });
    expect((await healthAudit(atRisk)).map((a) => [a.action, a.actor_id])).toEqual([["pause", owner2.id]]);
  });

  it("with accountIds pauses only the listed ones still at risk: one at risk since is left, one recovered is skipped", async () => {
    const owner4 = await signUp("ha-pa-listed");
    const ws4 = await workspaceOf(owner4);
    await sql`insert into public.workspace_health_settings (workspace_id, auto_pause) values (${ws4}, 'off')`;
    // The page listed these two; then one recovered and another account fell at risk.
    const stillAtRisk = await declining(ws4);
    const recovered = await declining(ws4);
    await snapshots(sql, recovered, [{ minutesAgo: 0, reach: 1000, engagement: 100, followers: 1000 }]);
    await evaluate(sql, recovered);
    expect(await openAlerts(sql, recovered)).toHaveLength(0);
    const atRiskSince = await declining(ws4);
    const elsewhere = await declining(ws);

    expect(
      (await call(pauseAllRoute.POST, "POST", "/api/accounts/pause-all", owner4, { accountIds: ["nope"] })).status,
    ).toBe(400);
    const res = await call(pauseAllRoute.POST, "POST", "/api/accounts/pause-all", owner4, {
      workspaceId: ws4,
      accountIds: [stillAtRisk, recovered, elsewhere],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ paused: 1, accountIds: [stillAtRisk], skipped: 2 });
    expect(await accountRow(sql, stillAtRisk)).toMatchObject({ state: "paused", paused_reason: "health" });
    expect(await accountRow(sql, recovered)).toMatchObject({ state: "active" });
    expect(await accountRow(sql, atRiskSince)).toMatchObject({ state: "active" });
    // Another workspace's account listed here is never touched.
    expect(await accountRow(sql, elsewhere)).toMatchObject({ state: "active" });
    await sql`update public.social_accounts set state = 'paused', paused_reason = 'manual' where id = ${elsewhere}`;
  });
});

describe("POST /api/alerts/:id/acknowledge", () => {
  it("records who acknowledged first; a viewer 403, another workspace 404", async () => {
    const id = await declining(ws);
    const [alert] = await openAlerts(sql, id);
    expect((await ack(viewer, alert.id)).status).toBe(403);
    expect((await ack(stranger, alert.id)).status).toBe(404);
    expect((await ack(null, alert.id)).status).toBe(401);
    expect((await ack(editor, "abc")).status).toBe(404);
    expect((await ack(editor, "999999999999")).status).toBe(404);

    const res = await ack(editor, alert.id);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ id: Number(alert.id), acknowledgedBy: editor.id });
    // The second acknowledgement keeps the first.
    expect(await (await ack(owner, alert.id)).json()).toEqual(body);
    const [row] = await sql`select acknowledged_by from public.health_alerts where id = ${alert.id}`;
    expect(row.acknowledged_by).toBe(editor.id);
  });
});

describe("POST /api/accounts/:id/destinations/release", () => {
  it("releases a held destination and brings its post back; a viewer 403, another workspace 404", async () => {
    const id = await account(sql, ws);
    const item = await queueItem(sql, id, "r/dogs");
    await sql`insert into public.destination_holds (workspace_id, account_id, destination, rejections, reason)
              values (${ws}, ${id}, 'r/dogs', 3, 'r/dogs rejected 3 posts in 24 hours.')`;
    await sql`update public.queue_items set scheduled_for = now() + interval '1 day', run_at = 'infinity' where id = ${item}`;
    const release = (user: TestUser | null, body: unknown) =>
      call(releaseRoute.POST, "POST", `/api/accounts/${id}/destinations/release`, user, body, { id });

    expect((await release(viewer, { destination: "r/dogs" })).status).toBe(403);
    expect((await release(stranger, { destination: "r/dogs" })).status).toBe(404);
    expect((await release(editor, {})).status).toBe(400);
    const res = await release(editor, { destination: "r/dogs" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ released: true, items: 1 });
    const [q] = await sql`select run_at from public.queue_items where id = ${item}`;
    expect(q.run_at.getTime()).toBeLessThan(Date.now() + 2 * 24 * 3600_000);
    expect(await (await release(editor, { destination: "r/dogs" })).json()).toEqual({ released: false, items: 0 });
    expect((await healthAudit(id)).map((a) => [a.action, a.actor_id, a.new_values.destination])).toEqual([
      ["destination_release", editor.id, "r/dogs"],
    ]);
  });
});

describe("PUT/DELETE /api/accounts/health/rules/:ruleId", () => {
  it("tunes a threshold within its bounds (applied at once), refuses outside them (409) or bad input (400), and resets", async () => {
    const owner3 = await signUp("ha-rules");
    const ws3 = await workspaceOf(owner3);
    await sql`insert into public.workspace_health_settings (workspace_id, auto_pause) values (${ws3}, 'off')`;
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${ws3}, ${editor.id}, 'editor')`;
    // Reach down 35 %: under the default 50 %, no alert.
    const id = await declining(ws3, 650);
    expect(await openAlerts(sql, id)).toHaveLength(0);

    expect((await tune(editor, "reach_decline", { workspaceId: ws3, threshold: 30 })).status).toBe(403);
    expect((await tune(stranger, "reach_decline", { workspaceId: ws3, threshold: 30 })).status).toBe(404);
    expect((await tune(null, "reach_decline", { threshold: 30 })).status).toBe(401);
    expect((await tune(owner3, "no_such_rule", { threshold: 30 })).status).toBe(404);
    expect((await tune(owner3, "reach_decline", {})).status).toBe(400);
    expect((await tune(owner3, "reach_decline", { threshold: "30" })).status).toBe(400);
    const out = await tune(owner3, "reach_decline", { threshold: 95 });
    expect(out.status).toBe(409);
    expect((await out.json()).error.code).toBe("threshold_out_of_bounds");
    const required = await tune(owner3, "restricted", { enabled: false });
    expect(required.status).toBe(409);
    expect((await required.json()).error.code).toBe("rule_required");

    const res = await tune(owner3, "reach_decline", { threshold: 30 });
    expect(res.status).toBe(200);
    const tuned30 = await res.json();
    expect(tuned30.rule).toMatchObject({ id: "reach_decline", threshold: 30, clearThreshold: 24, defaultThreshold: 50, enabled: true, tuned: true });
    // The reply says what applying it did (auto-pause is off here: an alert, nothing paused).
    expect(tuned30.evaluation).toEqual({ accountsPaused: 0, alertsOpened: 1, alertsResolved: 0 });
    // Applied at once: the 35 % decline is now an alert.
    expect((await openAlerts(sql, id)).map((a) => a.rule_id)).toEqual(["reach_decline"]);
    // Switching it off keeps the threshold and resolves the alert.
    const off = await (await tune(owner3, "reach_decline", { enabled: false })).json();
    expect(off.rule).toMatchObject({ threshold: 30, enabled: false, tuned: true });
    expect(off.evaluation).toEqual({ accountsPaused: 0, alertsOpened: 0, alertsResolved: 1 });
    expect(await openAlerts(sql, id)).toHaveLength(0);

    expect((await reset(editor, "reach_decline", ws3)).status).toBe(403);
    expect((await reset(stranger, "reach_decline", ws3)).status).toBe(404);
    expect((await reset(owner3, "nope", ws3)).status).toBe(404);
    expect((await reset(owner3, "reach_decline", ws3)).status).toBe(204);
    const [tuned] = await sql`select count(*)::int as n from public.workspace_health_rules where workspace_id = ${ws3}`;
    expect(tuned.n).toBe(0);
    expect(await openAlerts(sql, id)).toHaveLength(0);
  });
});

describe("PUT /api/accounts/health/settings", () => {
  it("sets auto-pause and its threshold (admins and owners), applied at once; bad values 400", async () => {
    const id = await declining(ws);
    expect(await accountRow(sql, id)).toMatchObject({ state: "active", health_score: 70 });

    expect((await settings(editor, { workspaceId: ws, autoPause: "pause" })).status).toBe(403);
    expect((await settings(stranger, { workspaceId: ws, autoPause: "pause" })).status).toBe(404);
    expect((await settings(null, { autoPause: "pause" })).status).toBe(401);
    expect((await settings(admin, { workspaceId: ws, autoPause: "never" })).status).toBe(400);
    expect((await settings(admin, { workspaceId: ws, pauseBelowScore: 101 })).status).toBe(400);
    expect((await settings(admin, { workspaceId: ws })).status).toBe(400);

    const warn = await settings(admin, { workspaceId: ws, pauseBelowScore: 80 });
    expect(warn.status).toBe(200);
    expect(await warn.json()).toMatchObject({ settings: { autoPause: "off", pauseBelowScore: 80 }, evaluation: { accountsPaused: 0 } });
    expect(await accountRow(sql, id)).toMatchObject({ state: "active" });

    const on = await settings(admin, { workspaceId: ws, autoPause: "pause" });
    const onReply = await on.json();
    expect(onReply.settings).toEqual({ autoPause: "pause", pauseBelowScore: 80 });
    // The reply says accounts were paused by it (this one at least; the workspace is shared by this file's tests).
    expect(onReply.evaluation.accountsPaused).toBeGreaterThanOrEqual(1);
    // Score 70 is below 80: paused by the rule at once.
    expect(await accountRow(sql, id)).toMatchObject({ state: "paused", paused_reason: "health" });
    expect((await healthAudit(id)).map((a) => [a.action, a.actor_id, a.new_values.by])).toEqual([["health_pause", null, "rule"]]);
    await sql`update public.workspace_health_settings set auto_pause = 'off' where workspace_id = ${ws}`;
  });
});

describe("POST /api/accounts/health/check-all", () => {
  it("scans the workspace's accounts now and returns the summary; a viewer 403, another workspace 404", async () => {
    const owner4 = await signUp("ha-check");
    const ws4 = await workspaceOf(owner4);
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${ws4}, ${viewer.id}, 'viewer')`;
    const made = await sandboxAccount(process.env.PACER_SANDBOX_URL!, `hc_${randomUUID().slice(0, 8)}`);
    const [acct] = await sql`
      insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
      values (${ws4}, 'sandbox', ${made.handle}, ${made.handle}, ${made.sealed}) returning id`;
    // As if scanned a minute ago: not due for most of an hour.
    await sql`update private.account_health_state set due_at = now() + interval '54 minutes' where account_id = ${acct.id}`;

    const check = (user: TestUser | null, body: unknown) => call(checkAllRoute.POST, "POST", "/api/accounts/health/check-all", user, body);
    expect((await check(viewer, { workspaceId: ws4 })).status).toBe(403);
    expect((await check(stranger, { workspaceId: ws4 })).status).toBe(404);
    expect((await check(null, {})).status).toBe(401);
    expect(await sql`select 1 from public.account_health_snapshots where account_id = ${acct.id}`).toHaveLength(0);

    const res = await check(owner4, {});
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.requested).toBe(1);
    expect(body.scanned).toMatchObject({ claimed: 1, read: 1, readErrors: 0, recorded: 1, upkeep: null });
    const [snapshot] = await sql`select reach, read_error from public.account_health_snapshots where account_id = ${acct.id}`;
    expect(Number(snapshot.reach)).toBeGreaterThan(0);
    expect(snapshot.read_error).toBeNull();
    // It is due again in about an hour, not now.
    const [state] = await sql`select due_at > now() + interval '50 minutes' as later from private.account_health_state where account_id = ${acct.id}`;
    expect(state.later).toBe(true);
  }, 30_000);
});
