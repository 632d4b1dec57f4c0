// The chaos run's real platforms: the local Mastodon, Bluesky and Upload-Post fakes, each injecting
// its documented faults at random (seeded, at shares like the sandbox's), accounts on them connected
// through each connector's own connect as the connect flows store them, and the audit of exactly
// once from each fake's own record of what it holds.
import { startMastodonFake, type MastodonFake } from "../../local/platforms/mastodon/index.ts";
import { startBlueskyFake, type BlueskyFake } from "../../local/platforms/bluesky/index.ts";
import { startUploadPostFake, type UploadPostFake, DEFAULT_CAPS } from "../../local/platforms/upload-post/index.ts";
import { connectorFor } from "../../lib/connectors/registry.ts";
import { encryptCredentials } from "../../lib/accounts/credentials.ts";
import { seededRandom } from "../../local/sandbox/network.ts";
import type { Item } from "./audit.ts";
import type { ChaosAccount, ChaosConfig } from "./scene.ts";

/** Which connector publishes for a chaos account. */
export type ChaosConnector = "sandbox" | "mastodon" | "bluesky" | "upload-post";
export const FAKE_CONNECTORS = ["mastodon", "bluesky", "upload-post"] as const;
export type FakeConnector = (typeof FAKE_CONNECTORS)[number];

/**
 * A fifth of the accounts each on Mastodon, Bluesky and Upload-Post; the rest (index % 5 of 2 or 4)
 * on the sandbox, so the sandbox keeps its Idempotency-Key accounts (index % 5 === 2) and its
 * abandoned ones (index % 10 === 9), which park only on the sandbox's own faults.
 */
export function connectorOf(index: number): ChaosConnector {
  return (["mastodon", "bluesky", "sandbox", "upload-post", "sandbox"] as const)[index % 5];
}

/** The app name Pacer registers on a Mastodon instance (PACER_MASTODON_APP_NAME's default). */
const MASTODON_APP = "Pacer";

/** Upload-Post accounts are text platforms (the others need media), in turn. */
const UPLOAD_POST_PLATFORMS = ["linkedin", "threads", "x"] as const;

export interface Fakes {
  mastodon: MastodonFake;
  bluesky: BlueskyFake;
  uploadPost: UploadPostFake;
  /** What every engine process needs to reach them (with PACER_ALLOWED_HOSTS extended by `hosts`). */
  env: Record<string, string>;
  hosts: string[];
  /** Each fake's publish requests and the faults they met. */
  faultCounts(): Record<FakeConnector, { requests: number; fired: Record<string, number> }>;
  stop(): Promise<void>;
}

export async function startFakes(): Promise<Fakes> {
  const mastodon = await startMastodonFake({ port: 0 });
  const bluesky = await startBlueskyFake({ port: 0 });
  // Its own limits out of the way (the run's limits are Pacer's), as the sandbox's are: the request
  // rate per key and the daily caps per account.
  const caps = Object.fromEntries(Object.keys(DEFAULT_CAPS).map((p) => [p, 100_000])) as typeof DEFAULT_CAPS;
  const uploadPost = await startUploadPostFake({ port: 0, config: { rateLimit: { limit: 1_000_000, windowMs: 60_000 }, caps, processingMs: { text: 300, photo: 300, video: 300 } } });
  const fakes: Fakes = {
    mastodon,
    bluesky,
    uploadPost,
    env: {
      PACER_CONNECTORS: FAKE_CONNECTORS.join(","),
      PACER_BLUESKY_APPVIEW_URL: bluesky.url,
      PACER_BLUESKY_PLC_URL: bluesky.url,
      PACER_UPLOAD_POST_URL: uploadPost.url,
    },
    hosts: [mastodon.url, bluesky.url, uploadPost.url].map((u) => new URL(u).host),
    faultCounts() {
      const of = (d: { requests: number; fired: Record<string, number> } | null) => ({ requests: d?.requests ?? 0, fired: { ...d?.fired } });
      return { mastodon: of(mastodon.state.randomFaults), bluesky: of(bluesky.world.randomFaults), "upload-post": of(uploadPost.state.randomFaults) };
    },
    async stop() {
      await Promise.all([mastodon.stop(), bluesky.stop(), uploadPost.stop()]);
    },
  };
  return fakes;
}

/**
 * Each fake's faults at random from now on, every kind at the run's fault share of its publish
 * requests (the sandbox's ~8%): lost answers after the commit, 5xx and resets before it, 429s with
 * reset headers, slow commits. Seeded per fake, so a run replays.
 */
export function startFakeFaults(fakes: Fakes, config: ChaosConfig): void {
  const share = config.faultShare;
  const late = { hangMs: config.hangMs, slowCommitMs: config.lateCommitMs, resetInMs: 1_000 };
  fakes.mastodon.setRandomFaults({
    ...late,
    random: seededRandom(config.seed + 1),
    status: 503,
    shares: { rate_limit: share, error_before_commit: share, reset_before_commit: share, slow_commit: share, drop_after_commit: share, error_after_commit: share, hang_after_commit: share },
  });
  fakes.bluesky.setRandomFaults({
    ...late,
    random: seededRandom(config.seed + 2),
    status: 502,
    shares: { rate_limit: share, error: share, slow_commit: share, reset_after_commit: share, error_after_commit: share, hang_after_commit: share },
  });
  fakes.uploadPost.setRandomFaults({
    ...late,
    random: seededRandom(config.seed + 3),
    status: 502,
    shares: { rate_limit: share, error_before_commit: share, drop_after_commit: share, slow_commit: share },
  });
}

export interface FakeAccountMade {
  /** Pacer's platform for the account (Upload-Post's are the social platform: linkedin, threads, x). */
  platform: string;
  handle: string;
  /** What Pacer stores: the connector's connect result, sealed with PACER_CREDENTIALS_KEY. */
  sealed: string;
  /** The fake's own name for it, to read its record: Mastodon's username, Bluesky's DID, Upload-Post's key/profile/platform. */
  record: { username: string } | { did: string } | { apiKey: string; profile: string; platform: string };
}

/**
 * An account on a fake, connected as the connect flow stores it: the fake's documented equivalent of
 * the user's side (an OAuth token issued on the instance, an app password, a profile connected on
 * Upload-Post's hosted page), then the connector's own `connect`, whose credentials are sealed.
 */
export async function connectFakeAccount(fakes: Fakes, kind: FakeConnector, index: number, engineEnv: Record<string, string>, apiKey: () => string): Promise<FakeAccountMade> {
  const signal = AbortSignal.timeout(10_000);
  let platform: string;
  let handle: string;
  let credentials: Record<string, string>;
  let record: FakeAccountMade["record"];
  if (kind === "mastodon") {
    platform = "mastodon";
    handle = `chaos_m${index}`;
    const user = fakes.mastodon.createUser(handle);
    // The token of Pacer's own app on the instance, as the OAuth flow ends: statuses then show that
    // app's name, which is how a lookup tells Pacer's statuses from the user's own.
    const state = fakes.mastodon.state;
    const scopes = ["read", "write:statuses", "write:media"];
    const app = [...state.apps.values()].find((a) => a.name === MASTODON_APP) ?? state.registerApp({ name: MASTODON_APP, website: null, redirect_uris: ["urn:ietf:wg:oauth:2.0:oob"], scopes });
    const token = state.issueToken(user.id, app.client_id, scopes).token;
    credentials = { instance: fakes.mastodon.url, accessToken: token, clientId: app.client_id, clientSecret: app.client_secret };
    record = { username: handle };
  } else if (kind === "bluesky") {
    platform = "bluesky";
    const made = fakes.bluesky.createAccount({ handle: `chaos-b${index}.bsky.test` });
    handle = made.handle;
    credentials = { appPassword: made.appPassword };
    record = { did: made.did };
  } else {
    platform = UPLOAD_POST_PLATFORMS[Math.floor(index / 5) % UPLOAD_POST_PLATFORMS.length];
    handle = `chaos_u${index}`;
    const profile = `chaos-profile-${index}`;
    const key = fakes.uploadPost.state.keys.get(apiKey())!;
    fakes.uploadPost.state.connectSocial(fakes.uploadPost.state.createProfile(key, profile), platform as (typeof UPLOAD_POST_PLATFORMS)[number], handle);
    credentials = { apiKey: key.apiKey, profile, platform };
    record = { apiKey: key.apiKey, profile, platform };
  }
  const connection = await connectorFor(platform, engineEnv).connect({ handle, credentials }, { signal });
  if (connection.kind !== "connected") throw new Error(`could not connect ${platform} account ${handle}: ${JSON.stringify(connection)}`);
  return { platform, handle, sealed: await encryptCredentials(connection.credentials), record };
}

/** One post a fake holds, as its own record shows it. */
interface Held {
  text: string;
  externalId: string;
}

function heldBy(fakes: Fakes, account: ChaosAccount): Held[] {
  const r = account.record!;
  if ("username" in r) {
    // Root statuses only (a first comment would be a reply); deleted ones still count: they were posted.
    return fakes.mastodon.statusesOf(r.username).filter((s) => s.in_reply_to_id === null).map((s) => ({ text: s.text, externalId: s.id }));
  }
  if ("did" in r) {
    return fakes.bluesky.posts(r.did).filter((p) => !(p.value as { reply?: unknown }).reply).map((p) => ({ text: String(p.value.text), externalId: p.uri }));
  }
  return fakes.uploadPost.posts(r).map((p) => ({ text: p.text, externalId: p.platform_post_id }));
}

/** A reply a fake holds (a thread's later part), with the post it replies to. */
interface HeldReply extends Held {
  parent: string;
}

function repliesHeldBy(fakes: Fakes, account: ChaosAccount): HeldReply[] {
  const r = account.record!;
  if ("username" in r) {
    return fakes.mastodon.statusesOf(r.username).filter((s) => s.in_reply_to_id !== null).map((s) => ({ text: s.text, externalId: s.id, parent: s.in_reply_to_id! }));
  }
  if ("did" in r) {
    return fakes.bluesky.posts(r.did).flatMap((p) => {
      const parent = (p.value as { reply?: { parent?: { uri?: string } } }).reply?.parent?.uri;
      return parent ? [{ text: String(p.value.text), externalId: p.uri, parent }] : [];
    });
  }
  return [];
}

/**
 * An item's thread on the fake: every part held at most once, each replying to the part before it;
 * a posted item's thread whole (an item is posted only once every part is there), unless its owner
 * cancelled it mid-publish: then the part that is live settles it and the rest is never sent (the
 * claim's finish gate, lib/engine/attempt.ts). Replies that are no item's part are reported too.
 */
function auditThread(item: Item, root: Held | undefined, replies: HeldReply[], where: string, violations: string[]) {
  let parent = root?.externalId;
  for (const [i, text] of item.thread.entries()) {
    const copies = replies.filter((r) => r.text === text);
    if (copies.length > 1) violations.push(`${where}'s part ${i + 2} is held ${copies.length} times: ${copies.map((c) => c.externalId).join(", ")}`);
    const part = copies[0];
    if (part && part.parent !== parent) violations.push(`${where}'s part ${i + 2} (${part.externalId}) replies to ${part.parent}, not to part ${i + 1} (${parent ?? "not held"})`);
    if (!part && item.status === "posted" && !item.cancelRequested) violations.push(`${where} is posted, but its part ${i + 2} is not on the platform`);
    parent = part?.externalId;
  }
}

/** Statuses in which an item may be while the platform holds its post: posted, or still being verified. */
const LIVE_OK = new Set(["posted", "verifying", "needs_review"]);

/**
 * Exactly once per fake, from the fake's own record: no item's post held twice; every item marked
 * posted held exactly once, under the external id Pacer recorded; every post held belongs to an item
 * that is posted or still being verified (never failed or cancelled while live); nothing else held.
 */
export function auditFakes(fakes: Fakes, accounts: ChaosAccount[], items: Item[]) {
  const violations: string[] = [];
  const byConnector: Record<string, { accounts: number; items: number; held: number; duplicates: number; byStatus: Record<string, number> }> = {};
  const itemsByAccount = new Map<string, Item[]>();
  for (const item of items) itemsByAccount.set(item.accountId, [...(itemsByAccount.get(item.accountId) ?? []), item]);
  for (const account of accounts) {
    if (account.connector === "sandbox") continue;
    const figures = (byConnector[account.connector] ??= { accounts: 0, items: 0, held: 0, duplicates: 0, byStatus: {} });
    figures.accounts++;
    const held = heldBy(fakes, account);
    figures.held += held.length;
    const mine = itemsByAccount.get(account.id) ?? [];
    const texts = new Set(mine.map((i) => i.text));
    for (const post of held) {
      if (!texts.has(post.text)) violations.push(`${account.connector} @${account.handle} holds ${post.externalId} ("${post.text.slice(0, 40)}"), which no queue item of the account sent`);
    }
    const replies = repliesHeldBy(fakes, account);
    const parts = new Set(mine.flatMap((i) => i.thread));
    for (const reply of replies) {
      if (!parts.has(reply.text)) violations.push(`${account.connector} @${account.handle} holds a reply ${reply.externalId} ("${reply.text.slice(0, 40)}"), which is no queue item's part`);
    }
    for (const item of mine) {
      figures.items++;
      figures.byStatus[item.status] = (figures.byStatus[item.status] ?? 0) + 1;
      const copies = held.filter((p) => p.text === item.text);
      const where = `item ${item.id} (${account.connector} @${account.handle})`;
      if (copies.length > 1) figures.duplicates++;
      if (copies.length > 1) violations.push(`${where} is held ${copies.length} times: ${copies.map((c) => c.externalId).join(", ")}`);
      if (item.thread.length > 0) auditThread(item, copies[0], replies, where, violations);
      if (item.status === "posted") {
        if (copies.length === 0) violations.push(`${where} is posted, but the platform holds no post of it`);
        else if (copies.length === 1 && copies[0].externalId !== item.externalId) {
          violations.push(`${where} records external id ${item.externalId}; the platform holds it as ${copies[0].externalId}`);
        }
      } else if (copies.length > 0 && !LIVE_OK.has(item.status)) {
        violations.push(`${where} is ${item.status}, but the platform holds it (${copies.map((c) => c.externalId).join(", ")})`);
      }
    }
  }
  return { violations, byConnector };
}
