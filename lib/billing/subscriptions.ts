// Mirroring a Stripe subscription into Pacer: the subscription as Stripe has it now becomes a row in
// public.subscriptions, and the workspace's plan (and the accounts it covers) follow — in SQL,
// through private.apply_subscription, the only writer.
import type Stripe from "stripe";
import type { Sql, Tx } from "@/lib/db";
import { planIdFromLookupKey } from "./plans";

/** Statuses of a subscription that is still running: a plan change modifies it rather than starting another. */
export const RUNNING_STATUSES = ["active", "trialing", "past_due", "unpaid"];

export interface MirroredSubscription {
  subscriptionId: string;
  workspaceId: string;
  status: string;
  planId: string | null;
  /** The workspace's plan after the change. */
  workspacePlanId: string;
}

const idOf = (value: string | { id: string } | null | undefined) => (typeof value === "string" ? value : value?.id ?? null);

/** The item that carries a Pacer plan (a Pacer subscription has exactly one). */
function pacerItem(subscription: Stripe.Subscription) {
  const items = subscription.items?.data ?? [];
  return items.find((i) => planIdFromLookupKey(i.price?.lookup_key)) ?? items[0];
}

/** The workspace whose Stripe customer this is, or null when the customer is not one Pacer created. */
export async function workspaceOfCustomer(tx: Tx, customerId: string): Promise<string | null> {
  const [row] = await tx`select private.workspace_of_billing_customer(${customerId}) as id`;
  return row.id;
}

/**
 * Write the subscription's current state for its workspace (run as pacer_worker). Returns null when
 * its customer belongs to no workspace (e.g. made by hand in the Stripe dashboard, or the workspace
 * was deleted): there is nothing in Pacer to change.
 */
export async function mirrorSubscription(tx: Tx, subscription: Stripe.Subscription): Promise<MirroredSubscription | null> {
  const customerId = idOf(subscription.customer);
  if (!customerId) return null;
  const workspaceId = await workspaceOfCustomer(tx, customerId);
  if (!workspaceId) return null;

  const item = pacerItem(subscription);
  const lookupKey = item?.price?.lookup_key ?? null;
  const planId = planIdFromLookupKey(lookupKey);
  const periodEnd = item?.current_period_end ? new Date(item.current_period_end * 1000) : null;

  const [row] = await tx`
    select private.apply_subscription(
      ${subscription.id}, ${workspaceId}, ${customerId}, ${subscription.status}, ${planId}, ${lookupKey},
      ${periodEnd}, ${subscription.cancel_at_period_end ?? false}) as plan_id`;
  return { subscriptionId: subscription.id, workspaceId, status: subscription.status, planId, workspacePlanId: row.plan_id };
}

/**
 * Ends past_due grace periods that ran out with no word from Stripe, moving those workspaces to the
 * default plan. Runs on every webhook delivery; schedule it too (the queue worker's tidy-up is a fit)
 * so the change lands on time even when Stripe sends nothing more. Returns the workspaces changed.
 */
export async function expireGracePeriods(sql: Sql): Promise<number> {
  return sql.begin(async (tx) => {
    await tx`select set_config('role', 'pacer_worker', true)`;
    const [row] = await tx`select private.expire_billing_grace() as changed`;
    return row.changed as number;
  }) as Promise<number>;
}
