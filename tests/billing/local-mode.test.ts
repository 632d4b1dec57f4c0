// Local mode: with no Stripe key, choosing a plan simulates the subscription and sends a correctly
// signed event through the real webhook handler — ledger, mirror and account effects all run.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as billingRoute from "@/app/api/billing/route";
import * as checkoutRoute from "@/app/api/billing/checkout/route";
import * as portalRoute from "@/app/api/billing/portal/route";
import * as webhookRoute from "@/app/api/billing/webhook/route";
import { connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";
import { simulatePaymentOutcome } from "@/lib/billing/local";
import { addAccountsInOrder, signedEvent, subscriptionObject, enterLocalMode, enterStripeMode, webhookRequest, workspacePlan } from "../support/billing";

let sql: Sql;
beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());
beforeEach(() => enterLocalMode());

async function post(handler: (req: Request, ctx: any) => Promise<Response>, user: TestUser, body: unknown) {
  const response = await handler(
    new Request("http://127.0.0.1:3000/api/billing/x", {
      method: "POST",
      headers: { authorization: `Bearer ${user.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    {},
  );
  return { status: response.status, body: await response.json() };
}

async function overview(user: TestUser) {
  const response = await billingRoute.GET(
    new Request("http://127.0.0.1:3000/api/billing", { headers: { authorization: `Bearer ${user.accessToken}` } }),
    {},
  );
  return response.json();
}

describe("local mode", () => {
  it("goes from the default plan to Pro and back through signed webhook events, pausing and resuming accounts", async () => {
    const owner = await signUp("local");
    const [{ last }] = await sql`select coalesce(max(processed_at)::text, '-infinity') as last from private.stripe_events`;
    const [{ workspace_id: workspaceId }] = await sql`select workspace_id from public.workspace_members where user_id = ${owner.id}`;

    const toPro = await post(checkoutRoute.POST, owner, { planId: "pro" });
    expect(toPro.status).toBe(200);
    expect(toPro.body).toMatchObject({ mode: "local", subscription: { workspaceId, status: "active", planId: "pro", workspacePlanId: "pro" } });
    expect(await workspacePlan(sql, workspaceId)).toEqual({ plan_id: "pro", max_accounts: 150 });
    const subscriptionId = toPro.body.subscription.subscriptionId;
    expect(subscriptionId).toMatch(/^sub_local_/);
    const [{ stripe_customer_id: customer }] = await sql`select stripe_customer_id from private.billing_customers where workspace_id = ${workspaceId}`;
    expect(customer).toMatch(/^cus_local_/);

    const ids = await addAccountsInOrder(sql, workspaceId, 13);
    const back = await post(checkoutRoute.POST, owner, { planId: "free" });
    expect(back.body).toMatchObject({ mode: "local", subscription: { subscriptionId, status: "canceled", workspacePlanId: "free" } });
    const afterDowngrade = await overview(owner);
    expect(afterDowngrade.plan).toMatchObject({ id: "free", maxAccounts: 10 });
    expect(afterDowngrade.pausedAccounts.map((a: { id: string }) => a.id)).toEqual(ids.slice(10));
    expect(afterDowngrade.pausedAccounts[0].reason).toBe(
      "Paused: the Free plan allows 10 accounts; upgrade or remove accounts to resume it.",
    );

    const again = await post(checkoutRoute.POST, owner, { planId: "pro" });
    expect(again.body.subscription.subscriptionId).not.toBe(subscriptionId);
    expect((await overview(owner)).pausedAccounts).toEqual([]);

    // Three signed events went through the webhook's ledger, one per choice.
    const events = await sql`
      select type from private.stripe_events where id like 'evt_local_%' and processed_at > ${last}::text::timestamptz order by processed_at`;
    expect(events.map((e) => e.type)).toEqual([
      "customer.subscription.created",
      "customer.subscription.deleted",
      "customer.subscription.created",
    ]);
    const [sub] = await sql`select status from public.subscriptions where id = ${subscriptionId}`;
    expect(sub.status).toBe("canceled");
  });

  it("changes a running local subscription's plan with an 'updated' event", async () => {
    const owner = await signUp("local-up");
    const first = await post(checkoutRoute.POST, owner, { planId: "starter" });
    const second = await post(checkoutRoute.POST, owner, { planId: "enterprise" });
    expect(second.body.subscription).toMatchObject({ subscriptionId: first.body.subscription.subscriptionId, planId: "enterprise" });
    expect((await overview(owner)).plan.id).toBe("enterprise");
  });

  it("simulates a failed renewal payment (the plan holds through the grace period) and a late successful one", async () => {
    const owner = await signUp("local-pay");
    const claims = { sub: owner.id, role: "authenticated" };
    await post(checkoutRoute.POST, owner, { planId: "growth" });

    const failed = await simulatePaymentOutcome(claims, { outcome: "failed" });
    expect(failed).toMatchObject({ status: "past_due", workspacePlanId: "growth" });
    const failing = await overview(owner);
    expect(failing).toMatchObject({ paymentFailed: true, plan: { id: "growth" }, subscription: { status: "past_due" } });
    const graceDays = (Date.parse(failing.subscription.graceEndsAt) - Date.now()) / 86_400_000;
    expect(graceDays).toBeGreaterThan(6.9);
    expect(graceDays).toBeLessThanOrEqual(7);

    expect(await simulatePaymentOutcome(claims, { outcome: "paid" })).toMatchObject({ status: "active", workspacePlanId: "growth" });
    expect(await overview(owner)).toMatchObject({ paymentFailed: false, subscription: { status: "active", graceEndsAt: null } });

    enterStripeMode();
    await expect(simulatePaymentOutcome(claims, { outcome: "failed" })).rejects.toMatchObject({ status: 409, code: "not_local_mode" });
  });

  it("has no portal, says so, and labels itself local", async () => {
    const owner = await signUp("local-portal");
    const portal = await post(portalRoute.POST, owner, {});
    expect(portal.status).toBe(409);
    expect(portal.body.error.code).toBe("portal_unavailable");
    expect((await overview(owner)).mode).toBe("local");
  });

  it("still refuses a forged event: only the server's secret signs what the webhook accepts", async () => {
    const owner = await signUp("local-forge");
    const [{ workspace_id: workspaceId }] = await sql`select workspace_id from public.workspace_members where user_id = ${owner.id}`;
    await post(checkoutRoute.POST, owner, { planId: "starter" });
    const [{ stripe_customer_id: customer }] = await sql`select stripe_customer_id from private.billing_customers where workspace_id = ${workspaceId}`;
    const forged = signedEvent("customer.subscription.created", subscriptionObject({ customer, plan: "ultra" }), { secret: "whsec_guessed" });
    const response = await webhookRoute.POST(webhookRequest(forged.payload, forged.signature));
    expect(response.status).toBe(400);
    expect((await workspacePlan(sql, workspaceId)).plan_id).toBe("starter");
  });
});

describe("with billing off", () => {
  it("refuses plan changes and events with a message saying how to set billing up", async () => {
    delete process.env.PACER_BILLING_MODE;
    const owner = await signUp("off");
    const change = await post(checkoutRoute.POST, owner, { planId: "pro" });
    expect(change.status).toBe(503);
    expect(change.body.error.code).toBe("billing_not_configured");
    expect((await overview(owner)).mode).toBe("off");

    delete process.env.STRIPE_WEBHOOK_SECRET;
    const { payload, signature } = signedEvent("customer.subscription.created", subscriptionObject({ customer: "cus_x", plan: "pro" }));
    const response = await webhookRoute.POST(webhookRequest(payload, signature));
    expect(response.status).toBe(503);
    expect((await response.json()).error.message).toContain("STRIPE_WEBHOOK_SECRET is not set");
  });
});
