// Approvals through the real route handlers with real users: while "editors' posts need approval" is
// on, an editor's add waits as a submission (202, nothing queued); an admin approves it (queued once,
// created_by the editor, audited), rejects it with a note, or edits then approves it; every other
// role, another workspace, and the path around the API (straight at the tables as `authenticated`)
// are refused. With the setting off, editors queue as before.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as addRoute from "@/app/api/queue/add/route";
import * as bulkRoute from "@/app/api/queue/bulk-post/route";
import * as approvalsRoute from "@/app/api/approvals/route";
import * as approveRoute from "@/app/api/approvals/[id]/approve/route";
import * as rejectRoute from "@/app/api/approvals/[id]/reject/route";
import * as approveManyRoute from "@/app/api/approvals/approve/route";
import * as settingRoute from "@/app/api/workspace/approval-setting/route";
import * as draftsRoute from "@/app/api/drafts/route";
import * as draftQueueRoute from "@/app/api/drafts/[id]/queue/route";
import * as importRoute from "@/app/api/queue/import/route";
import * as postRoute from "@/app/api/queue/posts/[postId]/route";
import * as itemRoute from "@/app/api/queue/items/[id]/route";
import { addAccounts, asUser, connect, errorOf, type Sql } from "../support/db";
import { subscribe } from "../support/billing";
import { signUp, type TestUser } from "../support/users";

type Handler = (req: Request, ctx: any) => Promise<Response>;

let sql: Sql;
let owner: TestUser;
let admin: TestUser;
let editor: TestUser;
let viewer: TestUser;
let outsider: TestUser;
let ws: string;
let accounts: string[];

const TOMORROW = () => new Date(Date.now() + 24 * 3600_000).toISOString();

function call(handler: Handler, path: string, init: { method?: string; user: TestUser; body?: unknown; params?: Record<string, string> }) {
  const headers = new Headers({ authorization: `Bearer ${init.user.accessToken}` });
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  return handler(new Request(`http://127.0.0.1:3000${path}`, { method: init.method ?? "GET", headers, body }), {
    params: Promise.resolve(init.params ?? {}),
  });
}

const add = (user: TestUser, body: Record<string, unknown> = {}) =>
  call(addRoute.POST, "/api/queue/add", {
    method: "POST",
    user,
    body: { text: `hello ${crypto.randomUUID()}`, accountIds: [accounts[0]], scheduledFor: TOMORROW(), workspaceId: ws, ...body },
  });
const approve = (user: TestUser, id: string, body?: unknown) =>
  call(approveRoute.POST, `/api/approvals/${id}/approve`, { method: "POST", user, body, params: { id } });
const reject = (user: TestUser, id: string, note: unknown) =>
  call(rejectRoute.POST, `/api/approvals/${id}/reject`, { method: "POST", user, body: { note }, params: { id } });
const list = (user: TestUser, query = "") => call(approvalsRoute.GET, `/api/approvals?workspaceId=${ws}${query}`, { user });
const setSetting = (user: TestUser, enabled: boolean) =>
  call(settingRoute.PUT, "/api/workspace/approval-setting", { method: "PUT", user, body: { workspaceId: ws, enabled } });

const counts = async () => {
  const [r] = await sql`select (select count(*)::int from public.posts where workspace_id = ${ws}) as posts,
                               (select count(*)::int from public.queue_items where workspace_id = ${ws}) as items`;
  return r as { posts: number; items: number };
};

/** An editor's post, submitted: answers the submission's id. */
async function submitted(body: Record<string, unknown> = {}): Promise<string> {
  const res = await add(editor, body);
  expect(res.status, await res.clone().text()).toBe(202);
  return ((await res.json()) as { submission: { id: string } }).submission.id;
}

async function join(role: string, label: string) {
  const user = await signUp(label);
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${user.id}, ${role})`;
  return user;
}

beforeAll(async () => {
  sql = connect();
  owner = await signUp("ap-owner");
  [ws] = (await sql`select workspace_id from public.workspace_members where user_id = ${owner.id}`).map((r) => r.workspace_id as string);
  await subscribe(sql, ws, "starter");
  await addAccounts(sql, ws, 2, "ap");
  accounts = (await sql`select id from public.social_accounts where workspace_id = ${ws} order by handle`).map((r) => r.id as string);
  [admin, editor, viewer, outsider] = await Promise.all([join("admin", "ap-admin"), join("editor", "ap-editor"), join("viewer", "ap-viewer"), signUp("ap-out")]);
});
afterAll(() => sql.end());

describe("with the setting off", () => {
  it("editors queue as today", async () => {
    const before = await counts();
    expect((await add(editor)).status).toBe(201);
    expect(await counts()).toEqual({ posts: before.posts + 1, items: before.items + 1 });
  });

  it("an editor may insert a post straight at the table as authenticated", async () => {
    const error = await asUser(sql, editor.id, (tx) =>
      errorOf(tx, (sp) => sp`insert into public.posts (workspace_id, text) values (${ws}, 'direct')`),
    );
    expect(error).toBeNull();
  });
});

describe("the setting", () => {
  it("only admins and owners change it, and the change is audited", async () => {
    expect((await setSetting(editor, true)).status).toBe(403);
    expect((await setSetting(viewer, true)).status).toBe(403);
    const res = await setSetting(admin, true);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ workspaceId: ws, editorPostsNeedApproval: true });
    const [audit] = await sql`select actor_id, new_values from public.audit_log
                              where workspace_id = ${ws} and entity = 'workspaces' order by id desc limit 1`;
    expect(audit.actor_id).toBe(admin.id);
    expect(audit.new_values.editor_posts_need_approval).toBe(true);
  });
});

describe("with the setting on", () => {
  beforeAll(async () => {
    await sql`update public.workspaces set editor_posts_need_approval = true where id = ${ws}`;
  });

  it("an editor's add answers 202 with the submission, and nothing is queued", async () => {
    const before = await counts();
    const res = await add(editor);
    expect(res.status).toBe(202);
    const body = await res.json();
    expect(body.submission).toMatchObject({ status: "submitted", kind: "add", posts: 1 });
    expect(body.submission.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await counts()).toEqual(before);
  });

  it("an editor's bad post is refused at once (400), not stored", async () => {
    const res = await add(editor, { text: "" });
    expect(res.status).toBe(400);
    const [n] = await sql`select count(*)::int as n from public.post_submissions where workspace_id = ${ws} and request ->> 'text' = ''`;
    expect(n.n).toBe(0);
  });

  it("admins' and owners' own posts never wait", async () => {
    const before = await counts();
    expect((await add(admin)).status).toBe(201);
    expect((await add(owner)).status).toBe(201);
    expect(await counts()).toEqual({ posts: before.posts + 2, items: before.items + 2 });
  });

  it("a viewer still cannot queue (403) and sees no approvals (403)", async () => {
    expect((await add(viewer)).status).toBe(403);
    expect((await list(viewer)).status).toBe(403);
  });

  it("approval queues the items once, created_by the editor, audited", async () => {
    const id = await submitted({ accountIds: accounts });
    const before = await counts();
    const res = await approve(admin, id);
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await res.json()).queued).toEqual({ posts: 1, items: 2 });
    expect(await counts()).toEqual({ posts: before.posts + 1, items: before.items + 2 });
    const [post] = await sql`select created_by from public.posts where workspace_id = ${ws} order by created_at desc limit 1`;
    expect(post.created_by).toBe(editor.id);
    const audit = await sql`select action, actor_id from public.audit_log where entity = 'post_submissions' and entity_id = ${id} order by id`;
    expect(audit.map((a) => [a.action, a.actor_id])).toEqual([
      ["submitted", editor.id],
      ["approved", admin.id],
    ]);
    // Approving again queues nothing.
    expect((await approve(owner, id)).status).toBe(409);
    expect(await counts()).toEqual({ posts: before.posts + 1, items: before.items + 2 });
  });

  it("two approvals at once queue the submission once", async () => {
    const id = await submitted();
    const before = await counts();
    const statuses = (await Promise.all([approve(admin, id), approve(owner, id)])).map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409]);
    expect(await counts()).toEqual({ posts: before.posts + 1, items: before.items + 1 });
  });

  it("rejection with a note queues nothing, and the editor sees the note", async () => {
    const id = await submitted();
    const before = await counts();
    expect((await reject(admin, id, "")).status).toBe(400);
    const res = await reject(admin, id, "Too salesy; tone it down.");
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await counts()).toEqual(before);
    expect((await approve(admin, id)).status).toBe(409);
    const mine = await (await list(editor, "&status=rejected")).json();
    expect(mine.submissions.find((s: { id: string }) => s.id === id)).toMatchObject({ status: "rejected", note: "Too salesy; tone it down." });
  });

  it("edit then approve: a bad edit is a 400 and nothing changes; a good one is queued as edited", async () => {
    const id = await submitted();
    const before = await counts();
    const bad = await approve(admin, id, { text: "" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.issues[0].path).toBe("text");
    expect((await approve(admin, id, { workspaceId: ws })).status).toBe(400);
    expect(await counts()).toEqual(before);
    const [still] = await sql`select status from public.post_submissions where id = ${id}`;
    expect(still.status).toBe("submitted");

    const res = await approve(admin, id, { text: "Edited by the admin" });
    expect(res.status, await res.clone().text()).toBe(201);
    const [post] = await sql`select text, created_by from public.posts where workspace_id = ${ws} order by created_at desc limit 1`;
    expect(post).toEqual({ text: "Edited by the admin", created_by: editor.id });
    const [audit] = await sql`select action, old_values from public.audit_log where entity = 'post_submissions' and entity_id = ${id} order by id desc limit 1`;
    expect(audit.action).toBe("edited and approved");
    expect(audit.old_values.request.text).not.toBe("Edited by the admin");
  });

  describe("edit then approve: the thread and Mastodon's options", () => {
    let mastodon: string;
    let savedConnectors: string | undefined;
    beforeAll(async () => {
      savedConnectors = process.env.PACER_CONNECTORS;
      process.env.PACER_CONNECTORS = "mastodon";
      [{ id: mastodon }] = await sql`
        insert into public.social_accounts (workspace_id, platform, handle, display_name)
        values (${ws}, 'mastodon', ${`ap_masto_${crypto.randomUUID().slice(0, 6)}`}, 'Mastodon') returning id`;
    });
    afterAll(() => {
      process.env.PACER_CONNECTORS = savedConnectors;
    });
    const platformOptions = { mastodon: { visibility: "unlisted", contentWarning: "Spoilers" } };

    it("an admin adds a thread and Mastodon options before approving; the post is queued with them", async () => {
      const id = await submitted({ accountIds: [mastodon] });
      const res = await approve(admin, id, { thread: ["second part", "third part"], platformOptions });
      expect(res.status, await res.clone().text()).toBe(201);
      const [post] = await sql`select p.thread, p.platform_options, p.created_by from public.posts p
                               join public.post_submissions s on s.request ->> 'text' = p.text and s.id = ${id}
                               where p.workspace_id = ${ws}`;
      expect(post).toEqual({ thread: ["second part", "third part"], platform_options: platformOptions, created_by: editor.id });
      const [audit] = await sql`select action, old_values from public.audit_log where entity = 'post_submissions' and entity_id = ${id} order by id desc limit 1`;
      expect(audit.action).toBe("edited and approved");
      expect(audit.old_values.request.thread).toBeUndefined();
    });

    it("an admin removes a thread the editor wrote", async () => {
      const id = await submitted({ accountIds: [mastodon], thread: ["a reply"] });
      expect((await approve(admin, id, { thread: [] })).status).toBe(201);
      const [post] = await sql`select p.thread from public.posts p join public.post_submissions s on s.request ->> 'text' = p.text and s.id = ${id}`;
      expect(post.thread ?? []).toEqual([]);
    });

    it("edits are held to the API's rules, by path; nothing is queued and the submission still waits", async () => {
      const id = await submitted({ accountIds: [mastodon] });
      const before = await counts();
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ thread: ["fine", "  "] }, "thread.1"],
        [{ platformOptions: { mastodon: { visibility: "everyone" } } }, "platformOptions.mastodon.visibility"],
        [{ platformOptions: { bluesky: {} } }, "platformOptions"],
        // Checked with the stored post: a thread beside its first comment, a thread to the sandbox.
        [{ thread: ["second"], firstComment: "a comment" }, "thread"],
        [{ thread: ["second"], accountIds: [accounts[0]] }, "thread"],
      ];
      for (const [edits, path] of cases) {
        const res = await approve(admin, id, edits);
        expect(res.status, JSON.stringify(edits)).toBe(400);
        expect((await res.json()).error.issues.map((i: { path: string }) => i.path)).toContain(path);
      }
      expect(await counts()).toEqual(before);
      const [row] = await sql`select status, request from public.post_submissions where id = ${id}`;
      expect(row.status).toBe("submitted");
      expect(row.request.thread).toBeUndefined();
    });

    it("an editor approving their own with a thread, and another workspace's admin, are refused (404); nothing changes", async () => {
      const id = await submitted({ accountIds: [mastodon] });
      const before = await counts();
      for (const user of [editor, outsider]) {
        const res = await approve(user, id, { thread: ["sneaked in"], platformOptions });
        expect(res.status).toBe(404);
      }
      expect(await counts()).toEqual(before);
      const [row] = await sql`select status, request from public.post_submissions where id = ${id}`;
      expect(row.status).toBe("submitted");
      expect(row.request.thread).toBeUndefined();
      expect(row.request.platformOptions).toBeUndefined();
    });
  });

  it("editors, viewers and another workspace's admin cannot decide (404)", async () => {
    const id = await submitted();
    for (const user of [editor, viewer, outsider]) {
      expect((await approve(user, id)).status).toBe(404);
      expect((await reject(user, id, "no")).status).toBe(404);
    }
    const [row] = await sql`select status from public.post_submissions where id = ${id}`;
    expect(row.status).toBe("submitted");
    // The outsider does not see the workspace's submissions either.
    expect((await list(outsider)).status).toBe(404);
  });

  it("admins list every submission; an editor only their own", async () => {
    const other = await join("editor", "ap-editor2");
    const res = await add(other);
    expect(res.status).toBe(202);
    const otherId = (await res.json()).submission.id;
    const all = await (await list(admin, "&status=submitted")).json();
    expect(all.canDecide).toBe(true);
    expect(all.submissions.map((s: { id: string }) => s.id)).toContain(otherId);
    const mine = await (await list(editor)).json();
    expect(mine.canDecide).toBe(false);
    expect(mine.submissions.map((s: { id: string }) => s.id)).not.toContain(otherId);
    expect(mine.submissions.every((s: { submittedBy: string }) => s.submittedBy === editor.id)).toBe(true);
  });

  it("an editor's bulk post waits as one submission; approved, every row is queued", async () => {
    const before = await counts();
    const items = [0, 1, 2].map((i) => ({ text: `bulk ${i}`, accountId: accounts[i % 2], scheduledFor: TOMORROW() }));
    const res = await call(bulkRoute.POST, "/api/queue/bulk-post", { method: "POST", user: editor, body: { workspaceId: ws, items } });
    expect(res.status, await res.clone().text()).toBe(202);
    const { submission } = await res.json();
    expect(submission).toMatchObject({ kind: "bulk", posts: 3 });
    expect(await counts()).toEqual(before);
    expect((await approve(admin, submission.id)).status).toBe(201);
    expect(await counts()).toEqual({ posts: before.posts + 3, items: before.items + 3 });
  });

  it("an editor's queued draft waits as a submission, and the draft is used up", async () => {
    const created = await call(draftsRoute.POST, "/api/drafts", { method: "POST", user: editor, body: { workspaceId: ws, content: { text: "draft" } } });
    expect(created.status, await created.clone().text()).toBe(201);
    const { draft } = await created.json();
    const before = await counts();
    const res = await call(draftQueueRoute.POST, `/api/drafts/${draft.id}/queue`, {
      method: "POST",
      user: editor,
      body: { text: "from a draft", accountIds: [accounts[0]], scheduledFor: TOMORROW() },
      params: { id: draft.id },
    });
    expect(res.status, await res.clone().text()).toBe(202);
    expect((await res.json()).submission.status).toBe("submitted");
    expect(await counts()).toEqual(before);
    expect(await sql`select 1 from public.post_drafts where id = ${draft.id}`).toHaveLength(0);
  });

  describe("an editor's CSV import", () => {
    let handle: string;
    beforeAll(async () => {
      [{ handle }] = await sql`select handle from public.social_accounts where id = ${accounts[0]}`;
    });
    const row = (rowNumber: number, text: string) => ({ rowNumber, text, accounts: `sandbox:${handle}`, scheduled_at: TOMORROW() });
    const chunk = (importId: string, rows: Array<ReturnType<typeof row>>, fileName = "posts.csv") => ({
      importId,
      chunkIndex: 0,
      fileName,
      rowsInFile: rows.length,
      workspaceId: ws,
      rows,
    });
    const importAs = (user: TestUser, body: unknown) => call(importRoute.POST, "/api/queue/import", { method: "POST", user, body });
    const heldRows = (importId: string) =>
      sql`select r.row_number, s.id, s.kind, s.status, s.submitted_by, s.request ->> 'text' as text
          from public.import_rows r join public.post_submissions s on s.id = r.submission_id
          where r.import_id = ${importId} order by r.row_number`;

    it("waits as one submission per row (202), nothing queued; a retried request and the file again submit nothing twice", async () => {
      const importId = crypto.randomUUID();
      const fileName = `held-${importId}.csv`;
      const rows = [row(2, `csv first ${importId}`), row(3, `csv second ${importId}`)];
      const before = await counts();
      const res = await importAs(editor, chunk(importId, rows, fileName));
      expect(res.status, await res.clone().text()).toBe(202);
      expect(await res.json()).toMatchObject({ imported: 0, awaitingApproval: 2, posts: 0, items: 0, alreadyImported: 0 });
      expect(await counts()).toEqual(before);
      const held = await heldRows(importId);
      expect(held.map((h) => [h.row_number, h.kind, h.status, h.submitted_by, h.text])).toEqual([
        [2, "add", "submitted", editor.id, `csv first ${importId}`],
        [3, "add", "submitted", editor.id, `csv second ${importId}`],
      ]);

      // The same request again (a retry), and the same file under a new import id (uploaded again).
      const retry = await importAs(editor, chunk(importId, rows, fileName));
      expect(await retry.json()).toMatchObject({ imported: 0, awaitingApproval: 0, alreadyImported: 2 });
      const again = await importAs(editor, chunk(crypto.randomUUID(), rows, fileName));
      expect(await again.json()).toMatchObject({ imported: 0, awaitingApproval: 0, alreadyImported: 2 });
      const [n] = await sql`select count(*)::int as n from public.post_submissions where request ->> 'text' like ${`csv % ${importId}`}`;
      expect(n.n).toBe(2);

      // The approvals list names each row's file and row; approving one queues it, created by the editor.
      const listed = await (await list(admin, "&status=submitted")).json();
      const first = listed.submissions.find((s: { id: string }) => s.id === held[0].id);
      expect(first.fromImport).toEqual({ importId, fileName, rowNumber: 2 });
      expect((await approve(admin, held[0].id)).status).toBe(201);
      const [post] = await sql`select created_by from public.posts where text = ${`csv first ${importId}`}`;
      expect(post.created_by).toBe(editor.id);
      expect(await counts()).toEqual({ posts: before.posts + 1, items: before.items + 1 });
    });

    it("the import page is told the editor's rows will wait, and an admin's will not", async () => {
      const overview = async (user: TestUser) => (await call(importRoute.GET, `/api/queue/import?workspaceId=${ws}`, { user })).json();
      expect(await overview(editor)).toMatchObject({ canImport: true, rowsWaitForApproval: true });
      expect(await overview(admin)).toMatchObject({ canImport: true, rowsWaitForApproval: false });
    });

    it("a bad row is refused as for anyone (400), and nothing is submitted", async () => {
      const importId = crypto.randomUUID();
      const res = await importAs(editor, chunk(importId, [row(2, `fine ${importId}`), { ...row(3, "bad"), accounts: "sandbox:nobody_here" }]));
      expect(res.status).toBe(400);
      expect((await res.json()).error.issues[0].path).toMatch(/^rows\.1\.accounts/);
      expect(await sql`select 1 from public.post_submissions where request ->> 'text' = ${`fine ${importId}`}`).toHaveLength(0);
    });

    it("an admin's import is queued at once (201), not held", async () => {
      const before = await counts();
      const res = await importAs(admin, chunk(crypto.randomUUID(), [row(2, `admin csv ${crypto.randomUUID()}`)]));
      expect(res.status, await res.clone().text()).toBe(201);
      expect(await res.json()).toMatchObject({ imported: 1, awaitingApproval: 0 });
      expect(await counts()).toEqual({ posts: before.posts + 1, items: before.items + 1 });
    });

    it("a row held for approval cannot name another member's submission, or another workspace's, straight at the table", async () => {
      const theirs = await submitted(); // the editor's
      const other = await join("editor", "ap-editor3");
      const importId = crypto.randomUUID();
      await sql`insert into public.imports (id, workspace_id, file_name, rows_in_file) values (${importId}, ${ws}, 'x.csv', 1)`;
      const insertRow = (user: TestUser, submissionId: string) =>
        asUser(sql, user.id, (tx) =>
          errorOf(tx, (sp) => sp`insert into public.import_rows (workspace_id, import_id, row_number, submission_id, fingerprint)
                                  values (${ws}, ${importId}, 2, ${submissionId}, ${"a".repeat(64)})`),
        );
      expect((await insertRow(other, theirs))?.message).toMatch(/row-level security/);
      // A submission of another workspace (even one the editor sent there) cannot be named for this workspace's import.
      const [{ workspace_id: outWs }] = await sql`select workspace_id from public.workspace_members where user_id = ${outsider.id}`;
      const [elsewhere] = await sql`insert into public.post_submissions (workspace_id, submitted_by, kind, request, posts)
                                    values (${outWs}, ${editor.id}, 'add', '{}', 1) returning id`;
      expect(await insertRow(editor, elsewhere.id)).not.toBeNull();
      // The editor's own submission is the only one they may name.
      expect(await insertRow(editor, theirs)).toBeNull();
    });
  });

  describe("approving several at once", () => {
    const approveMany = (user: TestUser, ids: unknown) =>
      call(approveManyRoute.POST, "/api/approvals/approve", { method: "POST", user, body: { ids } });

    it("queues each, reports the ones it could not, and refuses editors and other workspaces", async () => {
      const [a, b, decided] = [await submitted(), await submitted(), await submitted()];
      expect((await reject(admin, decided, "no")).status).toBe(200);
      const before = await counts();

      for (const user of [editor, outsider]) {
        const res = await approveMany(user, [a, b]);
        expect(res.status).toBe(200);
        const body = await res.json();
        expect(body.approved).toEqual([]);
        expect(body.notApproved.map((n: { code: string }) => n.code)).toEqual(["not_found", "not_found"]);
      }
      expect(await counts()).toEqual(before);

      const res = await approveMany(admin, [a, decided, b]);
      expect(res.status, await res.clone().text()).toBe(200);
      const body = await res.json();
      expect(body.approved).toEqual([
        { id: a, posts: 1, items: 1 },
        { id: b, posts: 1, items: 1 },
      ]);
      expect(body.notApproved).toEqual([{ id: decided, code: "submission_decided", message: expect.stringContaining("already rejected") }]);
      expect(await counts()).toEqual({ posts: before.posts + 2, items: before.items + 2 });
      const created = await sql`select created_by from public.posts where workspace_id = ${ws} order by created_at desc limit 2`;
      expect(created.map((r) => r.created_by)).toEqual([editor.id, editor.id]);
      expect((await approveMany(admin, [])).status).toBe(400);
      expect((await approveMany(admin, ["not-a-uuid"])).status).toBe(400);
    });
  });

  it("an editor cannot insert posts or queue items straight at the tables as authenticated", async () => {
    const [existing] = await sql`select id from public.posts where workspace_id = ${ws} limit 1`;
    const [postError, itemError] = await asUser(sql, editor.id, async (tx) => [
      await errorOf(tx, (sp) => sp`insert into public.posts (workspace_id, text) values (${ws}, 'around the API')`),
      await errorOf(tx, (sp) => sp`insert into public.queue_items (workspace_id, post_id, account_id, scheduled_for, run_at)
                                    values (${ws}, ${existing.id}, ${accounts[1]}, now() + interval '1 day', now() + interval '1 day')`),
    ]);
    expect(postError?.message).toMatch(/need approval/);
    expect(itemError?.message).toMatch(/need approval/);
    // An admin still may.
    const adminError = await asUser(sql, admin.id, (tx) =>
      errorOf(tx, (sp) => sp`insert into public.posts (workspace_id, text) values (${ws}, 'admin direct')`),
    );
    expect(adminError).toBeNull();
  });

  it("an approved post stays as approved: an editor's edit is refused (409), by the API and at the table; an admin's is not", async () => {
    const id = await submitted({ text: "as approved" });
    expect((await approve(admin, id)).status).toBe(201);
    const [post] = await sql`select id from public.posts where workspace_id = ${ws} and created_by = ${editor.id} and text = 'as approved'`;
    const edit = (user: TestUser, body: Record<string, unknown>) =>
      call(postRoute.PATCH, `/api/queue/posts/${post.id}`, { method: "PATCH", user, body: { workspaceId: ws, ...body }, params: { postId: post.id } });
    const text = async () => (await sql`select text, thread from public.posts where id = ${post.id}`)[0];

    // The item's detail does not offer the editor an edit, and says why.
    const [item] = await sql`select id from public.queue_items where post_id = ${post.id}`;
    const detail = async (user: TestUser) =>
      (await call(itemRoute.GET, `/api/queue/items/${item.id}?workspaceId=${ws}`, { user, params: { id: String(item.id) } })).json();
    expect(await detail(editor)).toMatchObject({ editable: false, editRefusal: "approval_required" });
    expect(await detail(admin)).toMatchObject({ editable: true, editRefusal: null });

    const refused = await edit(editor, { text: "not what was approved" });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: { code: "approval_required" } });
    // Around the API, straight at the table as the editor.
    const direct = await asUser(sql, editor.id, (tx) => errorOf(tx, (sp) => sp`update public.posts set text = 'around the API' where id = ${post.id}`));
    expect(direct?.message).toMatch(/need approval/);
    expect(await text()).toEqual({ text: "as approved", thread: [] });

    const byAdmin = await edit(admin, { text: "an admin's correction" });
    expect(byAdmin.status, await byAdmin.clone().text()).toBe(200);
    expect((await text()).text).toBe("an admin's correction");
  });

  it("an editor cannot approve by calling the database function directly", async () => {
    const id = await submitted();
    const error = await asUser(sql, editor.id, (tx) => errorOf(tx, (sp) => sp`select private.approve_submission(${id})`));
    expect(error?.code).toBe("P0002");
  });
});
