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
  name: string;
  config: string;
  prefill(): Promise<void>;
  drain(): Promise<Drain>;
  close?(): Promise<void>;
}

const silent = new Logger(() => () => {});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pacer(db: BenchDatabase, cfg: ThroughputConfig, ws: Workspace, workers: number): Contender {
  return {
    name: workers === 1 ? "Pacer engine" : `Pacer engine, ${workers} workers`,
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
    name: batched ? "graphile-worker, batched" : "graphile-worker, defaults",
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
 * pg-boss 10 (the last for Node 20): its defaults (one work() per unit of concurrency, batchSize 1,
 * polling every 2 s), and its fastest use, a loop of fetch(batch) and complete(ids) with no polling
 * wait (work()'s batchSize still waits out the polling interval between fetches).
 */
function pgBoss(db: BenchDatabase, cfg: ThroughputConfig, boss: PgBoss, mode: "defaults" | "loop"): Contender {
  const batch = Math.min(cfg.concurrency, 100);
  const loops = Math.max(1, Math.round(cfg.concurrency / batch));
  return {
    name: { defaults: "pg-boss, defaults", loop: "pg-boss, batched fetch/complete loop" }[mode],
    config: {
      defaults: `${cfg.concurrency} × work(), batchSize 1, polling 2 s`,
      loop: `${loops} × (fetch ${batch}, complete) without waiting`,
    }[mode],
    async prefill() {
      await db.admin`delete from pgboss.job where name = 'noop'`;
      await boss.insert(Array.from({ length: cfg.jobs }, () => ({ name: "noop", data: {} })));
      await settle(db.admin, ["pgboss.job"]);
    },
    async drain() {
      const completed = async () =>
        Number((await db.admin`select count(*) as n from pgboss.job where name = 'noop' and state = 'completed'`)[0].n);
      let handled = 0; // counted here, so the database is only asked at the end
      const c0 = cpuNow(db.pgDataDir);
      const started = performance.now();
      const deadline = started + (mode === "loop" ? cfg.capMs : cfg.pollCapMs);
      let stop = false;
      const loopsDone: Promise<void>[] = [];
      if (mode === "defaults") {
        for (let i = 0; i < cfg.concurrency; i++) await boss.work("noop", async (jobs) => void (handled += jobs.length));
      } else {
        for (let i = 0; i < loops; i++) {
          loopsDone.push(
            (async () => {
              while (!stop) {
                const jobs = await boss.fetch("noop", { batchSize: batch });
                if (!jobs.length) break;
                await boss.complete("noop", jobs.map((j) => j.id));
                handled += jobs.length;
              }
            })(),
          );
        }
      }
      while (handled < cfg.jobs && performance.now() < deadline) await sleep(20);
      // work() completes in the background: wait until the database has every completion.
      let done = await completed();
      while (done < cfg.jobs && performance.now() < deadline) {
        await sleep(5);
        done = await completed();
      }
      const ms = performance.now() - started;
      const cpu = cpuSince(c0, db.pgDataDir);
      stop = true;
      await Promise.all(loopsDone);
      if (mode !== "loop") {
        await boss.offWork("noop");
        // work() completes in the background: let the last completions land before the next prefill.
        const active = async () => Number((await db.admin`select count(*) as n from pgboss.job where name = 'noop' and state = 'active'`)[0].n);
        for (let last = -1, now = await active(); now !== last; last = now, now = await active()) await sleep(500);
      }
      return { done, ms, capped: done < cfg.jobs, cpu };
    },
  };
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

export interface ThroughputResult {
  tables: Table[];
  pacerBest: number;
  graphileBatched: number;
  graphileDefaults: number;
  /** CPU ms per 1,000 jobs (this process + Postgres), median, for Pacer's best and graphile batched. */
  cpuPer1000: { pacer: number; graphileBatched: number };
  split: Awaited<ReturnType<typeof claimRecordSplit>>;
  /** Indexes on public.queue_items: every claim and every outcome is an update that adds to each. */
  queueItemIndexes: number;
}

export async function benchThroughput(db: BenchDatabase, cfg: ThroughputConfig, log: (l: string) => void): Promise<ThroughputResult> {
  const ws = await workspaceWithAccounts(db.admin, cfg.accounts, "throughput");
  await migrateGraphileWorker({ connectionString: db.url, logger: silent });
  const boss = new PgBoss({ connectionString: db.url, schedule: false, supervise: false });
  boss.on("error", (e) => log(`pg-boss: ${e.message}`));
  await boss.start();
  await boss.createQueue("noop");

  const contenders = [
    pacer(db, cfg, ws, 1),
    pacer(db, cfg, ws, 2),
    graphileWorker(db, cfg, false),
    graphileWorker(db, cfg, true),
    pgBoss(db, cfg, boss, "defaults"),
    pgBoss(db, cfg, boss, "loop"),
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
        log(`run ${round}/${cfg.runs} ${c.name}: ${fmt(d.done)} jobs in ${fmt(d.ms / 1000, 1)} s = ${fmt((d.done / d.ms) * 1000)} jobs/s${d.capped ? " (capped)" : ""}`);
      }
      for (const clients of cfg.pgbench ? pgbenchClients : []) {
        const t = await pgbenchRate(db, cfg.pgbench!, clients, 5);
        tps.get(clients)!.push(t);
        log(`run ${round}/${cfg.runs} pgbench single-row UPDATE, ${clients} client(s): ${fmt(t)} tps`);
      }
    }
  } finally {
    await boss.stop({ graceful: false, wait: true, timeout: 2000 }).catch(() => {});
  }

  const rate = (d: Drain) => (d.done / d.ms) * 1000;
  const med = (c: Contender) => median(drains.get(c)!.map(rate));
  // Per 1,000 jobs; a run that completed almost nothing has no meaningful figure.
  const cpuPer1000 = (c: Contender, part: "node" | "pg") =>
    median(drains.get(c)!.map((d) => (d.done < 1000 ? NaN : ((d.cpu[part] ?? NaN) / d.done) * 1000)));
  const best = med(contenders[0]) >= med(contenders[1]) ? contenders[0] : contenders[1];
  const pacerBest = med(best);

  log("timing serial claim → record cycles (where the engine's time goes)…");
  const split = await claimRecordSplit(db, ws, Math.min(cfg.jobs, 20_000), 100);

  const rows = contenders.map((c) => {
    const ds = drains.get(c)!;
    return [
      c.name,
      c.config,
      fmt(med(c)),
      ds.map((d) => fmt(rate(d))).join(" / ") + (ds.some((d) => d.capped) ? ` (${ds.filter((d) => d.capped).length} capped)` : ""),
      ratio(med(c), pacerBest),
      fmt(cpuPer1000(c, "node")),
      fmt(cpuPer1000(c, "pg")),
    ];
  });
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
  const table: Table = {
    title: `Engine throughput: ${fmt(cfg.jobs)} pre-filled no-op jobs, concurrency ${cfg.concurrency}`,
    head: ["System", "Configuration", "Jobs/s (median)", "Runs (jobs/s)", "Ratio to Pacer", "CPU ms/1k jobs: Node", "CPU ms/1k jobs: Postgres"],
    textColumns: 2,
    rows,
    notes: [
      `Median of ${cfg.runs} runs each, interleaved (every system once per round, then pgbench). "Ratio to Pacer" divides by Pacer's better configuration (${best.name}: ${fmt(pacerBest)} jobs/s).`,
      `A run stops after ${fmt(cfg.capMs / 1000)} s (pg-boss's polling work() after ${fmt(cfg.pollCapMs / 1000)} s): "capped"; its rate is the jobs completed by then, with the queue still deep.`,
      `CPU columns: CPU time of the benchmark process (which runs the workers) and of the whole Postgres cluster during the drain, per 1,000 jobs (median); unlike jobs/s they hardly move when other work shares the 2 cores.`,
      `Pacer's items are spread over ${fmt(cfg.accounts)} sandbox accounts (policy 3,600/h), one post per 10 items; each item is claimed inside its account's limits (advisory lock, ledger count, ledger row), leased, published by the no-op connector, and its outcome and posting-history row written. The ledger starts with ${fmt(LEDGER_BACKGROUND_ROWS)} rows of other accounts' last hour, analyzed.`,
      `Every prefill ends with VACUUM (ANALYZE) and CHECKPOINT, so no run pays for the previous one's writes.`,
      `pg-boss 10 (the last release for Node 20) fetches with ORDER BY priority, created_on, id, which its index (name, start_after) cannot serve: every fetch reads and sorts the whole backlog (about 260 ms at 200,000 jobs here, EXPLAIN ANALYZE), so its rate falls as the queue grows; with 100 polling workers the fetches crowd each other out.`,
      `One serial claim → record cycle of 100 items (Pacer's inner loop, ${split.cycles} cycles, mean): claim ${fmt(split.claimMs, 1)} ms wall / ${fmt(split.claimCpuMs, 1)} ms backend CPU, record ${fmt(split.recordMs, 1)} ms wall / ${fmt(split.recordCpuMs, 1)} ms backend CPU.`,
    ],
  };
  return {
    tables: [table],
    pacerBest,
    graphileBatched: med(contenders[3]),
    graphileDefaults: med(contenders[2]),
    cpuPer1000: {
      pacer: cpuPer1000(best, "node") + cpuPer1000(best, "pg"),
      graphileBatched: cpuPer1000(contenders[3], "node") + cpuPer1000(contenders[3], "pg"),
    },
    split,
    queueItemIndexes: Number((await db.admin`select count(*) as n from pg_indexes where schemaname = 'public' and tablename = 'queue_items'`)[0].n),
  };
}
