// The Bluesky connector against the local Bluesky: every outcome class from the platform's own
// error names, exactly once by the derived record key (a lost answer is settled by lookup and a
// retry never makes a second post), sessions reused and refreshed, facets, images and metrics.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBlueskyConnector, readBudget, rkeyFor, type BlueskyConnector } from "@/lib/connectors/bluesky/index.ts";
import { detectFacets, graphemeLength } from "@/lib/connectors/bluesky/richtext.ts";
import { TID_PATTERN } from "@/lib/connectors/bluesky/tid.ts";
import type { ConnectorAccount, PublishRequest } from "@/lib/connectors/types.ts";
import { startBlueskyFake, type BlueskyFake } from "@/local/platforms/bluesky/index.ts";
import { freePort } from "../setup/free-port.ts";

let fake: BlueskyFake;
let connector: BlueskyConnector;
let images: Server;
let imagesUrl: string;
const saved: Array<{ accountId: string; credentials: Record<string, string> }> = [];

beforeAll(async () => {
  fake = await startBlueskyFake({ port: 0 });
  connector = createBlueskyConnector({
    appviewUrl: fake.url,
    plcUrl: fake.url,
    // Any port on loopback: the fake and the image server below.
    allowedHosts: ["127.0.0.1"],
    onSessionRefreshed: (account, credentials) => void saved.push({ accountId: account.id, credentials }),
  });
  images = createServer((req, res) => {
    const size = Number(new URL(req.url!, "http://x").searchParams.get("size") ?? 100);
    const type = new URL(req.url!, "http://x").searchParams.get("type") ?? "image/jpeg";
    const body = Buffer.alloc(size);
    body.set([0xff, 0xd8, 0xff]);
    res.writeHead(200, { "content-type": type, "content-length": size });
    res.end(body);
  });
  await new Promise<void>((resolve) => images.listen(0, "127.0.0.1", resolve));
  imagesUrl = `http://127.0.0.1:${(images.address() as { port: number }).port}`;
});
afterAll(async () => {
  await fake?.stop();
  await new Promise((resolve) => images?.close(resolve));
});

const signal = () => AbortSignal.timeout(5_000);

async function account(): Promise<ConnectorAccount & { did: string }> {
  const made = fake.createAccount({ handle: `t${randomUUID().slice(0, 8)}.bsky.test` });
  const connection = await connector.connect({ handle: made.handle, credentials: { appPassword: made.appPassword } }, { signal: signal() });
  if (connection.kind !== "connected") throw new Error(JSON.stringify(connection));
  return { id: randomUUID(), platform: "bluesky", handle: made.handle, credentials: connection.credentials, did: made.did };
}

const request = (acct: ConnectorAccount, extra: Partial<PublishRequest> = {}): PublishRequest => ({ account: acct, idempotencyKey: randomUUID(), text: `post ${randomUUID()}`, mediaUrls: [], ...extra });

describe("record keys (atproto.com/specs/tid)", () => {
  it("derives the same valid TID from the same key, and a different one per part", async () => {
    // Pinned: a change here gives every queued item a new key (a second post for an item in flight).
    expect(await rkeyFor("00000000-0000-4000-8000-000000000000")).toBe(await rkeyFor("00000000-0000-4000-8000-000000000000"));
    expect(await rkeyFor("00000000-0000-4000-8000-000000000000")).toBe("3l6r6ohooiaas");
    expect(await rkeyFor("00000000-0000-4000-8000-000000000000", 1)).toBe("3kic2rsuhdp5r");
    for (let i = 0; i < 200; i++) expect(await rkeyFor(randomUUID(), i % 3)).toMatch(TID_PATTERN);
    expect(await rkeyFor("k", 0)).not.toBe(await rkeyFor("k", 1));
  });
});

describe("rich text (docs.bsky.app post-richtext)", () => {
  it("counts graphemes and finds links, tags and mentions at UTF-8 byte offsets", () => {
    expect(graphemeLength("👍🏽é")).toBe(2);
    const text = "✨ see https://pacer.app/x. #launch with @alice.bsky.social";
    const facets = detectFacets(text);
    const bytes = new TextEncoder().encode(text);
    const slice = (f: { index: { byteStart: number; byteEnd: number } }) => new TextDecoder().decode(bytes.slice(f.index.byteStart, f.index.byteEnd));
    expect(facets.map(slice)).toEqual(["https://pacer.app/x", "#launch", "@alice.bsky.social"]);
    expect(facets[0]).toMatchObject({ index: { byteStart: 8 }, features: [{ $type: "app.bsky.richtext.facet#link", uri: "https://pacer.app/x" }] });
    expect(facets[1]).toMatchObject({ features: [{ $type: "app.bsky.richtext.facet#tag", tag: "launch" }] });
    expect(facets[2]).toMatchObject({ mention: "alice.bsky.social" });
    expect(detectFacets("price #1 and email a@b.com")).toEqual([]);
  });
});

describe("connect (app password, §2.2)", () => {
  it("stores the session (never the app password) and logs in once for many posts", async () => {
    const acct = await account();
    expect(Object.keys(acct.credentials).sort()).toEqual(["accessJwt", "did", "handle", "pdsUrl", "refreshJwt"]);
    expect(acct.credentials).toMatchObject({ did: acct.did, pdsUrl: fake.url });
    for (let i = 0; i < 5; i++) expect((await connector.publish(request(acct), { signal: signal() })).kind).toBe("posted");
    expect(fake.sessionCounts(acct.did)).toEqual({ created: 1, refreshed: 0 });
  });

  it("refuses a wrong app password, an account password, an unknown handle and a suspended account, naming the field", async () => {
    const made = fake.createAccount({ handle: `r${randomUUID().slice(0, 8)}.bsky.test`, mainPassword: "hunter2-main", emailAuthFactor: true });
    const connect = (handle: string, appPassword: string) => connector.connect({ handle, credentials: { appPassword } }, { signal: signal() });
    expect(await connect(made.handle, "aaaa-bbbb-cccc-dddd")).toMatchObject({ kind: "refused", code: "app_password_invalid", field: "credentials.appPassword" });
    expect(await connect(made.handle, "hunter2-main")).toMatchObject({ kind: "refused", code: "app_password_required", field: "credentials.appPassword" });
    expect(await connect("nobody.bsky.test", made.appPassword)).toMatchObject({ kind: "refused", code: "handle_unknown", field: "handle" });
    expect(await connect(`@${made.handle.toUpperCase()}`, made.appPassword)).toMatchObject({ kind: "connected" });
    fake.takedown(made.did);
    expect(await connect(made.handle, made.appPassword)).toMatchObject({ kind: "refused", code: "account_restricted", field: "handle" });
  });

  it("says Bluesky is unavailable when it cannot be reached or limits logins", async () => {
    const made = fake.createAccount({ handle: `u${randomUUID().slice(0, 8)}.bsky.test` });
    const offline = createBlueskyConnector({ appviewUrl: `http://127.0.0.1:${await freePort()}`, plcUrl: fake.url, allowedHosts: ["127.0.0.1"] });
    expect(await offline.connect({ handle: made.handle, credentials: { appPassword: made.appPassword } }, { signal: signal() })).toMatchObject({ kind: "unavailable" });
    for (let i = 0; i < 30; i++) await connector.connect({ handle: made.handle, credentials: { appPassword: made.appPassword } }, { signal: signal() });
    expect(await connector.connect({ handle: made.handle, credentials: { appPassword: made.appPassword } }, { signal: signal() })).toMatchObject({ kind: "unavailable", message: expect.stringContaining("30 per 5 minutes") });
  });
});

describe("publishing exactly once", () => {
  it("posts at the derived rkey and finds it by the key; an unknown key is not found", async () => {
    const acct = await account();
    const req = request(acct);
    const outcome = await connector.publish(req, { signal: signal() });
    const rkey = await rkeyFor(req.idempotencyKey);
    expect(outcome).toMatchObject({ kind: "posted", externalId: `at://${acct.did}/app.bsky.feed.post/${rkey}`, url: `https://bsky.app/profile/${acct.did}/post/${rkey}` });
    expect(await connector.lookup(acct, req.idempotencyKey, { signal: signal() })).toEqual({ kind: "found", externalId: (outcome as { externalId: string }).externalId, url: expect.any(String) });
    expect(await connector.lookup(acct, randomUUID(), { signal: signal() })).toEqual({ kind: "not_found" });
  });

  it("a lost answer after commit is unknown; lookup finds the post; a retry answers posted and the fake holds one", async () => {
    const acct = await account();
    const req = request(acct);
    fake.afterCommitNext(acct.did, "reset");
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("unknown");
    const found = await connector.lookup(acct, req.idempotencyKey, { signal: signal() });
    expect(found).toMatchObject({ kind: "found" });
    // Even a blind retry cannot duplicate it: the key exists, the PDS answers 500, getRecord settles it.
    expect(await connector.publish(req, { signal: signal() })).toMatchObject({ kind: "posted", externalId: (found as { externalId: string }).externalId });
    expect(fake.posts(acct.did)).toHaveLength(1);
  });

  it("a hang past the deadline after commit is unknown and settles the same way", async () => {
    const acct = await account();
    const req = request(acct);
    fake.afterCommitNext(acct.did, { hangMs: 2_000 });
    expect((await connector.publish(req, { signal: AbortSignal.timeout(300) })).kind).toBe("unknown");
    expect(await connector.lookup(acct, req.idempotencyKey, { signal: signal() })).toMatchObject({ kind: "found" });
    expect(fake.posts(acct.did)).toHaveLength(1);
  });

  it("a 5xx after commit is settled at once by reading the key back", async () => {
    const acct = await account();
    fake.afterCommitNext(acct.did, { status: 500 });
    expect(await connector.publish(request(acct), { signal: signal() })).toMatchObject({ kind: "posted" });
    expect(fake.posts(acct.did)).toHaveLength(1);
  });

  it("a 5xx before any commit is unknown (a 500 looks like a duplicate), the post is not there, and a retry posts it once", async () => {
    const acct = await account();
    const req = request(acct);
    for (const status of [500, 502, 503, 504]) {
      fake.failNext(acct.did, status);
      expect(await connector.publish(req, { signal: signal() })).toMatchObject({ kind: "unknown", message: expect.stringContaining(String(status)) });
    }
    expect(await connector.lookup(acct, req.idempotencyKey, { signal: signal() })).toEqual({ kind: "not_found" });
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("posted");
    expect(fake.posts(acct.did)).toHaveLength(1);
  });

  it("refuses to take over a key that holds a different post", async () => {
    const acct = await account();
    const req = request(acct);
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("posted");
    expect(await connector.publish({ ...req, text: "something else" }, { signal: signal() })).toMatchObject({ kind: "permanent", message: expect.stringContaining("different post") });
    expect(fake.posts(acct.did)).toHaveLength(1);
  });

  it("answers connection refused as retryable (never sent)", async () => {
    const acct = await account();
    const moved = { ...acct, id: randomUUID(), credentials: { ...acct.credentials, pdsUrl: `http://127.0.0.1:${await freePort()}` } };
    expect(await connector.publish(request(moved), { signal: signal() })).toMatchObject({ kind: "retryable" });
    expect(await connector.lookup(moved, randomUUID(), { signal: signal() })).toMatchObject({ kind: "unavailable" });
  });
});

describe("outcome classes from Bluesky's error names", () => {
  it("rate_limited with the reset time, nothing stored; the budget comes back on every outcome", async () => {
    const acct = await account();
    fake.rateLimitNext(acct.did, 90_000);
    const limited = await connector.publish(request(acct), { signal: signal() });
    expect(limited).toMatchObject({ kind: "rate_limited", rateLimit: { remaining: 0, windowSeconds: 3600 } });
    expect((limited as { retryAfterMs: number }).retryAfterMs).toBe(90_000);
    expect(fake.posts(acct.did)).toHaveLength(0);
    const posted = await connector.publish(request(acct), { signal: signal() });
    expect(posted).toMatchObject({ kind: "posted", rateLimit: { limit: 5000, remaining: 4997, windowSeconds: 3600, resetAt: expect.any(String) } });
    expect(Date.parse(posted.rateLimit!.resetAt) - Date.now()).toBeGreaterThan(3500_000);
  });

  it("refreshes an expired access token (400 ExpiredToken) once, posts, and hands the rotated session to be stored", async () => {
    const acct = await account();
    fake.expireAccessTokens(acct.did);
    expect((await connector.publish(request(acct), { signal: signal() })).kind).toBe("posted");
    expect(fake.sessionCounts(acct.did)).toEqual({ created: 1, refreshed: 1 });
    const stored = saved.find((s) => s.accountId === acct.id)!;
    expect(stored.credentials).toMatchObject({ did: acct.did, pdsUrl: fake.url });
    expect(stored.credentials.refreshJwt).not.toBe(acct.credentials.refreshJwt);
    // The stale stored credentials keep working in this process (it holds the new session), with no second refresh.
    expect((await connector.publish(request(acct), { signal: signal() })).kind).toBe("posted");
    expect(fake.sessionCounts(acct.did)).toEqual({ created: 1, refreshed: 1 });
    expect(fake.posts(acct.did)).toHaveLength(2);
  });

  it("auth_expired when the app password was revoked (the refresh fails too), nothing stored", async () => {
    const acct = await account();
    fake.revokeSessions(acct.did);
    expect(await connector.publish(request(acct), { signal: signal() })).toMatchObject({ kind: "auth_expired", message: expect.stringContaining("reconnect") });
    expect(await connector.publish(request({ ...acct, credentials: {} }), { signal: signal() })).toMatchObject({ kind: "auth_expired" });
    expect(fake.posts(acct.did)).toHaveLength(0);
  });

  it("restricted for a taken-down (401 AccountTakedown) or deactivated (401 AccountDeactivated) account", async () => {
    const a = await account();
    fake.takedown(a.did);
    expect(await connector.publish(request(a), { signal: signal() })).toMatchObject({ kind: "restricted", message: expect.stringContaining("AccountTakedown") });
    const b = await account();
    fake.deactivate(b.did);
    expect(await connector.publish(request(b), { signal: signal() })).toMatchObject({ kind: "restricted", message: expect.stringContaining("AccountDeactivated") });
    expect(fake.posts(a.did).length + fake.posts(b.did).length).toBe(0);
  });

  it("permanent for text over 300 graphemes (counted in graphemes, not code units), a destination, or five images, before sending", async () => {
    const acct = await account();
    expect(await connector.publish(request(acct, { text: "a".repeat(301) }), { signal: signal() })).toMatchObject({ kind: "permanent", message: expect.stringContaining("300") });
    expect(await connector.publish(request(acct, { text: "ok", firstComment: "b".repeat(301) }), { signal: signal() })).toMatchObject({ kind: "permanent", message: expect.stringContaining("first comment") });
    expect(await connector.publish(request(acct, { destination: "some-feed" }), { signal: signal() })).toMatchObject({ kind: "permanent" });
    expect(await connector.publish(request(acct, { mediaUrls: Array(5).fill(`${imagesUrl}/a.jpg`) }), { signal: signal() })).toMatchObject({ kind: "permanent" });
    expect(fake.posts(acct.did)).toHaveLength(0);
    expect((await connector.publish(request(acct, { text: "👍🏽".repeat(300) }), { signal: signal() })).kind).toBe("posted");
  });
});

describe("what a post carries", () => {
  it("sends links, tags and resolvable mentions as facets; an unknown handle stays plain text", async () => {
    const acct = await account();
    const friend = fake.createAccount({ handle: `f${randomUUID().slice(0, 8)}.bsky.test` });
    const text = `Hi @${friend.handle} and @ghost.bsky.test, see https://pacer.app #launch`;
    expect((await connector.publish(request(acct, { text }), { signal: signal() })).kind).toBe("posted");
    const [held] = fake.posts(acct.did);
    const facets = held.value.facets as Array<{ features: Array<Record<string, string>> }>;
    expect(facets.map((f) => f.features[0])).toEqual([
      { $type: "app.bsky.richtext.facet#mention", did: friend.did },
      { $type: "app.bsky.richtext.facet#link", uri: "https://pacer.app" },
      { $type: "app.bsky.richtext.facet#tag", tag: "launch" },
    ]);
  });

  it("posts the first comment as a reply to the post (root and parent strong refs)", async () => {
    const acct = await account();
    const outcome = await connector.publish(request(acct, { text: "the post", firstComment: "the comment" }), { signal: signal() });
    const [root, reply] = fake.posts(acct.did);
    expect(outcome).toMatchObject({ kind: "posted", externalId: root.uri });
    expect(reply.value).toMatchObject({ text: "the comment", reply: { root: { uri: root.uri, cid: root.cid }, parent: { uri: root.uri, cid: root.cid } } });
  });

  it("a first comment that fails leaves the item unknown (the post is live); publishing again adds only the comment", async () => {
    // Write points for one create an hour: the post's passes, the comment's meets the 429.
    const tight = await startBlueskyFake({ port: 0, config: { writePoints: { hour: 3, day: 100 } } });
    try {
      const c = createBlueskyConnector({ appviewUrl: tight.url, plcUrl: tight.url, allowedHosts: ["127.0.0.1"] });
      const made = tight.createAccount({ handle: "thread.bsky.test" });
      const connection = await c.connect({ handle: made.handle, credentials: { appPassword: made.appPassword } }, { signal: signal() });
      const acct: ConnectorAccount = { id: randomUUID(), platform: "bluesky", handle: made.handle, credentials: (connection as { credentials: Record<string, string> }).credentials };
      const req = request(acct, { text: "the post", firstComment: "the comment" });
      const first = await c.publish(req, { signal: signal() });
      expect(first).toMatchObject({ kind: "unknown", message: expect.stringMatching(/first comment.*rate_limited/) });
      expect(tight.posts(made.did)).toHaveLength(1);
      expect(await c.lookup(acct, req.idempotencyKey, { signal: signal() })).toMatchObject({ kind: "found" });
      tight.world.config.writePoints = { hour: 100, day: 100 };
      expect((await c.publish(req, { signal: signal() })).kind).toBe("posted");
      expect(tight.posts(made.did).map((p) => p.value.text)).toEqual(["the post", "the comment"]);
    } finally {
      await tight.stop();
    }
  });

  it("uploads images as blobs and embeds them; an image over 1 MB or a video is permanent", async () => {
    const acct = await account();
    expect((await connector.publish(request(acct, { mediaUrls: [`${imagesUrl}/a.jpg?size=5000`, `${imagesUrl}/b.jpg?size=600`] }), { signal: signal() })).kind).toBe("posted");
    const [held] = fake.posts(acct.did);
    expect(held.value.embed).toMatchObject({ $type: "app.bsky.embed.images", images: [{ alt: "", image: { $type: "blob", mimeType: "image/jpeg", size: 5000 } }, { image: { size: 600 } }] });
    expect(await connector.publish(request(acct, { mediaUrls: [`${imagesUrl}/big.jpg?size=1000001`] }), { signal: signal() })).toMatchObject({ kind: "permanent", message: expect.stringContaining("1000000") });
    expect(await connector.publish(request(acct, { mediaUrls: [`${imagesUrl}/v.mp4?type=video/mp4`] }), { signal: signal() })).toMatchObject({ kind: "permanent", message: expect.stringContaining("images only") });
    expect(fake.posts(acct.did)).toHaveLength(1);
  });
});

describe("reading the account (AppView)", () => {
  it("reads followers (also standing in for reach) and engagement over its own posts, skipping reposts", async () => {
    const acct = await account();
    fake.setFollowers(acct.did, 1234);
    await connector.publish(request(acct), { signal: signal() });
    await connector.publish(request(acct), { signal: signal() });
    const [a, b] = fake.posts(acct.did);
    fake.setCounts(a.uri, { likeCount: 10, repostCount: 2 });
    fake.setCounts(b.uri, { replyCount: 3, quoteCount: 1 });
    fake.addRepost(acct.did, "at://did:plc:someoneelse/app.bsky.feed.post/3kzzzzzzzzzzz");
    expect(await connector.readMetrics(acct, { signal: signal() })).toMatchObject({ followers: 1234, reach: 1234, engagement: 16, observedAt: expect.any(String) });
    fake.takedown(acct.did);
    await expect(connector.readMetrics(acct, { signal: signal() })).rejects.toThrow(/restricted the account/);
  });

  it("lists the posts made since a time, newest first, across pages, without reposts", async () => {
    const acct = await account();
    const old = fake.world.postOutsidePacer(acct.did, "before");
    old.value.createdAt = "2020-01-01T00:00:00.000Z";
    const since = new Date(Date.now() - 1000);
    for (let i = 0; i < 130; i++) fake.world.postOutsidePacer(acct.did, `p${i}`);
    fake.addRepost(acct.did, "at://did:plc:someoneelse/app.bsky.feed.post/3kzzzzzzzzzzz");
    const recent = await connector.recentPosts(acct, { since, signal: signal() });
    expect(recent.complete).toBe(true);
    expect(recent.posts).toHaveLength(130);
    expect(recent.posts.every((p) => p.externalId.startsWith(`at://${acct.did}/`) && p.marker === null)).toBe(true);
    expect(recent.posts.map((p) => p.externalId)).not.toContain(old.uri);
  });

  it("reads the RateLimit-* headers as a budget (epoch-seconds reset, policy window)", () => {
    const headers = new Headers({ "ratelimit-limit": "5000", "ratelimit-remaining": "12", "ratelimit-reset": "1764583200", "ratelimit-policy": "5000;w=3600" });
    expect(readBudget(headers)).toEqual({ limit: 5000, remaining: 12, resetAt: "2025-12-01T10:00:00.000Z", windowSeconds: 3600 });
    expect(readBudget(new Headers())).toBeUndefined();
  });

  it("ignores a reset no date can be built from (no budget, never a RangeError)", () => {
    for (const reset of ["1e13", "99999999999999", "Infinity"]) {
      const headers = new Headers({ "ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": reset });
      expect(readBudget(headers)).toBeUndefined();
    }
  });

  it("disconnecting ends the session on Bluesky", async () => {
    const acct = await account();
    expect(await connector.disconnect(acct, { signal: signal() })).toBe(true);
    fake.expireAccessTokens(acct.did);
    expect((await connector.publish(request(acct), { signal: signal() })).kind).toBe("auth_expired");
  });
});
