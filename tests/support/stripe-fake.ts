// A local HTTP fake of the slice of Stripe's API Pacer uses (customers, products, prices,
// subscriptions, Checkout and portal sessions). The real SDK talks to it through its host/port/protocol
// options (STRIPE_API_BASE); every request is recorded so tests can assert exactly what Pacer sent.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { randomUUID } from "node:crypto";

export interface RecordedRequest {
  method: string;
  path: string;
  /** Query (GET) or form body (POST) exactly as sent, bracketed keys flat: `line_items[0][price]`. */
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
}

type Obj = Record<string, any>;

export interface StripeFake {
  url: string;
  requests: RecordedRequest[];
  customers: Map<string, Obj>;
  products: Map<string, Obj>;
  prices: Map<string, Obj>;
  subscriptions: Map<string, Obj>;
  /** Requests matching a method and path (a string, or a pattern for ids). */
  requestsTo(method: string, path: string | RegExp): RecordedRequest[];
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

const missing = (what: string, which: string) => ({
  status: 404,
  body: { error: { type: "invalid_request_error", code: "resource_missing", message: `No such ${what}: '${which}'`, param: "id" } },
});

export async function startStripeFake(): Promise<StripeFake> {
  const requests: RecordedRequest[] = [];
  const customers = new Map<string, Obj>();
  const products = new Map<string, Obj>();
  const prices = new Map<string, Obj>();
  const subscriptions = new Map<string, Obj>();
  const idempotent = new Map<string, { status: number; body: unknown }>();

  function handle(method: string, path: string, p: Record<string, string>): { status: number; body: unknown } {
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
    if (method === "GET" && (m = path.match(/^\/v1\/products\/([^/]+)$/))) {
      return products.has(m[1]) ? { status: 200, body: products.get(m[1]) } : missing("product", m[1]);
    }
    if (method === "POST" && path === "/v1/products") {
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
          (body.active === undefined || String(price.active) === body.active),
      );
      return { status: 200, body: { object: "list", data: data.slice(0, Number(body.limit ?? 10)), has_more: false, url: "/v1/prices" } };
    }
    if (method === "POST" && path === "/v1/prices") {
      if (body.lookup_key && body.transfer_lookup_key === "true") {
        for (const other of prices.values()) if (other.lookup_key === body.lookup_key) other.lookup_key = null;
      }
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
    return { status: 404, body: { error: { type: "invalid_request_error", message: `Unrecognized request URL (${method}: ${path}).` } } };
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const raw = req.method === "GET" ? url.searchParams : new URLSearchParams(Buffer.concat(chunks).toString());
      const params = Object.fromEntries(raw.entries());
      requests.push({ method: req.method ?? "GET", path: url.pathname, params, headers: req.headers });
      const key = req.method === "POST" ? req.headers["idempotency-key"] : undefined;
      const cacheKey = typeof key === "string" ? `${url.pathname}\n${key}` : undefined;
      const result = (cacheKey && idempotent.get(cacheKey)) || handle(req.method ?? "GET", url.pathname, params);
      if (cacheKey && result.status === 200) idempotent.set(cacheKey, result);
      res.writeHead(result.status, { "content-type": "application/json", "request-id": id("req") });
      res.end(JSON.stringify(result.body));
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
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
