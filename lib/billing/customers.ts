// One Stripe customer per workspace, created once: the first checkout makes it, every later one
// (and the portal) reuses it. Creation is serialised per workspace and carries an idempotency key
// derived from the workspace, so two clicks at once still make one customer.
import { asWorker } from "@/lib/db";
import { stripeClient } from "./stripe";

/** The workspace's Stripe customer id, or null before its first checkout. */
export function billingCustomerOf(workspaceId: string): Promise<string | null> {
  return asWorker(async (tx) => {
    const [row] = await tx`select private.billing_customer_of(${workspaceId}) as id`;
    return row.id as string | null;
  });
}

/** The workspace's customer id, made with `create` (and recorded) if it has none yet. */
export function ensureBillingCustomer(workspaceId: string, create: () => Promise<string>): Promise<string> {
  return asWorker(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended(${`pacer:billing-customer:${workspaceId}`}, 0))`;
    const [existing] = await tx`select private.billing_customer_of(${workspaceId}) as id`;
    if (existing.id) return existing.id as string;
    const [saved] = await tx`select private.record_billing_customer(${workspaceId}, ${await create()}) as id`;
    return saved.id as string;
  });
}

/**
 * Creates the workspace's customer in Stripe, tagged with the workspace so either side can find the
 * other. The create sends only what never changes for a workspace, so a retry under the same
 * idempotency key (after Stripe made the customer but the answer or the record was lost) replays it
 * whoever retries and whatever the workspace is called by then — other parameters would get
 * Stripe's idempotency_error for 24 hours. Name and email follow in an update.
 */
export function createStripeCustomer(workspace: { id: string; name: string }, email?: string) {
  return async () => {
    const stripe = stripeClient();
    const customer = await stripe.customers.create(
      { metadata: { workspace_id: workspace.id } },
      { idempotencyKey: `pacer-customer-${workspace.id}` },
    );
    await stripe.customers.update(customer.id, { name: workspace.name, email });
    return customer.id;
  };
}
