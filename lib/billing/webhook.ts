// Stripe's webhook: verify the signature over the raw body, re-read the subscription the event is
// about from Stripe (so events arriving late or out of order cannot roll anything back), then record
// the event id and mirror the subscription in one SQL statement (private.apply_stripe_event): a
// failure leaves nothing half done and Stripe's retry applies it whole.
//
// No `sql.begin` here: postgres.js 3.4 crashes the whole process when a connection drops inside one
// (its own ROLLBACK is written to the closed socket: porsager/postgres#1066, #1154, #1208), and the
// old transaction stayed open across the call to Stripe. Each step is one statement, which a dropped
// connection turns into a plain rejection: this request answers 500 and Stripe delivers it again.
// Each runs as pacer_worker (asWorker), the role the billing functions are granted to.
import type Stripe from "stripe";
import { PacerError } from "@/lib/api/errors";
import { errorResponse } from "@/lib/api/handler";
import { readText } from "@/lib/api/body";
import { asWorker, boolean, db, literal, timestamp } from "@/lib/db";
import { billingMode, notConfigured, stripeClient, webCrypto, webhookSecret, webhooks } from "./stripe";
import { expireGracePeriods } from "./grace";
import { subscriptionFields, type MirroredSubscription } from "./subscriptions";

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

/** Stripe's events are a few KB; an invoice with many lines stays far below this. */
const MAX_EVENT_BYTES = 1024 * 1024;

/** Rounds of "read the version, ask Stripe, apply if unchanged" before giving up (Stripe retries). */
const APPLY_ATTEMPTS = 5;

/**
 * Apply a verified event once: record its id and mirror the subscription it is about as Stripe has it
 * now. Optimistic: the subscription's row version is read before asking Stripe, and the write happens
 * only if no other event moved the row since (else read and ask again), so a newer state is never
 * overwritten by an older read.
 */
export async function applyStripeEvent(event: Stripe.Event): Promise<WebhookOutcome> {
  const sql = db();
  const subscriptionId = subscriptionIdOf(event);
  for (let attempt = 1; attempt <= APPLY_ATTEMPTS; attempt++) {
    const [state] = await asWorker(sql, `select * from private.stripe_event_state(${literal(event.id)}, ${literal(subscriptionId)})`);
    if (state.seen) return { received: true, duplicate: true };
    const subscription = subscriptionId ? await currentSubscription(subscriptionId, event) : null;
    const f = subscription ? subscriptionFields(subscription) : null;
    const [applied] = await asWorker(
      sql,
      `select * from private.apply_stripe_event(
        ${literal(event.id)}, ${literal(event.type)}, ${timestamp(new Date(event.created * 1000))}, ${literal(subscriptionId)},
        ${literal(state.subscription_version)}, ${literal(f?.customerId ?? null)}, ${literal(f?.status ?? null)},
        ${literal(f?.planId ?? null)}, ${literal(f?.lookupKey ?? null)}, ${timestamp(f?.periodEnd ?? null)},
        ${boolean(f?.cancelAtPeriodEnd ?? false)})`,
    );
    switch (applied.outcome as "applied" | "recorded" | "duplicate" | "stale") {
      case "duplicate":
        return { received: true, duplicate: true };
      case "recorded":
        return { received: true, subscription: null };
      case "applied":
        return {
          received: true,
          subscription: {
            subscriptionId: f!.subscriptionId,
            workspaceId: applied.workspace_id,
            status: f!.status,
            planId: f!.planId,
            workspacePlanId: applied.workspace_plan_id,
          } satisfies MirroredSubscription,
        };
      case "stale":
        continue;
    }
  }
  throw new Error(`Stripe event ${event.id}: its subscription kept changing while being applied; Stripe will retry.`);
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
    const body = await readText(request, MAX_EVENT_BYTES);
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
    outcome = await applyStripeEvent(event);
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
