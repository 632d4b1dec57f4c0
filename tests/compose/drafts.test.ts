// Post drafts: shared by a workspace's editors, admins and owners; invisible to viewers and to other
// workspaces, through the API and straight at the table; and queueing one deletes it in the same
// transaction as its post is queued (refused → the draft stays; twice → queued once).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as accountsRoute from "@/app/api/accounts/route";
import * as draftsRoute from "@/app/api/drafts/route";
import * as draftRoute from "@/app/api/drafts/[id]/route";
import * as queueDraftRoute from "@/app/api/drafts/[id]/queue/route";
import { asUser, connect, errorOf, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";
import { call } from "./support";
import { emptyComposer, fromDraftContent, toDraftContent } from "@/components/compose/form";

let sql: Sql;
let owner: TestUser;
let editor: TestUser;
let viewer: TestUser;
let stranger: TestUser;
let ws: string;
let accountId: string;

const TOMORROW = () => new Date(Date.now() + 24 * 3600_000).toISOString();

beforeAll(async () => {
  sql = connect();
  [owner, editor, viewer, stranger] = await Promise.all(["owner", "editor", "viewer", "stranger"].map((r) => signUp(`drafts-${r}`)));
  [{ workspace_id: ws }] = await sql`select workspace_id from public.workspace_members where user_id = ${owner.id}`;
  await sql`insert into public.workspace_members (workspace_id, user_id, role)
            values (${ws}, ${editor.id}, 'editor'), (${ws}, ${viewer.id}, 'viewer')`;
  const made = await call(accountsRoute.POST, owner, "/api/accounts", { method: "POST", body: { platform: "sandbox", handle: `drafts_${Date.now()}` } });
  expect(made.status).toBe(201);
  accountId = (await made.json()).account.id;
});
afterAll(() => sql.end());

async function saveDraft(user: TestUser, content: Record<string, unknown>) {
  const res = await call(draftsRoute.POST, user, "/api/drafts", { method: "POST", body: { content, workspaceId: ws } });
  expect(res.status).toBe(201);
  return (await res.json()).draft as { id: string; content: Record<string, unknown>; createdBy: string };
}

const draftExists = async (id: string) => (await sql`select 1 from public.post_drafts where id = ${id}`).length === 1;
const postsWithText = async (text: string) => (await sql`select count(*)::int as n from public.posts where text = ${text}`)[0].n as number;

describe("saving and sharing drafts", () => {
  it("saves an unfinished draft (no text, no account) and lists it to the workspace's editors", async () => {
    const draft = await saveDraft(owner, { text: "", priority: 7 });
    expect(draft.createdBy).toBe(owner.id);
    const listed = await call(draftsRoute.GET, editor, `/api/drafts?workspaceId=${ws}`);
    expect(listed.status).toBe(200);
    expect((await listed.json()).drafts.map((d: { id: string }) => d.id)).toContain(draft.id);
  });

  it("lets an editor change and discard an owner's draft (shared, as Buffer does)", async () => {
    const draft = await saveDraft(owner, { text: "first words" });
    const patched = await call(draftRoute.PATCH, editor, `/api/drafts/${draft.id}`, {
      method: "PATCH",
      params: { id: draft.id },
      body: { content: { text: "better words", accountIds: [accountId] } },
    });
    expect(patched.status).toBe(200);
    expect((await patched.json()).draft.content).toEqual({ text: "better words", accountIds: [accountId] });
    const gone = await call(draftRoute.DELETE, editor, `/api/drafts/${draft.id}`, { method: "DELETE", params: { id: draft.id } });
    expect(gone.status).toBe(204);
    expect(await draftExists(draft.id)).toBe(false);
  });

  it("checks a draft's fields with the queue's own rules, naming the field", async () => {
    const res = await call(draftsRoute.POST, owner, "/api/drafts", {
      method: "POST",
      body: { content: { text: "x", mediaUrls: ["http://example.com/a.jpg"], priority: 11 } },
    });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.issues.map((i: { path: string }) => i.path).sort()).toEqual(["content.mediaUrls.0", "content.priority"]);
  });
});

describe("who cannot see or touch drafts", () => {
  let draftId: string;
  beforeAll(async () => {
    draftId = (await saveDraft(owner, { text: "secret plans" })).id;
  });

  it("refuses a viewer through the API: listing is 403, changing and discarding 404", async () => {
    expect((await call(draftsRoute.GET, viewer, `/api/drafts?workspaceId=${ws}`)).status).toBe(403);
    const post = await call(draftsRoute.POST, viewer, "/api/drafts", { method: "POST", body: { content: { text: "x" }, workspaceId: ws } });
    expect(post.status).toBe(403);
    const patch = await call(draftRoute.PATCH, viewer, `/api/drafts/${draftId}`, { method: "PATCH", params: { id: draftId }, body: { content: { text: "mine" } } });
    expect(patch.status).toBe(404);
    expect((await call(draftRoute.DELETE, viewer, `/api/drafts/${draftId}`, { method: "DELETE", params: { id: draftId } })).status).toBe(404);
    const queued = await call(queueDraftRoute.POST, viewer, `/api/drafts/${draftId}/queue`, {
      method: "POST",
      params: { id: draftId },
      body: { text: "secret plans", accountIds: [accountId] },
    });
    expect(queued.status).toBe(404);
    expect(await draftExists(draftId)).toBe(true);
  });

  it("refuses another workspace's user through the API", async () => {
    expect((await call(draftsRoute.GET, stranger, `/api/drafts?workspaceId=${ws}`)).status).toBe(404);
    const own = await call(draftsRoute.GET, stranger, "/api/drafts");
    expect((await own.json()).drafts).toEqual([]);
    const patch = await call(draftRoute.PATCH, stranger, `/api/drafts/${draftId}`, { method: "PATCH", params: { id: draftId }, body: { content: { text: "pwned" } } });
    expect(patch.status).toBe(404);
    expect((await call(draftRoute.DELETE, stranger, `/api/drafts/${draftId}`, { method: "DELETE", params: { id: draftId } })).status).toBe(404);
  });

  it("gives a viewer and another workspace nothing straight at the table, as supabase-js would", async () => {
    for (const user of [viewer, stranger]) {
      await asUser(sql, user.id, async (tx) => {
        expect(await tx`select * from public.post_drafts where workspace_id = ${ws}`).toHaveLength(0);
        expect(await tx`update public.post_drafts set content = '{"text":"pwned"}' where id = ${draftId} returning 1`).toHaveLength(0);
        expect(await tx`delete from public.post_drafts where id = ${draftId} returning 1`).toHaveLength(0);
        const insert = await errorOf(tx, (sp) => sp`insert into public.post_drafts (workspace_id, content) values (${ws}, '{}')`);
        expect(insert?.message).toMatch(/row-level security/);
      });
    }
    await asUser(sql, editor.id, async (tx) => {
      // Nor can an editor move a draft into another workspace or pose as its author.
      const move = await errorOf(tx, (sp) => sp`update public.post_drafts set workspace_id = gen_random_uuid() where id = ${draftId}`);
      expect(move?.message).toMatch(/permission denied/);
      const author = await errorOf(tx, (sp) => sp`update public.post_drafts set created_by = ${editor.id} where id = ${draftId}`);
      expect(author?.message).toMatch(/permission denied/);
      expect(await tx`select 1 from public.post_drafts where id = ${draftId}`).toHaveLength(1);
    });
    const [row] = await sql`select content from public.post_drafts where id = ${draftId}`;
    expect(row.content).toEqual({ text: "secret plans" });
  });
});

describe("queueing a draft", () => {
  it("queues the post and deletes the draft together; a second try finds no draft and queues nothing more", async () => {
    const text = `from a draft ${crypto.randomUUID()}`;
    const draft = await saveDraft(editor, { text, accountIds: [accountId] });
    const body = { text, accountIds: [accountId], scheduledFor: TOMORROW() };
    const res = await call(queueDraftRoute.POST, editor, `/api/drafts/${draft.id}/queue`, { method: "POST", params: { id: draft.id }, body });
    expect(res.status).toBe(201);
    expect((await res.json()).items).toHaveLength(1);
    expect(await draftExists(draft.id)).toBe(false);
    expect(await postsWithText(text)).toBe(1);
    const [audit] = await sql`select actor_id from public.audit_log where entity = 'post_drafts' and entity_id = ${draft.id} and action = 'delete'`;
    expect(audit.actor_id).toBe(editor.id);

    const again = await call(queueDraftRoute.POST, editor, `/api/drafts/${draft.id}/queue`, { method: "POST", params: { id: draft.id }, body });
    expect(again.status).toBe(404);
    expect(await postsWithText(text)).toBe(1);
  });

  it("keeps the draft when the post is refused, with the refusal on its field", async () => {
    const text = `refused ${crypto.randomUUID()}`;
    const draft = await saveDraft(owner, { text });
    const res = await call(queueDraftRoute.POST, owner, `/api/drafts/${draft.id}/queue`, {
      method: "POST",
      params: { id: draft.id },
      body: { text, accountIds: [accountId, crypto.randomUUID()] },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.issues).toEqual([{ path: "accountIds.1", message: "There is no account with this id in this workspace." }]);
    expect(await draftExists(draft.id)).toBe(true);
    expect(await postsWithText(text)).toBe(0);
  });

  it("two racing queue requests for one draft queue it once", async () => {
    const text = `raced ${crypto.randomUUID()}`;
    const draft = await saveDraft(owner, { text });
    const body = { text, accountIds: [accountId], scheduledFor: TOMORROW() };
    const statuses = await Promise.all(
      [owner, editor].map(async (u) => (await call(queueDraftRoute.POST, u, `/api/drafts/${draft.id}/queue`, { method: "POST", params: { id: draft.id }, body })).status),
    );
    expect(statuses.sort()).toEqual([201, 404]);
    expect(await postsWithText(text)).toBe(1);
  });
});

describe("a draft with a thread and Mastodon options", () => {
  it("keeps the parts and options through the API, and reopens with them", async () => {
    const values = {
      ...emptyComposer,
      text: "1/3",
      accountIds: [accountId],
      thread: [{ text: "2/3" }, { text: "" }, { text: "3/3" }],
      visibility: "unlisted" as const,
      contentWarning: "spoilers",
    };
    const saved = await saveDraft(owner, toDraftContent(values, "UTC").content);
    const listed = await call(draftsRoute.GET, editor, `/api/drafts?workspaceId=${ws}`);
    const draft = (await listed.json()).drafts.find((d: { id: string }) => d.id === saved.id);
    expect(fromDraftContent(draft.content, "UTC")).toMatchObject({
      thread: [{ text: "2/3" }, { text: "3/3" }],
      visibility: "unlisted",
      contentWarning: "spoilers",
    });
  });
});
