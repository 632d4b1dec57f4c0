// `npm run stripe:sync`: creates or updates Pacer's products and prices in the Stripe account of
// STRIPE_SECRET_KEY from public.plans in SUPABASE_DB_URL — the plans table stays the one source of
// truth, and running it again changes nothing unless a plan did.
import postgres from "postgres";
import { listPlans } from "../lib/billing/plans.ts";
import { syncStripeCatalog } from "../lib/billing/sync.ts";
import { stripeClient } from "../lib/billing/stripe.ts";

async function main() {
  const dbUrl = process.env.SUPABASE_DB_URL;
  if (!process.env.STRIPE_SECRET_KEY) {
    throw new Error("Set STRIPE_SECRET_KEY to the Stripe account's secret key (sk_test_… first, then sk_live_…).");
  }
  if (!dbUrl) {
    throw new Error("Set SUPABASE_DB_URL to the database whose public.plans to sell (`npm run dev` prints the local one).");
  }
  const sql = postgres(dbUrl, { prepare: false, max: 1, onnotice: () => {} });
  try {
    const plans = await listPlans(sql);
    const live = process.env.STRIPE_SECRET_KEY.startsWith("sk_live_") || process.env.STRIPE_SECRET_KEY.startsWith("rk_live_");
    console.log(`Syncing ${plans.filter((p) => !p.isDefault).length} plans to Stripe (${live ? "LIVE mode" : "test mode"})…`);
    const changes = await syncStripeCatalog(stripeClient(), plans);
    console.table(
      changes.map((c) => ({ plan: c.planId, product: `${c.productId} (${c.product})`, price: `${c.priceId} (${c.price})`, lookup_key: c.lookupKey })),
    );
    const changed = changes.filter((c) => c.product !== "unchanged" || c.price !== "unchanged").length;
    console.log(changed ? `${changed} plan(s) created or updated.` : "Stripe already matches public.plans: nothing changed.");
  } finally {
    await sql.end();
  }
}

main().catch((error) => {
  console.error(`stripe:sync failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
