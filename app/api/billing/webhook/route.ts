// POST: Stripe's webhook. Signed by Stripe, not by a user session: lib/billing/webhook.ts verifies it.
import { receiveStripeEvent } from "@/lib/billing/webhook";

export const POST = receiveStripeEvent;
