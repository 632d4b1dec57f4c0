// GET /api/history at scale: loads BENCH_HISTORY_ROWS posting-history rows (default 50,000,000) into
// the benchmark's own Postgres and measures the queries the history page makes, through lib/history
// as the signed-in owner under RLS (the route handler's work minus JSON), p50 and p99. Then the
// engine's claim and record with that history and a month of ledger behind them, side by side with
// the same queue before the history was loaded.
// Standalone: `npx tsx bench/history.ts` (exports benchHistory for bench/run.ts).
import { pathToFileURL } from "node:url";
import type { UserClaims } from "../lib/db/index.ts";
import { addBlockedBacklog, sampleCycles } from "./claim.ts";
import { emptyQueue, fillQueue, settle, startBenchDatabase, workspaceWithAccounts, type BenchDatabase, type Sql, type Workspace } from "./database.ts";
import { fmt, percentile, toText, type Table } from "./stats.ts";

export interface HistoryBenchConfig {
  rows: number;
  /** Samples per query, after a warm-up. */
  samples: number;
  /** The engine with the history behind it: due items, blocked items, claims per batch size. */
  engine?: { due: number; backlog: number; samples: number };
}

export interface EngineWithHistoryPoint {
  batch: number;
  /** History rows behind the measurement: 0 (before the load) or the loaded count. */
  historyRows: number;
  claimP50: number;
  claimP99: number;
  recordP50: number;
  recordP99: number;
}

export interface HistoryBenchResult {
  tables: Table[];
  /** Rows of history the queries ran against. */
  rows: number;
  queries: Array<{ name: string; p50: number; p99: number }>;
  engine: EngineWithHistoryPoint[];
}

// The shape of a busy installation: one large workspace with 40% of all attempts over a year, and
// nineteen others; outcomes, platforms and destinations skewed as they are in practice.
const BIG_SHARE = 0.4;
const BIG_ACCOUNTS = 500;
const OTHER_WORKSPACES = 19;
const OTHER_ACCOUNTS = 20;
const DESTINATIONS = 50;
const CHUNK = 1_000_000;
const ENGINE_BATCHES = [1, 10, 100];
/** The month of ledger: each of the large workspace's accounts posting this many times a day for 30 days. */
const LEDGER_PER_DAY = 100;
const QUEUE_TABLES = ["public.queue_items", "public.posts", "private.rate_limit_ledger", "private.queue_counters"];

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
  const engineBefore = cfg.engine ? await engineSetUpAndMeasure(db, big, cfg.engine, 0, log) : [];
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

  const engineAfter = cfg.engine ? await engineMeasure(db, cfg.engine, cfg.rows, log) : [];
  const engine = [...engineBefore, ...engineAfter];

  const table: Table = {
    title: `GET /api/history with ${fmt(cfg.rows)} history rows (listHistory, 50 per page)`,
    head: ["Query", "p50 ms", "p99 ms", "Rows/page"],
    rows,
    notes: [
      `${fmt(cfg.samples)} samples per query after 5 warm-ups, as the owner of the largest workspace (${fmt(BIG_SHARE * 100)}% of the rows, ${BIG_ACCOUNTS} accounts) under RLS; each sample is the library call a route handler makes: resolve the workspace, one query, in one transaction.`,
      `Rows spread over a year, ${OTHER_WORKSPACES + 1} workspaces; outcomes 90% posted, platforms and destinations skewed. Loaded in ${fmt(loadMs / 1000)} s (indexes built after the load).`,
    ],
  };
  const tables = [table];
  if (cfg.engine) {
    const at = (batch: number, rows: number) => engine.find((p) => p.batch === batch && p.historyRows === rows)!;
    tables.push({
      title: `The engine with ${fmt(cfg.rows)} history rows and a month of ledger behind it (ms)`,
      head: ["Batch", "Claim p50", "Claim p99", "Claim p99, no history", "Record p50", "Record p99", "Record p99, no history"],
      rows: ENGINE_BATCHES.map((b) => {
        const [after, before] = [at(b, cfg.rows), at(b, 0)];
        return [String(b), fmt(after.claimP50, 2), fmt(after.claimP99, 2), fmt(before.claimP99, 2), fmt(after.recordP50, 2), fmt(after.recordP99, 2), fmt(before.recordP99, 2)];
      }),
      notes: [
        `The same queue measured twice in this run: before the history was loaded ("no history") and after. ${fmt(cfg.engine.due)} due items on the large workspace's ${BIG_ACCOUNTS} accounts, ${fmt(cfg.engine.backlog)} blocked (paused and rate-limited accounts), as in the claim section.`,
        `The ledger holds a month: ${LEDGER_PER_DAY} posts a day for 30 days on each of the ${BIG_ACCOUNTS} accounts (${fmt(BIG_ACCOUNTS * LEDGER_PER_DAY * 30)} rows) plus every claim's own. In production private.prune_rate_limit_ledger keeps only the last 25 hours; the month is here to show the claim does not depend on that.`,
        `${fmt(cfg.engine.samples)} claims per row (half at batch 100) after 20 warm-ups, each followed by recordOutcomes of the claimed items as posted (one history row each, into the table's indexes as the engine writes them), each timed from the client; between samples (untimed) the items go back to the end of the queue.`,
      ],
    });
  }
  return { tables, rows: cfg.rows, queries: results, engine };
}

/** A month of ledger for the workspace's accounts, its due items and the blocked backlog; then the first measurement. */
async function engineSetUpAndMeasure(db: BenchDatabase, ws: Workspace, cfg: NonNullable<HistoryBenchConfig["engine"]>, historyRows: number, log: (l: string) => void) {
  const sql = db.admin;
  log(`engine: a month of ledger, ${fmt(cfg.due)} due and ${fmt(cfg.backlog)} blocked items…`);
  await emptyQueue(sql); // earlier sections' items would add to the depth; the ledger gets its background rows
  await sql`insert into private.rate_limit_ledger (account_id, action, at)
            select a, 'post', now() - (g::float8 / ${LEDGER_PER_DAY * 30}::int) * interval '30 days'
            from unnest(${ws.accountIds}::uuid[]) as a, generate_series(0, ${LEDGER_PER_DAY * 30 - 1}::int) as g`;
  await fillQueue(sql, ws, { items: cfg.due });
  await addBlockedBacklog(sql, 1000, cfg.backlog);
  await settle(sql, QUEUE_TABLES);
  return engineMeasure(db, cfg, historyRows, log);
}

async function engineMeasure(db: BenchDatabase, cfg: NonNullable<HistoryBenchConfig["engine"]>, historyRows: number, log: (l: string) => void) {
  const points: EngineWithHistoryPoint[] = [];
  for (const batch of ENGINE_BATCHES) {
    const { claim, record } = await sampleCycles(db, batch, batch >= 100 ? Math.round(cfg.samples / 2) : cfg.samples, { record: true });
    const p = { batch, historyRows, claimP50: percentile(claim, 50), claimP99: percentile(claim, 99), recordP50: percentile(record, 50), recordP99: percentile(record, 99) };
    points.push(p);
    log(`engine with ${fmt(historyRows)} history rows, batch ${batch}: claim p50 ${fmt(p.claimP50, 2)} ms, p99 ${fmt(p.claimP99, 2)} ms; record p50 ${fmt(p.recordP50, 2)} ms, p99 ${fmt(p.recordP99, 2)} ms`);
  }
  return points;
}

/** Inserts `rows` history rows set-based, a million at a time, with the history's indexes built afterwards (faster than maintained). */
async function fill(sql: Sql, rows: number, workspaces: Array<{ workspaceId: string; accountIds: string[] }>, log: (l: string) => void): Promise<number> {
  const started = performance.now();
  await sql`create temporary table bench_history_accounts (ws_idx int, acc_idx int, workspace_id uuid, account_id uuid)`;
  for (const [w, ws] of workspaces.entries()) {
    await sql`insert into bench_history_accounts select ${w}, i - 1, ${ws.workspaceId}::uuid, a
              from unnest(${ws.accountIds}::uuid[]) with ordinality as x(a, i)`;
  }
  await sql`create index on bench_history_accounts (ws_idx, acc_idx)`;
  const indexes = await sql`select indexname, indexdef from pg_indexes
                            where schemaname = 'public' and tablename = 'posting_history' and indexname <> 'posting_history_pkey'`;
  for (const ix of indexes) await sql.unsafe(`drop index public.${ix.indexname}`);

  for (let from = 1; from <= rows; from += CHUNK) {
    const to = Math.min(rows, from + CHUNK - 1);
    // Without triggers: the statement trigger that holds destinations at their failure threshold reads
    // the million-row transition table (≈180 s a chunk), and each row's foreign-key check repeats what
    // the join already guarantees (every workspace_id comes from bench_history_accounts). Synthetic history
    // needs neither; the engine's own inserts, measured elsewhere, run both.
    await sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`
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
      join bench_history_accounts b on b.ws_idx = x.ws_idx and b.acc_idx = x.acc_idx`;
    });
    log(`history: ${fmt(to)} of ${fmt(rows)} rows (${fmt((performance.now() - started) / 1000)} s)`);
  }
  for (const ix of indexes) {
    await sql.unsafe(ix.indexdef);
    log(`history: built ${ix.indexname} (${fmt((performance.now() - started) / 1000)} s)`);
  }
  await sql`drop table bench_history_accounts`; // a session's temporary table: later sections reuse this connection
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
      {
        rows: Number(process.env.BENCH_HISTORY_ROWS ?? 50_000_000),
        samples: Number(process.env.BENCH_HISTORY_SAMPLES ?? 200),
        engine: { due: Number(process.env.BENCH_HISTORY_DUE ?? 1_000_000), backlog: Number(process.env.BENCH_HISTORY_BLOCKED ?? 1_000_000), samples: 600 },
      },
      log,
    );
    for (const t of result.tables) console.log(toText(t));
  } finally {
    await db.stop();
  }
  process.exit(0);
}
