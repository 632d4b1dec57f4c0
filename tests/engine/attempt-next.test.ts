// Every attempt says in words what happens to its item next: run again at a time, give up, done, or
// verify. "No retry left" is "give_up", never a missing time that other outcomes share.
import { describe, expect, it } from "vitest";
import { runAttempt } from "../../lib/engine/attempt.ts";
import { DEFAULT_RETRY_POLICY } from "../../lib/engine/backoff.ts";
import type { ClaimedItem } from "../../lib/engine/store.ts";
import type { Connector, Lookup, PublishOutcome } from "../../lib/connectors/types.ts";

/** A platform that answers every publish with `outcome` and every lookup with `lookup`. */
function answering(outcome: PublishOutcome, lookup: Lookup = { kind: "not_found" }): Connector {
  return {
    platform: "sandbox",
    connect: async () => ({ kind: "unavailable", message: "not used" }),
    publish: async () => outcome,
    lookup: async () => lookup,
    recentPosts: async () => ({ posts: [], complete: true }),
    readMetrics: async () => ({ reach: 0, engagement: 0, followers: 0, observedAt: new Date().toISOString() }),
  };
}

const item = (mode: "publish" | "verify", attempts: number): ClaimedItem => ({
  id: 1, leaseId: "00000000-0000-0000-0000-000000000001", leaseEndsAt: Date.now() + 120_000, mode, attempts,
  verifyAttempts: mode === "verify" ? 1 : 0, idempotencyKey: "00000000-0000-0000-0000-000000000002", workspaceId: "w",
  accountId: "a", platform: "sandbox", handle: "h", credentialsEncrypted: null, action: "post", text: "hello", mediaUrls: [],
  firstComment: null, destination: null,
});

const attempt = (claimed: ClaimedItem, connector: Connector) =>
  runAttempt(claimed, { worker: "next-test", connectorFor: () => connector, retry: DEFAULT_RETRY_POLICY, callTimeoutMs: 5_000, verifyRetryMs: [10] });

describe("what an attempt decides next", () => {
  it("retries a retryable failure while retries are left, then gives up", async () => {
    const retryable: PublishOutcome = { kind: "retryable", message: "503" };
    const before = Date.now();
    const first = await attempt(item("publish", 1), answering(retryable));
    expect(first.next).toEqual({ retryAt: expect.any(Date) });
    expect((first.next as { retryAt: Date }).retryAt.getTime()).toBeGreaterThan(before + 9 * 60_000);
    const last = await attempt(item("publish", DEFAULT_RETRY_POLICY.maxRetries + 1), answering(retryable));
    expect(last.outcome).toBe("retryable");
    expect(last.next).toBe("give_up");
  });

  it("gives up on a refusal retrying cannot fix, is done when posted, and verifies what it cannot know", async () => {
    expect((await attempt(item("publish", 1), answering({ kind: "permanent", message: "no" }))).next).toBe("give_up");
    expect((await attempt(item("publish", 1), answering({ kind: "posted", externalId: "p1" }))).next).toBe("done");
    expect((await attempt(item("publish", 1), answering({ kind: "unknown", message: "timeout" }))).next).toBe("verify");
  });

  it("for a lookup: done when found, backoff or give up when not found, verify again when unanswered", async () => {
    const posted: PublishOutcome = { kind: "posted", externalId: "unused" };
    expect((await attempt(item("verify", 1), answering(posted, { kind: "found", externalId: "p1" }))).next).toBe("done");
    expect((await attempt(item("verify", 1), answering(posted, { kind: "not_found" }))).next).toEqual({ retryAt: expect.any(Date) });
    expect((await attempt(item("verify", DEFAULT_RETRY_POLICY.maxRetries + 1), answering(posted, { kind: "not_found" }))).next).toBe("give_up");
    expect((await attempt(item("verify", 1), answering(posted, { kind: "unavailable", message: "down" }))).next).toBe("verify");
  });
});
