// Row level security: on for every table the API exposes, and no tenant can touch another's rows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccounts, asUser, connect, errorOf, makeUser, type Sql } from "../support/db";

let sql: Sql;
beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());

const TABLES_WITHOUT_RLS = `
  select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity
  order by 1`;

describe("row level security coverage", () => {
  it("is enabled on every table in the public schema", async () => {
    const missing = await sql.unsafe(TABLES_WITHOUT_RLS);
    expect(missing.map((r) => r.relname)).toEqual([]);
  });

  it("would catch a newly added table without it", async () => {
    await sql
      .begin(async (tx) => {
        await tx`create table public.rls_canary (id int)`;
        const missing = await tx.unsafe(TABLES_WITHOUT_RLS);
        expect(missing.map((r) => r.relname)).toEqual(["rls_canary"]);
        throw new Error("rollback");
      })
      .catch((e) => expect(e.message).toBe("rollback"));
  });

  it("makes every view in the public schema run with the caller's rights", async () => {
    const definerViews = await sql`
      select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'v'
        and not coalesce('security_invoker=true' = any (c.reloptions), false)`;
    expect(definerViews.map((r) => r.relname)).toEqual([]);
  });

  it("writes every policy for signed-in users only", async () => {
    const policies = await sql`select tablename, policyname, roles from pg_policies where schemaname = 'public'`;
    expect(policies.length).toBeGreaterThan(0);
    expect(policies.filter((p) => p.roles.join(",") !== "authenticated")).toEqual([]);
  });

  it("indexes every workspace_id column a policy filters on", async () => {
    const unindexed = await sql`
      select c.relname from pg_attribute a
      join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r' and a.attname in ('workspace_id', 'user_id')
        and not exists (select 1 from pg_index i where i.indrelid = c.oid and i.indkey[0] = a.attnum)`;
    expect(unindexed.map((r) => r.relname)).toEqual([]);
  });

  it("keeps helper functions out of the exposed schema and pins their search_path", async () => {
    const definers = await sql`
      select n.nspname, p.proname, p.proconfig from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where p.prosecdef and n.nspname in ('public', 'private')`;
    expect(definers.length).toBeGreaterThan(0);
    for (const f of definers) expect(f.proconfig, `${f.nspname}.${f.proname}`).toContain('search_path=""');
  });
});

describe("tenant isolation in SQL, acting as another signed-in user", () => {
  let a: Awaited<ReturnType<typeof makeUser>>;
  let b: Awaited<ReturnType<typeof makeUser>>;
  let aAccountId: string;

  beforeAll(async () => {
    a = await makeUser(sql, "tenant-a");
    b = await makeUser(sql, "tenant-b");
    await addAccounts(sql, a.workspaceId, 1, "a");
    [{ id: aAccountId }] = await sql`select id from public.social_accounts where workspace_id = ${a.workspaceId}`;
    const [post] = await sql`insert into public.posts (workspace_id, text) values (${a.workspaceId}, 'private to A') returning id`;
    const [item] = await sql`insert into public.queue_items (workspace_id, post_id, account_id)
                             values (${a.workspaceId}, ${post.id}, ${aAccountId}) returning id`;
    await sql`insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, kind, attempt,
                                                  started_at, finished_at, outcome)
              values (${item.id}, ${a.workspaceId}, ${aAccountId}, 'sandbox', 'post', 'publish', 1, now(), now(), 'posted')`;
    await sql`insert into public.workspace_rate_limits (workspace_id, platform, action, per_hour)
              values (${a.workspaceId}, 'sandbox', 'post', 100)`;
  });

  it("lets B read none of A's rows in any table or view", async () => {
    await asUser(sql, b.id, async (tx) => {
      for (const [table, column] of [
        ["workspaces", "id"],
        ["workspace_members", "workspace_id"],
        ["social_accounts", "workspace_id"],
        ["audit_log", "workspace_id"],
        ["workspace_usage", "workspace_id"],
        ["posts", "workspace_id"],
        ["queue_items", "workspace_id"],
        ["posting_history", "workspace_id"],
        ["workspace_rate_limits", "workspace_id"],
        ["subscriptions", "workspace_id"],
      ]) {
        const rows = await tx.unsafe(`select 1 from public.${table} where ${column} = $1`, [a.workspaceId]);
        expect(rows.length, table).toBe(0);
      }
    });
  });

  it("shows A their own rows, so the isolation above is not just an empty database", async () => {
    await asUser(sql, a.id, async (tx) => {
      expect((await tx`select 1 from public.workspaces where id = ${a.workspaceId}`).length).toBe(1);
      expect((await tx`select 1 from public.social_accounts where workspace_id = ${a.workspaceId}`).length).toBe(1);
      expect((await tx`select 1 from public.audit_log where workspace_id = ${a.workspaceId}`).length).toBeGreaterThan(0);
      for (const table of ["posts", "queue_items", "posting_history", "workspace_rate_limits"]) {
        expect((await tx.unsafe(`select 1 from public.${table} where workspace_id = $1`, [a.workspaceId])).length, table).toBe(1);
      }
    });
  });

  it("refuses B's inserts into A's workspace", async () => {
    await asUser(sql, b.id, async (tx) => {
      const account = await errorOf(tx, (sp) =>
        sp`insert into public.social_accounts (workspace_id, platform, handle, display_name)
           values (${a.workspaceId}, 'sandbox', 'intruder', 'Intruder')`);
      expect(account?.message).toMatch(/row-level security/);
      const member = await errorOf(tx, (sp) =>
        sp`insert into public.workspace_members (workspace_id, user_id, role) values (${a.workspaceId}, ${b.id}, 'owner')`);
      expect(member?.message).toMatch(/row-level security/);
      const post = await errorOf(tx, (sp) => sp`insert into public.posts (workspace_id, text) values (${a.workspaceId}, 'spam')`);
      expect(post?.message).toMatch(/row-level security/);
      const limits = await errorOf(tx, (sp) =>
        sp`insert into public.workspace_rate_limits (workspace_id, platform, action, per_hour) values (${a.workspaceId}, 'x', 'post', 1)`);
      expect(limits?.message).toMatch(/row-level security/);
      const history = await errorOf(tx, (sp) =>
        sp`insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, kind, attempt, started_at, finished_at, outcome)
           values (1, ${a.workspaceId}, ${aAccountId}, 'sandbox', 'post', 'publish', 1, now(), now(), 'posted')`);
      expect(history?.message).toMatch(/permission denied/);
      const audit = await errorOf(tx, (sp) =>
        sp`insert into public.audit_log (workspace_id, action, entity, entity_id) values (${a.workspaceId}, 'x', 'y', 'z')`);
      expect(audit?.message).toMatch(/permission denied/);
    });
  });

  it("lets B's updates and deletes of A's rows change nothing", async () => {
    await asUser(sql, b.id, async (tx) => {
      expect((await tx`update public.workspaces set name = 'pwned' where id = ${a.workspaceId} returning id`).length).toBe(0);
      expect((await tx`update public.social_accounts set display_name = 'pwned' where id = ${aAccountId} returning id`).length).toBe(0);
      expect((await tx`update public.workspace_members set role = 'viewer' where workspace_id = ${a.workspaceId} returning 1`).length).toBe(0);
      // No one deletes an account row (removal archives it through public.remove_accounts).
      expect((await errorOf(tx, (sp) => sp`delete from public.social_accounts where id = ${aAccountId}`))?.message).toMatch(/permission denied/);
      expect(await tx`select outcome from public.remove_accounts(${[aAccountId]}::uuid[])`).toEqual([{ outcome: "not_found" }]);
      expect((await tx`delete from public.workspace_members where workspace_id = ${a.workspaceId} returning 1`).length).toBe(0);
      expect((await tx`delete from public.workspaces where id = ${a.workspaceId} returning id`).length).toBe(0);
      expect((await tx`update public.workspace_rate_limits set per_hour = 1 where workspace_id = ${a.workspaceId} returning 1`).length).toBe(0);
      expect((await tx`delete from public.workspace_rate_limits where workspace_id = ${a.workspaceId} returning 1`).length).toBe(0);
    });
    const [still] = await sql`select display_name from public.social_accounts where id = ${aAccountId}`;
    expect(still.display_name).toBe("Account 0");
  });

  it("never lets a signed-in user change a queue item's state or rewrite the posting history", async () => {
    await asUser(sql, a.id, async (tx) => {
      const status = await errorOf(tx, (sp) => sp`update public.queue_items set status = 'posted' where workspace_id = ${a.workspaceId}`);
      expect(status?.message).toMatch(/permission denied/);
      const history = await errorOf(tx, (sp) => sp`delete from public.posting_history where workspace_id = ${a.workspaceId}`);
      expect(history?.message).toMatch(/permission denied/);
    });
    const rewrite = await sql`update public.posting_history set outcome = 'failed' where workspace_id = ${a.workspaceId}`.catch((e) => e);
    expect(rewrite.message).toBe("The posting history is append-only.");
  });

  it("never lets a signed-in user read stored credentials or change their own plan", async () => {
    await asUser(sql, a.id, async (tx) => {
      const read = await errorOf(tx, (sp) => sp`select credentials_encrypted from public.social_accounts`);
      expect(read?.message).toMatch(/permission denied/);
      const plan = await errorOf(tx, (sp) => sp`update public.workspaces set plan_id = 'ultra' where id = ${a.workspaceId}`);
      expect(plan?.message).toMatch(/permission denied/);
      const planRow = await errorOf(tx, (sp) => sp`update public.plans set max_accounts = 100000`);
      expect(planRow?.message).toMatch(/permission denied/);
    });
  });

  it("gives signed-out visitors (anon) nothing", async () => {
    await sql
      .begin(async (tx) => {
        await tx`select set_config('role', 'anon', true)`;
        const err = await errorOf(tx, (sp) => sp`select * from public.social_accounts`);
        expect(err?.message).toMatch(/permission denied/);
        throw new Error("rollback");
      })
      .catch((e) => expect(e.message).toBe("rollback"));
  });
});

describe("roles inside a workspace", () => {
  it("lets a viewer read accounts but not add, change or remove them", async () => {
    const owner = await makeUser(sql, "owner");
    const viewer = await makeUser(sql, "viewer");
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${owner.workspaceId}, ${viewer.id}, 'viewer')`;
    await addAccounts(sql, owner.workspaceId, 1, "v");
    await asUser(sql, viewer.id, async (tx) => {
      const rows = await tx`select id from public.social_accounts where workspace_id = ${owner.workspaceId}`;
      expect(rows.length).toBe(1);
      const insert = await errorOf(tx, (sp) =>
        sp`insert into public.social_accounts (workspace_id, platform, handle, display_name)
           values (${owner.workspaceId}, 'sandbox', 'nope', 'Nope')`);
      expect(insert?.message).toMatch(/row-level security/);
      expect((await tx`update public.social_accounts set display_name = 'x' where id = ${rows[0].id} returning id`).length).toBe(0);
      expect((await errorOf(tx, (sp) => sp`delete from public.social_accounts where id = ${rows[0].id}`))?.message).toMatch(/permission denied/);
      expect(await tx`select outcome from public.remove_accounts(${[rows[0].id]}::uuid[])`).toEqual([{ outcome: "forbidden" }]);
    });
  });
});

describe("background role", () => {
  it("is neither a superuser nor able to bypass row level security", async () => {
    const [role] = await sql`select rolsuper, rolbypassrls, rolcanlogin from pg_roles where rolname = 'pacer_worker'`;
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false, rolcanlogin: false });
  });
});
