// What an API key may never do, held by the database whatever the route: change who belongs to a
// workspace (invite, accept, change a role, remove, transfer ownership) or where its events go
// (webhook endpoints). An owner's leaked `write` key could otherwise invite the attacker as an admin,
// a membership that outlives the key. And removing a member revokes their keys and their open
// invitations. (Attacker first; migration 20261204001100.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import type postgres from "postgres";
import { connect, makeUser, type Sql } from "../support/db";

let sql: Sql;
let owner: Awaited<ReturnType<typeof makeUser>>;
let member: Awaited<ReturnType<typeof makeUser>>;

beforeAll(async () => {
  sql = connect();
  [owner, member] = await Promise.all([makeUser(sql, "po-owner"), makeUser(sql, "po-member")]);
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${owner.workspaceId}, ${member.id}, 'editor')`;
});
afterAll(() => sql.end());

const as = async <T>(claims: object, fn: (tx: postgres.TransactionSql) => Promise<T>) =>
  sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true), set_config('role', 'authenticated', true)`;
    return fn(tx);
  }) as Promise<T>;

const failure = (p: Promise<unknown>) => p.then(() => null, (e: { code?: string; message: string }) => e);

async function makeKey(userId: string, workspaceId: string, scopes: string[]) {
  const key = `pk_${randomBytes(32).toString("base64url")}`;
  const hash = createHash("sha256").update(key).digest();
  const [row] = await as({ sub: userId, role: "authenticated" }, (tx) => tx`select private.create_api_key(${workspaceId}, 'po key', ${scopes}, null, ${key.slice(0, 11)}, ${hash}) as id`);
  return row.id as string;
}

describe("an owner's write key", () => {
  it("cannot invite, change a role, remove a member or transfer ownership", async () => {
    const keyId = await makeKey(owner.id, owner.workspaceId, ["write"]);
    const withKey = { sub: owner.id, role: "authenticated", api_key: { id: keyId, scope: "write" } };
    const attempts = {
      invite: (tx: postgres.TransactionSql) => tx`select * from public.invite_to_workspace(${owner.workspaceId}, 'attacker@example.com', 'admin')`,
      role: (tx: postgres.TransactionSql) => tx`update public.workspace_members set role = 'viewer' where workspace_id = ${owner.workspaceId} and user_id = ${member.id}`,
      remove: (tx: postgres.TransactionSql) => tx`delete from public.workspace_members where workspace_id = ${owner.workspaceId} and user_id = ${member.id}`,
      transfer: (tx: postgres.TransactionSql) => tx`select public.transfer_workspace_ownership(${owner.workspaceId}, ${member.id})`,
    };
    for (const [what, attempt] of Object.entries(attempts)) {
      const error = await failure(as(withKey, attempt));
      expect(error?.code, what).toBe("42501");
      expect(error?.message, what).toMatch(/An API key cannot change/);
    }
    const [m] = await sql`select role from public.workspace_members where workspace_id = ${owner.workspaceId} and user_id = ${member.id}`;
    expect(m.role).toBe("editor");
    expect(await sql`select 1 from public.workspace_invitations where email = 'attacker@example.com'`).toHaveLength(0);
  });

  it("cannot create a webhook endpoint, though its owner can", async () => {
    const keyId = await makeKey(owner.id, owner.workspaceId, ["write"]);
    // As the server calls it (lib/webhooks): as pacer_worker, inside the caller's transaction and claims.
    const create = async (tx: postgres.TransactionSql) =>
      (await tx`set local role pacer_worker`) && tx`select private.create_webhook_endpoint(${owner.workspaceId}, 'https://hooks.example.com/x', 'po', array['post.published'], 'v1:AAAA:BBBB', 'abcd')`;
    const error = await failure(as({ sub: owner.id, role: "authenticated", api_key: { id: keyId, scope: "write" } }, create));
    expect(error?.code).toBe("42501");
    await as({ sub: owner.id, role: "authenticated" }, create);
    expect(await sql`select 1 from public.webhook_endpoints where workspace_id = ${owner.workspaceId}`).toHaveLength(1);
  });
});

describe("removing a member", () => {
  it("revokes their API keys and withdraws the invitations they sent", async () => {
    const admin = await makeUser(sql, "po-admin");
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${owner.workspaceId}, ${admin.id}, 'admin')`;
    const keyId = await makeKey(admin.id, owner.workspaceId, ["read", "write"]);
    await as({ sub: admin.id, role: "authenticated" }, (tx) => tx`select * from public.invite_to_workspace(${owner.workspaceId}, 'second-address@example.com', 'editor')`);
    // The owner removes the admin.
    await as({ sub: owner.id, role: "authenticated" }, (tx) => tx`delete from public.workspace_members where workspace_id = ${owner.workspaceId} and user_id = ${admin.id}`);
    const [key] = await sql`select revoked_at, revoked_by from public.api_keys where id = ${keyId}`;
    expect(key.revoked_at).not.toBeNull();
    expect(key.revoked_by).toBe(owner.id);
    expect(await sql`select 1 from public.workspace_invitations where email = 'second-address@example.com' and accepted_at is null`).toHaveLength(0);
  });
});
