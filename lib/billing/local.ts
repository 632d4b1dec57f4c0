// Local mode: billing on a laptop with no Stripe account. Choosing a plan builds the subscription
// Stripe would have made, wraps it in the event Stripe would send, signs it with
// STRIPE_WEBHOOK_SECRET exactly as Stripe does, and hands it to the webhook route's handler — so the
// signature check, the event ledger, the mirror and the plan's effects all run. No payment is taken.
import type Stripe from "stripe";
import { z } from "zod";
import { PacerError, validationFailed } from "@/lib/api/errors";
import { asUser, type UserClaims } from "@/lib/db";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { requireBillingManager } from "./access";
import { ensureBillingCustomer } from "./customers";
import { listPlans, lookupKeyFor, type Plan } from "./plans";
import { billingMode, webhookSecret, webhooks } from "./stripe";
import { RUNNING_STATUSES, type MirroredSubscription } from "./subscriptions";
import { receiveStripeEvent, type WebhookOutcome } from "./webhook";

const DAY = 24 * 60 * 60;

const localId = (prefix: string) => `${prefix}_local_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;

/** A subscription shaped as Stripe returns it, with the fields Pacer reads. */
export function localSubscription(opts: {
  id: string;
  customer: string;
  plan: Plan;
  status: Stripe.Subscription.Status;
  workspaceId: string;
}): Stripe.Subscription {
  const now = Math.floor(Date.now() / 1000);
  return {
    id: opts.id,
    object: "subscription",
    customer: opts.customer,
    status: opts.status,
    cancel_at_period_end: false,
    created: now,
    livemode: false,
    metadata: { workspace_id: opts.workspaceId, plan_id: opts.plan.id },
    items: {
      object: "list",
      has_more: false,
      url: `/v1/subscription_items?subscription=${opts.id}`,
      data: [
        {
          id: localId("si"),
          object: "subscription_item",
          subscription: opts.id,
          quantity: 1,
          current_period_start: now,
          current_period_end: now + 30 * DAY,
          price: {
            id: `price_local_${opts.plan.id}_monthly`,
            object: "price",
            active: true,
            currency: "usd",
            unit_amount: opts.plan.priceCents,
            lookup_key: lookupKeyFor(opts.plan.id),
            product: `pacer_${opts.plan.id}`,
            recurring: { interval: "month", interval_count: 1 },
            type: "recurring",
          },
        },
      ],
    },
  } as unknown as Stripe.Subscription;
}

/** The signed webhook request Stripe would send for `subscription`. */
export function signedEventRequest(type: string, subscription: Stripe.Subscription): Request {
  const event = {
    id: localId("evt"),
    object: "event",
    type,
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object: subscription },
  };
  const payload = JSON.stringify(event);
  const signature = webhooks.generateTestHeaderString({ payload, secret: webhookSecret() });
  return new Request("http://pacer.local/api/billing/webhook", {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": signature },
    body: payload,
  });
}

/**
 * Moves the workspace to `plan` the way Stripe would tell Pacer: a new subscription (created), a
 * changed price (updated), or back to the default plan (deleted). Returns what the webhook applied.
 */
export async function simulatePlanChange(opts: {
  workspaceId: string;
  plan: Plan;
  /** The workspace's subscription in force, if any. */
  current: { id: string; plan: Plan } | null;
}): Promise<MirroredSubscription> {
  const { workspaceId, plan, current } = opts;
  const customer = await ensureBillingCustomer(workspaceId, async () => `cus_local_${workspaceId.replaceAll("-", "")}`);

  let request: Request;
  if (plan.isDefault) {
    if (!current) throw new PacerError(409, "already_on_plan", `This workspace is already on the ${plan.name} plan.`);
    request = signedEventRequest(
      "customer.subscription.deleted",
      localSubscription({ id: current.id, customer, plan: current.plan, status: "canceled", workspaceId }),
    );
  } else if (current) {
    request = signedEventRequest(
      "customer.subscription.updated",
      localSubscription({ id: current.id, customer, plan, status: "active", workspaceId }),
    );
  } else {
    request = signedEventRequest(
      "customer.subscription.created",
      localSubscription({ id: localId("sub"), customer, plan, status: "active", workspaceId }),
    );
  }

  return deliver(request);
}

/** Through the webhook route's handler, exactly as Stripe's delivery would arrive. */
async function deliver(request: Request): Promise<MirroredSubscription> {
  const response = await receiveStripeEvent(request);
  const body = (await response.json()) as WebhookOutcome & { error?: { code: string; message: string } };
  if (!response.ok || !body.subscription) {
    throw new PacerError(
      response.ok ? 500 : response.status,
      body.error?.code ?? "local_billing_failed",
      body.error?.message ?? "The simulated Stripe event was not applied.",
    );
  }
  return body.subscription;
}

export const paymentSimulation = z.object({
  outcome: z.enum(["failed", "paid"], { error: 'Choose "failed" or "paid".' }),
  workspaceId: z.uuid("workspaceId must be a workspace id (a UUID).").optional(),
});

/**
 * Local mode only: what Stripe reports when a renewal payment fails (the subscription turns
 * past_due) or is paid after all (active again), so the failed-payment path can be tried on a laptop.
 */
export async function simulatePaymentOutcome(user: UserClaims, input: unknown): Promise<MirroredSubscription> {
  const parsed = paymentSimulation.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The simulation");
  const target = await asUser(user, async (tx) => {
    const id = await resolveWorkspaceId(tx, parsed.data.workspaceId);
    await requireBillingManager(tx, id);
    const [running] = await tx`
      select id, plan_id from public.subscriptions
      where workspace_id = ${id} and status = any(${RUNNING_STATUSES})
      order by updated_at desc limit 1`;
    return { workspaceId: id, running, plans: await listPlans(tx) };
  });
  if (billingMode() !== "local") {
    throw new PacerError(409, "not_local_mode", "Payments are simulated in local mode only; with Stripe, use its test cards.");
  }
  const plan = target.running && target.plans.find((p) => p.id === target.running.plan_id);
  if (!target.running || !plan) {
    throw new PacerError(409, "no_subscription", "This workspace has no paid subscription whose payment could fail.");
  }
  const customer = await ensureBillingCustomer(target.workspaceId, async () => `cus_local_${target.workspaceId.replaceAll("-", "")}`);
  const status = parsed.data.outcome === "failed" ? "past_due" : "active";
  return deliver(
    signedEventRequest(
      "customer.subscription.updated",
      localSubscription({ id: target.running.id, customer, plan, status, workspaceId: target.workspaceId }),
    ),
  );
}
