// Who applies the migrations must not matter. On Supabase `supabase db push` connects as `postgres`
// (not a superuser), while the dashboard's SQL editor and some tools apply SQL as the superuser
// `supabase_admin`; the app, `npm run worker` and the Edge Function always connect as `postgres` and
// switch into `pacer_worker`. A second embedded cluster stands in for a Supabase project (bootstrap
// superuser `supabase_admin`, a `postgres` shaped like Supabase's); the migrations are applied each
// way, and partly each way, then the engine publishes a post as `postgres`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { LOCAL_DB_PASSWORD, startEmbeddedPostgres, type LocalPostgres } from "../../local/postgres.ts";
import { MIGRATIONS_DIR, migrate } from "../../local/migrate.ts";
import { startSandbox, type Sandbox } from "../../local/sandbox/index.ts";
import { processQueue } from "../../lib/engine/process.ts";
import { freePort } from "../setup/free-port.ts";
import { sandboxAccount, sandboxConnector } from "../support/sandbox.ts";

type Sql = postgres.Sql;
type Applier = "supabase_admin" | "postgres";

const COMPAT_SQL = join(import.meta.dirname, "..", "..", "local", "supabase-compat.sql");
const MIGRATIONS = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
/** The migration that hands a superuser's objects to postgres; later ones apply as postgres after it. */
const HAND_OVER = MIGRATIONS.findIndex((f) => f.startsWith("20261202000200_"));

let folder: string;
let port: number;
let cluster: LocalPostgres;
let root: Sql;
let sandbox: Sandbox;
/** The current project's database and its connections. */
let project: { database: string; pools: Sql[] } | null = null;

const urlAs = (user: Applier, database: string) => `postgres://${user}:${LOCAL_DB_PASSWORD}@127.0.0.1:${port}/${database}`;

function connectAs(user: Applier): Sql {
  const sql = postgres(urlAs(user, project!.database), { max: 4, prepare: false, onnotice: () => {} });
  project!.pools.push(sql);
  return sql;
}

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "pacer-who-migrates-"));
  port = await freePort();
  cluster = await startEmbeddedPostgres({ dataDir: join(folder, "postgres"), port, superuser: "supabase_admin", persistent: false });
  root = postgres(urlAs("supabase_admin", "postgres"), { max: 1, prepare: false, onnotice: () => {} });
  // Supabase's `postgres`: it logs in, creates roles and databases and bypasses RLS, but is no superuser.
  await root.unsafe(`create role postgres login createrole createdb bypassrls password '${LOCAL_DB_PASSWORD}'`);
  sandbox = await startSandbox({ port: 0, seed: 8 });
});

afterAll(async () => {
  await endProject();
  await root?.end();
  await sandbox?.stop();
  await cluster?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

async function endProject() {
  if (!project) return;
  await Promise.all(project.pools.map((p) => p.end()));
  await root.unsafe(`drop database if exists ${project.database} with (force)`);
  project = null;
}

/**
 * A new project: a database owned by `postgres` with what Supabase provides before any migration.
 * Roles belong to the cluster and each Supabase project has its own, so the previous project's
 * database and pacer_worker go first: who creates the role is part of what this test varies.
 */
async function newSupabaseProject() {
  await endProject();
  await root`drop role if exists pacer_worker`;
  project = { database: `pacer_${randomUUID().slice(0, 8)}`, pools: [] };
  await root.unsafe(`create database ${project.database} owner postgres`);
  const admin = connectAs("supabase_admin");
  // local/migrate.ts skips the compatibility step where supabase_admin exists (on Supabase): run it here.
  await admin.unsafe(readFileSync(COMPAT_SQL, "utf8"));
  // What Supabase grants on top: `postgres` gets everything supabase_admin makes in public (and the
  // API roles everything either makes), full use of auth's tables, and the CLI's ledger is its own.
  await admin.unsafe(`
    alter default privileges for role supabase_admin in schema public grant all on tables to postgres;
    alter default privileges for role supabase_admin in schema public grant all on functions to postgres;
    alter default privileges for role supabase_admin in schema public grant all on sequences to postgres;
    alter default privileges for role postgres in schema public grant all on tables to anon, authenticated, service_role;
    alter default privileges for role postgres in schema public grant all on functions to anon, authenticated, service_role;
    alter default privileges for role postgres in schema public grant all on sequences to anon, authenticated, service_role;
    grant usage on schema auth, extensions to postgres;
    grant all on all tables in schema auth to postgres;
    grant all on all sequences in schema auth to postgres;
    alter schema supabase_migrations owner to postgres;
    alter table supabase_migrations.schema_migrations owner to postgres;
  `);
}

/** Apply the migration files `files` (those not applied yet, in order) as `user`. */
async function apply(user: Applier, files = MIGRATIONS) {
  const dir = join(folder, `migrations-${randomUUID().slice(0, 8)}`);
  mkdirSync(dir);
  for (const f of files) copyFileSync(join(MIGRATIONS_DIR, f), join(dir, f));
  return migrate(urlAs(user, project!.database), { dir });
}

/**
 * The result that must not depend on who applied the migrations: every object of Pacer's in public
 * and private (outside extensions) with its owner and grants, and what postgres may do with pacer_worker.
 */
async function result() {
  const rows = await connectAs("supabase_admin")`
    with ext as (select classid, objid from pg_catalog.pg_depend where deptype = 'e')
    select 'schema' as kind, n.nspname::text as name, pg_catalog.pg_get_userbyid(n.nspowner)::text as owner, n.nspacl::text as grants
    from pg_catalog.pg_namespace n where n.nspname = 'private'
    union all
    select case c.relkind when 'r' then 'table' when 'p' then 'table' when 'v' then 'view' when 'm' then 'materialized view'
                          when 'S' then 'sequence' when 'i' then 'index' when 'I' then 'index' else 'relation' end,
           n.nspname || '.' || c.relname, pg_catalog.pg_get_userbyid(c.relowner)::text, c.relacl::text
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('public', 'private') and ('pg_class'::regclass, c.oid) not in (select * from ext)
    union all
    select 'column', n.nspname || '.' || c.relname || '.' || a.attname, null, a.attacl::text
    from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('public', 'private') and a.attacl is not null
    union all
    select case when p.prosecdef then 'security definer routine' else 'routine' end, p.oid::regprocedure::text,
           pg_catalog.pg_get_userbyid(p.proowner)::text, p.proacl::text
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('public', 'private') and ('pg_proc'::regclass, p.oid) not in (select * from ext)
    union all
    select 'type', pg_catalog.format_type(t.oid, null), pg_catalog.pg_get_userbyid(t.typowner)::text, t.typacl::text
    from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
    where n.nspname in ('public', 'private') and ('pg_type'::regclass, t.oid) not in (select * from ext)
    union all
    select 'role', 'pacer_worker', null,
           'postgres: set ' || pg_catalog.pg_has_role('postgres', 'pacer_worker', 'SET')
           || ', usage ' || pg_catalog.pg_has_role('postgres', 'pacer_worker', 'USAGE')
           || ', admin ' || pg_catalog.pg_has_role('postgres', 'pacer_worker', 'USAGE WITH ADMIN OPTION')
    order by 1, 2`;
  return rows.map((r) => ({ kind: r.kind as string, name: r.name as string, owner: r.owner as string | null, grants: r.grants as string | null }));
}

/** As `postgres`, like the app and the workers: a user, a sandbox account and one post, then a processing run. */
async function publishOnePost() {
  const sql = connectAs("postgres");
  const userId = randomUUID();
  // Supabase Auth's insert: the sign-up trigger gives the user a workspace.
  await sql`insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
            values (${userId}, 'authenticated', 'authenticated', ${`who-${userId.slice(0, 8)}@example.test`}, '{}', '{}', now(), now())`;
  const [{ workspace_id: workspaceId }] = await sql`select workspace_id from public.workspace_members where user_id = ${userId}`;
  const account = await sandboxAccount(sandbox.url, `who_${randomUUID().slice(0, 8)}`);
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                        values (${workspaceId}, 'sandbox', ${account.handle}, ${account.handle}, ${account.sealed}) returning id`;
  const [p] = await sql`insert into public.posts (workspace_id, text) values (${workspaceId}, 'who migrates') returning id`;
  const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${workspaceId}, ${p.id}, ${a.id}) returning id`;
  const connector = sandboxConnector(sandbox.url);
  await processQueue({ sql, worker: "who-migrates", connectorFor: () => connector, budgetMs: 10_000, callTimeoutMs: 5_000 });
  const [item] = await sql`select status from public.queue_items where id = ${q.id}`;
  return { status: item.status as string, publishedOnSandbox: sandbox.stats().byAccount[account.handle] ?? 0 };
}

const PUBLISHED = { status: "posted", publishedOnSandbox: 1 };

describe("whoever applies the migrations, postgres owns Pacer and runs the worker", () => {
  let reference: Awaited<ReturnType<typeof result>>;

  it("all applied by postgres (supabase db push)", async () => {
    await newSupabaseProject();
    await apply("postgres");
    expect(await publishOnePost()).toEqual(PUBLISHED);
    reference = await result();
    expect(reference.filter((o) => o.owner !== null && o.owner !== "postgres")).toEqual([]);
    expect(reference.find((o) => o.kind === "role")?.grants).toBe("postgres: set true, usage true, admin true");
  });

  it("all applied by supabase_admin (the SQL editor, some tools)", async () => {
    await newSupabaseProject();
    await apply("supabase_admin");
    expect(await publishOnePost()).toEqual(PUBLISHED);
    const found = await result();
    expect(found.find((o) => o.kind === "schema")).toMatchObject({ name: "private", owner: "postgres" });
    expect(found.filter((o) => o.kind === "security definer routine" && o.owner !== "postgres")).toEqual([]);
    expect(found).toEqual(reference);
  });

  it("the first half applied by postgres, the rest by supabase_admin", async () => {
    await newSupabaseProject();
    await apply("postgres", MIGRATIONS.slice(0, Math.ceil(MIGRATIONS.length / 2)));
    await apply("supabase_admin");
    expect(await publishOnePost()).toEqual(PUBLISHED);
    expect(await result()).toEqual(reference);
  });

  it("applied by supabase_admin up to the hand-over: postgres is told who must apply it", async () => {
    await newSupabaseProject();
    await apply("supabase_admin", MIGRATIONS.slice(0, HAND_OVER));
    // postgres can take over neither supabase_admin's objects nor its pacer_worker.
    await expect(apply("postgres")).rejects.toThrow(/The schema private belongs to supabase_admin/);
    // What the error's hint says: run the file once as supabase_admin (the SQL editor keeps no
    // ledger), then push again, which applies it once more as postgres.
    await connectAs("supabase_admin").unsafe(readFileSync(join(MIGRATIONS_DIR, MIGRATIONS[HAND_OVER]), "utf8"));
    expect((await apply("postgres")).applied).toEqual(MIGRATIONS.slice(HAND_OVER));
    expect(await publishOnePost()).toEqual(PUBLISHED);
    expect(await result()).toEqual(reference);
  });

  it("a later migration that ends with private.hand_over_to_postgres() gives postgres what it made", async () => {
    await newSupabaseProject();
    await apply("postgres");
    const later = `
      create table public.later_things (id int primary key);
      create function private.later_helper() returns int language sql security definer set search_path = '' as 'select 1';
      call private.hand_over_to_postgres();`;
    const ownersOfLater = async () =>
      (await connectAs("supabase_admin")`
        select pg_catalog.pg_get_userbyid(relowner)::text as owner from pg_catalog.pg_class where oid = 'public.later_things'::regclass
        union all
        select pg_catalog.pg_get_userbyid(proowner)::text from pg_catalog.pg_proc where oid = 'private.later_helper()'::regprocedure`).map((r) => r.owner);
    // Made by supabase_admin without the call (as in the SQL editor): postgres, calling it, is told what it cannot take.
    await connectAs("supabase_admin").unsafe(later.replace("call private.hand_over_to_postgres();", ""));
    const warnings: string[] = [];
    const sql = postgres(urlAs("postgres", project!.database), { max: 1, onnotice: (n) => warnings.push(`${n.message} ${n.hint}`) });
    try {
      await sql`call private.hand_over_to_postgres()`;
    } finally {
      await sql.end();
    }
    expect(warnings.join("\n")).toMatch(/Owned by a superuser, not postgres: .*public\.later_things \(supabase_admin\).*Run `call private.hand_over_to_postgres\(\);` as that superuser/);
    expect(await ownersOfLater()).toEqual(["supabase_admin", "supabase_admin"]);
    // The same migration, ending with the call, applied by supabase_admin.
    await connectAs("supabase_admin").unsafe(`drop table public.later_things; drop function private.later_helper(); ${later}`);
    expect(await ownersOfLater()).toEqual(["postgres", "postgres"]);
    const found = await result();
    expect(found.filter((o) => o.name.includes("later_") && o.owner !== null && o.owner !== "postgres")).toEqual([]);
    expect(found.filter((o) => !o.name.includes("later_"))).toEqual(reference);
  });
});
