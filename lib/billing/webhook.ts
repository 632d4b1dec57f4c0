// Stripe's webhook: verify the signature over the raw body, record the event id once, re-read the
// subscription it is about from Stripe (so events arriving late or out of order cannot roll anything
// back), and mirror it — all in one transaction, so a failure leaves nothing half done and Stripe's
// retry applies it whole.
import type Stripe from "stripe";
import { PacerError } from "@/lib/api/errors";
import { errorResponse } from "@/lib/api/handler";
import { asWorker, db } from "@/lib/db";
import { billingMode, notConfigured, stripeClient, webCrypto, webhookSecret, webhooks } from "./stripe";
import { expireGracePeriods, mirrorSubscription, type MirroredSubscription } from "./subscriptions";

export const HANDLED_EVENTS = [
  "checkout.session.completed",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "invoice.paid",
  "invoice.payment_failed",
] as const;

export interface WebhookOutcome {
  received: true;
  /** Set when this event id was processed before: nothing changed. */
  duplicate?: true;
  /** Set for event types Pacer does not act on. */
  ignored?: string;
  subscription?: MirroredSubscription | null;
}

const idOf = (value: string | { id: string } | null | undefined) => (typeof value === "string" ? value : value?.id ?? null);

/** The subscription an event is about, if any. */
export function subscriptionIdOf(event: Stripe.Event): string | null {
  switch (event.type) {
    case "checkout.session.completed":
      return event.data.object.mode === "subscription" ? idOf(event.data.object.subscription) : null;
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.deleted":
      return event.data.object.id;
    case "invoice.paid":
    case "invoice.payment_failed": {
      const invoice = event.data.object;
      // API versions before 2025-03-31 put it on the invoice itself.
      const legacy = (invoice as unknown as { subscription?: string | { id: string } }).subscription;
      return idOf(invoice.parent?.subscription_details?.subscription) ?? idOf(legacy);
    }
    default:
      return null;
  }
}

/**
 * The subscription as it is now. With Stripe: retrieved from the API. In local mode there is no API
 * to ask: the simulation's own signed event carries the subscription, and is trusted only there.
 */
async function currentSubscription(id: string, event: Stripe.Event): Promise<Stripe.Subscription | null> {
  const carried = event.data.object as { object?: string; id?: string };
  const fromEvent = carried.object === "subscription" && carried.id === id ? (event.data.object as Stripe.Subscription) : null;
  const mode = billingMode();
  if (mode === "local") return fromEvent;
  if (mode === "off") throw notConfigured("Stripe events cannot be applied without STRIPE_SECRET_KEY to re-read them.");
  try {
    return await stripeClient().subscriptions.retrieve(id);
  } catch (error) {
    // Gone from Stripe (deleted test data): the deletion event's own copy is the last word.
    if ((error as { code?: string }).code === "resource_missing") return fromEvent;
    throw error;
  }
}

/** POST /api/billing/webhook. 400 for a missing or wrong signature (nothing changes); 200 once applied. */
export async function receiveStripeEvent(request: Request): Promise<Response> {
  let event: Stripe.Event;
  try {
    const secret = webhookSecret();
    const signature = request.headers.get("stripe-signature");
    if (!signature) {
      throw new PacerError(400, "missing_signature", "A Stripe-Signature header is required: only Stripe may send billing events.");
    }
    const body = await request.text();
    try {
      event = await webhooks.constructEventAsync(body, signature, secret, undefined, webCrypto);
    } catch {
      throw new PacerError(
        400,
        "invalid_signature",
        "The Stripe-Signature header does not match this body and STRIPE_WEBHOOK_SECRET, or it is too old. Nothing was changed.",
      );
    }
  } catch (error) {
    if (error instanceof PacerError) return errorResponse(error);
    throw error;
  }

  if (!(HANDLED_EVENTS as readonly string[]).includes(event.type)) {
    return Response.json({ received: true, ignored: event.type } satisfies WebhookOutcome);
  }

  let outcome: WebhookOutcome;
  try {
    outcome = await asWorker(async (tx) => {
      const [ledger] = await tx`
        select private.record_stripe_event(${event.id}, ${event.type}, ${new Date(event.created * 1000)}) as first`;
      if (!ledger.first) return { received: true, duplicate: true } as const;
      const subscriptionId = subscriptionIdOf(event);
      if (!subscriptionId) return { received: true, subscription: null } as const;
      // One event per subscription at a time: whoever waits re-reads after the other committed.
      await tx`select pg_advisory_xact_lock(hashtextextended(${`pacer:stripe-subscription:${subscriptionId}`}, 0))`;
      const subscription = await currentSubscription(subscriptionId, event);
      return { received: true, subscription: subscription && (await mirrorSubscription(tx, subscription)) } as const;
    });
  } catch (error) {
    if (error instanceof PacerError) return errorResponse(error);
    console.error(`billing webhook: ${event.type} ${event.id} failed`, error);
    return Response.json(
      { error: { code: "internal_error", message: "The event could not be applied; nothing was changed. Stripe will retry it." } },
      { status: 500 },
    );
  }

  // Grace periods that ran out since the last delivery; a failure here must not fail the event.
  await expireGracePeriods(db()).catch((error) => console.error("billing: expiring grace periods failed", error));
  return Response.json(outcome);
}
