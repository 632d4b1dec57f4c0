// A worker that fell behind after its claim must not publish once its call could outlast the lease:
// recovery times verification from the lease's expiry, and another worker may be verifying by then.
import { describe, expect, it } from "vitest";
import { runAttempt } from "../../lib/engine/attempt.ts";
import { DEFAULT_RETRY_POLICY } from "../../lib/engine/backoff.ts";
import type { ClaimedItem } from "../../lib/engine/store.ts";
import type { Connector } from "../../lib/connectors/types.ts";

/** A platform that counts what reaches it and accepts every post. */
function countingConnector() {
  const calls = { publish: 0 };
  const connector: Connector = {
    platform: "sandbox",
    connect: async () => ({ kind: "unavailable", message: "not used" }),
    publish: async () => {
      calls.publish++;
      return { kind: "posted", externalId: "p1" };
    },
    lookup: async () => ({ kind: "not_found" }),
    recentPosts: async () => ({ posts: [], complete: true }),
    readMetrics: async () => ({ reach: 0, engagement: 0, followers: 0, observedAt: new Date().toISOString() }),
  };
  return { connector, calls };
}

const claimed = (leaseEndsAt: number): ClaimedItem => ({
  id: 1, leaseId: "00000000-0000-0000-0000-000000000001", leaseEndsAt, mode: "publish", attempts: 1, verifyAttempts: 0,
  idempotencyKey: "00000000-0000-0000-0000-000000000002", workspaceId: "w", accountId: "a", platform: "sandbox",
  handle: "h", credentialsEncrypted: null, action: "post", text: "hello", mediaUrls: [], firstComment: null, destination: null,
});

const options = (connector: Connector) => ({
  worker: "lease-test", connectorFor: () => connector, retry: DEFAULT_RETRY_POLICY, callTimeoutMs: 30_000, verifyRetryMs: [10],
});

describe("a publish and its lease", () => {
  it("is not sent when the call could end after the lease (the worker fell behind): retryable, nothing reached the platform", async () => {
    const { connector, calls } = countingConnector();
    const result = await runAttempt(claimed(Date.now() + 20_000), options(connector));
    expect(calls.publish).toBe(0);
    expect(result.outcome).toBe("retryable");
    expect(result.errorMessage).toMatch(/^Not sent: this worker fell behind/);
    expect(result.next).toEqual({ retryAt: expect.any(Date) });
  });

  it("is sent when the call ends well inside the lease", async () => {
    const { connector, calls } = countingConnector();
    const result = await runAttempt(claimed(Date.now() + 120_000), options(connector));
    expect(calls.publish).toBe(1);
    expect(result.outcome).toBe("posted");
  });
});
