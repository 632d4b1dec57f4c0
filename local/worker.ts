// `npm run worker`: a long-lived queue worker for operators who outgrow a once-a-minute cron; it
// also scans account health and sends webhook deliveries. Same engine and scan as the Edge Functions; polls while idle; stops
// cleanly on SIGINT/SIGTERM (leases of anything unfinished expire and are recovered by
// verification, never by re-posting).
import postgres from "postgres";
import { processQueue } from "../lib/engine/process.ts";
import { connectorFor } from "../lib/connectors/registry.ts";
import { credentialStore } from "../lib/accounts/refreshed-credentials.ts";
import { engineSettingsFromEnv } from "../lib/engine/settings.ts";
import { scanHealth } from "../lib/health/scan.ts";
import { deliverWebhooks } from "../lib/webhooks/deliver.ts";
import { expireGracePeriods } from "../lib/billing/grace.ts";

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

/** Between health scan runs; 0 turns the scan off for this worker (the scheduled scan-health still runs). */
const scanEveryMs = Number(env.PACER_SCAN_EVERY_MS ?? 60_000);
if (!Number.isSafeInteger(scanEveryMs) || scanEveryMs < 0) {
  console.error(`[worker] PACER_SCAN_EVERY_MS must be a whole number of ms (0 turns the scan off), got "${env.PACER_SCAN_EVERY_MS}".`);
  process.exit(2);
}
/** Wait `ms`, or less if the worker is stopping (the listener goes with the wait). */
const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stop.signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop.signal.addEventListener("abort", done, { once: true });
  });

async function processLoop() {
  while (!stop.signal.aborted) {
    try {
      const s = await processQueue({
        sql,
        worker,
        ...settings,
        concurrency,
        connectorFor: (platform) => connectorFor(platform, process.env, { storeCredentials: credentialStore(sql) }),
        budgetMs: 60_000,
        poll: { idleMs: 500 },
        // As the Edge Function does: a past-due subscription's grace ends on time.
        housekeeping: expireGracePeriods,
        signal: stop.signal,
        log: (line) => console.log(`[worker] ${line}`),
      });
      if (s.claimed) console.log(`[worker] ${s.claimed} claimed, ${JSON.stringify(s.byOutcome)} in ${s.ms} ms`);
    } catch (error) {
      console.error(`[worker] run failed, retrying: ${(error as Error).message}`);
      await sleep(1000);
    }
  }
}

// Account health beside the queue: the same scan as the scan-health Edge Function, more often.
async function scanLoop() {
  while (!stop.signal.aborted) {
    try {
      const s = await scanHealth({
        sql,
        worker: `${worker}-scan`,
        connectorFor: (platform) => connectorFor(platform, process.env, { storeCredentials: credentialStore(sql) }),
        budgetMs: 30_000,
        signal: stop.signal,
        log: (line) => console.log(`[worker] ${line}`),
      });
      if (s.claimed) console.log(`[worker] health: ${s.claimed} scanned (${s.readErrors} unreadable), ${s.alertsOpened} alert(s) opened, ${s.alertsResolved} resolved, ${s.accountsPaused} paused in ${s.ms} ms`);
    } catch (error) {
      console.error(`[worker] health scan failed, retrying: ${(error as Error).message}`);
    }
    await sleep(scanEveryMs);
  }
}

/** Between webhook delivery rounds while none is due (a round sends whatever is due, then returns). */
const WEBHOOK_IDLE_MS = 1000;

// Webhooks beside the queue: the events the queue and the scan wrote, sent within a second or so.
async function webhookLoop() {
  while (!stop.signal.aborted) {
    try {
      const s = await deliverWebhooks({
        sql,
        budgetMs: 30_000,
        allowedHosts: env.PACER_ALLOWED_HOSTS,
        signal: stop.signal,
        log: (line) => console.log(`[worker] ${line}`),
      });
      if (s.claimed) console.log(`[worker] webhooks: ${s.delivered} delivered, ${s.retrying} to retry, ${s.gaveUp} given up in ${s.ms} ms`);
    } catch (error) {
      console.error(`[worker] webhook delivery failed, retrying: ${(error as Error).message}`);
    }
    await sleep(WEBHOOK_IDLE_MS);
  }
}

console.log(`[worker] ${worker} processing the queue (concurrency ${concurrency})${scanEveryMs ? `, scanning account health every ${scanEveryMs / 1000} s` : ""}; Ctrl-C stops it.`);
await Promise.all([processLoop(), webhookLoop(), scanEveryMs ? scanLoop() : Promise.resolve()]);
await sql.end({ timeout: 5 });
console.log("[worker] stopped.");
