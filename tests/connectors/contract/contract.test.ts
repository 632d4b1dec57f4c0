// The connector contract: one suite every platform connector passes, each against its own local fake
// (a harness per platform, tests/connectors/contract/<platform>.harness.ts). What it holds a connector
// to is the engine's exactly-once contract (../shared/engine.md) seen from one platform: a post is
// held once by the platform whatever answer was lost, a lookup answers from the platform, and every
// documented refusal is the right outcome class. Truth is the fake's own record, never the connector's word.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectorAccount, PublishRequest, SentAttempt } from "@/lib/connectors/types.ts";
import type { HarnessInstance, PlatformHarness } from "./harness.ts";
import { blueskyHarness } from "./bluesky.harness.ts";
import { mastodonHarness } from "./mastodon.harness.ts";
import { sandboxHarness } from "./sandbox.harness.ts";
import { uploadPostHarness } from "./upload-post.harness.ts";

const HARNESSES: PlatformHarness[] = [
  sandboxHarness,
  mastodonHarness,
  blueskyHarness,
  uploadPostHarness,
];

/** How far a rate-limited outcome's delay may be from the reset the platform stated (header rounding, elapsed time). */
const RESET_TOLERANCE_MS = 1_500;

const signal = (ms = 5_000) => AbortSignal.timeout(ms);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const harness of HARNESSES) {
  describe(`connector contract: ${harness.platform}`, () => {
    let h: HarnessInstance;
    beforeAll(async () => {
      h = await harness.start();
    });
    afterAll(() => h?.stop());

    function request(account: ConnectorAccount, extra: Partial<PublishRequest> = {}): PublishRequest {
      return { account, idempotencyKey: randomUUID(), text: `Contract post ${randomUUID()}`, mediaUrls: [], ...extra };
    }
    /** What the engine knows about an attempt when it verifies it. */
    const sent = (req: PublishRequest, sentAt: Date): SentAttempt => ({ text: req.text, mediaCount: req.mediaUrls.length, sentAt: sentAt.toISOString() });
    const lookup = (req: PublishRequest, sentAt: Date) => h.connector.lookup(req.account, req.idempotencyKey, { signal: signal(), sent: sent(req, sentAt) });

    it("publishes a post the platform holds once, with our text", async () => {
      const account = await h.account();
      const req = request(account);
      const outcome = await h.connector.publish(req, { signal: signal() });
      expect(outcome).toMatchObject({ kind: "posted", externalId: expect.any(String) });
      const held = await h.posts(account);
      expect(held).toEqual([expect.objectContaining({ externalId: (outcome as { externalId: string }).externalId, text: req.text })]);
    });

    it("after an answer lost past the commit: unknown, lookup finds the post, and publishing the key again makes no second post", async () => {
      const account = await h.account();
      const req = request(account);
      const sentAt = new Date();
      h.faults.dropAnswerAfterCommit(account);
      const lost = await h.connector.publish(req, { signal: signal() });
      expect(lost.kind).toBe("unknown");
      const held = await h.posts(account);
      expect(held).toHaveLength(1);
      expect(await lookup(req, sentAt)).toMatchObject({ kind: "found", externalId: held[0].externalId });
      // The engine never re-sends before asking; if it did anyway, the platform must still hold one post.
      const again = await h.connector.publish(req, { signal: signal() });
      expect(again.kind === "posted" ? again.externalId : held[0].externalId).toBe(held[0].externalId);
      expect(await h.posts(account)).toHaveLength(1);
    });

    it("a lookup of a key never published is not_found", async () => {
      const account = await h.account();
      expect((await h.connector.publish(request(account), { signal: signal() })).kind).toBe("posted");
      const never = request(account);
      expect(await lookup(never, new Date(Date.now() - 60_000))).toEqual({ kind: "not_found" });
    });

    it("a 429 is rate_limited with the platform's reset time, and nothing is posted", async () => {
      const account = await h.account();
      h.faults.rateLimitNext(account, 8_000);
      const outcome = await h.connector.publish(request(account), { signal: signal() });
      expect(outcome.kind).toBe("rate_limited");
      const { retryAfterMs } = outcome as { retryAfterMs: number | null };
      expect(retryAfterMs).not.toBeNull();
      expect(Math.abs(retryAfterMs! - 8_000)).toBeLessThanOrEqual(RESET_TOLERANCE_MS);
      expect(await h.posts(account)).toHaveLength(0);
    });

    it("an expired or revoked token is auth_expired, and nothing is posted", async () => {
      const account = await h.account();
      h.faults.expireToken(account);
      expect((await h.connector.publish(request(account), { signal: signal() })).kind).toBe("auth_expired");
      expect(await h.posts(account)).toHaveLength(0);
    });

    it("a restricted account is restricted, and nothing is posted", async () => {
      const account = await h.account();
      h.faults.restrict(account);
      expect((await h.connector.publish(request(account), { signal: signal() })).kind).toBe("restricted");
      expect(await h.posts(account)).toHaveLength(0);
    });

    for (const status of [500, 502, 503]) {
      it(`a ${status} before the commit is retryable or unknown, lookup says not_found, and a retry posts exactly once`, async () => {
        const account = await h.account();
        const req = request(account);
        const sentAt = new Date();
        h.faults.failNext(account, status);
        const failed = await h.connector.publish(req, { signal: signal() });
        expect(["retryable", "unknown"]).toContain(failed.kind);
        expect(await h.posts(account)).toHaveLength(0);
        expect(await lookup(req, sentAt)).toEqual({ kind: "not_found" });
        expect((await h.connector.publish(req, { signal: signal() })).kind).toBe("posted");
        expect(await h.posts(account)).toHaveLength(1);
      });
    }

    it("readMetrics reflects the platform's figures", async () => {
      const account = await h.account();
      await h.setMetrics(account, { followers: 1_234, engagement: 56 });
      const metrics = await h.connector.readMetrics(account, { signal: signal() });
      expect(metrics).toMatchObject({ followers: 1_234, engagement: 56 });
      expect(Date.parse(metrics.observedAt)).not.toBeNaN();
    });

    it("recentPosts lists what was posted since a time, and not before it", async () => {
      const account = await h.account();
      const before = await h.connector.publish(request(account), { signal: signal() });
      await pause(50);
      const since = new Date();
      await pause(50);
      const after = [];
      for (let i = 0; i < 3; i++) after.push(await h.connector.publish(request(account), { signal: signal() }));
      const recent = await h.connector.recentPosts(account, { since, signal: signal() });
      const ids = recent.posts.map((p) => p.externalId);
      expect(recent.complete).toBe(true);
      expect(ids.sort()).toEqual(after.map((o) => (o as { externalId: string }).externalId).sort());
      expect(ids).not.toContain((before as { externalId: string }).externalId);
      for (const p of recent.posts) expect(Date.parse(p.createdAt)).toBeGreaterThanOrEqual(since.getTime());
    });

    it("a text over the platform's limit is permanent, and nothing is posted", async () => {
      const account = await h.account();
      const outcome = await h.connector.publish(request(account, { text: "a".repeat(h.textLimit + 1) }), { signal: signal() });
      expect(outcome.kind).toBe("permanent");
      expect(await h.posts(account)).toHaveLength(0);
    });

    it("a text exactly at the platform's limit is posted", async () => {
      const account = await h.account();
      const text = "a".repeat(h.textLimit);
      expect((await h.connector.publish(request(account, { text }), { signal: signal() })).kind).toBe("posted");
      expect((await h.posts(account)).map((p) => p.text)).toEqual([text]);
    });

    /** A thread of `n` parts after the post, with texts that say their place. */
    const threaded = (account: ConnectorAccount, n: number, extra: Partial<PublishRequest> = {}) => {
      const tag = randomUUID().slice(0, 8);
      return request(account, { text: `Thread ${tag}, 1/${n + 1}`, thread: Array.from({ length: n }, (_, i) => `Thread ${tag}, ${i + 2}/${n + 1}`), ...extra });
    };
    /** The platform's posts as one chain from the post: each part replying to the one before, texts in order. */
    const chain = (held: Awaited<ReturnType<HarnessInstance["posts"]>>, rootId: string) => {
      const out = [];
      for (let at = held.find((p) => p.externalId === rootId); at; ) {
        out.push(at);
        const next = held.filter((p) => p.inReplyTo === at!.externalId);
        if (next.length > 1) throw new Error(`${next.length} replies to ${at.externalId}: a part was posted twice`);
        at = next[0];
      }
      return out;
    };

    it("publishes a thread: every part once, each replying to the one before (platforms that post threads)", async (ctx) => {
      if (!h.threads) return ctx.skip();
      const account = await h.account();
      const req = threaded(account, 3);
      const outcome = await h.connector.publish(req, { signal: signal() });
      expect(outcome).toMatchObject({ kind: "posted", externalId: expect.any(String) });
      const held = await h.posts(account);
      expect(held).toHaveLength(4);
      expect(chain(held, (outcome as { externalId: string }).externalId).map((p) => p.text)).toEqual([req.text, ...req.thread!]);
      // The same request again (every part landed): the platform still holds each once.
      const again = await h.connector.publish(req, { signal: signal() });
      expect(again).toMatchObject({ kind: "posted", externalId: (outcome as { externalId: string }).externalId });
      expect(await h.posts(account)).toHaveLength(4);
    });

    it("a thread whose post's answer is lost: unknown, lookup finds the post, and finishing it (landed) sends each part once", async (ctx) => {
      if (!h.threads) return ctx.skip();
      const account = await h.account();
      const req = threaded(account, 2);
      const sentAt = new Date();
      h.faults.dropAnswerAfterCommit(account);
      expect((await h.connector.publish(req, { signal: signal() })).kind).toBe("unknown");
      expect(await h.posts(account)).toHaveLength(1);
      const found = await lookup(req, sentAt);
      expect(found).toMatchObject({ kind: "found" });
      const rootId = (found as { externalId: string }).externalId;
      const landed = { ...req, landed: { externalId: rootId } };
      expect(await h.connector.publish(landed, { signal: signal() })).toMatchObject({ kind: "posted", externalId: rootId });
      // Finishing again finds every part there and sends nothing.
      expect(await h.connector.publish(landed, { signal: signal() })).toMatchObject({ kind: "posted", externalId: rootId });
      const held = await h.posts(account);
      expect(held).toHaveLength(3);
      expect(chain(held, rootId).map((p) => p.text)).toEqual([req.text, ...req.thread!]);
    });

    it("a thread with a first comment, or a part over the limit, is permanent, and nothing is posted (platforms that post threads)", async (ctx) => {
      if (!h.threads) return ctx.skip();
      const account = await h.account();
      expect((await h.connector.publish(threaded(account, 1, { firstComment: "and a comment" }), { signal: signal() })).kind).toBe("permanent");
      const long = threaded(account, 2);
      long.thread![1] = "a".repeat(h.textLimit + 1);
      expect((await h.connector.publish(long, { signal: signal() })).kind).toBe("permanent");
      expect(await h.posts(account)).toHaveLength(0);
    });

    it("a thread is refused as permanent, and nothing is posted (platforms that post no threads)", async (ctx) => {
      if (h.threads) return ctx.skip();
      const account = await h.account();
      expect((await h.connector.publish(threaded(account, 2), { signal: signal() })).kind).toBe("permanent");
      expect(await h.posts(account)).toHaveLength(0);
    });

    it("visibility and content warning are on the post and every part of its thread (platforms that have them)", async (ctx) => {
      if (!h.statusOptions) return ctx.skip();
      const account = await h.account();
      const req = threaded(account, 2, { options: { mastodon: { visibility: "unlisted", contentWarning: "Spoilers for the finale" } } });
      const outcome = await h.connector.publish(req, { signal: signal() });
      expect(outcome.kind).toBe("posted");
      const held = await h.posts(account);
      expect(held).toHaveLength(3);
      for (const p of held) expect(await h.statusOptions(account, p.externalId)).toEqual({ visibility: "unlisted", contentWarning: "Spoilers for the finale" });
      // A lookup of a post with a warning is given it (SentAttempt.options) and finds it.
      const found = await h.connector.lookup(account, req.idempotencyKey, { signal: signal(), sent: { ...sent(req, new Date(Date.now() - 60_000)), options: req.options } });
      expect(found).toMatchObject({ kind: "found", externalId: (outcome as { externalId: string }).externalId });
      // The warning counts toward the length: a text that fits alone does not fit with it.
      const tight = request(account, { text: "a".repeat(h.textLimit - 3), options: { mastodon: { contentWarning: "four" } } });
      expect((await h.connector.publish(tight, { signal: signal() })).kind).toBe("permanent");
      expect(await h.posts(account)).toHaveLength(3);
    });

    it("a content warning with spaces around it is kept stripped, as Mastodon keeps it, and the lookup still finds the post", async (ctx) => {
      if (!h.statusOptions) return ctx.skip();
      const account = await h.account();
      const req = request(account, { options: { mastodon: { contentWarning: "  Spoilers  " } } });
      const outcome = await h.connector.publish(req, { signal: signal() });
      expect(outcome.kind).toBe("posted");
      const externalId = (outcome as { externalId: string }).externalId;
      expect((await h.statusOptions(account, externalId)).contentWarning).toBe("Spoilers");
      const found = await h.connector.lookup(account, req.idempotencyKey, { signal: signal(), sent: { ...sent(req, new Date(Date.now() - 60_000)), options: req.options } });
      expect(found).toMatchObject({ kind: "found", externalId });
    });

    it("a destination that refuses the post is destination_rejected (platforms with destinations)", async (ctx) => {
      if (!h.faults.rejectDestination) return ctx.skip();
      const account = await h.account();
      h.faults.rejectDestination(account, "r/strict");
      expect((await h.connector.publish(request(account, { destination: "r/strict" }), { signal: signal() })).kind).toBe("destination_rejected");
      expect(await h.posts(account)).toHaveLength(0);
    });
  });
}
