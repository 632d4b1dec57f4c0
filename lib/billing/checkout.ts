// Changing a workspace's plan and opening Stripe's customer portal — for the workspace's owners and
// admins only. A first paid plan goes through Stripe Checkout; a change to a running subscription
// (another plan, or cancelling back to the default) goes through the portal, where Stripe shows the
// proration and takes the confirmation. In local mode the change is simulated (lib/billing/local.ts).
import type Stripe from "stripe";
import { z } from "zod";
import { PacerError, validationFailed } from "@/lib/api/errors";
import { asUser, type UserClaims } from "@/lib/db";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { requireBillingManager } from "./access";
import { billingCustomerOf, createStripeCustomer, ensureBillingCustomer } from "./customers";
import { simulatePlanChange } from "./local";
import { listPlans, lookupKeyFor, type Plan } from "./plans";
import { billingMode, notConfigured, stripeClient } from "./stripe";
import { RUNNING_STATUSES, type MirroredSubscription } from "./subscriptions";

const workspaceId = z.uuid("workspaceId must be a workspace id (a UUID).").optional();

export const planChoice = z.object({
  planId: z.string({ error: "Choose a plan." }).trim().min(1, "Choose a plan."),
  workspaceId,
});

export const portalRequest = z.object({ workspaceId }).optional();

export type PlanChange =
  | { mode: "stripe"; via: "checkout" | "portal"; url: string }
  | { mode: "local"; subscription: MirroredSubscription };

/** Where Stripe sends the subscriber back to: this deployment's origin. */
export interface ReturnTo {
  origin: string;
}

/**
 * A Stripe failure as an error someone can act on, never a bare 500: a refused key is the operator's
 * to fix (trying again cannot help); anything else Stripe answered is worth another try.
 */
function stripeFailed(what: string) {
  return (error: unknown): never => {
    if (error instanceof PacerError) throw error;
    const e = error as { type?: string; message?: string };
    if (e?.type === "StripeAuthenticationError" || e?.type === "StripePermissionError") {
      // Stripe's message names part of the key: for the operator's log, not for the subscriber.
      console.error(`billing: Stripe refused STRIPE_SECRET_KEY: ${e.message}`);
      throw notConfigured(`Stripe refused this server's STRIPE_SECRET_KEY, so it could not ${what}; nothing was changed.`);
    }
    if (typeof e?.type === "string" && e.type.startsWith("Stripe")) {
      throw new PacerError(502, "stripe_unavailable", `Stripe could not ${what}: ${e.message} Nothing was changed; try again in a moment.`);
    }
    throw error;
  };
}

async function priceFor(stripe: Stripe, plan: Plan): Promise<Stripe.Price> {
  const key = lookupKeyFor(plan.id);
  const { data } = await stripe.prices.list({ lookup_keys: [key], active: true, limit: 1 });
  if (!data[0]) {
    throw new PacerError(
      503,
      "price_missing",
      `Stripe has no active price with lookup key ${key}. Run \`npm run stripe:sync\` against this Stripe account.`,
    );
  }
  return data[0];
}

export async function changePlan(user: UserClaims, input: unknown, returnTo: ReturnTo): Promise<PlanChange> {
  const parsed = planChoice.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The plan choice");

  const target = await asUser(user, async (tx) => {
    const id = await resolveWorkspaceId(tx, parsed.data.workspaceId);
    await requireBillingManager(tx, id);
    const [workspace] = await tx`select name from public.workspaces where id = ${id}`;
    const [running] = await tx`
      select id, plan_id from public.subscriptions
      where workspace_id = ${id} and status = any(${RUNNING_STATUSES})
      order by updated_at desc limit 1`;
    return { workspaceId: id, name: workspace.name as string, plans: await listPlans(tx), running };
  });
  const plan = target.plans.find((p) => p.id === parsed.data.planId);
  if (!plan) {
    throw new PacerError(400, "validation_failed", `There is no plan called "${parsed.data.planId}".`, [
      { path: "planId", message: `Unknown plan "${parsed.data.planId}".` },
    ]);
  }
  const running = target.running ? { id: target.running.id as string, planId: target.running.plan_id as string | null } : null;
  if (plan.isDefault ? !running : running?.planId === plan.id) {
    throw new PacerError(409, "already_on_plan", `This workspace is already on the ${plan.name} plan.`);
  }

  const mode = billingMode();
  if (mode === "off") throw notConfigured("Plans cannot be changed: billing is not set up on this server.");
  if (mode === "local") {
    const runningPlan = running && (target.plans.find((p) => p.id === running.planId) ?? plan);
    const subscription = await simulatePlanChange({
      workspaceId: target.workspaceId,
      plan,
      current: running && runningPlan ? { id: running.id, plan: runningPlan } : null,
    });
    return { mode: "local", subscription };
  }

  const stripe = stripeClient();
  const billingPage = `${returnTo.origin}/dashboard/billing`;
  const customer = await ensureBillingCustomer(
    target.workspaceId,
    createStripeCustomer({ id: target.workspaceId, name: target.name }, user.email),
  ).catch(stripeFailed("create the workspace's billing account"));

  if (running) {
    const session = await (async () => {
      const afterCompletion = { type: "redirect" as const, redirect: { return_url: `${billingPage}?portal=done` } };
      if (plan.isDefault) {
        return stripe.billingPortal.sessions.create({
          customer,
          return_url: billingPage,
          flow_data: { type: "subscription_cancel", subscription_cancel: { subscription: running.id }, after_completion: afterCompletion },
        });
      }
      const [price, subscription] = await Promise.all([priceFor(stripe, plan), stripe.subscriptions.retrieve(running.id)]);
      return stripe.billingPortal.sessions.create({
        customer,
        return_url: billingPage,
        flow_data: {
          type: "subscription_update_confirm",
          subscription_update_confirm: {
            subscription: running.id,
            items: [{ id: subscription.items.data[0].id, price: price.id, quantity: 1 }],
          },
          after_completion: afterCompletion,
        },
      });
    })().catch(stripeFailed("open the plan change"));
    return { mode: "stripe", via: "portal", url: session.url };
  }

  const session = await (async () => {
    const price = await priceFor(stripe, plan);
    return stripe.checkout.sessions.create({
      mode: "subscription",
      customer,
      client_reference_id: target.workspaceId,
      line_items: [{ price: price.id, quantity: 1 }],
      success_url: `${billingPage}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${billingPage}?checkout=canceled`,
      metadata: { workspace_id: target.workspaceId, plan_id: plan.id },
      subscription_data: { metadata: { workspace_id: target.workspaceId, plan_id: plan.id } },
    });
  })().catch(stripeFailed("start the checkout"));
  if (!session.url) throw new PacerError(502, "stripe_unavailable", "Stripe returned a checkout without a page to open.");
  return { mode: "stripe", via: "checkout", url: session.url };
}

/** A portal session for payment methods, invoices, plan changes and cancellation. */
export async function openPortal(user: UserClaims, input: unknown, returnTo: ReturnTo): Promise<{ url: string }> {
  const parsed = portalRequest.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The request");
  const id = await asUser(user, async (tx) => {
    const resolved = await resolveWorkspaceId(tx, parsed.data?.workspaceId);
    await requireBillingManager(tx, resolved);
    return resolved;
  });
  const mode = billingMode();
  if (mode === "local") {
    throw new PacerError(409, "portal_unavailable", "Local mode has no billing portal: change the plan on the billing page (no payment is taken).");
  }
  if (mode === "off") throw notConfigured("The billing portal is not available: billing is not set up on this server.");
  const customer = await billingCustomerOf(id);
  if (!customer) {
    throw new PacerError(409, "no_billing_account", "This workspace has no billing account yet: choose a paid plan first.");
  }
  const session = await stripeClient()
    .billingPortal.sessions.create({ customer, return_url: `${returnTo.origin}/dashboard/billing` })
    .catch(stripeFailed("open the billing portal"));
  return { url: session.url };
}
