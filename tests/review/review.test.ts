// The review queue through its real route handlers with real tokens: what a person sees, the rules
// of "mark posted", retry and cancel from review, acknowledging a missing or duplicate post, the audit log, and
// tenant isolation (another workspace's user; a viewer where an editor is needed). Items are
// scheduled for tomorrow, so no processing run elsewhere in the suite touches them.
import { beforeAll, afterAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import * as reviewRoute from "@/app/api/review/route";
import * as markRoute from "@/app/api/review/mark-posted/route";
import * as retryRoute from "@/app/api/review/retry/route";
import * as cancelRoute from "@/app/api/review/cancel/route";
import * as ackRoute from "@/app/api/review/acknowledge/route";
import * as ackDuplicatesRoute from "@/app/api/review/acknowledge-duplicates/route";
import { connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";

type Handler = (req: Request, ctx: any) => Promise<Response>;

let sql: Sql;
let alice: TestUser; // owner
let ed: TestUser; // editor in Alice's workspace
let vic: TestUser; // viewer in Alice's workspace
let bob: TestUser; // another workspace's owner
let ws: string;
let bobWs: string;
let accountId: string;
let bobAccountId: string;

const TOMORROW = () => new Date(Date.now() + 24 * 3600_000);

async function workspaceOf(user: TestUser): Promise<string> {
  const [m] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
  return m.workspace_id;
}

async function account(workspaceId: string, state = "active"): Promise<string> {
  const handle = `rv_${randomUUID().slice(0, 10)}`;
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, state)
                        values (${workspaceId}, 'sandbox', ${handle}, ${handle}, ${state}) returning id`;
  return a.id;
}

/** An item in `status`, with a publish attempt (outcome unknown) and an unanswered lookup in its history. */
async function item(workspaceId: string, acct: string, status: string, extra: { leased?: boolean } = {}): Promise<number> {
  const [p] = await sql`insert into public.posts (workspace_id, text) values (${workspaceId}, ${`review ${randomUUID()}`}) returning id`;
  const leased = extra.leased ?? false;
  const [q] = await sql`
    insert into public.queue_items (workspace_id, post_id, account_id, scheduled_for, run_at, status, attempts, last_error, error_class,
                                    lease_id, lease_expires_at)
    values (${workspaceId}, ${p.id}, ${acct}, ${TOMORROW()}, ${TOMORROW()}, ${status}, 1, 'The platform could not be asked.', 'unavailable',
            ${leased ? randomUUID() : null}, ${leased ? TOMORROW() : null})
    returning id`;
  const started = new Date(Date.now() - 60_000);
  await sql`insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, kind, attempt,
                                                started_at, finished_at, outcome, error_message, external_id)
            values (${q.id}, ${workspaceId}, ${acct}, 'sandbox', 'post', 'publish', 1, ${started}, ${new Date(started.getTime() + 30_000)},
                    'unknown', 'timed out', null),
                   (${q.id}, ${workspaceId}, ${acct}, 'sandbox', 'post', 'verify', 1, ${new Date(started.getTime() + 40_000)},
                    ${new Date(started.getTime() + 41_000)}, 'unavailable', 'HTTP 503', 'ext-seen-' || ${q.id})`;
  return Number(q.id);
}

function call(handler: Handler, path: string, user: TestUser | null, body?: unknown) {
  const headers = new Headers();
  if (user) headers.set("authorization", `Bearer ${user.accessToken}`);
  if (body !== undefined) headers.set("content-type", "application/json");
  const init = { method: body === undefined ? "GET" : "POST", headers, body: body === undefined ? undefined : JSON.stringify(body) };
  return handler(new Request(`http://127.0.0.1:3000${path}`, init), { params: Promise.resolve({}) });
}

const list = (user: TestUser, query = "") => call(reviewRoute.GET, `/api/review${query}`, user);
const mark = (user: TestUser, body: unknown) => call(markRoute.POST, "/api/review/mark-posted", user, body);
const statusOf = async (id: number) => (await sql`select status from public.queue_items where id = ${id}`)[0].status;
const auditOf = (id: number) =>
  sql`select actor_id, action, old_values, new_values from public.audit_log where entity = 'queue_items' and entity_id = ${String(id)} order by id`;

beforeAll(async () => {
  sql = connect();
  [alice, ed, vic, bob] = await Promise.all([signUp("rv-alice"), signUp("rv-ed"), signUp("rv-vic"), signUp("rv-bob")]);
  [ws, bobWs] = await Promise.all([workspaceOf(alice), workspaceOf(bob)]);
  await sql`insert into public.workspace_members (workspace_id, user_id, role)
            values (${ws}, ${ed.id}, 'editor'), (${ws}, ${vic.id}, 'viewer')`;
  [accountId, bobAccountId] = await Promise.all([account(ws), account(bobWs)]);
});
afterAll(() => sql.end());

describe("GET /api/review", () => {
  it("lists items needing review with their attempts and the external ids seen, to any member, never another workspace's", async () => {
    const mine = await item(ws, accountId, "needs_review");
    const bobs = await item(bobWs, bobAccountId, "needs_review");
    const waiting = await item(ws, accountId, "pending");

    const res = await list(vic, `?workspaceId=${ws}`);
    expect(res.status).toBe(200);
    const body = await res.json();
    const ids = body.items.map((i: { id: number }) => i.id);
    expect(ids).toContain(mine);
    expect(ids).not.toContain(bobs);
    expect(ids).not.toContain(waiting);
    const entry = body.items.find((i: { id: number }) => i.id === mine);
    expect(entry).toMatchObject({ status: "needs_review", attempts: 1, lastError: "The platform could not be asked.", externalIdsSeen: [`ext-seen-${mine}`] });
    expect(entry.history.map((h: { kind: string; outcome: string }) => `${h.kind}:${h.outcome}`)).toEqual(["publish:unknown", "verify:unavailable"]);

    // Bob's own list never shows Alice's item; naming Alice's workspace is a 404.
    expect((await (await list(bob)).json()).items.map((i: { id: number }) => i.id)).not.toContain(mine);
    expect((await list(bob, `?workspaceId=${ws}`)).status).toBe(404);
    expect((await call(reviewRoute.GET, "/api/review", null)).status).toBe(401);
  });

  it("lists accounts needing a person (read-only)", async () => {
    const restricted = await account(ws, "restricted");
    const healthy = await account(ws, "active");
    const accounts = (await (await list(alice)).json()).accounts.map((a: { id: string }) => a.id);
    expect(accounts).toContain(restricted);
    expect(accounts).not.toContain(healthy);
  });
});

describe("POST /api/review/mark-posted", () => {
  it("settles an item needing review as posted, with a history row and an audit row saying who", async () => {
    const id = await item(ws, accountId, "needs_review");
    const res = await mark(ed, { workspaceId: ws, id, externalId: "12345", url: "https://sandbox.example/p/12345" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, status: "posted", externalId: "12345", externalUrl: "https://sandbox.example/p/12345" });

    const [q] = await sql`select status, external_id, last_error, posted_at from public.queue_items where id = ${id}`;
    expect(q).toMatchObject({ status: "posted", external_id: "12345", last_error: null });
    // Dated by the publish attempt that landed, not by the click.
    const [publish] = await sql`select started_at from public.posting_history where queue_item_id = ${id} and kind = 'publish'`;
    expect(q.posted_at.getTime()).toBe(publish.started_at.getTime());
    const [h] = await sql`select kind, outcome, actor_id, external_id from public.posting_history where queue_item_id = ${id} and kind = 'review'`;
    expect(h).toEqual({ kind: "review", outcome: "posted", actor_id: ed.id, external_id: "12345" });
    const audit = await auditOf(id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_id: ed.id, action: "review.mark_posted", old_values: { status: "needs_review" }, new_values: { status: "posted" } });

    // Posted now: a second decision is a conflict.
    const again = await mark(ed, { workspaceId: ws, id, externalId: "999" });
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe("queue_item_conflict");
  });

  it("allows failed and idle verifying items; refuses waiting, in-flight and cancelled ones", async () => {
    const failed = await item(ws, accountId, "failed");
    const verifying = await item(ws, accountId, "verifying");
    expect((await mark(alice, { id: failed, url: "https://sandbox.example/p/1" })).status).toBe(200);
    expect((await mark(alice, { id: verifying, externalId: "v1" })).status).toBe(200);

    for (const [status, leased] of [["pending", false], ["rate_limited", false], ["cancelled", false], ["verifying", true], ["processing", true]] as const) {
      const id = await item(ws, accountId, status, { leased });
      const res = await mark(alice, { id, externalId: "x" });
      expect(res.status, `${status}${leased ? " (leased)" : ""}`).toBe(409);
      expect(await statusOf(id)).toBe(status);
    }
  });

  it("needs an id or a link, and an editor or above of the item's own workspace", async () => {
    const id = await item(ws, accountId, "needs_review");
    const bare = await mark(alice, { id });
    expect(bare.status).toBe(400);
    expect((await bare.json()).error.issues[0].path).toBe("externalId");
    expect((await mark(alice, { id, url: "javascript:alert(1)" })).status).toBe(400);

    // A viewer may look, not decide.
    const viewer = await mark(vic, { workspaceId: ws, id, externalId: "1" });
    expect(viewer.status).toBe(403);
    // Another workspace's owner: Alice's workspace is not found, and Alice's item is not in Bob's.
    expect((await mark(bob, { workspaceId: ws, id, externalId: "1" })).status).toBe(404);
    expect((await mark(bob, { id, externalId: "1" })).status).toBe(404);
    expect(await statusOf(id)).toBe("needs_review");
    expect(await auditOf(id)).toEqual([]);
  });
});

describe("retry, cancel and acknowledge from review", () => {
  it("retries and cancels items needing review, audited with who; viewers and other workspaces are refused", async () => {
    const toRetry = await item(ws, accountId, "needs_review");
    const toCancel = await item(ws, accountId, "needs_review");

    expect((await call(retryRoute.POST, "/api/review/retry", vic, { workspaceId: ws, ids: [toRetry] })).status).toBe(403);
    expect((await call(retryRoute.POST, "/api/review/retry", bob, { ids: [toRetry] })).status).toBe(404);
    expect((await call(cancelRoute.POST, "/api/review/cancel", vic, { workspaceId: ws, ids: [toCancel] })).status).toBe(403);
    expect((await call(cancelRoute.POST, "/api/review/cancel", bob, { ids: [toCancel] })).status).toBe(404);
    expect([await statusOf(toRetry), await statusOf(toCancel)]).toEqual(["needs_review", "needs_review"]);

    const retried = await call(retryRoute.POST, "/api/review/retry", ed, { workspaceId: ws, ids: [toRetry] });
    expect(await retried.json()).toEqual({ retried: 1 });
    const cancelled = await call(cancelRoute.POST, "/api/review/cancel", ed, { workspaceId: ws, ids: [toCancel] });
    expect(await cancelled.json()).toEqual({ cancelled: 1, cancelRequested: 0 });
    expect([await statusOf(toRetry), await statusOf(toCancel)]).toEqual(["pending", "cancelled"]);
    expect(await auditOf(toRetry)).toMatchObject([{ actor_id: ed.id, action: "review.retry", old_values: { status: "needs_review" }, new_values: { status: "pending" } }]);
    expect(await auditOf(toCancel)).toMatchObject([{ actor_id: ed.id, action: "review.cancel", old_values: { status: "needs_review" }, new_values: { status: "cancelled" } }]);

    // A posted item cannot be retried: 409, and nothing audited.
    const posted = await item(ws, accountId, "posted");
    const refused = await call(retryRoute.POST, "/api/review/retry", ed, { workspaceId: ws, ids: [posted] });
    expect(refused.status).toBe(409);
    expect(await auditOf(posted)).toEqual([]);
  });

  it("shows missing posts until an editor acknowledges them", async () => {
    const id = await item(ws, accountId, "posted");
    await sql`insert into public.missing_posts (queue_item_id, workspace_id, account_id, external_id) values (${id}, ${ws}, ${accountId}, 'gone-1')`;
    const shown = async (user: TestUser, query = "") => (await (await list(user, query)).json()).missingPosts.map((m: { queueItemId: number }) => m.queueItemId);
    expect(await shown(vic, `?workspaceId=${ws}`)).toContain(id);
    expect(await shown(bob)).not.toContain(id);

    expect((await call(ackRoute.POST, "/api/review/acknowledge", vic, { workspaceId: ws, ids: [id] })).status).toBe(403);
    // Bob acknowledging in his own workspace touches nothing of Alice's.
    expect(await (await call(ackRoute.POST, "/api/review/acknowledge", bob, { ids: [id] })).json()).toEqual({ acknowledged: 0 });
    expect(await shown(alice)).toContain(id);

    expect(await (await call(ackRoute.POST, "/api/review/acknowledge", ed, { workspaceId: ws, ids: [id] })).json()).toEqual({ acknowledged: 1 });
    expect(await shown(alice)).not.toContain(id);
    const [m] = await sql`select resolution, resolved_by from public.missing_posts where queue_item_id = ${id}`;
    expect(m).toEqual({ resolution: "acknowledged", resolved_by: ed.id });
    expect(await auditOf(id)).toMatchObject([{ actor_id: ed.id, action: "review.acknowledge_missing" }]);
  });

  it("shows duplicate posts until an editor acknowledges them", async () => {
    const id = await item(ws, accountId, "posted");
    await sql`insert into public.duplicate_posts (queue_item_id, external_id, workspace_id, account_id, external_url, kept_external_id)
              values (${id}, 'extra-1', ${ws}, ${accountId}, 'https://example.test/p/extra-1', 'kept-1')`;
    const shown = async (user: TestUser, query = "") => (await (await list(user, query)).json()).duplicatePosts as Array<Record<string, unknown>>;
    expect((await shown(vic, `?workspaceId=${ws}`)).find((d) => d.queueItemId === id)).toMatchObject({
      queueItemId: id, accountId, externalId: "extra-1", externalUrl: "https://example.test/p/extra-1", keptExternalId: "kept-1",
    });
    expect((await shown(bob)).map((d) => d.queueItemId)).not.toContain(id);

    const ack = (user: TestUser, body: unknown) => call(ackDuplicatesRoute.POST, "/api/review/acknowledge-duplicates", user, body);
    expect((await ack(vic, { workspaceId: ws, ids: [id] })).status).toBe(403);
    // Bob acknowledging in his own workspace touches nothing of Alice's.
    expect(await (await ack(bob, { ids: [id] })).json()).toEqual({ acknowledged: 0 });
    expect((await shown(alice)).map((d) => d.queueItemId)).toContain(id);

    expect(await (await ack(ed, { workspaceId: ws, ids: [id] })).json()).toEqual({ acknowledged: 1 });
    expect((await shown(alice)).map((d) => d.queueItemId)).not.toContain(id);
    const [d] = await sql`select resolution, resolved_by from public.duplicate_posts where queue_item_id = ${id}`;
    expect(d).toEqual({ resolution: "acknowledged", resolved_by: ed.id });
    expect(await auditOf(id)).toMatchObject([{ actor_id: ed.id, action: "review.acknowledge_duplicate" }]);
  });
});
