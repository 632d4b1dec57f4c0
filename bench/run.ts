// `npm run bench`: measures the engine, the claim, the queue API and the whole path to the sandbox on
// a private embedded Postgres, prints each table, and writes docs/benchmarks.md after a full run.
import { existsSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { startBenchDatabase, type BenchDatabase } from "./database.ts";
import { benchThroughput, PGBENCH_MISSING } from "./throughput.ts";
import { benchScaleOut } from "./scaleout.ts";
import { benchClaims } from "./claim.ts";
import { benchEndToEnd } from "./end-to-end.ts";
import { benchFairness } from "./fairness.ts";
import { benchHistory } from "./history.ts";
import { benchHealthSnapshots } from "./health-snapshots.ts";
import { describeMachine, renderReport, type Results } from "./report.ts";
import { toText, type Table } from "./stats.ts";

const env = process.env;
const num = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
const scale = num("BENCH_SCALE", 1);
const runs = Math.max(1, num("BENCH_RUNS", 3));
const sections = new Set((env.BENCH_SECTIONS ?? "throughput,scaleout,claims,queue,e2e,fairness,history,health,api").split(",").map((s) => s.trim()));
const sized = (n: number, min: number) => Math.max(min, Math.round(n * scale));
const capMs = num("BENCH_CAP_S", 30) * 1000;
const accounts = 1000;
const root = join(import.meta.dirname, "..");
const pgbench = env.BENCH_PGBENCH ?? "/usr/bin/pgbench";

const claimDepths = [10_000, 100_000, 1_000_000].map((d) => sized(d, 1000));
const backlog = sized(1_000_000, 2000);
const statusItems = sized(1_000_000, 10_000);

const log = (line: string) => console.log(`[bench] ${line}`);
const started = Date.now();
const machine = describeMachine("?");
let db: BenchDatabase | undefined;

// Ctrl-C or a kill still stops Postgres and removes its folder (the sandbox child follows its parent).
let stopping = false;
const shutDown = async (code: number) => {
  if (stopping) return;
  stopping = true;
  await db?.stop().catch(() => {});
  process.exit(code);
};
process.on("SIGINT", () => void shutDown(130));
// pg-boss's work() completes jobs without awaiting them; a late failure there must not end the run.
process.on("unhandledRejection", (e) => log(`ignored a stray rejection: ${(e as Error)?.message ?? e}`));
process.on("SIGTERM", () => void shutDown(143));

const results: Results = {};
const tables: Table[] = [];
const show = (ts: Table[]) => {
  for (const t of ts) console.log(toText(t));
  tables.push(...ts);
};

// Said up front, not found out at the end: without pgbench only the throughput ceiling rows are skipped.
if (sections.has("throughput") && !existsSync(pgbench)) log(`${PGBENCH_MISSING} at ${pgbench}: the ceiling rows are skipped, the rest runs`);

try {
  db = await startBenchDatabase(log);
  machine.postgres = db.version;

  if (sections.has("throughput")) {
    log("section 1: engine throughput against graphile-worker and pg-boss");
    results.throughput = await benchThroughput(
      db,
      {
        jobs: sized(200_000, 2000),
        concurrency: num("BENCH_CONCURRENCY", 100),
        runs,
        capMs,
        pollCapMs: Math.min(capMs, 20_000),
        accounts,
        pgbench: existsSync(pgbench) ? pgbench : null,
      },
      log,
    );
    show(results.throughput.tables);
  }

  if (sections.has("scaleout")) {
    log("section 1b: scale-out, 1, 2 and 4 worker processes on one Postgres");
    results.scaleOut = await benchScaleOut(db, { items: sized(200_000, 2000), processes: [1, 2, 4], runs, capMs, accounts }, log);
    show(results.scaleOut.tables);
  }

  if (sections.has("claims")) {
    log("section 2: claim latency by depth, with and without a blocked backlog");
    results.claims = await benchClaims(
      db,
      { depths: claimDepths, backlog, batches: [1, 10, 100], samples: sized(600, 200), accounts },
      log,
    );
    show(results.claims.tables);
  }

  if (sections.has("queue")) {
    if (!existsSync(join(root, "lib", "queue", "index.ts"))) {
      log("sections 3 and 4 skipped: lib/queue does not exist yet");
    } else {
      log("sections 3 and 4: bulk enqueue and the status endpoint");
      const { benchQueueApi } = await import("./queue-api.ts");
      results.queueApi = await benchQueueApi(
        db,
        {
          bulkRows: 10_000,
          bulkRequests: Math.max(3, Math.round(5 * Math.min(1, scale * 5))),
          statusItems,
          statusCalls: sized(500, 200),
          statusDeltas: 5000,
          accounts,
        },
        log,
      );
      show(results.queueApi.tables);
    }
  }

  if (sections.has("fairness")) {
    log("section 6: fairness between tenants");
    results.fairness = await benchFairness(
      db,
      { depth: sized(1_000_000, 10_000), accounts, workers: 4, batch: 100, samples: 50, intervalMs: 100, capMs: 10_000 },
      log,
    );
    show(results.fairness.tables);
  }

  if (sections.has("history")) {
    log("section 7: posting history queries (GET /api/history)");
    results.history = await benchHistory(
      db,
      {
        rows: sized(50_000_000, 100_000),
        samples: sized(200, 50),
        engine: { due: sized(1_000_000, 10_000), backlog: sized(1_000_000, 2000), samples: sized(600, 200) },
      },
      log,
    );
    show(results.history.tables);
  }

  if (sections.has("health")) {
    log("section 8: account health scan and storage");
    results.health = await benchHealthSnapshots(db, { accounts: sized(10_000, 1000), days: 7, batch: 500 }, log);
    show(results.health.tables);
  }

  if (sections.has("api")) {
    log("section 9: the HTTP API (next start) against its floor");
    const { benchApiHttp } = await import("./api-http.ts");
    results.api = await benchApiHttp(
      db,
      {
        tenants: 10,
        itemsPerTenant: 300,
        accountsPerTenant: 10,
        concurrencies: [20, 1],
        requests: { 20: sized(2000, 400), 1: sized(300, 100) },
        gatewayPort: num("BENCH_API_GATEWAY_PORT", 54391),
        build: env.BENCH_API_BUILD === "always" ? "always" : "auto",
        pieceSamples: sized(200, 50),
      },
      log,
    );
    show(results.api.tables);
  }

  if (sections.has("e2e")) {
    log("section 5: end to end through the sandbox platform");
    results.endToEnd = await benchEndToEnd(
      db,
      {
        posts: sized(20_000, 3000),
        accounts,
        concurrency: num("BENCH_E2E_CONCURRENCY", 400),
        runs,
        capMs: Math.max(capMs, 60_000),
        latencyMs: 100,
        deno: env.BENCH_E2E_DENO !== "0",
      },
      log,
    );
    show(results.endToEnd.tables);
  }
} catch (error) {
  console.error(error);
  await shutDown(1);
} finally {
  await db?.stop().catch(() => {});
  db = undefined;
}

machine.loadAfter = os.loadavg();
const command = [
  ...Object.entries(env)
    .filter(([k]) => k.startsWith("BENCH_"))
    .map(([k, v]) => `${k}=${v}`),
  "npm run bench",
].join(" ");
const report = renderReport({
  command,
  date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  durationMin: (Date.now() - started) / 60_000,
  machine,
  results,
  tables,
  claimDepth: claimDepths[claimDepths.length - 1],
  backlog,
  statusItems,
});
const full = scale === 1 && ["throughput", "scaleout", "claims", "queue", "e2e", "history", "health", "api"].every((s) => sections.has(s)) && results.queueApi;
const out = env.BENCH_OUT ?? (full ? join(root, "docs", "benchmarks.md") : undefined);
if (out) {
  writeFileSync(out, report);
  log(`wrote ${out}`);
} else {
  log("a partial or scaled run: docs/benchmarks.md left as it was (set BENCH_OUT to write this report somewhere)");
}
log(`done in ${((Date.now() - started) / 60_000).toFixed(1)} minutes`);
process.exit(0);
