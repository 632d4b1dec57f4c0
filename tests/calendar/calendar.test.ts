// The calendar's API, as its users and as an attacker see it: reading a range (and nothing of another
// workspace), moving waiting items (and never one the engine holds or has sent, one in the past, or
// one of another workspace), editing a post before it is sent, and the same rules held by the
// database when `authenticated` goes straight at the tables. Items are scheduled days ahead, so a
// processing run elsewhere in the suite leaves them waiting.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import * as calendarRoute from "@/app/api/queue/calendar/route";
import * as rescheduleRoute from "@/app/api/queue/reschedule/route";
import * as postRoute from "@/app/api/queue/posts/[postId]/route";
import * as cancelRoute from "@/app/api/queue/cancel/route";
import { addToQueue } from "@/lib/queue";
import { claimDuePosts } from "@/lib/engine/store";
import { editPost, listCalendarItems, rescheduleQueueItems } from "@/lib/calendar";
import { MAX_CALENDAR_ITEMS } from "@/lib/calendar/input";
import type { PacerError } from "@/lib/api/errors";
import type { UserClaims } from "@/lib/db";
import { asUser, connect, errorOf, makeUser, type Sql } from "../support/db";
import { subscribe } from "../support/billing";
import { signUp, type TestUser } from "../support/users";

type Handler = (req: Request, ctx: any) => Promise<Response>;

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const inDays = (n: number, hours = 0) => new Date(Date.now() + n * DAY + hours * HOUR).toISOString();

let sql: Sql;

interface Tenant {
  userId: string;
  claims: UserClaims;
  workspaceId: string;
  accounts: string[];
}

beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());

const claimsOf = (id: string): UserClaims => ({ sub: id, role: "authenticated" });

async function addAccount(workspaceId: string, platform = "sandbox") {
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                        values (${workspaceId}, ${platform}, ${`cal_${randomUUID().slice(0, 8)}`}, 'Calendar') returning id`;
  return a.id as string;
}

async function tenant(label: string, accounts = 2): Promise<Tenant> {
  const u = await makeUser(sql, label);
  const ids: string[] = [];
  for (let i = 0; i < accounts; i++) ids.push(await addAccount(u.workspaceId));
  return { userId: u.id, claims: claimsOf(u.id), workspaceId: u.workspaceId, accounts: ids };
}

async function member(workspaceId: string, role: "viewer" | "editor") {
  const u = await makeUser(sql, role);
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${workspaceId}, ${u.id}, ${role})`;
  return claimsOf(u.id);
}

/** One post to the given accounts, scheduled at `at`; returns the post id and its items' ids in account order. */
async function queue(t: Tenant, at: string, accountIds = [t.accounts[0]], text = "Calendar post") {
  const { post, items } = await addToQueue(t.claims, { text, accountIds, scheduledFor: at });
  return { postId: post.id, itemIds: items.map((i) => i.id) };
}

const itemRow = async (id: number) => {
  const [r] = await sql`select status, scheduled_for, run_at, lease_id from public.queue_items where id = ${id}`;
  return r as { status: string; scheduled_for: Date; run_at: Date; lease_id: string | null };
};

/** What the engine's claim does to an item, done straight as the superuser. */
const lease = (id: number) =>
  sql`update public.queue_items set status = 'processing', lease_id = gen_random_uuid(), lease_expires_at = now() + interval '2 minutes',
                                    leased_at = now(), attempts = attempts + 1
      where id = ${id}`;

const markPosted = (id: number, at: string) =>
  sql`update public.queue_items set status = 'posted', posted_at = ${at}, attempts = 1, external_id = 'x' where id = ${id}`;

async function refusal(promise: Promise<unknown>): Promise<PacerError> {
  const error = await promise.then(() => null, (e) => e);
  expect(error, "expected a refusal").not.toBeNull();
  return error as PacerError;
}

describe("reading a range", () => {
  let alice: Tenant;
  let bob: Tenant;
  let inRange: number;
  let posted: number;
  let later: number;
  let otherAccount: number;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([tenant("cal-alice"), tenant("cal-bob")]);
    inRange = (await queue(alice, inDays(3))).itemIds[0];
    later = (await queue(alice, inDays(40))).itemIds[0];
    otherAccount = (await queue(alice, inDays(3, 2), [alice.accounts[1]])).itemIds[0];
    // Scheduled long ago, posted inside the range: placed when it was posted.
    posted = (await queue(alice, inDays(1))).itemIds[0];
    await markPosted(posted, inDays(4));
    await queue(bob, inDays(3));
  });

  it("lists the workspace's items placed in the range, earliest first, posted ones at their posting time", async () => {
    const range = await listCalendarItems(alice.claims, { from: inDays(2), to: inDays(9) });
    expect(range.items.map((i) => i.id)).toEqual([inRange, otherAccount, posted]);
    const p = range.items.find((i) => i.id === posted)!;
    expect(p.at).toBe(p.postedAt);
    expect(p.reschedulable).toBe(false);
    expect(p.editable).toBe(false);
    const waiting = range.items.find((i) => i.id === inRange)!;
    expect(waiting).toMatchObject({ text: "Calendar post", status: "pending", reschedulable: true, editable: true });
    expect(range.truncated).toBe(false);
    expect(range.notice).toBeNull();
  });

  it("filters by account and by platform", async () => {
    const one = await listCalendarItems(alice.claims, { from: inDays(2), to: inDays(9), accountId: alice.accounts[1] });
    expect(one.items.map((i) => i.id)).toEqual([otherAccount]);
    const none = await listCalendarItems(alice.claims, { from: inDays(2), to: inDays(9), platform: "mastodon" });
    expect(none.items).toEqual([]);
    const sandbox = await listCalendarItems(alice.claims, { from: inDays(2), to: inDays(60), platform: "sandbox" });
    expect(sandbox.items.map((i) => i.id)).toContain(later);
  });

  it("shows another workspace nothing of it, even when asked for it by id", async () => {
    const own = await listCalendarItems(bob.claims, { from: inDays(2), to: inDays(9) });
    expect(own.items).toHaveLength(1);
    expect(own.items.map((i) => i.id)).not.toContain(inRange);
    const asked = await refusal(listCalendarItems(bob.claims, { from: inDays(2), to: inDays(9), workspaceId: alice.workspaceId }));
    expect(asked.status).toBe(404);
    // Straight at the database: the function refuses a workspace the caller is not in.
    await asUser(sql, bob.userId, async (tx) => {
      const e = await errorOf(tx, (sp) => sp`select private.calendar_item_ids(${alice.workspaceId}, now(), now() + interval '30 days', null, null, 10)`);
      expect(e?.message).toMatch(/not a member/);
    });
  });

  it("refuses a range longer than 62 days, or one that ends before it starts", async () => {
    const long = await refusal(listCalendarItems(alice.claims, { from: inDays(0), to: inDays(63) }));
    expect(long.status).toBe(400);
    expect(long.issues?.[0]).toMatchObject({ path: "to", message: expect.stringMatching(/at most 62 days/) });
    const backwards = await refusal(listCalendarItems(alice.claims, { from: inDays(3), to: inDays(2) }));
    expect(backwards.issues?.[0].path).toBe("to");
  });

  it(`lists at most ${MAX_CALENDAR_ITEMS} items and says the rest were left out`, async () => {
    const t = await tenant("cal-many", 1);
    // Many posts in one statement, as the superuser (the Free plan's one-at-a-time rule is the API's).
    await sql`
      with p as (
        insert into public.posts (workspace_id, text)
        select ${t.workspaceId}, 'Many ' || g from generate_series(1, ${MAX_CALENDAR_ITEMS + 5}) g returning id)
      insert into public.queue_items (workspace_id, post_id, account_id, scheduled_for, run_at)
      select ${t.workspaceId}, p.id, ${t.accounts[0]}, now() + interval '5 days', now() + interval '5 days' from p`;
    const range = await listCalendarItems(t.claims, { from: inDays(4), to: inDays(6) });
    expect(range.items).toHaveLength(MAX_CALENDAR_ITEMS);
    expect(range.truncated).toBe(true);
    expect(range.notice).toMatch(/filter by account or platform/);
  });
});

describe("rescheduling", () => {
  let alice: Tenant;
  let bob: Tenant;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([tenant("rs-alice"), tenant("rs-bob")]);
  });

  it("moves a waiting item's scheduled time and run time together, and audits it", async () => {
    const { itemIds } = await queue(alice, inDays(2));
    const to = inDays(5, 3);
    const result = await rescheduleQueueItems(alice.claims, { itemIds, scheduledFor: to });
    expect(result.items).toEqual([{ id: itemIds[0], status: "pending", scheduledFor: to, nextAttemptAt: to }]);
    const row = await itemRow(itemIds[0]);
    expect(row.scheduled_for.toISOString()).toBe(to);
    expect(row.run_at.toISOString()).toBe(to);
    const [audit] = await sql`select actor_id, action, old_values, new_values from public.audit_log
                              where entity = 'queue_items' and entity_id = ${String(itemIds[0])} and action = 'reschedule'`;
    expect(audit.actor_id).toBe(alice.userId);
    expect(new Date(audit.new_values.scheduled_for).toISOString()).toBe(to);
    expect(audit.old_values.status).toBe("pending");
  });

  it("keeps a paused account's items held ('infinity') and a rate limit's wait, whatever the new time", async () => {
    const held = (await queue(alice, inDays(2))).itemIds[0];
    await sql`update public.queue_items set run_at = 'infinity' where id = ${held}`;
    const limited = (await queue(alice, inDays(2), [alice.accounts[1]])).itemIds[0];
    const wait = inDays(4);
    await sql`update public.queue_items set status = 'rate_limited', run_at = ${wait} where id = ${limited}`;

    const result = await rescheduleQueueItems(alice.claims, { itemIds: [held, limited], scheduledFor: inDays(3) });
    expect(result.items.find((i) => i.id === held)?.nextAttemptAt).toBeNull();
    const [h] = await sql`select run_at = 'infinity' as held, scheduled_for from public.queue_items where id = ${held}`;
    expect(h.held).toBe(true);
    expect(h.scheduled_for.toISOString()).toBe(result.items.find((i) => i.id === held)?.scheduledFor);
    expect((await itemRow(limited)).run_at.toISOString()).toBe(wait);
    expect((await itemRow(limited)).status).toBe("rate_limited");

    // Moved past the wait, the limit no longer holds it: pending at the new time.
    const after = inDays(6);
    await rescheduleQueueItems(alice.claims, { itemIds: [limited], scheduledFor: after });
    expect(await itemRow(limited)).toMatchObject({ status: "pending", run_at: new Date(after) });
  });

  it("refuses an item the engine has claimed, or one already posted, and changes nothing", async () => {
    const { itemIds: [waiting] } = await queue(alice, inDays(2));
    const { itemIds: [leased] } = await queue(alice, inDays(2), [alice.accounts[1]]);
    await lease(leased);
    const { itemIds: [sent] } = await queue(alice, inDays(2));
    await markPosted(sent, new Date().toISOString());
    const before = await itemRow(waiting);

    const e = await refusal(rescheduleQueueItems(alice.claims, { itemIds: [waiting, leased, sent], scheduledFor: inDays(4) }));
    expect(e.status).toBe(409);
    expect(e.code).toBe("queue_item_conflict");
    expect(e.issues).toEqual([
      { path: "itemIds.1", message: `Queue item ${leased} is processing.` },
      { path: "itemIds.2", message: `Queue item ${sent} is posted.` },
    ]);
    expect(await itemRow(waiting)).toEqual(before);
  });

  it("refuses a time in the past with a message saying so", async () => {
    const { itemIds } = await queue(alice, inDays(2));
    const e = await refusal(rescheduleQueueItems(alice.claims, { itemIds, scheduledFor: inDays(-1) }));
    // The past-schedule rule everywhere (lib/time/schedule.ts): 422, the field named, the ways out said.
    expect(e.status).toBe(422);
    expect(e.code).toBe("scheduled_in_past");
    expect(e.message).toMatch(/in the past/);
    expect(e.issues?.[0].path).toBe("scheduledFor");
    // The database says the same to a caller that skips the API's check.
    await asUser(sql, alice.userId, async (tx) => {
      const db = await errorOf(tx, (sp) => sp`select * from private.reschedule_queue_items(${alice.workspaceId}, ${itemIds}::bigint[], now() - interval '1 hour')`);
      expect(db?.message).toMatch(/in the past; nothing was rescheduled/);
    });
  });

  it("refuses a viewer, and answers another workspace's ids as not found", async () => {
    const { itemIds } = await queue(alice, inDays(2));
    const viewer = await member(alice.workspaceId, "viewer");
    const v = await refusal(rescheduleQueueItems(viewer, { itemIds, scheduledFor: inDays(4), workspaceId: alice.workspaceId }));
    expect(v.status).toBe(403);
    expect(v.message).toMatch(/editors and up/);
    const b = await refusal(rescheduleQueueItems(bob.claims, { itemIds, scheduledFor: inDays(4) }));
    expect(b.status).toBe(404);
    expect((await itemRow(itemIds[0])).scheduled_for.toISOString()).not.toBe(inDays(4));
    const editor = await member(alice.workspaceId, "editor");
    const moved = await rescheduleQueueItems(editor, { itemIds, scheduledFor: inDays(4, 1), workspaceId: alice.workspaceId });
    expect(moved.items).toHaveLength(1);
  });

  it("refuses an account the plan no longer covers", async () => {
    const t = await tenant("rs-plan", 1);
    const { itemIds } = await queue(t, inDays(2));
    await sql`update public.social_accounts set state = 'paused', paused_reason = 'plan_limit', state_before_pause = 'active'
              where id = ${t.accounts[0]}`;
    const e = await refusal(rescheduleQueueItems(t.claims, { itemIds, scheduledFor: inDays(3) }));
    expect(e.status).toBe(409);
    expect(e.code).toBe("plan_limit");
    expect(e.message).toMatch(/plan does not cover/);
  });

  it("is never changed under the engine: a claim at that moment skips the item being moved, and a claimed item is refused", async () => {
    const t = await tenant("rs-race", 2);
    const { itemIds: [moving] } = await queue(t, new Date().toISOString(), [t.accounts[0]]);
    const { itemIds: [claimedFirst] } = await queue(t, new Date().toISOString(), [t.accounts[1]]);
    const tomorrow = inDays(1);
    let claimedMeanwhile: number[] = [];
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify(t.claims)}, true), set_config('role', 'authenticated', true)`;
      await tx`select * from private.reschedule_queue_items(${t.workspaceId}, array[${moving}]::bigint[], ${tomorrow}::timestamptz)`;
      // The move holds its row lock until commit; the claim, on another connection, passes over it.
      claimedMeanwhile = (await claimDuePosts(sql, { worker: "calendar-race", limit: 10, leaseSeconds: 60, workspaceId: t.workspaceId })).map((c) => c.id);
    });
    expect(claimedMeanwhile).toEqual([claimedFirst]);
    expect(await itemRow(moving)).toMatchObject({ status: "pending", lease_id: null, scheduled_for: new Date(tomorrow) });

    const e = await refusal(rescheduleQueueItems(t.claims, { itemIds: [claimedFirst], scheduledFor: tomorrow }));
    expect(e.status).toBe(409);
    expect((await itemRow(claimedFirst)).status).toBe("processing");
    await sql`update public.queue_items set status = 'cancelled', lease_id = null, lease_expires_at = null where id = ${claimedFirst}`;
  });

  it("never lets `authenticated` move a queue item straight in the table, nor a claimed one through the function", async () => {
    const { itemIds: [id] } = await queue(alice, inDays(2));
    await lease(id);
    await asUser(sql, alice.userId, async (tx) => {
      const direct = await errorOf(tx, (sp) => sp`update public.queue_items set scheduled_for = now() + interval '9 days', run_at = now() where id = ${id}`);
      expect(direct?.message).toMatch(/permission denied/);
      const viaFunction = await errorOf(tx, (sp) => sp`select * from private.reschedule_queue_items(${alice.workspaceId}, array[${id}]::bigint[], now() + interval '9 days')`);
      expect(viaFunction?.message).toMatch(/Only posts still waiting/);
    });
    expect((await itemRow(id)).status).toBe("processing");
  });
});

describe("editing a post", () => {
  let alice: Tenant;
  let bob: Tenant;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([tenant("ed-alice"), tenant("ed-bob")]);
  });

  it("changes the text, media and first comment of a post not yet sent, and audits it", async () => {
    const { postId } = await queue(alice, inDays(2), alice.accounts);
    const { post } = await editPost(alice.claims, postId, {
      text: "New words",
      mediaUrls: ["https://cdn.example.com/a.jpg"],
      firstComment: "First!",
    });
    expect(post).toMatchObject({ id: postId, text: "New words", mediaUrls: ["https://cdn.example.com/a.jpg"], firstComment: "First!" });
    const [audit] = await sql`select actor_id, old_values, new_values from public.audit_log where entity = 'posts' and entity_id = ${postId}`;
    expect(audit.actor_id).toBe(alice.userId);
    expect(audit.old_values.text).toBe("Calendar post");
    expect(audit.new_values.text).toBe("New words");
  });

  it("refuses once any of its items has been claimed, and leaves the text as it was", async () => {
    const { postId, itemIds } = await queue(alice, inDays(2), alice.accounts);
    await lease(itemIds[1]);
    const e = await refusal(editPost(alice.claims, postId, { text: "Too late" }));
    expect(e.status).toBe(409);
    expect(e.code).toBe("post_already_sending");
    const [p] = await sql`select text from public.posts where id = ${postId}`;
    expect(p.text).toBe("Calendar post");
  });

  it("checks the fields as add does", async () => {
    const { postId } = await queue(alice, inDays(2));
    const e = await refusal(editPost(alice.claims, postId, { mediaUrls: ["http://plain.example.com/a.jpg"] }));
    expect(e.status).toBe(400);
    expect(e.issues?.[0].path).toBe("mediaUrls.0");
    const empty = await refusal(editPost(alice.claims, postId, {}));
    expect(empty.status).toBe(400);
  });

  it("refuses a viewer, and another workspace's post is not found", async () => {
    const { postId } = await queue(alice, inDays(2));
    const viewer = await member(alice.workspaceId, "viewer");
    expect((await refusal(editPost(viewer, postId, { text: "x", workspaceId: alice.workspaceId }))).status).toBe(403);
    expect((await refusal(editPost(bob.claims, postId, { text: "x" }))).status).toBe(404);
  });

  it("moves its items in or out of a destination hold when the destination changes", async () => {
    const at = inDays(2);
    const { post } = await addToQueue(alice.claims, { text: "To a group", accountIds: [alice.accounts[0]], scheduledFor: at, destination: "r/open" });
    const [item] = await sql`select id from public.queue_items where post_id = ${post.id}`;
    await sql`insert into public.destination_holds (workspace_id, account_id, destination, rejections, reason)
              values (${alice.workspaceId}, ${alice.accounts[0]}, 'r/held', 3, 'test')`;
    const held = async () => (await sql`select run_at = 'infinity' as held, run_at from public.queue_items where id = ${item.id}`)[0];

    await editPost(alice.claims, post.id, { destination: "r/held" });
    expect((await held()).held).toBe(true);
    await editPost(alice.claims, post.id, { destination: "r/open" });
    expect(await held()).toEqual({ held: false, run_at: new Date(at) });
  });

  it("holds the same rules for `authenticated` straight at the table", async () => {
    const { postId, itemIds } = await queue(alice, inDays(2));
    const viewer = await member(alice.workspaceId, "viewer");
    await asUser(sql, viewer.sub, async (tx) => {
      expect(await tx`update public.posts set text = 'viewer' where id = ${postId} returning id`).toHaveLength(0);
    });
    await asUser(sql, bob.userId, async (tx) => {
      expect(await tx`update public.posts set text = 'bob' where id = ${postId} returning id`).toHaveLength(0);
    });
    await asUser(sql, alice.userId, async (tx) => {
      const blank = await errorOf(tx, (sp) => sp`update public.posts set text = '   ' where id = ${postId}`);
      expect(blank?.message).toMatch(/text cannot be blank/);
      const move = await errorOf(tx, (sp) => sp`update public.posts set workspace_id = ${bob.workspaceId} where id = ${postId}`);
      expect(move?.message).toMatch(/permission denied/);
    });
    await lease(itemIds[0]);
    await asUser(sql, alice.userId, async (tx) => {
      const claimed = await errorOf(tx, (sp) => sp`update public.posts set text = 'changed under the engine' where id = ${postId}`);
      expect(claimed?.message).toMatch(/can no longer be edited/);
    });
    const [p] = await sql`select text from public.posts where id = ${postId}`;
    expect(p.text).toBe("Calendar post");
  });
});

describe("the routes", () => {
  let user: TestUser;
  let t: Tenant;

  beforeAll(async () => {
    user = await signUp("cal-route");
    const [m] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
    t = { userId: user.id, claims: claimsOf(user.id), workspaceId: m.workspace_id, accounts: [await addAccount(m.workspace_id)] };
    await subscribe(sql, t.workspaceId, "starter");
  });

  function call(handler: Handler, path: string, method = "GET", body?: unknown, params: Record<string, string> = {}) {
    const headers = new Headers({ authorization: `Bearer ${user.accessToken}` });
    if (body !== undefined) headers.set("content-type", "application/json");
    return handler(new Request(`http://127.0.0.1:3000${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }), {
      params: Promise.resolve(params),
    });
  }

  it("read, reschedule, edit and cancel through HTTP", async () => {
    const { postId, itemIds } = await queue(t, inDays(2));
    const from = encodeURIComponent(inDays(1));
    const to = encodeURIComponent(inDays(8));
    const read = await call(calendarRoute.GET, `/api/queue/calendar?from=${from}&to=${to}&accountId=${t.accounts[0]}`);
    expect(read.status).toBe(200);
    expect((await read.json()).items.map((i: { id: number }) => i.id)).toEqual(itemIds);

    const at = inDays(3);
    const moved = await call(rescheduleRoute.POST, "/api/queue/reschedule", "POST", { itemIds, scheduledFor: at });
    expect(moved.status, await moved.clone().text()).toBe(200);
    expect((await itemRow(itemIds[0])).scheduled_for.toISOString()).toBe(at);

    const edited = await call(postRoute.PATCH, `/api/queue/posts/${postId}`, "PATCH", { text: "Edited over HTTP" }, { postId });
    expect(edited.status, await edited.clone().text()).toBe(200);
    expect((await edited.json()).post.text).toBe("Edited over HTTP");

    const cancelled = await call(cancelRoute.POST, "/api/queue/cancel", "POST", { ids: itemIds });
    expect(await cancelled.json()).toEqual({ cancelled: 1, cancelRequested: 0 });
    const again = await call(rescheduleRoute.POST, "/api/queue/reschedule", "POST", { itemIds, scheduledFor: inDays(4) });
    expect(again.status).toBe(409);
    expect((await again.json()).error.issues[0].message).toBe(`Queue item ${itemIds[0]} is cancelled.`);
  });

  it("answers 404 for a post id that is not a UUID, and 400 for a body that is not the schema", async () => {
    const bad = await call(postRoute.PATCH, "/api/queue/posts/nope", "PATCH", { text: "x" }, { postId: "nope" });
    expect(bad.status).toBe(404);
    const extra = await call(rescheduleRoute.POST, "/api/queue/reschedule", "POST", { itemIds: [1], scheduledFor: inDays(2), run_at: "now" });
    expect(extra.status).toBe(400);
  });
});
