// Billing test helpers: Stripe-shaped subscriptions, events signed offline with
// stripe.webhooks.generateTestHeaderString, and workspaces with a Stripe customer and accounts.
import Stripe from "stripe";
import { randomUUID } from "node:crypto";
import type { Sql } from "./db";

export const WEBHOOK_SECRET = "whsec_test_pacer_billing_secret";

const unique = (prefix: string) => `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 20)}`;

/** Real Stripe mode against the fake API at `apiBase` (or no API at all). */
export function enterStripeMode(apiBase?: string) {
  process.env.STRIPE_SECRET_KEY = "sk_test_pacer_fake";
  process.env.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET;
  if (apiBase) process.env.STRIPE_API_BASE = apiBase;
  delete process.env.PACER_BILLING_MODE;
}

/** Local mode: no Stripe key; plan changes are simulated through the webhook. */
export function enterLocalMode() {
  delete process.env.STRIPE_SECRET_KEY;
  delete process.env.STRIPE_API_BASE;
  process.env.PACER_BILLING_MODE = "local";
  process.env.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET;
}

/** A subscription as Stripe's API returns it (the fields Pacer reads, and a few around them). */
export function subscriptionObject(opts: {
  id?: string;
  customer: string;
  plan: string;
  status?: Stripe.Subscription.Status;
  cancelAtPeriodEnd?: boolean;
  periodEnd?: number;
  lookupKey?: string | null;
}) {
  const id = opts.id ?? unique("sub");
  return {
    id,
    object: "subscription",
    customer: opts.customer,
    status: opts.status ?? "active",
    cancel_at_period_end: opts.cancelAtPeriodEnd ?? false,
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    metadata: {},
    items: {
      object: "list",
      has_more: false,
      data: [
        {
          id: unique("si"),
          object: "subscription_item",
          subscription: id,
          quantity: 1,
          current_period_end: opts.periodEnd ?? Math.floor(Date.now() / 1000) + 30 * 86400,
          price: {
            id: unique("price"),
            object: "price",
            lookup_key: opts.lookupKey === undefined ? `pacer_${opts.plan}_monthly` : opts.lookupKey,
            unit_amount: 19999,
            currency: "usd",
            recurring: { interval: "month", interval_count: 1 },
          },
        },
      ],
    },
  };
}

/** An event of `type` about `object`, with the body and Stripe-Signature header Stripe would send. */
export function signedEvent(
  type: string,
  object: unknown,
  opts: { id?: string; secret?: string; created?: number; /** When it was signed, in Unix seconds (now by default). */ timestamp?: number } = {},
) {
  const event = {
    id: opts.id ?? unique("evt"),
    object: "event",
    type,
    api_version: "2026-10-28.endive",
    created: opts.created ?? Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object },
  };
  const payload = JSON.stringify(event);
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: opts.secret ?? WEBHOOK_SECRET, timestamp: opts.timestamp });
  return { event, payload, signature };
}

/** The POST Stripe makes to the webhook. */
export function webhookRequest(payload: string, signature?: string | null) {
  const headers = new Headers({ "content-type": "application/json" });
  if (signature) headers.set("stripe-signature", signature);
  return new Request("http://127.0.0.1:3000/api/billing/webhook", { method: "POST", headers, body: payload });
}

/** Gives the workspace a Stripe customer (what its first checkout would have done). */
export async function giveCustomer(sql: Sql, workspaceId: string, customerId = unique("cus")) {
  await sql`insert into private.billing_customers (workspace_id, stripe_customer_id) values (${workspaceId}, ${customerId})`;
  return customerId;
}

/** `n` accounts added one after another (distinct created_at), oldest first; returns their ids. */
export async function addAccountsInOrder(sql: Sql, workspaceId: string, n: number, prefix = "acct") {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const [row] = await sql`
      insert into public.social_accounts (workspace_id, platform, handle, display_name, created_at)
      values (${workspaceId}, 'sandbox', ${`${prefix}_${i}_${randomUUID().slice(0, 6)}`}, ${`${prefix} ${i}`},
              now() - make_interval(secs => ${n - i}))
      returning id`;
    ids.push(row.id);
  }
  return ids;
}

export async function workspacePlan(sql: Sql, workspaceId: string) {
  const [row] = await sql`select plan_id, max_accounts from public.workspace_usage where workspace_id = ${workspaceId}`;
  return row as { plan_id: string; max_accounts: number };
}

export async function accountStates(sql: Sql, ids: string[]) {
  const rows = await sql`select id, state, paused_reason, last_error from public.social_accounts where id = any(${ids})`;
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id)!);
}

/** Deliver a signed event to the real webhook route handler, as Stripe would. */
export async function deliverEvent(type: string, object: unknown, opts: { id?: string; secret?: string } = {}) {
  const { POST } = await import("@/app/api/billing/webhook/route");
  const { payload, signature, event } = signedEvent(type, object, opts);
  const response = await POST(webhookRequest(payload, signature));
  return { response, body: await response.json(), event };
}

/** Puts a workspace on a paid plan as an active Stripe subscription would (mirrored, then the plan synced). */
export async function subscribe(sql: Sql, workspaceId: string, plan: string) {
  const customer = await giveCustomer(sql, workspaceId);
  const sub = subscriptionObject({ customer, plan });
  await sql`select private.apply_subscription(${sub.id}, ${workspaceId}, ${customer}, 'active', ${plan},
                                              ${`pacer_${plan}_monthly`}, now() + interval '30 days', false)`;
}
