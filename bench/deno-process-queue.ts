// One processQueue run under Deno, as the Edge Function runs it, for the end-to-end benchmark: the
// sandbox connector's publishes single-send (the shipped default) or through Deno's pooled fetch.
// Usage: deno run … deno-process-queue.ts <db url> <sandbox url> <single-send|pooled> <concurrency> <budget ms> [cpu budget ms]
// Prints one JSON line: { posted, claimed, ms, cpuMs, cpuBudgetReached }; cpuMs is this process's CPU
// (all its threads, from process.cpuUsage) during the run, after its start and module loading.
// With a CPU budget the run stops claiming on that clock, as the Edge Function does. Runs under Deno, not Node.
declare const Deno: any;
import process from "node:process";
import postgres from "postgres"; // Deno resolves it from package.json and node_modules, as the gateway runs functions
import { processQueue } from "../lib/engine/process.ts";
import { createSandboxConnector } from "../lib/connectors/sandbox.ts";

const [dbUrl, sandboxUrl, mode, concurrency, budgetMs, cpuBudgetMs] = Deno.args;
const sql = postgres(dbUrl, { max: 4, prepare: false, onnotice: () => {} });
// The sandbox is on loopback, which connectors refuse unless allowed (as PACER_ALLOWED_HOSTS does).
const connector = createSandboxConnector({
  baseUrl: sandboxUrl,
  allowedHosts: [new URL(sandboxUrl).host],
  ...(mode === "pooled" ? { publishFetch: fetch } : {}),
});
const cpuClock = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const started = performance.now();
const cpuAtStart = cpuClock();
const summary = await processQueue({
  sql,
  worker: `e2e-deno-${mode}`,
  connectorFor: () => connector,
  budgetMs: Number(budgetMs),
  concurrency: Number(concurrency),
  batchSize: 100,
  ...(cpuBudgetMs ? { cpuBudgetMs: Number(cpuBudgetMs), cpuClock } : {}),
});
const cpuMs = cpuClock() - cpuAtStart;
console.log(
  JSON.stringify({ posted: summary.byOutcome.posted ?? 0, claimed: summary.claimed, ms: performance.now() - started, cpuMs, cpuBudgetReached: summary.cpuBudgetReached ?? false }),
);
await sql.end();
