// A database connection that drops while the webhook is applying an event fails that delivery only:
// the server process lives on, the delivery answers 500 with nothing changed, and Stripe's redelivery
// applies it. (postgres.js 3.4 crashed the process when a connection dropped inside `sql.begin`.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as webhookRoute from "@/app/api/billing/webhook/route";
import { connect, makeUser, type Sql } from "../support/db";
import { startStripeFake, type StripeFake } from "../support/stripe-fake";
import { giveCustomer, signedEvent, subscriptionObject, enterStripeMode, webhookRequest, workspacePlan } from "../support/billing";

let sql: Sql;
let stripe: StripeFake;
// Anything the process could not catch: a crash, had it not been recorded here.
const uncaught: unknown[] = [];
const record = (error: unknown) => uncaught.push(error);

beforeAll(async () => {
  sql = connect();
  stripe = await startStripeFake();
  enterStripeMode(stripe.url);
  process.on("uncaughtException", record);
  process.on("unhandledRejection", record);
});
afterAll(async () => {
  process.off("uncaughtException", record);
  process.off("unhandledRejection", record);
  await stripe.stop();
  await sql.end();
});

const until = async <T>(probe: () => Promise<T | undefined>, what: string): Promise<T> => {
  for (let i = 0; i < 200; i++) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe("a dropped database connection during a webhook", () => {
  it("fails that delivery only (500, nothing applied, process alive), and a redelivery applies it", async () => {
    const user = await makeUser(sql, "drop");
    const customer = await giveCustomer(sql, user.workspaceId);
    const subscription = subscriptionObject({ customer, plan: "pro" });
    stripe.subscriptions.set(subscription.id, subscription);
    const { payload, signature, event } = signedEvent("customer.subscription.created", subscription);

    // Pause the webhook where it applies the event: it waits for the subscription's lock, held here.
    const held = await sql.reserve();
    await held`select pg_advisory_lock(hashtextextended(${`pacer:stripe-subscription:${subscription.id}`}, 0))`;
    let delivery: Promise<Response>;
    try {
      delivery = webhookRoute.POST(webhookRequest(payload, signature));
      const pid = await until(async () => {
        const [row] = await sql`select pid from pg_locks where locktype = 'advisory' and not granted`;
        return row?.pid as number | undefined;
      }, "the webhook to wait for the subscription's lock");
      // Cut its connection mid-flight, as a failover or a pooler restart would.
      await sql`select pg_terminate_backend(${pid})`;
      const response = await delivery;
      expect(response.status).toBe(500);
      expect((await response.json()).error.code).toBe("internal_error");
    } finally {
      await held`select pg_advisory_unlock_all()`;
      held.release();
    }

    // Whatever postgres.js does after a dropped connection happens on a later tick: give it one.
    await new Promise((r) => setTimeout(r, 500));
    expect(uncaught).toEqual([]);
    const [{ n }] = await sql`select count(*)::int as n from private.stripe_events where id = ${event.id}`;
    expect(n).toBe(0);
    expect((await workspacePlan(sql, user.workspaceId)).plan_id).toBe("free");

    // Stripe redelivers (a connection freshly reopened may first report the old one's end; Stripe retries again).
    let redelivered: Response | undefined;
    for (let i = 0; i < 3 && redelivered?.status !== 200; i++) {
      redelivered = await webhookRoute.POST(webhookRequest(payload, signature));
    }
    expect(redelivered!.status).toBe(200);
    expect((await workspacePlan(sql, user.workspaceId)).plan_id).toBe("pro");
    expect(uncaught).toEqual([]);
  });
});
