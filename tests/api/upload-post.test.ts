// Connecting Upload-Post accounts: the workspace's key, its profiles, importing, links and reconnecting,
// through the real route handlers with real tokens, against the Upload-Post fake; the attacker first.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as overviewRoute from "@/app/api/upload-post/route";
import * as keyRoute from "@/app/api/upload-post/key/route";
import * as importRoute from "@/app/api/upload-post/import/route";
import * as linkRoute from "@/app/api/upload-post/connect-link/route";
import * as reconnectRoute from "@/app/api/upload-post/reconnect/route";
import { decryptCredentials } from "@/lib/accounts/credentials";
import { startUploadPostFake, type UploadPostFake } from "@/local/platforms/upload-post/index.ts";
import { addAccounts, asUser, connect, errorOf, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";

const BASE = "http://127.0.0.1:3000";
let sql: Sql;
let fake: UploadPostFake;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  sql = connect();
  fake = await startUploadPostFake({ port: 0, config: { processingMs: { text: 10, photo: 10, video: 10 } } });
  for (const name of ["PACER_CONNECTORS", "PACER_UPLOAD_POST_URL", "PACER_ALLOWED_HOSTS"]) saved[name] = process.env[name];
  process.env.PACER_CONNECTORS = "upload-post";
  process.env.PACER_UPLOAD_POST_URL = fake.url;
  process.env.PACER_ALLOWED_HOSTS = [process.env.PACER_ALLOWED_HOSTS, new URL(fake.url).host].filter(Boolean).join(",");
});
afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await fake?.stop();
  await sql?.end();
});

type Handler = (req: Request, ctx: any) => Promise<Response>;
async function call(handler: Handler, method: string, user: TestUser | null, body?: unknown, query = "", base = BASE) {
  const headers = new Headers();
  if (user) headers.set("authorization", `Bearer ${user.accessToken}`);
  if (body !== undefined) headers.set("content-type", "application/json");
  const res = await handler(new Request(`${base}/api/upload-post${query}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }), {});
  return { status: res.status, body: await res.json(), text: "" };
}

/** A workspace (its owner's personal one) with an admin, an editor and a viewer, and an outsider. */
async function world() {
  const [owner, admin, editor, viewer, outsider] = await Promise.all(["owner", "admin", "editor", "viewer", "outsider"].map((l) => signUp(l)));
  const [ws] = await sql`select workspace_id from public.workspace_members where user_id = ${owner.id}`;
  const workspaceId = ws.workspace_id as string;
  for (const [user, role] of [[admin, "admin"], [editor, "editor"], [viewer, "viewer"]] as const) {
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${workspaceId}, ${user.id}, ${role})`;
  }
  return { workspaceId, owner, admin, editor, viewer, outsider };
}

let n = 0;
/** An Upload-Post key whose profile has these platforms connected (handle per platform). */
function uploadPostKey(connect: Record<string, string>) {
  const { key, profile } = fake.seed({ profile: `brand${++n}`, connect });
  return { apiKey: key.apiKey, profile: profile.username };
}

const keyRow = (workspaceId: string) => sql`select * from public.upload_post_keys where workspace_id = ${workspaceId}`;
const accountsOf = (workspaceId: string) =>
  sql`select id, platform, handle, state, last_error, credentials_encrypted from public.social_accounts where workspace_id = ${workspaceId} order by created_at`;

describe("who may touch the workspace's Upload-Post key", () => {
  it("answers 401 on every route without a session", async () => {
    for (const [handler, method] of [
      [overviewRoute.GET, "GET"], [keyRoute.PUT, "PUT"], [keyRoute.DELETE, "DELETE"], [importRoute.POST, "POST"],
      [linkRoute.POST, "POST"], [reconnectRoute.POST, "POST"],
    ] as const) {
      const res = await call(handler, method, null, method === "GET" ? undefined : {});
      expect(res.status, `${method} ${handler.name}`).toBe(401);
      expect(res.body.error.code).toBe("unauthorized");
    }
  });

  it("refuses a viewer and an editor the key, and stores nothing", async () => {
    const w = await world();
    const { apiKey } = uploadPostKey({ tiktok: "brand_tt" });
    for (const user of [w.viewer, w.editor]) {
      const res = await call(keyRoute.PUT, "PUT", user, { workspaceId: w.workspaceId, apiKey });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(/admin/);
    }
    expect(await keyRow(w.workspaceId)).toHaveLength(0);
    // Nor may a viewer list the profiles (the key acts for editors and up) or import.
    expect((await call(overviewRoute.GET, "GET", w.viewer, undefined, `?workspaceId=${w.workspaceId}`)).status).toBe(403);
    const imported = await call(importRoute.POST, "POST", w.viewer, { workspaceId: w.workspaceId, selections: [{ profile: "x", platform: "tiktok" }] });
    expect(imported.status).toBe(403);
  });

  it("answers another workspace's member as if the workspace did not exist", async () => {
    const w = await world();
    const { apiKey } = uploadPostKey({ tiktok: "brand_tt" });
    expect((await call(keyRoute.PUT, "PUT", w.admin, { workspaceId: w.workspaceId, apiKey })).status).toBe(200);
    const put = await call(keyRoute.PUT, "PUT", w.outsider, { workspaceId: w.workspaceId, apiKey: "up_attacker_key_1234" });
    expect(put.status).toBe(404);
    expect((await call(keyRoute.DELETE, "DELETE", w.outsider, { workspaceId: w.workspaceId })).status).toBe(404);
    expect((await call(overviewRoute.GET, "GET", w.outsider, undefined, `?workspaceId=${w.workspaceId}`)).status).toBe(404);
    const [row] = await keyRow(w.workspaceId);
    expect((await decryptCredentials(row.key_sealed)).apiKey).toBe(apiKey);
  });

  it("lets no signed-in user read the sealed key or write the table directly, and shows a viewer or outsider nothing", async () => {
    const w = await world();
    const { apiKey } = uploadPostKey({ tiktok: "brand_tt" });
    expect((await call(keyRoute.PUT, "PUT", w.owner, { workspaceId: w.workspaceId, apiKey })).status).toBe(200);

    await asUser(sql, w.owner.id, async (tx) => {
      expect((await errorOf(tx, (sp) => sp`select key_sealed from public.upload_post_keys`))?.code).toBe("42501");
      const [status] = await tx`select key_last4 from public.upload_post_keys where workspace_id = ${w.workspaceId}`;
      expect(status.key_last4).toBe(apiKey.slice(-4));
      expect((await errorOf(tx, (sp) => sp`update public.upload_post_keys set key_last4 = 'evil' where workspace_id = ${w.workspaceId}`))?.code).toBe("42501");
      expect((await errorOf(tx, (sp) => sp`delete from public.upload_post_keys where workspace_id = ${w.workspaceId}`))?.code).toBe("42501");
      expect((await errorOf(tx, (sp) => sp`select private.set_upload_post_key(${w.workspaceId}, 'v1:AAAA:AAAA', 'AAAA', '[]')`))?.code).toBe("42501");
      expect((await errorOf(tx, (sp) => sp`select private.upload_post_key(${w.workspaceId})`))?.code).toBe("42501");
    });
    const otherWorkspace = (await sql`select workspace_id from public.workspace_members where user_id = ${w.outsider.id}`)[0].workspace_id;
    await asUser(sql, w.outsider.id, async (tx) => {
      expect((await errorOf(tx, (sp) => sp`insert into public.upload_post_keys (workspace_id, key_sealed, key_last4) values (${otherWorkspace}, 'v1:AAAA:AAAA', 'AAAA')`))?.code).toBe("42501");
    });
    for (const user of [w.viewer, w.outsider]) {
      const rows = await asUser(sql, user.id, (tx) => tx`select workspace_id, key_last4, set_at from public.upload_post_keys where workspace_id = ${w.workspaceId}`);
      expect(rows).toHaveLength(0);
    }
  });

  it("refuses in the database, even to the server's role, a key set for an editor or an outsider", async () => {
    const w = await world();
    const asServerFor = (userId: string, statement: (tx: any) => Promise<unknown>) =>
      asUser(sql, userId, async (tx) => {
        await tx`select set_config('role', 'pacer_worker', true)`;
        return errorOf(tx, statement);
      });
    const set = (sp: any) => sp`select private.set_upload_post_key(${w.workspaceId}, 'v1:AAAA:AAAA', 'AAAA', '[]')`;
    expect((await asServerFor(w.editor.id, set))?.code).toBe("42501");
    expect((await asServerFor(w.outsider.id, set))?.code).toBe("P0002");
    expect((await asServerFor(w.outsider.id, (sp) => sp`select private.upload_post_key(${w.workspaceId})`))?.code).toBe("P0002");
    expect((await asServerFor(w.viewer.id, (sp) => sp`select private.upload_post_key(${w.workspaceId})`))?.code).toBe("42501");
    expect(await asServerFor(w.admin.id, set)).toBeNull();
  });
});

describe("setting the key", () => {
  it("refuses a key Upload-Post does not accept, saying what to fix, and stores nothing", async () => {
    const w = await world();
    const res = await call(keyRoute.PUT, "PUT", w.admin, { workspaceId: w.workspaceId, apiKey: "up_not_a_real_key" });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("api_key_invalid");
    expect(res.body.error.message).toMatch(/API Keys/);
    expect(res.body.error.issues).toEqual([expect.objectContaining({ path: "apiKey" })]);
    expect(await keyRow(w.workspaceId)).toHaveLength(0);
  });

  it("stores a working key sealed and shows only its last 4 characters and when it was set", async () => {
    const w = await world();
    const { apiKey } = uploadPostKey({ tiktok: "brand_tt" });
    const res = await call(keyRoute.PUT, "PUT", w.admin, { workspaceId: w.workspaceId, apiKey });
    expect(res.status).toBe(200);
    expect(res.body.key).toMatchObject({ last4: apiKey.slice(-4), setAt: expect.any(String) });
    expect(JSON.stringify(res.body)).not.toContain(apiKey);
    const [row] = await keyRow(w.workspaceId);
    expect(row.key_sealed).not.toContain(apiKey);
    expect((await decryptCredentials(row.key_sealed)).apiKey).toBe(apiKey);

    const overview = await call(overviewRoute.GET, "GET", w.editor, undefined, `?workspaceId=${w.workspaceId}`);
    expect(overview.status).toBe(200);
    expect(overview.body.key).toEqual({ last4: apiKey.slice(-4), setAt: row.set_at.toISOString() });
    expect(overview.body.canManageKey).toBe(false);
    expect(JSON.stringify(overview.body)).not.toContain(apiKey);
  });
});

describe("profiles and importing", () => {
  it("lists each profile's connected platforms, marking those offered and those already in Pacer", async () => {
    const w = await world();
    const { apiKey, profile } = uploadPostKey({ tiktok: "brand_tt", instagram: "brand_ig", bluesky: "brand.bsky.social" });
    await call(keyRoute.PUT, "PUT", w.owner, { workspaceId: w.workspaceId, apiKey });
    await call(importRoute.POST, "POST", w.editor, { workspaceId: w.workspaceId, selections: [{ profile, platform: "tiktok" }] });

    const res = await call(overviewRoute.GET, "GET", w.owner, undefined, `?workspaceId=${w.workspaceId}`);
    expect(res.status).toBe(200);
    expect(res.body.canManageKey).toBe(true);
    expect(res.body.problem).toBeNull();
    const [listed] = res.body.profiles;
    expect(listed.username).toBe(profile);
    // Bluesky is Pacer's own connector's, not offered through Upload-Post.
    expect(listed.platforms.map((p: any) => p.platform).sort()).toEqual(["instagram", "tiktok"]);
    const tiktok = listed.platforms.find((p: any) => p.platform === "tiktok");
    expect(tiktok).toMatchObject({ handle: "brand_tt", offered: true, needsReconnect: false, account: { id: expect.any(String), state: "connected" } });
    expect(listed.platforms.find((p: any) => p.platform === "instagram")).toMatchObject({ offered: true, account: null });
  });

  it("says what is wrong with the stored key instead of listing, when Upload-Post no longer accepts it", async () => {
    const w = await world();
    const { apiKey } = uploadPostKey({ tiktok: "brand_tt" });
    await call(keyRoute.PUT, "PUT", w.owner, { workspaceId: w.workspaceId, apiKey });
    fake.expireApiKey(apiKey);
    const res = await call(overviewRoute.GET, "GET", w.owner, undefined, `?workspaceId=${w.workspaceId}`);
    expect(res.status).toBe(200);
    expect(res.body.problem).toMatchObject({ code: "api_key_invalid", message: expect.stringMatching(/paste it here/) });
  });

  it("imports only what the plan has room for, reports every selection, and loses nothing else", async () => {
    const w = await world();
    // The free plan allows 10 accounts: 8 are taken, so 2 of 4 fit.
    await addAccounts(sql, w.workspaceId, 8, "sbx");
    const { apiKey, profile } = uploadPostKey({ tiktok: "brand_tt", instagram: "brand_ig", x: "brand_x", linkedin: "brand_li" });
    await call(keyRoute.PUT, "PUT", w.admin, { workspaceId: w.workspaceId, apiKey });
    const selections = ["tiktok", "instagram", "x", "linkedin", "reddit"].map((platform) => ({ profile, platform }));

    const res = await call(importRoute.POST, "POST", w.editor, { workspaceId: w.workspaceId, selections });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: any) => [r.platform, r.outcome])).toEqual([
      ["tiktok", "added"],
      ["instagram", "added"],
      ["x", "refused_by_plan"],
      ["linkedin", "refused_by_plan"],
      ["reddit", "not_connected"],
    ]);
    const refused = res.body.results.find((r: any) => r.platform === "x");
    expect(refused.message).toMatch(/allows 10 social accounts/);
    expect(refused.message).toMatch(/upgrade the plan/);

    const accounts = await accountsOf(w.workspaceId);
    expect(accounts).toHaveLength(10);
    const added = accounts.filter((a) => a.platform !== "sandbox");
    expect(added.map((a) => [a.platform, a.handle, a.state])).toEqual([
      ["tiktok", "brand_tt", "connected"],
      ["instagram", "brand_ig", "connected"],
    ]);
    for (const a of added) {
      expect(await decryptCredentials(a.credentials_encrypted)).toEqual({ apiKey, profile, platform: a.platform });
    }

    // Again: the two in Pacer are already connected, the others still refused; nothing changes.
    const again = await call(importRoute.POST, "POST", w.editor, { workspaceId: w.workspaceId, selections: selections.slice(0, 4) });
    expect(again.body.results.map((r: any) => r.outcome)).toEqual(["already_connected", "already_connected", "refused_by_plan", "refused_by_plan"]);
    expect(await accountsOf(w.workspaceId)).toHaveLength(10);
  });

  it("refuses an import before a key is set, saying who sets it", async () => {
    const w = await world();
    const res = await call(importRoute.POST, "POST", w.editor, { workspaceId: w.workspaceId, selections: [{ profile: "brand", platform: "tiktok" }] });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: "upload_post_key_missing", message: expect.stringMatching(/admin or owner/) });
  });
});

describe("links to Upload-Post's connect page", () => {
  it("gives a single-use link for a profile, creating the profile when it is new", async () => {
    const w = await world();
    const { apiKey } = uploadPostKey({ tiktok: "brand_tt" });
    await call(keyRoute.PUT, "PUT", w.admin, { workspaceId: w.workspaceId, apiKey });
    const res = await call(linkRoute.POST, "POST", w.editor, { workspaceId: w.workspaceId, profile: "newbrand" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ profile: "newbrand", profileCreated: true, url: expect.stringContaining(`${fake.url}/connect?token=`) });
    expect(fake.state.keys.get(apiKey)!.profiles.has("newbrand")).toBe(true);
    const token = new URL(res.body.url).searchParams.get("token")!;
    expect(fake.state.connectLinks.get(token)).toMatchObject({ profile: "newbrand", redirect_url: `${BASE}/dashboard/accounts?upload_post=connected` });
  });
});

describe("where Upload-Post's page returns the user", () => {
  it("is the app's configured address, not the address Next.js reports for the request", async () => {
    const appUrl = process.env.PACER_APP_URL!;
    expect(appUrl).toBeTruthy();
    const w = await world();
    const { apiKey } = uploadPostKey({ tiktok: "brand_tt" });
    await call(keyRoute.PUT, "PUT", w.admin, { workspaceId: w.workspaceId, apiKey });
    const res = await call(linkRoute.POST, "POST", w.editor, { workspaceId: w.workspaceId, profile: "elsewhere" }, "", "http://localhost:3000");
    expect(res.status).toBe(200);
    const token = new URL(res.body.url).searchParams.get("token")!;
    expect(fake.state.connectLinks.get(token)?.redirect_url).toBe(new URL("/dashboard/accounts?upload_post=connected", appUrl).href);
  });

  it("refuses a link, naming PACER_APP_URL, when the operator has not set it", async () => {
    const w = await world();
    const { apiKey } = uploadPostKey({ tiktok: "brand_tt" });
    await call(keyRoute.PUT, "PUT", w.admin, { workspaceId: w.workspaceId, apiKey });
    const saved = process.env.PACER_APP_URL;
    delete process.env.PACER_APP_URL;
    try {
      const res = await call(linkRoute.POST, "POST", w.editor, { workspaceId: w.workspaceId, profile: "unset" });
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({ code: "app_url_not_set", message: expect.stringContaining("PACER_APP_URL") });
    } finally {
      if (saved === undefined) delete process.env.PACER_APP_URL;
      else process.env.PACER_APP_URL = saved;
    }
  });
});

describe("reconnecting", () => {
  it("answers a new connect link while Upload-Post's token is dead, and reconnects once it is alive again", async () => {
    const w = await world();
    const { apiKey, profile } = uploadPostKey({ tiktok: "brand_tt" });
    await call(keyRoute.PUT, "PUT", w.admin, { workspaceId: w.workspaceId, apiKey });
    await call(importRoute.POST, "POST", w.editor, { workspaceId: w.workspaceId, selections: [{ profile, platform: "tiktok" }] });
    const [account] = await accountsOf(w.workspaceId);

    const notWaiting = await call(reconnectRoute.POST, "POST", w.editor, { accountId: account.id });
    expect(notWaiting.status).toBe(409);
    expect(notWaiting.body.error.code).toBe("account_not_waiting");

    // The engine saw the token die (auth_expired) and put the account in needs_reconnect.
    fake.expireToken({ apiKey, profile, platform: "tiktok" });
    await sql`update public.social_accounts set state = 'needs_reconnect', last_error = 'TikTok session expired' where id = ${account.id}`;
    const link = await call(reconnectRoute.POST, "POST", w.editor, { accountId: account.id });
    expect(link.status).toBe(200);
    expect(link.body).toMatchObject({ reconnected: false, url: expect.stringContaining(`${fake.url}/connect?token=`), message: expect.stringMatching(/reconnected/) });
    expect((await accountsOf(w.workspaceId))[0].state).toBe("needs_reconnect");

    // The user reconnects TikTok on Upload-Post's page, comes back and presses Reconnect again.
    fake.state.social(apiKey, profile, "tiktok")!.reauth_required = false;
    const done = await call(reconnectRoute.POST, "POST", w.editor, { accountId: account.id });
    expect(done.body).toEqual({ reconnected: true, accountId: account.id });
    expect((await accountsOf(w.workspaceId))[0]).toMatchObject({ state: "connected", last_error: null });

    // Neither a viewer nor an outsider may.
    await sql`update public.social_accounts set state = 'needs_reconnect' where id = ${account.id}`;
    expect((await call(reconnectRoute.POST, "POST", w.viewer, { accountId: account.id })).status).toBe(403);
    expect((await call(reconnectRoute.POST, "POST", w.outsider, { accountId: account.id })).status).toBe(404);
  });
});

describe("replacing and removing the key", () => {
  it("re-seals the accounts with a replacement key", async () => {
    const w = await world();
    const first = uploadPostKey({ tiktok: "brand_tt" });
    await call(keyRoute.PUT, "PUT", w.admin, { workspaceId: w.workspaceId, apiKey: first.apiKey });
    await call(importRoute.POST, "POST", w.editor, { workspaceId: w.workspaceId, selections: [{ profile: first.profile, platform: "tiktok" }] });
    const second = uploadPostKey({ tiktok: "brand_tt" });
    const res = await call(keyRoute.PUT, "PUT", w.owner, { workspaceId: w.workspaceId, apiKey: second.apiKey });
    expect(res.body.key.last4).toBe(second.apiKey.slice(-4));
    const [account] = await accountsOf(w.workspaceId);
    expect((await decryptCredentials(account.credentials_encrypted)).apiKey).toBe(second.apiKey);
  });

  it("moves the accounts that used a removed key to needs_reconnect, keeping no copy of it", async () => {
    const w = await world();
    const { apiKey, profile } = uploadPostKey({ tiktok: "brand_tt", x: "brand_x" });
    await call(keyRoute.PUT, "PUT", w.admin, { workspaceId: w.workspaceId, apiKey });
    await call(importRoute.POST, "POST", w.editor, { workspaceId: w.workspaceId, selections: [{ profile, platform: "tiktok" }, { profile, platform: "x" }] });
    await addAccounts(sql, w.workspaceId, 1, "sbx");

    expect((await call(keyRoute.DELETE, "DELETE", w.editor, { workspaceId: w.workspaceId })).status).toBe(403);
    expect(await keyRow(w.workspaceId)).toHaveLength(1);

    const res = await call(keyRoute.DELETE, "DELETE", w.admin, { workspaceId: w.workspaceId });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accountsNeedingReconnect: 2 });
    expect(await keyRow(w.workspaceId)).toHaveLength(0);
    const accounts = await accountsOf(w.workspaceId);
    for (const a of accounts.filter((a) => a.platform !== "sandbox")) {
      expect(a).toMatchObject({ state: "needs_reconnect", last_error: expect.stringMatching(/key was removed/) });
      expect(await decryptCredentials(a.credentials_encrypted)).toEqual({ profile, platform: a.platform });
    }
    expect(accounts.find((a) => a.platform === "sandbox")!.state).toBe("connected");
    const overview = await call(overviewRoute.GET, "GET", w.admin, undefined, `?workspaceId=${w.workspaceId}`);
    expect(overview.body).toMatchObject({ key: null, profiles: [] });

    // A new key, then Reconnect, brings them back.
    await call(keyRoute.PUT, "PUT", w.admin, { workspaceId: w.workspaceId, apiKey });
    const tiktok = accounts.find((a) => a.platform === "tiktok")!;
    expect((await call(reconnectRoute.POST, "POST", w.editor, { accountId: tiktok.id })).body).toEqual({ reconnected: true, accountId: tiktok.id });
    expect(await decryptCredentials((await accountsOf(w.workspaceId)).find((a) => a.id === tiktok.id)!.credentials_encrypted)).toEqual({ apiKey, profile, platform: "tiktok" });
  });

  it("replaces and removes a key though an account's credentials cannot be read: that account waits in needs_reconnect", async () => {
    const w = await world();
    const first = uploadPostKey({ tiktok: "brand_tt", x: "brand_x" });
    await call(keyRoute.PUT, "PUT", w.admin, { workspaceId: w.workspaceId, apiKey: first.apiKey });
    await call(importRoute.POST, "POST", w.editor, { workspaceId: w.workspaceId, selections: [{ profile: first.profile, platform: "tiktok" }, { profile: first.profile, platform: "x" }] });
    const accounts = await accountsOf(w.workspaceId);
    const readable = accounts.find((a) => a.platform === "tiktok")!;
    const unreadable = accounts.find((a) => a.platform === "x")!;
    // Sealed with a key this server does not hold (a rotated PACER_ENCRYPTION_KEY, a restored backup).
    await sql`update public.social_accounts set credentials_encrypted = 'v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAA' where id = ${unreadable.id}`;

    const second = uploadPostKey({ tiktok: "brand_tt" });
    const replaced = await call(keyRoute.PUT, "PUT", w.admin, { workspaceId: w.workspaceId, apiKey: second.apiKey });
    expect(replaced.status).toBe(200);
    let after = await accountsOf(w.workspaceId);
    expect((await decryptCredentials(after.find((a) => a.id === readable.id)!.credentials_encrypted)).apiKey).toBe(second.apiKey);
    const held = after.find((a) => a.id === unreadable.id)!;
    expect(held).toMatchObject({ state: "needs_reconnect", last_error: expect.stringMatching(/could not read/) });
    expect(await decryptCredentials(held.credentials_encrypted)).toEqual({ platform: "x" });

    await sql`update public.social_accounts set credentials_encrypted = 'v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAA' where id = ${readable.id}`;
    const removed = await call(keyRoute.DELETE, "DELETE", w.admin, { workspaceId: w.workspaceId });
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ accountsNeedingReconnect: 2 });
    expect(await keyRow(w.workspaceId)).toHaveLength(0);
    after = await accountsOf(w.workspaceId);
    for (const a of after) {
      expect(a.state).toBe("needs_reconnect");
      expect((await decryptCredentials(a.credentials_encrypted)).apiKey).toBeUndefined();
    }
  });
});
