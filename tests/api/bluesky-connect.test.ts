// Connecting Bluesky accounts with a handle and an app password, through the real route handlers,
// against the Bluesky fake the test stack runs (PACER_BLUESKY_APPVIEW_URL). The attacker's cases first.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
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

/** An account on the fake, made through its admin route (as a user signing up on bsky.app); `pdsUrl`: its DID document names that PDS. */
async function blueskyAccount(opts: { pdsUrl?: string } = {}): Promise<{ handle: string; appPassword: string; did: string }> {
  const handle = `u${crypto.randomUUID().slice(0, 8)}.bsky.test`;
  const res = await fetch(`${fakeUrl()}/admin/accounts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ handle, ...opts }) });
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
/**
 * A stored handle gone stale: a real platform's handle cannot be renamed through Pacer (refused since
 * 20261203000700), but the platform may give the name to another account; the database's own triggers
 * are skipped for this one statement to stand in for that.
 */
const staleHandle = (id: string, handle: string) =>
  sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await tx`update public.social_accounts set handle = ${handle} where id = ${id}`;
  });
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

  it("does not tell the user what an identity's server resolves to (a DID document naming an internal PDS)", async () => {
    // The DID document is the account owner's to write: Pacer's answer must not map the internal network.
    const replies: string[] = [];
    const logged = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      for (const pdsUrl of ["http://10.1.2.3", "http://127.0.0.2:8080", "http://pds.pacer-test.invalid"]) {
        const { handle, appPassword } = await blueskyAccount({ pdsUrl });
        const res = await add(alice, { platform: "bluesky", handle, credentials: { appPassword } });
        expect(res.status, pdsUrl).toBe(502);
        const text = await res.text();
        expect(text, pdsUrl).not.toMatch(/10\.1\.2\.3|127\.0\.0\.2|pacer-test\.invalid|PACER_ALLOWED_HOSTS|private|loopback|ENOTFOUND|resolve/i);
        expect(JSON.parse(text).error.message).toContain(`Pacer could not reach the Bluesky server of @${handle}; check the handle`);
        replies.push(JSON.parse(text).error.message.replace(handle, "HANDLE"));
        expect(await rowsOf(handle)).toHaveLength(0);
      }
      // An internal address, a loopback one and a name that does not resolve all read the same.
      expect(new Set(replies).size).toBe(1);
      // The operator still learns what happened, from the server's log.
      expect(logged.mock.calls.flat().join("\n")).toMatch(/10\.1\.2\.3/);
    } finally {
      logged.mockRestore();
    }
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
    // Removal archives the account (its record stays) and drops Pacer's copy of the credentials.
    expect(await rowsOf(handle)).toEqual([expect.objectContaining({ id: account.id, state: "paused", credentials_encrypted: null })]);
    expect(await sessionAlive(credentials)).toBe(false);
  });
});

describe("one Bluesky identity, one account (attacker first)", () => {
  it("refuses a reconnect that signs in as another identity, keeping the account's session", async () => {
    const mine = await blueskyAccount();
    const other = await blueskyAccount();
    const { account } = await (await add(alice, { platform: "bluesky", handle: mine.handle, credentials: { appPassword: mine.appPassword } })).json();
    const [before] = await rowsOf(mine.handle);
    // The stored handle, gone stale, names another account now: a reconnect would resolve that one.
    await staleHandle(account.id, other.handle);

    const res = await reconnect(alice, account.id, { credentials: { appPassword: other.appPassword } });
    expect(res.status).toBe(409);
    const { error } = await res.json();
    expect(error.code).toBe("wrong_account");
    expect(error.message).toContain(mine.did);
    const [after] = await rowsOf(other.handle);
    expect(after.credentials_encrypted).toBe(before.credentials_encrypted);
    expect((await decryptCredentials(after.credentials_encrypted)).did).toBe(mine.did);

    // Back at its own handle, its own app password reconnects it.
    await staleHandle(account.id, mine.handle);
    expect((await reconnect(alice, account.id, { credentials: { appPassword: mine.appPassword } })).status).toBe(200);
  });

  it("stores Bluesky handles lower case: the same handle in other case is the same account", async () => {
    const { handle, appPassword, did } = await blueskyAccount();
    const shouted = handle.replace(/^u/, "U").replace(".bsky.test", ".Bsky.Test");
    const first = await add(alice, { platform: "bluesky", handle: shouted, credentials: { appPassword } });
    expect(first.status).toBe(201);
    expect((await first.json()).account.handle).toBe(handle);
    const second = await add(alice, { platform: "bluesky", handle, credentials: { appPassword } });
    expect(second.status).toBe(409);
    expect((await second.json()).error.code).toBe("account_exists");
    const rows = await sql`select handle, platform_identity from public.social_accounts where platform = 'bluesky' and lower(handle) = ${handle}`;
    expect(rows).toEqual([{ handle, platform_identity: did }]);
  });

  it("refuses a second account of the same identity in a workspace, in the database", async () => {
    const { handle, appPassword, did } = await blueskyAccount();
    const { account } = await (await add(alice, { platform: "bluesky", handle, credentials: { appPassword } })).json();
    // Under another handle, the unique handle no longer meets it: the identity does.
    await staleHandle(account.id, `renamed-${handle}`);
    const again = await add(alice, { platform: "bluesky", handle, credentials: { appPassword } });
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe("account_exists");
    const rows = await sql`select id from public.social_accounts where platform = 'bluesky' and platform_identity = ${did}`;
    expect(rows.map((r) => r.id)).toEqual([account.id]);
    expect(await rowsOf(handle)).toHaveLength(0);
    // Another workspace may connect the same identity (its own plan slot, its own queue).
    expect((await add(bob, { platform: "bluesky", handle, credentials: { appPassword } })).status).toBe(201);
  });
});
