// The accounts and usage HTTP API, called through the real route handlers with real tokens.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignJWT, generateKeyPair } from "jose";
import * as accountsRoute from "@/app/api/accounts/route";
import * as accountRoute from "@/app/api/accounts/[id]/route";
import * as usageRoute from "@/app/api/workspace/usage/route";
import { decryptCredentials } from "@/lib/accounts/credentials";
import { connect, type Sql } from "../support/db";
import { sandboxAccount } from "../support/sandbox";
import { sessionCookie, signUp, type TestUser } from "../support/users";

const BASE = "http://127.0.0.1:3000";
// Sandbox handles are the sandbox's account names, shared by every test in the run.
const suffix = () => crypto.randomUUID().slice(0, 8);
let sql: Sql;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  sql = connect();
  [alice, bob] = await Promise.all([signUp("alice"), signUp("bob")]);
});
afterAll(() => sql.end());

function call(
  handler: (req: Request, ctx: any) => Promise<Response>,
  path: string,
  init: { method?: string; token?: string | null; body?: unknown; cookie?: string; id?: string } = {},
) {
  const headers = new Headers();
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  if (init.cookie) headers.set("cookie", init.cookie);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const body = init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body);
  const request = new Request(`${BASE}${path}`, { method: init.method ?? "GET", headers, body });
  return handler(request, { params: Promise.resolve({ id: init.id ?? "" }) });
}

const addAccount = (user: TestUser, body: unknown) =>
  call(accountsRoute.POST, "/api/accounts", { method: "POST", token: user.accessToken, body });

describe("authentication on every route", () => {
  const routes: Array<[string, (req: Request, ctx: any) => Promise<Response>, string]> = [
    ["GET /api/accounts", accountsRoute.GET, "GET"],
    ["POST /api/accounts", accountsRoute.POST, "POST"],
    ["PATCH /api/accounts/:id", accountRoute.PATCH, "PATCH"],
    ["DELETE /api/accounts/:id", accountRoute.DELETE, "DELETE"],
    ["GET /api/workspace/usage", usageRoute.GET, "GET"],
  ];

  it.each(routes)("%s answers 401 with a JSON error without a session", async (_name, handler, method) => {
    const res = await call(handler, "/api/x", { method, id: crypto.randomUUID(), body: method === "GET" || method === "DELETE" ? undefined : {} });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("unauthorized");
  });

  it("rejects a token signed with a key that is not the auth server's", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    const forged = await new SignJWT({ role: "authenticated", email: alice.email })
      .setProtectedHeader({ alg: "ES256", kid: "forged-kid", typ: "JWT" })
      .setSubject(alice.id).setIssuedAt().setExpirationTime("1h").sign(privateKey);
    expect((await call(accountsRoute.GET, "/api/accounts", { token: forged })).status).toBe(401);
  });

  it("rejects an HS256 token, whatever secret signed it", async () => {
    const forged = await new SignJWT({ role: "authenticated" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(alice.id).setIssuedAt().setExpirationTime("1h")
      .sign(new TextEncoder().encode("super-secret-jwt-token-with-at-least-32-characters-long"));
    expect((await call(accountsRoute.GET, "/api/accounts", { token: forged })).status).toBe(401);
  });

  it("rejects a real token whose payload was edited to another user", async () => {
    const [header, payload, signature] = alice.accessToken.split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const edited = Buffer.from(JSON.stringify({ ...claims, sub: bob.id })).toString("base64url");
    expect((await call(accountsRoute.GET, "/api/accounts", { token: `${header}.${edited}.${signature}` })).status).toBe(401);
  });

  it("accepts the session cookie a browser holds", async () => {
    const res = await call(accountsRoute.GET, "/api/accounts", { cookie: await sessionCookie(alice) });
    expect(res.status).toBe(200);
    expect((await res.json()).accounts).toEqual([]);
  });
});

describe("adding, renaming and removing accounts", () => {
  it("adds a sandbox account and counts it in the usage", async () => {
    const user = await signUp("adder");
    const res = await addAccount(user, { platform: "sandbox", handle: "@pacer_fan", displayName: "Pacer Fan" });
    expect(res.status).toBe(201);
    const { account } = await res.json();
    expect(account).toMatchObject({ platform: "sandbox", handle: "pacer_fan", displayName: "Pacer Fan", state: "connected", healthScore: 100 });

    const usage = await (await call(usageRoute.GET, "/api/workspace/usage", { token: user.accessToken })).json();
    expect(usage).toMatchObject({ plan: { id: "free", maxAccounts: 10 }, accountsUsed: 1, accountsByPlatform: { sandbox: 1 }, remaining: 9 });

    const list = await (await call(accountsRoute.GET, "/api/accounts", { token: user.accessToken })).json();
    expect(list.accounts.map((a: { id: string }) => a.id)).toEqual([account.id]);
  });

  it("creates a new sandbox handle, stores its token encrypted and never returns it", async () => {
    const user = await signUp("creds");
    const handle = `secretive_${suffix()}`;
    const res = await addAccount(user, { platform: "sandbox", handle });
    const text = await res.text();
    expect(res.status).toBe(201);
    expect(text).not.toContain("credentials");
    expect(text).not.toContain("sbx_");
    const { account } = JSON.parse(text);
    const [row] = await sql`select credentials_encrypted from public.social_accounts where id = ${account.id}`;
    expect(row.credentials_encrypted).toMatch(/^v1:/);
    const { accessToken } = await decryptCredentials(row.credentials_encrypted);
    // The token the sandbox handed out when Pacer created the handle: it publishes into that feed.
    const posted = await fetch(`${process.env.PACER_SANDBOX_URL}/v1/accounts/${handle}/posts`, {
      method: "POST",
      headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" },
      body: JSON.stringify({ text: "hello" }),
    });
    expect(posted.status).toBe(201);
    expect(row.credentials_encrypted).not.toContain(accessToken);
    const list = await (await call(accountsRoute.GET, "/api/accounts", { token: user.accessToken })).text();
    expect(list).not.toContain("v1:");
    expect(list).not.toContain(accessToken);
  });

  it("connects a handle that already exists only with its token", async () => {
    const user = await signUp("existing");
    const { handle, token } = await sandboxAccount(process.env.PACER_SANDBOX_URL!, `existing_${suffix()}`);
    const res = await addAccount(user, { platform: "sandbox", handle, credentials: { accessToken: token } });
    expect(res.status).toBe(201);
    const { account } = await res.json();
    const [row] = await sql`select credentials_encrypted from public.social_accounts where id = ${account.id}`;
    expect(await decryptCredentials(row.credentials_encrypted)).toEqual({ accessToken: token });
  });

  it("gives a tenant who types another's handle neither the account nor its token", async () => {
    const owner = await signUp("owner");
    const handle = `victim_${suffix()}`;
    expect((await addAccount(owner, { platform: "sandbox", handle })).status).toBe(201);

    const intruder = await signUp("intruder");
    const res = await addAccount(intruder, { platform: "sandbox", handle });
    expect(res.status).toBe(409);
    const { error } = await res.json();
    expect(error).toMatchObject({ code: "handle_taken", issues: [{ path: "credentials.accessToken" }] });
    expect(error.message).toContain("credentials.accessToken");
    const guessed = await addAccount(intruder, { platform: "sandbox", handle, credentials: { accessToken: "sbx_guessed_token" } });
    expect(guessed.status).toBe(400);
    expect((await guessed.json()).error).toMatchObject({ code: "token_invalid", issues: [{ path: "credentials.accessToken" }] });
    const [{ n }] = await sql`select count(*)::int as n from public.social_accounts where handle = ${handle}`;
    expect(n).toBe(1);
  });

  it("accepts only the credentials the platform reads: no endpoint of the tenant's choosing", async () => {
    const user = await signUp("ssrf");
    const res = await addAccount(user, { platform: "sandbox", handle: `aimed_${suffix()}`, credentials: { baseUrl: "http://169.254.169.254/latest" } });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe("validation_failed");
    expect(error.issues.map((i: { path: string }) => i.path)).toEqual(["credentials"]);
    expect(error.message).toContain("baseUrl");
    const [{ n }] = await sql`select count(*)::int as n from public.social_accounts a join public.workspace_members m using (workspace_id) where m.user_id = ${user.id}`;
    expect(n).toBe(0);
  });

  it("explains every invalid field with its path", async () => {
    const res = await addAccount(alice, { platform: "", handle: "has space", displayName: "x".repeat(101) });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe("validation_failed");
    expect(error.issues.map((i: { path: string }) => i.path).sort()).toEqual(["displayName", "handle", "platform"]);
  });

  it("answers 400 for a body that is not JSON", async () => {
    const res = await addAccount(alice, "{not json");
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("invalid_json");
  });

  it("refuses platforms that cannot be connected yet, naming the field, and points at the way others are connected", async () => {
    // A platform without a connector yet, as the next one to arrive would be listed.
    await sql`insert into public.platforms (id, name, enabled) values ('later', 'Later', false) on conflict (id) do nothing`;
    const res = await addAccount(alice, { platform: "later", handle: "someone" });
    await sql`delete from public.platforms where id = 'later'`;
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ code: "platform_unavailable", issues: [{ path: "platform" }] });
    // Instagram is reached through Upload-Post: imported from the workspace's profiles, not typed in.
    const insta = await addAccount(alice, { platform: "instagram", handle: "insta" });
    expect(insta.status).toBe(400);
    const error = (await insta.json()).error;
    expect(error).toMatchObject({ code: "connect_via_sign_in", issues: [{ path: "platform" }] });
    expect(error.message).toMatch(/Upload-Post.*POST \/api\/upload-post\/import/);
    const unknown = await addAccount(alice, { platform: "myspace", handle: "tom" });
    expect((await unknown.json()).error.issues).toEqual([{ path: "platform", message: 'Unknown platform "myspace".' }]);
  });

  it("answers 409 for an account already in the workspace", async () => {
    const user = await signUp("dupe");
    expect((await addAccount(user, { platform: "sandbox", handle: "twin" })).status).toBe(201);
    const res = await addAccount(user, { platform: "sandbox", handle: "@twin" });
    expect(res.status).toBe(409);
    expect((await res.json()).error.code).toBe("account_exists");
  });

  it("answers 409 naming the plan and its limit when the workspace is full", async () => {
    const user = await signUp("full");
    for (let i = 0; i < 10; i++) expect((await addAccount(user, { platform: "sandbox", handle: `full_${i}` })).status).toBe(201);
    const res = await addAccount(user, { platform: "sandbox", handle: "one_too_many" });
    expect(res.status).toBe(409);
    const { error } = await res.json();
    expect(error.code).toBe("plan_limit_reached");
    expect(error.message).toContain("Free plan, which allows 10 social accounts");
    const usage = await (await call(usageRoute.GET, "/api/workspace/usage", { token: user.accessToken })).json();
    expect(usage).toMatchObject({ accountsUsed: 10, remaining: 0 });
  });

  it("renames an account and removes it", async () => {
    const user = await signUp("renamer");
    const { account } = await (await addAccount(user, { platform: "sandbox", handle: "before" })).json();
    const renamed = await call(accountRoute.PATCH, `/api/accounts/${account.id}`, {
      method: "PATCH", token: user.accessToken, id: account.id, body: { displayName: "After", handle: "after" },
    });
    expect(renamed.status).toBe(200);
    expect((await renamed.json()).account).toMatchObject({ displayName: "After", handle: "after" });

    const removed = await call(accountRoute.DELETE, `/api/accounts/${account.id}`, { method: "DELETE", token: user.accessToken, id: account.id });
    expect(removed.status).toBe(204);
    const again = await call(accountRoute.DELETE, `/api/accounts/${account.id}`, { method: "DELETE", token: user.accessToken, id: account.id });
    expect(again.status).toBe(404);
  });

  it("rejects an empty or unknown change", async () => {
    const user = await signUp("nochange");
    const { account } = await (await addAccount(user, { platform: "sandbox", handle: "same" })).json();
    const empty = await call(accountRoute.PATCH, "/x", { method: "PATCH", token: user.accessToken, id: account.id, body: {} });
    expect(empty.status).toBe(400);
    const sneaky = await call(accountRoute.PATCH, "/x", { method: "PATCH", token: user.accessToken, id: account.id, body: { state: "active" } });
    expect(sneaky.status).toBe(400);
    expect((await sneaky.json()).error.issues[0].path).toBe("(body)");
  });
});

describe("connecting an account in phases", () => {
  const sandbox = () => process.env.PACER_SANDBOX_URL!;
  const faults = (handle: string, body: unknown) =>
    fetch(`${sandbox()}/v1/admin/faults${body ? "" : `?handle=${handle}`}`, {
      method: body ? "POST" : "DELETE",
      headers: { "content-type": "application/json" },
      body: body ? JSON.stringify({ handle, faults: body }) : undefined,
    });
  const rowsOf = (handle: string) =>
    sql`select state, credentials_encrypted, last_error, private.account_can_publish(state) as publishable
        from public.social_accounts where handle = ${handle}`;

  it("commits the row before calling the platform, unpublishable until its credentials are stored", async () => {
    const user = await signUp("phases");
    const { handle, token } = await sandboxAccount(sandbox(), `slow_${suffix()}`);
    // The platform takes a while to answer the connect (a read of the handle's metrics).
    expect((await faults(handle, { latency: { ms: 1_500 } })).status).toBe(200);
    try {
      const adding = addAccount(user, { platform: "sandbox", handle, credentials: { accessToken: token } });
      let waiting;
      for (let i = 0; i < 100 && !waiting; i++) {
        [waiting] = await rowsOf(handle);
        if (!waiting) await new Promise((r) => setTimeout(r, 10));
      }
      expect(waiting, "the row is committed while the platform answers").toMatchObject({
        state: "needs_reconnect",
        credentials_encrypted: null,
        publishable: false,
      });
      expect(waiting!.last_error).toContain(`Connecting @${handle}`);
      const res = await adding;
      expect(res.status).toBe(201);
      expect((await res.json()).account).toMatchObject({ state: "connected", lastError: null });
      const [connected] = await rowsOf(handle);
      expect(connected).toMatchObject({ state: "connected", last_error: null, publishable: true });
      expect(connected.credentials_encrypted).toMatch(/^v1:/);
    } finally {
      await faults(handle, null);
    }
  });

  it("keeps nothing when the platform refuses an editor's add (an editor may add accounts but not remove them)", async () => {
    const owner = await signUp("phases-owner");
    const [{ workspace_id: workspaceId }] = await sql`select workspace_id from public.workspace_members where user_id = ${owner.id}`;
    const editor = await signUp("phases-editor");
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${workspaceId}, ${editor.id}, 'editor')`;
    const { handle } = await sandboxAccount(sandbox(), `taken_${suffix()}`);

    const taken = await addAccount(editor, { platform: "sandbox", handle, workspaceId });
    expect(taken.status).toBe(409);
    expect((await taken.json()).error.code).toBe("handle_taken");
    const wrong = await addAccount(editor, { platform: "sandbox", handle, workspaceId, credentials: { accessToken: "sbx_not_this_one" } });
    expect(wrong.status).toBe(400);
    expect((await wrong.json()).error.code).toBe("token_invalid");
    expect(await rowsOf(handle)).toHaveLength(0);
  });

  it("keeps the connected account waiting, with a clear error, when its credentials cannot be stored", async () => {
    const user = await signUp("phases-store");
    const handle = `unsaved_${suffix()}`;
    // Stands in for the database failing after the platform handed the new handle's token out.
    await sql.unsafe(`
      create function public.pacer_test_fail_store() returns trigger language plpgsql as $$
      begin
        if new.handle = '${handle}' and new.credentials_encrypted is not null then raise exception 'the database went away'; end if;
        return new;
      end $$;
      create trigger pacer_test_fail_store before update on public.social_accounts
        for each row execute function public.pacer_test_fail_store();`);
    try {
      const res = await addAccount(user, { platform: "sandbox", handle });
      expect(res.status).toBe(503);
      const { error } = await res.json();
      expect(error.code).toBe("credentials_not_saved");
      const [row] = await rowsOf(handle);
      expect(row).toMatchObject({ state: "needs_reconnect", credentials_encrypted: null, publishable: false });
      expect(row.last_error).toBe(error.message);
      expect(row.last_error).toContain("could not save its credentials");
    } finally {
      await sql.unsafe(`drop trigger pacer_test_fail_store on public.social_accounts; drop function public.pacer_test_fail_store();`);
    }
  });
});

describe("tenant isolation through every route", () => {
  let aliceAccountId: string;
  let aliceWorkspaceId: string;

  beforeAll(async () => {
    const { account } = await (await addAccount(alice, { platform: "sandbox", handle: "alice_main" })).json();
    aliceAccountId = account.id;
    aliceWorkspaceId = account.workspaceId;
  });

  it("does not list another tenant's accounts", async () => {
    const list = await (await call(accountsRoute.GET, "/api/accounts", { token: bob.accessToken })).json();
    expect(list.accounts.find((a: { id: string }) => a.id === aliceAccountId)).toBeUndefined();
    expect(list.workspaceId).not.toBe(aliceWorkspaceId);
  });

  it("answers 404 for another tenant's workspace id on every route that takes one", async () => {
    const q = `?workspaceId=${aliceWorkspaceId}`;
    expect((await call(accountsRoute.GET, `/api/accounts${q}`, { token: bob.accessToken })).status).toBe(404);
    expect((await call(usageRoute.GET, `/api/workspace/usage${q}`, { token: bob.accessToken })).status).toBe(404);
    const add = await addAccount(bob, { platform: "sandbox", handle: "intruder", workspaceId: aliceWorkspaceId });
    expect(add.status).toBe(404);
  });

  it("answers 404 for another tenant's account id, and changes nothing", async () => {
    const patch = await call(accountRoute.PATCH, "/x", { method: "PATCH", token: bob.accessToken, id: aliceAccountId, body: { displayName: "Bob was here" } });
    expect(patch.status).toBe(404);
    const del = await call(accountRoute.DELETE, "/x", { method: "DELETE", token: bob.accessToken, id: aliceAccountId });
    expect(del.status).toBe(404);
    const [row] = await sql`select display_name from public.social_accounts where id = ${aliceAccountId}`;
    expect(row.display_name).toBe("alice_main");
  });

  it("answers 404 for an id that is not an id at all", async () => {
    const res = await call(accountRoute.DELETE, "/x", { method: "DELETE", token: bob.accessToken, id: "not-a-uuid" });
    expect(res.status).toBe(404);
  });
});
