// Operator metrics on crafted data: every figure of docs/operations.md with its exact expected value,
// on a platform and in workspaces of this file's own (the database is shared with other test files;
// installation-wide figures are compared before and after). The crafted attempts finished 3 hours
// ago, so they stay out of the alerts' last hour; the alerts have their own data.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import type postgres from "postgres";
import * as healthRoute from "@/app/api/health/route";
import * as metricsRoute from "@/app/api/ops/metrics/route";
import * as schedulerRoute from "@/app/api/ops/scheduler/route";
import type { OpsMetrics, ScopeMetrics } from "@/lib/ops/metrics";
import { asUser, connect, makeUser, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";

let sql: Sql;
let operator: TestUser;
let someone: TestUser;
const platform = `ops_${randomUUID().slice(0, 8)}`;
const workspaces: string[] = [];
let ws: string; // the main crafted workspace
let ws2: string; // a second workspace on the same platform
let before: ScopeMetrics;
const ids: Record<string, number> = {};
let oldestDueAt: Date;

type Tx = postgres.Sql | postgres.TransactionSql;
const at = (base: Date, seconds: number) => new Date(base.getTime() + seconds * 1000);

async function workspace(tx: Tx, name: string) {
  const [w] = await tx`insert into public.workspaces (name) values (${name}) returning id`;
  return w.id as string;
}
async function account(tx: Tx, workspaceId: string, onPlatform = platform) {
  const [a] = await tx`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                       values (${workspaceId}, ${onPlatform}, ${`ops_${randomUUID().slice(0, 8)}`}, 'Ops') returning id, workspace_id`;
  return { id: a.id as string, workspaceId };
}
/** One queue item (with its own post) exactly as described; returns its id. */
async function item(tx: Tx, acct: { id: string; workspaceId: string }, fields: Record<string, unknown>) {
  const [post] = await tx`insert into public.posts (workspace_id, text) values (${acct.workspaceId}, 'crafted') returning id`;
  const row = { workspace_id: acct.workspaceId, post_id: post.id, account_id: acct.id, ...fields };
  const [q] = await tx`insert into public.queue_items ${tx(row)} returning id`;
  return Number(q.id);
}
/** One attempt in the posting history. */
async function attempt(tx: Tx, acct: { id: string; workspaceId: string }, queueItemId: number, kind: "publish" | "verify",
                       outcome: string, finishedAt: Date, externalId: string | null = null, applied = true, onPlatform = platform) {
  await tx`insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, kind, attempt,
                                               started_at, finished_at, outcome, external_id, applied)
           values (${queueItemId}, ${acct.workspaceId}, ${acct.id}, ${onPlatform}, 'post', ${kind}, 1,
                   ${at(finishedAt, -1)}, ${finishedAt}, ${outcome}, ${externalId}, ${applied})`;
}

async function metricsAsOperator(window = "24 hours", workspaceId: string | null = null): Promise<OpsMetrics> {
  return asUser(sql, operator.id, async (tx) => {
    const [row] = await tx`select public.ops_metrics(${window}::interval, ${workspaceId}) as m`;
    return row.m as OpsMetrics;
  });
}
const getMetrics = (user: TestUser, query = "") =>
  metricsRoute.GET(new Request(`http://127.0.0.1:3000/api/ops/metrics${query}`, { headers: { authorization: `Bearer ${user.accessToken}` } }), {});

beforeAll(async () => {
  sql = connect();
  operator = await signUp("ops-operator");
  someone = await signUp("ops-someone");
  await sql`insert into private.operators (user_id) values (${operator.id})`;
  await sql`insert into public.platforms (id, name, enabled) values (${platform}, 'Ops test', true)`;
  before = (await metricsAsOperator()).overall as ScopeMetrics;

  const [{ now }] = await sql<{ now: Date }[]>`select now()`;
  const t = at(now, -3 * 3600); // every crafted item was scheduled then
  ws = await workspace(sql, "Ops metrics");
  ws2 = await workspace(sql, "Ops metrics two");
  workspaces.push(ws, ws2);
  const a1 = await account(sql, ws);
  const a2 = await account(sql, ws);
  const b1 = await account(sql, ws2);

  // Finished in the window: posted after 10, 30, 70, 100 (ws) and 200 s (ws2); two failed.
  ids.plain = await item(sql, a1, { status: "posted", scheduled_for: t, run_at: t, posted_at: at(t, 10), external_id: "x1" });
  await attempt(sql, a1, ids.plain, "publish", "posted", at(t, 10), "x1");
  ids.verified = await item(sql, a1, { status: "posted", scheduled_for: t, run_at: t, posted_at: at(t, 30), verify_attempts: 1 });
  await attempt(sql, a1, ids.verified, "publish", "unknown", at(t, 5));
  await attempt(sql, a1, ids.verified, "verify", "found", at(t, 30), "x2");
  // A stale worker's publish landed (recorded, not applied) and the retry posted again: a duplicate.
  ids.duplicate = await item(sql, a1, { status: "posted", scheduled_for: t, run_at: t, posted_at: at(t, 70), attempts: 2 });
  await attempt(sql, a1, ids.duplicate, "publish", "posted", at(t, 20), "x3a", false);
  await attempt(sql, a1, ids.duplicate, "publish", "posted", at(t, 70), "x3b");
  // The platform honoured the idempotency key: two answers, one post. Not a duplicate.
  ids.idempotent = await item(sql, a1, { status: "posted", scheduled_for: t, run_at: t, posted_at: at(t, 100), attempts: 2 });
  await attempt(sql, a1, ids.idempotent, "publish", "posted", at(t, 90), "x4");
  await attempt(sql, a1, ids.idempotent, "publish", "posted", at(t, 100), "x4");
  ids.failed = await item(sql, a1, { status: "failed", scheduled_for: t, run_at: t, updated_at: at(t, 50), verify_attempts: 2 });
  await attempt(sql, a1, ids.failed, "publish", "unknown", at(t, 5));
  await attempt(sql, a1, ids.failed, "verify", "unavailable", at(t, 40));
  await attempt(sql, a1, ids.failed, "verify", "unavailable", at(t, 45));
  ids.other = await item(sql, b1, { status: "posted", scheduled_for: t, run_at: t, posted_at: at(t, 200) });
  await attempt(sql, b1, ids.other, "publish", "posted", at(t, 200), "x16");
  ids.otherFailed = await item(sql, b1, { status: "failed", scheduled_for: t, run_at: t, updated_at: at(t, 60) });
  // Outside a 24 h window (inside 7 days); cancelled never counts.
  ids.oldFailed = await item(sql, a1, { status: "failed", scheduled_for: at(now, -31 * 3600), updated_at: at(now, -30 * 3600) });
  ids.oldPosted = await item(sql, a1, { status: "posted", scheduled_for: at(now, -26 * 3600 - 5), posted_at: at(now, -26 * 3600) });
  ids.cancelled = await item(sql, a1, { status: "cancelled", scheduled_for: t, run_at: t, updated_at: at(t, 10) });
  // Published, then its post was deleted: the history stays, the item is gone.
  ids.gone = await item(sql, a1, { status: "posted", scheduled_for: t, run_at: t, posted_at: at(t, 5) });
  await attempt(sql, a1, ids.gone, "publish", "posted", at(t, 5), "x18");
  await sql`delete from public.posts where id = (select post_id from public.queue_items where id = ${ids.gone})`;

  // Open now: due and waiting, paused, leases past expiry, overdue lookups and reviews.
  ids.due = await item(sql, a2, { status: "pending", scheduled_for: at(now, -600), run_at: at(now, -600) });
  ids.paused = await item(sql, a2, { status: "pending", scheduled_for: at(now, -900) });
  await sql`update public.queue_items set run_at = 'infinity' where id = ${ids.paused}`;
  ids.leaseLost = await item(sql, a2, { status: "processing", lease_id: randomUUID(), leased_at: at(now, -420), lease_expires_at: at(now, -300) });
  ids.leaseLate = await item(sql, a2, { status: "processing", lease_id: randomUUID(), leased_at: at(now, -150), lease_expires_at: at(now, -30) });
  ids.verifyingOld = await item(sql, a2, { status: "verifying", scheduled_for: at(now, -3 * 3600), run_at: at(now, -60), call_deadline_at: at(now, -2 * 3600) });
  ids.reviewOld = await item(sql, a2, { status: "needs_review", updated_at: at(now, -25 * 3600) });
  ids.reviewNew = await item(sql, a2, { status: "needs_review", updated_at: at(now, -3600) });
  oldestDueAt = at(now, -600);
});

afterAll(async () => {
  // The workspaces take their accounts, items and history with them.
  await sql`delete from public.workspaces where id = any (${workspaces})`;
  await sql`delete from public.platforms where id = ${platform}`;
  await sql.end();
});

describe("the metrics on crafted data", () => {
  it("per platform: success, time to post, verification, lookups, duplicates, stuck, orphaned, lag and counts", async () => {
    const res = await getMetrics(operator);
    expect(res.status).toBe(200);
    const m = (await res.json()) as OpsMetrics;
    expect(m.window.seconds).toBe(86400);
    const p = m.platforms.find((x) => x.platform === platform)!;
    expect(p).toMatchObject({
      finished: 7, posted: 5, failed: 2, success_rate: 0.7143,
      // 10, 30, 70, 100, 200 s: the median, and 100 + 0.8 × (200 − 100) by linear interpolation.
      time_to_post_seconds: { p50: 70, p95: 180 },
      verified: 2, verification_rate: 0.2857,
      lookups: 3, lookups_unanswered: 2,
      published: 6, duplicates: 1, duplicate_rate: 0.1667,
      stuck: { past_lease: 2, verifying_overdue: 1, needs_review_overdue: 1 },
      orphaned: { leases_not_recovered: 1, history_without_item: 1 },
      counts: { pending: 2, rate_limited: 0, processing: 2, verifying: 1, posted: 6, failed: 3, cancelled: 1, needs_review: 2 },
    });
    expect(new Date(p.oldest_due_at!).getTime()).toBe(oldestDueAt.getTime());
    expect(p.queue_lag_seconds).toBeCloseTo((Date.parse(m.window.to) - oldestDueAt.getTime()) / 1000, 2);
  });

  it("per workspace, and narrowed to one workspace", async () => {
    const m = await metricsAsOperator("24 hours", ws);
    expect(m.workspaces).toHaveLength(1);
    expect(m.workspaces[0]).toMatchObject({ workspace_id: ws, name: "Ops metrics", finished: 5, posted: 4, failed: 1, success_rate: 0.8,
      time_to_post_seconds: { p50: 50, p95: 95.5 }, duplicates: 1, published: 5 });
    // Narrowed, the overall and the platform are that workspace's.
    expect(m.overall).toMatchObject({ finished: 5, posted: 4, failed: 1, success_rate: 0.8 });
    expect(m.platforms).toEqual([expect.objectContaining({ platform, finished: 5 })]);

    const other = await metricsAsOperator("24 hours", ws2);
    expect(other.overall).toMatchObject({ finished: 2, posted: 1, failed: 1, success_rate: 0.5, duplicates: 0, duplicate_rate: 0,
      time_to_post_seconds: { p50: 200, p95: 200 }, queue_lag_seconds: 0, oldest_due_at: null });
  });

  it("counts only what finished inside the window", async () => {
    const week = await metricsAsOperator("7 days", ws);
    expect(week.overall).toMatchObject({ finished: 7, posted: 5, failed: 2 });
    const hour = await metricsAsOperator("1 hour", ws);
    expect(hour.overall).toMatchObject({ finished: 0, posted: 0, failed: 0, success_rate: null, published: 0, duplicate_rate: null,
      time_to_post_seconds: { p50: null, p95: null } });
    // What is open now does not depend on the window.
    expect(hour.overall).toMatchObject({ stuck: { past_lease: 2, verifying_overdue: 1, needs_review_overdue: 1 } });
  });

  it("installation-wide figures grow by exactly the crafted ones", async () => {
    const after = (await metricsAsOperator()).overall as ScopeMetrics;
    const delta = (f: (s: ScopeMetrics) => number) => f(after) - f(before);
    expect({
      posted: delta((s) => s.posted), failed: delta((s) => s.failed), verified: delta((s) => s.verified),
      lookups: delta((s) => s.lookups), unanswered: delta((s) => s.lookups_unanswered),
      published: delta((s) => s.published), duplicates: delta((s) => s.duplicates),
      pastLease: delta((s) => s.stuck.past_lease), notRecovered: delta((s) => s.orphaned.leases_not_recovered),
      withoutItem: delta((s) => s.orphaned.history_without_item), needsReview: delta((s) => s.counts.needs_review),
    }).toEqual({ posted: 5, failed: 2, verified: 2, lookups: 3, unanswered: 2, published: 6, duplicates: 1,
                 pastLease: 2, notRecovered: 1, withoutItem: 1, needsReview: 2 });
  });

  it("refuses a window outside 5 minutes to 7 days", async () => {
    for (const query of ["?window=4m", "?window=8d", "?window=24", "?workspaceId=nope"]) {
      const res = await getMetrics(operator, query);
      expect(res.status, query).toBe(400);
      expect((await res.json()).error.code).toBe("validation_failed");
    }
    expect((await (await getMetrics(operator, "?window=90m")).json()).window.seconds).toBe(5400);
    const error = await asUser(sql, operator.id, (tx) => tx`select public.ops_metrics('8 days'::interval)`.catch((e) => e));
    expect(error.code).toBe("22023");
  });
});

describe("who may read the metrics", () => {
  it("answers 403 operators_only to anyone else, through the API and straight through the database", async () => {
    const res = await getMetrics(someone);
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("operators_only");

    const user = await makeUser(sql, "not-operator");
    const refused = await asUser(sql, user.id, (tx) => tx`select public.ops_metrics()`.catch((e) => e));
    expect(refused.code).toBe("42501");
    expect(refused.message).toMatch(/Only operators/);
    const warnings = await asUser(sql, user.id, (tx) => tx`select * from private.ops_warnings()`.catch((e) => e));
    expect(warnings.code).toBe("42501");
    for (const query of ["select public.ops_metrics()", "select * from private.ops_warnings()"]) {
      const anon = await sql
        .begin(async (tx) => {
          await tx`set local role anon`;
          await tx.unsafe(query);
        })
        .catch((e) => e);
      expect(anon.code, query).toBe("42501");
    }
  });
});

describe("the alerts (last hour)", () => {
  class Rollback extends Error {}
  /** `posted` and `failed` items finished minutes ago on a platform of their own; what ops_warnings says of it. */
  async function successWarning(posted: number, failed: number) {
    let message: string | undefined;
    const p = `ops_${randomUUID().slice(0, 8)}`;
    await sql.begin(async (tx) => {
      await tx`insert into public.platforms (id, name, enabled) values (${p}, 'Ops alert', true)`;
      const a = await account(tx, await workspace(tx, "Ops alerts"), p);
      const [{ now }] = await tx<{ now: Date }[]>`select now()`;
      for (let i = 0; i < posted + failed; i++) {
        await item(tx, a, i < posted
          ? { status: "posted", scheduled_for: at(now, -600), posted_at: at(now, -300) }
          : { status: "failed", scheduled_for: at(now, -600), updated_at: at(now, -300) });
      }
      const [w] = await tx`select message from private.ops_warnings_now() where code = 'success_rate_low'`;
      message = w?.message;
      throw new Rollback();
    }).catch((e) => { if (!(e instanceof Rollback)) throw e; });
    return { platform: p, message: message ?? "" };
  }

  it("success_rate_low names a platform below 95 % from 20 finished items, not at 95 % nor under 20", async () => {
    const low = await successWarning(18, 2);
    expect(low.message).toContain(`${low.platform} 90.0% (18 of 20 posted)`);
    const at95 = await successWarning(19, 1);
    expect(at95.message).not.toContain(at95.platform);
    const few = await successWarning(1, 18);
    expect(few.message).not.toContain(few.platform);
  });

  it("duplicate_posts names an item with two posts on record in the last hour, not one the platform deduplicated", async () => {
    await sql.begin(async (tx) => {
      const a = await account(tx, await workspace(tx, "Ops alerts"));
      const [{ now }] = await tx<{ now: Date }[]>`select now()`;
      const dup = await item(tx, a, { status: "posted", posted_at: at(now, -60) });
      await attempt(tx, a, dup, "publish", "posted", at(now, -120), "d1", false);
      await attempt(tx, a, dup, "publish", "posted", at(now, -60), "d2");
      const same = await item(tx, a, { status: "posted", posted_at: at(now, -60) });
      await attempt(tx, a, same, "publish", "posted", at(now, -120), "s1");
      await attempt(tx, a, same, "verify", "found", at(now, -60), "s1");
      const [w] = await tx`select message, since from private.ops_warnings_now() where code = 'duplicate_posts'`;
      expect(w.message).toMatch(new RegExp(`queue items [0-9, ]*\\b${dup}\\b`));
      expect(w.message).not.toMatch(new RegExp(`\\b${same}\\b`));
      throw new Rollback();
    }).catch((e) => { if (!(e instanceof Rollback)) throw e; });
  });

  it("GET /api/health answers 503 with their codes only; operators read the messages", async () => {
    const alerts = await workspace(sql, "Ops alerts committed");
    workspaces.push(alerts);
    const p = `ops_${randomUUID().slice(0, 8)}`;
    await sql`insert into public.platforms (id, name, enabled) values (${p}, 'Ops alert', true)`;
    const a = await account(sql, alerts, p);
    const [{ now }] = await sql<{ now: Date }[]>`select now()`;
    for (let i = 0; i < 20; i++) {
      await item(sql, a, i < 17 ? { status: "posted", posted_at: at(now, -60) } : { status: "failed", updated_at: at(now, -60) });
    }
    const dup = await item(sql, a, { status: "posted", posted_at: at(now, -30) });
    await attempt(sql, a, dup, "publish", "posted", at(now, -40), "h1", true, p);
    await attempt(sql, a, dup, "publish", "posted", at(now, -30), "h2", true, p);
    // The alerts are judged at most once a minute (private.ops_alerts_cache): judge these now.
    await sql`delete from private.ops_alerts_cache`;
    try {
      const res = await healthRoute.GET();
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body.status).toBe("warning");
      expect(body.warnings).toContainEqual({ code: "success_rate_low", function_name: "process-queue", since: expect.any(String) });
      expect(body.warnings).toContainEqual({ code: "duplicate_posts", function_name: "process-queue", since: expect.any(String) });
      expect(JSON.stringify(body)).not.toContain(p);

      const ops = await (await schedulerRoute.GET(new Request("http://127.0.0.1:3000/api/ops/scheduler",
        { headers: { authorization: `Bearer ${operator.accessToken}` } }), {})).json();
      expect(ops.warnings).toContainEqual(expect.objectContaining({ code: "success_rate_low", message: expect.stringContaining(`${p} 85.7% (18 of 21 posted)`) }));
      expect(ops.warnings).toContainEqual(expect.objectContaining({ code: "duplicate_posts", message: expect.stringContaining(String(dup)) }));
      const metrics = await (await getMetrics(operator, "?window=1h")).json();
      expect(metrics.warnings.map((w: { code: string }) => w.code)).toEqual(expect.arrayContaining(["success_rate_low", "duplicate_posts"]));
    } finally {
      await sql`delete from public.workspaces where id = ${alerts}`;
      await sql`delete from public.platforms where id = ${p}`;
      await sql`delete from private.ops_alerts_cache`; // not judged on items that no longer exist
    }
  });

  it("are judged at most once a minute, whoever asks; the judgement is redone once it is a minute old", async () => {
    await sql`delete from private.ops_alerts_cache`;
    await sql`select * from private.ops_warnings()`; // judged now, on no duplicate of this test's
    await sql.begin(async (tx) => {
      const a = await account(tx, await workspace(tx, "Ops alerts cached"));
      const [{ now }] = await tx<{ now: Date }[]>`select now()`;
      const dup = await item(tx, a, { status: "posted", posted_at: at(now, -60) });
      await attempt(tx, a, dup, "publish", "posted", at(now, -120), "c1");
      await attempt(tx, a, dup, "publish", "posted", at(now, -60), "c2");
      const names = async (fn: "ops_warnings" | "ops_warnings_now") =>
        (await tx.unsafe(`select message from private.${fn}() where code = 'duplicate_posts'`)).map((w) => w.message).join();
      // Within the minute the history is not read again: the new duplicate is not seen yet ...
      expect(await names("ops_warnings_now")).toContain(String(dup));
      expect(await names("ops_warnings")).not.toContain(String(dup));
      // ... and once the judgement is a minute old, the next call judges again.
      await tx`update private.ops_alerts_cache set judged_at = judged_at - interval '60 seconds'`;
      expect(await names("ops_warnings")).toContain(String(dup));
      throw new Rollback();
    }).catch((e) => { if (!(e instanceof Rollback)) throw e; });
  });
});
