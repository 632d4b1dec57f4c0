// Edge Function: one health scan run, called every 5 minutes by pg_cron + pg_net on Supabase (the
// local gateway's scheduler in dev). Thin: authorize, scan, report. Accounts are due hourly
// (private.claim_accounts_for_scan); each run takes the oldest due first, within its budget.
import postgres from "postgres";
import { scanHealth } from "../../../lib/health/scan.ts";
import { connectorFor } from "../../../lib/connectors/registry.ts";
import { credentialStore } from "../../../lib/accounts/refreshed-credentials.ts";
import { bearerMatches } from "../../../lib/auth/secrets.ts";

const env = Deno.env.toObject();
const sql = postgres(env.SUPABASE_DB_URL, { prepare: false, max: 2, onnotice: () => {} });

// Well inside the Edge Function's 150 s wall clock; leases (120 s) outlive any read in flight.
const BUDGET_MS = Number(env.PACER_SCAN_BUDGET_MS ?? 50_000);

Deno.serve(async (req) => {
  // Compared in constant time: a timing difference must not reveal how much of a guess was right.
  if (!(await bearerMatches(req.headers.get("authorization"), env.PACER_CRON_SECRET))) {
    console.warn("scan-health: refused a call without `Authorization: Bearer <PACER_CRON_SECRET>` (Vault's secret_key must equal the function secret PACER_CRON_SECRET)");
    return Response.json({ error: { code: "unauthorized", message: "Send `Authorization: Bearer <PACER_CRON_SECRET>`." } }, { status: 401 });
  }
  // Runs may overlap (pg_net does not wait for the previous call): every claim is exclusive.
  const summary = await scanHealth({
    sql,
    worker: `edge-scan-${crypto.randomUUID().slice(0, 8)}`,
    connectorFor: (platform) => connectorFor(platform, env, { storeCredentials: credentialStore(sql) }),
    budgetMs: BUDGET_MS,
    log: (line) => console.log(line),
  });
  return Response.json(summary);
});
