// The benchmark's own Postgres (embedded, migrated, on a free port in a temporary folder) and the
// set-based fills every section uses: workspaces full of sandbox accounts, posts and queue items.
import postgres from "postgres";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "../local/postgres.ts";
import { migrate } from "../local/migrate.ts";
import { freePort } from "../tests/setup/free-port.ts";
import { makeUser } from "../tests/support/db.ts";

export type Sql = postgres.Sql;

export interface BenchDatabase {
  url: string;
  port: number;
  dataDir: string;
  /** The cluster's own data folder (holds postmaster.pid). */
  pgDataDir: string;
  /** Superuser pool for set-up and inspection. */
  admin: Sql;
  version: string;
  stop(): Promise<void>;
}

export async function startBenchDatabase(log: (line: string) => void): Promise<BenchDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), "pacer-bench-"));
  const port = await freePort();
  let pg: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  try {
    pg = await startEmbeddedPostgres({ dataDir: join(dataDir, "postgres"), port, persistent: false });
    await migrate(pg.url);
  } catch (error) {
    await pg?.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const admin = postgres(pg.url, { max: 4, prepare: false, onnotice: () => {} });
  const [{ version }] = await admin`select current_setting('server_version') as version`;
  log(`postgres ${version} on port ${port} in ${dataDir}`);
  const stopPg = pg.stop;
  return {
    url: pg.url,
    port,
    dataDir,
    pgDataDir: join(dataDir, "postgres"),
    admin,
    version,
    async stop() {
      await admin.end({ timeout: 5 }).catch(() => {});
      await stopPg().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Workspace {
  userId: string;
  workspaceId: string;
  /** Its sandbox accounts, in the order they were made. */
  accountIds: string[];
  handles: string[];
}

/** A user on the Ultra plan with `accounts` sandbox accounts (at most 1,000: the plan's limit). */
export async function workspaceWithAccounts(sql: Sql, accounts: number, label: string, state = "connected"): Promise<Workspace> {
  const user = await makeUser(sql, label);
  await sql`update public.workspaces set plan_id = 'ultra' where id = ${user.workspaceId}`;
  const rows = await sql`
    insert into public.social_accounts (workspace_id, platform, handle, display_name, state)
    select ${user.workspaceId}, 'sandbox', ${label} || '_' || i || '_' || substr(${user.workspaceId}::text, 1, 6),
           'Bench account ' || i, ${state}::public.account_state
    from generate_series(1, ${accounts}) as i
    returning id, handle`;
  return {
    userId: user.id,
    workspaceId: user.workspaceId,
    accountIds: rows.map((r) => r.id as string),
    handles: rows.map((r) => r.handle as string),
  };
}

export interface FillOptions {
  /** Queue items to add. */
  items: number;
  /** One post goes to this many accounts (a post × accounts request), so posts = items / fanOut. */
  fanOut?: number;
  /** Any queue status; "processing" needs a lease, so it is not offered. */
  status?: "pending" | "rate_limited" | "verifying" | "posted" | "failed" | "cancelled" | "needs_review";
  /** SQL expression for run_at given `i` (1-based item number); default: due, oldest first. */
  runAt?: string;
  priority?: number;
}

/**
 * Adds queue items set-based (one insert for the posts, one for the items), spreading them over the
 * workspace's accounts round-robin so consecutive items belong to different accounts.
 */
export async function fillQueue(sql: Sql, ws: Workspace, opts: FillOptions): Promise<void> {
  const fanOut = Math.min(opts.fanOut ?? 10, ws.accountIds.length);
  const posts = Math.ceil(opts.items / fanOut);
  const runAt = opts.runAt ?? `now() - interval '1 hour' + i * interval '1 microsecond'`;
  await sql.begin(async (tx) => {
    await tx`create temporary table bench_posts on commit drop as
             with p as (
               insert into public.posts (workspace_id, text)
               select ${ws.workspaceId}, 'Benchmark post ' || g || ' ' || md5(random()::text)
               from generate_series(1, ${posts}) as g
               returning id
             ) select row_number() over () as n, id from p`;
    await tx`create temporary table bench_accounts on commit drop as
             select ordinality - 1 as k, id from unnest(${ws.accountIds}::uuid[]) with ordinality as a(id)`;
    await tx.unsafe(
      `insert into public.queue_items (workspace_id, post_id, account_id, priority, scheduled_for, run_at, status)
       select $1, p.id, a.id, $2, least(x.run_at, now()), x.run_at, $3::public.queue_status
       from generate_series(1, $4::integer) as i
       cross join lateral (select ${runAt} as run_at) x
       join bench_posts p on p.n = (i - 1) / $5 + 1
       join bench_accounts a on a.k = (i - 1) % $6`,
      [ws.workspaceId, opts.priority ?? 5, opts.status ?? "pending", opts.items, fanOut, ws.accountIds.length],
    );
  });
}

/** Rows of other tenants' last hour in the rate-limit ledger, as a shared production database carries. */
export const LEDGER_BACKGROUND_ROWS = 100_000;

/**
 * Fills the ledger with other accounts' usage of the last hour. Without it the ledger is analyzed
 * empty, and a claim's cached plan then scans the whole ledger per account as it grows (measured
 * on its own in the claim section).
 */
export async function seedLedger(sql: Sql, rows = LEDGER_BACKGROUND_ROWS): Promise<void> {
  await sql`insert into private.rate_limit_ledger (account_id, action, at)
            select ('00000000-0000-4000-8000-' || lpad(to_hex(g % 5000), 12, '0'))::uuid, 'post',
                   now() - random() * interval '50 minutes'
            from generate_series(1, ${rows}) g`;
}

/**
 * Empty the queue (items, posts, history, counters) between runs; the ledger keeps only other tenants' rows.
 * Cascade: reconciliation's flags (missing_posts, duplicate_posts) hang off queue items.
 */
export async function emptyQueue(sql: Sql): Promise<void> {
  await sql`truncate public.queue_items, public.posts, public.posting_history, private.rate_limit_ledger,
            private.queue_counters cascade`;
  await seedLedger(sql);
}

const QUEUE_TABLES = ["public.queue_items", "public.posts", "public.posting_history", "private.rate_limit_ledger", "private.queue_counters"];

/**
 * What autovacuum would have done after a big change, done now so a measurement does not depend on
 * its timing; then a checkpoint, so no measurement pays for the previous step's writes.
 */
export async function settle(sql: Sql, tables = QUEUE_TABLES): Promise<void> {
  for (const t of tables) await sql.unsafe(`vacuum (analyze) ${t}`);
  await sql`checkpoint`;
}
