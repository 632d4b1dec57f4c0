// Checkout, the portal and the billing overview through the real route handlers, against a local
// fake of Stripe's API: what Pacer sends to Stripe, one customer per workspace, who may do it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as billingRoute from "@/app/api/billing/route";
import * as checkoutRoute from "@/app/api/billing/checkout/route";
import * as portalRoute from "@/app/api/billing/portal/route";
import { listPlans } from "@/lib/billing/plans";
import { stripeClient } from "@/lib/billing/stripe";
import { syncStripeCatalog } from "@/lib/billing/sync";
import { connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";
import { startStripeFake, type StripeFake } from "../support/stripe-fake";
import { deliverEvent, subscriptionObject, enterStripeMode, workspacePlan } from "../support/billing";

const ORIGIN = "http://127.0.0.1:3000";
let sql: Sql;
let stripe: StripeFake;
let priceOf: Record<string, string>;

beforeAll(async () => {
  sql = connect();
  stripe = await startStripeFake();
  enterStripeMode(stripe.url);
  const catalog = await syncStripeCatalog(stripeClient(), await listPlans(sql));
  priceOf = Object.fromEntries(catalog.map((c) => [c.planId, c.priceId]));
});
afterAll(async () => {
  await stripe.stop();
  await sql.end();
});
beforeEach(() => enterStripeMode(stripe.url));

type Handler = (req: Request, ctx: any) => Promise<Response>;

async function call(handler: Handler, path: string, user: TestUser | null, body?: unknown) {
  const headers = new Headers();
  if (user) headers.set("authorization", `Bearer ${user.accessToken}`);
  if (body !== undefined) headers.set("content-type", "application/json");
  const request = new Request(`${ORIGIN}${path}`, {
    method: handler === billingRoute.GET ? "GET" : "POST",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const response = await handler(request, { params: Promise.resolve({}) });
  return { status: response.status, body: await response.json() };
}

const choosePlan = (user: TestUser, body: unknown) => call(checkoutRoute.POST, "/api/billing/checkout", user, body);
const openPortal = (user: TestUser, body?: unknown) => call(portalRoute.POST, "/api/billing/portal", user, body);

async function workspaceOf(user: TestUser): Promise<string> {
  const [row] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
  return row.workspace_id;
}

async function addMember(workspaceId: string, role: "viewer" | "editor" | "admin") {
  const member = await signUp(role);
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${workspaceId}, ${member.id}, ${role})`;
  return member;
}

const customersOf = (workspaceId: string) => [...stripe.customers.values()].filter((c) => c.metadata.workspace_id === workspaceId);

describe("every billing route", () => {
  it.each([
    ["GET /api/billing", billingRoute.GET as Handler],
    ["POST /api/billing/checkout", checkoutRoute.POST as Handler],
    ["POST /api/billing/portal", portalRoute.POST as Handler],
  ])("%s answers 401 without a session", async (_name, handler) => {
    const { status, body } = await call(handler, "/api/billing/x", null, handler === billingRoute.GET ? undefined : { planId: "pro" });
    expect(status).toBe(401);
    expect(body.error.code).toBe("unauthorized");
  });
});

describe("checkout", () => {
  it("opens a Stripe Checkout for the plan's price, for the workspace's own customer", async () => {
    const owner = await signUp("owner");
    const workspaceId = await workspaceOf(owner);
    const { status, body } = await choosePlan(owner, { planId: "pro" });
    expect(status).toBe(200);
    expect(body).toEqual({ mode: "stripe", via: "checkout", url: expect.stringMatching(/^https:\/\/checkout\.stripe\.test\//) });

    const [customerRequest] = stripe.requestsTo("POST", "/v1/customers").filter((r) => r.params["metadata[workspace_id]"] === workspaceId);
    // Only what never changes for a workspace under the idempotency key; name and email follow.
    expect(customerRequest.params).toEqual({ "metadata[workspace_id]": workspaceId });
    expect(customerRequest.headers["idempotency-key"]).toBe(`pacer-customer-${workspaceId}`);
    const customer = customersOf(workspaceId)[0].id;
    expect(stripe.requestsTo("POST", `/v1/customers/${customer}`)[0].params).toEqual({ name: expect.any(String), email: owner.email });

    const lookups = stripe.requestsTo("GET", "/v1/prices").filter((r) => r.params["lookup_keys[0]"] === "pacer_pro_monthly");
    expect(lookups.at(-1)!.params).toMatchObject({ active: "true" });
    const [session] = stripe.requestsTo("POST", "/v1/checkout/sessions").filter((r) => r.params.customer === customer);
    expect(session.params).toEqual({
      mode: "subscription",
      customer,
      client_reference_id: workspaceId,
      "line_items[0][price]": priceOf.pro,
      "line_items[0][quantity]": "1",
      success_url: `${ORIGIN}/dashboard/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${ORIGIN}/dashboard/billing?checkout=canceled`,
      "metadata[workspace_id]": workspaceId,
      "metadata[plan_id]": "pro",
      "subscription_data[metadata][workspace_id]": workspaceId,
      "subscription_data[metadata][plan_id]": "pro",
    });
    // Nothing changes until Stripe confirms the payment through the webhook.
    expect((await workspacePlan(sql, workspaceId)).plan_id).toBe("free");
  });

  it("creates the workspace's Stripe customer once, however many checkouts start", async () => {
    const owner = await signUp("once");
    const workspaceId = await workspaceOf(owner);
    const results = await Promise.all([
      choosePlan(owner, { planId: "starter" }),
      choosePlan(owner, { planId: "growth" }),
      choosePlan(owner, { planId: "pro" }),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    await choosePlan(owner, { planId: "ultra" });

    expect(customersOf(workspaceId)).toHaveLength(1);
    const [{ customers }] = await sql`select count(*)::int as customers from private.billing_customers where workspace_id = ${workspaceId}`;
    expect(customers).toBe(1);
    const customer = customersOf(workspaceId)[0].id;
    expect(stripe.requestsTo("POST", "/v1/checkout/sessions").filter((r) => r.params.customer === customer)).toHaveLength(4);
  });

  it("changes a running subscription in the portal, where Stripe confirms the new price or the cancellation", async () => {
    const owner = await signUp("upgrader");
    const workspaceId = await workspaceOf(owner);
    await choosePlan(owner, { planId: "pro" });
    const customer = customersOf(workspaceId)[0].id;
    const subscription = subscriptionObject({ customer, plan: "pro" });
    stripe.subscriptions.set(subscription.id, subscription);
    await deliverEvent("checkout.session.completed", { id: "cs_x", object: "checkout.session", mode: "subscription", customer, subscription: subscription.id });
    expect((await workspacePlan(sql, workspaceId)).plan_id).toBe("pro");

    const sessionsBefore = stripe.requestsTo("POST", "/v1/checkout/sessions").length;
    const growth = await choosePlan(owner, { planId: "growth" });
    expect(growth.body).toEqual({ mode: "stripe", via: "portal", url: expect.stringMatching(/^https:\/\/billing\.stripe\.test\//) });
    const free = await choosePlan(owner, { planId: "free" });
    expect(free.body.via).toBe("portal");
    expect(stripe.requestsTo("POST", "/v1/checkout/sessions")).toHaveLength(sessionsBefore);

    const [update, cancel] = stripe.requestsTo("POST", "/v1/billing_portal/sessions").filter((r) => r.params.customer === customer);
    expect(update.params).toEqual({
      customer,
      return_url: `${ORIGIN}/dashboard/billing`,
      "flow_data[type]": "subscription_update_confirm",
      "flow_data[subscription_update_confirm][subscription]": subscription.id,
      "flow_data[subscription_update_confirm][items][0][id]": subscription.items.data[0].id,
      "flow_data[subscription_update_confirm][items][0][price]": priceOf.growth,
      "flow_data[subscription_update_confirm][items][0][quantity]": "1",
      "flow_data[after_completion][type]": "redirect",
      "flow_data[after_completion][redirect][return_url]": `${ORIGIN}/dashboard/billing?portal=done`,
    });
    expect(cancel.params).toMatchObject({
      "flow_data[type]": "subscription_cancel",
      "flow_data[subscription_cancel][subscription]": subscription.id,
    });

    const same = await choosePlan(owner, { planId: "pro" });
    expect(same.status).toBe(409);
    expect(same.body.error).toMatchObject({ code: "already_on_plan", message: "This workspace is already on the Pro plan." });
  });

  it("explains an unknown plan, the plan already in force, and a price missing from Stripe", async () => {
    const owner = await signUp("mistakes");
    const unknown = await choosePlan(owner, { planId: "platinum" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.issues).toEqual([{ path: "planId", message: 'Unknown plan "platinum".' }]);
    const missing = await choosePlan(owner, {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.issues[0].path).toBe("planId");
    const already = await choosePlan(owner, { planId: "free" });
    expect(already.status).toBe(409);
    expect(already.body.error.message).toBe("This workspace is already on the Free plan.");

    const price = stripe.prices.get(priceOf.enterprise)!;
    price.active = false;
    try {
      const noPrice = await choosePlan(owner, { planId: "enterprise" });
      expect(noPrice.status).toBe(503);
      expect(noPrice.body.error).toMatchObject({ code: "price_missing" });
      expect(noPrice.body.error.message).toContain("npm run stripe:sync");
    } finally {
      price.active = true;
    }
  });

  it("answers 502 when Stripe cannot be reached, and records no customer", async () => {
    const owner = await signUp("offline");
    const workspaceId = await workspaceOf(owner);
    const gone = await startStripeFake();
    await gone.stop(); // a port nothing listens on any more
    enterStripeMode(gone.url);
    const { status, body } = await choosePlan(owner, { planId: "pro" });
    expect(status).toBe(502);
    expect(body.error.code).toBe("stripe_unavailable");
    expect(body.error.message).toContain("Nothing was changed");
    const [{ n }] = await sql`select count(*)::int as n from private.billing_customers where workspace_id = ${workspaceId}`;
    expect(n).toBe(0);
  });
});

describe("the portal", () => {
  it("opens for the workspace's customer and returns to the billing page", async () => {
    const owner = await signUp("portal");
    const workspaceId = await workspaceOf(owner);
    const before = await openPortal(owner);
    expect(before.status).toBe(409);
    expect(before.body.error.code).toBe("no_billing_account");

    await choosePlan(owner, { planId: "starter" });
    const customer = customersOf(workspaceId)[0].id;
    const { status, body } = await openPortal(owner, {});
    expect(status).toBe(200);
    expect(body.url).toMatch(/^https:\/\/billing\.stripe\.test\//);
    const [session] = stripe.requestsTo("POST", "/v1/billing_portal/sessions").filter((r) => r.params.customer === customer);
    expect(session.params).toEqual({ customer, return_url: `${ORIGIN}/dashboard/billing` });
  });
});

describe("who may manage billing", () => {
  let owner: TestUser;
  let workspaceId: string;
  beforeAll(async () => {
    owner = await signUp("boss");
    workspaceId = await workspaceOf(owner);
    await choosePlan(owner, { planId: "growth" }); // gives the workspace its customer
  });

  it("lets an admin start a checkout", async () => {
    const admin = await addMember(workspaceId, "admin");
    const { status } = await choosePlan(admin, { planId: "pro", workspaceId });
    expect(status).toBe(200);
  });

  it.each(["editor", "viewer"] as const)("answers 403 to an %s, and sends nothing to Stripe", async (role) => {
    const member = await addMember(workspaceId, role);
    const sent = stripe.requests.length;
    const checkout = await choosePlan(member, { planId: "pro", workspaceId });
    expect(checkout.status).toBe(403);
    expect(checkout.body.error.message).toBe("Only the workspace's owners and admins can change its plan or billing.");
    expect((await openPortal(member, { workspaceId })).status).toBe(403);
    expect(stripe.requests.length).toBe(sent);
    // They can still see the plan.
    const overview = await call(billingRoute.GET, `/api/billing?workspaceId=${workspaceId}`, member);
    expect(overview.status).toBe(200);
    expect(overview.body).toMatchObject({ workspaceId, canManage: false, plan: { id: "free" } });
  });

  it("answers 404 on every route for another tenant's workspace, and sends nothing to Stripe", async () => {
    const intruder = await signUp("intruder");
    const sent = stripe.requests.length;
    const attempts = [
      await call(billingRoute.GET, `/api/billing?workspaceId=${workspaceId}`, intruder),
      await choosePlan(intruder, { planId: "ultra", workspaceId }),
      await openPortal(intruder, { workspaceId }),
    ];
    expect(attempts.map((a) => a.status)).toEqual([404, 404, 404]);
    expect(attempts.map((a) => a.body.error.code)).toEqual(["not_found", "not_found", "not_found"]);
    expect(stripe.requests.length).toBe(sent);
    expect((await workspacePlan(sql, workspaceId)).plan_id).toBe("free");
  });

  it("answers 400 for a body workspace id that is not an id, and 404 for such a query", async () => {
    expect((await choosePlan(owner, { planId: "pro", workspaceId: "nope" })).status).toBe(400);
    expect((await call(billingRoute.GET, "/api/billing?workspaceId=nope", owner)).status).toBe(404);
  });
});

describe("the billing overview", () => {
  it("shows the plan, the subscription, and whether the last payment failed", async () => {
    const owner = await signUp("overview");
    const workspaceId = await workspaceOf(owner);
    const fresh = await call(billingRoute.GET, "/api/billing", owner);
    expect(fresh.body).toMatchObject({
      mode: "stripe",
      workspaceId,
      canManage: true,
      plan: { id: "free", maxAccounts: 10 },
      subscription: null,
      paymentFailed: false,
      portalAvailable: false,
      pausedAccounts: [],
    });
    expect(fresh.body.plans.map((p: { id: string }) => p.id)).toEqual(["free", "starter", "growth", "pro", "enterprise", "ultra"]);

    await choosePlan(owner, { planId: "pro" });
    const customer = customersOf(workspaceId)[0].id;
    const subscription = subscriptionObject({ customer, plan: "pro", status: "past_due" });
    stripe.subscriptions.set(subscription.id, subscription);
    await deliverEvent("customer.subscription.updated", subscription);
    const failing = await call(billingRoute.GET, "/api/billing", owner);
    expect(failing.body).toMatchObject({
      plan: { id: "pro", maxAccounts: 150 },
      subscription: { id: subscription.id, status: "past_due", planId: "pro", graceEndsAt: expect.any(String) },
      paymentFailed: true,
      portalAvailable: true,
    });
  });
});
