// Classification every connector shares: rate-limit headers as platforms send them, statuses, and
// fetch errors split into "never sent" (retryable) and "may have landed" (unknown).
import { describe, expect, it } from "vitest";
import { classifyFetchError, classifyStatus, parseRetryAfter, rateLimitDelayMs } from "@/lib/connectors/http.ts";

const NOW = Date.parse("2026-11-24T12:00:00Z");
const headers = (h: Record<string, string>) => new Headers(h);

describe("rate-limit delays", () => {
  it("reads Retry-After as delay-seconds", () => {
    expect(parseRetryAfter("120", NOW)).toBe(120_000);
    expect(parseRetryAfter(" 0 ", NOW)).toBe(0);
  });

  it("reads Retry-After as an HTTP-date, a past date meaning now", () => {
    expect(parseRetryAfter("Tue, 24 Nov 2026 12:01:30 GMT", NOW)).toBe(90_000);
    expect(parseRetryAfter("Tue, 24 Nov 2026 11:00:00 GMT", NOW)).toBe(0);
  });

  it("ignores a Retry-After it cannot read", () => {
    expect(parseRetryAfter("soon", NOW)).toBeNull();
    expect(parseRetryAfter(null, NOW)).toBeNull();
  });

  it("reads X's x-rate-limit-reset as epoch seconds", () => {
    expect(rateLimitDelayMs(headers({ "x-rate-limit-reset": String(NOW / 1000 + 900) }), NOW)).toBe(900_000);
  });

  it("reads Mastodon's x-ratelimit-reset as an ISO 8601 time", () => {
    expect(rateLimitDelayMs(headers({ "x-ratelimit-reset": "2026-11-24T12:05:00.000000Z" }), NOW)).toBe(300_000);
  });

  it("reads ratelimit-reset as delta seconds (IETF draft) or epoch seconds (Bluesky)", () => {
    expect(rateLimitDelayMs(headers({ "ratelimit-reset": "30" }), NOW)).toBe(30_000);
    expect(rateLimitDelayMs(headers({ "ratelimit-reset": String(NOW / 1000 + 60) }), NOW)).toBe(60_000);
  });

  it("prefers Retry-After over reset headers, and gives null when there are none", () => {
    expect(rateLimitDelayMs(headers({ "retry-after": "5", "x-rate-limit-reset": String(NOW / 1000 + 900) }), NOW)).toBe(5_000);
    expect(rateLimitDelayMs(headers({}), NOW)).toBeNull();
  });
});

describe("statuses", () => {
  const kind = (status: number, h: Record<string, string> = {}) => classifyStatus(status, headers(h), "", NOW)?.kind ?? null;

  it("leaves 2xx to the connector", () => expect(kind(201)).toBeNull());
  it("makes 429 rate_limited with the header's delay", () => {
    expect(classifyStatus(429, headers({ "retry-after": "7" }), "", NOW)).toMatchObject({ kind: "rate_limited", retryAfterMs: 7_000 });
    expect(classifyStatus(429, headers({}), "", NOW)).toMatchObject({ kind: "rate_limited", retryAfterMs: null });
  });
  it("makes 401 auth_expired", () => expect(kind(401)).toBe("auth_expired"));
  it("makes 5xx unknown: the post may be stored", () => {
    expect(kind(500)).toBe("unknown");
    expect(kind(504)).toBe("unknown");
  });
  it("makes 408 retryable: the server says it did not process the request", () => expect(kind(408)).toBe("retryable"));
  it("makes other 4xx permanent", () => {
    expect(kind(400)).toBe("permanent");
    expect(kind(403)).toBe("permanent");
    expect(kind(422)).toBe("permanent");
  });
});

describe("fetch errors", () => {
  const fetchFailed = (cause: unknown) => new TypeError("fetch failed", { cause });
  const withCode = (code: string) => Object.assign(new Error(code), { code });

  it("a refused connection or failed DNS lookup is retryable: nothing was sent", () => {
    expect(classifyFetchError(fetchFailed(withCode("ECONNREFUSED"))).kind).toBe("retryable");
    expect(classifyFetchError(fetchFailed(withCode("ENOTFOUND"))).kind).toBe("retryable");
    const happyEyeballs = Object.assign(new AggregateError([withCode("ECONNREFUSED"), withCode("ECONNREFUSED")]), { code: undefined });
    expect(classifyFetchError(fetchFailed(happyEyeballs)).kind).toBe("retryable");
  });

  it("recognises Deno's connect errors as never sent", () => {
    const denoError = (detail: string) => fetchFailed(new Error(`error sending request for url (http://x/): client error (Connect): ${detail}`));
    expect(classifyFetchError(denoError("tcp connect error: Connection refused (os error 111)")).kind).toBe("retryable");
    expect(classifyFetchError(denoError("dns error: failed to lookup address information")).kind).toBe("retryable");
  });

  it("a reset or closed socket is unknown: the request may have arrived", () => {
    expect(classifyFetchError(fetchFailed(withCode("ECONNRESET"))).kind).toBe("unknown");
    expect(classifyFetchError(fetchFailed(withCode("UND_ERR_SOCKET"))).kind).toBe("unknown");
  });

  it("a timeout or abort is unknown, even if the error looks like a refusal", () => {
    expect(classifyFetchError(new DOMException("timed out", "TimeoutError")).kind).toBe("unknown");
    expect(classifyFetchError(new DOMException("aborted", "AbortError")).kind).toBe("unknown");
    const controller = new AbortController();
    controller.abort();
    expect(classifyFetchError(fetchFailed(withCode("ECONNREFUSED")), controller.signal).kind).toBe("unknown");
  });
});
