// What the cron path (the process-queue Edge Function, once a minute) can publish, from the end-to-end
// section: the engine's CPU per post under Deno, the posts one invocation publishes inside its CPU
// budget, and when an operator should run `npm run worker` processes instead.
import { ENGINE_DEFAULTS } from "../lib/engine/process.ts";
import type { EndToEndResult } from "./end-to-end.ts";
import { fmt, type Table } from "./stats.ts";

/**
 * The process-queue function's run as it ships (supabase/functions/process-queue/index.ts): its CPU
 * budget of Supabase's 2 s, the engine's default concurrency, its wall budget (PACER_RUN_BUDGET_MS),
 * and the cron's interval (supabase/migrations/20261124000400_schedule_process_queue.sql). The run is
 * measured on a queue deeper than the budget covers.
 */
export const EDGE_RUN = { cpuBudgetMs: 1500, cpuLimitMs: 2000, concurrency: ENGINE_DEFAULTS.concurrency, wallBudgetMs: 50_000, cronEveryS: 60, queued: 5000 };

/** One Edge Function run under Deno on a queue deeper than its CPU budget covers. */
export interface EdgeCapacity {
  queued: number;
  posted: number;
  claimed: number;
  /** The Deno process's CPU (all threads) during the run. */
  cpuMs: number;
  wallMs: number;
  cpuBudgetReached: boolean;
}

type ByClient = EndToEndResult["byClient"];

export function edgeCapacityTable(edge: EdgeCapacity, byClient: ByClient): Table {
  const node = byClient[0];
  const deno = byClient.find((c) => c.name.startsWith("Deno (Edge Function runtime)"));
  const denoCpuPerPost = edge.cpuMs / Math.max(1, edge.posted);
  const nodeCpuPerPost = node ? node.cpuPer1000.engine / 1000 : NaN;
  // A run that drained the queue before its budget shows a lower bound.
  const n = (x: number) => `${edge.cpuBudgetReached ? "" : "≥ "}${fmt(x)}`;
  // On Supabase the run has no CPU clock and counts each claimed item at cpuPerItemMs.
  const hosted = Math.floor(EDGE_RUN.cpuBudgetMs / ENGINE_DEFAULTS.cpuPerItemMs);
  const perMinute = (hosted * 60) / EDGE_RUN.cronEveryS;
  const workerPerSecond = 1000 / nodeCpuPerPost;
  const postgresPerPost = node ? node.cpuPer1000.postgres / 1000 : NaN;
  // Above this average call latency the wall budget, not the CPU budget, ends a hosted invocation first.
  const wallBindsAboveMs = (EDGE_RUN.wallBudgetMs * EDGE_RUN.concurrency) / hosted;
  return {
    title: `Edge Function capacity: the cron path (process-queue, every ${EDGE_RUN.cronEveryS} s) within Supabase's ${fmt(EDGE_RUN.cpuLimitMs)} ms of CPU per request`,
    head: ["Figure", "Value"],
    rows: [
      [`Engine CPU per post under Deno, the function's run (concurrency ${EDGE_RUN.concurrency}, ${fmt(edge.queued)} queued)`, `${fmt(denoCpuPerPost, 2)} ms`],
      ...(deno ? [[`Engine CPU per post under Deno, the end-to-end runs above`, `${fmt(deno.cpuPer1000.engine / 1000, 2)} ms`]] : []),
      [`Engine CPU per post under Node, the end-to-end runs above (${node?.name ?? "–"})`, `${fmt(nodeCpuPerPost, 2)} ms`],
      [
        `Posts one invocation publishes within its ${fmt(EDGE_RUN.cpuBudgetMs)} ms CPU budget, on a measured CPU clock (plain Deno)`,
        `${n(edge.posted)} (${fmt(edge.cpuMs)} ms CPU, ${fmt(edge.wallMs / 1000, 1)} s wall, ${edge.cpuBudgetReached ? "stopped at the budget" : "the queue ran dry first"})`,
      ],
      [`Posts one invocation publishes on Supabase (no CPU clock: ${fmt(EDGE_RUN.cpuBudgetMs)} ms ÷ cpuPerItemMs ${fmt(ENGINE_DEFAULTS.cpuPerItemMs, 1)} ms)`, fmt(hosted)],
      [`Posts per minute the cron path sustains on Supabase (one invocation a minute)`, fmt(perMinute)],
      [`One \`npm run worker\` process, bounded by its own CPU (one core)`, `${fmt(workerPerSecond)} posts/s = ${fmt(workerPerSecond * 60)} a minute`],
      [`Postgres CPU per post (the Node runs above), shared by every worker and the cron`, `${fmt(postgresPerPost, 2)} ms = ${fmt(1000 / postgresPerPost)} posts/s per Postgres core`],
    ],
    notes: [
      `The function's run: processQueue in a Deno process as supabase/functions/process-queue/index.ts runs it (single-send publishes, its CPU budget on process.cpuUsage()), against the sandbox at 100 ms latency. Its CPU is the whole Deno process's (every thread) during the run; Supabase counts the isolate's thread, so the figure errs high.`,
      `The sandbox speaks plain HTTP on loopback; real platforms are HTTPS, and single-send publishes open a TLS connection each, CPU this run does not show: the 500 ms left of the 2 s covers it, with housekeeping and the webhook round that follow in the same request.`,
      `On Supabase the function has no CPU clock (the hosted runtime's process.cpuUsage() returns zeros), so the run counts each claimed item at the engine's cpuPerItemMs (${fmt(ENGINE_DEFAULTS.cpuPerItemMs, 1)} ms, lib/engine/process.ts), which must stay above the Deno figure plus a TLS handshake per publish.`,
      `The wall budget (${fmt(EDGE_RUN.wallBudgetMs / 1000)} s) ends a hosted invocation first only if platform calls take more than ${fmt(wallBindsAboveMs)} ms on average (${EDGE_RUN.concurrency} calls in flight).`,
      `Run \`npm run worker\` processes (docs/deploying.md, "Many workers on Supabase's Postgres") once more than about ${fmt(hosted)} posts fall due in a minute, steadily or in bursts that must go out within the minute: the function's answers then carry \`"cpuBudgetReached": true\` and the rest wait for the next minute.`,
    ],
  };
}

/** The target: a run ends inside the platform's CPU limit, with everything it claimed recorded. */
export function edgeCapacityTargets(e2e: EndToEndResult | undefined): string[][] {
  const edge = e2e?.edge;
  if (!edge) return [];
  const ok = edge.cpuMs < EDGE_RUN.cpuLimitMs && edge.posted === edge.claimed;
  return [
    [
      `Edge Function run ends inside Supabase's ${fmt(EDGE_RUN.cpuLimitMs)} ms CPU limit, everything it claimed published and recorded`,
      `${fmt(edge.cpuMs)} ms CPU (budget ${fmt(EDGE_RUN.cpuBudgetMs)} ms), ${fmt(edge.posted)} of ${fmt(edge.claimed)} claimed posted`,
      ok ? "**met**" : "**not met**",
    ],
  ];
}
