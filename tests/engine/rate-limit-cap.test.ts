// A platform's rate-limit header cannot park an account for decades: whatever reset a connector
// read (Upload-Post's X-RateLimit-Reset of 2100 here), the wait that reaches the database as the
// item's retry_at (and so the account's cooldown_until) is at most MAX_RATE_LIMIT_DELAY_MS.
import { describe, expect, it } from "vitest";
import { runAttempt } from "../../lib/engine/attempt.ts";
import { DEFAULT_RETRY_POLICY } from "../../lib/engine/backoff.ts";
import { MAX_RATE_LIMIT_DELAY_MS } from "../../lib/connectors/http.ts";
import { createUploadPostConnector } from "../../lib/connectors/upload-post.ts";
import type { Connector } from "../../lib/connectors/types.ts";
import type { ClaimedItem } from "../../lib/engine/store.ts";

/** Upload-Post as the reviewer stubbed it: every answer says the key's window is spent until 2100-01-01. */
const year2100: typeof fetch = async (input) => {
  const headers = { "content-type": "application/json", "x-ratelimit-limit": "100", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "4102444800" };
  if (String(input).includes("/status")) return new Response(JSON.stringify({ status: "not_found" }), { status: 404, headers });
  return new Response(JSON.stringify({ success: true, results: { x: { success: true, platform_post_id: "1" } } }), { status: 200, headers });
};

/** The connector as the engine reaches it, with the account's credentials already decrypted. */
function withCredentials(up: Connector, credentials: Record<string, string>): Connector {
  return { ...up, publish: (req, o) => up.publish({ ...req, account: { ...req.account, credentials } }, o) };
}

const claimed = (id: number, accountId: string): ClaimedItem => ({
  id, leaseId: "00000000-0000-0000-0000-000000000001", leaseEndsAt: Date.now() + 120_000, mode: "publish", attempts: 1, verifyAttempts: 0,
  idempotencyKey: crypto.randomUUID(), workspaceId: "w", accountId, platform: "upload-post",
  handle: "h", credentialsEncrypted: null, action: "post", text: "hello", mediaUrls: [], firstComment: null, destination: null,
});

describe("a rate-limit reset decades away", () => {
  it("holds an Upload-Post account back for at most 7 days, through the engine's attempt", async () => {
    const up = createUploadPostConnector({ baseUrl: "http://127.0.0.1:9", allowedHosts: ["127.0.0.1:9"], fetch: year2100, publishFetch: year2100 });
    const connector = withCredentials(up, { apiKey: "k", profile: "p", platform: "x" });
    const options = { worker: "cap-test", connectorFor: () => connector, retry: DEFAULT_RETRY_POLICY, callTimeoutMs: 5_000, verifyRetryMs: [10] };
    // The first post goes out and leaves the key's budget "spent until 2100"; the next one is held back.
    expect((await runAttempt(claimed(1, "a1"), options)).outcome).toBe("posted");
    const before = Date.now();
    const held = await runAttempt(claimed(2, "a2"), options);
    expect(held.outcome).toBe("rate_limited");
    const { retryAt } = held.next as { retryAt: Date };
    expect(retryAt.getTime()).toBeGreaterThan(before);
    expect(retryAt.getTime()).toBeLessThanOrEqual(Date.now() + MAX_RATE_LIMIT_DELAY_MS);
    // The budget's own pause is capped too (a day at most).
    expect(held.budgetUntil!.getTime()).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000);
  });
});
