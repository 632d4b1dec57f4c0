// Managing the queue, as its users and as an attacker see it: pages through more items than a page
// holds (no item twice, none missed, while items are added), filters and search, bulk cancel /
// retry / reschedule with an outcome per item, restore, an item's detail with its attempts, editing
// a post's thread and duplicating a post. Attacker first: another workspace's ids in a bulk action
// or a cursor, a viewer, `authenticated` straight at the tables and functions, a forged cursor.
// Items are scheduled days ahead, so a processing run elsewhere in the suite leaves them waiting.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import * as itemsRoute from "@/app/api/queue/items/route";
import * as itemRoute from "@/app/api/queue/items/[id]/route";
import * as bulkRoute from "@/app/api/queue/bulk/route";
import * as restoreRoute from "@/app/api/queue/restore/route";
import * as duplicateRoute from "@/app/api/queue/posts/[postId]/duplicate/route";
import * as postRoute from "@/app/api/queue/posts/[postId]/route";
import { addToQueue, bulkQueueAction, getQueueItemDetail, getQueueStatus, listQueuePage, restoreQueueItems, type QueueItem } from "@/lib/queue";
import { editPost } from "@/lib/calendar";
import type { PacerError } from "@/lib/api/errors";
import type { UserClaims } from "@/lib/db";
import { asUser, connect, errorOf, makeUser, type Sql } from "../support/db";
import { signUp } from "../support/users";
import { subscribe } from "../support/billing";

type Handler = (req: Request, ctx: any) => Promise<Response>;

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const inDays = (n: number, minutes = 0) => new Date(Date.now() + n * DAY + minutes * 60_000).toISOString();

let sql: Sql;

interface Tenant {
  userId: string;
  token: string;
  claims: UserClaims;
  workspaceId: string;
  accounts: string[];
  handles: string[];
}

// Threads go to Mastodon and Bluesky only: offered here as the threads tests offer them.
let savedConnectors: string | undefined;
beforeAll(() => {
  sql = connect();
  savedConnectors = process.env.PACER_CONNECTORS;
  process.env.PACER_CONNECTORS = "mastodon,bluesky,upload-post";
});
afterAll(async () => {
  process.env.PACER_CONNECTORS = savedConnectors;
  await sql.end();
});

const claimsOf = (id: string): UserClaims => ({ sub: id, role: "authenticated" });

/** A real user (signed up through the auth server, so routes accept their token) with sandbox accounts. */
async function tenant(label: string, accounts = 2, platform = "sandbox"): Promise<Tenant> {
  const user = await signUp(label);
  const [m] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
  const u = { id: user.id, workspaceId: m.workspace_id as string };
  const ids: string[] = [];
  const handles: string[] = [];
  for (let i = 0; i < accounts; i++) {
    const handle = `${label.replace(/\W/g, "_")}_${randomUUID().slice(0, 8)}`;
    const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                          values (${u.workspaceId}, ${platform}, ${handle}, 'Queue') returning id`;
    ids.push(a.id);
    handles.push(handle);
  }
  return { userId: u.id, token: user.accessToken, claims: claimsOf(u.id), workspaceId: u.workspaceId, accounts: ids, handles };
}

async function member(workspaceId: string, role: "viewer" | "editor") {
  const u = await makeUser(sql, role);
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${workspaceId}, ${u.id}, ${role})`;
  return claimsOf(u.id);
}

async function queue(t: Tenant, at: string, text = "Queue post", accountIds = [t.accounts[0]]) {
  const { post, items } = await addToQueue(t.claims, { text, accountIds, scheduledFor: at });
  return { postId: post.id, ids: items.map((i) => i.id) };
}

const status = async (id: number) => (await sql`select status, run_at, scheduled_for, cancel_requested from public.queue_items where id = ${id}`)[0];

const setStatus = (id: number, s: string) =>
  s === "posted"
    ? sql`update public.queue_items set status = 'posted', posted_at = now(), attempts = 1, external_id = 'x' where id = ${id}`
    : sql`update public.queue_items set status = ${s}::public.queue_status, attempts = case when ${s} in ('failed', 'needs_review') then 1 else attempts end where id = ${id}`;

const lease = (id: number) =>
  sql`update public.queue_items set status = 'processing', lease_id = gen_random_uuid(), lease_expires_at = now() + interval '2 minutes',
                                    leased_at = now(), attempts = attempts + 1
      where id = ${id}`;

/** `fn` for each value, one after another, so ids come out in the order given. */
async function inOrder<T>(values: number[], fn: (n: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (const v of values) out.push(await fn(v));
  return out;
}

async function refusal(promise: Promise<unknown>): Promise<PacerError> {
  const error = await promise.then(() => null, (e) => e);
  expect(error, "expected a refusal").not.toBeNull();
  return error as PacerError;
}

/** A route called as the tenant, with their access token. */
function call(handler: Handler, user: Tenant, path: string, init: { method?: string; body?: unknown; params?: Record<string, string> } = {}) {
  const headers = new Headers({ authorization: `Bearer ${user.token}` });
  if (init.body !== undefined) headers.set("content-type", "application/json");
  return handler(new Request(`http://127.0.0.1:3000${path}`, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) }), {
    params: Promise.resolve(init.params ?? {}),
  });
}

// ------------------------------------------------------------------------------------------------
// The attacker first
// ------------------------------------------------------------------------------------------------

describe("the boundaries", () => {
  let alice: Tenant;
  let bob: Tenant;
  let aliceIds: number[];
  let bobIds: number[];
  let bobPostId: string;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([tenant("qm-alice"), tenant("qm-bob")]);
    aliceIds = (await queue(alice, inDays(3), "alice's post")).ids;
    const b = await queue(bob, inDays(3), "bob's secret post");
    bobIds = b.ids;
    bobPostId = b.postId;
  });

  it("a bulk action with another workspace's ids changes only the caller's, and says the others are not found", async () => {
    const result = await bulkQueueAction(alice.claims, { action: "cancel", ids: [...aliceIds, ...bobIds] });
    expect(result.items).toEqual([
      expect.objectContaining({ id: aliceIds[0], done: true, outcome: "cancelled", status: "cancelled" }),
      { id: bobIds[0], done: false, outcome: "skipped", status: null, reason: "not_found", message: "There is no queue item with this id in this workspace." },
    ]);
    expect((await status(bobIds[0])).status).toBe("pending");
    // The same for an id that does not exist: the reply never tells the two apart.
    const none = await bulkQueueAction(alice.claims, { action: "cancel", ids: [9_000_000_000] });
    expect(none.items[0]).toMatchObject({ reason: "not_found", status: null });
    await restoreQueueItems(alice.claims, { ids: aliceIds });
  });

  it("a filter reaches only the caller's workspace, even naming another workspace's account", async () => {
    const result = await bulkQueueAction(alice.claims, { action: "cancel", filter: { accountId: bob.accounts[0] } });
    expect(result.matched).toBe(0);
    expect((await status(bobIds[0])).status).toBe("pending");
    const page = await listQueuePage(alice.claims, { accountId: bob.accounts[0] });
    expect(page.items).toEqual([]);
  });

  it("another workspace's id, workspace, item and post answer not found", async () => {
    expect((await refusal(listQueuePage(alice.claims, { workspaceId: bob.workspaceId }))).status).toBe(404);
    expect((await refusal(bulkQueueAction(alice.claims, { action: "cancel", ids: bobIds, workspaceId: bob.workspaceId }))).status).toBe(404);
    expect((await refusal(getQueueItemDetail(alice.claims, String(bobIds[0])))).status).toBe(404);
    const res = await call(duplicateRoute.POST, alice, `/api/queue/posts/${bobPostId}/duplicate`, { method: "POST", body: { scheduledFor: inDays(5) }, params: { postId: bobPostId } });
    expect(res.status).toBe(404);
    expect(await sql`select 1 from public.posts where text = 'bob''s secret post'`).toHaveLength(1);
  });

  it("a viewer reads the queue but changes nothing: bulk actions, restore, edit and duplicate are refused", async () => {
    const viewer = await member(alice.workspaceId, "viewer");
    const page = await listQueuePage(viewer, { workspaceId: alice.workspaceId });
    expect(page.items.map((i) => i.id)).toEqual(aliceIds);
    for (const action of ["cancel", "retry"] as const) {
      expect((await refusal(bulkQueueAction(viewer, { action, ids: aliceIds, workspaceId: alice.workspaceId }))).status).toBe(403);
    }
    expect((await refusal(bulkQueueAction(viewer, { action: "reschedule", ids: aliceIds, scheduledFor: inDays(6), workspaceId: alice.workspaceId }))).status).toBe(403);
    expect((await refusal(restoreQueueItems(viewer, { ids: aliceIds, workspaceId: alice.workspaceId }))).status).toBe(403);
    expect((await refusal(editPost(viewer, (await sql`select post_id from public.queue_items where id = ${aliceIds[0]}`)[0].post_id, { thread: ["x"], workspaceId: alice.workspaceId }))).status).toBe(403);
    expect((await status(aliceIds[0])).status).toBe("pending");
  });

  it("`authenticated` straight at the tables and functions meets the same walls", async () => {
    const viewer = await member(alice.workspaceId, "viewer");
    const [{ post_id: alicePostId }] = await sql`select post_id from public.queue_items where id = ${aliceIds[0]}`;
    await asUser(sql, alice.userId, async (tx) => {
      // No UPDATE on queue items for the API roles: only the named functions change them.
      expect((await errorOf(tx, (sp) => sp`update public.queue_items set status = 'cancelled' where id = ${aliceIds[0]}`))?.code).toBe("42501");
      // Another workspace's ids through the functions: refused for the workspace, not found for the ids.
      expect((await errorOf(tx, (sp) => sp`select * from private.bulk_cancel_queue_items(${bob.workspaceId}, ${bobIds}::bigint[])`))?.code).toBe("42501");
      expect((await errorOf(tx, (sp) => sp`select * from private.restore_queue_items(${bob.workspaceId}, ${bobIds}::bigint[])`))?.code).toBe("42501");
      expect(
        (await errorOf(tx, (sp) => sp`select * from private.queue_page_ids(${bob.workspaceId}, null, null, null, null, null, null, null, null, true, 10)`))?.code,
      ).toBe("42501");
      const rows = await tx`select * from private.bulk_cancel_queue_items(${alice.workspaceId}, ${bobIds}::bigint[])`;
      expect(rows.map((r) => [Number(r.id), r.done, r.reason])).toEqual([[bobIds[0], false, "not_found"]]);
      // Bob's post's thread: invisible, so nothing to update.
      expect(await tx`update public.posts set thread = '{"x"}' where id = ${bobPostId} returning id`).toHaveLength(0);
    });
    await asUser(sql, viewer.sub, async (tx) => {
      expect(await tx`update public.posts set thread = '{"viewer"}' where id = ${alicePostId} returning id`).toHaveLength(0);
      expect((await errorOf(tx, (sp) => sp`select * from private.bulk_retry_queue_items(${alice.workspaceId}, ${aliceIds}::bigint[])`))?.code).toBe("42501");
    });
    expect((await status(bobIds[0])).status).toBe("pending");
  });

  it("a post's thread cannot change once sending began, whatever the path", async () => {
    const t = await tenant("qm-sent", 1);
    const { postId, ids } = await queue(t, inDays(2));
    await lease(ids[0]);
    await asUser(sql, t.userId, async (tx) => {
      const e = await errorOf(tx, (sp) => sp`update public.posts set thread = '{"late part"}' where id = ${postId}`);
      expect(e?.message).toMatch(/can no longer be edited/);
      const p = await errorOf(tx, (sp) => sp`update public.posts set platform_options = '{"mastodon":{"visibility":"direct"}}' where id = ${postId}`);
      expect(p?.message).toMatch(/can no longer be edited/);
    });
  });

  it("a forged cursor is refused, and one pointing into another workspace shows only the caller's items", async () => {
    expect((await refusal(listQueuePage(alice.claims, { cursor: "not-a-cursor" }))).status).toBe(400);
    const forge = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    expect((await refusal(listQueuePage(alice.claims, { cursor: forge(["2026-01-01T00:00:00.000Z", "1; drop table x", "newest"]) }))).status).toBe(400);
    expect((await refusal(listQueuePage(alice.claims, { cursor: forge(["2026-01-01T00:00:00.000Z", 1, "oldest"]) }))).status).toBe(400);
    // Well formed, placed just after Bob's item: the page resumes there, in Alice's workspace only.
    const [b] = await sql`select scheduled_for from public.queue_items where id = ${bobIds[0]}`;
    const page = await listQueuePage(alice.claims, { cursor: forge([new Date(b.scheduled_for.getTime() + DAY).toISOString(), bobIds[0] + 1, "newest"]) });
    expect(page.items.map((i) => i.id)).toEqual(aliceIds);
    const res = await call(itemsRoute.GET, alice, `/api/queue/items?cursor=${forge([new Date(0).toISOString(), 0, "newest"])}`);
    expect(res.status).toBe(400);
    expect((await res.json()).error.issues[0].path).toBe("cursor");
  });
});

// ------------------------------------------------------------------------------------------------
// Pages, filters, search
// ------------------------------------------------------------------------------------------------

describe("pages", () => {
  it("walk through more items than a page holds, none twice and none missed, while items are added", async () => {
    const t = await tenant("qm-pages", 1);
    // 120 items over 40 distinct times (three share each time: the id breaks the tie).
    const rows = Array.from({ length: 120 }, (_, i) => ({ text: `paged ${i}`, accountId: t.accounts[0], scheduledFor: inDays(2, Math.floor(i / 3)) }));
    await subscribe(sql, t.workspaceId, "starter");
    const { bulkAddToQueue } = await import("@/lib/queue");
    await bulkAddToQueue(t.claims, { items: rows });
    const before = (await sql`select id from public.queue_items where workspace_id = ${t.workspaceId}`).map((r) => Number(r.id));
    expect(before).toHaveLength(120);

    for (const order of ["newest", "oldest"] as const) {
      const seen: number[] = [];
      let cursor: string | null | undefined;
      let pages = 0;
      do {
        const page = await listQueuePage(t.claims, { limit: 25, order, cursor: cursor ?? undefined });
        if (pages === 0) expect(page.matching).toBe(120 + (order === "oldest" ? 2 : 0));
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
        pages++;
        // Added between pages: one earlier than everything, one later. Neither disturbs the walk.
        if (pages === 2) {
          await queue(t, inDays(1), `added early ${order}`);
          await queue(t, inDays(9), `added late ${order}`);
        }
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      expect(before.filter((id) => !seen.includes(id))).toEqual([]);
      const times = (await listQueuePage(t.claims, { limit: 200, order })).items.map((i) => `${i.scheduledFor}/${String(i.id).padStart(12, "0")}`);
      expect(times).toEqual([...times].sort((a, b) => (order === "newest" ? b.localeCompare(a) : a.localeCompare(b))));
    }
  }, 60_000);

  it("filter by status, account, platform and time, and search the text, the thread and the handle", async () => {
    const t = await tenant("qm-filter", 2, "mastodon");
    const a = (await queue(t, inDays(2), "Launch day: 50% off")).ids[0];
    const b = (await queue(t, inDays(3), "Weekly digest", [t.accounts[1]])).ids[0];
    const { post: threaded, items } = await addToQueue(t.claims, { text: "Opening", thread: ["the hidden launch detail"], accountIds: [t.accounts[0]], scheduledFor: inDays(4) });
    const c = items[0].id;
    await setStatus(b, "failed");

    const ids = async (q: Record<string, string>) => (await listQueuePage(t.claims, q)).items.map((i) => i.id);
    expect(await ids({ status: "failed" })).toEqual([b]);
    expect(await ids({ status: "pending,failed" })).toEqual([c, b, a]);
    expect(await ids({ accountId: t.accounts[1] })).toEqual([b]);
    expect(await ids({ platform: "mastodon" })).toEqual([c, b, a]);
    expect(await ids({ platform: "sandbox" })).toEqual([]);
    expect(await ids({ from: inDays(2, 30), to: inDays(3, 30) })).toEqual([b]);
    expect(await ids({ q: "launch" })).toEqual([c, a]);
    expect(await ids({ q: "50%" })).toEqual([a]);
    // `%` and `_` are literal: "5_%" matches nothing.
    expect(await ids({ q: "5_%" })).toEqual([]);
    expect(await ids({ q: t.handles[1].slice(0, 16) })).toEqual([b]);
    expect(threaded.thread).toEqual(["the hidden launch detail"]);
    expect((await refusal(listQueuePage(t.claims, { status: "pending,sleeping" }))).issues?.map((i) => i.path)).toEqual(["status"]);
    expect((await refusal(listQueuePage(t.claims, { from: inDays(3), to: inDays(2) }))).issues?.map((i) => i.path)).toEqual(["to"]);
  });
});

// ------------------------------------------------------------------------------------------------
// Bulk actions, restore
// ------------------------------------------------------------------------------------------------

describe("bulk actions", () => {
  it("cancel: waiting items cancelled, one mid-publish asked to stop, finished ones skipped with why; audited", async () => {
    const t = await tenant("qm-cancel", 1);
    const [waiting, posted, failed, inFlight, cancelled] = await inOrder([1, 2, 3, 4, 5], async (n) => (await queue(t, inDays(2, n))).ids[0]);
    await setStatus(posted, "posted");
    await setStatus(failed, "failed");
    await lease(inFlight);
    await setStatus(cancelled, "cancelled");

    const res = await call(bulkRoute.POST, t, "/api/queue/bulk", { method: "POST", body: { action: "cancel", ids: [waiting, posted, failed, inFlight, cancelled, waiting] } });
    expect(res.status).toBe(200);
    const result = await res.json();
    expect(result).toMatchObject({ action: "cancel", matched: 5, done: 2, skipped: 3, skippedBy: { already_posted: 1, already_failed: 1, already_cancelled: 1 } });
    const byId = Object.fromEntries(result.items.map((i: { id: number }) => [i.id, i]));
    expect(byId[waiting]).toMatchObject({ done: true, outcome: "cancelled", status: "cancelled" });
    expect(byId[inFlight]).toMatchObject({ done: true, outcome: "cancel_requested", status: "processing" });
    expect(byId[posted]).toMatchObject({ done: false, reason: "already_posted", message: "Already posted." });
    expect((await status(posted)).status).toBe("posted");
    expect((await status(inFlight)).cancel_requested).toBe(true);
    const audit = await sql`select entity_id, action, actor_id from public.audit_log where entity = 'queue_items' and action = 'cancel' and entity_id = any(${[String(waiting), String(inFlight)]})`;
    expect(audit.map((r) => r.entity_id).sort()).toEqual([String(waiting), String(inFlight)].sort());
    expect(audit.every((r) => r.actor_id === t.userId)).toBe(true);
  });

  it("all matching a filter: only those items, and a filter matching nothing does nothing", async () => {
    const t = await tenant("qm-all", 2);
    const mine = [(await queue(t, inDays(2))).ids[0], (await queue(t, inDays(3))).ids[0]];
    const other = (await queue(t, inDays(2), "other account", [t.accounts[1]])).ids[0];
    const result = await bulkQueueAction(t.claims, { action: "cancel", filter: { accountId: t.accounts[0], status: ["pending"] } });
    expect(result.items.map((i) => [i.id, i.outcome])).toEqual(mine.map((id) => [id, "cancelled"]));
    expect((await status(other)).status).toBe("pending");
    expect((await bulkQueueAction(t.claims, { action: "cancel", filter: { q: "nothing like this" } })).matched).toBe(0);
  });

  it("retry: failed and needs-review items go back to pending, due now; others are skipped", async () => {
    const t = await tenant("qm-retry", 1);
    const [failed, review, waiting] = await inOrder([1, 2, 3], async (n) => (await queue(t, inDays(2, n))).ids[0]);
    await setStatus(failed, "failed");
    await setStatus(review, "needs_review");
    const result = await bulkQueueAction(t.claims, { action: "retry", ids: [failed, review, waiting] });
    expect(result.items.map((i) => [i.id, i.outcome, i.reason])).toEqual([
      [failed, "retried", null],
      [review, "retried", null],
      [waiting, "skipped", "not_failed"],
    ]);
    const f = await status(failed);
    expect(f.status).toBe("pending");
    expect(f.run_at.getTime()).toBeLessThan(Date.now() + 1000);
  });

  it("retry: an item whose post is on record is verified, never sent again; a removed account's items are skipped", async () => {
    const t = await tenant("qm-retry-live", 2);
    const [live] = (await queue(t, inDays(2))).ids;
    const [gone] = (await queue(t, inDays(2), "Queue post", [t.accounts[1]])).ids;
    // A thread that broke part-way: its first post is on record (20261205080100 records it).
    await sql`update public.queue_items set status = 'needs_review', external_id = 'root-1' where id = ${live}`;
    await setStatus(gone, "failed");
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify(t.claims)}, true), set_config('role', 'authenticated', true)`;
      await tx`select * from public.remove_accounts(${[t.accounts[1]]}::uuid[])`;
    });
    const result = await bulkQueueAction(t.claims, { action: "retry", ids: [live, gone] });
    expect(result.items.map((i) => [i.id, i.outcome, i.reason])).toEqual([
      [live, "retried", null],
      [gone, "skipped", "account_removed"],
    ]);
    expect((await status(live)).status).toBe("verifying");
    expect((await status(gone)).status).toBe("failed");
  });

  it("reschedule: waiting items move; posted and in-flight ones are skipped; a past time refuses it all", async () => {
    const t = await tenant("qm-resched", 1);
    const [waiting, posted, inFlight] = await inOrder([1, 2, 3], async (n) => (await queue(t, inDays(2, n))).ids[0]);
    await setStatus(posted, "posted");
    await lease(inFlight);
    const to = inDays(5);
    const result = await bulkQueueAction(t.claims, { action: "reschedule", ids: [waiting, posted, inFlight], scheduledFor: to });
    expect(result.items.map((i) => [i.id, i.outcome, i.reason])).toEqual([
      [waiting, "rescheduled", null],
      [posted, "skipped", "already_posted"],
      [inFlight, "skipped", "not_waiting"],
    ]);
    expect((await status(waiting)).scheduled_for.toISOString()).toBe(to);
    const past = await refusal(bulkQueueAction(t.claims, { action: "reschedule", ids: [waiting], scheduledFor: new Date(Date.now() - HOUR).toISOString() }));
    expect([past.status, past.code]).toEqual([422, "scheduled_in_past"]);
    expect((await status(waiting)).scheduled_for.toISOString()).toBe(to);
    expect((await refusal(bulkQueueAction(t.claims, { action: "reschedule", ids: [waiting] }))).issues?.[0].path).toBe("scheduledFor");
  });

  it("restore: a cancelled item whose time is ahead goes back to waiting; otherwise it says why not", async () => {
    const t = await tenant("qm-restore", 1);
    const [ahead, passed, tried, waiting] = await inOrder([1, 2, 3, 4], async (n) => (await queue(t, inDays(2, n))).ids[0]);
    await bulkQueueAction(t.claims, { action: "cancel", ids: [ahead, passed, tried] });
    await sql`update public.queue_items set scheduled_for = now() - interval '1 hour' where id = ${passed}`;
    await sql`update public.queue_items set attempts = 1 where id = ${tried}`;
    const res = await call(restoreRoute.POST, t, "/api/queue/restore", { method: "POST", body: { ids: [ahead, passed, tried, waiting] } });
    expect(res.status).toBe(200);
    const result = await res.json();
    expect(result.items.map((i: { id: number; outcome: string; reason: string | null }) => [i.id, i.outcome, i.reason])).toEqual([
      [ahead, "restored", null],
      [passed, "skipped", "time_passed"],
      [tried, "skipped", "was_tried"],
      [waiting, "skipped", "not_cancelled"],
    ]);
    const a = await status(ahead);
    expect(a.status).toBe("pending");
    expect(a.run_at.getTime()).toBe(a.scheduled_for.getTime());
    expect((await status(passed)).status).toBe("cancelled");
    const detail = await getQueueItemDetail(t.claims, String(passed));
    expect(detail.restorable).toBe(false);
  });

  it("restore: a cancelled item of a removed account stays cancelled and says why", async () => {
    const t = await tenant("qm-restore-gone", 1);
    const [item] = (await queue(t, inDays(2))).ids;
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify(t.claims)}, true), set_config('role', 'authenticated', true)`;
      await tx`select * from public.remove_accounts(${[t.accounts[0]]}::uuid[])`;
    });
    expect((await status(item)).status).toBe("cancelled");
    const result = await restoreQueueItems(t.claims, { ids: [item] });
    expect(result.items.map((i) => [i.outcome, i.reason])).toEqual([["skipped", "account_removed"]]);
  });
});

// ------------------------------------------------------------------------------------------------
// Detail, edit, duplicate, honest status
// ------------------------------------------------------------------------------------------------

describe("one item", () => {
  it("shows its post in full and every attempt from the posting history", async () => {
    const t = await tenant("qm-detail", 1, "mastodon");
    const { post, items } = await addToQueue(t.claims, { text: "Detailed", thread: ["part two"], accountIds: [t.accounts[0]], scheduledFor: inDays(2) });
    const id = items[0].id;
    await sql`insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, kind, attempt, started_at, finished_at, outcome, error_message)
              values (${id}, ${t.workspaceId}, ${t.accounts[0]}, 'mastodon', 'post', 'publish', 1, now() - interval '2 minutes', now() - interval '119 seconds', 'retryable', 'HTTP 503'),
                     (${id}, ${t.workspaceId}, ${t.accounts[0]}, 'mastodon', 'post', 'publish', 2, now() - interval '1 minute', now() - interval '59 seconds', 'posted', null)`;
    await sql`update public.queue_items set status = 'posted', posted_at = now(), attempts = 2, external_url = 'https://sandbox.example/p/1' where id = ${id}`;
    const res = await call(itemRoute.GET, t, `/api/queue/items/${id}`, { params: { id: String(id) } });
    expect(res.status).toBe(200);
    const d = await res.json();
    expect(d.post).toMatchObject({ id: post.id, text: "Detailed", thread: ["part two"] });
    expect(d.item).toMatchObject({ id, externalUrl: "https://sandbox.example/p/1", status: "posted" });
    expect(d.attempts.map((a: { attempt: number; outcome: string; errorMessage: string | null }) => [a.attempt, a.outcome, a.errorMessage])).toEqual([
      [1, "retryable", "HTTP 503"],
      [2, "posted", null],
    ]);
    expect(d.editable).toBe(false);
    expect((await call(itemRoute.GET, t, "/api/queue/items/abc", { params: { id: "abc" } })).status).toBe(404);
  });

  it("edits a waiting post's thread and platform options through the PATCH route", async () => {
    const t = await tenant("qm-edit", 1, "mastodon");
    const { postId } = await queue(t, inDays(2), "Edit me");
    const res = await call(postRoute.PATCH, t, `/api/queue/posts/${postId}`, {
      method: "PATCH",
      body: { thread: ["a second part", "a third"], platformOptions: { mastodon: { visibility: "unlisted" } } },
      params: { postId },
    });
    expect(res.status).toBe(200);
    expect((await res.json()).post).toMatchObject({ text: "Edit me", thread: ["a second part", "a third"], platformOptions: { mastodon: { visibility: "unlisted" } } });
    const [row] = await sql`select thread, platform_options from public.posts where id = ${postId}`;
    expect(row.thread).toEqual(["a second part", "a third"]);
    // The same zod pieces as add: a blank part is refused with its path.
    const bad = await call(postRoute.PATCH, t, `/api/queue/posts/${postId}`, { method: "PATCH", body: { thread: ["ok", " "] }, params: { postId } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.issues[0].path).toBe("thread.1");
    // A thread and a first comment together: refused as add refuses it.
    const both = await call(postRoute.PATCH, t, `/api/queue/posts/${postId}`, { method: "PATCH", body: { firstComment: "hi" }, params: { postId } });
    expect(both.status).toBe(400);
  });

  it("duplicates a post: same content, same accounts, at its time or a new one", async () => {
    const t = await tenant("qm-dup", 2, "mastodon");
    const { post } = await addToQueue(t.claims, { text: "Say it twice", thread: ["and again"], accountIds: t.accounts, scheduledFor: inDays(2), priority: 7 });
    const res = await call(duplicateRoute.POST, t, `/api/queue/posts/${post.id}/duplicate`, { method: "POST", params: { postId: post.id } });
    expect(res.status).toBe(201);
    const copy = await res.json();
    expect(copy.post.id).not.toBe(post.id);
    expect(copy.post).toMatchObject({ text: "Say it twice", thread: ["and again"] });
    const [original] = await sql`select scheduled_for from public.queue_items where post_id = ${post.id} order by id limit 1`;
    expect(copy.items.map((i: QueueItem) => [i.accountId, i.priority, i.scheduledFor])).toEqual(
      t.accounts.map((a) => [a, 7, original.scheduled_for.toISOString()]),
    );

    // Posted long ago: the copy needs a time.
    const old = await queue(t, inDays(2), "old one");
    await sql`update public.queue_items set scheduled_for = now() - interval '2 days', status = 'posted', posted_at = now() where id = ${old.ids[0]}`;
    const noTime = await call(duplicateRoute.POST, t, `/api/queue/posts/${old.postId}/duplicate`, { method: "POST", body: {}, params: { postId: old.postId } });
    expect(noTime.status).toBe(400);
    expect((await noTime.json()).error.issues[0].path).toBe("scheduledFor");
    const later = inDays(6);
    const ok = await call(duplicateRoute.POST, t, `/api/queue/posts/${old.postId}/duplicate`, { method: "POST", body: { scheduledFor: later, accountIds: [t.accounts[1]] }, params: { postId: old.postId } });
    expect(ok.status).toBe(201);
    expect((await ok.json()).items.map((i: QueueItem) => [i.accountId, i.scheduledFor])).toEqual([[t.accounts[1], later]]);
  });

  it("a post to a paused account waits for that reason, and rate-limited items count once", async () => {
    const t = await tenant("qm-honest", 2);
    await sql`update public.social_accounts set state = 'paused' where id = ${t.accounts[1]}`;
    const held = (await queue(t, inDays(2), "held", [t.accounts[1]])).ids[0];
    const free = (await queue(t, inDays(2), "free")).ids[0];
    const page = await listQueuePage(t.claims, {});
    const byId = Object.fromEntries(page.items.map((i) => [i.id, i]));
    expect(byId[held]).toMatchObject({ status: "pending", waitingFor: "account", accountState: "paused" });
    expect(byId[free]).toMatchObject({ status: "pending", waitingFor: null });

    await sql`update public.queue_items set status = 'rate_limited' where id = ${free}`;
    const s = await getQueueStatus(t.claims);
    expect(s.counts).toMatchObject({ pending: 1, rate_limited: 1 });
    expect(s.total).toBe(2);
    expect(s.schedule.everySeconds).toBe(60);
  });
});
