// The Stripe fake answers as Stripe documents (https://docs.stripe.com/api/errors,
// /api/idempotent_requests, /api/prices/create), checked over HTTP and through the real SDK, so
// tests of Pacer's billing code meet the errors production would.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Stripe from "stripe";
import { FAKE_SECRET_KEY, startStripeFake, type StripeFake } from "../support/stripe-fake";

let fake: StripeFake;
beforeAll(async () => {
  fake = await startStripeFake();
});
afterAll(() => fake.stop());

function sdk(key = FAKE_SECRET_KEY, maxNetworkRetries = 2) {
  const url = new URL(fake.url);
  return new Stripe(key, { host: url.hostname, port: url.port, protocol: "http", maxNetworkRetries });
}

/** A raw form POST, to see Stripe's status and body shape without the SDK in between. */
async function post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(`${fake.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${FAKE_SECRET_KEY}`, "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

const caught = (promise: Promise<unknown>) => promise.then(() => null, (error) => error as Stripe.errors.StripeError);

describe("authentication", () => {
  it("answers 401 to a wrong key or none, which the SDK raises as StripeAuthenticationError", async () => {
    const none = await fetch(`${fake.url}/v1/customers`, { method: "POST" });
    expect(none.status).toBe(401);
    expect((await none.json()).error).toMatchObject({ type: "invalid_request_error", message: expect.stringMatching(/^You did not provide an API key/) });

    const error = await caught(sdk("sk_test_someone_elses_key").customers.create({ name: "x" }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error).toMatchObject({ statusCode: 401, message: expect.stringMatching(/^Invalid API Key provided: sk_test_\**_key$/) });
    expect(fake.customers.size).toBe(0);
  });
});

describe("lookup keys", () => {
  it("refuses a price whose lookup key another price holds, unless transfer_lookup_key moves it", async () => {
    const stripe = sdk();
    const product = await stripe.products.create({ name: "Lookup" });
    const price = { product: product.id, currency: "usd", unit_amount: 100, recurring: { interval: "month" as const }, lookup_key: "fake_lookup" };
    const first = await stripe.prices.create(price);

    const raw = await post("/v1/prices", { product: product.id, currency: "usd", unit_amount: "200", lookup_key: "fake_lookup" });
    expect(raw.status).toBe(400);
    expect(raw.body.error).toEqual({
      type: "invalid_request_error",
      code: "resource_already_exists",
      param: "lookup_key",
      message: expect.stringContaining(first.id),
    });
    const error = await caught(stripe.prices.create({ ...price, unit_amount: 200 }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error?.code).toBe("resource_already_exists");

    const moved = await stripe.prices.create({ ...price, unit_amount: 300, transfer_lookup_key: true });
    expect(fake.prices.get(first.id)!.lookup_key).toBeNull();
    expect((await stripe.prices.list({ lookup_keys: ["fake_lookup"] })).data.map((p) => p.id)).toEqual([moved.id]);
  });

  it("refuses a product id that exists", async () => {
    await sdk().products.create({ id: "fake_dup_product", name: "Once" });
    const error = await caught(sdk().products.create({ id: "fake_dup_product", name: "Twice" }));
    expect(error).toMatchObject({ statusCode: 400, code: "resource_already_exists", param: "id" });
  });
});

describe("idempotency keys", () => {
  it("replays the saved result for the same key and parameters, and refuses the key with other parameters", async () => {
    const first = await post("/v1/customers", { name: "Ada" }, { "idempotency-key": "fake-key-1" });
    const again = await post("/v1/customers", { name: "Ada" }, { "idempotency-key": "fake-key-1" });
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get("idempotent-replayed")).toBe("true");

    const other = await post("/v1/customers", { name: "Grace" }, { "idempotency-key": "fake-key-1" });
    expect(other.status).toBe(400);
    expect(other.body.error).toEqual({ type: "idempotency_error", message: expect.stringMatching(/same parameters they were first used with/) });
    const elsewhere = await post("/v1/products", { name: "Ada" }, { "idempotency-key": "fake-key-1" });
    expect(elsewhere.body.error.type).toBe("idempotency_error");

    const error = await caught(sdk().customers.create({ name: "Grace" }, { idempotencyKey: "fake-key-1" }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect([...fake.customers.values()].filter((c) => c.name === "Ada" || c.name === "Grace")).toHaveLength(1);
  });
});

describe("injected faults", () => {
  it("answers 429 rate_limit, which the SDK raises without retrying", async () => {
    fake.failNext("POST", "/v1/customers", "rate_limit");
    const before = fake.requestsTo("POST", "/v1/customers").length;
    const error = await caught(sdk().customers.create({ name: "limited" }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(error).toMatchObject({ statusCode: 429, code: "rate_limit" });
    expect(fake.requestsTo("POST", "/v1/customers").length - before).toBe(1);
    // Used up: the next request goes through.
    expect((await sdk().customers.create({ name: "after the limit" })).id).toMatch(/^cus_/);
  });

  it("answers 500 api_error, which the SDK retries with the same key: two failures are invisible, three are not", async () => {
    fake.failNext("POST", "/v1/customers", "api_error", 2);
    const before = fake.requestsTo("POST", "/v1/customers").length;
    const customer = await sdk().customers.create({ name: "retried" });
    const sent = fake.requestsTo("POST", "/v1/customers").slice(before);
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((r) => r.headers["idempotency-key"])).size).toBe(1);
    expect([...fake.customers.values()].filter((c) => c.name === "retried").map((c) => c.id)).toEqual([customer.id]);

    fake.failNext("GET", /^\/v1\/customers\//, "api_error", 3);
    const error = await caught(sdk().customers.retrieve(customer.id));
    expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(error).toMatchObject({ statusCode: 500, type: "StripeAPIError" });
  });

  it("loses a response after the endpoint ran: the SDK's retry gets the saved result, not a second object", async () => {
    fake.failNext("POST", "/v1/customers", "lost_response");
    const customer = await sdk().customers.create({ name: "answer lost once" });
    expect([...fake.customers.values()].filter((c) => c.name === "answer lost once").map((c) => c.id)).toEqual([customer.id]);
  });
});
