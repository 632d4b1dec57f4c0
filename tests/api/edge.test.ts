// The one edge every API route goes through (lib/api/handler.ts): a change authenticated by the
// session cookie must be JSON from Pacer's own origin (bearer tokens and Stripe's signed webhook are
// not CSRF-prone), every route counts against its declared rate-limit bucket, and bodies are capped.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as accountsRoute from "@/app/api/accounts/route";
import * as accountRoute from "@/app/api/accounts/[id]/route";
import * as usageRoute from "@/app/api/workspace/usage/route";
import * as billingRoute from "@/app/api/billing/route";
import * as checkoutRoute from "@/app/api/billing/checkout/route";
import * as portalRoute from "@/app/api/billing/portal/route";
import * as webhookRoute from "@/app/api/billing/webhook/route";
import * as addRoute from "@/app/api/queue/add/route";
import * as bulkRoute from "@/app/api/queue/bulk-post/route";
import * as cancelRoute from "@/app/api/queue/cancel/route";
import * as retryRoute from "@/app/api/queue/retry/route";
import * as processRoute from "@/app/api/queue/process/route";
import * as statusRoute from "@/app/api/queue/status/route";
import * as itemsRoute from "@/app/api/queue/items/route";
import { API_LIMITS, type ApiBucket } from "@/lib/api/limits";
import { BODY_LIMITS } from "@/lib/api/body";
import { connect, type Sql } from "../support/db";
import { sessionCookie, signUp, type TestUser } from "../support/users";

type Handler = (req: Request, ctx: any) => Promise<Response>;
const APP = "http://127.0.0.1:3000";

let sql: Sql;
let user: TestUser;
let cookie: string;

beforeAll(async () => {
  sql = connect();
  user = await signUp("edge");
  cookie = await sessionCookie(user);
});
afterAll(() => sql.end());

function call(handler: Handler, method: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const request = new Request(`${APP}/api/x`, { method, headers: init.headers, body: init.body });
  return handler(request, { params: Promise.resolve({ id: crypto.randomUUID() }) });
}

// Every route that changes something, with a body it would accept in shape.
const changes: Array<[string, Handler, string]> = [
  ["POST /api/accounts", accountsRoute.POST, "POST"],
  ["PATCH /api/accounts/:id", accountRoute.PATCH, "PATCH"],
  ["DELETE /api/accounts/:id", accountRoute.DELETE, "DELETE"],
  ["POST /api/billing/checkout", checkoutRoute.POST, "POST"],
  ["POST /api/billing/portal", portalRoute.POST, "POST"],
  ["POST /api/queue/add", addRoute.POST, "POST"],
  ["POST /api/queue/bulk-post", bulkRoute.POST, "POST"],
  ["POST /api/queue/cancel", cancelRoute.POST, "POST"],
  ["POST /api/queue/retry", retryRoute.POST, "POST"],
  ["POST /api/queue/process", processRoute.POST, "POST"],
];

describe("a change authenticated by the session cookie", () => {
  it.each(changes)("%s is refused without an Origin (403 cross_origin_request)", async (_name, handler, method) => {
    const res = await call(handler, method, { headers: { cookie, "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("cross_origin_request");
  });

  it.each(changes)("%s is refused from another origin", async (_name, handler, method) => {
    // Compared by host, as Next compares server actions' Origin (a TLS proxy may hide the scheme).
    for (const origin of ["https://evil.example", "http://127.0.0.1:3001", "http://127.0.0.1.evil.example:3000", "null"]) {
      const headers = { cookie, "content-type": "application/json", origin };
      const res = await call(handler, method, { headers, body: "{}" });
      expect(res.status, origin).toBe(403);
    }
  });

  it.each(changes)("%s is refused as a form or plain text, even from Pacer's origin (415)", async (_name, handler, method) => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", null]) {
      const headers: Record<string, string> = { cookie, origin: APP };
      if (type) headers["content-type"] = type;
      const res = await call(handler, method, { headers, body: "{}" });
      expect(res.status, String(type)).toBe(415);
      expect((await res.json()).error.code).toBe("unsupported_media_type");
    }
  });

  it.each(changes)("%s passes the check as JSON from Pacer's own origin", async (_name, handler, method) => {
    const headers = { cookie, origin: APP, "content-type": "application/json; charset=utf-8" };
    const res = await call(handler, method, { headers, body: "{}" });
    expect([403, 415]).not.toContain(res.status);
    expect(res.status).toBeLessThan(500);
  });

  it("is checked against the forwarded host behind a proxy", async () => {
    const headers = { cookie, "content-type": "application/json", "x-forwarded-host": "pacer.example.com" };
    const ok = await call(cancelRoute.POST, "POST", { headers: { ...headers, origin: "https://pacer.example.com" }, body: '{"ids":[1]}' });
    expect(ok.status).toBe(404);
    const forged = await call(cancelRoute.POST, "POST", { headers: { ...headers, origin: APP }, body: '{"ids":[1]}' });
    expect(forged.status).toBe(403);
  });

  it("reads need neither (GET carries no change)", async () => {
    expect((await call(accountsRoute.GET, "GET", { headers: { cookie } })).status).toBe(200);
  });
});

describe("a change with a bearer token", () => {
  it.each(changes)("%s needs no Origin and no JSON content type", async (_name, handler, method) => {
    const res = await call(handler, method, { headers: { authorization: `Bearer ${user.accessToken}` }, body: "{}" });
    expect([403, 415]).not.toContain(res.status);
    expect(res.status).toBeLessThan(500);
  });
});

describe("Stripe's webhook", () => {
  it("is exempt: a signed request needs no Origin (a missing signature is what it refuses)", async () => {
    const res = await webhookRoute.POST(new Request(`${APP}/api/billing/webhook`, { method: "POST", headers: { cookie }, body: "{}" }));
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("missing_signature");
  });
});

describe("Pacer's own rate limits", () => {
  const routes: Array<[string, ApiBucket, Handler, string]> = [
    ["GET /api/accounts", "read", accountsRoute.GET, "GET"],
    ["POST /api/accounts", "write", accountsRoute.POST, "POST"],
    ["PATCH /api/accounts/:id", "write", accountRoute.PATCH, "PATCH"],
    ["DELETE /api/accounts/:id", "write", accountRoute.DELETE, "DELETE"],
    ["GET /api/workspace/usage", "read", usageRoute.GET, "GET"],
    ["GET /api/billing", "read", billingRoute.GET, "GET"],
    ["POST /api/billing/checkout", "billing", checkoutRoute.POST, "POST"],
    ["POST /api/billing/portal", "billing", portalRoute.POST, "POST"],
    ["POST /api/queue/add", "write", addRoute.POST, "POST"],
    ["POST /api/queue/bulk-post", "bulk", bulkRoute.POST, "POST"],
    ["POST /api/queue/cancel", "write", cancelRoute.POST, "POST"],
    ["POST /api/queue/retry", "write", retryRoute.POST, "POST"],
    ["POST /api/queue/process", "process", processRoute.POST, "POST"],
    ["GET /api/queue/status", "read", statusRoute.GET, "GET"],
    ["GET /api/queue/items", "read", itemsRoute.GET, "GET"],
  ];

  it.each(routes)("%s counts against the %s bucket and answers 429 with Retry-After past it", async (_name, bucket, handler, method) => {
    const limited = await signUp(`limited-${bucket}`);
    // The window is persisted per user and bucket: fill it as earlier requests would have.
    await sql`insert into private.api_rate_limits (user_id, bucket, window_start, count)
              values (${limited.id}, ${bucket}, now(), ${API_LIMITS[bucket].limit})`;
    const res = await call(handler, method, {
      headers: { authorization: `Bearer ${limited.accessToken}`, "content-type": "application/json" },
      body: method === "GET" ? undefined : "{}",
    });
    expect(res.status).toBe(429);
    expect((await res.json()).error.code).toBe("rate_limited");
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(API_LIMITS[bucket].windowSeconds);
  });
});

describe("request bodies", () => {
  const big = (bytes: number) => JSON.stringify({ platform: "sandbox", handle: "big", displayName: "x".repeat(bytes) });

  it.each([
    ["POST /api/accounts", accountsRoute.POST, "POST"],
    ["PATCH /api/accounts/:id", accountRoute.PATCH, "PATCH"],
    ["POST /api/billing/checkout", checkoutRoute.POST, "POST"],
    ["POST /api/queue/add", addRoute.POST, "POST"],
  ] as Array<[string, Handler, string]>)("%s refuses a body over its cap with 413, declared or not", async (_name, handler, method) => {
    const headers = { authorization: `Bearer ${user.accessToken}`, "content-type": "application/json" };
    const body = big(BODY_LIMITS.default + 1);
    const declared = await call(handler, method, { headers: { ...headers, "content-length": String(body.length) }, body });
    expect(declared.status).toBe(413);
    // Streamed without a length: counted as it arrives.
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(body));
        c.close();
      },
    });
    const request = new Request(`${APP}/api/x`, { method, headers, body: stream, duplex: "half" } as RequestInit);
    const streamed = await handler(request, { params: Promise.resolve({ id: crypto.randomUUID() }) });
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).error.code).toBe("payload_too_large");
  });
});
