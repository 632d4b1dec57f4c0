// How Pacer reaches Stripe: which billing mode is on, the webhook secret, and the one Stripe client
// (pointed at STRIPE_API_BASE when set, so tests talk to a local fake of the API). Keys come only
// from the environment and are read at call time.
import Stripe from "stripe";
import { PacerError } from "@/lib/api/errors";

/**
 * - `stripe`: STRIPE_SECRET_KEY is set; checkout, portal and webhooks talk to Stripe.
 * - `local`: no secret key and PACER_BILLING_MODE=local (the local stack sets it): choosing a plan
 *   simulates the subscription and sends a signed event through the real webhook route.
 * - `off`: neither; the billing page explains how to connect Stripe. Local mode is never implied
 *   by a missing key, so a deployment that forgot its key cannot hand out plans for free.
 */
export type BillingMode = "stripe" | "local" | "off";

export function billingMode(): BillingMode {
  if (process.env.STRIPE_SECRET_KEY) return "stripe";
  if (process.env.PACER_BILLING_MODE === "local") return "local";
  return "off";
}

export const notConfigured = (what: string) =>
  new PacerError(
    503,
    "billing_not_configured",
    `${what} Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (see "Billing" in the README), or PACER_BILLING_MODE=local with a STRIPE_WEBHOOK_SECRET of your choice to simulate billing locally.`,
  );

/** The secret Stripe signs webhook events with (whsec_…); in local mode, the one the simulation signs with. */
export function webhookSecret(): string {
  const secret = process.env.STRIPE_WEBHOOK_SECRET;
  if (!secret?.trim()) throw notConfigured("STRIPE_WEBHOOK_SECRET is not set, so Stripe events cannot be verified.");
  return secret;
}

/** Web Crypto, so signature checks run the same under Node, Deno and edge runtimes. */
export const webCrypto = Stripe.createSubtleCryptoProvider();

/** Verifying and signing need no API key: Stripe's static webhook helpers. */
export const webhooks = Stripe.webhooks;

const clients = new Map<string, Stripe>();

/** The Stripe API client for STRIPE_SECRET_KEY, at STRIPE_API_BASE (e.g. http://127.0.0.1:12111) when set. */
export function stripeClient(): Stripe {
  const key = process.env.STRIPE_SECRET_KEY;
  if (!key) throw notConfigured("Stripe is not connected: STRIPE_SECRET_KEY is not set.");
  const base = process.env.STRIPE_API_BASE ?? "";
  const cacheKey = `${key}\n${base}`;
  let client = clients.get(cacheKey);
  if (!client) {
    const config: Stripe.StripeConfig = { maxNetworkRetries: 2, appInfo: { name: "Pacer" } };
    if (base) {
      const url = new URL(base);
      const protocol = url.protocol === "http:" ? "http" : "https";
      config.host = url.hostname;
      config.port = url.port || (protocol === "http" ? 80 : 443);
      config.protocol = protocol;
    }
    client = new Stripe(key, config);
    clients.set(cacheKey, client);
  }
  return client;
}
