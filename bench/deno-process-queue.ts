// One processQueue run under Deno, as the Edge Function runs it, for the end-to-end benchmark: the
// sandbox connector's publishes single-send (the shipped default) or through Deno's pooled fetch.
// Usage: deno run … deno-process-queue.ts <db url> <sandbox url> <single-send|pooled> <concurrency> <budget ms>
// Prints one JSON line: { posted, ms, claimed }. Runs under Deno, not Node.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const Deno: any;
import postgres from "postgres"; // Deno resolves it from package.json and node_modules, as the gateway runs functions
import { processQueue } from "../lib/engine/process.ts";
import { createSandboxConnector } from "../lib/connectors/sandbox.ts";

const [dbUrl, sandboxUrl, mode, concurrency, budgetMs] = Deno.args;
const sql = postgres(dbUrl, { max: 4, prepare: false, onnotice: () => {} });
const connector = createSandboxConnector({ baseUrl: sandboxUrl, ...(mode === "pooled" ? { publishFetch: fetch } : {}) });

// Untimed: every account's token, as a long-lived function instance would hold them.
const handles = (await sql`select distinct a.handle from public.queue_items q join public.social_accounts a on a.id = q.account_id`).map(
  (r) => r.handle as string,
);
for (let i = 0; i < handles.length; i += 50) {
  await Promise.all(
    handles.slice(i, i + 50).map((handle) =>
      connector.lookup({ id: handle, platform: "sandbox", handle, credentials: {} }, "warm-up", { signal: AbortSignal.timeout(30_000) }),
    ),
  );
}
const started = performance.now();
const summary = await processQueue({
  sql,
  worker: `e2e-deno-${mode}`,
  connectorFor: () => connector,
  budgetMs: Number(budgetMs),
  concurrency: Number(concurrency),
  batchSize: 100,
});
console.log(JSON.stringify({ posted: summary.byOutcome.posted ?? 0, claimed: summary.claimed, ms: performance.now() - started }));
await sql.end();
