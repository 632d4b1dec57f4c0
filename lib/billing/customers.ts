// One Stripe customer per workspace, created once: the first checkout makes it, every later one
// (and the portal) reuses it. Stripe is called outside any transaction (no connection held across
// it); its idempotency key, derived from the workspace, makes two clicks at once get one customer,
// and the record keeps the first customer written for a workspace, whoever writes second.
import { asWorker, db, literal } from "@/lib/db";
import { stripeClient } from "./stripe";

/** The workspace's Stripe customer id, or null before its first checkout. */
export async function billingCustomerOf(workspaceId: string): Promise<string | null> {
  const [row] = await asWorker(db(), `select private.billing_customer_of(${literal(workspaceId)}::uuid) as id`);
  return row.id as string | null;
}

/** The workspace's customer id, made with `create` (and recorded) if it has none yet. */
export async function ensureBillingCustomer(workspaceId: string, create: () => Promise<string>): Promise<string> {
  const existing = await billingCustomerOf(workspaceId);
  if (existing) return existing;
  // Insert-if-absent and re-read in one statement: a concurrent first checkout that recorded its
  // customer before this one wins, and both callers get that customer.
  const [saved] = await asWorker(
    db(),
    `select private.record_billing_customer(${literal(workspaceId)}::uuid, ${literal(await create())}) as id`,
  );
  return saved.id as string;
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
