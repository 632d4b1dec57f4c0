// Stripe's webhook through the real route handler: events signed offline with
// generateTestHeaderString, the subscription re-read from a local fake of Stripe's API.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as webhookRoute from "@/app/api/billing/webhook/route";
import { connect, makeUser, type Sql } from "../support/db";
import { startStripeFake, type StripeFake } from "../support/stripe-fake";
import {
  giveCustomer,
  signedEvent,
  subscriptionObject,
  enterStripeMode,
  webhookRequest,
  workspacePlan,
} from "../support/billing";

let sql: Sql;
let stripe: StripeFake;

beforeAll(async () => {
  sql = connect();
  stripe = await startStripeFake();
});
afterAll(async () => {
  await stripe.stop();
  await sql.end();
});
beforeEach(() => enterStripeMode(stripe.url));

/** Deliver a signed event about `subscription` (as Stripe would), after Stripe's state became `current`. */
async function deliver(type: string, object: unknown, opts: { id?: string; secret?: string } = {}) {
  const { payload, signature, event } = signedEvent(type, object, opts);
  const response = await webhookRoute.POST(webhookRequest(payload, signature));
  return { response, body: await response.json(), event };
}

/** A workspace with a Stripe customer, and Stripe holding `subscription` for it. */
async function subscriber(plan = "pro", status: "active" | "trialing" | "past_due" = "active") {
  const user = await makeUser(sql, "billing");
  const customer = await giveCustomer(sql, user.workspaceId);
  const subscription = subscriptionObject({ customer, plan, status });
  stripe.subscriptions.set(subscription.id, subscription);
  return { ...user, customer, subscription };
}

/** What a request that should change nothing must leave untouched: this event's and this workspace's rows only. */
async function snapshot(workspaceId: string, eventId: string) {
  const [counts] = await sql`
    select (select count(*)::int from private.stripe_events where id = ${eventId}) as events,
           (select count(*)::int from public.subscriptions where workspace_id = ${workspaceId}) as subscriptions,
           (select plan_id from public.workspaces where id = ${workspaceId}) as plan`;
  return counts;
}

describe("signature", () => {
  it("answers 400 without a Stripe-Signature header, and changes nothing", async () => {
    const s = await subscriber();
    const id = `evt_nosig_${s.workspaceId}`;
    const before = await snapshot(s.workspaceId, id);
    const { payload } = signedEvent("customer.subscription.created", s.subscription, { id });
    const response = await webhookRoute.POST(webhookRequest(payload, null));
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe("missing_signature");
    expect(await snapshot(s.workspaceId, id)).toEqual(before);
    expect(stripe.requestsTo("GET", `/v1/subscriptions/${s.subscription.id}`)).toHaveLength(0);
  });

  it("answers 400 for an event signed with another secret, and changes nothing", async () => {
    const s = await subscriber();
    const id = `evt_othersecret_${s.workspaceId}`;
    const before = await snapshot(s.workspaceId, id);
    const { response, body } = await deliver("customer.subscription.created", s.subscription, { id, secret: "whsec_someone_else" });
    expect(response.status).toBe(400);
    expect(body.error.code).toBe("invalid_signature");
    expect(await snapshot(s.workspaceId, id)).toEqual(before);
  });

  it("answers 400 for a body changed after signing, and changes nothing", async () => {
    const s = await subscriber("starter");
    const id = `evt_tampered_${s.workspaceId}`;
    const before = await snapshot(s.workspaceId, id);
    const { payload, signature } = signedEvent("customer.subscription.created", s.subscription, { id });
    const tampered = payload.replace("pacer_starter_monthly", "pacer_ultra_monthly");
    const response = await webhookRoute.POST(webhookRequest(tampered, signature));
    expect(response.status).toBe(400);
    expect(await snapshot(s.workspaceId, id)).toEqual(before);
    expect(await workspacePlan(sql, s.workspaceId)).toEqual({ plan_id: "free", max_accounts: 10 });
  });
});

describe("mirroring a subscription", () => {
  it("re-reads the subscription from Stripe and moves the workspace to its plan", async () => {
    const s = await subscriber("pro");
    const { response, body } = await deliver("customer.subscription.created", s.subscription);
    expect(response.status).toBe(200);
    expect(body.subscription).toMatchObject({ workspaceId: s.workspaceId, status: "active", planId: "pro", workspacePlanId: "pro" });
    expect(stripe.requestsTo("GET", `/v1/subscriptions/${s.subscription.id}`)).toHaveLength(1);
    expect(await workspacePlan(sql, s.workspaceId)).toEqual({ plan_id: "pro", max_accounts: 150 });
    const [row] = await sql`select * from public.subscriptions where id = ${s.subscription.id}`;
    expect(row).toMatchObject({
      workspace_id: s.workspaceId,
      stripe_customer_id: s.customer,
      status: "active",
      plan_id: "pro",
      price_lookup_key: "pacer_pro_monthly",
      cancel_at_period_end: false,
      past_due_since: null,
    });
    expect(row.current_period_end.getTime()).toBe(s.subscription.items.data[0].current_period_end * 1000);
  });

  it("takes Stripe's current state over the event's copy", async () => {
    const s = await subscriber("growth");
    // The event still says Starter; Stripe already has Growth.
    const stale = subscriptionObject({ id: s.subscription.id, customer: s.customer, plan: "starter" });
    await deliver("customer.subscription.updated", stale);
    expect(await workspacePlan(sql, s.workspaceId)).toEqual({ plan_id: "growth", max_accounts: 50 });
  });

  it("finds the subscription of checkout.session.completed and of invoice events", async () => {
    const s = await subscriber("enterprise");
    await deliver("checkout.session.completed", {
      id: "cs_test_1",
      object: "checkout.session",
      mode: "subscription",
      customer: s.customer,
      subscription: s.subscription.id,
      client_reference_id: s.workspaceId,
    });
    expect((await workspacePlan(sql, s.workspaceId)).plan_id).toBe("enterprise");

    stripe.subscriptions.set(s.subscription.id, { ...s.subscription, status: "past_due" });
    const invoice = { id: "in_1", object: "invoice", customer: s.customer, parent: { type: "subscription_details", subscription_details: { subscription: s.subscription.id } } };
    await deliver("invoice.payment_failed", invoice);
    const [row] = await sql`select status, past_due_since from public.subscriptions where id = ${s.subscription.id}`;
    expect(row.status).toBe("past_due");
    expect(row.past_due_since).not.toBeNull();
  });

  it("records cancel_at_period_end, and a price that is not a Pacer plan grants nothing", async () => {
    const s = await subscriber("pro");
    stripe.subscriptions.set(s.subscription.id, { ...s.subscription, cancel_at_period_end: true });
    await deliver("customer.subscription.updated", s.subscription);
    const [row] = await sql`select cancel_at_period_end from public.subscriptions where id = ${s.subscription.id}`;
    expect(row.cancel_at_period_end).toBe(true);
    expect((await workspacePlan(sql, s.workspaceId)).plan_id).toBe("pro");

    const other = await subscriber("pro");
    const foreign = subscriptionObject({ id: other.subscription.id, customer: other.customer, plan: "pro", lookupKey: "someone_elses_price" });
    stripe.subscriptions.set(foreign.id, foreign);
    await deliver("customer.subscription.created", foreign);
    const [mirrored] = await sql`select plan_id, price_lookup_key from public.subscriptions where id = ${foreign.id}`;
    expect(mirrored).toEqual({ plan_id: null, price_lookup_key: "someone_elses_price" });
    expect((await workspacePlan(sql, other.workspaceId)).plan_id).toBe("free");
  });

  it("ignores a customer Pacer did not create, and event types it does not handle", async () => {
    const stranger = subscriptionObject({ customer: "cus_made_by_hand", plan: "ultra" });
    stripe.subscriptions.set(stranger.id, stranger);
    const { response, body } = await deliver("customer.subscription.created", stranger);
    expect(response.status).toBe(200);
    expect(body.subscription).toBeNull();
    expect((await sql`select 1 from public.subscriptions where id = ${stranger.id}`).length).toBe(0);

    const other = await deliver("charge.refunded", { id: "ch_1", object: "charge" });
    expect(other.body).toEqual({ received: true, ignored: "charge.refunded" });
  });
});

describe("replays and ordering", () => {
  it("applies a replayed event only once", async () => {
    const s = await subscriber("pro");
    const first = signedEvent("customer.subscription.created", s.subscription);
    expect((await webhookRoute.POST(webhookRequest(first.payload, first.signature))).status).toBe(200);
    expect((await workspacePlan(sql, s.workspaceId)).plan_id).toBe("pro");

    // Stripe's state moves on; a replay of the old event must not be processed again.
    stripe.subscriptions.set(s.subscription.id, { ...s.subscription, status: "canceled" });
    const readsBefore = stripe.requestsTo("GET", `/v1/subscriptions/${s.subscription.id}`).length;
    const again = await webhookRoute.POST(webhookRequest(first.payload, first.signature));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    expect(stripe.requestsTo("GET", `/v1/subscriptions/${s.subscription.id}`)).toHaveLength(readsBefore);
    expect((await workspacePlan(sql, s.workspaceId)).plan_id).toBe("pro");
    const [{ n }] = await sql`select count(*)::int as n from private.stripe_events where id = ${first.event.id}`;
    expect(n).toBe(1);
  });

  it("applies each of many concurrent deliveries of one event once", async () => {
    const s = await subscriber("growth");
    const { payload, signature } = signedEvent("customer.subscription.created", s.subscription);
    const responses = await Promise.all(Array.from({ length: 5 }, () => webhookRoute.POST(webhookRequest(payload, signature))));
    const bodies = await Promise.all(responses.map((r) => r.json()));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(bodies.filter((b) => b.duplicate)).toHaveLength(4);
    // Each delivery may ask Stripe (no transaction is held across that call); one records the event.
    const [{ n }] = await sql`select count(*)::int as n from private.stripe_events where id = ${JSON.parse(payload).id}`;
    expect(n).toBe(1);
    expect((await workspacePlan(sql, s.workspaceId)).plan_id).toBe("growth");
  });

  it("ends canceled when 'deleted' arrives before a stale 'updated'", async () => {
    const s = await subscriber("pro");
    await deliver("customer.subscription.created", s.subscription);
    const stillActive = structuredClone(s.subscription);
    stripe.subscriptions.set(s.subscription.id, { ...s.subscription, status: "canceled" });

    await deliver("customer.subscription.deleted", { ...s.subscription, status: "canceled" });
    await deliver("customer.subscription.updated", stillActive);

    const [row] = await sql`select status from public.subscriptions where id = ${s.subscription.id}`;
    expect(row.status).toBe("canceled");
    expect(await workspacePlan(sql, s.workspaceId)).toEqual({ plan_id: "free", max_accounts: 10 });
  });

  it("ends on the newest plan when an upgrade's 'updated' arrives before the older one", async () => {
    const s = await subscriber("starter");
    await deliver("customer.subscription.created", s.subscription);
    const toGrowth = subscriptionObject({ id: s.subscription.id, customer: s.customer, plan: "growth" });
    const toUltra = subscriptionObject({ id: s.subscription.id, customer: s.customer, plan: "ultra" });
    stripe.subscriptions.set(s.subscription.id, toUltra);

    await deliver("customer.subscription.updated", toUltra);
    await deliver("customer.subscription.updated", toGrowth);
    expect(await workspacePlan(sql, s.workspaceId)).toEqual({ plan_id: "ultra", max_accounts: 1000 });
  });
});

describe("failed payments", () => {
  it("keeps the plan for 7 days while past_due, then falls back to the default", async () => {
    const s = await subscriber("pro");
    await deliver("customer.subscription.created", s.subscription);
    stripe.subscriptions.set(s.subscription.id, { ...s.subscription, status: "past_due" });
    await deliver("invoice.payment_failed", { id: "in_2", object: "invoice", customer: s.customer, parent: { subscription_details: { subscription: s.subscription.id } } });

    const [row] = await sql`select past_due_since, grace_ends_at from public.subscriptions where id = ${s.subscription.id}`;
    expect(row.grace_ends_at.getTime() - row.past_due_since.getTime()).toBe(7 * 24 * 3600 * 1000);
    expect((await workspacePlan(sql, s.workspaceId)).plan_id).toBe("pro");

    // A second failure later does not restart the grace period.
    await deliver("invoice.payment_failed", { id: "in_3", object: "invoice", customer: s.customer, parent: { subscription_details: { subscription: s.subscription.id } } });
    const [again] = await sql`select past_due_since from public.subscriptions where id = ${s.subscription.id}`;
    expect(again.past_due_since).toEqual(row.past_due_since);

    // Eight days on (the clock moved by moving the record back), the next sweep ends the plan.
    await sql`update public.subscriptions set past_due_since = past_due_since - interval '8 days',
                                              grace_ends_at = grace_ends_at - interval '8 days'
              where id = ${s.subscription.id}`;
    await sql.begin(async (tx) => {
      await tx`set local role pacer_worker`;
      const [{ changed }] = await tx`select private.expire_billing_grace() as changed`;
      expect(changed).toBeGreaterThanOrEqual(1);
    });
    expect(await workspacePlan(sql, s.workspaceId)).toEqual({ plan_id: "free", max_accounts: 10 });
  });

  it("restores the plan and clears the grace period once the invoice is paid", async () => {
    const s = await subscriber("growth", "past_due");
    await deliver("customer.subscription.updated", s.subscription);
    stripe.subscriptions.set(s.subscription.id, { ...s.subscription, status: "active" });
    await deliver("invoice.paid", { id: "in_4", object: "invoice", customer: s.customer, parent: { subscription_details: { subscription: s.subscription.id } } });
    const [row] = await sql`select status, past_due_since, grace_ends_at from public.subscriptions where id = ${s.subscription.id}`;
    expect(row).toEqual({ status: "active", past_due_since: null, grace_ends_at: null });
    expect((await workspacePlan(sql, s.workspaceId)).plan_id).toBe("growth");
  });
});
