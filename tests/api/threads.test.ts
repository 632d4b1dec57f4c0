// Threads and platform options at enqueue (issue 10): stored and returned, every part held to each
// platform's limit with its own path (thread.N), a thread refused with a first comment or for a
// platform whose connector posts no threads, bad options named by path — and nothing queued then.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as addRoute from "@/app/api/queue/add/route";
import * as bulkRoute from "@/app/api/queue/bulk-post/route";
import { connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";

const BASE = "http://127.0.0.1:3000";
let sql: Sql;
let user: TestUser;
const ids: Record<"mastodon" | "bluesky" | "sandbox" | "x", string> = { mastodon: "", bluesky: "", sandbox: "", x: "" };
let savedConnectors: string | undefined;

type Handler = (req: Request, ctx: never) => Promise<Response>;
function post(handler: Handler, path: string, body: unknown) {
  const req = new Request(`${BASE}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${user.accessToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return handler(req, undefined as never);
}

beforeAll(async () => {
  sql = connect();
  savedConnectors = process.env.PACER_CONNECTORS;
  process.env.PACER_CONNECTORS = "mastodon,bluesky,upload-post";
  user = await signUp("threads");
  const [{ workspace_id: workspaceId }] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
  // Accounts as rows (no platform is reached at enqueue); bulk posting is a Starter feature.
  for (const platform of Object.keys(ids) as Array<keyof typeof ids>) {
    const [row] = await sql`
      insert into public.social_accounts (workspace_id, platform, handle, display_name)
      values (${workspaceId}, ${platform}, ${`thr_${platform}_${crypto.randomUUID().slice(0, 6)}`}, ${platform}) returning id`;
    ids[platform] = row.id;
  }
  await sql`update public.workspaces set plan_id = 'starter' where id = ${workspaceId}`;
});
afterAll(async () => {
  process.env.PACER_CONNECTORS = savedConnectors;
  await sql.end();
});

const queued = async (text: string) => (await sql`select count(*)::int as n from public.posts where text = ${text}`)[0].n as number;
const issuesOf = async (res: Response) => (await res.json()).error.issues as Array<{ path: string; message: string }>;

describe("threads and platform options at enqueue", () => {
  it("stores a thread and Mastodon options, and returns them on the post and its items", async () => {
    const text = `Thread ${crypto.randomUUID()}`;
    const platformOptions = { mastodon: { visibility: "unlisted", contentWarning: "Long read" } };
    const res = await post(addRoute.POST, "/api/queue/add", { text, thread: ["second", "third"], platformOptions, accountIds: [ids.mastodon, ids.bluesky] });
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body.post).toMatchObject({ text, thread: ["second", "third"], platformOptions, firstComment: null });
    expect(body.items).toHaveLength(2);
    for (const item of body.items) expect(item).toMatchObject({ thread: ["second", "third"], platformOptions });
    const [row] = await sql`select thread, platform_options from public.posts where text = ${text}`;
    expect(row).toEqual({ thread: ["second", "third"], platform_options: platformOptions });
  });

  it("holds every part to the platform's limit, naming it thread.N", async () => {
    const text = `Per part ${crypto.randomUUID()}`;
    const res = await post(addRoute.POST, "/api/queue/add", { text, thread: ["fits", "b".repeat(301), "fits too", "d".repeat(302)], accountIds: [ids.bluesky] });
    expect(res.status).toBe(400);
    expect(await issuesOf(res)).toEqual([
      { path: "thread.1", message: "Part 3 of the thread is 301 characters as Bluesky counts them; Bluesky allows 300. Shorten it, or leave the Bluesky accounts out." },
      { path: "thread.3", message: "Part 5 of the thread is 302 characters as Bluesky counts them; Bluesky allows 300. Shorten it, or leave the Bluesky accounts out." },
    ]);
    expect(await queued(text)).toBe(0);
  });

  it("refuses a thread with a first comment: put the comment in the thread", async () => {
    const text = `Both ${crypto.randomUUID()}`;
    const res = await post(addRoute.POST, "/api/queue/add", { text, thread: ["second"], firstComment: "a comment", accountIds: [ids.mastodon] });
    expect(res.status).toBe(400);
    expect(await issuesOf(res)).toEqual([
      { path: "thread", message: "A post has a thread or a first comment, not both: put the comment in the thread as its first part, or leave the thread out." },
    ]);
    expect(await queued(text)).toBe(0);
  });

  it("refuses a thread to platforms whose connector posts none (the sandbox, Upload-Post), once per platform, with the fix", async () => {
    const text = `Nowhere ${crypto.randomUUID()}`;
    const res = await post(addRoute.POST, "/api/queue/add", { text, thread: ["second"], accountIds: [ids.bluesky, ids.sandbox, ids.x] });
    expect(res.status).toBe(400);
    const issues = await issuesOf(res);
    expect(issues.map((i) => i.path)).toEqual(["thread", "thread"]);
    expect(issues[0].message).toMatch(/^Pacer cannot post a thread to Sandbox: only to Mastodon and Bluesky accounts\. Queue the Sandbox accounts as a separate post without the thread/);
    expect(issues[1].message).toMatch(/^Pacer cannot post a thread to X:/);
    expect(await queued(text)).toBe(0);
    // The same post without the thread goes.
    expect((await post(addRoute.POST, "/api/queue/add", { text, accountIds: [ids.sandbox, ids.x] })).status).toBe(201);
  });

  it("checks the shape of the thread and the options, by path", async () => {
    const text = `Shapes ${crypto.randomUUID()}`;
    const res = await post(addRoute.POST, "/api/queue/add", {
      text,
      thread: ["ok", "   "],
      platformOptions: { mastodon: { visibility: "everyone", contentWarning: "w".repeat(501) }, bluesky: {} },
      accountIds: [ids.mastodon],
    });
    expect(res.status).toBe(400);
    const issues = await issuesOf(res);
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: "thread.1", message: "Write this part's text, or leave the part out." },
        { path: "platformOptions.mastodon.visibility", message: "visibility is one of: public, unlisted, private, direct (leave it out for the account's default)." },
        { path: "platformOptions.mastodon.contentWarning", message: "A content warning has at most 500 characters." },
      ]),
    );
    expect(issues).toContainEqual({ path: "platformOptions", message: expect.stringMatching(/only mastodon has options so far/) });
    expect(await queued(text)).toBe(0);
    const long = await post(addRoute.POST, "/api/queue/add", { text, thread: Array.from({ length: 25 }, (_, i) => `part ${i}`), accountIds: [ids.mastodon] });
    expect(await issuesOf(long)).toEqual([{ path: "thread", message: "A thread has at most 24 parts after the post itself; split it into two posts." }]);
    expect(await queued(text)).toBe(0);
  });

  it("bulk: each row's thread checked with its row's path, and the whole request refused", async () => {
    const text = `Bulk ${crypto.randomUUID()}`;
    const res = await post(bulkRoute.POST, "/api/queue/bulk-post", {
      items: [
        { text, thread: ["fine"], accountId: ids.bluesky },
        { text, thread: ["fine"], accountId: ids.sandbox },
        { text, thread: ["x".repeat(301)], accountIds: [ids.bluesky] },
        { text, thread: ["fine"], firstComment: "c", accountId: ids.mastodon },
      ],
    });
    expect(res.status).toBe(400);
    const issues = await issuesOf(res);
    expect(issues.map((i) => i.path)).toEqual(["items.1.thread", "items.2.thread.0", "items.3.thread"]);
    expect(await queued(text)).toBe(0);
  });

  it("the database holds the same rules for rows written past the API (supabase-js)", async () => {
    const [{ workspace_id: workspaceId }] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
    const claims = JSON.stringify({ sub: user.id, role: "authenticated" });
    const write = (columns: string) =>
      sql.begin(async (tx) => {
        await tx.unsafe(`set local role authenticated; select set_config('request.jwt.claims', '${claims}', true)`);
        return tx.unsafe(`insert into public.posts (workspace_id, text, ${columns.split("|")[0]}) values ('${workspaceId}', 'direct', ${columns.split("|")[1]})`);
      });
    await expect(write(`thread, first_comment|array['a'], 'c'`)).rejects.toThrow(/posts\.thread: a post has a thread or a first comment, not both/);
    await expect(write(`thread|array['a', ' ']`)).rejects.toThrow(/posts\.thread: a part of a thread cannot be blank/);
    await expect(write(`platform_options|'{"mastodon": {"visibility": "loud"}}'`)).rejects.toThrow(/mastodon\.visibility is one of/);
    await expect(write(`thread|array_fill('p'::text, array[25])`)).rejects.toThrow(/posts_thread_size/);
  });
});
