// GET /api/history at scale: loads BENCH_HISTORY_ROWS posting-history rows (default 10,000,000) into
// the benchmark's own Postgres and measures the queries the history page makes, through lib/history
// as the signed-in owner under RLS (the route handler's work minus JSON), p50 and p99.
// Standalone: `npx tsx bench/history.ts` (exports benchHistory for bench/run.ts).
import { pathToFileURL } from "node:url";
import type { UserClaims } from "../lib/db/index.ts";
import { startBenchDatabase, workspaceWithAccounts, type BenchDatabase, type Sql } from "./database.ts";
import { fmt, percentile, toText, type Table } from "./stats.ts";

export interface HistoryBenchConfig {
  rows: number;
  /** Samples per query, after a warm-up. */
  samples: number;
}

export interface HistoryBenchResult {
  tables: Table[];
  /** Rows of history the queries ran against. */
  rows: number;
  queries: Array<{ name: string; p50: number; p99: number }>;
}

// The shape of a busy installation: one large workspace with 40% of all attempts over a year, and
// nineteen others; outcomes, platforms and destinations skewed as they are in practice.
const BIG_SHARE = 0.4;
const BIG_ACCOUNTS = 500;
const OTHER_WORKSPACES = 19;
const OTHER_ACCOUNTS = 20;
const DESTINATIONS = 50;
const CHUNK = 1_000_000;

/** lib/history reads the database from SUPABASE_DB_URL, once, through lib/db's pool. */
async function loadHistory(db: BenchDatabase) {
  process.env.SUPABASE_DB_URL = db.url;
  return import("../lib/history/index.ts");
}

export async function benchHistory(db: BenchDatabase, cfg: HistoryBenchConfig, log: (l: string) => void): Promise<HistoryBenchResult> {
  const sql = db.admin;
  const big = await workspaceWithAccounts(sql, BIG_ACCOUNTS, "history");
  const others = [];
  for (let i = 0; i < OTHER_WORKSPACES; i++) others.push(await workspaceWithAccounts(sql, OTHER_ACCOUNTS, `history${i}`));
  const loadMs = await fill(sql, cfg.rows, [big, ...others], log);

  const history = await loadHistory(db);
  const owner: UserClaims = { sub: big.userId, role: "authenticated" };
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
  const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
  // A cursor from the middle of the year: keyset pages cost the same however deep.
  const deep = await history.listHistory(owner, { to: daysAgo(180), limit: 50 });

  const queries: Array<[string, () => Record<string, string | number>]> = [
    ["Newest page, no filter", () => ({})],
    ["Next page (cursor)", () => ({ cursor: deep.nextCursor! })],
    ["One account", () => ({ accountId: pick(big.accountIds) })],
    ["One account, outcome unknown", () => ({ accountId: pick(big.accountIds), outcome: "unknown" })],
    ["Outcome permanent (0.5% of rows)", () => ({ outcome: "permanent" })],
    ["Outcome posted (90% of rows)", () => ({ outcome: "posted" })],
    ["Platform reddit (2% of rows)", () => ({ platform: "reddit" })],
    ["One destination (0.2% of rows)", () => ({ destination: `r/d${Math.floor(Math.random() * DESTINATIONS)}` })],
    ["One day, 30 days ago", () => ({ from: daysAgo(31), to: daysAgo(30) })],
    ["Last 7 days, outcome rate_limited", () => ({ from: daysAgo(7), outcome: "rate_limited" })],
    ["Platform reddit + outcome permanent (no index of its own)", () => ({ platform: "reddit", outcome: "permanent" })],
  ];

  const results: HistoryBenchResult["queries"] = [];
  const rows: string[][] = [];
  for (const [name, params] of queries) {
    for (let i = 0; i < 5; i++) await history.listHistory(owner, { limit: 50, ...params() });
    const ms: number[] = [];
    let returned = 0;
    for (let i = 0; i < cfg.samples; i++) {
      const t = performance.now();
      const page = await history.listHistory(owner, { limit: 50, ...params() });
      ms.push(performance.now() - t);
      returned += page.entries.length;
    }
    const r = { name, p50: percentile(ms, 50), p99: percentile(ms, 99) };
    results.push(r);
    rows.push([name, fmt(r.p50, 1), fmt(r.p99, 1), fmt(returned / cfg.samples)]);
    log(`${name}: p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms`);
  }

  const table: Table = {
    title: `GET /api/history with ${fmt(cfg.rows)} history rows (listHistory, 50 per page)`,
    head: ["Query", "p50 ms", "p99 ms", "Rows/page"],
    rows,
    notes: [
      `${fmt(cfg.samples)} samples per query after 5 warm-ups, as the owner of the largest workspace (${fmt(BIG_SHARE * 100)}% of the rows, ${BIG_ACCOUNTS} accounts) under RLS; each sample is the library call a route handler makes: resolve the workspace, one query, in one transaction.`,
      `Rows spread over a year, ${OTHER_WORKSPACES + 1} workspaces; outcomes 90% posted, platforms and destinations skewed. Loaded in ${fmt(loadMs / 1000)} s (indexes built after the load).`,
    ],
  };
  return { tables: [table], rows: cfg.rows, queries: results };
}

/** Inserts `rows` history rows set-based, a million at a time, with the history's indexes built afterwards (faster than maintained). */
async function fill(sql: Sql, rows: number, workspaces: Array<{ workspaceId: string; accountIds: string[] }>, log: (l: string) => void): Promise<number> {
  const started = performance.now();
  await sql`create temporary table bench_accounts (ws_idx int, acc_idx int, workspace_id uuid, account_id uuid)`;
  for (const [w, ws] of workspaces.entries()) {
    await sql`insert into bench_accounts select ${w}, i - 1, ${ws.workspaceId}::uuid, a
              from unnest(${ws.accountIds}::uuid[]) with ordinality as x(a, i)`;
  }
  await sql`create index on bench_accounts (ws_idx, acc_idx)`;
  const indexes = await sql`select indexname, indexdef from pg_indexes
                            where schemaname = 'public' and tablename = 'posting_history' and indexname <> 'posting_history_pkey'`;
  for (const ix of indexes) await sql.unsafe(`drop index public.${ix.indexname}`);

  for (let from = 1; from <= rows; from += CHUNK) {
    const to = Math.min(rows, from + CHUNK - 1);
    await sql`
      insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, destination, kind, attempt,
                                          started_at, finished_at, outcome, error_message, latency_ms, external_id, worker)
      select x.i, b.workspace_id, b.account_id,
             case when x.r_pf < 0.5 then 'x' when x.r_pf < 0.75 then 'mastodon' when x.r_pf < 0.9 then 'bluesky'
                  when x.r_pf < 0.98 then 'sandbox' else 'reddit' end,
             'post',
             case when x.r_dest < 0.1 then 'r/d' || floor(x.r_dest * 10 * ${DESTINATIONS}::int)::int end,
             'publish', 1, x.t - interval '800 milliseconds', x.t, x.outcome,
             case when x.outcome <> 'posted' then 'bench: ' || x.outcome end, 800,
             case when x.outcome = 'posted' then x.i::text end, 'bench'
      from (
        select i, ws_idx, r_pf, r_dest, t,
               floor(r_acc * case when ws_idx = 0 then ${BIG_ACCOUNTS}::int else ${OTHER_ACCOUNTS}::int end)::int as acc_idx,
               case when r_out < 0.90 then 'posted' when r_out < 0.93 then 'unknown' when r_out < 0.95 then 'retryable'
                    when r_out < 0.97 then 'rate_limited' when r_out < 0.985 then 'found' when r_out < 0.99 then 'permanent'
                    when r_out < 0.995 then 'destination_rejected' when r_out < 0.997 then 'restricted' else 'auth_expired' end as outcome
        from (
          select i, case when random() < ${BIG_SHARE}::float8 then 0 else 1 + floor(random() * ${OTHER_WORKSPACES}::int)::int end as ws_idx,
                 random() as r_acc, random() as r_pf, random() as r_dest, random() as r_out,
                 now() - random() * interval '365 days' as t
          from generate_series(${from}::bigint, ${to}::bigint) as i
        ) r
      ) x
      join bench_accounts b on b.ws_idx = x.ws_idx and b.acc_idx = x.acc_idx`;
    log(`history: ${fmt(to)} of ${fmt(rows)} rows (${fmt((performance.now() - started) / 1000)} s)`);
  }
  for (const ix of indexes) {
    await sql.unsafe(ix.indexdef);
    log(`history: built ${ix.indexname} (${fmt((performance.now() - started) / 1000)} s)`);
  }
  await sql`vacuum (analyze) public.posting_history`;
  await sql`checkpoint`;
  return performance.now() - started;
}

// Standalone: its own database, the table printed, then everything stopped.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const log = (line: string) => console.log(`[bench] ${line}`);
  const db = await startBenchDatabase(log);
  try {
    const result = await benchHistory(
      db,
      { rows: Number(process.env.BENCH_HISTORY_ROWS ?? 10_000_000), samples: Number(process.env.BENCH_HISTORY_SAMPLES ?? 200) },
      log,
    );
    for (const t of result.tables) console.log(toText(t));
  } finally {
    await db.stop();
  }
  process.exit(0);
}
