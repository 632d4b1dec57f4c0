// The local Bluesky against what the documentation and the reference server say it answers. Each
// test names its source (docs/platforms/bluesky.md collects them, § numbers below).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBlueskyFake, type BlueskyFake } from "@/local/platforms/bluesky/index.ts";
import { seededRandom } from "@/local/sandbox/network.ts";

let fake: BlueskyFake;
let clock = Date.parse("2026-12-01T10:00:00Z");
beforeAll(async () => {
  fake = await startBlueskyFake({ port: 0, now: () => clock });
});
afterAll(() => fake?.stop());

let n = 0;
const newAccount = (extra: { mainPassword?: string; emailAuthFactor?: boolean } = {}) => fake.createAccount({ handle: `fake${n++}.bsky.test`, ...extra });

async function xrpc(nsid: string, init: { method?: string; query?: Record<string, string>; json?: unknown; token?: string; bytes?: Uint8Array; type?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.json !== undefined) headers["content-type"] = "application/json";
  if (init.bytes) headers["content-type"] = init.type ?? "application/octet-stream";
  const res = await fetch(`${fake.url}/xrpc/${nsid}${init.query ? `?${new URLSearchParams(init.query)}` : ""}`, {
    method: init.method ?? (init.json !== undefined || init.bytes ? "POST" : "GET"),
    headers,
    body: init.json !== undefined ? JSON.stringify(init.json) : (init.bytes as BodyInit | undefined),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function login(handle: string, password: string) {
  const r = await xrpc("com.atproto.server.createSession", { json: { identifier: handle, password } });
  expect(r.status).toBe(200);
  return r.body as { accessJwt: string; refreshJwt: string; did: string };
}

const TID = "3kabcdefghijk";
const post = (text = "hello", extra: Record<string, unknown> = {}) => ({ $type: "app.bsky.feed.post", text, createdAt: new Date(clock).toISOString(), ...extra });

describe("identity (resolveHandle.json; atproto.com/specs/did)", () => {
  it("resolves a handle to its DID and serves the DID document naming the PDS", async () => {
    const a = newAccount();
    expect((await xrpc("com.atproto.identity.resolveHandle", { query: { handle: a.handle } })).body).toEqual({ did: a.did });
    const doc = await (await fetch(`${fake.url}/${a.did}`)).json();
    expect(doc).toMatchObject({ id: a.did, alsoKnownAs: [`at://${a.handle}`], service: [{ id: "#atproto_pds", type: "AtprotoPersonalDataServer", serviceEndpoint: fake.url }] });
    expect(await xrpc("com.atproto.identity.resolveHandle", { query: { handle: "nobody.bsky.test" } })).toMatchObject({ status: 400, body: { error: "InvalidRequest", message: "Unable to resolve handle" } });
  });

  it("refuses a query sent as a procedure (atproto.com/specs/xrpc)", async () => {
    expect(await xrpc("com.atproto.repo.createRecord", { method: "GET" })).toMatchObject({ status: 400, body: { error: "InvalidRequest", message: "Incorrect HTTP method (GET) expected POST" } });
  });
});

describe("sessions (createSession.json, refreshSession.json; §2.3–2.4)", () => {
  it("logs in with an app password; a wrong one is 401 AuthenticationRequired", async () => {
    const a = newAccount();
    const s = await login(a.handle, a.appPassword);
    expect(s).toMatchObject({ did: a.did, handle: a.handle, accessJwt: expect.any(String), refreshJwt: expect.any(String), active: true, didDoc: { id: a.did } });
    expect(await xrpc("com.atproto.server.createSession", { json: { identifier: a.handle, password: "wxyz-wxyz-wxyz-wxyz" } })).toMatchObject({ status: 401, body: { error: "AuthenticationRequired", message: "Invalid identifier or password" } });
  });

  it("asks for a sign-in code when the main password is used with email 2FA (discussion #2435), and refuses a taken-down account", async () => {
    const a = newAccount({ mainPassword: "main-secret", emailAuthFactor: true });
    expect(await xrpc("com.atproto.server.createSession", { json: { identifier: a.handle, password: "main-secret" } })).toMatchObject({ status: 401, body: { error: "AuthFactorTokenRequired" } });
    fake.takedown(a.did);
    expect(await xrpc("com.atproto.server.createSession", { json: { identifier: a.handle, password: a.appPassword } })).toMatchObject({ status: 401, body: { error: "AccountTakedown" } });
  });

  it("allows 30 logins per 5 minutes, then 429 with RateLimit-* and Retry-After (rate-limits.md)", async () => {
    const a = newAccount();
    for (let i = 0; i < 30; i++) expect((await xrpc("com.atproto.server.createSession", { json: { identifier: a.handle, password: a.appPassword } })).status).toBe(200);
    const refused = await xrpc("com.atproto.server.createSession", { json: { identifier: a.handle, password: a.appPassword } });
    expect(refused).toMatchObject({ status: 429, body: { error: "RateLimitExceeded", message: "Rate Limit Exceeded" } });
    expect(refused.headers.get("ratelimit-limit")).toBe("30");
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    expect(refused.headers.get("ratelimit-policy")).toBe("30;w=300");
    expect(Number(refused.headers.get("ratelimit-reset"))).toBe(Math.ceil((clock + 300_000) / 1000));
    expect(refused.headers.get("retry-after")).toBe("300");
    clock += 300_000; // a new window
    expect((await xrpc("com.atproto.server.createSession", { json: { identifier: a.handle, password: a.appPassword } })).status).toBe(200);
  });

  it("answers token errors with 400 ExpiredToken / InvalidToken and a missing token with 401 AuthMissing (auth-verifier.ts)", async () => {
    const a = newAccount();
    const s = await login(a.handle, a.appPassword);
    const write = (token?: string) => xrpc("com.atproto.repo.createRecord", { token, json: { repo: a.did, collection: "app.bsky.feed.post", record: post() } });
    expect(await write()).toMatchObject({ status: 401, body: { error: "AuthMissing" } });
    expect(await write("garbage")).toMatchObject({ status: 400, body: { error: "InvalidToken" } });
    expect(await write(s.refreshJwt)).toMatchObject({ status: 400, body: { error: "InvalidToken", message: "Bad token scope" } });
    clock += 120 * 60_000 + 1; // access tokens live 120 minutes
    expect(await write(s.accessJwt)).toMatchObject({ status: 400, body: { error: "ExpiredToken", message: "Token has expired" } });
    expect(fake.posts(a.did)).toHaveLength(0);
  });

  it("rotates the refresh token; the old one works for 2 hours and gets the same next token, then is revoked", async () => {
    const a = newAccount();
    const s = await login(a.handle, a.appPassword);
    const first = await xrpc("com.atproto.server.refreshSession", { method: "POST", token: s.refreshJwt });
    expect(first.status).toBe(200);
    expect(first.body.refreshJwt).not.toBe(s.refreshJwt);
    const again = await xrpc("com.atproto.server.refreshSession", { method: "POST", token: s.refreshJwt });
    expect(again.body.refreshJwt).toBe(first.body.refreshJwt);
    clock += 2 * 3600_000 + 1;
    expect(await xrpc("com.atproto.server.refreshSession", { method: "POST", token: s.refreshJwt })).toMatchObject({ status: 400, body: { error: "ExpiredToken", message: "Token has been revoked" } });
    expect((await xrpc("com.atproto.server.refreshSession", { method: "POST", token: first.body.refreshJwt })).status).toBe(200);
  });

  it("ends a session with deleteSession and all of them when the app password is revoked", async () => {
    const a = newAccount();
    const s = await login(a.handle, a.appPassword);
    expect((await xrpc("com.atproto.server.deleteSession", { method: "POST", token: s.refreshJwt })).status).toBe(200);
    expect(await xrpc("com.atproto.server.refreshSession", { method: "POST", token: s.refreshJwt })).toMatchObject({ status: 400, body: { error: "ExpiredToken" } });
    const t = await login(a.handle, a.appPassword);
    fake.revokeSessions(a.did);
    expect(await xrpc("com.atproto.server.refreshSession", { method: "POST", token: t.refreshJwt })).toMatchObject({ status: 400, body: { error: "ExpiredToken", message: "Token has been revoked" } });
    expect(await xrpc("com.atproto.server.createSession", { json: { identifier: a.handle, password: a.appPassword } })).toMatchObject({ status: 401 });
  });
});

describe("createRecord (createRecord.json, repo/prepare.ts; §3.1–3.2)", () => {
  it("stores a post at the given TID and answers uri, cid, commit with the write-points headers (create = 3)", async () => {
    const a = newAccount();
    const s = await login(a.handle, a.appPassword);
    const r = await xrpc("com.atproto.repo.createRecord", { token: s.accessJwt, json: { repo: a.did, collection: "app.bsky.feed.post", rkey: TID, record: post() } });
    expect(r).toMatchObject({ status: 200, body: { uri: `at://${a.did}/app.bsky.feed.post/${TID}`, cid: expect.stringMatching(/^bafyrei/), commit: { cid: expect.any(String), rev: expect.any(String) }, validationStatus: "valid" } });
    expect(r.headers.get("ratelimit-limit")).toBe("5000");
    expect(r.headers.get("ratelimit-remaining")).toBe("4997");
    expect(r.headers.get("ratelimit-policy")).toBe("5000;w=3600");
    expect(Number(r.headers.get("ratelimit-reset"))).toBe(Math.ceil((clock + 3600_000) / 1000));
    expect(await xrpc("com.atproto.repo.getRecord", { query: { repo: a.did, collection: "app.bsky.feed.post", rkey: TID } })).toMatchObject({ status: 200, body: { uri: r.body.uri, cid: r.body.cid, value: { text: "hello" } } });
  });

  it("answers a second create at the same rkey with 500 InternalServerError and keeps one post (#3718)", async () => {
    const a = newAccount();
    const s = await login(a.handle, a.appPassword);
    const create = () => xrpc("com.atproto.repo.createRecord", { token: s.accessJwt, json: { repo: a.did, collection: "app.bsky.feed.post", rkey: TID, record: post() } });
    expect((await create()).status).toBe(200);
    expect(await create()).toMatchObject({ status: 500, body: { error: "InternalServerError", message: "Internal Server Error" } });
    expect(fake.posts(a.did)).toHaveLength(1);
  });

  it("refuses a non-TID rkey, text over 300 graphemes and a bad facet with 400 InvalidRequest, after spending the points", async () => {
    const a = newAccount();
    const s = await login(a.handle, a.appPassword);
    const create = (rkey: string, record: unknown) => xrpc("com.atproto.repo.createRecord", { token: s.accessJwt, json: { repo: a.did, collection: "app.bsky.feed.post", rkey, record } });
    expect(await create("my-key", post())).toMatchObject({ status: 400, body: { error: "InvalidRequest", message: "Invalid record key for app.bsky.feed.post: my-key" } });
    expect(await create(TID, post("é".repeat(301)))).toMatchObject({ status: 400, body: { message: expect.stringContaining("300 graphemes") } });
    // 300 emoji are 300 graphemes (and 600 UTF-16 code units): allowed.
    expect((await create(TID, post("👍".repeat(300)))).status).toBe(200);
    const facet = { index: { byteStart: 0, byteEnd: 99 }, features: [{ $type: "app.bsky.richtext.facet#tag", tag: "x" }] };
    const bad = await create("3kabcdefghijl", post("short", { facets: [facet] }));
    expect(bad).toMatchObject({ status: 400, body: { error: "InvalidRequest" } });
    expect(bad.headers.get("ratelimit-remaining")).toBe(String(5000 - 4 * 3));
  });

  it("answers 401 AccountTakedown / AccountDeactivated for a restricted account and stores nothing", async () => {
    const a = newAccount();
    const s = await login(a.handle, a.appPassword);
    const create = () => xrpc("com.atproto.repo.createRecord", { token: s.accessJwt, json: { repo: a.did, collection: "app.bsky.feed.post", record: post() } });
    fake.deactivate(a.did);
    expect(await create()).toMatchObject({ status: 401, body: { error: "AccountDeactivated" } });
    fake.takedown(a.did);
    expect(await create()).toMatchObject({ status: 401, body: { error: "AccountTakedown" } });
    expect(fake.posts(a.did)).toHaveLength(0);
  });

  it("refuses writes over the hourly write points with 429, Retry-After and the limit's headers (rate-limits.md)", async () => {
    const small = await startBlueskyFake({ port: 0, config: { writePoints: { hour: 9, day: 100 } } });
    try {
      const a = small.createAccount({ handle: "limited.bsky.test" });
      const s = (await (await fetch(`${small.url}/xrpc/com.atproto.server.createSession`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ identifier: a.handle, password: a.appPassword }) })).json()) as { accessJwt: string };
      const create = () => fetch(`${small.url}/xrpc/com.atproto.repo.createRecord`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${s.accessJwt}` }, body: JSON.stringify({ repo: a.did, collection: "app.bsky.feed.post", record: post() }) });
      for (let i = 0; i < 3; i++) expect((await create()).status).toBe(200);
      const refused = await create();
      expect(refused.status).toBe(429);
      expect(await refused.json()).toEqual({ error: "RateLimitExceeded", message: "Rate Limit Exceeded" });
      expect(refused.headers.get("ratelimit-policy")).toBe("9;w=3600");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(3500);
      expect(small.posts(a.did)).toHaveLength(3);
    } finally {
      await small.stop();
    }
  });

  it("commits, then resets the connection when told to: the post exists though no answer came", async () => {
    const a = newAccount();
    const s = await login(a.handle, a.appPassword);
    fake.afterCommitNext(a.did, "reset");
    await expect(xrpc("com.atproto.repo.createRecord", { token: s.accessJwt, json: { repo: a.did, collection: "app.bsky.feed.post", rkey: TID, record: post() } })).rejects.toThrow();
    expect(fake.posts(a.did)).toMatchObject([{ rkey: TID, answerLost: "reset" }]);
  });

  it("answers an injected 429 with reset headers and an injected 5xx before committing anything", async () => {
    const a = newAccount();
    const s = await login(a.handle, a.appPassword);
    const create = () => xrpc("com.atproto.repo.createRecord", { token: s.accessJwt, json: { repo: a.did, collection: "app.bsky.feed.post", record: post() } });
    fake.rateLimitNext(a.did, 42_000);
    const limited = await create();
    expect(limited).toMatchObject({ status: 429, body: { error: "RateLimitExceeded" } });
    expect(limited.headers.get("retry-after")).toBe("42");
    expect(Number(limited.headers.get("ratelimit-reset"))).toBe(Math.ceil((clock + 42_000) / 1000));
    fake.failNext(a.did, 503);
    expect(await create()).toMatchObject({ status: 503, body: { error: "NotEnoughResources" } });
    expect(fake.posts(a.did)).toHaveLength(0);
  });

  it("a slow commit holds the create; a same-rkey create committing meanwhile makes it answer the duplicate 500", async () => {
    const a = newAccount();
    const s = await login(a.handle, a.appPassword);
    const create = (text: string) => xrpc("com.atproto.repo.createRecord", { token: s.accessJwt, json: { repo: a.did, collection: "app.bsky.feed.post", rkey: TID, record: post(text) } });
    fake.slowCommitNext(a.did, 300);
    const slow = create("slow");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await create("quick")).status).toBe(200);
    expect((await slow).status).toBe(500);
    expect(fake.posts(a.did).map((r) => r.value.text)).toEqual(["quick"]);
  });

  it("random faults (the chaos test's mode): each create meets at most one, at its share, replayed from the seed", async () => {
    const run = async () => {
      const a = newAccount();
      const s = await login(a.handle, a.appPassword);
      fake.setRandomFaults({ shares: { error: 0.2, reset_after_commit: 0.2 }, random: seededRandom(11), status: 502 });
      const answers: string[] = [];
      for (let i = 0; i < 150; i++) {
        const r = xrpc("com.atproto.repo.createRecord", { token: s.accessJwt, json: { repo: a.did, collection: "app.bsky.feed.post", record: post(`roll ${i}`) } });
        answers.push(await r.then((x) => String(x.status), () => "reset"));
      }
      const dice = fake.world.randomFaults!;
      fake.setRandomFaults(null);
      return { a, answers, dice };
    };
    const { a, answers, dice } = await run();
    expect(dice.requests).toBe(150);
    for (const n of [dice.fired.error, dice.fired.reset_after_commit]) expect(n / 150).toBeGreaterThan(0.1);
    expect(answers.filter((x) => x === "502").length).toBe(dice.fired.error);
    expect(answers.filter((x) => x === "reset").length).toBe(dice.fired.reset_after_commit);
    // A 5xx before the commit writes nothing; a reset after it leaves the post committed.
    expect(fake.posts(a.did).length).toBe(150 - dice.fired.error);
    expect(fake.posts(a.did).filter((r) => r.answerLost === "reset").length).toBe(dice.fired.reset_after_commit);
    expect((await run()).answers).toEqual(answers);
  });
});

describe("blobs (uploadBlob.json, embed/images.json; §5)", () => {
  const jpeg = (size: number) => Object.assign(new Uint8Array(size), { 0: 0xff, 1: 0xd8, 2: 0xff });

  it("answers a content-addressed blob (same bytes, same ref) that a post can embed; an oversized image is refused at createRecord", async () => {
    const a = newAccount();
    const s = await login(a.handle, a.appPassword);
    const one = await xrpc("com.atproto.repo.uploadBlob", { token: s.accessJwt, bytes: jpeg(1000), type: "image/jpeg" });
    expect(one.body).toEqual({ blob: { $type: "blob", ref: { $link: expect.stringMatching(/^bafkrei/) }, mimeType: "image/jpeg", size: 1000 } });
    expect((await xrpc("com.atproto.repo.uploadBlob", { token: s.accessJwt, bytes: jpeg(1000), type: "image/jpeg" })).body).toEqual(one.body);
    const embed = (blob: unknown) => ({ $type: "app.bsky.embed.images", images: [{ alt: "", image: blob }] });
    const create = (rkey: string, blob: unknown) => xrpc("com.atproto.repo.createRecord", { token: s.accessJwt, json: { repo: a.did, collection: "app.bsky.feed.post", rkey, record: post("pic", { embed: embed(blob) }) } });
    expect((await create(TID, one.body.blob)).status).toBe(200);
    const big = await xrpc("com.atproto.repo.uploadBlob", { token: s.accessJwt, bytes: jpeg(2_000_001), type: "image/jpeg" });
    expect(big.status).toBe(200); // the upload cap is 50 MB; the post's 2 MB is checked when the record is written
    expect(await create("3kabcdefghijl", big.body.blob)).toMatchObject({ status: 400, body: { error: "InvalidRequest", message: expect.stringContaining("file too large") } });
    expect(await create("3kabcdefghijm", { ...one.body.blob, ref: { $link: "bafkreinothere" } })).toMatchObject({ status: 400, body: { error: "BlobNotFound" } });
  });

  it("refuses an upload over the cap with 413 PayloadTooLarge", async () => {
    const small = await startBlueskyFake({ port: 0, config: { blobUploadLimit: 1000 } });
    try {
      const a = small.createAccount({ handle: "cap.bsky.test" });
      const s = (await (await fetch(`${small.url}/xrpc/com.atproto.server.createSession`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ identifier: a.handle, password: a.appPassword }) })).json()) as { accessJwt: string };
      const res = await fetch(`${small.url}/xrpc/com.atproto.repo.uploadBlob`, { method: "POST", headers: { "content-type": "image/jpeg", authorization: `Bearer ${s.accessJwt}` }, body: new Uint8Array(5000) });
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: "PayloadTooLarge", message: "request entity too large" });
    } finally {
      await small.stop();
    }
  });
});

describe("AppView (getProfile.json, getAuthorFeed.json; §7)", () => {
  it("serves the profile with followersCount and the author feed newest first, reposts marked with a reason", async () => {
    const a = newAccount();
    fake.setFollowers(a.did, 321);
    const older = fake.world.postOutsidePacer(a.did, "older");
    clock += 1000;
    const newer = fake.world.postOutsidePacer(a.did, "newer");
    fake.setCounts(newer.uri, { likeCount: 5, replyCount: 2 });
    clock += 1000;
    fake.addRepost(a.did, "at://did:plc:someoneelse/app.bsky.feed.post/3kzzzzzzzzzzz");
    expect((await xrpc("app.bsky.actor.getProfile", { query: { actor: a.did } })).body).toMatchObject({ did: a.did, handle: a.handle, followersCount: 321, postsCount: 2 });
    const feed = (await xrpc("app.bsky.feed.getAuthorFeed", { query: { actor: a.did, limit: "2" } })).body;
    expect(feed.feed.map((i: { post: { uri: string }; reason?: unknown }) => [i.post.uri, Boolean(i.reason)])).toEqual([
      ["at://did:plc:someoneelse/app.bsky.feed.post/3kzzzzzzzzzzz", true],
      [newer.uri, false],
    ]);
    expect(feed.feed[1].post).toMatchObject({ likeCount: 5, replyCount: 2, repostCount: 0, quoteCount: 0, record: { text: "newer" } });
    const next = (await xrpc("app.bsky.feed.getAuthorFeed", { query: { actor: a.did, limit: "2", cursor: feed.cursor } })).body;
    expect(next.feed.map((i: { post: { uri: string } }) => i.post.uri)).toEqual([older.uri]);
    expect(next.cursor).toBeUndefined();
  });

  it("answers 400 AccountTakedown for a taken-down account's profile and feed (bsky getProfile.ts)", async () => {
    const a = newAccount();
    fake.takedown(a.did);
    expect(await xrpc("app.bsky.actor.getProfile", { query: { actor: a.did } })).toMatchObject({ status: 400, body: { error: "AccountTakedown" } });
    expect(await xrpc("app.bsky.feed.getAuthorFeed", { query: { actor: a.did } })).toMatchObject({ status: 400, body: { error: "AccountTakedown" } });
  });

  it("shows a post in the feed only after the AppView's indexing lag, while getRecord has it at once", async () => {
    const lagging = await startBlueskyFake({ port: 0, now: () => clock, config: { appviewLagMs: 5_000 } });
    try {
      const a = lagging.createAccount({ handle: "lag.bsky.test" });
      const p = lagging.world.postOutsidePacer(a.did, "just now");
      const feed = async () => ((await (await fetch(`${lagging.url}/xrpc/app.bsky.feed.getAuthorFeed?actor=${a.did}`)).json()) as { feed: unknown[] }).feed.length;
      expect(await feed()).toBe(0);
      expect((await fetch(`${lagging.url}/xrpc/com.atproto.repo.getRecord?repo=${a.did}&collection=app.bsky.feed.post&rkey=${p.rkey}`)).status).toBe(200);
      clock += 5_000;
      expect(await feed()).toBe(1);
    } finally {
      await lagging.stop();
    }
  });
});
