// Which requests run proxy.ts: every page (its CSP nonce, the session refresh, the dashboard's
// sign-in redirect) and API requests riding on the session cookie (which may need refreshing); not
// API requests with an Authorization header, which the route authenticates from that header alone.
import { AsyncLocalStorage } from "node:async_hooks";
import { describe, expect, it } from "vitest";

// next/server expects the AsyncLocalStorage its own server provides; imported after it is set.
(globalThis as { AsyncLocalStorage?: unknown }).AsyncLocalStorage ??= AsyncLocalStorage;
const { unstable_doesMiddlewareMatch } = await import("next/experimental/testing/server");
const { config } = await import("@/proxy");

const runs = (url: string, headers: Record<string, string> = {}) =>
  unstable_doesMiddlewareMatch({ config, url: `http://127.0.0.1:3000${url}`, headers });

describe("proxy.ts", () => {
  it("runs on every page, signed in or not", () => {
    for (const page of ["/", "/sign-in", "/dashboard", "/dashboard/queue?status=failed"]) expect(runs(page), page).toBe(true);
    expect(runs("/dashboard", { cookie: "sb-127-auth-token=x" })).toBe(true);
  });

  it("runs on API requests that ride on the session cookie, or carry nothing", () => {
    expect(runs("/api/queue/status", { cookie: "sb-127-auth-token=x" })).toBe(true);
    expect(runs("/api/accounts")).toBe(true);
  });

  it("skips API requests with an access token or an API key", () => {
    for (const token of ["Bearer eyJhbGciOiJFUzI1NiJ9.e30.x", "Bearer pk_live_x"]) {
      expect(runs("/api/queue/status", { authorization: token }), token).toBe(false);
      expect(runs("/api/accounts?limit=10", { authorization: token }), token).toBe(false);
    }
  });

  it("skips static assets", () => {
    for (const asset of ["/_next/static/chunks/app.js", "/favicon.ico", "/logo.svg"]) expect(runs(asset), asset).toBe(false);
  });
});
