// Pacer's billing code when Stripe answers with its documented errors (tests/support/stripe-fake.ts):
// a wrong key, 5xx the SDK retries, 429s it does not, responses lost after Stripe acted. Each ends
// in a clear error or a success, and never in a second customer or a second price.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import Stripe from "stripe";
import * as checkoutRoute from "@/app/api/billing/checkout/route";
import { listPlans, type Plan } from "@/lib/billing/plans";
import { stripeClient } from "@/lib/billing/stripe";
import { syncStripeCatalog } from "@/lib/billing/sync";
import { connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";
import { startStripeFake, type StripeFake } from "../support/stripe-fake";
import { enterStripeMode } from "../support/billing";

const ORIGIN = "http://127.0.0.1:3000";
let sql: Sql;
let stripe: StripeFake;
let plans: Plan[];

beforeAll(async () => {
  sql = connect();
  plans = await listPlans(sql);
  stripe = await startStripeFake();
  enterStripeMode(stripe.url);
  await syncStripeCatalog(stripeClient(), plans);
});
afterAll(async () => {
  await stripe.stop();
  await sql.end();
});
beforeEach(() => enterStripeMode(stripe.url));

async function choosePlan(user: TestUser, planId: string, workspaceId?: string) {
  const request = new Request(`${ORIGIN}/api/billing/checkout`, {
    method: "POST",
    headers: { authorization: `Bearer ${user.accessToken}`, "content-type": "application/json" },
    body: JSON.stringify({ planId, workspaceId }),
  });
  const response = await checkoutRoute.POST(request, { params: Promise.resolve({}) });
  return { status: response.status, body: await response.json() };
}

async function owner(label: string) {
  const user = await signUp(label);
  const [row] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
  return { user, workspaceId: row.workspace_id as string };
}

const stripeCustomersOf = (workspaceId: string) => [...stripe.customers.values()].filter((c) => c.metadata.workspace_id === workspaceId);
const recordedCustomer = async (workspaceId: string) =>
  (await sql`select stripe_customer_id from private.billing_customers where workspace_id = ${workspaceId}`).map((r) => r.stripe_customer_id);

describe("checkout when Stripe refuses or fails", () => {
  it("says the server's Stripe key was refused (not 'try again'), and records nothing", async () => {
    const { user, workspaceId } = await owner("wrongkey");
    process.env.STRIPE_SECRET_KEY = "sk_test_not_this_account";
    const { status, body } = await choosePlan(user, "pro");
    expect(status).toBe(503);
    expect(body.error.code).toBe("billing_not_configured");
    expect(body.error.message).toMatch(/^Stripe refused this server's STRIPE_SECRET_KEY, so it could not create the workspace's billing account; nothing was changed\. Set STRIPE_SECRET_KEY/);
    expect(body.error.message).not.toMatch(/try again|sk_test/);
    expect(stripeCustomersOf(workspaceId)).toEqual([]);
    expect(await recordedCustomer(workspaceId)).toEqual([]);
  });

  it("rides out 5xx the SDK retries, with one customer", async () => {
    const { user, workspaceId } = await owner("flaky");
    stripe.failNext("POST", "/v1/customers", "api_error", 2);
    const { status, body } = await choosePlan(user, "pro");
    expect(status).toBe(200);
    expect(body.via).toBe("checkout");
    expect(stripeCustomersOf(workspaceId)).toHaveLength(1);
    expect(await recordedCustomer(workspaceId)).toEqual([stripeCustomersOf(workspaceId)[0].id]);
  });

  it.each([
    ["500 through every retry", "api_error", 3],
    ["429 (not retried)", "rate_limit", 1],
  ] as const)("answers 502 stripe_unavailable when the checkout gets %s; the next try reuses the customer", async (_what, fault, times) => {
    const { user, workspaceId } = await owner("busy");
    const before = stripe.requestsTo("POST", "/v1/checkout/sessions").length;
    stripe.failNext("POST", "/v1/checkout/sessions", fault, times);
    const failed = await choosePlan(user, "growth");
    expect(failed.status).toBe(502);
    expect(failed.body.error.code).toBe("stripe_unavailable");
    expect(failed.body.error.message).toMatch(/^Stripe could not start the checkout: .+ Nothing was changed; try again in a moment\.$/);
    expect(stripe.requestsTo("POST", "/v1/checkout/sessions").length - before).toBe(times);

    const retried = await choosePlan(user, "growth");
    expect(retried.status).toBe(200);
    expect(stripeCustomersOf(workspaceId)).toHaveLength(1);
    expect(await recordedCustomer(workspaceId)).toEqual([stripeCustomersOf(workspaceId)[0].id]);
  });

  it("makes one customer when Stripe created it but Pacer never heard back, whoever tries next", async () => {
    const { user, workspaceId } = await owner("lost");
    // The owner's attempt: Stripe creates the customer, and every answer to it is lost.
    stripe.failNext("POST", "/v1/customers", "lost_response", 3);
    const first = await choosePlan(user, "pro");
    expect(first.status).toBe(502);
    expect(await recordedCustomer(workspaceId)).toEqual([]);
    expect(stripeCustomersOf(workspaceId)).toHaveLength(1);

    // An admin with another email, after the workspace was renamed, tries again.
    const admin = await signUp("admin");
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${workspaceId}, ${admin.id}, 'admin')`;
    await sql`update public.workspaces set name = 'Renamed meanwhile' where id = ${workspaceId}`;
    const second = await choosePlan(admin, "pro", workspaceId);
    expect(second.status).toBe(200);
    const customers = stripeCustomersOf(workspaceId);
    expect(customers).toHaveLength(1);
    expect(await recordedCustomer(workspaceId)).toEqual([customers[0].id]);
    expect(customers[0]).toMatchObject({ name: "Renamed meanwhile", email: admin.email });
  });
});

describe("stripe:sync when Stripe fails", () => {
  async function freshStripe() {
    const fresh = await startStripeFake();
    enterStripeMode(fresh.url);
    return fresh;
  }
  const pricesByKey = (fake: StripeFake) =>
    Object.fromEntries([...new Set([...fake.prices.values()].map((p) => p.lookup_key))].map((k) => [k, [...fake.prices.values()].filter((p) => p.lookup_key === k).length]));

  it("rides out retried 5xx and lost responses with one price per plan", async () => {
    const fake = await freshStripe();
    try {
      fake.failNext("POST", "/v1/prices", "api_error", 2);
      fake.failNext("POST", "/v1/products", "lost_response", 1);
      await syncStripeCatalog(stripeClient(), plans);
      expect(fake.prices.size).toBe(5);
      expect(Object.values(pricesByKey(fake))).toEqual([1, 1, 1, 1, 1]);
      expect(fake.products.size).toBe(5);
    } finally {
      await fake.stop();
    }
  });

  it("stops with Stripe's error when it keeps failing, and a second run completes without duplicates", async () => {
    const fake = await freshStripe();
    try {
      fake.failNext("POST", "/v1/prices", "api_error", 3);
      await expect(syncStripeCatalog(stripeClient(), plans)).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
      const changes = await syncStripeCatalog(stripeClient(), plans);
      expect(changes.map((c) => c.price)).toEqual(["created", "created", "created", "created", "created"]);
      expect(changes.map((c) => c.product)).toEqual(["unchanged", "created", "created", "created", "created"]);
      expect(Object.values(pricesByKey(fake))).toEqual([1, 1, 1, 1, 1]);
    } finally {
      await fake.stop();
    }
  });

  it("archives the replaced price on the next run when archiving it failed", async () => {
    const fake = await freshStripe();
    try {
      const first = await syncStripeCatalog(stripeClient(), plans);
      const oldPro = first.find((c) => c.planId === "pro")!.priceId;
      const repriced = plans.map((p) => (p.id === "pro" ? { ...p, priceCents: 17999 } : p));
      fake.failNext("POST", `/v1/prices/${oldPro}`, "api_error", 3);
      await expect(syncStripeCatalog(stripeClient(), repriced)).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
      expect(fake.prices.get(oldPro)!.active).toBe(true);

      const changes = await syncStripeCatalog(stripeClient(), repriced);
      expect(changes.find((c) => c.planId === "pro")!.price).toBe("unchanged");
      const activePro = [...fake.prices.values()].filter((p) => p.product === "pacer_pro" && p.active);
      expect(activePro.map((p) => [p.unit_amount, p.lookup_key])).toEqual([[17999, "pacer_pro_monthly"]]);
    } finally {
      await fake.stop();
    }
  });

  it("fails at once with Stripe's message for a wrong key, before writing anything", async () => {
    const fake = await freshStripe();
    try {
      process.env.STRIPE_SECRET_KEY = "sk_test_wrong_account";
      await expect(syncStripeCatalog(stripeClient(), plans)).rejects.toThrow(/^Invalid API Key provided/);
      expect(fake.requests.filter((r) => r.method === "POST")).toEqual([]);
    } finally {
      await fake.stop();
    }
  });
});
