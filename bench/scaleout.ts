// Scale-out: the same pre-filled queue as the throughput section (no-op connector, sandbox accounts)
// drained by 1, 2 and 4 worker processes on one Postgres, each process what `npm run worker` runs
// (its own Node process and pool, processQueue with the engine's defaults). Items/s, the CPU each
// process and Postgres spend per item, and which of them runs out of cores first.
import { fork, type ChildProcess } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { ENGINE_DEFAULTS } from "../lib/engine/process.ts";
import { emptyQueue, fillQueue, settle, workspaceWithAccounts, type BenchDatabase } from "./database.ts";
import { postgresCpuMs } from "./cpu.ts";
import { fmt, median, ratio, type Table } from "./stats.ts";

export interface ScaleOutConfig {
  items: number;
  processes: number[];
  runs: number;
  /** Each process stops claiming after this long; its rate is then what was done in the time. */
  capMs: number;
  accounts: number;
}

interface WorkerResult {
  posted: number;
  claimed: number;
  ms: number;
  cpuMs: number;
}

interface Run {
  processes: number;
  posted: number;
  ms: number;
  capped: boolean;
  workers: WorkerResult[];
  pgCpuMs: number;
}

export interface ScaleOutPoint {
  processes: number;
  itemsPerSecond: number;
  /** Per 1,000 items (median): all worker processes together, and Postgres. */
  cpuPer1000: { workers: number; postgres: number };
  /** Cores kept busy during the drain (CPU ms / wall ms, median): one worker process (mean), Postgres. */
  coresBusy: { perWorker: number; postgres: number };
}

export interface ScaleOutResult {
  tables: Table[];
  points: ScaleOutPoint[];
}

const WORKER_FILE = fileURLToPath(new URL("./scaleout-worker.ts", import.meta.url));

/** Every worker process alive, so any way out of the section (or the run) stops them. */
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

function startWorker(db: BenchDatabase, id: string, capMs: number): { child: ChildProcess; ready: Promise<void>; result: Promise<WorkerResult> } {
  const child = fork(WORKER_FILE, {
    env: { ...process.env, BENCH_DB_URL: db.url, BENCH_WORKER_ID: id, BENCH_WORKER_CAP_MS: String(capMs) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const exited = new Promise<never>((_, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`worker process ${id} exited (${code}) before reporting`)));
  });
  const message = <T>(pick: (m: any) => T | undefined) =>
    Promise.race([
      exited,
      new Promise<T>((resolve, reject) =>
        child.on("message", (m: any) => {
          if (m?.error) reject(new Error(`worker process ${id}: ${m.error}`));
          const v = pick(m);
          if (v !== undefined) resolve(v);
        }),
      ),
    ]);
  const ready = message((m) => (m?.ready ? true : undefined)).then(() => {});
  const result = message<WorkerResult>((m) => m?.result);
  // A rejection nobody awaited yet (the run failed elsewhere) must not end the benchmark.
  ready.catch(() => {});
  result.catch(() => {});
  return { child, ready, result };
}

async function drainWith(db: BenchDatabase, cfg: ScaleOutConfig, processes: number): Promise<Run> {
  const workers = Array.from({ length: processes }, (_, i) => startWorker(db, `scaleout-${processes}-${i + 1}`, cfg.capMs));
  try {
    // Node and tsx start-up are not the engine's work: the clock starts once every process is connected.
    await Promise.all(workers.map((w) => w.ready));
    const pg0 = postgresCpuMs(db.pgDataDir);
    const started = performance.now();
    for (const w of workers) w.child.send("go");
    const results = await Promise.all(workers.map((w) => w.result));
    const ms = performance.now() - started;
    const pg1 = postgresCpuMs(db.pgDataDir);
    const posted = results.reduce((n, r) => n + r.posted, 0);
    return { processes, posted, ms, capped: posted < cfg.items, workers: results, pgCpuMs: pg0 === null || pg1 === null ? NaN : pg1 - pg0 };
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill("SIGTERM");
  }
}

export async function benchScaleOut(db: BenchDatabase, cfg: ScaleOutConfig, log: (l: string) => void): Promise<ScaleOutResult> {
  const ws = await workspaceWithAccounts(db.admin, cfg.accounts, "scaleout");
  const loadBefore = os.loadavg();
  const runs = new Map<number, Run[]>(cfg.processes.map((n) => [n, []]));
  try {
    for (let round = 1; round <= cfg.runs; round++) {
      for (const n of cfg.processes) {
        await emptyQueue(db.admin);
        await fillQueue(db.admin, ws, { items: cfg.items });
        await settle(db.admin);
        const r = await drainWith(db, cfg, n);
        const [{ posted }] = await db.admin`select count(*)::integer as posted from public.queue_items where status = 'posted'`;
        if (posted !== r.posted) throw new Error(`${n} process(es) reported ${r.posted} posted, the queue holds ${posted}`);
        runs.get(n)!.push(r);
        log(
          `run ${round}/${cfg.runs} ${n} worker process(es): ${fmt(r.posted)} items in ${fmt(r.ms / 1000, 1)} s = ${fmt((r.posted / r.ms) * 1000)} items/s` +
            ` (per process ${r.workers.map((w) => fmt(w.posted)).join(" / ")}), CPU per 1k: workers ${fmt((sum(r.workers.map((w) => w.cpuMs)) / r.posted) * 1000)} ms, Postgres ${fmt((r.pgCpuMs / r.posted) * 1000)} ms${r.capped ? " (capped)" : ""}`,
        );
      }
    }
  } finally {
    for (const c of children) c.kill("SIGKILL");
  }
  const loadAfter = os.loadavg();

  const rate = (r: Run) => (r.posted / r.ms) * 1000;
  const points: ScaleOutPoint[] = cfg.processes.map((n) => {
    const rs = runs.get(n)!;
    return {
      processes: n,
      itemsPerSecond: median(rs.map(rate)),
      cpuPer1000: {
        workers: median(rs.map((r) => (sum(r.workers.map((w) => w.cpuMs)) / r.posted) * 1000)),
        postgres: median(rs.map((r) => (r.pgCpuMs / r.posted) * 1000)),
      },
      coresBusy: {
        perWorker: median(rs.map((r) => sum(r.workers.map((w) => w.cpuMs)) / r.workers.length / r.ms)),
        postgres: median(rs.map((r) => r.pgCpuMs / r.ms)),
      },
    };
  });
  const one = points[0];
  const cores = os.cpus().length;
  const rows = points.map((p) => {
    const rs = runs.get(p.processes)!;
    const capped = rs.filter((r) => r.capped).length;
    return [
      String(p.processes),
      fmt(p.itemsPerSecond),
      rs.map((r) => fmt(rate(r))).join(" / ") + (capped ? ` (${capped} capped)` : ""),
      ratio(p.itemsPerSecond, one.itemsPerSecond),
      fmt(p.cpuPer1000.workers / p.processes),
      fmt(p.cpuPer1000.workers),
      fmt(p.cpuPer1000.postgres),
      fmt(p.coresBusy.perWorker, 2),
      fmt(p.coresBusy.postgres, 2),
      fmt(p.coresBusy.perWorker * p.processes + p.coresBusy.postgres, 2),
    ];
  });
  const last = points[points.length - 1];
  // Where it saturates: what CPU per item allows on these cores, and on Postgres's share alone.
  const perItemMs = (last.cpuPer1000.workers + last.cpuPer1000.postgres) / 1000;
  const machineBound = (cores * 1000) / perItemMs; // CPU ms per second over CPU ms per item
  const postgresBound = (cores * 1000 * 1000) / last.cpuPer1000.postgres;
  const gains = points.slice(1).map((p, i) => `${points[i].processes} → ${p.processes}: ${ratio(p.itemsPerSecond, points[i].itemsPerSecond)}`);
  const table: Table = {
    title: `Scale-out: ${fmt(cfg.items)} pre-filled no-op items drained by ${cfg.processes.join(", ")} worker processes on one Postgres`,
    head: [
      "Worker processes",
      "Items/s (median)",
      "Runs (items/s)",
      "vs 1 process",
      "CPU ms/1k items: each process",
      "CPU ms/1k items: all processes",
      "CPU ms/1k items: Postgres",
      "Cores busy: each process",
      "Cores busy: Postgres",
      "Cores busy: all",
    ],
    rows,
    notes: [
      `Each process is what \`npm run worker\` runs for the queue: its own Node process and pool (4 connections), processQueue with the engine's defaults (concurrency ${ENGINE_DEFAULTS.concurrency}, batch ${ENGINE_DEFAULTS.batchSize}), here with the no-op connector; the clock starts once every process has connected and stops when the last has nothing left to claim. Items as in the throughput section: ${fmt(cfg.accounts)} sandbox accounts, one post per 10 items, the ledger's background rows. Median of ${cfg.runs} runs, interleaved; a process stops claiming after ${fmt(cfg.capMs / 1000)} s ("capped").`,
      `CPU per 1k items: "each process" is all processes' CPU per 1,000 items divided by their number (each handles about 1/N of the items); "cores busy" is CPU ms over wall ms during the drain. This machine has ${cores} cores, shared with other work (load average ${loadBefore.map((x) => x.toFixed(2)).join(" / ")} before, ${loadAfter.map((x) => x.toFixed(2)).join(" / ")} after).`,
      `Gain per step: ${gains.join(", ")}. At ${last.processes} processes the workers and Postgres together keep ${fmt(last.coresBusy.perWorker * last.processes + last.coresBusy.postgres, 2)} of ${cores} cores busy, Postgres ${fmt(last.coresBusy.postgres, 2)} of them (${fmt((last.cpuPer1000.postgres / (perItemMs * 1000)) * 100)}% of the CPU per item).`,
      `Where it saturates: at ${fmt(perItemMs * 1000)} CPU ms per 1,000 items (workers + Postgres) these ${cores} cores allow at most about ${fmt(machineBound)} items/s, whatever the number of processes; ${last.processes} processes reached ${fmt(last.itemsPerSecond)} (${fmt((last.itemsPerSecond / machineBound) * 100)}% of that), the rest of the cores going to other work on the machine. Workers on other machines (more \`npm run worker\` processes against the managed Postgres) leave Postgres's own ${fmt(last.cpuPer1000.postgres)} ms per 1,000 items: about ${fmt(postgresBound)} items/s on ${cores} database cores, ${fmt(postgresBound / cores)} per core — the bound that remains once workers are added elsewhere.`,
    ],
  };
  return { tables: [table], points };
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
