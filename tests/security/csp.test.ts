// The pages' Content-Security-Policy: scripts only by nonce, no framing, the browser talks only to
// Pacer and Supabase Auth; eval only under `next dev`; https upgrades only when served over https.
import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, newNonce } from "@/lib/security/csp";

const directives = (csp: string) =>
  Object.fromEntries(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));

describe("the Content-Security-Policy", () => {
  const base = { nonce: "abc123", dev: false, supabaseUrl: "https://ref.supabase.co", https: true };

  it("runs only scripts carrying this request's nonce, and nothing inline or eval'd", () => {
    const d = directives(contentSecurityPolicy(base));
    expect(d["script-src"]).toContain("'nonce-abc123'");
    expect(d["script-src"]).toContain("'strict-dynamic'");
    expect(d["script-src"]).not.toContain("'unsafe-inline'");
    expect(d["script-src"]).not.toContain("'unsafe-eval'");
    expect(d["object-src"]).toEqual(["'none'"]);
    expect(d["base-uri"]).toEqual(["'self'"]);
  });

  it("lets no site frame a page", () => {
    expect(directives(contentSecurityPolicy(base))["frame-ancestors"]).toEqual(["'none'"]);
  });

  it("connects only to Pacer and Supabase (https and its websocket)", () => {
    expect(directives(contentSecurityPolicy(base))["connect-src"]).toEqual(["'self'", "https://ref.supabase.co", "wss://ref.supabase.co"]);
  });

  it("allows eval only under next dev, and upgrades requests only over https", () => {
    const dev = directives(contentSecurityPolicy({ ...base, dev: true, https: false, supabaseUrl: "http://127.0.0.1:54321" }));
    expect(dev["script-src"]).toContain("'unsafe-eval'");
    expect(dev["upgrade-insecure-requests"]).toBeUndefined();
    expect(dev["connect-src"]).toEqual(["'self'", "http://127.0.0.1:54321", "ws://127.0.0.1:54321"]);
    expect(directives(contentSecurityPolicy(base))["upgrade-insecure-requests"]).toEqual([]);
  });

  it("gets a fresh, unguessable nonce per request", () => {
    const nonces = new Set(Array.from({ length: 100 }, newNonce));
    expect(nonces.size).toBe(100);
    for (const n of nonces) expect(atob(n)).toHaveLength(16);
  });
});
