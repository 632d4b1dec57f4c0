// `npm run stripe:sync`'s work against a local fake of Stripe's API: products and prices from
// public.plans, idempotent by lookup key, and a changed amount replacing the price under the same key.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { listPlans, type Plan } from "@/lib/billing/plans";
import { stripeClient } from "@/lib/billing/stripe";
import { syncStripeCatalog } from "@/lib/billing/sync";
import { connect, type Sql } from "../support/db";
import { startStripeFake, type StripeFake } from "../support/stripe-fake";
import { enterStripeMode } from "../support/billing";

let sql: Sql;
let stripe: StripeFake;
let plans: Plan[];

beforeAll(async () => {
  sql = connect();
  plans = await listPlans(sql);
});
afterAll(() => sql.end());
beforeEach(async () => {
  stripe = await startStripeFake();
  enterStripeMode(stripe.url);
});

describe("stripe:sync", () => {
  it("creates a product and a monthly price for each paid plan, named by lookup key", async () => {
    const changes = await syncStripeCatalog(stripeClient(), plans);
    expect(changes.map((c) => [c.planId, c.product, c.price, c.lookupKey])).toEqual([
      ["starter", "created", "created", "pacer_starter_monthly"],
      ["growth", "created", "created", "pacer_growth_monthly"],
      ["pro", "created", "created", "pacer_pro_monthly"],
      ["enterprise", "created", "created", "pacer_enterprise_monthly"],
      ["ultra", "created", "created", "pacer_ultra_monthly"],
    ]);
    const prices = [...stripe.prices.values()].map((p) => [p.lookup_key, p.unit_amount, p.currency, p.recurring.interval, p.product]);
    expect(prices).toEqual([
      ["pacer_starter_monthly", 2999, "usd", "month", "pacer_starter"],
      ["pacer_growth_monthly", 7999, "usd", "month", "pacer_growth"],
      ["pacer_pro_monthly", 19999, "usd", "month", "pacer_pro"],
      ["pacer_enterprise_monthly", 49999, "usd", "month", "pacer_enterprise"],
      ["pacer_ultra_monthly", 99999, "usd", "month", "pacer_ultra"],
    ]);
    expect(stripe.products.get("pacer_pro")).toMatchObject({
      name: "Pacer Pro",
      description: "Publish to up to 150 social accounts.",
      metadata: { pacer_plan: "pro", max_accounts: "150" },
    });
    expect(stripe.requestsTo("POST", "/v1/prices")[0].params).toMatchObject({
      product: "pacer_starter",
      currency: "usd",
      unit_amount: "2999",
      "recurring[interval]": "month",
      lookup_key: "pacer_starter_monthly",
      transfer_lookup_key: "true",
    });
    expect(stripe.products.has("pacer_free")).toBe(false);
  });

  it("changes nothing on a second run", async () => {
    await syncStripeCatalog(stripeClient(), plans);
    const writes = stripe.requests.filter((r) => r.method === "POST").length;
    const changes = await syncStripeCatalog(stripeClient(), plans);
    expect(changes.every((c) => c.product === "unchanged" && c.price === "unchanged")).toBe(true);
    expect(stripe.requests.filter((r) => r.method === "POST").length).toBe(writes);
  });

  it("replaces a price whose amount changed, moving the lookup key and archiving the old one", async () => {
    const first = await syncStripeCatalog(stripeClient(), plans);
    const oldPro = first.find((c) => c.planId === "pro")!.priceId;
    const repriced = plans.map((p) => (p.id === "pro" ? { ...p, priceCents: 17999, maxAccounts: 175 } : p));
    const changes = await syncStripeCatalog(stripeClient(), repriced);
    const pro = changes.find((c) => c.planId === "pro")!;
    expect([pro.product, pro.price]).toEqual(["updated", "replaced"]);
    expect(changes.filter((c) => c.planId !== "pro").every((c) => c.price === "unchanged")).toBe(true);
    expect(stripe.prices.get(oldPro)).toMatchObject({ active: false, lookup_key: null });
    expect(stripe.prices.get(pro.priceId)).toMatchObject({ active: true, lookup_key: "pacer_pro_monthly", unit_amount: 17999 });
    expect(stripe.products.get("pacer_pro")!.metadata.max_accounts).toBe("175");
  });
});
