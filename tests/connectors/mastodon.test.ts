// The Mastodon connector against the local fake instance: every outcome class, the Idempotency-Key
// on every publish, lookups answered by reading (a lost answer is found, a retry never posts twice),
// media upload and polling, first comments as replies, the instance's own text limit, rate-limit
// budgets, metrics, recent posts, and the OAuth pieces the connect routes will call.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMastodonFake, type MastodonFake } from "@/local/platforms/mastodon/index.ts";
import {
  authorizeUrl,
  createMastodonConnector,
  createMastodonOAuth,
  createPkce,
  htmlToText,
  idempotencyKeyFor,
  instanceOrigin,
  readBudget,
  statusLength,
  type MastodonConnector,
} from "@/lib/connectors/mastodon/index.ts";
import type { ConnectorAccount, PublishRequest } from "@/lib/connectors/types.ts";
import { freePort } from "../setup/free-port.ts";

let fake: MastodonFake;
let media: Server;
let mediaUrl: string;
let connector: MastodonConnector;
/** Every request the connector sent, as "METHOD /path". */
const sent: string[] = [];
const recording: typeof fetch = (input, init) => {
  const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
  sent.push(`${init?.method ?? "GET"} ${url.pathname}`);
  return fetch(input, init);
};

beforeAll(async () => {
  fake = await startMastodonFake({ port: 0, config: { mediaProcessingMs: 200 } });
  // Where Pacer's media lives (storage): a PNG, an MP4, and a missing file.
  media = createServer((req, res) => {
    if (req.url === "/image.png") return res.writeHead(200, { "content-type": "image/png" }).end(Buffer.alloc(64));
    if (req.url === "/clip.mp4") return res.writeHead(200, { "content-type": "video/mp4" }).end(Buffer.alloc(128));
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => media.listen(0, "127.0.0.1", resolve));
  mediaUrl = `http://127.0.0.1:${(media.address() as { port: number }).port}`;
  connector = make();
});
afterAll(async () => {
  await fake?.stop();
  await new Promise((resolve) => media?.close(resolve));
});

function make(instanceUrl = fake.url, extra: Parameters<typeof createMastodonConnector>[0] = {}) {
  return createMastodonConnector({ allowedHosts: [new URL(instanceUrl).host, new URL(mediaUrl).host], fetch: recording, appName: "Fake test client", mediaPollMs: [50], ...extra });
}
const signal = (ms = 5_000) => AbortSignal.timeout(ms);

/** A user of the fake with a token (as if connected), and the account Pacer would hold. */
async function account(scopes?: string[], on: MastodonFake = fake, c: MastodonConnector = connector): Promise<ConnectorAccount & { name: string }> {
  const name = `u${randomUUID().replace(/-/g, "").slice(0, 10)}`;
  on.createUser(name);
  const connection = await c.connect({ handle: name, credentials: { instance: on.url, accessToken: on.issueToken(name, scopes) } }, { signal: signal() });
  if (connection.kind !== "connected") throw new Error(JSON.stringify(connection));
  return { id: randomUUID(), platform: "mastodon", handle: name, credentials: connection.credentials, name };
}
function request(acct: ConnectorAccount, extra: Partial<PublishRequest> = {}): PublishRequest {
  return { account: acct, idempotencyKey: randomUUID(), text: `post ${randomUUID()}`, mediaUrls: [], ...extra };
}
const live = (name: string, on = fake) => on.statusesOf(name).filter((s) => !s.deleted);
const sentAttempt = (req: PublishRequest, at = new Date(Date.now() - 1_000)) => ({ text: req.text, mediaCount: req.mediaUrls.length, sentAt: at.toISOString() });

describe("publishing", () => {
  it("sends the Idempotency-Key derived from the item's key, the same on every attempt, and returns the rate-limit budget", async () => {
    const acct = await account();
    const req = request(acct);
    const first = await connector.publish(req, { signal: signal() });
    expect(first).toMatchObject({ kind: "posted", externalId: expect.any(String), url: expect.stringContaining(`/@${acct.name}/`) });
    // The tightest budget: this token has spent 2 of its 300 per 5 minutes (connect, publish), the
    // account 1 of its 300 statuses per 3 hours.
    expect(first.rateLimit).toEqual({ limit: 300, remaining: 298, resetAt: expect.any(String) });
    expect(Date.parse(first.rateLimit!.resetAt) % (5 * 60_000)).toBe(0);
    const again = await connector.publish(req, { signal: signal() });
    expect(again).toMatchObject({ kind: "posted", externalId: (first as { externalId: string }).externalId });
    const key = await idempotencyKeyFor(req.idempotencyKey);
    expect(key).toMatch(/^pacer-[0-9a-f]{48}$/);
    expect(live(acct.name).map((s) => s.idempotency_key)).toEqual([key]);
  });

  it("refuses a text over the instance's limit before sending it, counting URLs as 23 and remote mentions as @user", async () => {
    const acct = await account();
    sent.length = 0;
    const over = await connector.publish(request(acct, { text: "é".repeat(501) }), { signal: signal() });
    expect(over).toMatchObject({ kind: "permanent", message: expect.stringContaining("allows 500") });
    expect(sent).not.toContain("POST /api/v1/statuses");
    const longUrl = `${"a".repeat(450)} https://example.com/${"p".repeat(200)} @someone@far.example.org`;
    expect(statusLength(longUrl)).toBe(450 + 1 + 23 + 1 + 8);
    expect((await connector.publish(request(acct, { text: longUrl }), { signal: signal() })).kind).toBe("posted");
  });

  it("reads the instance's own limit: a raised one (v2) and an older server's (v1 only)", async () => {
    for (const config of [{ maxCharacters: 1_000 }, { maxCharacters: 700, instanceV2: false }]) {
      const other = await startMastodonFake({ port: 0, config });
      try {
        const c = make(other.url);
        const acct = await account(undefined, other, c);
        expect((await c.publish(request(acct, { text: "b".repeat(config.maxCharacters) }), { signal: signal() })).kind).toBe("posted");
        expect((await c.publish(request(acct, { text: "b".repeat(config.maxCharacters + 1) }), { signal: signal() })).kind).toBe("permanent");
        expect(live(acct.name, other)).toHaveLength(1);
        expect((await c.instanceLimits(other.url, { signal: signal() })).maxCharacters).toBe(config.maxCharacters);
      } finally {
        await other.stop();
      }
    }
  });

  it("posts the first comment as a reply to the post, each with its own key, and a retry posts neither again", async () => {
    const acct = await account();
    const req = request(acct, { firstComment: "and a first comment" });
    const outcome = await connector.publish(req, { signal: signal() });
    expect(outcome.kind).toBe("posted");
    const [root, reply] = live(acct.name);
    expect([root.id, reply.in_reply_to_id, reply.text]).toEqual([(outcome as { externalId: string }).externalId, root.id, "and a first comment"]);
    expect(reply.idempotency_key).toBe(await idempotencyKeyFor(`${req.idempotencyKey}:reply:1`));
    await connector.publish(req, { signal: signal() });
    expect(live(acct.name)).toHaveLength(2);
  });

  it("a destination is permanent: Mastodon accounts post to their own profile", async () => {
    expect((await connector.publish(request(await account(), { destination: "r/x" }), { signal: signal() })).kind).toBe("permanent");
  });
});

describe("media", () => {
  it("uploads an image (200) and a video (202, polled through 206 until processed), then posts with them", async () => {
    const acct = await account();
    expect((await connector.publish(request(acct, { mediaUrls: [`${mediaUrl}/image.png`] }), { signal: signal() })).kind).toBe("posted");
    sent.length = 0;
    expect((await connector.publish(request(acct, { mediaUrls: [`${mediaUrl}/clip.mp4`] }), { signal: signal() })).kind).toBe("posted");
    expect(sent.filter((s) => s.startsWith("GET /api/v1/media/")).length).toBeGreaterThanOrEqual(2);
    expect(live(acct.name).map((s) => s.media_ids.length)).toEqual([1, 1]);
  });

  it("uploads go through the single-send publish fetch, as statuses do; downloads and polls through the reads fetch", async () => {
    const posts: string[] = [];
    const publishFetch: typeof fetch = (input, init) => {
      posts.push(`${init?.method ?? "GET"} ${new URL(String(input instanceof Request ? input.url : input)).pathname}`);
      return fetch(input, init);
    };
    const c = make(fake.url, { publishFetch });
    const acct = await account(undefined, fake, c);
    sent.length = 0;
    expect((await c.publish(request(acct, { mediaUrls: [`${mediaUrl}/clip.mp4`] }), { signal: signal() })).kind).toBe("posted");
    expect(posts).toEqual(["POST /api/v2/media", "POST /api/v1/statuses"]);
    expect(sent.filter((s) => s.startsWith("POST"))).toEqual([]);
    expect(sent).toContain("GET /clip.mp4");
  });

  it("media still processing when the call's time runs out is retryable, and nothing is posted", async () => {
    const acct = await account();
    fake.state.config.mediaProcessingMs = 60_000;
    try {
      const outcome = await connector.publish(request(acct, { mediaUrls: [`${mediaUrl}/clip.mp4`] }), { signal: signal(400) });
      expect(outcome).toMatchObject({ kind: "retryable", message: expect.stringContaining("processing") });
    } finally {
      fake.state.config.mediaProcessingMs = 200;
    }
    expect(live(acct.name)).toHaveLength(0);
  });

  it("a thumbnail failure is retryable; a missing file and too many files are permanent; nothing is posted", async () => {
    const acct = await account();
    fake.nextFault(acct.name, { kind: "media_error" });
    expect((await connector.publish(request(acct, { mediaUrls: [`${mediaUrl}/image.png`] }), { signal: signal() })).kind).toBe("retryable");
    expect((await connector.publish(request(acct, { mediaUrls: [`${mediaUrl}/missing.png`] }), { signal: signal() })).kind).toBe("permanent");
    sent.length = 0;
    expect((await connector.publish(request(acct, { mediaUrls: Array(5).fill(`${mediaUrl}/image.png`) }), { signal: signal() })).kind).toBe("permanent");
    expect(sent.filter((s) => s === "POST /api/v2/media")).toEqual([]);
    expect(live(acct.name)).toHaveLength(0);
  });
});

describe("outcome classes", () => {
  it("a token without write:statuses, a revoked token and an app-only token are auth_expired", async () => {
    const readOnly = await account(["read"]);
    expect(await connector.publish(request(readOnly), { signal: signal() })).toMatchObject({ kind: "auth_expired", message: expect.stringContaining("outside the authorized scopes") });
    const revoked = await account();
    fake.revokeTokens(revoked.name);
    expect((await connector.publish(request(revoked), { signal: signal() })).kind).toBe("auth_expired");
    const appOnly = await account();
    const clientId = [...fake.state.apps.values()][0].client_id;
    const appToken = fake.state.issueToken(null, clientId, ["read", "write:statuses"]).token;
    expect((await connector.publish(request({ ...appOnly, credentials: { ...appOnly.credentials, accessToken: appToken } }), { signal: signal() })).kind).toBe("auth_expired");
    const none = { ...appOnly, credentials: {} };
    expect((await connector.publish(request(none), { signal: signal() })).kind).toBe("auth_expired");
  });

  it("suspended, unconfirmed and pending accounts are restricted; a silenced one still posts", async () => {
    for (const state of ["suspended", "disabled", "unconfirmed", "pending"] as const) {
      const acct = await account();
      fake.setAccountState(acct.name, state);
      expect((await connector.publish(request(acct), { signal: signal() })).kind).toBe("restricted");
    }
    const quiet = await account();
    fake.setSilenced(quiet.name, true);
    expect((await connector.publish(request(quiet), { signal: signal() })).kind).toBe("posted");
  });

  it("the statuses family's 429 is rate_limited until its ISO reset", async () => {
    const other = await startMastodonFake({ port: 0, config: { throttles: { ...fake.state.config.throttles, statuses: { limit: 1, periodMs: 3 * 3_600_000 } } } });
    try {
      const c = make(other.url);
      const acct = await account(undefined, other, c);
      expect((await c.publish(request(acct), { signal: signal() })).kind).toBe("posted");
      const limited = await c.publish(request(acct), { signal: signal() });
      expect(limited.kind).toBe("rate_limited");
      const resetAt = Math.ceil(Date.now() / (3 * 3_600_000)) * 3 * 3_600_000;
      expect(Math.abs((limited as { retryAfterMs: number }).retryAfterMs - (resetAt - Date.now()))).toBeLessThan(2_000);
      expect(limited.rateLimit).toMatchObject({ remaining: 0 });
    } finally {
      await other.stop();
    }
  });

  it("an answer held past the call's deadline is unknown; lookup finds the post; one status", async () => {
    const acct = await account();
    fake.nextFault(acct.name, { kind: "hang_after_commit", ms: 5_000 });
    const req = request(acct);
    expect((await connector.publish(req, { signal: signal(400) })).kind).toBe("unknown");
    expect(await connector.lookup(acct, req.idempotencyKey, { signal: signal(), sent: sentAttempt(req) })).toMatchObject({ kind: "found", externalId: live(acct.name)[0].id });
    expect(live(acct.name)).toHaveLength(1);
  });

  it("a reset before the commit is unknown and lookup says not_found", async () => {
    const acct = await account();
    fake.nextFault(acct.name, { kind: "reset_before_commit" });
    const req = request(acct);
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("unknown");
    expect(await connector.lookup(acct, req.idempotencyKey, { signal: signal(), sent: sentAttempt(req) })).toEqual({ kind: "not_found" });
  });

  it("a same-key publish while the first is in flight gets 503 (the lock) and is unknown, never a second status", async () => {
    const acct = await account();
    fake.nextFault(acct.name, { kind: "slow_commit", ms: 300 });
    const req = request(acct);
    const first = connector.publish(req, { signal: signal() });
    await new Promise((r) => setTimeout(r, 100));
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("unknown");
    expect((await first).kind).toBe("posted");
    expect(live(acct.name)).toHaveLength(1);
  });

  it("on a server with bug #40399 a same-key retry answers 500: unknown, and lookup still finds the one status", async () => {
    const other = await startMastodonFake({ port: 0, config: { idempotency: "bug-40399" } });
    try {
      const c = make(other.url);
      const acct = await account(undefined, other, c);
      other.nextFault(acct.name, { kind: "drop_after_commit" });
      const req = request(acct);
      expect((await c.publish(req, { signal: signal() })).kind).toBe("unknown");
      expect((await c.publish(req, { signal: signal() })).kind).toBe("unknown");
      expect((await c.lookup(acct, req.idempotencyKey, { signal: signal(), sent: sentAttempt(req) })).kind).toBe("found");
      expect(live(acct.name, other)).toHaveLength(1);
    } finally {
      await other.stop();
    }
  });

  it("an instance that refuses connections is retryable; a call out of time before sending is retryable", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const c = make(closed);
    const acct: ConnectorAccount = { id: "x", platform: "mastodon", handle: "a", credentials: { instance: closed, accessToken: "t", accountId: "1" } };
    expect((await c.publish(request(acct), { signal: signal() })).kind).toBe("retryable");
    const aborted = new AbortController();
    aborted.abort();
    expect((await connector.publish(request(await account()), { signal: aborted.signal })).kind).toBe("retryable");
  });

  it("an instance on an internal address the operator did not allow is never contacted", async () => {
    const c = createMastodonConnector({ fetch: recording });
    const acct = await account();
    sent.length = 0;
    expect((await c.publish(request(acct), { signal: signal() })).kind).toBe("permanent");
    expect(sent).toEqual([]);
  });
});

describe("lookup", () => {
  it("matches by the source text when the HTML differs (mentions, links), and not another app's identical status", async () => {
    const acct = await account();
    const req = request(acct, { text: `hello @friend@elsewhere.social see https://example.com/x ${randomUUID()}` });
    // The same text written on the instance itself, just before Pacer's attempt: closer to the send time, but not Pacer's app.
    fake.postAsUser(acct.name, req.text);
    fake.nextFault(acct.name, { kind: "drop_after_commit" });
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("unknown");
    const found = await connector.lookup(acct, req.idempotencyKey, { signal: signal(), sent: sentAttempt(req) });
    const ours = live(acct.name).find((s) => s.application?.name === "Fake test client")!;
    expect(found).toMatchObject({ kind: "found", externalId: ours.id });
  });

  it("a text with 3+ newlines, which the instance folds into one paragraph break, is found through /source; a lost one is not_found", async () => {
    const acct = await account();
    const tag = randomUUID();
    const two = request(acct, { text: `Hello\n\nworld ${tag}` });
    const three = request(acct, { text: `Hello\n\n\nworld ${tag}` });
    const posted = (await connector.publish(two, { signal: signal() })) as { externalId: string };
    fake.nextFault(acct.name, { kind: "drop_after_commit" });
    expect((await connector.publish(three, { signal: signal() })).kind).toBe("unknown");
    const threeId = live(acct.name).find((st) => st.text === three.text)!.id;
    // Both render as "Hello\n\nworld …": each lookup is settled by the text as posted.
    expect(await connector.lookup(acct, three.idempotencyKey, { signal: signal(), sent: sentAttempt(three) })).toMatchObject({ kind: "found", externalId: threeId });
    expect(await connector.lookup(acct, two.idempotencyKey, { signal: signal(), sent: sentAttempt(two) })).toMatchObject({ kind: "found", externalId: posted.externalId });
    const lost = request(acct, { text: `Hi\n\n\nthere ${tag}` });
    fake.nextFault(acct.name, { kind: "reset_before_commit" });
    expect((await connector.publish(lost, { signal: signal() })).kind).toBe("unknown");
    expect(await connector.lookup(acct, lost.idempotencyKey, { signal: signal(), sent: sentAttempt(lost) })).toEqual({ kind: "not_found" });
  });

  it("after the app name changes, Pacer's status under the old name is never not_found (unavailable: a human decides)", async () => {
    const acct = await account();
    const req = request(acct);
    fake.nextFault(acct.name, { kind: "drop_after_commit" });
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("unknown");
    const renamed = make(fake.url, { appName: "Pacer" });
    expect(await renamed.lookup(acct, req.idempotencyKey, { signal: signal(), sent: sentAttempt(req) })).toMatchObject({ kind: "unavailable", message: expect.stringContaining("another app") });
    expect(live(acct.name)).toHaveLength(1);
  });

  it("a /source that cannot be read leaves the lookup unavailable, never not_found", async () => {
    const acct = await account();
    const req = request(acct, { text: `see #pacer ${randomUUID()}` });
    fake.nextFault(acct.name, { kind: "drop_after_commit" });
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("unknown");
    const noSource = make(fake.url, {
      fetch: (input, init) => (String(input instanceof Request ? input.url : input).endsWith("/source") ? Promise.resolve(new Response("", { status: 503 })) : fetch(input, init)),
    });
    expect((await noSource.lookup(acct, req.idempotencyKey, { signal: signal(), sent: sentAttempt(req) })).kind).toBe("unavailable");
  });

  it("two items with the same text: one never answers for the other's status (the engine names the ids recorded for other items)", async () => {
    const acct = await account();
    const text = `Good morning ${randomUUID()}`;
    const a = request(acct, { text });
    const b = request(acct, { text });
    const postedA = (await connector.publish(a, { signal: signal() })) as { externalId: string };
    // B is lost before the instance commits it: its lookup must not answer with A's status.
    fake.nextFault(acct.name, { kind: "reset_before_commit" });
    expect((await connector.publish(b, { signal: signal() })).kind).toBe("unknown");
    const bSent = { ...sentAttempt(b), excludeExternalIds: [postedA.externalId] };
    expect(await connector.lookup(acct, b.idempotencyKey, { signal: signal(), sent: bSent })).toEqual({ kind: "not_found" });
    // B sent again, landed, answer lost: found is B's own status.
    fake.nextFault(acct.name, { kind: "drop_after_commit" });
    expect((await connector.publish(b, { signal: signal() })).kind).toBe("unknown");
    const bId = live(acct.name).find((st) => st.id !== postedA.externalId)!.id;
    expect(await connector.lookup(acct, b.idempotencyKey, { signal: signal(), sent: bSent })).toMatchObject({ kind: "found", externalId: bId });
    // Without the other item's id, two statuses match: neither is claimed.
    expect((await connector.lookup(acct, b.idempotencyKey, { signal: signal(), sent: sentAttempt(b) })).kind).toBe("unavailable");
    expect(live(acct.name)).toHaveLength(2);
  });

  it("reads older pages (Link rel=next) back to the send time", async () => {
    const acct = await account();
    const req = request(acct);
    const at = new Date(Date.now() - 1_000);
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("posted");
    for (let i = 0; i < 45; i++) fake.postAsUser(acct.name, `later ${i}`);
    sent.length = 0;
    expect((await connector.lookup(acct, req.idempotencyKey, { signal: signal(), sent: sentAttempt(req, at) })).kind).toBe("found");
    expect(sent.filter((s) => s.endsWith("/statuses")).length).toBe(2);
  });

  it("a recorded id settles it in one read, deleted or not; without what was sent, or without access, it is unavailable", async () => {
    const acct = await account();
    const req = request(acct);
    const posted = (await connector.publish(req, { signal: signal() })) as { externalId: string };
    await fetch(`${fake.url}/api/v1/statuses/${posted.externalId}`, { method: "DELETE", headers: { authorization: `Bearer ${acct.credentials.accessToken}` } });
    expect(await connector.lookup(acct, req.idempotencyKey, { signal: signal(), sent: { ...sentAttempt(req), externalId: posted.externalId } })).toEqual({ kind: "found", externalId: posted.externalId });
    expect((await connector.lookup(acct, req.idempotencyKey, { signal: signal() })).kind).toBe("unavailable");
    fake.revokeTokens(acct.name);
    expect((await connector.lookup(acct, req.idempotencyKey, { signal: signal(), sent: sentAttempt(req) })).kind).toBe("unavailable");
  });
});

describe("reads", () => {
  it("recentPosts pages through every status since a time, with no marker (Mastodon keeps none)", async () => {
    const acct = await account();
    fake.postAsUser(acct.name, "before");
    await new Promise((r) => setTimeout(r, 20));
    const since = new Date();
    await new Promise((r) => setTimeout(r, 20));
    const made = Array.from({ length: 45 }, (_, i) => fake.postAsUser(acct.name, `after ${i}`).id);
    const recent = await connector.recentPosts(acct, { since, signal: signal() });
    expect(recent.complete).toBe(true);
    expect(recent.posts.map((p) => p.externalId).sort()).toEqual([...made].sort());
    expect(recent.posts.every((p) => p.marker === null)).toBe(true);
    fake.revokeTokens(acct.name);
    await expect(connector.recentPosts(acct, { since, signal: signal() })).rejects.toThrow(/revoked/);
  });

  it("readMetrics: followers, and favourites + reblogs + replies of recent statuses", async () => {
    const acct = await account();
    fake.setFollowers(acct.name, 77);
    fake.setCounts(fake.postAsUser(acct.name, "a").id, { favourites_count: 3, reblogs_count: 2, replies_count: 1 });
    fake.setCounts(fake.postAsUser(acct.name, "b").id, { favourites_count: 4 });
    expect(await connector.readMetrics(acct, { signal: signal() })).toMatchObject({ followers: 77, reach: 77, engagement: 10 });
  });
});

describe("connecting (OAuth)", () => {
  const REDIRECT = "https://pacer.example/api/connect/mastodon/callback";

  async function consent(on: MastodonFake, url: string, username: string) {
    const form = new URLSearchParams(new URL(url).searchParams);
    form.set("username", username);
    form.set("decision", "approve");
    const res = await fetch(`${on.url}/oauth/authorize`, { method: "POST", body: form, redirect: "manual" });
    return new URL(res.headers.get("location")!).searchParams.get("code")!;
  }

  it("registers, authorizes with PKCE, exchanges the code, connects, and revokes on disconnect", async () => {
    const oauth = createMastodonOAuth({ allowedHosts: [new URL(fake.url).host] });
    const app = await oauth.registerApp(fake.url, { clientName: "Fake test client", redirectUri: REDIRECT }, { signal: signal() });
    if (app.kind !== "registered") throw new Error(app.message);
    expect(await oauth.discover(fake.url, { signal: signal() })).toEqual({ kind: "discovered", pkce: true });
    const pkce = await createPkce();
    const url = authorizeUrl({ instance: fake.url, clientId: app.clientId, redirectUri: REDIRECT, state: "st", codeChallenge: pkce.challenge });
    expect(Object.fromEntries(new URL(url).searchParams)).toMatchObject({ scope: "read write:statuses write:media", code_challenge_method: "S256", state: "st" });
    const code = await consent(fake, url, "oauthuser");
    const wrong = await oauth.exchangeCode({ instance: fake.url, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: REDIRECT, code, codeVerifier: "wrong" }, { signal: signal() });
    expect(wrong).toMatchObject({ kind: "refused", code: "invalid_grant" });
    const code2 = await consent(fake, url, "oauthuser");
    const token = await oauth.exchangeCode({ instance: fake.url, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: REDIRECT, code: code2, codeVerifier: pkce.verifier }, { signal: signal() });
    if (token.kind !== "token") throw new Error(token.message);
    const connection = await connector.connect({ handle: `oauthuser@${new URL(fake.url).host}`, credentials: { instance: fake.url, accessToken: token.accessToken, clientId: app.clientId, clientSecret: app.clientSecret } }, { signal: signal() });
    expect(connection).toEqual({
      kind: "connected",
      credentials: { instance: fake.url, accessToken: token.accessToken, accountId: fake.state.accountByUsername("oauthuser")!.id, username: "oauthuser", clientId: app.clientId, clientSecret: app.clientSecret },
    });
    const acct: ConnectorAccount = { id: "a", platform: "mastodon", handle: "oauthuser", credentials: (connection as { credentials: Record<string, string> }).credentials };
    expect((await connector.publish(request(acct), { signal: signal() })).kind).toBe("posted");
    expect(await oauth.revokeToken({ instance: fake.url, clientId: app.clientId, clientSecret: app.clientSecret, token: token.accessToken }, { signal: signal() })).toEqual({ kind: "revoked" });
    expect((await connector.publish(request(acct), { signal: signal() })).kind).toBe("auth_expired");
  });

  it("an older instance (no PKCE) runs the plain code flow; a forgotten app is invalid_client; a bad redirect is refused", async () => {
    const old = await startMastodonFake({ port: 0, config: { pkce: false } });
    try {
      const oauth = createMastodonOAuth({ allowedHosts: [new URL(old.url).host] });
      expect(await oauth.discover(old.url, { signal: signal() })).toEqual({ kind: "discovered", pkce: false });
      expect(await oauth.registerApp(old.url, { clientName: "P", redirectUri: "/relative" }, { signal: signal() })).toMatchObject({ kind: "refused", code: "app_refused" });
      const app = await oauth.registerApp(old.url, { clientName: "P", redirectUri: REDIRECT }, { signal: signal() });
      if (app.kind !== "registered") throw new Error(app.message);
      const url = authorizeUrl({ instance: old.url, clientId: app.clientId, redirectUri: REDIRECT, state: "s" });
      expect(new URL(url).searchParams.has("code_challenge")).toBe(false);
      const input = { instance: old.url, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: REDIRECT };
      expect((await oauth.exchangeCode({ ...input, code: await consent(old, url, "olduser") }, { signal: signal() })).kind).toBe("token");
      const code = await consent(old, url, "olduser");
      old.forgetApp(app.clientId);
      expect(await oauth.exchangeCode({ ...input, code }, { signal: signal() })).toMatchObject({ kind: "refused", code: "invalid_client" });
    } finally {
      await old.stop();
    }
  });

  it("connect refuses another user's sign-in, a dead token and a suspended account, and says when the instance is unreachable", async () => {
    const acct = await account();
    const creds = { instance: fake.url, accessToken: acct.credentials.accessToken };
    expect(await connector.connect({ handle: "someoneelse", credentials: creds }, { signal: signal() })).toMatchObject({ kind: "refused", code: "handle_mismatch", field: "handle" });
    expect(await connector.connect({ handle: "", credentials: { ...creds, accessToken: "nope" } }, { signal: signal() })).toMatchObject({ kind: "refused", code: "token_invalid" });
    expect(await connector.connect({ handle: "", credentials: { ...creds, instance: "not an instance" } }, { signal: signal() })).toMatchObject({ kind: "refused", field: "credentials.instance" });
    fake.setAccountState(acct.name, "suspended");
    expect(await connector.connect({ handle: acct.name, credentials: creds }, { signal: signal() })).toMatchObject({ kind: "refused", code: "account_restricted" });
    const closed = `http://127.0.0.1:${await freePort()}`;
    expect((await make(closed).connect({ handle: "", credentials: { instance: closed, accessToken: "t" } }, { signal: signal() })).kind).toBe("unavailable");
  });
});

describe("pure pieces", () => {
  it("counts graphemes, not UTF-16 units, and the content warning too", () => {
    expect(statusLength("👩‍👩‍👧‍👦 family")).toBe(8);
    expect(statusLength("text", "cw")).toBe(6);
  });

  it("reads a status's HTML as text, and an invalid character reference from a hostile instance does not throw", () => {
    expect(htmlToText("<p>a &amp; b<br />c &#x1F600; &#39;</p><p>d</p>")).toBe("a & b\nc \u{1F600} '\n\nd");
    expect(htmlToText("<p>x &#x110000; &#99999999999; y</p>")).toBe("x \uFFFD \uFFFD y");
  });

  it("takes an instance from what a user types", () => {
    expect(instanceOrigin("mastodon.social")).toBe("https://mastodon.social");
    expect(instanceOrigin(" https://Social.Example/ ")).toBe("https://social.example");
    expect(instanceOrigin("alice@fosstodon.org")).toBe("https://fosstodon.org");
    expect(instanceOrigin("http://127.0.0.1:4000")).toBe("http://127.0.0.1:4000");
    for (const bad of ["", "word", "ftp://x.org", "https://x.org/path", "https://u:p@x.org"]) expect(instanceOrigin(bad)).toBeNull();
  });

  it("reads the budget from X-RateLimit-* with a microsecond ISO reset", () => {
    const headers = new Headers({ "x-ratelimit-limit": "300", "x-ratelimit-remaining": "12", "x-ratelimit-reset": "2026-12-01T10:05:00.123456Z" });
    expect(readBudget(headers)).toEqual({ limit: 300, remaining: 12, resetAt: "2026-12-01T10:05:00.123Z" });
    expect(readBudget(new Headers())).toBeUndefined();
  });

  it("ignores a reset no date can be built from (no budget, never a RangeError)", () => {
    for (const reset of ["+275760-09-13T00:00:00.001Z", "9999999999999", "soon"]) {
      const headers = new Headers({ "x-ratelimit-limit": "300", "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset });
      expect(readBudget(headers)).toBeUndefined();
    }
  });
});
