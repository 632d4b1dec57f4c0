// The Upload-Post connector against the local Upload-Post fake: every outcome class, a lost answer
// settled by status (never by a second upload), the fake's own record checked for exactly one post.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUploadPostFake, type UploadPostFake } from "@/local/platforms/upload-post/index.ts";
import { createUploadPostConnector, createUploadPostSetup, uploadPostMarker, uploadPostRequestId } from "@/lib/connectors/upload-post.ts";
import type { ConnectorAccount, PublishRequest } from "@/lib/connectors/types.ts";
import { freePort } from "../setup/free-port.ts";

let fake: UploadPostFake;
let offset = 0;
const connector = () => createUploadPostConnector({ baseUrl: fake.url, allowedHosts: [new URL(fake.url).host], statusPollMs: [15, 25, 50], now: () => Date.now() + offset });
let up: ReturnType<typeof createUploadPostConnector>;
beforeAll(async () => {
  fake = await startUploadPostFake({ port: 0, now: () => Date.now() + offset, config: { processingMs: { text: 20, photo: 30, video: 40 } } });
  up = connector();
});
afterAll(() => fake?.stop());

const signal = (ms = 3_000) => AbortSignal.timeout(ms);

/** A Pacer account for one connected platform of a fresh profile on a fresh key. */
function account(platform = "facebook", handle = `h_${randomUUID().slice(0, 6)}`, extra: { plan?: string; monthlyLimit?: number | null } = {}): ConnectorAccount {
  const { key, profile } = fake.seed({ profile: `pacer_${randomUUID().slice(0, 8)}`, connect: { [platform]: handle }, ...extra });
  return { id: randomUUID(), platform, handle, credentials: { apiKey: key.apiKey, profile: profile.username, platform } };
}
const target = (a: ConnectorAccount) => ({ apiKey: a.credentials.apiKey, profile: a.credentials.profile, platform: a.credentials.platform });
const held = (a: ConnectorAccount) => fake.posts(target(a));
const jobs = (a: ConnectorAccount) => [...fake.state.jobs.values()].filter((j) => j.apiKey === a.credentials.apiKey);

function request(a: ConnectorAccount, extra: Partial<PublishRequest> = {}): PublishRequest {
  return { account: a, idempotencyKey: randomUUID(), text: `post ${randomUUID().slice(0, 8)}`, mediaUrls: [], ...extra };
}

describe("publishing", () => {
  it("sends our request_id as request_id, Idempotency-Key and X-Request-Id, async, and returns the platform's id", async () => {
    const a = account();
    const req = request(a, { firstComment: "first!" });
    const outcome = (await up.publish(req, { signal: signal() }));
    const [post] = held(a);
    expect(outcome).toMatchObject({ kind: "posted", externalId: post.platform_post_id, url: post.post_url });
    expect(held(a)).toHaveLength(1);
    expect(post).toMatchObject({ text: req.text, first_comment: "first!", request_id: `pacer-${req.idempotencyKey}` });
    const [job] = jobs(a);
    expect(job).toMatchObject({ request_id: `pacer-${req.idempotencyKey}`, idempotencyKey: `pacer-${req.idempotencyKey}`, media_type: "text" });
    // The key's request budget, from X-RateLimit-* of the last answer.
    expect(outcome.rateLimit).toMatchObject({ limit: 100, remaining: expect.any(Number), resetAt: expect.any(String) });
    expect(await up.lookup(a, req.idempotencyKey, { signal: signal() })).toEqual({ kind: "found", externalId: post.platform_post_id, url: post.post_url });
    expect(await up.lookup(a, randomUUID(), { signal: signal() })).toEqual({ kind: "not_found" });
  });

  it("publishing the same item again never makes a second post", async () => {
    const a = account();
    const req = request(a);
    const first = await up.publish(req, { signal: signal() });
    const second = await up.publish(req, { signal: signal() });
    expect(first.kind).toBe("posted");
    expect(second).toMatchObject({ kind: "posted", externalId: (first as { externalId: string }).externalId });
    expect(held(a)).toHaveLength(1);
    expect(jobs(a)).toHaveLength(1);
  });

  it("sends photos to upload_photos and a video to upload", async () => {
    const a = account("instagram");
    await up.publish(request(a, { mediaUrls: ["https://cdn.example/a.jpg", "https://cdn.example/b.jpg"] }), { signal: signal() });
    await up.publish(request(a, { mediaUrls: ["https://cdn.example/clip.mp4"] }), { signal: signal() });
    expect(held(a).map((p) => [p.media_type, p.media])).toEqual([
      ["photo", ["https://cdn.example/a.jpg", "https://cdn.example/b.jpg"]],
      ["video", ["https://cdn.example/clip.mp4"]],
    ]);
  });

  it("passes a subreddit through and splits the text into Reddit's title and body", async () => {
    const a = account("reddit");
    const outcome = await up.publish(request(a, { text: "Title line\nThe body.", destination: "r/pacer_test" }), { signal: signal() });
    expect(outcome.kind).toBe("posted");
    expect(held(a)).toMatchObject([{ text: "Title line", description: "The body.", destination: "pacer_test" }]);
  });

  it("takes the post's id from post analytics when status does not carry it", async () => {
    const a = account();
    fake.state.config.statusCarriesIds = false;
    try {
      const outcome = await up.publish(request(a), { signal: signal() });
      expect(outcome).toEqual({ kind: "posted", externalId: held(a)[0].platform_post_id, url: held(a)[0].post_url, rateLimit: expect.any(Object) });
    } finally {
      fake.state.config.statusCarriesIds = true;
    }
  });

  it("waits out a platform that is retryable for a while, then completes", async () => {
    const a = account();
    fake.retryableFor(target(a), 150);
    expect((await up.publish(request(a), { signal: signal() })).kind).toBe("posted");
    expect(held(a)).toHaveLength(1);
  });
});

describe("a lost answer is settled by status, never by a second upload", () => {
  it("answer lost after commit → unknown → lookup finds it → one post, and a retry posts nothing more", async () => {
    const a = account();
    fake.dropAnswerAfterCommit(target(a));
    const req = request(a);
    const outcome = await up.publish(req, { signal: signal() });
    expect(outcome.kind).toBe("unknown");
    await new Promise((r) => setTimeout(r, 50));
    const found = await up.lookup(a, req.idempotencyKey, { signal: signal() });
    expect(found).toMatchObject({ kind: "found", externalId: held(a)[0].platform_post_id });
    expect(await up.publish(req, { signal: signal() })).toMatchObject({ kind: "posted", externalId: held(a)[0].platform_post_id });
    expect(held(a)).toHaveLength(1);
    expect(jobs(a)).toHaveLength(1);
  });

  it("a resend while status does not show the job yet returns the same job (Idempotency-Key), not a second post", async () => {
    const a = account();
    fake.state.config.statusLagMs = 400;
    try {
      fake.dropAnswerAfterCommit(target(a));
      const req = request(a);
      expect((await up.publish(req, { signal: signal() })).kind).toBe("unknown");
      // Status still says 404 here, so the connector uploads again: the key must make it the same job.
      expect((await up.publish(req, { signal: signal() })).kind).toBe("posted");
      expect(held(a)).toHaveLength(1);
      expect(jobs(a)).toHaveLength(1);
    } finally {
      fake.state.config.statusLagMs = 0;
    }
  });

  it("status's 404 is not believed alone: post analytics finds a post status does not show yet", async () => {
    const a = account();
    fake.state.config.statusLagMs = 60_000;
    try {
      fake.dropAnswerAfterCommit(target(a));
      const req = request(a);
      // The answer is lost at once (a connection reset): verification comes after the post's processing time.
      expect((await up.publish(req, { signal: signal(300) })).kind).toBe("unknown");
      await new Promise((r) => setTimeout(r, 60));
      expect(await up.lookup(a, req.idempotencyKey, { signal: signal() })).toMatchObject({ kind: "found", externalId: held(a)[0].platform_post_id });
    } finally {
      fake.state.config.statusLagMs = 0;
    }
  });

  it("a 5xx before anything was created is unknown; lookup says not_found; the retry posts once", async () => {
    const a = account();
    fake.failNext(target(a), 503);
    const req = request(a);
    expect((await up.publish(req, { signal: signal() })).kind).toBe("unknown");
    expect(await up.lookup(a, req.idempotencyKey, { signal: signal() })).toEqual({ kind: "not_found" });
    expect((await up.publish(req, { signal: signal() })).kind).toBe("posted");
    expect(held(a)).toHaveLength(1);
  });

  it("still processing when the call's time runs out → unknown; lookup is unavailable until it finishes, then found", async () => {
    const a = account("youtube");
    fake.state.config.processingMs.video = 10 * 60_000;
    const req = request(a, { mediaUrls: ["https://cdn.example/long.mp4"] });
    try {
      expect((await up.publish(req, { signal: signal(300) })).kind).toBe("unknown");
      expect(await up.lookup(a, req.idempotencyKey, { signal: signal() })).toMatchObject({ kind: "unavailable", message: expect.stringMatching(/still processing/) });
      expect(held(a)).toHaveLength(0);
      offset += 5 * 60_000; // past "pending": the platform's result shows as processing
      expect(await up.lookup(a, req.idempotencyKey, { signal: signal() })).toMatchObject({ kind: "unavailable", message: expect.stringMatching(/youtube processing/) });
      offset += 5 * 60_000;
      expect(await up.lookup(a, req.idempotencyKey, { signal: signal() })).toMatchObject({ kind: "found" });
      expect(held(a)).toHaveLength(1);
    } finally {
      fake.state.config.processingMs.video = 40;
    }
  });

  it("an unreachable Upload-Post is retryable (nothing sent)", async () => {
    const closed = createUploadPostConnector({ baseUrl: `http://127.0.0.1:${await freePort()}`, allowedHosts: ["127.0.0.1"], now: () => Date.now() + offset });
    const a = account();
    expect((await closed.publish(request(a), { signal: signal() })).kind).toBe("retryable");
    expect(await closed.lookup(a, randomUUID(), { signal: signal() })).toMatchObject({ kind: "unavailable" });
  });
});

describe("outcomes Upload-Post states", () => {
  it("an expired social token is auth_expired; after reconnecting, the same item is retried through posts/retry and posts once", async () => {
    const a = account("linkedin");
    fake.expireToken(target(a));
    const req = request(a);
    expect(await up.publish(req, { signal: signal() })).toMatchObject({ kind: "auth_expired", message: expect.stringMatching(/session has expired/) });
    expect(await up.lookup(a, req.idempotencyKey, { signal: signal() })).toEqual({ kind: "not_found" });
    fake.state.social(a.credentials.apiKey, a.credentials.profile, "linkedin")!.reauth_required = false;
    expect((await up.publish(req, { signal: signal() })).kind).toBe("posted");
    expect(held(a)).toHaveLength(1);
    expect(jobs(a)).toHaveLength(1);
  });

  it("a bad API key is auth_expired", async () => {
    const a = account();
    fake.expireApiKey(a.credentials.apiKey);
    expect(await up.publish(request(a), { signal: signal() })).toMatchObject({ kind: "auth_expired", message: expect.stringMatching(/API key/) });
    expect(await up.lookup(a, randomUUID(), { signal: signal() })).toMatchObject({ kind: "unavailable" });
  });

  it("a profile gone from Upload-Post is auth_expired", async () => {
    const a = account();
    fake.state.keys.get(a.credentials.apiKey)!.profiles.delete(a.credentials.profile);
    expect((await up.publish(request(a), { signal: signal() })).kind).toBe("auth_expired");
  });

  it("a platform no longer connected to the profile is auth_expired", async () => {
    const a = account();
    fake.state.keys.get(a.credentials.apiKey)!.profiles.get(a.credentials.profile)!.social.delete("facebook");
    expect((await up.publish(request(a), { signal: signal() })).kind).toBe("auth_expired");
  });

  it("a restricted account is restricted", async () => {
    const a = account();
    fake.restrict(target(a));
    expect((await up.publish(request(a), { signal: signal() })).kind).toBe("restricted");
    expect(held(a)).toHaveLength(0);
  });

  it("a refused subreddit is destination_rejected", async () => {
    const a = account("reddit");
    fake.rejectDestination(target(a), "strict");
    expect(await up.publish(request(a, { destination: "r/strict" }), { signal: signal() })).toMatchObject({ kind: "destination_rejected", message: expect.stringMatching(/r\/strict/) });
    expect(held(a)).toHaveLength(0);
  });

  it("a 429 is rate_limited until X-RateLimit-Reset", async () => {
    const a = account();
    fake.rateLimitNext(target(a), 30_000);
    const outcome = await up.publish(request(a), { signal: signal() });
    expect(outcome.kind).toBe("rate_limited");
    const wait = (outcome as { retryAfterMs: number }).retryAfterMs;
    expect(wait).toBeGreaterThan(28_000);
    expect(wait).toBeLessThanOrEqual(31_000);
    expect(jobs(a)).toHaveLength(0);
  });

  it("a daily hard cap is rate_limited (no reset given)", async () => {
    const a = account("threads");
    const saved = fake.state.config.caps.threads;
    fake.state.config.caps.threads = 1;
    try {
      expect((await up.publish(request(a), { signal: signal() })).kind).toBe("posted");
      expect(await up.publish(request(a), { signal: signal() })).toMatchObject({ kind: "rate_limited", retryAfterMs: null, message: expect.stringMatching(/daily cap/) });
      expect(held(a)).toHaveLength(1);
    } finally {
      fake.state.config.caps.threads = saved;
    }
  });

  it("the plan's monthly quota is rate_limited until the next month", async () => {
    const a = account("x", undefined, { plan: "Free", monthlyLimit: 1 });
    expect((await up.publish(request(a), { signal: signal() })).kind).toBe("posted");
    const outcome = await up.publish(request(a), { signal: signal() });
    expect(outcome).toMatchObject({ kind: "rate_limited", message: expect.stringMatching(/monthly/) });
    expect((outcome as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(29 * 24 * 3600_000);
  });

  it("TikTok's reached_active_user_cap is rate_limited for a few hours", async () => {
    const a = account("tiktok");
    fake.userCapNext(target(a));
    expect(await up.publish(request(a, { mediaUrls: ["https://cdn.example/v.mp4"] }), { signal: signal() })).toMatchObject({ kind: "rate_limited", retryAfterMs: 3 * 3600_000 });
  });

  it("holds back once the key's request budget is spent, without sending", async () => {
    const a = account();
    const key = fake.state.keys.get(a.credentials.apiKey)!;
    key.window = { start: Date.now() + offset, count: 99 };
    await up.lookup(a, randomUUID(), { signal: signal() }); // the 100th request: remaining 0
    const outcome = await up.publish(request(a), { signal: signal() });
    expect(outcome).toMatchObject({ kind: "rate_limited", message: expect.stringMatching(/^Not sent/) });
    expect(jobs(a)).toHaveLength(0);
    expect(up.rateBudget(a.credentials.apiKey)).toMatchObject({ remaining: 0 });
  });

  it("refuses, before sending, what Upload-Post would split or cannot post", async () => {
    const x = account("x");
    expect((await up.publish(request(x, { text: "a".repeat(281) }), { signal: signal() })).kind).toBe("permanent");
    const ig = account("instagram");
    expect(await up.publish(request(ig), { signal: signal() })).toMatchObject({ kind: "permanent", message: expect.stringMatching(/photo or a video/) });
    const reddit = account("reddit");
    expect((await up.publish(request(reddit), { signal: signal() })).kind).toBe("permanent");
    expect([...jobs(x), ...jobs(ig), ...jobs(reddit)]).toHaveLength(0);
  });

  it("an account without credentials is auth_expired and sends nothing", async () => {
    const a: ConnectorAccount = { id: randomUUID(), platform: "facebook", handle: "none", credentials: {} };
    expect((await up.publish(request(a), { signal: signal() })).kind).toBe("auth_expired");
  });
});

describe("connect", () => {
  it("stores key, profile and platform for a connected platform of the profile", async () => {
    const a = account("tiktok", "dancer");
    expect(await up.connect({ handle: "@dancer", credentials: a.credentials }, { signal: signal() })).toEqual({ kind: "connected", credentials: a.credentials });
  });

  it("refuses with the field to fix: key, profile, platform not connected, reauth, handle", async () => {
    const a = account("tiktok", "dancer");
    const c = a.credentials;
    const refused = async (handle: string, credentials: Record<string, string>) => {
      const r = await up.connect({ handle, credentials }, { signal: signal() });
      return r.kind === "refused" ? [r.code, r.field] : [r.kind];
    };
    expect(await refused("dancer", { ...c, apiKey: "up_wrong" })).toEqual(["api_key_invalid", "credentials.apiKey"]);
    expect(await refused("dancer", { ...c, profile: "nobody" })).toEqual(["profile_not_found", "credentials.profile"]);
    expect(await refused("dancer", { ...c, platform: "instagram" })).toEqual(["platform_not_connected", "credentials.platform"]);
    expect(await refused("dancer", { ...c, platform: "myspace" })).toEqual(["platform_invalid", "credentials.platform"]);
    expect(await refused("someone_else", c)).toEqual(["handle_mismatch", "handle"]);
    fake.expireToken(target(a));
    expect(await refused("dancer", c)).toEqual(["platform_needs_reconnect", "credentials.platform"]);
    const msg = await up.connect({ handle: "dancer", credentials: { ...c, platform: "instagram" } }, { signal: signal() });
    expect(msg).toMatchObject({ message: expect.stringMatching(/connected: tiktok/) });
  });
});

describe("reads", () => {
  it("recentPosts lists this account's posts since a time from history, with our markers", async () => {
    const { key, profile } = fake.seed({ profile: `pacer_${randomUUID().slice(0, 8)}`, connect: { x: "xa", linkedin: "la" } });
    const xa: ConnectorAccount = { id: randomUUID(), platform: "x", handle: "xa", credentials: { apiKey: key.apiKey, profile: profile.username, platform: "x" } };
    const la: ConnectorAccount = { ...xa, platform: "linkedin", credentials: { ...xa.credentials, platform: "linkedin" } };
    const old = request(xa);
    await up.publish(old, { signal: signal() });
    offset += 60_000;
    const since = new Date(Date.now() + offset - 1_000);
    const recent = request(xa);
    await up.publish(recent, { signal: signal() });
    await up.publish(request(la), { signal: signal() });
    const read = await up.recentPosts(xa, { since, signal: signal() });
    expect(read).toEqual({ complete: true, posts: [{ externalId: expect.any(String), url: expect.any(String), createdAt: expect.any(String), marker: recent.idempotencyKey }] });
  });

  it("readMetrics reads followers, the primary reach figure and engagement from analytics", async () => {
    const a = account("instagram");
    fake.setMetrics(target(a), { followers: 321, reach: 9_000, likes: 10, comments: 5, shares: 2, saves: 1 });
    expect(await up.readMetrics(a, { signal: signal() })).toMatchObject({ followers: 321, reach: 9_000, engagement: 18 });
    const gone = { ...a, credentials: { ...a.credentials, profile: "nobody" } };
    await expect(up.readMetrics(gone, { signal: signal() })).rejects.toThrow(/analytics/);
  });

  it("request ids are derived from the key, and the marker reads it back", async () => {
    expect(await uploadPostRequestId("3f0c2a9e-1b7d-4c52-9a65-0b1c2d3e4f50")).toBe("pacer-3f0c2a9e-1b7d-4c52-9a65-0b1c2d3e4f50");
    const long = await uploadPostRequestId("x".repeat(200));
    expect(long).toMatch(/^pacerh-[0-9a-f]{40}$/);
    expect(await uploadPostRequestId("x".repeat(200))).toBe(long);
    expect(uploadPostMarker("pacer-abc")).toBe("abc");
    expect(uploadPostMarker(long)).toBeNull();
    expect(uploadPostMarker("4b1d-their-own")).toBeNull();
  });
});

describe("the connect flow's steps (createUploadPostSetup)", () => {
  it("checks the key, makes the profile once, hands out a connect link, and lists what the user connected there", async () => {
    const setup = createUploadPostSetup({ baseUrl: fake.url, allowedHosts: [new URL(fake.url).host] });
    const { key } = fake.seed({ profile: `other_${randomUUID().slice(0, 6)}`, connect: {} });
    expect(await setup.checkKey("up_wrong", signal())).toMatchObject({ ok: false, code: "api_key_invalid", field: "credentials.apiKey" });
    expect(await setup.checkKey(key.apiKey, signal())).toEqual({ ok: true, value: { email: key.email, plan: "Professional" } });
    const profile = `pacer_${randomUUID().slice(0, 8)}`;
    expect(await setup.ensureProfile(key.apiKey, profile, signal())).toEqual({ ok: true, value: { created: true } });
    expect(await setup.ensureProfile(key.apiKey, profile, signal())).toEqual({ ok: true, value: { created: false } });
    const link = await setup.connectLink(key.apiKey, profile, "http://localhost:3000/accounts", signal());
    if (!link.ok) throw new Error(link.message);
    const token = new URL(link.value.url).searchParams.get("token")!;
    await fetch(`${fake.url}/connect`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${token}&platform=tiktok&handle_tiktok=dancer&platform=reddit&handle_reddit=redditor`,
    });
    const listed = await setup.connectedAccounts(key.apiKey, profile, signal());
    expect(listed).toEqual({
      ok: true,
      value: [
        { platform: "tiktok", handle: "dancer", displayName: "dancer", needsReconnect: false },
        { platform: "reddit", handle: "redditor", displayName: "redditor", needsReconnect: false },
      ],
    });
    expect(await up.connect({ handle: "dancer", credentials: { apiKey: key.apiKey, profile, platform: "tiktok" } }, { signal: signal() })).toMatchObject({ kind: "connected" });
    expect(await setup.connectedAccounts(key.apiKey, "nobody", signal())).toMatchObject({ ok: false, code: "profile_not_found" });
  });
});

describe("a bad X-RateLimit-Reset", () => {
  /** Upload-Post answering with a reset no date can be built from (1e13 seconds). */
  const badReset: typeof fetch = async (input) => {
    const headers = { "content-type": "application/json", "x-ratelimit-limit": "100", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1e13" };
    if (String(input).includes("/status")) return new Response(JSON.stringify({ status: "not_found" }), { status: 404, headers });
    if (String(input).includes("/post-analytics/")) return new Response(JSON.stringify({ success: false }), { status: 404, headers });
    return new Response(JSON.stringify({ success: true, results: { x: { success: true, platform_post_id: "1" } } }), { status: 200, headers });
  };
  const stubbed = () => createUploadPostConnector({ baseUrl: "http://127.0.0.1:9", allowedHosts: ["127.0.0.1:9"], fetch: badReset, publishFetch: badReset });
  const acct: ConnectorAccount = { id: "a", platform: "x", handle: "h", credentials: { apiKey: "k", profile: "p", platform: "x" } };

  it("is ignored (no budget): publish and lookup classify, never throw", async () => {
    const c = stubbed();
    const outcome = await c.publish({ account: acct, idempotencyKey: randomUUID(), text: "hi", mediaUrls: [] }, { signal: signal() });
    expect(outcome).toMatchObject({ kind: "posted", externalId: "1" });
    expect(outcome.rateLimit).toBeUndefined();
    expect(c.rateBudget("k")).toBeNull();
    expect(await c.lookup(acct, randomUUID(), { signal: signal() })).toEqual({ kind: "not_found" });
  });
});

describe("a finished status is cached for 5 minutes (docs: terminal answers; the fake models it)", () => {
  const retryDirectly = (a: ConnectorAccount, requestId: string) =>
    fetch(`${fake.url}/api/uploadposts/posts/retry`, { method: "POST", headers: { authorization: `Apikey ${a.credentials.apiKey}`, "content-type": "application/json" }, body: JSON.stringify({ request_id: requestId }) });

  it("after posts/retry, the cached failure is not taken for the retry's result: the retried post is posted", async () => {
    const a = account();
    fake.restrict(target(a));
    const req = request(a);
    expect((await up.publish(req, { signal: signal() })).kind).toBe("restricted");
    fake.state.social(a.credentials.apiKey, a.credentials.profile, "facebook")!.restricted = false;
    // Status still says failed (cached): the resend retries it and waits for the retry's own result.
    const again = await up.publish(req, { signal: signal() });
    const [post] = held(a);
    expect(again).toMatchObject({ kind: "posted", externalId: post.platform_post_id });
    expect(held(a)).toHaveLength(1);
  });

  it("a lost answer to posts/retry: while status may serve the old failure, lookup is unavailable, never not_found; then found", async () => {
    const a = account();
    fake.restrict(target(a));
    const req = request(a);
    expect((await up.publish(req, { signal: signal() })).kind).toBe("restricted");
    fake.state.social(a.credentials.apiKey, a.credentials.profile, "facebook")!.restricted = false;
    // The next attempt sends posts/retry, and its answer is lost; the retry is still running.
    const sentAt = new Date(Date.now() + offset + 1).toISOString();
    await new Promise((r) => setTimeout(r, 5));
    fake.state.config.processingMs = { ...fake.state.config.processingMs, text: 60_000 };
    try {
      expect((await retryDirectly(a, await uploadPostRequestId(req.idempotencyKey))).status).toBe(200);
    } finally {
      fake.state.config.processingMs = { ...fake.state.config.processingMs, text: 20 };
    }
    expect(await up.lookup(a, req.idempotencyKey, { signal: signal(), sent: { text: req.text, sentAt } })).toMatchObject({ kind: "unavailable", message: expect.stringMatching(/cached for 5 minutes/) });
    offset += 61_000; // the retry lands
    const found = await up.lookup(a, req.idempotencyKey, { signal: signal(), sent: { text: req.text, sentAt } });
    expect(found).toEqual({ kind: "found", externalId: held(a)[0].platform_post_id, url: held(a)[0].post_url });
    expect(held(a)).toHaveLength(1);
  });

  it("a platform marked failed that did post: lookup finds it and a resend posts nothing (post analytics decides, not status)", async () => {
    const a = account();
    const req = request(a);
    expect((await up.publish(req, { signal: signal() })).kind).toBe("posted");
    const [post] = held(a);
    const requestId = await uploadPostRequestId(req.idempotencyKey);
    // Status says failed (as a stale or wrong answer would), while the post exists.
    const failed = { request_id: requestId, status: "failed", results: [{ platform: "facebook", status: "failed", success: false, error: "Something went wrong", upload_timestamp: new Date(Date.now() + offset).toISOString() }] };
    fake.state.statusCache.set(`${a.credentials.apiKey} ${requestId}`, { body: failed, until: Date.now() + offset + 60_000 });
    expect(await up.lookup(a, req.idempotencyKey, { signal: signal() })).toEqual({ kind: "found", externalId: post.platform_post_id, url: post.post_url });
    expect(await up.publish(req, { signal: signal() })).toMatchObject({ kind: "posted", externalId: post.platform_post_id });
    expect(held(a)).toHaveLength(1);
  });
});

describe("the job Pacer can settle is the one under its own request_id", () => {
  const acct: ConnectorAccount = { id: "a", platform: "x", handle: "h", credentials: { apiKey: "k", profile: "p", platform: "x" } };
  /** Upload-Post stubbed per route; every request is recorded. */
  function stubbed(routes: { status: () => Response; upload: () => Response }) {
    const seen: string[] = [];
    const stub: typeof fetch = async (input, init) => {
      const url = String(input);
      seen.push(`${init?.method ?? "GET"} ${url.replace("http://127.0.0.1:9", "")}`);
      return url.includes("/status") ? routes.status() : url.includes("/upload_text") ? routes.upload() : new Response("{}", { status: 404 });
    };
    return { seen, c: createUploadPostConnector({ baseUrl: "http://127.0.0.1:9", allowedHosts: ["127.0.0.1:9"], fetch: stub, publishFetch: stub, statusPollMs: [5] }) };
  }
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

  it("when the status read before uploading fails, nothing is uploaded: retryable", async () => {
    const { seen, c } = stubbed({ status: () => json(500, { error: "Failed to get status" }), upload: () => json(200, { success: true }) });
    const outcome = await c.publish({ account: acct, idempotencyKey: randomUUID(), text: "hi", mediaUrls: [] }, { signal: signal() });
    expect(outcome).toMatchObject({ kind: "retryable", message: expect.stringMatching(/^Not sent/) });
    expect(seen.filter((s) => s.startsWith("POST"))).toEqual([]);
  });

  it("an upload Upload-Post answers under another request_id is unknown (for a person), never followed as ours", async () => {
    const { seen, c } = stubbed({ status: () => json(404, { status: "not_found" }), upload: () => json(200, { success: true, request_id: "theirs-123", results: { x: { success: true, platform_post_id: "9" } } }) });
    const outcome = await c.publish({ account: acct, idempotencyKey: randomUUID(), text: "hi", mediaUrls: [] }, { signal: signal() });
    expect(outcome).toMatchObject({ kind: "unknown", message: expect.stringMatching(/theirs-123.*a person must check/) });
    expect(seen.some((s) => s.includes("theirs-123"))).toBe(false);
  });
});
