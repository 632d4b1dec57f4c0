// Pacer's plans as billing sees them: read from public.plans (the one source of truth for tiers) and
// named in Stripe by lookup key, `pacer_<plan>_monthly`, which is how a Stripe price maps back to a plan.
import type { Row, Sql, Tx } from "@/lib/db";

export interface Plan {
  id: string;
  name: string;
  priceCents: number;
  maxAccounts: number;
  features: Record<string, boolean>;
  sortOrder: number;
  isDefault: boolean;
}

export type BillingInterval = "monthly";

/** The Stripe price lookup key of a plan: what stripe:sync creates and checkout asks for. */
export function lookupKeyFor(planId: string, interval: BillingInterval = "monthly"): string {
  return `pacer_${planId}_${interval}`;
}

/** The Stripe product id of a plan (Stripe lets us choose it, which makes the sync idempotent). */
export function productIdFor(planId: string): string {
  return `pacer_${planId}`;
}

/** The plan a price's lookup key names, or null when the price is not one of Pacer's. */
export function planIdFromLookupKey(lookupKey: string | null | undefined): string | null {
  const match = lookupKey?.match(/^pacer_([a-z][a-z0-9_]*?)_(monthly|yearly)$/);
  return match ? match[1] : null;
}

export function toPlan(r: Row): Plan {
  return {
    id: r.id,
    name: r.name,
    priceCents: r.price_cents_monthly,
    maxAccounts: r.max_accounts,
    features: r.features_enabled,
    sortOrder: r.sort_order,
    isDefault: r.is_default,
  };
}

/** Every plan, cheapest first. Works in a user's transaction, the worker's, or a plain connection. */
export async function listPlans(sql: Sql | Tx): Promise<Plan[]> {
  const rows = await sql.unsafe(
    `select id, name, price_cents_monthly, max_accounts, features_enabled, sort_order, is_default
     from public.plans order by sort_order`,
  );
  return rows.map(toPlan);
}

/** The plans sold through Stripe: every plan but the default (which needs no subscription). */
export const paidPlans = (plans: Plan[]) => plans.filter((p) => !p.isDefault);
