// Section 2: how long one claim takes (private.claim_due_posts through claimDuePosts) as the number of
// due items grows, and whether a large blocked backlog — items of paused accounts parked at 'infinity',
// items of rate-limited accounts moved to their next allowed time — makes it any slower.
import postgres from "postgres";
import { claimDuePosts, recordOutcomes } from "../lib/engine/store.ts";
import { emptyQueue, fillQueue, seedLedger, settle, workspaceWithAccounts, type BenchDatabase, type Sql, type Workspace } from "./database.ts";
import { fmt, percentile, type Table } from "./stats.ts";

export interface ClaimConfig {
  /** Due items, ascending, e.g. 10k, 100k, 1M. */
  depths: number[];
  /** Blocked items: half behind paused accounts, half behind rate-limited ones. */
  backlog: number;
  /** Items per claim, e.g. 1, 10 and the engine's default 100. */
  batches: number[];
  /** Claims per measurement at batch 1; fewer for larger batches (they take longer). */
  samples: number;
  accounts: number;
}

export interface ClaimPoint {
  depth: number;
  backlog: number;
  batch: number;
  p50: number;
  p99: number;
  max: number;
}

export interface ClaimResult {
  tables: Table[];
  points: ClaimPoint[];
  /** Claims on a fresh database: the ledger was empty when the claim's plan was cached, then grew. */
  freshLedger: { samples: number; p50: number; p99: number; last: number };
  /** The slowest statement's plan at the largest depth with the backlog, for the report. */
  plan: string;
}

/** Due items the claim can take now: pending, unleased, run_at in the past. */
async function dueCount(sql: Sql, ws: Workspace) {
  const [r] = await sql`select count(*)::int as n from public.queue_items
                        where workspace_id = ${ws.workspaceId} and status = 'pending' and lease_id is null`;
  return r.n as number;
}

/**
 * `samples` claims of `batch` items, each timed as the engine sees it (one transaction, committed).
 * With `record`, each claim's items are then recorded posted (recordOutcomes, timed on its own: one
 * history row per item, as the engine writes them). Between samples (untimed) the items go back to
 * the end of the queue, as new work would arrive, so the depth stays what it says.
 */
export async function sampleCycles(db: BenchDatabase, batch: number, samples: number, opts: { warmUp?: number; record?: boolean } = {}) {
  const sql = postgres(db.url, { max: 1, prepare: false, onnotice: () => {} });
  const claim: number[] = [];
  const record: number[] = [];
  try {
    for (let i = -(opts.warmUp ?? 20); i < samples; i++) {
      let t = performance.now();
      const claimed = await claimDuePosts(sql, { worker: "claim-bench", limit: batch, leaseSeconds: 120 });
      const claimMs = performance.now() - t;
      if (claimed.length < batch) throw new Error(`The claim found ${claimed.length} of ${batch} items: the set-up is wrong.`);
      if (opts.record) {
        const now = new Date();
        t = performance.now();
        await recordOutcomes(
          sql,
          claimed.map((x) => ({
            id: x.id, leaseId: x.leaseId, mode: x.mode, attempt: x.attempts, outcome: "posted", externalId: `bench-${x.id}-${i}`,
            next: "done", startedAt: now, finishedAt: now, latencyMs: 0, worker: "claim-bench",
          })),
        );
        if (i >= 0) record.push(performance.now() - t);
      }
      if (i >= 0) claim.push(claimMs);
      await db.admin`update public.queue_items set status = 'pending', lease_id = null, lease_expires_at = null,
                       leased_at = null, worker = null, attempts = 0, run_at = now()
                     where id = any (${claimed.map((c) => c.id)})`;
    }
  } finally {
    await sql.end();
  }
  return { claim, record };
}

const sampleClaims = async (db: BenchDatabase, batch: number, samples: number, warmUp = 20) =>
  (await sampleCycles(db, batch, samples, { warmUp })).claim;

/**
 * The blocked backlog: `backlog / 2` items of paused accounts parked at 'infinity', as many of
 * rate-limited accounts moved to their next allowed time (5–60 minutes ahead).
 */
export async function addBlockedBacklog(sql: Sql, accounts: number, backlog: number): Promise<void> {
  const paused = await workspaceWithAccounts(sql, accounts / 2, "claim_paused", "paused");
  const limited = await workspaceWithAccounts(sql, accounts / 2, "claim_limited", "active");
  await fillQueue(sql, paused, { items: backlog / 2, runAt: `'infinity'::timestamptz` });
  await fillQueue(sql, limited, {
    items: backlog / 2,
    status: "rate_limited",
    runAt: `now() + interval '5 minutes' + (i % 3300) * interval '1 second'`,
  });
}

/**
 * A fresh database: the ledger is empty (and analyzed so) when a worker's connection caches the
 * claim's plan; every claim then adds its rows. Measures what the first minutes after a deploy cost,
 * until autovacuum re-analyzes the ledger. Restores the background ledger afterwards.
 */
async function freshLedgerClaims(db: BenchDatabase, cfg: ClaimConfig, batch: number, log: (l: string) => void) {
  const samples = Math.max(20, Math.round(cfg.samples / 5));
  await db.admin`truncate private.rate_limit_ledger`;
  await db.admin`analyze private.rate_limit_ledger`;
  const times = await sampleClaims(db, batch, samples, 0);
  const r = { samples, p50: percentile(times, 50), p99: percentile(times, 99), last: times[times.length - 1] };
  log(`claim with a ledger analyzed empty, growing by ${batch} rows a claim: p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, last ${fmt(r.last, 2)} ms`);
  await db.admin`truncate private.rate_limit_ledger`;
  await seedLedger(db.admin);
  await settle(db.admin);
  return r;
}

/** The claim's statements with their plans (auto_explain), to show where a claim spends its time. */
async function explainClaim(db: BenchDatabase, batch: number): Promise<string> {
  const notices: string[] = [];
  const sql = postgres(db.url, { max: 1, prepare: false, onnotice: (n) => notices.push(String(n.message)) });
  try {
    await sql`load 'auto_explain'`;
    await sql.unsafe(`set auto_explain.log_min_duration = 0; set auto_explain.log_analyze = on;
                      set auto_explain.log_buffers = on; set auto_explain.log_nested_statements = on;
                      set auto_explain.log_level = notice`);
    const claimed = await sql.begin((tx) => tx`select id from private.claim_due_posts('claim-explain', ${batch}, 120)`);
    await db.admin`update public.queue_items set status = 'pending', lease_id = null, lease_expires_at = null,
                     leased_at = null, worker = null, attempts = 0, run_at = now()
                   where id = any (${claimed.map((c) => c.id)})`;
  } finally {
    await sql.end();
  }
  // The statement that finds the due items, then the slowest other one.
  const plans = notices.filter((n) => n.includes("plan:")).map((n) => n.replace(/Query Parameters:.*\n/, ""));
  const duration = (n: string) => Number(n.match(/duration: ([\d.]+) ms/)?.[1] ?? 0);
  const inner = plans.filter((n) => !n.includes("Query Text: select id from private.claim_due_posts"));
  const find = inner.find((n) => n.includes("for update skip locked")) ?? "";
  const slowest = inner.filter((n) => n !== find).sort((a, b) => duration(b) - duration(a))[0] ?? "";
  return [find, slowest].filter(Boolean).join("\n\n");
}

export async function benchClaims(db: BenchDatabase, cfg: ClaimConfig, log: (l: string) => void): Promise<ClaimResult> {
  await emptyQueue(db.admin);
  const due = await workspaceWithAccounts(db.admin, cfg.accounts, "claim_due");
  const points: ClaimPoint[] = [];
  const engineBatch = Math.max(...cfg.batches);
  let freshLedger!: ClaimResult["freshLedger"];
  const samplesFor = (batch: number) => (batch >= 100 ? Math.round(cfg.samples / 2) : cfg.samples);
  const measure = async (depth: number, backlog: number) => {
    for (const batch of cfg.batches) {
      const times = await sampleClaims(db, batch, samplesFor(batch));
      const p = { depth, backlog, batch, p50: percentile(times, 50), p99: percentile(times, 99), max: Math.max(...times) };
      points.push(p);
      log(`claim of ${batch} at depth ${fmt(depth)}, backlog ${fmt(backlog)}: p50 ${fmt(p.p50, 2)} ms, p99 ${fmt(p.p99, 2)} ms`);
    }
  };

  // Without a backlog: grow the due queue step by step.
  let have = 0;
  for (const depth of cfg.depths) {
    log(`filling the queue to ${fmt(depth)} due items…`);
    await fillQueue(db.admin, due, { items: depth - have });
    have = depth;
    await settle(db.admin);
    await measure(depth, 0);
    if (depth === cfg.depths[0]) freshLedger = await freshLedgerClaims(db, cfg, engineBatch, log);
  }

  // The blocked backlog: paused accounts' items parked at 'infinity', rate-limited accounts' items
  // moved to their next allowed time (within the coming hour).
  log(`adding a blocked backlog of ${fmt(cfg.backlog)} items…`);
  await addBlockedBacklog(db.admin, cfg.accounts, cfg.backlog);
  await settle(db.admin);

  // With the backlog: the largest depth first, then fewer due items (the rest taken out, vacuumed).
  let plan = "";
  for (const depth of [...cfg.depths].reverse()) {
    const excess = (await dueCount(db.admin, due)) - depth;
    if (excess > 0) {
      await db.admin`delete from public.queue_items where id in (
                       select id from public.queue_items
                       where workspace_id = ${due.workspaceId} and status = 'pending' and lease_id is null
                       order by id desc limit ${excess})`;
      await settle(db.admin);
    }
    await measure(depth, cfg.backlog);
    if (depth === cfg.depths[cfg.depths.length - 1]) plan = await explainClaim(db, engineBatch);
  }

  const rows = cfg.depths.flatMap((depth) =>
    cfg.batches.map((batch) => {
      const at = (backlog: boolean) => points.find((p) => p.depth === depth && p.batch === batch && (p.backlog > 0) === backlog)!;
      const [without, withB] = [at(false), at(true)];
      return [fmt(depth), String(batch), fmt(without.p50, 2), fmt(without.p99, 2), fmt(withB.p50, 2), fmt(withB.p99, 2), fmt(withB.max, 1)];
    }),
  );
  const table: Table = {
    title: `Claim latency: claimDuePosts (ms)`,
    head: ["Due items", "Batch", "p50", "p99", `p50, ${fmt(cfg.backlog)} blocked`, `p99, ${fmt(cfg.backlog)} blocked`, "max, blocked"],
    rows,
    notes: [
      `${fmt(cfg.samples)} claims per row (${fmt(samplesFor(engineBatch))} at batch ${engineBatch}, the engine's default), each one round trip timed from the client (postgres.js, loopback TCP: "set local role pacer_worker" and the claim as one query, one implicit transaction), after 20 untimed warm-up claims.`,
      `Between claims (untimed) the claimed items return to the end of the queue, so the depth holds; the ledger keeps every claim's rows, as in production.`,
      `Due items spread over ${fmt(cfg.accounts)} sandbox accounts. Blocked: ${fmt(cfg.backlog / 2)} items of ${fmt(cfg.accounts / 2)} paused accounts at run_at 'infinity', ${fmt(cfg.backlog / 2)} items of ${fmt(cfg.accounts / 2)} rate-limited accounts at their next allowed time (5–60 min ahead).`,
      `VACUUM (ANALYZE) and a CHECKPOINT after every set-up step, as autovacuum and the checkpointer would have done. The ledger holds 100,000 rows of other accounts' last hour besides the claims' own.`,
      `Fresh database (ledger empty and analyzed when the connection cached the claim's plan, then growing by ${engineBatch} rows a claim, as in the first minutes after a deploy), ${fmt(cfg.depths[0])} due items, ${freshLedger.samples} claims of ${engineBatch}: p50 ${fmt(freshLedger.p50, 2)} ms, p99 ${fmt(freshLedger.p99, 2)} ms, last claim ${fmt(freshLedger.last, 2)} ms.`,
    ],
  };
  return { tables: [table], points, plan, freshLedger };
}
