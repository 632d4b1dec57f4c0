// `npm run worker`: a long-lived queue worker for operators who outgrow a once-a-minute cron.
// Same engine as the Edge Function; polls while idle; stops cleanly on SIGINT/SIGTERM (leases
// of anything unfinished expire and are recovered by verification, never by re-posting).
import postgres from "postgres";
import { processQueue } from "../lib/engine/process.ts";
import { connectorFor } from "../lib/connectors/registry.ts";
import { engineSettingsFromEnv } from "../lib/engine/settings.ts";

const url = process.env.SUPABASE_DB_URL;
if (!url) {
  console.error("[worker] SUPABASE_DB_URL is not set: point it at the project's Postgres (see README).");
  process.exit(2);
}
const env = process.env;
const worker = env.PACER_WORKER_ID ?? `worker-${process.pid}`;
// Engine settings, for operators and for the chaos test; unset means the engine's defaults.
const settings = engineSettingsFromEnv(env);
const concurrency = settings.concurrency ?? 50;
const sql = postgres(url, { prepare: false, max: 4, onnotice: () => {} });
const stop = new AbortController();
process.on("SIGINT", () => stop.abort());
process.on("SIGTERM", () => stop.abort());

console.log(`[worker] ${worker} processing the queue (concurrency ${concurrency}); Ctrl-C stops it.`);
while (!stop.signal.aborted) {
  try {
    const s = await processQueue({
      sql,
      worker,
      ...settings,
      concurrency,
      connectorFor: (platform) => connectorFor(platform, process.env),
      budgetMs: 60_000,
      poll: { idleMs: 500 },
      signal: stop.signal,
      log: (line) => console.log(`[worker] ${line}`),
    });
    if (s.claimed) console.log(`[worker] ${s.claimed} claimed, ${JSON.stringify(s.byOutcome)} in ${s.ms} ms`);
  } catch (error) {
    console.error(`[worker] run failed, retrying: ${(error as Error).message}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
await sql.end({ timeout: 5 });
console.log("[worker] stopped.");
