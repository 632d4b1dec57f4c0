// The grace sweep: past_due subscriptions whose grace period ran out with no word from Stripe lose
// their plan on time. Runs after every webhook delivery and, as housekeeping, after each scheduled
// queue run (the Edge Function and `npm run worker` pass it to processQueue). Runtime-agnostic and
// imported by relative paths, so the Edge Function (Deno) can load it.
import type postgres from "postgres";
import { asWorker } from "../db/worker.ts";

/** Moves workspaces whose grace period ended to the default plan. Returns how many changed. */
export async function expireGracePeriods(sql: postgres.Sql): Promise<number> {
  // One statement as pacer_worker, no sql.begin: a connection dropping mid-way rejects this call only (see webhook.ts).
  const [row] = await asWorker(sql, "select private.expire_billing_grace() as changed");
  return row.changed as number;
}
