// API keys through the real route handlers, attacker first: a key reaches only its own workspace
// (also when asked for another with ?workspaceId=), stops when revoked, expired or its maker leaves,
// cannot make keys, is stored only as a hash, and is rate-limited on its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import * as keysRoute from "@/app/api/keys/route";
import * as keyRoute from "@/app/api/keys/[id]/route";
import * as accountsRoute from "@/app/api/accounts/route";
import * as bulkRoute from "@/app/api/queue/bulk-post/route";
import * as addRoute from "@/app/api/queue/add/route";
import * as uploadPostKeyRoute from "@/app/api/upload-post/key/route";
import { API_LIMITS } from "@/lib/api/limits";
import { asUser } from "@/lib/db";
import { authenticateApiKey } from "@/lib/api-keys";
import { connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";

type Handler = (req: Request, ctx: any) => Promise<Response>;

let sql: Sql;
let alice: TestUser;
let bob: TestUser;
let aliceWs: string;
let bobWs: string;

beforeAll(async () => {
  sql = connect();
  [alice, bob] = await Promise.all([signUp("apikey-alice"), signUp("apikey-bob")]);
  [aliceWs, bobWs] = await Promise.all([workspaceOf(alice), workspaceOf(bob)]);
  // Alice also edits Bob's workspace: her key for her own must still not reach it.
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${bobWs}, ${alice.id}, 'editor')`;
  await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name) values (${aliceWs}, 'sandbox', 'alice_main', 'Alice')`;
  await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name) values (${bobWs}, 'sandbox', 'bob_main', 'Bob')`;
});
afterAll(() => sql.end());

async function workspaceOf(user: TestUser): Promise<string> {
  const [m] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id} and role = 'owner'`;
  return m.workspace_id;
}

function call(handler: Handler, path: string, init: { method?: string; token?: string; body?: unknown; params?: Record<string, string> } = {}) {
  const headers = new Headers();
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  return handler(
    new Request(`http://127.0.0.1:3000${path}`, {
      method: init.method ?? "GET",
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    }),
    { params: Promise.resolve(init.params ?? {}) },
  );
}

async function makeKey(user: TestUser, body: Record<string, unknown>) {
  const res = await call(keysRoute.POST, "/api/keys", { method: "POST", token: user.accessToken, body: { name: "script", ...body } });
  expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
  return (await res.json()) as { key: { id: string; prefix: string; scopes: string[]; workspaceId: string }; secret: string };
}

const accountsWith = (token: string, query = "") => call(accountsRoute.GET, `/api/accounts${query}`, { token });

describe("making a key", () => {
  it("shows the secret once, lists the key without it, and stores only its SHA-256", async () => {
    const { key, secret } = await makeKey(alice, { scopes: ["read"] });
    expect(secret).toMatch(/^pk_[A-Za-z0-9_-]{43}$/);
    expect(key).toMatchObject({ workspaceId: aliceWs, prefix: secret.slice(0, 11), scopes: ["read"], status: "active", createdByYou: true });

    const list = await call(keysRoute.GET, "/api/keys", { token: alice.accessToken });
    expect(list.status).toBe(200);
    const text = await list.text();
    expect(text).toContain(key.id);
    expect(text).not.toContain(secret);

    // At rest: the hash, and the secret nowhere in the key's row nor the audit log.
    const [row] = await sql`select secret_hash, to_jsonb(k)::text as everything from public.api_keys k where id = ${key.id}`;
    expect(Buffer.from(row.secret_hash).equals(createHash("sha256").update(secret).digest())).toBe(true);
    expect(row.everything).not.toContain(secret.slice(3));
    const audit = await sql`select coalesce(old_values, '{}')::text || coalesce(new_values, '{}')::text as v from public.audit_log where entity_id = ${key.id}`;
    expect(audit.length).toBe(1);
    expect(audit[0].v).not.toContain(secret.slice(3));
  });

  it("is refused to an API key, however scoped (a session, not a key, makes keys)", async () => {
    const { key, secret } = await makeKey(alice, { scopes: ["read", "write", "process"] });
    const made = await call(keysRoute.POST, "/api/keys", { method: "POST", token: secret, body: { name: "child", scopes: ["read"] } });
    expect(made.status).toBe(403);
    expect((await made.json()).error.code).toBe("session_required");
    const listed = await call(keysRoute.GET, "/api/keys", { token: secret });
    expect(listed.status).toBe(403);
    const revoked = await call(keyRoute.DELETE, `/api/keys/${key.id}`, { method: "DELETE", token: secret, params: { id: key.id } });
    expect(revoked.status).toBe(403);
    const [still] = await sql`select revoked_at from public.api_keys where id = ${key.id}`;
    expect(still.revoked_at).toBeNull();
  });

  it("answers 400 for bad scopes, names and expiries, saying which field", async () => {
    for (const [body, path] of [
      [{ name: "x", scopes: [] }, "scopes"],
      [{ name: "x", scopes: ["admin"] }, "scopes.0"],
      [{ name: " ", scopes: ["read"] }, "name"],
      [{ name: "x", scopes: ["read"], expiresAt: "2001-01-01T00:00:00Z" }, "expiresAt"],
    ] as const) {
      const res = await call(keysRoute.POST, "/api/keys", { method: "POST", token: alice.accessToken, body });
      expect(res.status).toBe(400);
      expect((await res.json()).error.issues[0].path).toBe(path);
    }
  });
});

describe("a key on the API", () => {
  it("acts in its own workspace only: the default, and 404 for another via ?workspaceId=", async () => {
    const { secret } = await makeKey(alice, { scopes: ["read"] });
    const own = await accountsWith(secret);
    expect(own.status).toBe(200);
    const body = await own.json();
    expect(JSON.stringify(body)).toContain("alice_main");
    expect(JSON.stringify(body)).not.toContain("bob_main");
    // Alice's session reaches Bob's workspace (the control) …
    expect((await accountsWith(alice.accessToken, `?workspaceId=${bobWs}`)).status).toBe(200);
    // … her key for her own does not.
    const other = await accountsWith(secret, `?workspaceId=${bobWs}`);
    expect(other.status).toBe(404);
  });

  it("cannot write with read scope (403 insufficient_scope), and can with write", async () => {
    const { secret: reader } = await makeKey(alice, { scopes: ["read"] });
    const refused = await call(accountsRoute.POST, "/api/accounts", { method: "POST", token: reader, body: { platform: "sandbox", handle: "by_key" } });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error).toMatchObject({ code: "insufficient_scope", message: expect.stringContaining("write scope") });
    const { secret: writer } = await makeKey(alice, { scopes: ["write"] });
    const added = await call(addRoute.POST, "/api/queue/add", {
      method: "POST",
      token: writer,
      body: { text: "from a key", accountIds: [(await sql`select id from public.social_accounts where handle = 'alice_main' and workspace_id = ${aliceWs}`)[0].id] },
    });
    expect(added.status, await added.clone().text()).toBe(201);
    const [post] = await sql`select workspace_id, created_by from public.posts where text = 'from a key'`;
    expect(post).toEqual({ workspace_id: aliceWs, created_by: alice.id });
  });

  it("is refused once revoked (401), and revoking twice changes nothing", async () => {
    const { key, secret } = await makeKey(alice, { scopes: ["read"] });
    expect((await accountsWith(secret)).status).toBe(200);
    const del = await call(keyRoute.DELETE, `/api/keys/${key.id}`, { method: "DELETE", token: alice.accessToken, params: { id: key.id } });
    expect(del.status).toBe(200);
    expect((await del.json()).key.status).toBe("revoked");
    const after = await accountsWith(secret);
    expect(after.status).toBe(401);
    expect((await after.json()).error.code).toBe("api_key_revoked");
    const again = await call(keyRoute.DELETE, `/api/keys/${key.id}`, { method: "DELETE", token: alice.accessToken, params: { id: key.id } });
    expect(again.status).toBe(200);
  });

  it("is refused once expired (401)", async () => {
    const { key, secret } = await makeKey(alice, { scopes: ["read"], expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    expect((await accountsWith(secret)).status).toBe(200);
    await sql`update public.api_keys set expires_at = now() - interval '1 second' where id = ${key.id}`;
    const res = await accountsWith(secret);
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("api_key_expired");
  });

  it("is refused when its maker leaves the workspace (for good), and narrowed when they lose the role", async () => {
    const { secret } = await makeKey(alice, { scopes: ["read", "write"], workspaceId: bobWs });
    expect((await accountsWith(secret)).status).toBe(200);
    await sql`update public.workspace_members set role = 'viewer' where workspace_id = ${bobWs} and user_id = ${alice.id}`;
    const write = await call(accountsRoute.POST, "/api/accounts", { method: "POST", token: secret, body: { platform: "sandbox", handle: "x" } });
    expect(write.status).toBe(403);
    expect((await write.json()).error.code).toBe("api_key_role");
    expect((await accountsWith(secret)).status).toBe(200);
    await sql`delete from public.workspace_members where workspace_id = ${bobWs} and user_id = ${alice.id}`;
    const res = await accountsWith(secret);
    expect(res.status).toBe(401);
    // Removal revokes the maker's keys there (20261204001100), so re-inviting them later revives none.
    expect((await res.json()).error.code).toBe("api_key_revoked");
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${bobWs}, ${alice.id}, 'editor')`;
    expect((await accountsWith(secret)).status).toBe(401);
  });

  it("is refused when unknown or malformed (401), never tried as a session token", async () => {
    for (const token of ["pk_" + "A".repeat(43), "pk_short", "pk_" + "A".repeat(44)]) {
      const res = await accountsWith(token);
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe("invalid_api_key");
    }
  });

  it("cannot swap or remove the workspace's Upload-Post key, however scoped (people only)", async () => {
    // A leaked key that could replace the Upload-Post key would route the workspace's posts through
    // an account of the attacker's; removing it would stop its Upload-Post accounts.
    await sql`insert into public.upload_post_keys (workspace_id, key_sealed, key_last4) values (${aliceWs}, 'v1:AAAA:AAAA', 'AAAA')
              on conflict (workspace_id) do update set key_sealed = excluded.key_sealed, key_last4 = excluded.key_last4`;
    const { secret } = await makeKey(alice, { scopes: ["read", "write", "process"] });
    const swapped = await call(uploadPostKeyRoute.PUT, "/api/upload-post/key", { method: "PUT", token: secret, body: { apiKey: "attacker-upload-post-key-0123456789" } });
    expect(swapped.status).toBe(403);
    expect((await swapped.json()).error.code).toBe("session_required");
    const removed = await call(uploadPostKeyRoute.DELETE, "/api/upload-post/key", { method: "DELETE", token: secret, body: {} });
    expect(removed.status).toBe(403);
    expect((await removed.json()).error.code).toBe("session_required");
    expect(await sql`select key_sealed, key_last4 from public.upload_post_keys where workspace_id = ${aliceWs}`).toEqual([{ key_sealed: "v1:AAAA:AAAA", key_last4: "AAAA" }]);

    // The control: Alice's own session removes it (the refusals above are the key's).
    const mine = await call(uploadPostKeyRoute.DELETE, "/api/upload-post/key", { method: "DELETE", token: alice.accessToken, body: {} });
    expect(mine.status, await mine.clone().text()).toBe(200);
    expect(await sql`select 1 from public.upload_post_keys where workspace_id = ${aliceWs}`).toHaveLength(0);
  });

  it("runs a read request READ ONLY in the database, whatever the code does", async () => {
    const { secret } = await makeKey(alice, { scopes: ["read", "write"] });
    const claims = await authenticateApiKey(secret);
    const write = (scope: "read" | "write") =>
      asUser({ ...claims, api_key: { ...claims.api_key!, scope } }, (tx) => tx`select private.hit_api_rate_limit('probe', 1, 1)`);
    await expect(write("read")).rejects.toMatchObject({ message: expect.stringMatching(/read-only transaction/) });
    await expect(write("write")).resolves.toBeDefined();
  });
});

describe("rate limits", () => {
  it("count per key: one key over its limit leaves the maker's other key and session alone", async () => {
    const { secret: busy } = await makeKey(alice, { scopes: ["write"] });
    const { secret: calm } = await makeKey(alice, { scopes: ["write"] });
    const bulk = (token: string) => call(bulkRoute.POST, "/api/queue/bulk-post", { method: "POST", token, body: { posts: "nope" } });
    for (let i = 0; i < API_LIMITS.bulk.limit; i++) expect((await bulk(busy)).status).toBe(400);
    const over = await bulk(busy);
    expect(over.status).toBe(429);
    expect(over.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await over.json()).error.message).toContain("for this API key");
    expect((await bulk(calm)).status).toBe(400);
    expect((await bulk(alice.accessToken)).status).toBe(400);
  });
});
