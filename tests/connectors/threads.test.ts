// Threads exactly once when something fails between parts (issue 10): a lost answer after a part
// committed, a connection reset, a 429 mid-thread, and for Mastodon the same past its Idempotency-Key's
// hour. Each ends with every part held exactly once, as the fake's own record says (Mastodon's status
// list, Bluesky's posts(did)), chained each to the one before. Faults are put on the k-th status
// creation by a publish fetch that counts them. The engine's side — a verification that finds the post
// finishes the thread before the item is posted — runs runAttempt against the same fakes.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBlueskyConnector } from "../../lib/connectors/bluesky/index.ts";
import { createMastodonConnector } from "../../lib/connectors/mastodon/index.ts";
import type { Connector, ConnectorAccount, Lookup, PublishOutcome, PublishRequest } from "../../lib/connectors/types.ts";
import { runAttempt } from "../../lib/engine/attempt.ts";
import { DEFAULT_RETRY_POLICY } from "../../lib/engine/backoff.ts";
import type { ClaimedItem } from "../../lib/engine/store.ts";
import { startBlueskyFake, type BlueskyFake } from "../../local/platforms/bluesky/index.ts";
import { startMastodonFake, type MastodonFake } from "../../local/platforms/mastodon/index.ts";

const signal = () => AbortSignal.timeout(5_000);

/** A publish fetch that runs `before[k]` just before the k-th create request (1 = the post) leaves. */
function countingFetch(isCreate: (url: string, init?: RequestInit) => boolean) {
  let creates = 0;
  const before = new Map<number, () => void>();
  const wrapped: typeof fetch = (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (isCreate(url, init)) before.get(++creates)?.();
    return fetch(input, init);
  };
  return {
    fetch: wrapped,
    /** Faults for the next publish's k-th create; the count restarts. */
    at(faults: Record<number, () => void>) {
      creates = 0;
      before.clear();
      for (const [k, f] of Object.entries(faults)) before.set(Number(k), f);
    },
  };
}

interface Held {
  id: string;
  text: string;
  parent: string | null;
}

/** Every part of the request held exactly once, each replying to the one before, in order. */
function expectThreadOnce(held: Held[], req: PublishRequest, rootId: string) {
  const texts = [req.text, ...(req.thread ?? [])];
  expect(held).toHaveLength(texts.length);
  let parent: string | null = null;
  let at = held.find((p) => p.id === rootId);
  for (const text of texts) {
    expect(at).toBeDefined();
    expect(at!.text).toBe(text);
    expect(at!.parent).toBe(parent);
    parent = at!.id;
    const next = held.filter((p) => p.parent === parent);
    expect(next.length).toBeLessThanOrEqual(1);
    at = next[0];
  }
}

function thread(account: ConnectorAccount, parts = 4): PublishRequest {
  const tag = randomUUID().slice(0, 8);
  return {
    account,
    idempotencyKey: randomUUID(),
    text: `Thread ${tag} 1/${parts}`,
    thread: Array.from({ length: parts - 1 }, (_, i) => `Thread ${tag} ${i + 2}/${parts}`),
    mediaUrls: [],
  };
}

/** The engine's verification of a claimed item, with the connector given the account's credentials (no database here). */
function verifyItem(connector: Connector, account: ConnectorAccount, req: PublishRequest, sentAt: Date, finish?: ClaimedItem["finish"]) {
  const withCredentials: Connector = {
    ...connector,
    postsInParts: connector.postsInParts,
    publish: (r, o) => connector.publish({ ...r, account }, o),
    lookup: (a, key, o) => connector.lookup(account, key, o),
  };
  const item: ClaimedItem = {
    id: 1, leaseId: randomUUID(), leaseEndsAt: Date.now() + 120_000, mode: "verify", attempts: 1, verifyAttempts: 1,
    idempotencyKey: req.idempotencyKey, workspaceId: "w", accountId: account.id, platform: account.platform, handle: account.handle,
    credentialsEncrypted: null, action: "post", text: req.text, mediaUrls: [], firstComment: req.firstComment ?? null, destination: null,
    thread: req.thread ?? [], options: req.options ?? {},
    sent: { sentAt: sentAt.toISOString(), externalId: null, otherExternalIds: [] },
    ...(finish ? { finish } : {}),
  };
  return runAttempt(item, { worker: "threads-test", connectorFor: () => withCredentials, retry: DEFAULT_RETRY_POLICY, callTimeoutMs: 10_000, verifyRetryMs: [1_000, 2_000] });
}

const rootOf = (o: PublishOutcome | Lookup) => (o as { externalId: string }).externalId;

describe("Mastodon threads: faults between parts", () => {
  let fake: MastodonFake;
  let connector: Connector;
  const counting = countingFetch((url, init) => init?.method === "POST" && new URL(url).pathname === "/api/v1/statuses");

  beforeAll(async () => {
    fake = await startMastodonFake({ port: 0 });
    // issueToken's tokens belong to the fake's "Fake test client" app: lookup recognises its statuses by that name.
    connector = createMastodonConnector({ allowedHosts: [new URL(fake.url).host], publishFetch: counting.fetch, appName: "Fake test client" });
  });
  afterAll(() => fake?.stop());

  function account(): ConnectorAccount {
    const name = `t${randomUUID().replace(/-/g, "").slice(0, 10)}`;
    const user = fake.createUser(name);
    return { id: randomUUID(), platform: "mastodon", handle: name, credentials: { instance: fake.url, accessToken: fake.issueToken(name), accountId: user.id } };
  }
  const held = (a: ConnectorAccount): Held[] => fake.statusesOf(a.handle).filter((s) => !s.deleted).map((s) => ({ id: s.id, text: s.text, parent: s.in_reply_to_id }));

  async function finish(a: ConnectorAccount, req: PublishRequest, sentAt: Date) {
    const found = await connector.lookup(a, req.idempotencyKey, { signal: signal(), sent: { text: req.text, mediaCount: 0, sentAt: sentAt.toISOString() } });
    expect(found.kind).toBe("found");
    counting.at({});
    const done = await connector.publish({ ...req, landed: { externalId: rootOf(found) } }, { signal: signal() });
    expect(done).toMatchObject({ kind: "posted", externalId: rootOf(found) });
    return rootOf(done);
  }

  it("an answer lost after part 2 committed: unknown; finishing sends parts 3 and 4 only", async () => {
    const a = account();
    const req = thread(a);
    const sentAt = new Date();
    counting.at({ 2: () => fake.nextFault(a.handle, { kind: "drop_after_commit" }) });
    const first = await connector.publish(req, { signal: signal() });
    expect(first.kind).toBe("unknown");
    expect(held(a)).toHaveLength(2);
    const root = await finish(a, req, sentAt);
    expectThreadOnce(held(a), req, root);
  });

  it("an answer lost after part 2, finished past the Idempotency-Key's hour: part 2 is found in the post's context, not sent again", async () => {
    const a = account();
    const req = thread(a);
    const sentAt = new Date();
    counting.at({ 2: () => fake.nextFault(a.handle, { kind: "drop_after_commit" }) });
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("unknown");
    fake.advanceClock(2 * 3_600_000); // every key of this thread is forgotten
    const root = await finish(a, req, new Date(sentAt.getTime()));
    expectThreadOnce(held(a), req, root);
  });

  it("a connection reset before part 3 committed: unknown; finishing sends parts 3 and 4", async () => {
    const a = account();
    const req = thread(a);
    const sentAt = new Date();
    counting.at({ 3: () => fake.nextFault(a.handle, { kind: "reset_before_commit" }) });
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("unknown");
    expect(held(a)).toHaveLength(2);
    const root = await finish(a, req, sentAt);
    expectThreadOnce(held(a), req, root);
  });

  it("a 429 at part 3: unknown (the post is live, never a refusal), and the rest once the limit lifts", async () => {
    const a = account();
    const req = thread(a);
    const sentAt = new Date();
    counting.at({ 3: () => fake.nextFault(a.handle, { kind: "rate_limit", resetInMs: 5_000 }) });
    const first = await connector.publish(req, { signal: signal() });
    expect(first.kind).toBe("unknown");
    expect((first as { message: string }).message).toMatch(/part 3 of 4 was not \(rate_limited/);
    const root = await finish(a, req, sentAt);
    expectThreadOnce(held(a), req, root);
  });

  it("the engine: a verification that finds the post finishes the thread before calling it found; a 429 while finishing waits for the reset", async () => {
    const a = account();
    const req = thread(a);
    const sentAt = new Date();
    counting.at({ 2: () => fake.nextFault(a.handle, { kind: "drop_after_commit" }) });
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("unknown");
    // Finishing meets a 429: the item stays verifying (unavailable), asked again no sooner than the reset.
    counting.at({ 1: () => fake.nextFault(a.handle, { kind: "rate_limit", resetInMs: 30_000 }) });
    const limited = await verifyItem(connector, a, req, sentAt);
    expect(limited.outcome).toBe("unavailable");
    expect(limited.errorMessage).toMatch(/^Not all of the thread or first comment is posted yet \(rate_limited: part 3 of 4: /);
    expect(limited.verifyRetryMs).toHaveLength(12);
    expect(Math.min(...limited.verifyRetryMs!)).toBeGreaterThanOrEqual(29_000);
    expect(held(a)).toHaveLength(2);
    counting.at({});
    const found = await verifyItem(connector, a, req, sentAt);
    expect(found.outcome).toBe("found");
    expectThreadOnce(held(a), req, found.externalId!);
  });

  it("the engine sends no part while the account may not publish, and settles a cancelled item without the rest", async () => {
    const a = account();
    const req = thread(a, 3);
    const sentAt = new Date();
    counting.at({ 2: () => fake.nextFault(a.handle, { kind: "drop_after_commit" }) });
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("unknown");
    expect(held(a)).toHaveLength(2);
    // Paused meanwhile (the claim's finish gate): the post is found, nothing is sent, the item waits.
    const paused = await verifyItem(connector, a, req, sentAt, { allowed: false, reason: "account paused" });
    expect(paused.outcome).toBe("unavailable");
    expect(paused.errorMessage).toMatch(/the rest of its thread or first comment is not sent while the account paused/);
    expect(held(a)).toHaveLength(2);
    // Cancelled by its owner: the live post is the item's, and the rest never goes.
    const cancelled = await verifyItem(connector, a, req, sentAt, { allowed: false, reason: "cancelled" });
    expect(cancelled.outcome).toBe("found");
    expect(held(a)).toHaveLength(2);
  });

  it("a first comment whose answer was lost is sent by the verification that finds the post", async () => {
    const a = account();
    const req: PublishRequest = { account: a, idempotencyKey: randomUUID(), text: `Post ${randomUUID()}`, firstComment: "and its comment", mediaUrls: [] };
    const sentAt = new Date();
    counting.at({ 2: () => fake.nextFault(a.handle, { kind: "reset_before_commit" }) });
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("unknown");
    const found = await verifyItem(connector, a, req, sentAt);
    expect(found.outcome).toBe("found");
    expectThreadOnce(held(a), { ...req, thread: ["and its comment"] }, found.externalId!);
  });
});

describe("Bluesky threads: faults between parts", () => {
  let fake: BlueskyFake;
  let connector: Connector;
  const counting = countingFetch((url, init) => init?.method === "POST" && url.includes("com.atproto.repo.createRecord"));

  beforeAll(async () => {
    fake = await startBlueskyFake({ port: 0 });
    connector = createBlueskyConnector({ appviewUrl: fake.url, plcUrl: fake.url, allowedHosts: [new URL(fake.url).host], publishFetch: counting.fetch });
  });
  afterAll(() => fake?.stop());

  async function account(): Promise<ConnectorAccount> {
    const made = fake.createAccount({ handle: `t${randomUUID().slice(0, 8)}.bsky.test` });
    const connection = await connector.connect({ handle: made.handle, credentials: { appPassword: made.appPassword } }, { signal: signal() });
    if (connection.kind !== "connected") throw new Error(JSON.stringify(connection));
    return { id: randomUUID(), platform: "bluesky", handle: made.handle, credentials: connection.credentials };
  }
  const held = (a: ConnectorAccount): Held[] =>
    fake.posts(a.credentials.did).map((r) => ({ id: r.uri, text: String(r.value.text), parent: (r.value.reply as { parent?: { uri?: string } } | undefined)?.parent?.uri ?? null }));

  async function finish(a: ConnectorAccount, req: PublishRequest) {
    const found = await connector.lookup(a, req.idempotencyKey, { signal: signal() });
    expect(found.kind).toBe("found");
    counting.at({});
    const done = await connector.publish({ ...req, landed: { externalId: rootOf(found) } }, { signal: signal() });
    expect(done).toMatchObject({ kind: "posted", externalId: rootOf(found) });
    return rootOf(done);
  }

  it("an answer lost after part 2 committed: part 2 is asked again at its rkey at once, read back, and the thread finished in the same call", async () => {
    const a = await account();
    const req = thread(a);
    counting.at({ 2: () => fake.afterCommitNext(a.credentials.did, "reset") });
    const outcome = await connector.publish(req, { signal: signal() });
    expect(outcome.kind).toBe("posted");
    expectThreadOnce(held(a), req, rootOf(outcome));
    // Every part again at its rkey: each answers "exists" and is read back, none duplicated.
    counting.at({});
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("posted");
    expect(held(a)).toHaveLength(4);
  });

  it("part 3 lost twice (a reset after its commit, then a 502): unknown; finishing reads it back and sends part 4", async () => {
    const a = await account();
    const req = thread(a);
    counting.at({ 3: () => fake.afterCommitNext(a.credentials.did, "reset"), 4: () => fake.failNext(a.credentials.did, 502) });
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("unknown");
    expect(held(a)).toHaveLength(3);
    {
      const root = await finish(a, req);
      expectThreadOnce(held(a), req, root);
    }
  });

  it("a 502 before part 3 committed, twice: unknown; finishing sends parts 3 and 4", async () => {
    const a = await account();
    const req = thread(a);
    counting.at({ 3: () => fake.failNext(a.credentials.did, 502), 4: () => fake.failNext(a.credentials.did, 502) });
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("unknown");
    expect(held(a)).toHaveLength(2);
    {
      const root = await finish(a, req);
      expectThreadOnce(held(a), req, root);
    }
  });

  it("a 429 at part 3: unknown, and the rest once the limit lifts", async () => {
    const a = await account();
    const req = thread(a);
    counting.at({ 3: () => fake.rateLimitNext(a.credentials.did, 5_000) });
    const first = await connector.publish(req, { signal: signal() });
    expect(first.kind).toBe("unknown");
    expect((first as { message: string }).message).toMatch(/part 3 of 4 was not \(rate_limited/);
    {
      const root = await finish(a, req);
      expectThreadOnce(held(a), req, root);
    }
  });

  it("the engine: a verification that finds the post finishes the thread (and a first comment) before calling it found", async () => {
    const a = await account();
    const req = thread(a, 3);
    counting.at({ 1: () => fake.afterCommitNext(a.credentials.did, "reset") });
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("unknown");
    expect(held(a)).toHaveLength(1);
    const found = await verifyItem(connector, a, req, new Date());
    expect(found.outcome).toBe("found");
    expectThreadOnce(held(a), req, found.externalId!);

    const b = await account();
    const withComment: PublishRequest = { account: b, idempotencyKey: randomUUID(), text: `Post ${randomUUID()}`, firstComment: "its comment", mediaUrls: [] };
    counting.at({ 2: () => fake.failNext(b.credentials.did, 503), 3: () => fake.failNext(b.credentials.did, 503) });
    expect((await connector.publish(withComment, { signal: signal() })).kind).toBe("unknown");
    const settled = await verifyItem(connector, b, withComment, new Date());
    expect(settled.outcome).toBe("found");
    expectThreadOnce(held(b), { ...withComment, thread: ["its comment"] }, settled.externalId!);
  });
});
