// Mirroring a Stripe subscription into Pacer: the subscription as Stripe has it now becomes a row in
// public.subscriptions, and the workspace's plan (and the accounts it covers) follow — in SQL,
// through private.apply_subscription, the only writer (called by private.apply_stripe_event).
import type Stripe from "stripe";
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

/** A subscription as Pacer mirrors it: the fields private.apply_stripe_event takes. */
export interface SubscriptionFields {
  subscriptionId: string;
  customerId: string | null;
  status: string;
  planId: string | null;
  lookupKey: string | null;
  periodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
}

/** What Pacer keeps of a Stripe subscription; the plan comes from its Pacer item's lookup key. */
export function subscriptionFields(subscription: Stripe.Subscription): SubscriptionFields {
  const item = pacerItem(subscription);
  const lookupKey = item?.price?.lookup_key ?? null;
  return {
    subscriptionId: subscription.id,
    customerId: idOf(subscription.customer),
    status: subscription.status,
    planId: planIdFromLookupKey(lookupKey),
    lookupKey,
    periodEnd: item?.current_period_end ? new Date(item.current_period_end * 1000) : null,
    cancelAtPeriodEnd: subscription.cancel_at_period_end ?? false,
  };
}
