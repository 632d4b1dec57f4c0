// A local HTTP fake of the slice of Stripe's API Pacer uses (customers, products, prices,
// subscriptions, Checkout and portal sessions). The real SDK talks to it through its host/port/protocol
// options (STRIPE_API_BASE); every request is recorded so tests can assert exactly what Pacer sent.
// It answers errors as Stripe documents them, in Stripe's body shape `{ error: { type, code, message,
// param } }` (https://docs.stripe.com/api/errors): a wrong key, a lookup key already in use, an
// Idempotency-Key reused with other parameters, and injected 429s, 5xx and lost responses.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";

export interface RecordedRequest {
  method: string;
  path: string;
  /** Query (GET) or form body (POST) exactly as sent, bracketed keys flat: `line_items[0][price]`. */
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
}

type Obj = Record<string, any>;

/** The key the fake accepts unless told otherwise (the one tests/support/billing.ts configures). */
export const FAKE_SECRET_KEY = "sk_test_pacer_fake";

/**
 * A failure injected into the next requests to one endpoint:
 * - `api_error`: 500 before the endpoint runs (nothing is saved for its Idempotency-Key, so the
 *   SDK's retry, which it makes for 5xx, runs it afresh);
 * - `rate_limit`: 429 `rate_limit` (https://docs.stripe.com/rate-limits); the SDK does not retry it;
 * - `lost_response`: the endpoint runs and its result is saved, then the connection drops before
 *   the answer: the SDK retries with the same Idempotency-Key and gets the saved result.
 */
export type StripeFault = "api_error" | "rate_limit" | "lost_response";

export interface StripeFake {
  url: string;
  requests: RecordedRequest[];
  customers: Map<string, Obj>;
  products: Map<string, Obj>;
  prices: Map<string, Obj>;
  subscriptions: Map<string, Obj>;
  /** Requests matching a method and path (a string, or a pattern for ids). */
  requestsTo(method: string, path: string | RegExp): RecordedRequest[];
  /** The next `times` requests to `method path` fail with `fault`. */
  failNext(method: string, path: string | RegExp, fault: StripeFault, times?: number): void;
  stop(): Promise<void>;
}

const id = (prefix: string) => `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 24)}`;

/** `a[b][0][c]=x` pairs into nested objects and arrays, as Stripe reads them. */
function unflatten(params: Record<string, string>): Obj {
  const root: Obj = {};
  for (const [key, value] of Object.entries(params)) {
    const parts = key.replace(/\]/g, "").split("[");
    let node: any = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) {
        node[part] = value;
        return;
      }
      node[part] ??= /^\d+$/.test(parts[i + 1]) ? [] : {};
      node = node[part];
    });
  }
  return root;
}

interface Reply {
  status: number;
  body: unknown;
}

/** Stripe's error body: https://docs.stripe.com/api/errors (code and param only where Stripe gives one). */
function stripeError(status: number, type: string, message: string, extra: { code?: string; param?: string } = {}): Reply {
  return { status, body: { error: { type, message, ...extra } } };
}

const missing = (what: string, which: string) =>
  stripeError(404, "invalid_request_error", `No such ${what}: '${which}'`, { code: "resource_missing", param: "id" });

/** What Stripe answers a request without a valid secret key: 401 (the SDK raises StripeAuthenticationError). */
function unauthenticated(authorization: string | undefined, accepted: string): Reply | null {
  const key = authorization?.match(/^Bearer (.+)$/)?.[1];
  if (key === accepted) return null;
  if (!key) {
    return stripeError(401, "invalid_request_error",
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').");
  }
  return stripeError(401, "invalid_request_error", `Invalid API Key provided: ${key.slice(0, 8)}${"*".repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`);
}

const FAULT_REPLIES: Record<Exclude<StripeFault, "lost_response">, Reply> = {
  api_error: stripeError(500, "api_error", "An unknown error occurred on Stripe's side (injected by the fake)."),
  rate_limit: stripeError(429, "invalid_request_error",
    "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.", { code: "rate_limit" }),
};

export async function startStripeFake(opts: { secretKey?: string } = {}): Promise<StripeFake> {
  const acceptedKey = opts.secretKey ?? FAKE_SECRET_KEY;
  const faults: Array<{ method: string; path: string | RegExp; fault: StripeFault; left: number }> = [];
  const requests: RecordedRequest[] = [];
  const customers = new Map<string, Obj>();
  const products = new Map<string, Obj>();
  const prices = new Map<string, Obj>();
  const subscriptions = new Map<string, Obj>();
  // Results by Idempotency-Key, with the request they answered (https://docs.stripe.com/api/idempotent_requests).
  const idempotent = new Map<string, { request: string; reply: Reply }>();

  function handle(method: string, path: string, p: Record<string, string>): Reply {
    const body = unflatten(p);
    let m: RegExpMatchArray | null;
    if (method === "POST" && path === "/v1/customers") {
      const customer = { id: id("cus"), object: "customer", name: body.name ?? null, email: body.email ?? null, metadata: body.metadata ?? {} };
      customers.set(customer.id, customer);
      return { status: 200, body: customer };
    }
    if (method === "GET" && (m = path.match(/^\/v1\/customers\/([^/]+)$/))) {
      return customers.has(m[1]) ? { status: 200, body: customers.get(m[1]) } : missing("customer", m[1]);
    }
    if (method === "POST" && (m = path.match(/^\/v1\/customers\/([^/]+)$/))) {
      const customer = customers.get(m[1]);
      if (!customer) return missing("customer", m[1]);
      Object.assign(customer, body, { metadata: { ...customer.metadata, ...(body.metadata ?? {}) } });
      return { status: 200, body: customer };
    }
    if (method === "GET" && (m = path.match(/^\/v1\/products\/([^/]+)$/))) {
      return products.has(m[1]) ? { status: 200, body: products.get(m[1]) } : missing("product", m[1]);
    }
    if (method === "POST" && path === "/v1/products") {
      if (body.id && products.has(body.id)) {
        return stripeError(400, "invalid_request_error", "Product already exists.", { code: "resource_already_exists", param: "id" });
      }
      const product = { id: body.id ?? id("prod"), object: "product", active: true, name: body.name, description: body.description ?? null, metadata: body.metadata ?? {} };
      products.set(product.id, product);
      return { status: 200, body: product };
    }
    if (method === "POST" && (m = path.match(/^\/v1\/products\/([^/]+)$/))) {
      const product = products.get(m[1]);
      if (!product) return missing("product", m[1]);
      Object.assign(product, body, {
        active: body.active === undefined ? product.active : body.active === "true",
        metadata: { ...product.metadata, ...(body.metadata ?? {}) },
      });
      return { status: 200, body: product };
    }
    if (method === "GET" && path === "/v1/prices") {
      const keys: string[] = body.lookup_keys ?? [];
      const data = [...prices.values()].filter(
        (price) =>
          (keys.length === 0 || keys.includes(price.lookup_key)) &&
          (body.product === undefined || price.product === body.product) &&
          (body.active === undefined || String(price.active) === body.active),
      );
      return { status: 200, body: { object: "list", data: data.slice(0, Number(body.limit ?? 10)), has_more: false, url: "/v1/prices" } };
    }
    if (method === "POST" && path === "/v1/prices") {
      // A lookup key belongs to one price; taking it from another needs transfer_lookup_key
      // (https://docs.stripe.com/api/prices/create).
      const holder = body.lookup_key ? [...prices.values()].find((other) => other.lookup_key === body.lookup_key) : undefined;
      if (holder && body.transfer_lookup_key !== "true") {
        return stripeError(400, "invalid_request_error",
          `A price (\`${holder.id}\`) already uses that lookup key. Pass transfer_lookup_key=true to move it to this price.`,
          { code: "resource_already_exists", param: "lookup_key" });
      }
      if (holder) holder.lookup_key = null;
      const price = {
        id: id("price"),
        object: "price",
        active: true,
        currency: body.currency,
        unit_amount: Number(body.unit_amount),
        product: body.product,
        lookup_key: body.lookup_key ?? null,
        nickname: body.nickname ?? null,
        recurring: body.recurring ? { interval: body.recurring.interval, interval_count: Number(body.recurring.interval_count ?? 1) } : null,
        type: body.recurring ? "recurring" : "one_time",
        metadata: body.metadata ?? {},
      };
      prices.set(price.id, price);
      return { status: 200, body: price };
    }
    if (method === "POST" && (m = path.match(/^\/v1\/prices\/([^/]+)$/))) {
      const price = prices.get(m[1]);
      if (!price) return missing("price", m[1]);
      if (body.active !== undefined) price.active = body.active === "true";
      return { status: 200, body: price };
    }
    if (method === "GET" && (m = path.match(/^\/v1\/subscriptions\/([^/]+)$/))) {
      return subscriptions.has(m[1]) ? { status: 200, body: subscriptions.get(m[1]) } : missing("subscription", m[1]);
    }
    if (method === "POST" && path === "/v1/checkout/sessions") {
      const sessionId = id("cs_test");
      return {
        status: 200,
        body: {
          id: sessionId,
          object: "checkout.session",
          mode: body.mode,
          customer: body.customer,
          client_reference_id: body.client_reference_id ?? null,
          success_url: body.success_url,
          cancel_url: body.cancel_url,
          metadata: body.metadata ?? {},
          status: "open",
          url: `https://checkout.stripe.test/c/pay/${sessionId}`,
        },
      };
    }
    if (method === "POST" && path === "/v1/billing_portal/sessions") {
      const sessionId = id("bps");
      return {
        status: 200,
        body: {
          id: sessionId,
          object: "billing_portal.session",
          customer: body.customer,
          return_url: body.return_url ?? null,
          url: `https://billing.stripe.test/p/session/${sessionId}`,
        },
      };
    }
    return stripeError(404, "invalid_request_error", `Unrecognized request URL (${method}: ${path}).`);
  }

  /** The injected fault for this request, if one is waiting (each is used up as it fires). */
  function takeFault(method: string, path: string): StripeFault | null {
    const i = faults.findIndex((f) => f.method === method && (typeof f.path === "string" ? f.path === path : f.path.test(path)));
    if (i < 0) return null;
    const f = faults[i];
    if (--f.left <= 0) faults.splice(i, 1);
    return f.fault;
  }

  /** Stripe's idempotency layer in front of `handle`: replays a saved result, refuses a key reused for another request. */
  function idempotently(method: string, path: string, params: Record<string, string>, key: string | undefined): Reply & { replayed?: boolean } {
    if (method !== "POST" || !key) return handle(method, path, params);
    const request = `${method} ${path} ${JSON.stringify(Object.entries(params).sort())}`;
    const saved = idempotent.get(key);
    if (saved && saved.request !== request) {
      return stripeError(400, "idempotency_error",
        `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`);
    }
    if (saved) return { ...saved.reply, replayed: true };
    const reply = handle(method, path, params);
    // Saved once the endpoint ran; requests refused in validation (4xx here) can be retried as they are.
    if (reply.status < 400 || reply.status >= 500) idempotent.set(key, { request, reply });
    return reply;
  }

  function send(res: ServerResponse, reply: Reply & { replayed?: boolean }) {
    res.writeHead(reply.status, {
      "content-type": "application/json",
      "request-id": id("req"),
      ...(reply.replayed ? { "idempotent-replayed": "true" } : {}),
    });
    res.end(JSON.stringify(reply.body));
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const raw = req.method === "GET" ? url.searchParams : new URLSearchParams(Buffer.concat(chunks).toString());
      const params = Object.fromEntries(raw.entries());
      const method = req.method ?? "GET";
      requests.push({ method, path: url.pathname, params, headers: req.headers });
      const refused = unauthenticated(req.headers.authorization, acceptedKey);
      if (refused) return send(res, refused);
      const fault = takeFault(method, url.pathname);
      if (fault && fault !== "lost_response") return send(res, FAULT_REPLIES[fault]);
      const key = req.headers["idempotency-key"];
      const reply = idempotently(method, url.pathname, params, typeof key === "string" ? key : undefined);
      if (fault === "lost_response") return void req.socket.destroy();
      send(res, reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    customers,
    products,
    prices,
    subscriptions,
    requestsTo: (method, path) =>
      requests.filter((r) => r.method === method && (typeof path === "string" ? r.path === path : path.test(r.path))),
    failNext: (method, path, fault, times = 1) => void faults.push({ method, path, fault, left: times }),
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
