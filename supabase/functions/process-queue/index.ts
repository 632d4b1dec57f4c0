// Edge Function: one processing run of the posting queue, called every minute by pg_cron + pg_net
// on Supabase (the local gateway's scheduler in dev). Thin: authorize, run the engine, report.
// "postgres" is mapped to an exact npm version by ./deno.json, which the CLI uploads as the import map.
import postgres from "postgres";
import process from "node:process";
import { processQueue } from "../../../lib/engine/process.ts";
import { connectorFor, enabledConnectors } from "../../../lib/connectors/registry.ts";
import { credentialStore } from "../../../lib/accounts/refreshed-credentials.ts";
import { bearerMatches } from "../../../lib/auth/secrets.ts";
import { singleSendFetch } from "../../../lib/connectors/transport.ts";
import { engineSettingsFromEnv } from "../../../lib/engine/settings.ts";
import { deliverWebhooks } from "../../../lib/webhooks/deliver.ts";
import { expireGracePeriods } from "../../../lib/billing/grace.ts";

const env = Deno.env.toObject();
const sql = postgres(env.SUPABASE_DB_URL, { prepare: false, max: 4, onnotice: () => {} });

// Well inside the Edge Function's 150 s wall clock; leases (120 s) outlive any call in flight.
const BUDGET_MS = Number(env.PACER_RUN_BUDGET_MS ?? 50_000);
// Supabase ends a request at 2 s of CPU (https://supabase.com/docs/guides/functions/limits): the run
// stops claiming at 1.5 s, counting what it has claimed and not yet recorded, so it ends cleanly. The
// other 0.5 s is for what follows in the same request (housekeeping, the webhook round, the answer)
// and for the per-item estimate's error where there is no CPU clock (below).
const CPU_BUDGET_MS = Number(env.PACER_RUN_CPU_BUDGET_MS ?? 1_500);
// A CPU clock where the runtime has one. Plain Deno (the local gateway, the bench) measures
// process.cpuUsage(); Supabase's hosted edge runtime answers it with zeros and a "Not implemented"
// warning (supabase/edge-runtime, ext/node/polyfills/process.ts) and gives a function no other CPU
// counter, so there the engine counts each claimed item at cpuPerItemMs (measured by `npm run bench`).
const cpuUsed = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const cpuClock = cpuUsed() > 0 ? cpuUsed : undefined;
// The same settings as `npm run worker` (a bad value stops the boot, with the variable's name).
const settings = engineSettingsFromEnv(env);
// Webhook deliveries after the queue run: the events it (and anything since) wrote, within this budget.
const WEBHOOK_BUDGET_MS = Number(env.PACER_WEBHOOK_BUDGET_MS ?? 20_000);
// Fail the boot, not each publish, where this runtime cannot send a publish at most once.
singleSendFetch();
// The connectors read the function's secrets (all of them reach it as env): PACER_CONNECTORS, and for
// those it enables PACER_ALLOWED_HOSTS, PACER_BLUESKY_APPVIEW_URL, PACER_BLUESKY_PLC_URL,
// PACER_UPLOAD_POST_URL, PACER_MASTODON_APP_NAME (lib/connectors/registry.ts). A PACER_CONNECTORS
// naming a connector Pacer does not know stops the boot, with its name, instead of failing each item.
enabledConnectors(env);

Deno.serve(async (req) => {
  // Compared in constant time: a timing difference must not reveal how much of a guess was right.
  if (!(await bearerMatches(req.headers.get("authorization"), env.PACER_CRON_SECRET))) {
    // In the function's logs too: a cron job sending the wrong secret fails here every minute.
    console.warn("process-queue: refused a call without `Authorization: Bearer <PACER_CRON_SECRET>` (Vault's secret_key must equal the function secret PACER_CRON_SECRET)");
    return Response.json({ error: { code: "unauthorized", message: "Send `Authorization: Bearer <PACER_CRON_SECRET>`." } }, { status: 401 });
  }
  // Runs may overlap (pg_net does not wait for the previous call): every claim is exclusive.
  const summary = await processQueue({
    sql,
    ...settings,
    worker: `edge-${crypto.randomUUID().slice(0, 8)}`,
    connectorFor: (platform) => connectorFor(platform, env, { storeCredentials: credentialStore(sql) }),
    budgetMs: BUDGET_MS,
    // Billing's piece of the scheduled run: a past-due subscription's grace ends on time, even when Stripe sends nothing more.
    housekeeping: expireGracePeriods,
    cpuBudgetMs: CPU_BUDGET_MS,
    cpuClock,
    log: (line) => console.log(line),
  });
  // The cron path at capacity: what is still due waits for the next minute.
  if (summary.cpuBudgetReached) {
    console.log(`process-queue: stopped claiming at the CPU budget (${CPU_BUDGET_MS} ms) after ${summary.claimed} item(s); the rest wait for the next run. If this repeats, run \`npm run worker\` processes (docs/deploying.md).`);
  }
  // A failing webhook round must not turn the queue run's answer into an error (the cron would warn).
  const webhooks = await deliverWebhooks({ sql, budgetMs: WEBHOOK_BUDGET_MS, allowedHosts: env.PACER_ALLOWED_HOSTS, log: (line) => console.log(line) })
    .catch((error) => ({ error: (error as Error).message }));
  return Response.json({ ...summary, cpuClock: cpuClock ? "measured" : "per-item estimate", webhooks });
});
