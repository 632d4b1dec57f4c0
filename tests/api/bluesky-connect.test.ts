// Connecting Bluesky accounts with a handle and an app password, through the real route handlers,
// against the Bluesky fake the test stack runs (PACER_BLUESKY_APPVIEW_URL). The attacker's cases first.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as accountsRoute from "@/app/api/accounts/route";
import * as accountRoute from "@/app/api/accounts/[id]/route";
import * as reconnectRoute from "@/app/api/accounts/[id]/reconnect/route";
import { decryptCredentials } from "@/lib/accounts/credentials";
import { connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";

const BASE = "http://127.0.0.1:3000";
const fakeUrl = () => process.env.PACER_BLUESKY_APPVIEW_URL!;
let sql: Sql;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  sql = connect();
  [alice, bob] = await Promise.all([signUp("b-alice"), signUp("b-bob")]);
});
afterAll(() => sql.end());

/** An account on the fake, made through its admin route (as a user signing up on bsky.app). */
async function blueskyAccount(): Promise<{ handle: string; appPassword: string; did: string }> {
  const handle = `u${crypto.randomUUID().slice(0, 8)}.bsky.test`;
  const res = await fetch(`${fakeUrl()}/admin/accounts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ handle }) });
  expect(res.status).toBe(201);
  return res.json();
}

function call(handler: (req: Request, ctx: any) => Promise<Response>, path: string, user: TestUser | null, method: string, body?: unknown, id = "") {
  const headers = new Headers();
  if (user) headers.set("authorization", `Bearer ${user.accessToken}`);
  if (body !== undefined) headers.set("content-type", "application/json");
  return handler(new Request(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }), { params: Promise.resolve({ id }) });
}
const add = (user: TestUser | null, body: unknown) => call(accountsRoute.POST, "/api/accounts", user, "POST", body);
const reconnect = (user: TestUser | null, id: string, body: unknown) => call(reconnectRoute.POST, `/api/accounts/${id}/reconnect`, user, "POST", body, id);
const remove = (user: TestUser, id: string) => call(accountRoute.DELETE, `/api/accounts/${id}`, user, "DELETE", undefined, id);
const rowsOf = (handle: string) => sql`select id, workspace_id, state, credentials_encrypted from public.social_accounts where platform = 'bluesky' and handle = ${handle}`;
const workspaceOf = async (user: TestUser) =>
  (await sql`select workspace_id from public.workspace_members where user_id = ${user.id} and role = 'owner'`)[0].workspace_id as string;

/** Whether the PDS still honours this refresh token. */
async function sessionAlive(credentials: Record<string, string>): Promise<boolean> {
  const res = await fetch(`${credentials.pdsUrl}/xrpc/com.atproto.server.refreshSession`, { method: "POST", headers: { authorization: `Bearer ${credentials.refreshJwt}` } });
  return res.status === 200;
}

describe("who may connect a Bluesky account (attacker first)", () => {
  it("answers 401 without a session", async () => {
    const { handle, appPassword } = await blueskyAccount();
    expect((await add(null, { platform: "bluesky", handle, credentials: { appPassword } })).status).toBe(401);
    expect((await reconnect(null, crypto.randomUUID(), { credentials: { appPassword } })).status).toBe(401);
    expect(await rowsOf(handle)).toHaveLength(0);
  });

  it("refuses a viewer, in the database", async () => {
    const owner = await signUp("b-owner");
    const viewer = await signUp("b-viewer");
    const workspaceId = await workspaceOf(owner);
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${workspaceId}, ${viewer.id}, 'viewer')`;
    const { handle, appPassword } = await blueskyAccount();
    const res = await add(viewer, { platform: "bluesky", handle, workspaceId, credentials: { appPassword } });
    expect(res.status).toBe(403);
    expect(await rowsOf(handle)).toHaveLength(0);
  });

  it("does not let another workspace reconnect (or learn of) an account", async () => {
    const { handle, appPassword } = await blueskyAccount();
    const created = await add(alice, { platform: "bluesky", handle, credentials: { appPassword } });
    expect(created.status).toBe(201);
    const { account } = await created.json();
    const res = await reconnect(bob, account.id, { credentials: { appPassword } });
    expect(res.status).toBe(404);
    const [row] = await rowsOf(handle);
    expect(row.workspace_id).toBe(await workspaceOf(alice));
  });

  it("takes nothing but an app password", async () => {
    const { handle, appPassword } = await blueskyAccount();
    const res = await add(alice, { platform: "bluesky", handle, credentials: { appPassword, pdsUrl: "http://10.0.0.1" } });
    expect(res.status).toBe(400);
    expect((await res.json()).error.issues[0].path).toBe("credentials");
  });
});

describe("connecting against the Bluesky fake", () => {
  it("connects with an app password, keeping the session and never the app password", async () => {
    const { handle, appPassword, did } = await blueskyAccount();
    const res = await add(alice, { platform: "bluesky", handle, credentials: { appPassword } });
    expect(res.status).toBe(201);
    const { account } = await res.json();
    expect(account).toMatchObject({ platform: "bluesky", handle, state: "connected" });
    expect(JSON.stringify(account)).not.toContain(appPassword);
    const [row] = await rowsOf(handle);
    const credentials = await decryptCredentials(row.credentials_encrypted);
    expect(credentials).toMatchObject({ did, handle, pdsUrl: fakeUrl() });
    expect(Object.keys(credentials)).not.toContain("appPassword");
    expect(JSON.stringify(credentials)).not.toContain(appPassword);
  });

  it("says which field is wrong for a wrong app password, and keeps nothing", async () => {
    const { handle } = await blueskyAccount();
    const res = await add(alice, { platform: "bluesky", handle, credentials: { appPassword: "aaaa-bbbb-cccc-dddd" } });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe("app_password_invalid");
    expect(error.issues).toEqual([{ path: "credentials.appPassword", message: expect.stringContaining("did not accept this app password") }]);
    expect(await rowsOf(handle)).toHaveLength(0);
  });

  it("reconnects an account that needs it: the same account, a new session, the old one ended", async () => {
    const { handle, appPassword } = await blueskyAccount();
    const { account } = await (await add(alice, { platform: "bluesky", handle, credentials: { appPassword } })).json();
    const [before] = await rowsOf(handle);
    const old = await decryptCredentials(before.credentials_encrypted);
    await sql`update public.social_accounts set state = 'needs_reconnect', last_error = 'session expired' where id = ${account.id}`;

    const wrong = await reconnect(alice, account.id, { credentials: { appPassword: "aaaa-bbbb-cccc-dddd" } });
    expect(wrong.status).toBe(400);
    expect((await rowsOf(handle))[0].state).toBe("needs_reconnect");

    const res = await reconnect(alice, account.id, { credentials: { appPassword } });
    expect(res.status).toBe(200);
    expect((await res.json()).account).toMatchObject({ id: account.id, state: "connected" });
    const after = await rowsOf(handle);
    expect(after).toHaveLength(1);
    const fresh = await decryptCredentials(after[0].credentials_encrypted);
    expect(fresh.refreshJwt).not.toBe(old.refreshJwt);
    expect(await sessionAlive(old)).toBe(false);
  });

  it("ends the session when the account is removed", async () => {
    const { handle, appPassword } = await blueskyAccount();
    const { account } = await (await add(alice, { platform: "bluesky", handle, credentials: { appPassword } })).json();
    const credentials = await decryptCredentials((await rowsOf(handle))[0].credentials_encrypted);
    expect((await remove(alice, account.id)).status).toBe(204);
    expect(await rowsOf(handle)).toHaveLength(0);
    expect(await sessionAlive(credentials)).toBe(false);
  });
});
