// Edge Function: one reconciliation run, called hourly by pg_cron + pg_net on Supabase (the local
// gateway's scheduler in dev). Thin: authorize, reconcile, report what changed.
// "postgres" is mapped to an exact npm version by ./deno.json, which the CLI uploads as the import map.
import postgres from "postgres";
import { reconcileAccounts } from "../../../lib/reconcile/run.ts";
import { connectorFor } from "../../../lib/connectors/registry.ts";
import { credentialStore } from "../../../lib/accounts/refreshed-credentials.ts";
import { bearerMatches } from "../../../lib/auth/secrets.ts";

const env = Deno.env.toObject();
const sql = postgres(env.SUPABASE_DB_URL, { prepare: false, max: 4, onnotice: () => {} });

// Well inside the Edge Function's 150 s wall clock; accounts not reached are the next run's first.
const BUDGET_MS = Number(env.PACER_RECONCILE_BUDGET_MS ?? 50_000);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

Deno.serve(async (req) => {
  // Compared in constant time: a timing difference must not reveal how much of a guess was right.
  if (!(await bearerMatches(req.headers.get("authorization"), env.PACER_CRON_SECRET))) {
    console.warn("reconcile: refused a call without `Authorization: Bearer <PACER_CRON_SECRET>` (Vault's secret_key must equal the function secret PACER_CRON_SECRET)");
    return Response.json({ error: { code: "unauthorized", message: "Send `Authorization: Bearer <PACER_CRON_SECRET>`." } }, { status: 401 });
  }
  // The cron sends `{}`: every workspace. A caller holding the secret may name one workspace.
  const body = (await req.json().catch(() => ({}))) as { workspaceId?: unknown };
  const workspaceId = typeof body?.workspaceId === "string" && UUID.test(body.workspaceId) ? body.workspaceId : undefined;
  // Runs may overlap (pg_net does not wait for the previous call): accounts are leased.
  const report = await reconcileAccounts({
    sql,
    workspaceId,
    connectorFor: (platform) => connectorFor(platform, env, { storeCredentials: credentialStore(sql) }),
    budgetMs: BUDGET_MS,
    log: (line) => console.log(line),
  });
  return Response.json(report);
});
