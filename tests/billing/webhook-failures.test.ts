// Stripe's webhook when things go wrong, judged by what Stripe and the database see (status codes,
// rows), not by how the handler is built: a delivery that fails after part of its work leaves no
// trace and Stripe's redelivery applies it whole; a signature older than 5 minutes is refused.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as webhookRoute from "@/app/api/billing/webhook/route";
import { connect, makeUser, type Sql } from "../support/db";
import { startStripeFake, type StripeFake } from "../support/stripe-fake";
import { giveCustomer, signedEvent, subscriptionObject, enterStripeMode, webhookRequest, workspacePlan } from "../support/billing";

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

async function subscriber(plan = "pro") {
  const user = await makeUser(sql, "hook");
  const customer = await giveCustomer(sql, user.workspaceId);
  const subscription = subscriptionObject({ customer, plan });
  stripe.subscriptions.set(subscription.id, subscription);
  return { ...user, subscription };
}

/** Deliver `event` signed at `timestamp` (Unix seconds; now by default), as Stripe does on each attempt. */
async function deliver(event: { id: string; type: string; object: unknown }, timestamp?: number) {
  const { payload, signature } = signedEvent(event.type, event.object, { id: event.id, timestamp });
  const response = await webhookRoute.POST(webhookRequest(payload, signature));
  return { status: response.status, body: await response.json() };
}

/** What the event left behind: its ledger row, the mirrored subscription, the workspace's plan. */
async function traces(eventId: string, workspaceId: string) {
  const [row] = await sql`
    select (select count(*)::int from private.stripe_events where id = ${eventId}) as ledger,
           (select count(*)::int from public.subscriptions where workspace_id = ${workspaceId}) as subscriptions,
           (select plan_id from public.workspaces where id = ${workspaceId}) as plan`;
  return row;
}

describe("a delivery that fails mid-way", () => {
  it("answers 500 and leaves no trace, ledger included; Stripe's redelivery then applies it whole", async () => {
    const s = await subscriber("pro");
    const event = { id: `evt_midway_${s.workspaceId.slice(0, 8)}`, type: "customer.subscription.created", object: s.subscription };
    const reRead = `/v1/subscriptions/${s.subscription.id}`;
    // Stripe's API fails the re-read after the event was recorded, through all of the SDK's retries.
    stripe.failNext("GET", reRead, "api_error", 3);

    const failed = await deliver(event);
    expect(failed.status).toBe(500);
    expect(failed.body.error.code).toBe("internal_error");
    expect(stripe.requestsTo("GET", reRead)).toHaveLength(3);
    expect(await traces(event.id, s.workspaceId)).toEqual({ ledger: 0, subscriptions: 0, plan: "free" });

    const redelivered = await deliver(event);
    expect(redelivered.status).toBe(200);
    expect(redelivered.body.duplicate).toBeUndefined();
    expect(await traces(event.id, s.workspaceId)).toEqual({ ledger: 1, subscriptions: 1, plan: "pro" });
    expect((await workspacePlan(sql, s.workspaceId)).max_accounts).toBe(150);

    // And once applied, a further redelivery changes nothing.
    expect((await deliver(event)).body).toEqual({ received: true, duplicate: true });
  });

  it("answers 500 when Stripe rate-limits the re-read, and the redelivery applies it", async () => {
    const s = await subscriber("starter");
    const event = { id: `evt_limited_${s.workspaceId.slice(0, 8)}`, type: "customer.subscription.updated", object: s.subscription };
    stripe.failNext("GET", `/v1/subscriptions/${s.subscription.id}`, "rate_limit");
    expect((await deliver(event)).status).toBe(500);
    expect(await traces(event.id, s.workspaceId)).toEqual({ ledger: 0, subscriptions: 0, plan: "free" });
    expect((await deliver(event)).status).toBe(200);
    expect(await traces(event.id, s.workspaceId)).toEqual({ ledger: 1, subscriptions: 1, plan: "starter" });
  });
});

describe("the signature's 5-minute tolerance", () => {
  const now = () => Math.floor(Date.now() / 1000);

  it("refuses a correctly signed event signed 301 seconds ago, and changes nothing", async () => {
    const s = await subscriber("pro");
    const event = { id: `evt_stale_${s.workspaceId.slice(0, 8)}`, type: "customer.subscription.created", object: s.subscription };
    const stale = await deliver(event, now() - 301);
    expect(stale.status).toBe(400);
    expect(stale.body.error.code).toBe("invalid_signature");
    expect(await traces(event.id, s.workspaceId)).toEqual({ ledger: 0, subscriptions: 0, plan: "free" });
    expect(stripe.requestsTo("GET", `/v1/subscriptions/${s.subscription.id}`)).toHaveLength(0);
  });

  it("accepts one signed 299 seconds ago", async () => {
    const s = await subscriber("pro");
    const event = { id: `evt_fresh_${s.workspaceId.slice(0, 8)}`, type: "customer.subscription.created", object: s.subscription };
    const fresh = await deliver(event, now() - 299);
    expect(fresh.status).toBe(200);
    expect(await traces(event.id, s.workspaceId)).toEqual({ ledger: 1, subscriptions: 1, plan: "pro" });
  });
});
