// The queue's HTTP API, called through the real route handlers with real tokens: adding one post
// and 10,000, status, the latest items, cancel, retry, processing now, tenant isolation on every
// route, and Pacer's own API limits. Items the engine should not touch are scheduled for tomorrow,
// so a processing run elsewhere in the suite leaves them waiting.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import * as addRoute from "@/app/api/queue/add/route";
import * as bulkRoute from "@/app/api/queue/bulk-post/route";
import * as statusRoute from "@/app/api/queue/status/route";
import * as itemsRoute from "@/app/api/queue/items/route";
import * as cancelRoute from "@/app/api/queue/cancel/route";
import * as retryRoute from "@/app/api/queue/retry/route";
import * as processRoute from "@/app/api/queue/process/route";
import { recordOutcomes } from "@/lib/engine/store";
import { API_LIMITS } from "@/lib/api/limits";
import { QUEUE_STATUSES, type QueueItem } from "@/lib/queue/types";
import { connect, type Sql } from "../support/db";
import { subscribe } from "../support/billing";
import { signUp, type TestUser } from "../support/users";
import { sandboxAccount } from "../support/sandbox";

type Handler = (req: Request, ctx: any) => Promise<Response>;

let sql: Sql;
let alice: TestUser;
let bob: TestUser;
let aliceWs: string;
let bobWs: string;
let aliceAccounts: Account[];
let bobAccounts: Account[];

interface Account {
  id: string;
  handle: string;
}

const TOMORROW = () => new Date(Date.now() + 24 * 3600_000).toISOString();

beforeAll(async () => {
  sql = connect();
  [alice, bob] = await Promise.all([signUp("q-alice"), signUp("q-bob")]);
  [aliceWs, bobWs] = await Promise.all([workspaceOf(alice), workspaceOf(bob)]);
  [aliceAccounts, bobAccounts] = await Promise.all([addAccounts(aliceWs, 3), addAccounts(bobWs, 2)]);
  // Bob posts in bulk, a Starter feature.
  await subscribe(sql, bobWs, "starter");
});
afterAll(() => sql.end());

function call(handler: Handler, path: string, init: { method?: string; token?: string | null; body?: unknown } = {}) {
  const headers = new Headers();
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const body = init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body);
  return handler(new Request(`http://127.0.0.1:3000${path}`, { method: init.method ?? "GET", headers, body }), { params: Promise.resolve({}) });
}

const post = (handler: Handler, user: TestUser, body: unknown) => call(handler, "/api/queue", { method: "POST", token: user.accessToken, body });
const get = (handler: Handler, user: TestUser, query = "") => call(handler, `/api/queue${query}`, { token: user.accessToken });

async function workspaceOf(user: TestUser): Promise<string> {
  const [m] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
  return m.workspace_id;
}

/** Sandbox accounts with unique handles and their tokens, added as the superuser (the plan limit still applies). */
async function addAccounts(workspaceId: string, n: number): Promise<Account[]> {
  const accounts: Account[] = [];
  for (let i = 0; i < n; i++) {
    const { handle, sealed } = await sandboxAccount(process.env.PACER_SANDBOX_URL!, `q_${randomUUID().slice(0, 10)}`);
    const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                          values (${workspaceId}, 'sandbox', ${handle}, ${handle}, ${sealed}) returning id`;
    accounts.push({ id: a.id, handle });
  }
  return accounts;
}

/** A new user with `n` accounts in their personal workspace, on the Free plan unless `plan` says otherwise. */
async function tenant(label: string, n: number, plan?: string) {
  const user = await signUp(label);
  const workspaceId = await workspaceOf(user);
  if (plan) await subscribe(sql, workspaceId, plan);
  return { user, workspaceId, accounts: await addAccounts(workspaceId, n) };
}

/** A user who is a member of `workspaceId` with `role` (and owner of their own personal workspace). */
async function member(workspaceId: string, role: "viewer" | "editor" | "admin") {
  const user = await signUp(role);
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${workspaceId}, ${user.id}, ${role})`;
  return user;
}

async function addPost(user: TestUser, body: Record<string, unknown>) {
  const res = await post(addRoute.POST, user, { scheduledFor: TOMORROW(), ...body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { post: { id: string }; items: QueueItem[] };
}

const countIn = async (workspaceId: string) => {
  const [r] = await sql`select (select count(*)::int from public.posts where workspace_id = ${workspaceId}) as posts,
                               (select count(*)::int from public.queue_items where workspace_id = ${workspaceId}) as items`;
  return r as { posts: number; items: number };
};

const statusOf = async (ids: number[]) =>
  Object.fromEntries((await sql`select id, status from public.queue_items where id = any(${ids}::bigint[])`).map((r) => [Number(r.id), r.status]));

const paths = async (res: Response) => ((await res.json()).error.issues as Array<{ path: string }>).map((i) => i.path);

const ROUTES: Array<[string, Handler, "GET" | "POST"]> = [
  ["POST /api/queue/add", addRoute.POST, "POST"],
  ["POST /api/queue/bulk-post", bulkRoute.POST, "POST"],
  ["GET /api/queue/status", statusRoute.GET, "GET"],
  ["GET /api/queue/items", itemsRoute.GET, "GET"],
  ["POST /api/queue/cancel", cancelRoute.POST, "POST"],
  ["POST /api/queue/retry", retryRoute.POST, "POST"],
  ["POST /api/queue/process", processRoute.POST, "POST"],
];

describe("authentication", () => {
  it.each(ROUTES)("%s answers 401 without a session", async (_name, handler, method) => {
    const res = await call(handler, "/api/queue/x", { method, body: method === "POST" ? {} : undefined });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("unauthorized");
  });
});

describe("adding one post", () => {
  it("queues it for each chosen account as pending items", async () => {
    const at = TOMORROW();
    const res = await post(addRoute.POST, alice, {
      text: "Launch day 🚀",
      accountIds: [aliceAccounts[0].id, aliceAccounts[1].id],
      priority: 7,
      scheduledFor: at,
      mediaUrls: ["https://example.com/launch.png"],
      firstComment: "Link in bio",
      destination: "r/pacer",
    });
    expect(res.status).toBe(201);
    const { post: p, items } = await res.json();
    expect(p).toMatchObject({ workspaceId: aliceWs, text: "Launch day 🚀", mediaUrls: ["https://example.com/launch.png"], firstComment: "Link in bio", destination: "r/pacer" });
    expect(items).toHaveLength(2);
    for (const item of items as QueueItem[]) {
      expect(item).toMatchObject({ postId: p.id, status: "pending", priority: 7, scheduledFor: at, attempts: 0, platform: "sandbox", postedAt: null });
    }
    expect(items.map((i: QueueItem) => i.handle).sort()).toEqual([aliceAccounts[0].handle, aliceAccounts[1].handle].sort());
    const rows = await sql`select account_id, status, run_at from public.queue_items where post_id = ${p.id}`;
    expect(rows.map((r) => r.status)).toEqual(["pending", "pending"]);
    expect(rows.every((r) => r.run_at.toISOString() === at)).toBe(true);
  });

  it("defaults to priority 5, due now", async () => {
    const { user, accounts } = await tenant("q-defaults", 1);
    const before = Date.now();
    // Due now, so another test's processing run may pick it up: only the defaults are asserted.
    const res = await post(addRoute.POST, user, { text: "now", accountIds: [accounts[0].id] });
    expect(res.status).toBe(201);
    const [item] = (await res.json()).items as QueueItem[];
    expect(item.priority).toBe(5);
    expect(Date.parse(item.scheduledFor)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(item.scheduledFor)).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it("explains every invalid field with its path", async () => {
    const res = await post(addRoute.POST, alice, {
      text: "   ",
      accountIds: ["not-an-id", aliceAccounts[0].id, aliceAccounts[0].id],
      priority: 11,
      scheduledFor: "tomorrow morning",
      mediaUrls: ["ftp://example.com/x.png"],
      scheduled_for: "2026-01-01T00:00:00Z",
    });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe("validation_failed");
    expect(error.issues.map((i: { path: string }) => i.path).sort()).toEqual(
      ["(body)", "accountIds.0", "accountIds.2", "mediaUrls.0", "priority", "scheduledFor", "text"].sort(),
    );
  });

  it("answers 400 for a body that is not JSON", async () => {
    const res = await post(addRoute.POST, alice, "{nope");
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("invalid_json");
  });

  it("refuses another tenant's account, naming the field, and writes nothing", async () => {
    const before = await countIn(aliceWs);
    const res = await post(addRoute.POST, alice, { text: "sneaky", accountIds: [aliceAccounts[0].id, bobAccounts[0].id] });
    expect(res.status).toBe(400);
    expect((await res.json()).error.issues).toEqual([{ path: "accountIds.1", message: "There is no account with this id in this workspace." }]);
    expect(await countIn(aliceWs)).toEqual(before);
    expect((await sql`select count(*)::int as n from public.queue_items where account_id = ${bobAccounts[0].id}`)[0].n).toBe(0);
  });

  it("lets viewers read but not queue", async () => {
    const viewer = await member(aliceWs, "viewer");
    const res = await post(addRoute.POST, viewer, { text: "hi", accountIds: [aliceAccounts[0].id], workspaceId: aliceWs });
    expect(res.status).toBe(403);
    expect((await get(statusRoute.GET, viewer, `?workspaceId=${aliceWs}`)).status).toBe(200);
  });

  it("lets editors queue", async () => {
    const editor = await member(aliceWs, "editor");
    await addPost(editor, { text: "from the editor", accountIds: [aliceAccounts[2].id], workspaceId: aliceWs });
  });
});

describe("bulk-post", () => {
  it("queues 10,000 rows in one transaction", async () => {
    const { user, workspaceId, accounts } = await tenant("q-bulk", 10, "starter");
    const at = TOMORROW();
    const items = Array.from({ length: 10_000 }, (_, i) => ({
      text: `bulk ${i}`,
      accountId: accounts[i % 10].id,
      priority: (i % 10) + 1,
      scheduledFor: at,
    }));
    const res = await post(bulkRoute.POST, user, { items });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ dryRun: false, accepted: 10_000, posts: 10_000, items: 10_000 });

    const [db] = await sql`
      select count(*)::int as items, count(distinct q.post_id)::int as posts,
             count(distinct q.xmin::text)::int as transactions, count(distinct p.xmin::text)::int as post_transactions,
             count(*) filter (where q.priority <> split_part(p.text, ' ', 2)::int % 10 + 1)::int as wrong_priority,
             count(*) filter (where q.status <> 'pending')::int as not_pending
      from public.queue_items q join public.posts p on p.id = q.post_id
      where q.workspace_id = ${workspaceId}`;
    expect(db).toEqual({ items: 10_000, posts: 10_000, transactions: 1, post_transactions: 1, wrong_priority: 0, not_pending: 0 });
    // Every row's account went with that row's post.
    const accountOf = new Map(accounts.map((a, i) => [a.id, i]));
    const pairs = await sql`select q.account_id, split_part(p.text, ' ', 2)::int as row from public.queue_items q
                            join public.posts p on p.id = q.post_id where q.workspace_id = ${workspaceId}`;
    expect(pairs.filter((r) => accountOf.get(r.account_id) !== r.row % 10)).toEqual([]);

    const status = await (await get(statusRoute.GET, user)).json();
    expect(status).toMatchObject({ total: 10_000, counts: { pending: 10_000 }, nextDueAt: at, oldestPendingAt: at });
  }, 120_000);

  it("refuses 1,000 rows with 3 bad ones, listing exactly those rows, and writes nothing", async () => {
    const { user, workspaceId, accounts } = await tenant("q-bulk-bad", 2, "starter");
    const items: Array<Record<string, unknown>> = Array.from({ length: 1_000 }, (_, i) => ({
      text: `row ${i}`,
      accountId: accounts[i % 2].id,
      scheduledFor: TOMORROW(),
    }));
    items[17].accountId = bobAccounts[0].id; // another tenant's account
    items[404].priority = 0;
    items[999].text = "";
    const res = await post(bulkRoute.POST, user, { items });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain("3 of 1000 rows");
    expect(error.issues).toEqual([
      { path: "items.17.accountId", message: "There is no account with this id in this workspace." },
      { path: "items.404.priority", message: "Priority is a whole number from 1 (lowest) to 10 (highest)." },
      { path: "items.999.text", message: "Write the post's text." },
    ]);
    expect(await countIn(workspaceId)).toEqual({ posts: 0, items: 0 });
  });

  it("checks without writing on dryRun", async () => {
    const { user, workspaceId, accounts } = await tenant("q-dry", 2, "starter");
    const res = await post(bulkRoute.POST, user, {
      dryRun: true,
      items: [
        { text: "one", accountId: accounts[0].id },
        { text: "two", accountIds: [accounts[0].id, accounts[1].id] },
      ],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ dryRun: true, accepted: 2, posts: 2, items: 3 });
    expect(await countIn(workspaceId)).toEqual({ posts: 0, items: 0 });
  });

  it("gives identical rows a post each, with their own accounts and priorities", async () => {
    const { user, workspaceId, accounts } = await tenant("q-twins", 3, "starter");
    const res = await post(bulkRoute.POST, user, {
      items: accounts.map((a, i) => ({ text: "same words", accountId: a.id, priority: i + 1, scheduledFor: TOMORROW() })),
    });
    expect(res.status).toBe(201);
    const rows = await sql`select q.account_id, q.priority, q.post_id from public.queue_items q where q.workspace_id = ${workspaceId}`;
    expect(new Set(rows.map((r) => r.post_id)).size).toBe(3);
    expect(Object.fromEntries(rows.map((r) => [r.account_id, r.priority]))).toEqual(
      Object.fromEntries(accounts.map((a, i) => [a.id, i + 1])),
    );
  });

  it("refuses more than 10,000 rows, and rows naming no account or both fields", async () => {
    const { user } = await tenant("q-envelope", 1, "starter");
    const tooMany = await post(bulkRoute.POST, user, { items: Array.from({ length: 10_001 }, () => ({})) });
    expect(tooMany.status).toBe(400);
    expect(await paths(tooMany)).toEqual(["items"]);
    const res = await post(bulkRoute.POST, user, { items: [{ text: "x" }, "not a row"], dryRun: "yes" });
    expect(res.status).toBe(400);
    expect((await paths(res)).sort()).toEqual(["dryRun"]);
    const rows = await post(bulkRoute.POST, user, { items: [{ text: "x" }, "not a row"] });
    expect((await paths(rows)).sort()).toEqual(["items.0.accountId", "items.1"]);
  });

  it("is a paid feature: on the Free plan it answers 403 naming the plan that includes it, and writes nothing", async () => {
    const { user, workspaceId, accounts } = await tenant("q-bulk-free", 2);
    for (const dryRun of [false, true]) {
      const res = await post(bulkRoute.POST, user, { dryRun, items: accounts.map((a) => ({ text: "import", accountId: a.id })) });
      expect(res.status).toBe(403);
      expect((await res.json()).error).toEqual({
        code: "plan_feature_unavailable",
        message: "Bulk posting is not part of the Free plan; Starter and above include it. Upgrade in Billing, or add posts one at a time with POST /api/queue/add.",
      });
    }
    expect(await countIn(workspaceId)).toEqual({ posts: 0, items: 0 });
    // One post to several accounts is not a bulk: the Free plan queues it.
    await addPost(user, { text: "one at a time", accountIds: accounts.map((a) => a.id) });
  });

  it("refuses a body over 5 MB with 413", async () => {
    const { user } = await tenant("q-huge", 0);
    const res = await post(bulkRoute.POST, user, { items: [{ text: "x".repeat(6 * 1024 * 1024) }] });
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe("payload_too_large");
  });
});

describe("status", () => {
  it("lists every status, and agrees with the items after adding and cancelling", async () => {
    const { user, workspaceId, accounts } = await tenant("q-status", 2);
    const empty = await (await get(statusRoute.GET, user)).json();
    expect(empty).toEqual({
      workspaceId,
      total: 0,
      counts: Object.fromEntries(QUEUE_STATUSES.map((s) => [s, 0])),
      successRate: null,
      nextDueAt: null,
      oldestPendingAt: null,
      byPlatform: {},
      // The processing schedule (every minute); its next run is known once a scheduler has run it.
      schedule: { everySeconds: 60, lastRunAt: expect.toSatisfy((v) => v === null || typeof v === "string"), nextRunAt: expect.toSatisfy((v) => v === null || typeof v === "string") },
    });

    const early = new Date(Date.now() + 3600_000).toISOString();
    const added = [
      await addPost(user, { text: "a", accountIds: accounts.map((a) => a.id), scheduledFor: early }),
      await addPost(user, { text: "b", accountIds: accounts.map((a) => a.id) }),
      await addPost(user, { text: "c", accountIds: [accounts[0].id] }),
    ];
    const ids = added.flatMap((a) => a.items.map((i) => i.id));
    const cancel = await post(cancelRoute.POST, user, { ids: ids.slice(0, 2) });
    expect(await cancel.json()).toEqual({ cancelled: 2, cancelRequested: 0 });

    const status = await (await get(statusRoute.GET, user)).json();
    const actual = await sql`select status, count(*)::int as n from public.queue_items where workspace_id = ${workspaceId} group by status`;
    expect(actual.map((r) => [r.status, r.n]).sort()).toEqual([["cancelled", 2], ["pending", 3]]);
    expect(status).toMatchObject({
      total: 5,
      counts: { pending: 3, cancelled: 2, posted: 0, failed: 0 },
      byPlatform: { sandbox: { pending: 3, cancelled: 2, posted: 0 } },
      successRate: null,
    });
    // Both of post "a"'s items were cancelled: the next due is one of the later ones.
    expect(Date.parse(status.nextDueAt)).toBeGreaterThan(Date.parse(early));
    expect(status.oldestPendingAt).toBe(status.nextDueAt);
  });

  it("reports the success rate from posted and failed items", async () => {
    const { user, workspaceId, accounts } = await tenant("q-rate", 1);
    const { items } = await addPost(user, { text: "r", accountIds: [accounts[0].id] });
    const more = await addPost(user, { text: "s", accountIds: [accounts[0].id] });
    const last = await addPost(user, { text: "t", accountIds: [accounts[0].id] });
    await sql`update public.queue_items set status = 'posted', posted_at = now() where id = any(${[items[0].id, more.items[0].id]}::bigint[])`;
    await sql`update public.queue_items set status = 'failed' where id = ${last.items[0].id}`;
    const status = await (await get(statusRoute.GET, user)).json();
    expect(status).toMatchObject({ workspaceId, total: 3, counts: { posted: 2, failed: 1, pending: 0 }, nextDueAt: null, oldestPendingAt: null });
    expect(status.successRate).toBeCloseTo(2 / 3);
  });
});

describe("the latest items", () => {
  it("come newest first, with their account, limited, and filtered by status", async () => {
    const { user, accounts } = await tenant("q-list", 1);
    const added = [];
    for (const text of ["first", "second", "third"]) added.push(await addPost(user, { text, accountIds: [accounts[0].id] }));
    const res = await get(itemsRoute.GET, user, "?limit=2");
    expect(res.status).toBe(200);
    const { items } = await res.json();
    expect(items.map((i: QueueItem) => i.text)).toEqual(["third", "second"]);
    expect(items[0]).toMatchObject({ handle: accounts[0].handle, platform: "sandbox", status: "pending", accountId: accounts[0].id, cancelRequested: false });
    expect(Object.keys(items[0]).sort()).toEqual(
      ["id", "postId", "text", "thread", "platformOptions", "accountId", "handle", "platform", "accountState", "accountRemoved", "status", "waitingFor", "priority", "scheduledFor", "nextAttemptAt", "postedAt", "attempts",
       "lastError", "errorClass", "externalUrl", "cancelRequested", "createdAt", "updatedAt"].sort(),
    );

    await post(cancelRoute.POST, user, { ids: [added[1].items[0].id] });
    const cancelled = await (await get(itemsRoute.GET, user, "?status=cancelled")).json();
    expect(cancelled.items.map((i: QueueItem) => i.text)).toEqual(["second"]);
    expect((await (await get(itemsRoute.GET, user, "?status=failed")).json()).items).toEqual([]);
  });

  it("say when a waiting item is next tried, and nothing for one held by its paused account", async () => {
    const { user, accounts } = await tenant("q-next", 2);
    const waiting = await addPost(user, { text: "later", accountIds: [accounts[0].id] });
    await sql`update public.social_accounts set state = 'paused' where id = ${accounts[1].id}`;
    const held = await addPost(user, { text: "held", accountIds: [accounts[1].id] });
    await sql`update public.queue_items set run_at = 'infinity' where id = ${held.items[0].id}`;
    const { items } = await (await get(itemsRoute.GET, user)).json();
    const byText = Object.fromEntries(items.map((i: QueueItem) => [i.text, i]));
    expect(byText.later.nextAttemptAt).toBe(waiting.items[0].scheduledFor);
    expect(byText.held.nextAttemptAt).toBeNull();
  });

  it("explain a bad limit or status with their paths", async () => {
    const res = await get(itemsRoute.GET, alice, "?limit=0&status=sleeping");
    expect(res.status).toBe(400);
    expect((await paths(res)).sort()).toEqual(["limit", "status"]);
  });
});

describe("cancel", () => {
  it("cancels by account and scheduled time range, leaving everything else", async () => {
    const { user, accounts } = await tenant("q-filter", 2);
    const start = Date.now();
    const t = (h: number) => new Date(start + h * 3600_000).toISOString();
    const a1 = await addPost(user, { text: "1h", accountIds: [accounts[0].id, accounts[1].id], scheduledFor: t(1) });
    const a2 = await addPost(user, { text: "2h", accountIds: [accounts[0].id], scheduledFor: t(2) });
    const a3 = await addPost(user, { text: "3h", accountIds: [accounts[0].id], scheduledFor: t(3) });
    const res = await post(cancelRoute.POST, user, { accountId: accounts[0].id, from: t(0.5), to: t(3) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ cancelled: 2, cancelRequested: 0 });
    const byAccount = (a: { items: QueueItem[] }, account: Account) => a.items.find((i) => i.accountId === account.id)!.id;
    expect(await statusOf([byAccount(a1, accounts[0]), byAccount(a1, accounts[1]), byAccount(a2, accounts[0]), byAccount(a3, accounts[0])])).toEqual({
      [byAccount(a1, accounts[0])]: "cancelled",
      [byAccount(a1, accounts[1])]: "pending",
      [byAccount(a2, accounts[0])]: "cancelled",
      [byAccount(a3, accounts[0])]: "pending",
    });
  });

  it("does not tear an item mid-publish: it asks, and the engine ends it cancelled", async () => {
    const { user, accounts } = await tenant("q-midflight", 1);
    const { items } = await addPost(user, { text: "in flight", accountIds: [accounts[0].id] });
    const id = items[0].id;
    const leaseId = randomUUID();
    // As a worker's claim leaves it: leased, processing, first attempt under way.
    await sql`update public.queue_items set status = 'processing', lease_id = ${leaseId}, lease_expires_at = now() + interval '2 minutes',
                     leased_at = now(), attempts = 1, worker = 'test' where id = ${id}`;
    const res = await post(cancelRoute.POST, user, { ids: [id] });
    expect(await res.json()).toEqual({ cancelled: 0, cancelRequested: 1 });
    const [mid] = await sql`select status, cancel_requested, lease_id from public.queue_items where id = ${id}`;
    expect(mid).toEqual({ status: "processing", cancel_requested: true, lease_id: leaseId });

    // The attempt comes back retryable: instead of a retry, the item ends cancelled.
    const now = new Date();
    await recordOutcomes(sql, [{ id, leaseId, mode: "publish", attempt: 1, outcome: "retryable", errorMessage: "connection refused",
      next: { retryAt: new Date(now.getTime() + 600_000) }, startedAt: now, finishedAt: now, latencyMs: 1, worker: "test" }]);
    expect(await statusOf([id])).toEqual({ [id]: "cancelled" });
  });

  it("cancels an item needing review only when it is named, and asks an item mid-publish to stop once", async () => {
    const { user, accounts } = await tenant("q-cancel-rule", 1);
    const review = (await addPost(user, { text: "needs a look", accountIds: [accounts[0].id] })).items[0].id;
    const flying = (await addPost(user, { text: "in flight", accountIds: [accounts[0].id] })).items[0].id;
    await sql`update public.queue_items set status = 'needs_review' where id = ${review}`;
    await sql`update public.queue_items set status = 'processing', lease_id = ${randomUUID()}, lease_expires_at = now() + interval '2 minutes',
                     leased_at = now(), attempts = 1, worker = 'test' where id = ${flying}`;
    // A filter: the item in flight is asked to stop; the one needing review is a person's decision, left alone.
    expect(await (await post(cancelRoute.POST, user, { accountId: accounts[0].id })).json()).toEqual({ cancelled: 0, cancelRequested: 1 });
    // Asked once is enough: the same filter again changes nothing.
    expect(await (await post(cancelRoute.POST, user, { accountId: accounts[0].id })).json()).toEqual({ cancelled: 0, cancelRequested: 0 });
    expect(await statusOf([review, flying])).toEqual({ [review]: "needs_review", [flying]: "processing" });
    // Named, it is cancelled.
    expect(await (await post(cancelRoute.POST, user, { ids: [review] })).json()).toEqual({ cancelled: 1, cancelRequested: 0 });
    expect(await statusOf([review])).toEqual({ [review]: "cancelled" });
    await sql`update public.queue_items set status = 'cancelled', lease_id = null, lease_expires_at = null where id = ${flying}`;
  });

  it("answers 409 for items already posted, changing nothing", async () => {
    const { user, accounts } = await tenant("q-conflict", 1);
    const { items } = await addPost(user, { text: "done", accountIds: [accounts[0].id] });
    const waiting = await addPost(user, { text: "waiting", accountIds: [accounts[0].id] });
    await sql`update public.queue_items set status = 'posted', posted_at = now() where id = ${items[0].id}`;
    const res = await post(cancelRoute.POST, user, { ids: [waiting.items[0].id, items[0].id] });
    expect(res.status).toBe(409);
    const { error } = await res.json();
    expect(error.code).toBe("queue_item_conflict");
    expect(error.issues).toEqual([{ path: "ids.1", message: `Queue item ${items[0].id} is posted.` }]);
    expect(await statusOf([waiting.items[0].id])).toEqual({ [waiting.items[0].id]: "pending" });
  });

  it("needs ids or a filter", async () => {
    const res = await post(cancelRoute.POST, alice, {});
    expect(res.status).toBe(400);
    expect(await paths(res)).toEqual(["ids"]);
  });

  it("is for editors and up", async () => {
    const { items } = await addPost(alice, { text: "keep", accountIds: [aliceAccounts[0].id] });
    const viewer = await member(aliceWs, "viewer");
    const res = await post(cancelRoute.POST, viewer, { ids: [items[0].id], workspaceId: aliceWs });
    expect(res.status).toBe(403);
    expect(await statusOf([items[0].id])).toEqual({ [items[0].id]: "pending" });
  });
});

describe("retry", () => {
  it("sends failed and needs-review items back to pending, due now", async () => {
    const { user, workspaceId, accounts } = await tenant("q-retry", 1);
    const a = await addPost(user, { text: "failed once", accountIds: [accounts[0].id] });
    const b = await addPost(user, { text: "unsure", accountIds: [accounts[0].id] });
    const [failed, review] = [a.items[0].id, b.items[0].id];
    await sql`update public.queue_items set status = 'failed', attempts = 4, error_class = 'permanent', last_error = 'rejected' where id = ${failed}`;
    await sql`update public.queue_items set status = 'needs_review', error_class = 'unavailable', last_error = 'platform down' where id = ${review}`;
    const before = Date.now();
    const res = await post(retryRoute.POST, user, { ids: [failed, review] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ retried: 2 });
    const rows = await sql`select status, run_at, last_error, error_class from public.queue_items where id = any(${[failed, review]}::bigint[])`;
    for (const r of rows) {
      expect(r).toMatchObject({ status: "pending", last_error: null, error_class: null });
      expect(r.run_at.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(r.run_at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    }
    // Make sure no processing run elsewhere publishes them: the test is about the state change.
    await sql`update public.queue_items set run_at = 'infinity' where id = any(${[failed, review]}::bigint[]) and status = 'pending'`;
    const status = await (await get(statusRoute.GET, user)).json();
    expect(status.counts).toMatchObject({ failed: 0, needs_review: 0 });
    expect(status.total).toBe(2);
    expect(workspaceId).toBe(status.workspaceId);
  });

  it("answers 409 for an item that is posted or still waiting, changing nothing", async () => {
    const { user, accounts } = await tenant("q-retry-409", 1);
    const a = await addPost(user, { text: "posted", accountIds: [accounts[0].id] });
    const b = await addPost(user, { text: "failed", accountIds: [accounts[0].id] });
    const c = await addPost(user, { text: "waiting", accountIds: [accounts[0].id] });
    await sql`update public.queue_items set status = 'posted', posted_at = now() where id = ${a.items[0].id}`;
    await sql`update public.queue_items set status = 'failed' where id = ${b.items[0].id}`;
    const res = await post(retryRoute.POST, user, { ids: [a.items[0].id, b.items[0].id, c.items[0].id] });
    expect(res.status).toBe(409);
    expect((await res.json()).error.issues).toEqual([
      { path: "ids.0", message: `Queue item ${a.items[0].id} is posted.` },
      { path: "ids.2", message: `Queue item ${c.items[0].id} is pending.` },
    ]);
    expect(await statusOf([b.items[0].id])).toEqual({ [b.items[0].id]: "failed" });
  });

  it("is for editors and up, and explains bad ids", async () => {
    const viewer = await member(aliceWs, "viewer");
    expect((await post(retryRoute.POST, viewer, { ids: [1], workspaceId: aliceWs })).status).toBe(403);
    const res = await post(retryRoute.POST, alice, { ids: [0, "x"] });
    expect(res.status).toBe(400);
    expect((await paths(res)).sort()).toEqual(["ids.0", "ids.1"]);
  });
});

describe("processing now", () => {
  it("is for owners and admins only", async () => {
    const viewer = await member(aliceWs, "viewer");
    const editor = await member(aliceWs, "editor");
    for (const user of [viewer, editor]) {
      const res = await post(processRoute.POST, user, { workspaceId: aliceWs });
      expect(res.status).toBe(403);
      expect((await res.json()).error.code).toBe("forbidden");
    }
  });

  it("publishes due items through the sandbox and answers with this workspace's status only", async () => {
    const { user, workspaceId, accounts } = await tenant("q-process", 2);
    const { items } = await addPost(user, { text: `process now ${randomUUID()}`, accountIds: accounts.map((a) => a.id), scheduledFor: new Date().toISOString() });
    const res = await post(processRoute.POST, user, {});
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.ran).toBe(true);
    expect(body.status).toMatchObject({ workspaceId, total: 2, counts: { posted: 2, pending: 0 }, successRate: 1 });
    // What this run did, for the page to say; a second run finds nothing due.
    expect(body.run).toEqual({ claimed: 2, published: 2, failed: 0, retrying: 0, needsReview: 0 });
    const again = await (await post(processRoute.POST, user, {})).json();
    expect(again.run).toEqual({ claimed: 0, published: 0, failed: 0, retrying: 0, needsReview: 0 });

    const rows = await sql`select account_id, status, external_id from public.queue_items where id = any(${items.map((i) => i.id)}::bigint[])`;
    expect(rows.map((r) => r.status)).toEqual(["posted", "posted"]);
    for (const account of accounts) {
      const feed = await (await fetch(`${process.env.PACER_SANDBOX_URL}/v1/admin/posts?handle=${account.handle}`)).json();
      const externalId = rows.find((r) => r.account_id === account.id)!.external_id;
      expect(feed.posts.map((p: { id: string }) => p.id)).toEqual([externalId]);
    }
  }, 60_000);

  it("publishes under the operator's short leases, and signs the history as process now's", async () => {
    // An operator running short calls with short leases (the chaos run's settings): process now must
    // keep its calls inside them rather than refuse to run.
    const saved = { lease: process.env.PACER_LEASE_SECONDS, timeout: process.env.PACER_CALL_TIMEOUT_MS };
    Object.assign(process.env, { PACER_LEASE_SECONDS: "4", PACER_CALL_TIMEOUT_MS: "1500" });
    try {
      const { user, accounts } = await tenant("q-process-short", 1);
      const [item] = (await addPost(user, { text: `short lease ${randomUUID()}`, accountIds: [accounts[0].id], scheduledFor: new Date().toISOString() })).items;
      const res = await post(processRoute.POST, user, {});
      expect(res.status, await res.clone().text()).toBe(200);
      expect(await statusOf([item.id])).toEqual({ [item.id]: "posted" });
      const history = await sql`select worker from public.posting_history where queue_item_id = ${item.id}`;
      expect(history.map((h) => h.worker)).toEqual([expect.stringMatching(/^now-[0-9a-f]{8}$/)]);
    } finally {
      for (const [name, value] of [["PACER_LEASE_SECONDS", saved.lease], ["PACER_CALL_TIMEOUT_MS", saved.timeout]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  }, 60_000);

  it("publishes only the caller's workspace: another tenant's due items stay waiting", async () => {
    const a = await tenant("q-process-a", 1);
    const b = await tenant("q-process-b", 1);
    const now = new Date().toISOString();
    const [mine] = (await addPost(a.user, { text: `a ${randomUUID()}`, accountIds: [a.accounts[0].id], scheduledFor: now })).items;
    const [theirs] = (await addPost(b.user, { text: `b ${randomUUID()}`, accountIds: [b.accounts[0].id], scheduledFor: now, priority: 10 })).items;
    const res = await post(processRoute.POST, a.user, {});
    expect(res.status).toBe(200);
    expect(await statusOf([mine.id, theirs.id])).toEqual({ [mine.id]: "posted", [theirs.id]: "pending" });
    const feed = await (await fetch(`${process.env.PACER_SANDBOX_URL}/v1/admin/posts?handle=${b.accounts[0].handle}`)).json();
    expect(feed.posts).toEqual([]);
    await post(cancelRoute.POST, b.user, { ids: [theirs.id] });
  }, 60_000);

  it("runs once at a time per workspace: a second call while one runs answers 409", async () => {
    const { user, workspaceId } = await tenant("q-process-twice", 0);
    // A run in progress holds the workspace's lease (as the first of two concurrent calls would).
    await sql`insert into private.process_now_runs (workspace_id, lease_id, expires_at)
              values (${workspaceId}, gen_random_uuid(), now() + interval '1 minute')`;
    const res = await post(processRoute.POST, user, {});
    expect(res.status).toBe(409);
    expect((await res.json()).error.code).toBe("already_running");
    // A lease left by a server that died expires, and the next call runs.
    await sql`update private.process_now_runs set expires_at = now() - interval '1 second' where workspace_id = ${workspaceId}`;
    expect((await post(processRoute.POST, user, {})).status).toBe(200);
    expect(await sql`select 1 from private.process_now_runs where workspace_id = ${workspaceId}`).toEqual([]);
  }, 60_000);

  it("lets an admin run it too", async () => {
    const admin = await member(aliceWs, "admin");
    const res = await post(processRoute.POST, admin, { workspaceId: aliceWs });
    expect(res.status).toBe(200);
    expect((await res.json()).status.workspaceId).toBe(aliceWs);
  }, 60_000);
});

describe("tenant isolation on every route", () => {
  let aliceItem: number;

  beforeAll(async () => {
    aliceItem = (await addPost(alice, { text: "alice's secret plan", accountIds: [aliceAccounts[0].id] })).items[0].id;
  });

  it.each(ROUTES)("%s answers 404 for another tenant's workspaceId", async (_name, handler, method) => {
    const res =
      method === "GET"
        ? await get(handler, bob, `?workspaceId=${aliceWs}`)
        : await post(handler, bob, {
            workspaceId: aliceWs,
            ...(handler === addRoute.POST ? { text: "x", accountIds: [aliceAccounts[0].id] } : {}),
            ...(handler === bulkRoute.POST ? { items: [{ text: "x", accountId: aliceAccounts[0].id }] } : {}),
            ...(handler === cancelRoute.POST || handler === retryRoute.POST ? { ids: [aliceItem] } : {}),
          });
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("not_found");
  });

  it("refuses another tenant's account in a bulk row without writing", async () => {
    const before = await countIn(bobWs);
    const res = await post(bulkRoute.POST, bob, { items: [{ text: "mine", accountId: bobAccounts[0].id }, { text: "theirs", accountId: aliceAccounts[0].id }] });
    expect(res.status).toBe(400);
    expect(await paths(res)).toEqual(["items.1.accountId"]);
    expect(await countIn(bobWs)).toEqual(before);
  });

  it("answers 404 for another tenant's item ids in cancel and retry, naming none and changing nothing", async () => {
    const bobItem = (await addPost(bob, { text: "bob's", accountIds: [bobAccounts[0].id] })).items[0].id;
    await sql`update public.queue_items set status = 'failed' where id = ${aliceItem}`;
    for (const handler of [cancelRoute.POST, retryRoute.POST]) {
      const res = await post(handler, bob, { ids: [bobItem, aliceItem] });
      expect(res.status).toBe(404);
      const text = JSON.stringify(await res.json());
      expect(text).not.toContain(String(aliceItem));
    }
    expect(await statusOf([aliceItem, bobItem])).toEqual({ [aliceItem]: "failed", [bobItem]: "pending" });
    await sql`update public.queue_items set status = 'pending' where id = ${aliceItem}`;
  });

  it("answers 404 for another tenant's account in a cancel filter", async () => {
    const res = await post(cancelRoute.POST, bob, { accountId: aliceAccounts[0].id });
    expect(res.status).toBe(404);
    expect(await statusOf([aliceItem])).toEqual({ [aliceItem]: "pending" });
  });

  it("never shows another tenant's items or counts", async () => {
    const { user } = await tenant("q-stranger", 0);
    const status = await (await get(statusRoute.GET, user)).json();
    expect(status.total).toBe(0);
    expect((await (await get(itemsRoute.GET, user, "?limit=200")).json()).items).toEqual([]);
    const bobItems = (await (await get(itemsRoute.GET, bob, "?limit=200")).json()).items as QueueItem[];
    expect(bobItems.length).toBeGreaterThan(0);
    expect(bobItems.filter((i) => bobAccounts.every((a) => a.id !== i.accountId))).toEqual([]);
  });
});

describe("Pacer's own API limits", () => {
  it(`answer 429 with Retry-After after ${API_LIMITS.bulk.limit} bulk requests in a minute`, async () => {
    const { user, accounts } = await tenant("q-limited", 1, "starter");
    const body = { dryRun: true, items: [{ text: "x", accountId: accounts[0].id }] };
    for (let i = 0; i < API_LIMITS.bulk.limit; i++) expect((await post(bulkRoute.POST, user, body)).status).toBe(200);
    const res = await post(bulkRoute.POST, user, body);
    expect(res.status).toBe(429);
    expect((await res.json()).error.code).toBe("rate_limited");
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(API_LIMITS.bulk.windowSeconds);
    // Counted in Postgres, per user: other routes' buckets and other users are unaffected.
    const [row] = await sql`select count from private.api_rate_limits where user_id = ${user.id} and bucket = 'bulk'`;
    expect(row.count).toBe(API_LIMITS.bulk.limit + 1);
    expect((await get(statusRoute.GET, user)).status).toBe(200);
    expect((await post(bulkRoute.POST, bob, { dryRun: true, items: [{ text: "x", accountId: bobAccounts[0].id }] })).status).toBe(200);
  });

  it(`answer 429 after ${API_LIMITS.write.limit} writes in a minute, and open again when the window has passed`, async () => {
    const { user } = await tenant("q-writer", 0);
    for (let i = 0; i < API_LIMITS.write.limit; i++) {
      // Refused for its content (no such item), but counted all the same.
      expect((await post(cancelRoute.POST, user, { ids: [1] })).status).toBe(404);
    }
    const res = await post(cancelRoute.POST, user, { ids: [1] });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // The window is persisted: move its start back a minute, as time passing would.
    await sql`update private.api_rate_limits set window_start = window_start - interval '61 seconds' where user_id = ${user.id} and bucket = 'write'`;
    expect((await post(cancelRoute.POST, user, { ids: [1] })).status).toBe(404);
  });
});
