// Section 1: how fast the engine drains a pre-filled queue with a no-op connector, side by side with
// graphile-worker and pg-boss draining no-op jobs on the same Postgres at the same concurrency, and
// pgbench's single-row UPDATE rate on that Postgres as the ceiling for one commit per job.
import postgres from "postgres";
import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { run as runGraphileWorker, runMigrations as migrateGraphileWorker, Logger } from "graphile-worker";
import PgBoss from "pg-boss";
import { PgBoss as PgBoss12 } from "pg-boss-12";
import { processQueue } from "../lib/engine/process.ts";
import { claimDuePosts, recordOutcomes } from "../lib/engine/store.ts";
import type { Connector } from "../lib/connectors/types.ts";
import { emptyQueue, fillQueue, LEDGER_BACKGROUND_ROWS, settle, workspaceWithAccounts, type BenchDatabase, type Workspace } from "./database.ts";
import { fmt, median, ratio, type Table } from "./stats.ts";
import { cpuNow, cpuSince, processCpuMs, type CpuSnapshot } from "./cpu.ts";

export interface ThroughputConfig {
  jobs: number;
  concurrency: number;
  runs: number;
  /** A drain that has not finished after this long stops; its rate is what it completed in the time. */
  capMs: number;
  /** The cap for pg-boss's polling work(), whose rate its polling interval bounds (a window shows it). */
  pollCapMs: number;
  accounts: number;
  pgbench: string | null;
}

/** Publishes nothing and answers "posted" at once: what is left is the engine's own cost. */
export const noopConnector: Connector = {
  platform: "sandbox",
  publish: async () => ({ kind: "posted", externalId: "noop" }),
  lookup: async () => ({ kind: "not_found" }),
  recentPosts: async () => ({ posts: [], complete: true }),
  connect: async () => ({ kind: "unavailable", message: "The no-op connector connects nothing." }),
  readMetrics: async () => {
    throw new Error("The no-op connector has no metrics.");
  },
};

interface Drain {
  done: number;
  ms: number;
  capped: boolean;
  /** CPU this process and Postgres spent during the drain. */
  cpu: CpuSnapshot;
}

interface Contender {
  /** The system: its configurations compete for its best row. */
  peer: string;
  name: string;
  config: string;
  /** What the configuration changes, so the report can say why it won or lost. */
  why: string;
  prefill(): Promise<void>;
  drain(): Promise<Drain>;
  close?(): Promise<void>;
}

const silent = new Logger(() => () => {});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pacer(db: BenchDatabase, cfg: ThroughputConfig, ws: Workspace, workers: number): Contender {
  return {
    peer: "Pacer",
    name: workers === 1 ? "Pacer engine" : `Pacer engine, ${workers} workers`,
    why:
      workers === 1
        ? "one claim loop: a claim or an outcome write is always waiting on a round trip"
        : "two claim loops overlap one's round trips with the other's",
    config:
      workers === 1
        ? `processQueue, concurrency ${cfg.concurrency}, batch 100`
        : `${workers} × processQueue in one process, concurrency ${cfg.concurrency / workers} each`,
    async prefill() {
      await emptyQueue(db.admin);
      await fillQueue(db.admin, ws, { items: cfg.jobs });
      await settle(db.admin);
    },
    async drain() {
      const pools = Array.from({ length: workers }, () => postgres(db.url, { max: 2, prepare: false, onnotice: () => {} }));
      try {
        const c0 = cpuNow(db.pgDataDir);
        const started = performance.now();
        const runs = await Promise.all(
          pools.map((sql, i) =>
            processQueue({
              sql,
              worker: `bench-${i}`,
              connectorFor: () => noopConnector,
              budgetMs: cfg.capMs,
              concurrency: Math.max(1, Math.round(cfg.concurrency / workers)),
              batchSize: 100,
            }),
          ),
        );
        const ms = performance.now() - started;
        const cpu = cpuSince(c0, db.pgDataDir);
        const done = runs.reduce((n, r) => n + (r.byOutcome.posted ?? 0), 0);
        return { done, ms, capped: done < cfg.jobs, cpu };
      } finally {
        await Promise.all(pools.map((p) => p.end({ timeout: 5 })));
      }
    },
  };
}

function graphileWorker(db: BenchDatabase, cfg: ThroughputConfig, batched: boolean): Contender {
  // The batching options of graphile-worker's own performance page (worker.graphile.org/docs/performance).
  const batching = { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 };
  return {
    peer: "graphile-worker",
    name: batched ? "graphile-worker, batched" : "graphile-worker, defaults",
    why: batched
      ? "one fetch takes 500 jobs into a local queue and completions go out in batches: two statements per few hundred jobs"
      : "every job is fetched and completed by its own statement",
    config: batched
      ? `concurrency ${cfg.concurrency}, localQueue.size 500, complete/failJobBatchDelay 0`
      : `concurrency ${cfg.concurrency}`,
    async prefill() {
      await db.admin`delete from graphile_worker._private_jobs`;
      await db.admin`select graphile_worker.add_jobs(array(
                       select row('noop', '{}'::json, null, null, null, null, null, null)::graphile_worker.job_spec
                       from generate_series(1, ${cfg.jobs})))`;
      await settle(db.admin, ["graphile_worker._private_jobs"]);
    },
    async drain() {
      let executed = 0;
      const c0 = cpuNow(db.pgDataDir);
      const started = performance.now();
      const runner = await runGraphileWorker({
        connectionString: db.url,
        concurrency: cfg.concurrency,
        noHandleSignals: true,
        logger: silent,
        taskList: { noop: async () => void executed++ },
        preset: { worker: batched ? batching : {} },
      });
      const remaining = async () => Number((await db.admin`select count(*) as n from graphile_worker._private_jobs`)[0].n);
      let capped = false;
      while (executed < cfg.jobs) {
        if (performance.now() - started >= cfg.capMs) {
          capped = true;
          break;
        }
        await sleep(20);
      }
      // Executed is not completed: wait for the (batched) completions to reach the database.
      let left = await remaining();
      while (!capped && left > 0) {
        await sleep(5);
        left = await remaining();
      }
      const ms = performance.now() - started;
      const cpu = cpuSince(c0, db.pgDataDir);
      await runner.stop();
      return { done: cfg.jobs - left, ms, capped, cpu };
    },
  };
}

/**
 * How pg-boss jobs are drained: prefill a named queue in its schema, start its workers, and time
 * until the database holds every completion. `workers` starts the configuration's workers, counting
 * what its handlers saw, and returns how to stop them.
 */
function pgBossContender(
  db: BenchDatabase,
  cfg: ThroughputConfig,
  o: Omit<Contender, "prefill" | "drain"> & {
    schema: string;
    capMs: number;
    insert(jobs: number): Promise<unknown>;
    workers(handled: (n: number) => void): Promise<() => Promise<void>>;
  },
): Contender {
  const count = async (state: "completed" | "active") =>
    Number((await db.admin.unsafe(`select count(*) as n from ${o.schema}.job where name = 'noop' and state = '${state}'`))[0].n);
  return {
    peer: o.peer,
    name: o.name,
    config: o.config,
    why: o.why,
    async prefill() {
      await db.admin.unsafe(`delete from ${o.schema}.job where name = 'noop'`);
      await o.insert(cfg.jobs);
      await settle(db.admin, [`${o.schema}.job`]);
    },
    async drain() {
      let handled = 0; // counted here, so the database is only asked at the end
      const c0 = cpuNow(db.pgDataDir);
      const started = performance.now();
      const deadline = started + o.capMs;
      const stop = await o.workers((n) => (handled += n));
      while (handled < cfg.jobs && performance.now() < deadline) await sleep(20);
      // Handled is not completed (pg-boss 10's work() completes in the background): wait for the database.
      let done = await count("completed");
      while (done < cfg.jobs && performance.now() < deadline) {
        await sleep(5);
        done = await count("completed");
      }
      const ms = performance.now() - started;
      const cpu = cpuSince(c0, db.pgDataDir);
      await stop();
      // Let the last background completions land before the next prefill.
      for (let last = -1, now = await count("active"); now !== last; last = now, now = await count("active")) await sleep(500);
      return { done, ms, capped: done < cfg.jobs, cpu };
    },
  };
}

/** Loops of fetch(batch) → complete(ids) with no wait between them, until the queue is empty. */
function fetchLoops(loops: number, fetchBatch: () => Promise<{ id: string }[]>, complete: (ids: string[]) => Promise<unknown>) {
  return async (handled: (n: number) => void) => {
    let stop = false;
    const running = Array.from({ length: loops }, async () => {
      while (!stop) {
        const jobs = await fetchBatch();
        if (!jobs.length) break;
        await complete(jobs.map((j) => j.id));
        handled(jobs.length);
      }
    });
    return async () => {
      stop = true;
      await Promise.all(running);
    };
  };
}

/**
 * pg-boss 10 (the last release for Node 20). v10 dropped v9's teamSize: more workers are more
 * work() calls, and a worker takes a batch with batchSize. Its fetch orders by priority desc,
 * created_on, id, which its index (name, start_after) cannot serve: every fetch reads and sorts the
 * whole backlog, so only big batches pay for that sort. priority: false drops the priority key.
 */
function pgBoss10(db: BenchDatabase, cfg: ThroughputConfig, boss: PgBoss): Contender[] {
  const base = {
    peer: "pg-boss 10",
    schema: "pgboss",
    insert: (n: number) => boss.insert(Array.from({ length: n }, () => ({ name: "noop", data: {} }))),
  };
  const batch = 10_000;
  const work = (workers: number, options: PgBoss.WorkOptions) => async (handled: (n: number) => void) => {
    for (let i = 0; i < workers; i++) await boss.work("noop", options, async (jobs) => void handled(jobs.length));
    return () => boss.offWork("noop");
  };
  return [
    pgBossContender(db, cfg, {
      ...base,
      name: "pg-boss 10, defaults",
      config: `${cfg.concurrency} × work(), batchSize 1, polling 2 s`,
      why: "one job per fetch, and every fetch sorts the whole backlog: the fetches crowd each other out",
      capMs: cfg.pollCapMs,
      workers: work(cfg.concurrency, {}),
    }),
    pgBossContender(db, cfg, {
      ...base,
      name: "pg-boss 10, 2 workers, batch 10,000",
      config: `2 × work(), batchSize ${fmt(batch)}, polling 0.5 s (the minimum)`,
      why: `one backlog sort per ${fmt(batch)} jobs; completions are not awaited, but each worker waits out the rest of the 0.5 s polling interval after a batch`,
      capMs: cfg.capMs,
      workers: work(2, { batchSize: batch, pollingIntervalSeconds: 0.5 }),
    }),
    pgBossContender(db, cfg, {
      ...base,
      name: "pg-boss 10, 2 workers, batch 10,000, no priority",
      config: `2 × work(), batchSize ${fmt(batch)}, polling 0.5 s, priority: false`,
      why: `as above, and the fetch sorts by created_on, id only (jobs no longer come out by priority)`,
      capMs: cfg.capMs,
      workers: work(2, { batchSize: batch, pollingIntervalSeconds: 0.5, priority: false }),
    }),
    pgBossContender(db, cfg, {
      ...base,
      name: "pg-boss 10, 2 fetch loops, batch 10,000, no priority",
      config: `2 × (fetch ${fmt(batch)}, complete) without waiting, priority: false`,
      why: "no polling wait between batches, but each loop waits for its complete() before the next fetch",
      capMs: cfg.capMs,
      workers: fetchLoops(
        2,
        async () => (await boss.fetch("noop", { batchSize: batch, priority: false })) ?? [],
        (ids) => boss.complete("noop", ids),
      ),
    }),
  ];
}

/**
 * pg-boss 12 (declares Node 22; runs on Node 20 here). Its index (name, priority desc, created_on,
 * start_after) serves the fetch's order, so a fetch reads only the rows it takes, and
 * burstWhenBatchFull fetches again at once while batches come back full instead of waiting out the
 * polling interval. Its own schema (pgboss12), beside pg-boss 10's.
 */
function pgBoss12(db: BenchDatabase, cfg: ThroughputConfig, boss: PgBoss12): Contender[] {
  const base = {
    peer: "pg-boss 12",
    schema: "pgboss12",
    capMs: cfg.capMs,
    insert: (n: number) => boss.insert("noop", Array.from({ length: n }, () => ({ data: {} }))),
  };
  const work = (options: Parameters<PgBoss12["work"]>[1]) => async (handled: (n: number) => void) => {
    await boss.work("noop", options, async (jobs: unknown[]) => void handled(jobs.length));
    return () => boss.offWork("noop", { wait: true });
  };
  return [
    pgBossContender(db, cfg, {
      ...base,
      name: "pg-boss 12, 2 workers, batch 1,000, burst",
      config: "work(), localConcurrency 2, batchSize 1,000, burstWhenBatchFull",
      why: "an index-ordered fetch of 1,000 and its complete() are both cheap, and a full batch is followed by the next fetch at once",
      workers: work({ localConcurrency: 2, batchSize: 1000, burstWhenBatchFull: true }),
    }),
    pgBossContender(db, cfg, {
      ...base,
      name: "pg-boss 12, 2 workers, batch 10,000, burst",
      config: "work(), localConcurrency 2, batchSize 10,000, burstWhenBatchFull",
      why: "fewer, bigger round trips; each worker handles, then completes 10,000 before fetching again",
      workers: work({ localConcurrency: 2, batchSize: 10_000, burstWhenBatchFull: true }),
    }),
    pgBossContender(db, cfg, {
      ...base,
      name: "pg-boss 12, 2 workers, batch 1,000, polling",
      config: "work(), localConcurrency 2, batchSize 1,000, polling 0.5 s (the minimum)",
      why: "the same fetch, but each worker waits out the rest of the 0.5 s polling interval after every batch",
      workers: work({ localConcurrency: 2, batchSize: 1000, pollingIntervalSeconds: 0.5 }),
    }),
  ];
}

/**
 * Where the engine's time goes: one serial claim → record cycle at a time (its inner loop without
 * the pool), timed from the client and in the Postgres backend's own CPU time.
 */
async function claimRecordSplit(db: BenchDatabase, ws: Workspace, items: number, batch: number) {
  await emptyQueue(db.admin);
  await fillQueue(db.admin, ws, { items });
  await settle(db.admin);
  const sql = postgres(db.url, { max: 1, prepare: false, onnotice: () => {} });
  const sum = { claimMs: 0, recordMs: 0, claimCpuMs: 0, recordCpuMs: 0 };
  let cycles = 0;
  try {
    const [{ pid }] = await sql`select pg_backend_pid() as pid`;
    const cpu = () => processCpuMs(pid) ?? NaN;
    for (;;) {
      let c = cpu();
      let t = performance.now();
      const claimed = await claimDuePosts(sql, { worker: "split", limit: batch, leaseSeconds: 120 });
      sum.claimMs += performance.now() - t;
      sum.claimCpuMs += cpu() - c;
      if (claimed.length === 0) break;
      const now = new Date();
      c = cpu();
      t = performance.now();
      await recordOutcomes(
        sql,
        claimed.map((x) => ({
          id: x.id, leaseId: x.leaseId, mode: x.mode, attempt: x.attempts, outcome: "posted", externalId: "noop",
          next: "done", startedAt: now, finishedAt: now, latencyMs: 0, worker: "split",
        })),
      );
      sum.recordMs += performance.now() - t;
      sum.recordCpuMs += cpu() - c;
      cycles++;
    }
  } finally {
    await sql.end();
  }
  return {
    cycles,
    claimMs: sum.claimMs / cycles,
    recordMs: sum.recordMs / cycles,
    claimCpuMs: sum.claimCpuMs / cycles,
    recordCpuMs: sum.recordCpuMs / cycles,
  };
}

/** Why the ceiling rows are missing, and how to get them. */
export const PGBENCH_MISSING = "pgbench not found (Debian: `apt-get install postgresql-contrib`; or set BENCH_PGBENCH to its path)";

/** pgbench's rate for a one-row UPDATE per transaction: what one commit per job could reach here. */
async function pgbenchRate(db: BenchDatabase, bin: string, clients: number, seconds: number): Promise<number> {
  const exec = promisify(execFile);
  const env = { ...process.env, PGPASSWORD: "postgres" };
  const conn = ["-h", "127.0.0.1", "-p", String(db.port), "-U", "postgres"];
  const script = join(db.dataDir, "single-row-update.sql");
  if (!existsSync(script)) {
    writeFileSync(script, "\\set aid random(1, 100000 * :scale)\n\\set delta random(-5000, 5000)\nUPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;\n");
    await db.admin`create database pgbench`;
    await exec(bin, ["-i", "-q", "-s", "10", ...conn, "pgbench"], { env });
  }
  const { stdout } = await exec(bin, ["-n", "-c", String(clients), "-j", "2", "-T", String(seconds), "-f", script, ...conn, "pgbench"], { env });
  const m = stdout.match(/tps = ([\d.]+)/);
  if (!m) throw new Error(`Could not read pgbench's tps from: ${stdout}`);
  return Number(m[1]);
}

/** One system's best configuration in this run. */
export interface PeerBest {
  peer: string;
  name: string;
  config: string;
  jobsPerSecond: number;
  /** CPU ms per 1,000 jobs, benchmark process + Postgres (median). */
  cpuPer1000: number;
}

export interface ThroughputResult {
  tables: Table[];
  pacerBest: number;
  graphileBatched: number;
  graphileDefaults: number;
  /** CPU ms per 1,000 jobs (this process + Postgres), median, for Pacer's best and graphile batched. */
  cpuPer1000: { pacer: number; graphileBatched: number };
  /** Each system's best configuration, Pacer first. */
  peers: PeerBest[];
  split: Awaited<ReturnType<typeof claimRecordSplit>>;
  /** Indexes on public.queue_items: every claim and every outcome is an update that adds to each. */
  queueItemIndexes: number;
  /** Indexes every history row goes into. */
  historyIndexes: number;
}

/** pg-boss 12 declares Node 22: started here on this Node, or the reason it could not be. */
async function startPgBoss12(db: BenchDatabase, log: (l: string) => void): Promise<PgBoss12 | string> {
  try {
    const boss = new PgBoss12({ connectionString: db.url, schema: "pgboss12", schedule: false, supervise: false });
    boss.on("error", (e: Error) => log(`pg-boss 12: ${e.message}`));
    await boss.start();
    await boss.createQueue("noop");
    return boss;
  } catch (error) {
    const why = `pg-boss 12 did not start on Node ${process.version}: ${(error as Error).message}`;
    log(why);
    return why;
  }
}

export async function benchThroughput(db: BenchDatabase, cfg: ThroughputConfig, log: (l: string) => void): Promise<ThroughputResult> {
  const ws = await workspaceWithAccounts(db.admin, cfg.accounts, "throughput");
  await migrateGraphileWorker({ connectionString: db.url, logger: silent });
  const boss = new PgBoss({ connectionString: db.url, schedule: false, supervise: false });
  boss.on("error", (e) => log(`pg-boss: ${e.message}`));
  await boss.start();
  await boss.createQueue("noop");
  const boss12 = await startPgBoss12(db, log);

  const pacers = [pacer(db, cfg, ws, 1), pacer(db, cfg, ws, 2)];
  const graphile = { defaults: graphileWorker(db, cfg, false), batched: graphileWorker(db, cfg, true) };
  const contenders = [
    ...pacers,
    graphile.defaults,
    graphile.batched,
    ...pgBoss10(db, cfg, boss),
    ...(typeof boss12 === "string" ? [] : pgBoss12(db, cfg, boss12)),
  ];
  const drains = new Map<Contender, Drain[]>(contenders.map((c) => [c, []]));
  const pgbenchClients = [1, 16];
  const tps = new Map<number, number[]>(pgbenchClients.map((c) => [c, []]));
  try {
    for (let round = 1; round <= cfg.runs; round++) {
      for (const c of contenders) {
        await c.prefill();
        const d = await c.drain();
        drains.get(c)!.push(d);
        const cpu = d.done < 1000 ? "" : `, CPU ${fmt((d.cpu.node / d.done) * 1000)} + ${fmt(((d.cpu.pg ?? NaN) / d.done) * 1000)} ms/1k`;
        log(`run ${round}/${cfg.runs} ${c.name}: ${fmt(d.done)} jobs in ${fmt(d.ms / 1000, 1)} s = ${fmt((d.done / d.ms) * 1000)} jobs/s${cpu}${d.capped ? " (capped)" : ""}`);
      }
      for (const clients of cfg.pgbench ? pgbenchClients : []) {
        const t = await pgbenchRate(db, cfg.pgbench!, clients, 5);
        tps.get(clients)!.push(t);
        log(`run ${round}/${cfg.runs} pgbench single-row UPDATE, ${clients} client(s): ${fmt(t)} tps`);
      }
    }
  } finally {
    await boss.stop({ graceful: false, wait: true, timeout: 2000 }).catch(() => {});
    if (typeof boss12 !== "string") await boss12.stop({ graceful: false, timeout: 2000 }).catch(() => {});
  }

  const rate = (d: Drain) => (d.done / d.ms) * 1000;
  const med = (c: Contender) => median(drains.get(c)!.map(rate));
  // Per 1,000 jobs; a run that completed almost nothing has no meaningful figure.
  const cpuPer1000 = (c: Contender, part: "node" | "pg") =>
    median(drains.get(c)!.map((d) => (d.done < 1000 ? NaN : ((d.cpu[part] ?? NaN) / d.done) * 1000)));
  const cpuTotal = (c: Contender) => cpuPer1000(c, "node") + cpuPer1000(c, "pg");

  // Each system at its best: its fastest configuration (median jobs/s) in this run.
  const peerNames = [...new Set(contenders.map((c) => c.peer))];
  const byPeer = peerNames.map((peer) => contenders.filter((c) => c.peer === peer).sort((a, b) => (med(b) || 0) - (med(a) || 0)));
  const bests = byPeer.map((cs) => cs[0]);
  const best = bests[0]; // Pacer's
  const pacerBest = med(best);

  log("timing serial claim → record cycles (where the engine's time goes)…");
  const split = await claimRecordSplit(db, ws, Math.min(cfg.jobs, 20_000), 100);

  const runs = (c: Contender) => {
    const ds = drains.get(c)!;
    return ds.map((d) => fmt(rate(d))).join(" / ") + (ds.some((d) => d.capped) ? ` (${ds.filter((d) => d.capped).length} capped)` : "");
  };
  const rows = bests.map((c) => [
    c.peer === "Pacer" ? c.name : `${c.peer} at its best`,
    `${c.config}${c.peer === "Pacer" ? "" : ` (${c.name.replace(`${c.peer}, `, "")})`}`,
    fmt(med(c)),
    runs(c),
    ratio(med(c), pacerBest),
    fmt(cpuPer1000(c, "node")),
    fmt(cpuPer1000(c, "pg")),
  ]);
  for (const clients of cfg.pgbench ? pgbenchClients : []) {
    const t = tps.get(clients)!;
    rows.push([
      "pgbench single-row UPDATE (ceiling)",
      `${clients} client${clients > 1 ? "s" : ""}, one UPDATE per transaction, 5 s`,
      fmt(median(t)),
      t.map((x) => fmt(x)).join(" / "),
      ratio(median(t), pacerBest),
      "–",
      "–",
    ]);
  }
  if (!cfg.pgbench) {
    rows.push(["pgbench single-row UPDATE (ceiling)", `skipped: ${PGBENCH_MISSING}`, "–", "–", "–", "–", "–"]);
  }
  // Why each system's best won: its mechanism, and how far ahead of its next configuration.
  const whyWon = byPeer.map(([winner, next]) =>
    next
      ? `${winner.peer}: "${winner.name}" won, ${ratio(med(winner), med(next))} the jobs/s of its next configuration ("${next.name}", ${fmt(med(next))} jobs/s) at ${fmt(cpuTotal(winner))} against ${fmt(cpuTotal(next))} CPU ms/1k: ${winner.why}.`
      : `${winner.peer}: one configuration measured.`,
  );
  const table: Table = {
    title: `Engine throughput: ${fmt(cfg.jobs)} pre-filled no-op jobs, each system at its best`,
    head: ["System", "Configuration", "Jobs/s (median)", "Runs (jobs/s)", "Ratio to Pacer", "CPU ms/1k jobs: Node", "CPU ms/1k jobs: Postgres"],
    textColumns: 2,
    rows,
    notes: [
      `Median of ${cfg.runs} runs each, interleaved (every configuration of every system once per round, then pgbench). Each system's row is its fastest configuration in this run; the others are in the next table. "Ratio to Pacer" divides by Pacer's better configuration (${best.name}: ${fmt(pacerBest)} jobs/s).`,
      ...whyWon,
      `A run stops after ${fmt(cfg.capMs / 1000)} s (pg-boss 10's default work() after ${fmt(cfg.pollCapMs / 1000)} s): "capped"; its rate is the jobs completed by then, with the queue still deep.`,
      `CPU columns: CPU time of the benchmark process (which runs the workers) and of the whole Postgres cluster during the drain, per 1,000 jobs (median); unlike jobs/s they hardly move when other work shares the 2 cores.`,
      `Pacer's items are spread over ${fmt(cfg.accounts)} sandbox accounts (policy 3,600/h), one post per 10 items, concurrency ${cfg.concurrency} in all; each item is claimed inside its account's limits (advisory lock, ledger count, ledger row), leased, published by the no-op connector, and its outcome and posting-history row written. The ledger starts with ${fmt(LEDGER_BACKGROUND_ROWS)} rows of other accounts' last hour, analyzed.`,
      `Every prefill ends with VACUUM (ANALYZE) and CHECKPOINT, so no run pays for the previous one's writes.`,
      `pg-boss 10 (the last release for Node 20) fetches with ORDER BY priority desc, created_on, id (created_on, id without priority), which its index (name, start_after) cannot serve: every fetch reads and sorts the whole backlog, so a fetch costs more the deeper the queue and only big batches amortise it. pg-boss 12's index (name, priority desc, created_on, start_after) serves its fetch's order (it always fetches by priority), so a fetch reads only the rows it takes.`,
      typeof boss12 === "string" ? `${boss12}: its rows are missing.` : `pg-boss 12 (12.x, which declares Node 22) ran on Node ${process.version.slice(1)} here, installed as the dev dependency pg-boss-12 beside pg-boss 10, in its own schema.`,
      `One serial claim → record cycle of 100 items (Pacer's inner loop, ${split.cycles} cycles, mean): claim ${fmt(split.claimMs, 1)} ms wall / ${fmt(split.claimCpuMs, 1)} ms backend CPU, record ${fmt(split.recordMs, 1)} ms wall / ${fmt(split.recordCpuMs, 1)} ms backend CPU.`,
    ],
  };
  const weaker = contenders.filter((c) => !bests.includes(c));
  const context: Table = {
    title: "Engine throughput: the weaker configurations (context)",
    head: ["System", "Configuration", "What it does", "Jobs/s (median)", "Runs (jobs/s)", "Share of its system's best", "CPU ms/1k jobs: Node", "CPU ms/1k jobs: Postgres"],
    textColumns: 3,
    rows: weaker.map((c) => {
      const top = bests.find((b) => b.peer === c.peer)!;
      return [c.name, c.config, c.why, fmt(med(c)), runs(c), ratio(med(c), med(top)), fmt(cpuPer1000(c, "node")), fmt(cpuPer1000(c, "pg"))];
    }),
    notes: ["Same runs as the table above, interleaved with them. Not a system's best, so not compared with Pacer."],
  };
  return {
    tables: [table, context],
    pacerBest,
    graphileBatched: med(graphile.batched),
    graphileDefaults: med(graphile.defaults),
    cpuPer1000: { pacer: cpuTotal(best), graphileBatched: cpuTotal(graphile.batched) },
    peers: bests.map((c) => ({ peer: c.peer, name: c.name, config: c.config, jobsPerSecond: med(c), cpuPer1000: cpuTotal(c) })),
    split,
    queueItemIndexes: Number((await db.admin`select count(*) as n from pg_indexes where schemaname = 'public' and tablename = 'queue_items'`)[0].n),
    historyIndexes: Number((await db.admin`select count(*) as n from pg_indexes where schemaname = 'public' and tablename = 'posting_history'`)[0].n),
  };
}
