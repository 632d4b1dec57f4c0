// Retry timing: 10, 20, 40 minutes then failed, jittered within bounds, never before a rate limit lifts.
import { describe, expect, it } from "vitest";
import { backoff, DEFAULT_RETRY_POLICY, nextRun, retryDelayMs } from "@/lib/engine/backoff.ts";
import { MAX_RATE_LIMIT_DELAY_MS } from "@/lib/connectors/http.ts";

const MIN = 60_000;
const noJitter = () => 0.5;
const NOW = new Date("2026-11-24T12:00:00Z");
const at = (ms: number) => ({ retryAt: new Date(NOW.getTime() + ms) });

describe("retryDelayMs", () => {
  it("waits 10, 20, then 40 minutes, then gives up", () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, DEFAULT_RETRY_POLICY, noJitter))).toEqual([10 * MIN, 20 * MIN, 40 * MIN, null]);
  });

  it("keeps jitter within ±10%", () => {
    expect(retryDelayMs(1, DEFAULT_RETRY_POLICY, () => 0)).toBe(9 * MIN);
    const highest = retryDelayMs(1, DEFAULT_RETRY_POLICY, () => 0.999_999)!;
    expect(highest).toBeLessThanOrEqual(11 * MIN);
    expect(highest).toBeGreaterThan(10.99 * MIN);
  });

  it("follows a workspace's own policy", () => {
    const policy = { baseMs: 1_000, factor: 3, maxRetries: 2, jitter: 0 };
    expect([1, 2, 3].map((n) => retryDelayMs(n, policy))).toEqual([1_000, 3_000, null]);
  });
});

describe("backoff", () => {
  it("says when to run again while retries are left, and gives up in words once they are spent", () => {
    expect([1, 2, 3].map((n) => backoff(NOW, n, DEFAULT_RETRY_POLICY, noJitter))).toEqual([at(10 * MIN), at(20 * MIN), at(40 * MIN)]);
    expect(backoff(NOW, 4, DEFAULT_RETRY_POLICY, noJitter)).toBe("give_up");
    // A policy without retries gives up after the first attempt, even for a rate limit with no reset.
    const none = { ...DEFAULT_RETRY_POLICY, maxRetries: 0 };
    expect(backoff(NOW, 1, none, noJitter)).toBe("give_up");
    expect(nextRun(NOW, { kind: "rate_limited", retryAfterMs: null, message: "" }, 1, none, noJitter)).toBe("give_up");
  });
});

describe("nextRun", () => {
  it("backs off after a retryable or unverified-not-found outcome", () => {
    expect(nextRun(NOW, { kind: "retryable", message: "" }, 2, DEFAULT_RETRY_POLICY, noJitter)).toEqual(at(20 * MIN));
    expect(nextRun(NOW, { kind: "unknown", message: "" }, 1, DEFAULT_RETRY_POLICY, noJitter)).toEqual(at(10 * MIN));
    expect(nextRun(NOW, { kind: "retryable", message: "" }, 4, DEFAULT_RETRY_POLICY, noJitter)).toBe("give_up");
  });

  it("never runs before a rate limit's reset, even with the lowest jitter", () => {
    const limited = { kind: "rate_limited", retryAfterMs: 2 * 60 * MIN, message: "" } as const;
    expect(nextRun(NOW, limited, 1, DEFAULT_RETRY_POLICY, () => 0)).toEqual(at(2 * 60 * MIN));
    const { retryAt } = nextRun(NOW, limited, 1, DEFAULT_RETRY_POLICY, () => 0.999) as { retryAt: Date };
    expect(retryAt.getTime()).toBeLessThanOrEqual(at(2.2 * 60 * MIN).retryAt.getTime());
  });

  it("waits out a short reset rather than the backoff, and is not failed by being limited", () => {
    const limited = { kind: "rate_limited", retryAfterMs: 30_000, message: "" } as const;
    expect(nextRun(NOW, limited, 9, DEFAULT_RETRY_POLICY, () => 0)).toEqual(at(30_000));
    const noReset = { kind: "rate_limited", retryAfterMs: null, message: "" } as const;
    expect(nextRun(NOW, noReset, 9, DEFAULT_RETRY_POLICY, noJitter)).toEqual(at(40 * MIN));
  });

  it("never waits a rate limit longer than MAX_RATE_LIMIT_DELAY_MS (7 days), whatever the connector asked", () => {
    for (const retryAfterMs of [4102444800_000 - NOW.getTime(), Number.POSITIVE_INFINITY, 7 * 24 * 60 * MIN]) {
      const limited = { kind: "rate_limited", retryAfterMs, message: "" } as const;
      expect(nextRun(NOW, limited, 1, DEFAULT_RETRY_POLICY, () => 0.999)).toEqual(at(MAX_RATE_LIMIT_DELAY_MS));
    }
    // Not a number: treated as no reset given (the backoff), never an invalid date.
    expect(nextRun(NOW, { kind: "rate_limited", retryAfterMs: Number.NaN, message: "" }, 1, DEFAULT_RETRY_POLICY, noJitter)).toEqual(at(10 * MIN));
  });

  it("does not retry what is posted or refused for good", () => {
    for (const outcome of [
      { kind: "posted", externalId: "1" },
      { kind: "permanent", message: "" },
      { kind: "auth_expired", message: "" },
      { kind: "restricted", message: "" },
      { kind: "destination_rejected", message: "" },
    ] as const) {
      expect(nextRun(NOW, outcome, 1, DEFAULT_RETRY_POLICY, noJitter)).toBe("give_up");
    }
  });
});
