// API keys in SQL, as an attacker would try them: the claims a key request carries narrow the
// signed-in user to the key's workspace and scope, and only while the key is live and its maker still
// holds the role the scope needs. Keys are made and revoked by people, never by keys; the hash is
// never readable by the API roles.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import type postgres from "postgres";
import { addAccounts, asUser, connect, errorOf, makeUser, type Sql } from "../support/db";

let sql: Sql;
let alice: Awaited<ReturnType<typeof makeUser>>;
let bob: Awaited<ReturnType<typeof makeUser>>;
/** Bob's workspace, where Alice is an editor too: a key of Alice's for her own workspace must not reach it. */
let shared: string;

beforeAll(async () => {
  sql = connect();
  [alice, bob] = await Promise.all([makeUser(sql, "key-alice"), makeUser(sql, "key-bob")]);
  shared = bob.workspaceId;
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${shared}, ${alice.id}, 'editor')`;
  await addAccounts(sql, alice.workspaceId, 1, "ka");
  await addAccounts(sql, shared, 1, "kb");
});
afterAll(() => sql.end());

function newSecret() {
  const key = `pk_${randomBytes(32).toString("base64url")}`;
  return { key, prefix: key.slice(0, 11), hash: createHash("sha256").update(key).digest() };
}

/** A key made through the database's own function, as Alice's session would. */
async function makeKey(userId: string, workspaceId: string, scopes: string[], expiresAt: Date | null = null) {
  const { key, prefix, hash } = newSecret();
  const [row] = await sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: "authenticated" })}, true),
                    set_config('role', 'authenticated', true)`;
    return tx`select private.create_api_key(${workspaceId}, 'test key', ${scopes}, ${expiresAt}, ${prefix}, ${hash}) as id`;
  });
  return { id: row.id as string, key, hash };
}

/** Run `fn` as `userId` acting through key `keyId` with the request's `scope`, then roll back. */
async function asKey<T>(userId: string, keyId: string, scope: string, fn: (tx: postgres.TransactionSql) => Promise<T>) {
  let result!: T;
  await sql
    .begin(async (tx) => {
      const claims = { sub: userId, role: "authenticated", api_key: { id: keyId, scope } };
      await tx`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true), set_config('role', 'authenticated', true)`;
      result = await fn(tx);
      throw new Error("rollback");
    })
    .catch((e) => {
      if (e.message !== "rollback") throw e;
    });
  return result;
}

const visibleWorkspaces = (tx: postgres.TransactionSql) =>
  tx`select id from public.workspaces order by id`.then((rows) => rows.map((r) => r.id as string));

const insertAccount = (tx: postgres.TransactionSql, workspaceId: string) =>
  errorOf(tx, (sp) => sp`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                         values (${workspaceId}, 'sandbox', ${`k_${Date.now()}_${Math.random().toString(36).slice(2, 6)}`}, 'By key')`);

describe("a key request in the database", () => {
  it("sees only the key's workspace, though its maker belongs to two (the control: her session sees both)", async () => {
    const { id } = await makeKey(alice.id, alice.workspaceId, ["read", "write"]);
    const session = await asUser(sql, alice.id, visibleWorkspaces);
    expect(session.sort()).toEqual([alice.workspaceId, shared].sort());
    expect(await asKey(alice.id, id, "read", visibleWorkspaces)).toEqual([alice.workspaceId]);
    await asKey(alice.id, id, "write", async (tx) => {
      expect(await visibleWorkspaces(tx)).toEqual([alice.workspaceId]);
      const [r] = await tx`select private.has_role_on_workspace(${shared}, 'editor') as other, private.has_role_on_workspace(${alice.workspaceId}, 'editor') as own`;
      expect(r).toEqual({ other: false, own: true });
      expect((await tx`select 1 from public.social_accounts where workspace_id = ${shared}`).length).toBe(0);
      expect(await insertAccount(tx, shared)).toMatchObject({ message: expect.stringMatching(/row-level security/) });
      expect(await insertAccount(tx, alice.workspaceId)).toBeNull();
    });
  });

  it("writes nothing on a read request, even with a key that also has write", async () => {
    const { id } = await makeKey(alice.id, alice.workspaceId, ["read", "write"]);
    await asKey(alice.id, id, "read", async (tx) => {
      expect((await tx`select 1 from public.social_accounts where workspace_id = ${alice.workspaceId}`).length).toBe(1);
      expect(await insertAccount(tx, alice.workspaceId)).toMatchObject({ message: expect.stringMatching(/row-level security/) });
      const [r] = await tx`select private.has_role_on_workspace(${alice.workspaceId}, 'editor') as ok`;
      expect(r.ok).toBe(false);
    });
  });

  it("reads with its maker's role only in a READ ONLY transaction, where Postgres refuses every write", async () => {
    const { id } = await makeKey(alice.id, alice.workspaceId, ["read"]);
    await sql
      .begin("read only", async (tx) => {
        const claims = { sub: alice.id, role: "authenticated", api_key: { id, scope: "read" } };
        await tx`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true), set_config('role', 'authenticated', true)`;
        const [r] = await tx`select private.has_role_on_workspace(${alice.workspaceId}, 'admin') as admin,
                                    private.has_role_on_workspace(${shared}, 'viewer') as other`;
        expect(r).toEqual({ admin: true, other: false });
        expect(await insertAccount(tx, alice.workspaceId)).toMatchObject({ message: expect.stringMatching(/read-only transaction/) });
        throw new Error("rollback");
      })
      .catch((e) => expect(e.message).toBe("rollback"));
  });

  it("gets nothing for a scope the key lacks, even if the request claims it", async () => {
    const { id } = await makeKey(alice.id, alice.workspaceId, ["read"]);
    expect(await asKey(alice.id, id, "write", visibleWorkspaces)).toEqual([]);
    expect(await asKey(alice.id, id, "process", visibleWorkspaces)).toEqual([]);
  });

  it("gets nothing once the key is revoked, or expired", async () => {
    const revoked = await makeKey(alice.id, alice.workspaceId, ["read"]);
    await sql`update public.api_keys set revoked_at = now() where id = ${revoked.id}`;
    expect(await asKey(alice.id, revoked.id, "read", visibleWorkspaces)).toEqual([]);
    const expiring = await makeKey(alice.id, alice.workspaceId, ["read"], new Date(Date.now() + 60_000));
    expect(await asKey(alice.id, expiring.id, "read", visibleWorkspaces)).toEqual([alice.workspaceId]);
    await sql`update public.api_keys set expires_at = now() - interval '1 second' where id = ${expiring.id}`;
    expect(await asKey(alice.id, expiring.id, "read", visibleWorkspaces)).toEqual([]);
  });

  it("gets nothing when someone else's claims carry the key's id", async () => {
    const { id } = await makeKey(alice.id, alice.workspaceId, ["read"]);
    expect(await asKey(bob.id, id, "read", visibleWorkspaces)).toEqual([]);
  });

  it("stops when its maker leaves the workspace, or loses the role the scope needs", async () => {
    const owner = await makeUser(sql, "key-owner");
    const maker = await makeUser(sql, "key-maker");
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${owner.workspaceId}, ${maker.id}, 'editor')`;
    const { id } = await makeKey(maker.id, owner.workspaceId, ["read", "write"]);
    expect(await asKey(maker.id, id, "write", visibleWorkspaces)).toEqual([owner.workspaceId]);
    await sql`update public.workspace_members set role = 'viewer' where workspace_id = ${owner.workspaceId} and user_id = ${maker.id}`;
    expect(await asKey(maker.id, id, "write", visibleWorkspaces)).toEqual([]);
    expect(await asKey(maker.id, id, "read", visibleWorkspaces)).toEqual([owner.workspaceId]);
    await sql`delete from public.workspace_members where workspace_id = ${owner.workspaceId} and user_id = ${maker.id}`;
    expect(await asKey(maker.id, id, "read", visibleWorkspaces)).toEqual([]);
  });

  it("gets nothing when the workspace's plan loses api_access", async () => {
    const { id } = await makeKey(alice.id, alice.workspaceId, ["read"]);
    await sql
      .begin(async (tx) => {
        await tx`update public.plans set features_enabled = features_enabled || '{"api_access": false}' where id = 'free'`;
        await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: alice.id, role: "authenticated", api_key: { id, scope: "read" } })}, true),
                        set_config('role', 'authenticated', true)`;
        expect(await visibleWorkspaces(tx)).toEqual([]);
        throw new Error("rollback");
      })
      .catch((e) => expect(e.message).toBe("rollback"));
  });
});

describe("making and revoking keys", () => {
  it("is refused to a request made with a key", async () => {
    const { id } = await makeKey(alice.id, alice.workspaceId, ["read", "write", "process"]);
    const { prefix, hash } = newSecret();
    await asKey(alice.id, id, "write", async (tx) => {
      const create = await errorOf(tx, (sp) =>
        sp`select private.create_api_key(${alice.workspaceId}, 'sneaky', ${["write"]}, null, ${prefix}, ${hash})`);
      expect(create).toMatchObject({ code: "42501", message: expect.stringMatching(/An API key cannot create API keys/) });
      const revoke = await errorOf(tx, (sp) => sp`select private.revoke_api_key(${id})`);
      expect(revoke).toMatchObject({ code: "42501" });
      expect((await tx`select 1 from public.api_keys`).length).toBe(0);
    });
  });

  it("gives a viewer read keys only, and nobody a key for a workspace they are not in", async () => {
    const viewer = await makeUser(sql, "key-viewer");
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${bob.workspaceId}, ${viewer.id}, 'viewer')`;
    await expect(makeKey(viewer.id, bob.workspaceId, ["write"])).rejects.toMatchObject({ code: "42501" });
    await expect(makeKey(viewer.id, bob.workspaceId, ["read"])).resolves.toMatchObject({ id: expect.any(String) });
    await expect(makeKey(viewer.id, alice.workspaceId, ["read"])).rejects.toMatchObject({ code: "P0002" });
  });

  it("is refused without the plan's api_access", async () => {
    await sql
      .begin(async (tx) => {
        await tx`update public.plans set features_enabled = features_enabled || '{"api_access": false}' where id = 'free'`;
        await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: alice.id, role: "authenticated" })}, true),
                        set_config('role', 'authenticated', true)`;
        const { prefix, hash } = newSecret();
        const err = await errorOf(tx, (sp) => sp`select private.create_api_key(${alice.workspaceId}, 'k', ${["read"]}, null, ${prefix}, ${hash})`);
        expect(err).toMatchObject({ code: "P0001", detail: expect.stringContaining("plan_feature_unavailable") });
        throw new Error("rollback");
      })
      .catch((e) => expect(e.message).toBe("rollback"));
  });

  it("lets only the maker or an admin revoke, and writes both to the audit log", async () => {
    const { id } = await makeKey(alice.id, shared, ["read"]);
    const editor = await makeUser(sql, "key-editor");
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${shared}, ${editor.id}, 'editor')`;
    const byEditor = await asUser(sql, editor.id, (tx) => errorOf(tx, (sp) => sp`select private.revoke_api_key(${id})`));
    expect(byEditor).toMatchObject({ code: "42501" });
    const byStranger = await asUser(sql, makeUserId(), (tx) => errorOf(tx, (sp) => sp`select private.revoke_api_key(${id})`));
    expect(byStranger).toMatchObject({ code: "P0002" });
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: bob.id, role: "authenticated" })}, true), set_config('role', 'authenticated', true)`;
      await tx`select private.revoke_api_key(${id})`;
    });
    const [key] = await sql`select revoked_at, revoked_by from public.api_keys where id = ${id}`;
    expect(key.revoked_by).toBe(bob.id);
    const audit = await sql`select action, actor_id from public.audit_log where entity = 'api_keys' and entity_id = ${id} order by id`;
    expect(audit.map((a) => [a.action, a.actor_id])).toEqual([["api_key.create", alice.id], ["api_key.revoke", bob.id]]);
  });
});

const makeUserId = () => crypto.randomUUID();

describe("the table, straight from the API roles", () => {
  it("never shows the hash, and takes no insert, update or delete", async () => {
    const { id } = await makeKey(alice.id, alice.workspaceId, ["read"]);
    await asUser(sql, alice.id, async (tx) => {
      expect((await tx`select id from public.api_keys where id = ${id}`).length).toBe(1);
      expect(await errorOf(tx, (sp) => sp`select secret_hash from public.api_keys`)).toMatchObject({ message: expect.stringMatching(/permission denied/) });
      expect(await errorOf(tx, (sp) => sp`update public.api_keys set revoked_at = null, scopes = '{read,write}' where id = ${id}`))
        .toMatchObject({ message: expect.stringMatching(/permission denied/) });
      expect(await errorOf(tx, (sp) => sp`delete from public.api_keys where id = ${id}`)).toMatchObject({ message: expect.stringMatching(/permission denied/) });
      const { prefix, hash } = newSecret();
      expect(await errorOf(tx, (sp) => sp`insert into public.api_keys (workspace_id, name, prefix, secret_hash, scopes, created_by)
                                          values (${alice.workspaceId}, 'x', ${prefix}, ${hash}, '{read}', ${alice.id})`))
        .toMatchObject({ message: expect.stringMatching(/permission denied/) });
    });
    // Another workspace's members see none of them.
    await asUser(sql, bob.id, async (tx) => expect((await tx`select 1 from public.api_keys where id = ${id}`).length).toBe(0));
  });
});

describe("authentication (as pacer_worker)", () => {
  const authenticate = (hash: Buffer) =>
    sql.begin(async (tx) => {
      await tx`set local role pacer_worker`;
      return tx`select * from private.authenticate_api_key(${hash})`;
    });

  it("finds a key by its hash, says why it is refused, and stamps last use at most once a minute", async () => {
    const k = await makeKey(alice.id, alice.workspaceId, ["read", "write"]);
    expect(await authenticate(newSecret().hash)).toEqual([]);
    const [first] = await authenticate(k.hash);
    expect(first).toMatchObject({ key_id: k.id, workspace_id: alice.workspaceId, user_id: alice.id, scopes: ["read", "write"], role: "owner", refused: null });
    const [{ last_used_at: stamped }] = await sql`select last_used_at from public.api_keys where id = ${k.id}`;
    expect(stamped).toBeInstanceOf(Date);
    await authenticate(k.hash);
    const [{ last_used_at: again }] = await sql`select last_used_at from public.api_keys where id = ${k.id}`;
    expect(again.getTime()).toBe(stamped.getTime());
    await sql`update public.api_keys set last_used_at = now() - interval '2 minutes' where id = ${k.id}`;
    await authenticate(k.hash);
    const [{ last_used_at: later }] = await sql`select last_used_at from public.api_keys where id = ${k.id}`;
    expect(Date.now() - later.getTime()).toBeLessThan(60_000);

    await sql`update public.api_keys set expires_at = now() - interval '1 second' where id = ${k.id}`;
    expect((await authenticate(k.hash))[0].refused).toBe("expired");
    await sql`update public.api_keys set revoked_at = now() where id = ${k.id}`;
    expect((await authenticate(k.hash))[0].refused).toBe("revoked");
  });

  it("refuses a key whose maker left", async () => {
    const owner = await makeUser(sql, "key-owner2");
    const maker = await makeUser(sql, "key-maker2");
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${owner.workspaceId}, ${maker.id}, 'editor')`;
    const k = await makeKey(maker.id, owner.workspaceId, ["read"]);
    expect((await authenticate(k.hash))[0].refused).toBeNull();
    // Removal revokes the maker's keys in that workspace (20261204001100); "maker_left" is what a key
    // whose revocation was skipped would still get.
    await sql`delete from public.workspace_members where workspace_id = ${owner.workspaceId} and user_id = ${maker.id}`;
    expect((await authenticate(k.hash))[0].refused).toBe("revoked");
    await sql`update public.api_keys set revoked_at = null where id = ${k.id}`;
    expect((await authenticate(k.hash))[0].refused).toBe("maker_left");
  });
});
