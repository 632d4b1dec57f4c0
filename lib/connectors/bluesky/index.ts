// The connector for Bluesky (AT Protocol), over plain fetch: the user's PDS for sessions, writes,
// blobs and lookups; the AppView for profiles and feeds; the PLC directory for DID documents.
// Exactly once by construction: every attempt at a queue item writes the same record key (a TID
// derived from the item's idempotency key, ./tid.ts), so a second post cannot exist, and "did it
// land?" is one getRecord of that key. Research and sources: docs/platforms/bluesky.md (§ below).
//
// Why createRecord and not putRecord with swapRecord null (§3.1): putRecord answers a retry with a
// definite 200 only if the retried record is byte-identical to the first — the same createdAt,
// facets and blob refs — and Pacer keeps only the item's text, so a retry would answer InvalidSwap
// and still need a getRecord. createRecord's duplicate answer (HTTP 500, the same as a real fault)
// is settled by that same getRecord, it is what the limit table counts (a create: 3 points), and
// under OAuth it needs the create scope only.
import { classifyStatus, isoAt, rateLimitDelayMs, readJson, send } from "../http.ts";
import { guardedFetch, parseAllowedHosts, type AllowedHosts } from "../outbound.ts";
import { singleSendFetch } from "../transport.ts";
import type { AccountMetrics, Connection, Connector, ConnectorAccount, Lookup, PlatformPost, PublishFailure, PublishOutcome, RateLimitBudget, RecentPosts } from "../types.ts";
import { detectFacets, textProblem, type Facet } from "./richtext.ts";
import { rkeyFor } from "./tid.ts";

export { rkeyFor } from "./tid.ts";
export { graphemeLength, TEXT_MAX_GRAPHEMES } from "./richtext.ts";

export interface BlueskyConnectorOptions {
  /**
   * The AppView, for profiles and author feeds (read without auth, off the user's PDS and its per-IP
   * limit) and for resolving a handle at connect. Default https://public.api.bsky.app (§7).
   */
  appviewUrl?: string;
  /** The PLC directory, for did:plc documents. Default https://plc.directory (§2.2). */
  plcUrl?: string;
  /** Internal hosts the operator allows (PACER_ALLOWED_HOSTS): how the local stack reaches its fake. */
  allowedHosts?: string | readonly string[] | AllowedHosts;
  /** For reads, logins and blob uploads (none of which publishes anything). */
  fetch?: typeof fetch;
  /** For createRecord: must never re-send on its own (lib/connectors/transport.ts). Defaults to `fetch` when that is given, else the runtime's single-send fetch. */
  publishFetch?: typeof fetch;
  now?: () => number;
  /**
   * Called when a refresh rotated an account's session: store these credentials (encrypted) in place
   * of the account's. Until it does, this connector keeps using the new session itself, and the old
   * refresh token stays usable for 2 hours (§2.4), so a lost save costs nothing but a later refresh.
   */
  onSessionRefreshed?: (account: ConnectorAccount, credentials: Record<string, string>) => Promise<void> | void;
  /** Largest image a post takes, in bytes. Default 1,000,000: the Lexicon allows 2 MB since 2026-04, older PDSs 1 MB (§4). */
  maxImageBytes?: number;
}

/** A Connector with the one call Bluesky adds: ending a session when the account is disconnected. */
export interface BlueskyConnector extends Connector {
  /** deleteSession with the account's refresh token (§2.4); true when Bluesky confirmed it. Never throws. */
  disconnect(account: ConnectorAccount, opts: { signal: AbortSignal }): Promise<boolean>;
}

/** What Pacer stores for a Bluesky account: never the app password (§2.2 step 5). */
interface Session {
  did: string;
  handle: string;
  pdsUrl: string;
  accessJwt: string;
  refreshJwt: string;
}

/** An XRPC answer: `{"error","message"}` when it failed (https://atproto.com/specs/xrpc § Error Responses). */
interface XrpcBody {
  error?: string;
  message?: string;
  [key: string]: unknown;
}

type Answer =
  | { status: number; headers: Headers; body: XrpcBody | undefined; outcome?: undefined }
  | { outcome: PublishFailure; status?: undefined; headers?: undefined; body?: undefined };

const POST = "app.bsky.feed.post";
const DEFAULT_APPVIEW = "https://public.api.bsky.app";
const DEFAULT_PLC = "https://plc.directory";
/** An app password's shape (https://atproto.com/specs/xrpc § App Passwords). */
const APP_PASSWORD = /^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/i;
/** getAuthorFeed's largest page, and how many pages one reconciliation read may take (§7). */
const PAGE_SIZE = 100;
const RECENT_POSTS_MAX_PAGES = 20;
const MAX_IMAGES = 4;
/** Replies after the post in one thread (posts.thread's cap: a thread of 25). */
const MAX_THREAD_REPLIES = 24;

export function createBlueskyConnector(opts: BlueskyConnectorOptions = {}): BlueskyConnector {
  const allowed = opts.allowedHosts instanceof Set ? opts.allowedHosts : parseAllowedHosts(opts.allowedHosts as string | string[] | undefined);
  const fetchImpl = guardedFetch(opts.fetch ?? fetch, allowed);
  const now = opts.now ?? Date.now;
  const appview = (opts.appviewUrl ?? DEFAULT_APPVIEW).replace(/\/+$/, "");
  const plc = (opts.plcUrl ?? DEFAULT_PLC).replace(/\/+$/, "");
  const maxImageBytes = opts.maxImageBytes ?? 1_000_000;

  let publishFetch: typeof fetch | undefined;
  function sendingOnce(): { fetch: typeof fetch } | { refused: string } {
    try {
      publishFetch ??= guardedFetch(opts.publishFetch ?? opts.fetch ?? singleSendFetch(), allowed);
      return { fetch: publishFetch };
    } catch (error) {
      return { refused: (error as Error).message };
    }
  }

  async function xrpc(
    base: string,
    nsid: string,
    signal: AbortSignal,
    o: { method?: "GET" | "POST"; query?: Record<string, string>; json?: unknown; bytes?: Uint8Array; contentType?: string; token?: string; through?: typeof fetch } = {},
  ): Promise<Answer> {
    const query = o.query ? `?${new URLSearchParams(o.query)}` : "";
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: BodyInit | undefined;
    if (o.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(o.json);
    } else if (o.bytes) {
      headers["content-type"] = o.contentType ?? "application/octet-stream";
      body = o.bytes as BodyInit;
    }
    const sent = await send(o.through ?? fetchImpl, `${base.replace(/\/+$/, "")}/xrpc/${nsid}${query}`, { method: o.method ?? "GET", headers, body }, signal);
    if (sent.outcome) return sent;
    return { status: sent.response.status, headers: sent.response.headers, body: (await readJson(sent.response)) as XrpcBody | undefined };
  }

  /**
   * A failed answer as an outcome, by the XRPC error name first and the status second (§8): token
   * errors are 400s, a taken-down account a 401. `publishes` is false for calls that cannot publish
   * anything (blob uploads, reads), whose 5xx is then retryable rather than unknown.
   */
  function failure(status: number, headers: Headers, body: XrpcBody | undefined, publishes: boolean): PublishFailure {
    const name = typeof body?.error === "string" ? body.error : "";
    const detail = [name, clip(body?.message)].filter(Boolean).join(": ");
    if (status === 429 || name === "RateLimitExceeded") return { kind: "rate_limited", retryAfterMs: rateLimitDelayMs(headers, now()), message: `HTTP ${status}: ${detail}` };
    switch (name) {
      case "ExpiredToken":
      case "InvalidToken":
      case "AuthMissing":
      case "AuthenticationRequired":
      case "AccountNotFound":
        return { kind: "auth_expired", message: `${detail} (reconnect the account with a new app password)` };
      case "AccountTakedown":
      case "AccountDeactivated":
        return { kind: "restricted", message: detail };
      case "InvalidRequest":
      case "BlobNotFound":
      case "InvalidMimeType":
      case "InvalidSize":
      case "PayloadTooLarge":
      case "MethodNotImplemented":
        return { kind: "permanent", message: `HTTP ${status}: ${detail}` };
    }
    const classified = classifyStatus(status, headers, detail, now()) ?? { kind: "unknown", message: `unexpected HTTP ${status}` };
    return !publishes && classified.kind === "unknown" ? { kind: "retryable", message: `${classified.message} (nothing was published)` } : classified;
  }

  // ---- sessions (§2.4): stored by Pacer, refreshed on ExpiredToken, never a login per post ---------

  /** The newest session this process holds per account, with the refresh tokens it replaced. */
  const refreshed = new Map<string, { replaced: string[]; session: Session }>();
  const refreshing = new Map<string, Promise<{ session: Session } | { outcome: PublishFailure }>>();

  function sessionOf(account: ConnectorAccount): Session | null {
    const c = account.credentials;
    if (!c.did || !c.pdsUrl || !c.accessJwt || !c.refreshJwt) return null;
    const held = refreshed.get(account.id);
    // Ours only while the stored credentials are one we rotated away from (or the newest): a reconnect stores a new chain.
    if (held && held.session.did === c.did && (held.replaced.includes(c.refreshJwt) || held.session.refreshJwt === c.refreshJwt)) return held.session;
    return { did: c.did, handle: c.handle || account.handle, pdsUrl: c.pdsUrl, accessJwt: c.accessJwt, refreshJwt: c.refreshJwt };
  }

  /** One refresh per account at a time in this process (two would both succeed, but the stored pair must be the last: §2.4). */
  function refresh(account: ConnectorAccount, session: Session, signal: AbortSignal) {
    let running = refreshing.get(account.id);
    if (!running) {
      running = doRefresh(account, session, signal).finally(() => refreshing.delete(account.id));
      refreshing.set(account.id, running);
    }
    return running;
  }

  async function doRefresh(account: ConnectorAccount, session: Session, signal: AbortSignal): Promise<{ session: Session } | { outcome: PublishFailure }> {
    const reply = await xrpc(session.pdsUrl, "com.atproto.server.refreshSession", signal, { method: "POST", token: session.refreshJwt });
    // A refresh publishes nothing, so a lost answer is only "try again" (the old token keeps working for 2 h).
    if (reply.outcome) return { outcome: reply.outcome.kind === "unknown" ? { kind: "retryable", message: `could not refresh the session: ${reply.outcome.message}` } : reply.outcome };
    const b = reply.body;
    if (reply.status !== 200 || typeof b?.accessJwt !== "string" || typeof b.refreshJwt !== "string" || b.did !== session.did) {
      if (reply.status === 200) return { outcome: { kind: "retryable", message: "Bluesky answered the session refresh without a usable session" } };
      const failed = failure(reply.status, reply.headers, b, false);
      if (failed.kind === "auth_expired") return { outcome: { kind: "auth_expired", message: `Bluesky ended @${session.handle}'s session (${failed.message.replace(/ \(reconnect.*$/, "")}): reconnect the account with a new app password` } };
      return { outcome: failed };
    }
    const next: Session = { ...session, accessJwt: b.accessJwt, refreshJwt: b.refreshJwt, handle: typeof b.handle === "string" ? b.handle : session.handle, pdsUrl: pdsFromDidDoc(b.didDoc) ?? session.pdsUrl };
    const before = refreshed.get(account.id);
    refreshed.set(account.id, { replaced: [...(before?.replaced ?? []), session.refreshJwt].slice(-8), session: next });
    try {
      await opts.onSessionRefreshed?.(account, credentialsOf(next));
    } catch {
      // Kept in this process and recoverable for 2 h with the old token: a failed save must not fail the post.
    }
    return { session: next };
  }

  /** A call with the account's session; on ExpiredToken (rejected before the handler ran, so nothing happened) refresh once and call again. */
  async function authed(account: ConnectorAccount, signal: AbortSignal, call: (session: Session) => Promise<Answer>): Promise<Answer> {
    const session = sessionOf(account);
    if (!session) return { outcome: { kind: "auth_expired", message: `@${account.handle} has no Bluesky session (reconnect the account).` } };
    const first = await call(session);
    if (first.outcome || first.body?.error !== "ExpiredToken") return first;
    const renewed = await refresh(account, session, signal);
    if ("outcome" in renewed) return renewed;
    return call(renewed.session);
  }

  // ---- publishing ----------------------------------------------------------------------------

  /** One publish call's view of the account's rate-limit budget: the newest answer that stated one. */
  interface Budget {
    latest?: RateLimitBudget;
  }
  const noteBudget = (budget: Budget, headers: Headers) => void (budget.latest = readBudget(headers) ?? budget.latest);

  type Ref = { uri: string; cid: string };

  /** One record at its derived key: created, or settled by reading that key back. */
  async function createPart(account: ConnectorAccount, rkey: string, record: Record<string, unknown>, budget: Budget, signal: AbortSignal, through: typeof fetch): Promise<{ ref: Ref } | { outcome: PublishFailure }> {
    const reply = await authed(account, signal, (s) =>
      xrpc(s.pdsUrl, "com.atproto.repo.createRecord", signal, { method: "POST", token: s.accessJwt, json: { repo: s.did, collection: POST, rkey, record }, through }),
    );
    if (reply.outcome) return reply;
    noteBudget(budget, reply.headers);
    const b = reply.body;
    if (reply.status === 200) {
      return typeof b?.uri === "string" && typeof b.cid === "string"
        ? { ref: { uri: b.uri, cid: b.cid } }
        : { outcome: { kind: "unknown", message: "HTTP 200 but the post's uri could not be read" } };
    }
    const name = typeof b?.error === "string" ? b.error : "";
    // A create at a key that exists answers 500 InternalServerError on today's PDSs (a named error
    // once bluesky-social/atproto#4728 lands): our earlier attempt, if the key holds our text.
    if ((reply.status === 500 && (name === "" || name === "InternalServerError")) || /exist/i.test(name)) {
      const held = await readRecord(account, rkey, signal);
      if (held.kind === "found" && held.text === record.text) return { ref: { uri: held.uri, cid: held.cid } };
      if (held.kind === "found") return { outcome: { kind: "permanent", message: `the record key ${rkey} holds a different post (${held.uri}); Pacer will not overwrite it` } };
      return { outcome: { kind: "unknown", message: `HTTP ${reply.status}: ${name || "no error name"}; ${held.kind === "not_found" ? "the post is not there now" : `could not check: ${held.message}`}` } };
    }
    return { outcome: failure(reply.status, reply.headers, b, true) };
  }

  async function readRecord(account: ConnectorAccount, rkey: string, signal: AbortSignal): Promise<{ kind: "found"; uri: string; cid: string; text: unknown } | { kind: "not_found" } | { kind: "unavailable"; message: string }> {
    const { did, pdsUrl } = account.credentials;
    if (!did || !pdsUrl) return { kind: "unavailable", message: `@${account.handle} has no Bluesky session (reconnect the account)` };
    // getRecord reads the PDS's own repo: consistent at once, no auth (§3.4).
    const reply = await xrpc(pdsUrl, "com.atproto.repo.getRecord", signal, { query: { repo: did, collection: POST, rkey } });
    if (reply.outcome) return { kind: "unavailable", message: reply.outcome.message };
    const b = reply.body;
    if (reply.status === 200 && typeof b?.uri === "string" && typeof b.cid === "string") return { kind: "found", uri: b.uri, cid: b.cid, text: (b.value as { text?: unknown } | undefined)?.text };
    if (b?.error === "RecordNotFound") return { kind: "not_found" };
    return { kind: "unavailable", message: `HTTP ${reply.status}: ${[b?.error, clip(b?.message)].filter(Boolean).join(": ") || "unreadable answer"}` };
  }

  /** Facets with mentions resolved to DIDs on the account's PDS; a handle that does not resolve stays plain text (§4). */
  async function facetsFor(text: string, session: Session, signal: AbortSignal): Promise<{ facets: Facet[] } | { outcome: PublishFailure }> {
    const facets: Facet[] = [];
    const dids = new Map<string, string | null>();
    for (const f of detectFacets(text)) {
      if (!("mention" in f)) {
        facets.push(f);
        continue;
      }
      if (!dids.has(f.mention)) {
        const reply = await xrpc(session.pdsUrl, "com.atproto.identity.resolveHandle", signal, { query: { handle: f.mention } });
        if (reply.outcome) return { outcome: { kind: "retryable", message: `could not resolve @${f.mention} (nothing was published): ${reply.outcome.message}` } };
        const did = reply.body?.did;
        if (reply.status === 200 && typeof did === "string" && did.startsWith("did:")) dids.set(f.mention, did);
        else if (reply.status === 400) dids.set(f.mention, null); // InvalidRequest "Unable to resolve handle" / HandleNotFound
        else return { outcome: failure(reply.status, reply.headers, reply.body, false) };
      }
      const did = dids.get(f.mention);
      if (did) facets.push({ index: f.index, features: [{ $type: "app.bsky.richtext.facet#mention", did }] });
    }
    return { facets };
  }

  /** Each image fetched (under the outbound guard) and uploaded as a blob; nothing is published yet, so every failure here is safe to retry or final (§5). */
  async function uploadImages(account: ConnectorAccount, urls: string[], budget: Budget, signal: AbortSignal): Promise<{ embed?: Record<string, unknown> } | { outcome: PublishFailure }> {
    if (urls.length === 0) return {};
    const images: Array<{ alt: string; image: unknown }> = [];
    for (const url of urls) {
      const got = await send(fetchImpl, url, { method: "GET" }, signal);
      if (got.outcome) return { outcome: got.outcome.kind === "permanent" ? got.outcome : { kind: "retryable", message: `could not fetch the image ${clip(url)}: ${got.outcome.message}` } };
      const res = got.response;
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => {});
        return { outcome: { kind: res.status >= 500 || res.status === 429 ? "retryable" : "permanent", message: `the image ${clip(url)} answered HTTP ${res.status}` } };
      }
      const type = (res.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
      if (!type.startsWith("image/")) {
        await res.body?.cancel().catch(() => {});
        return { outcome: { kind: "permanent", message: `Bluesky posts take images only (${clip(url)} is ${type || "of no stated type"}; video is not built yet)` } };
      }
      const bytes = await readBytesCapped(res, maxImageBytes);
      if (!bytes) return { outcome: { kind: "permanent", message: `the image ${clip(url)} is over ${maxImageBytes} bytes, the most a Bluesky post takes` } };
      const reply = await authed(account, signal, (s) => xrpc(s.pdsUrl, "com.atproto.repo.uploadBlob", signal, { method: "POST", token: s.accessJwt, bytes, contentType: type }));
      if (reply.outcome) return { outcome: reply.outcome.kind === "unknown" ? { kind: "retryable", message: `${reply.outcome.message} (an image upload; nothing was published)` } : reply.outcome };
      noteBudget(budget, reply.headers);
      const blob = reply.body?.blob as { ref?: { $link?: unknown } } | undefined;
      if (reply.status !== 200 || typeof blob?.ref?.$link !== "string") {
        return { outcome: reply.status === 200 ? { kind: "retryable", message: "Bluesky answered the image upload without a blob" } : failure(reply.status, reply.headers, reply.body, false) };
      }
      // The blob goes into the record exactly as returned (§5); alt text is required and may be empty.
      images.push({ alt: "", image: reply.body!.blob });
    }
    return { embed: { $type: "app.bsky.embed.images", images } };
  }

  const postUrl = (uri: string) => {
    const [did, , rkey] = uri.slice("at://".length).split("/");
    return `https://bsky.app/profile/${did}/post/${rkey}`;
  };

  async function lookup(account: ConnectorAccount, idempotencyKey: string, { signal }: { signal: AbortSignal }): Promise<Lookup> {
    const held = await readRecord(account, await rkeyFor(idempotencyKey, 0), signal);
    if (held.kind === "found") return { kind: "found", externalId: held.uri, url: postUrl(held.uri) };
    return held.kind === "not_found" ? held : { kind: "unavailable", message: held.message };
  }

  /** An AppView read that must answer 200, else an Error saying what failed. */
  async function read(account: ConnectorAccount, nsid: string, query: Record<string, string>, signal: AbortSignal, what: string): Promise<XrpcBody> {
    const reply = await xrpc(appview, nsid, signal, { query });
    if (reply.outcome) throw new Error(`Could not read @${account.handle}'s Bluesky ${what}: ${reply.outcome.message}`);
    if (reply.status !== 200 || !reply.body) {
      const name = reply.body?.error;
      const why = name === "AccountTakedown" || name === "AccountDeactivated" ? "Bluesky has restricted the account: " : "";
      throw new Error(`Could not read @${account.handle}'s Bluesky ${what}: ${why}HTTP ${reply.status}: ${[name, clip(reply.body?.message)].filter(Boolean).join(": ") || "unreadable answer"}`);
    }
    return reply.body;
  }

  return {
    platform: "bluesky",

    postsInParts: true,

    /**
     * The post (part 0), then its thread's parts or its first comment (parts 1…), each a reply with
     * `root` = the post and `parent` = the part before it, each at its own derived rkey, so any
     * retry — of the whole or, with `landed`, of the rest — writes the same keys and a landed part is
     * read back instead of duplicated. Once the post is live the outcome is never a refusal: a part
     * that fails makes it `unknown`, and the engine's lookup finds the post and sends the rest.
     */
    async publish(req, { signal }) {
      const thread = req.thread ?? [];
      if (thread.length > 0 && req.firstComment) return { kind: "permanent", message: "a post has a thread or a first comment, not both (put the comment in the thread)" };
      if (thread.length > MAX_THREAD_REPLIES) return { kind: "permanent", message: `a thread has at most ${MAX_THREAD_REPLIES + 1} posts, not ${thread.length + 1}` };
      const parts = [req.text, ...(thread.length > 0 ? thread : req.firstComment ? [req.firstComment] : [])];
      for (const [i, text] of parts.entries()) {
        const problem = textProblem(text);
        if (problem) return { kind: "permanent", message: `${i === 0 ? "The post" : thread.length > 0 ? `Part ${i + 1} of the thread` : "The first comment"}: ${problem}` };
      }
      if (req.destination) return { kind: "permanent", message: `Bluesky has no destinations to post into (got "${clip(req.destination)}")` };
      if (req.mediaUrls.length > MAX_IMAGES) return { kind: "permanent", message: `a Bluesky post takes at most ${MAX_IMAGES} images, not ${req.mediaUrls.length}` };
      const session = sessionOf(req.account);
      if (!session) return { kind: "auth_expired", message: `@${req.account.handle} has no Bluesky session (reconnect the account).` };
      const once = sendingOnce();
      if ("refused" in once) return { kind: "retryable", message: `not sent: ${once.refused}` };

      // The budget the platform's answers reported, returned with whatever the outcome is.
      const budget: Budget = {};
      const withBudget = (outcome: PublishOutcome): PublishOutcome => (budget.latest ? { ...outcome, rateLimit: budget.latest } : outcome);
      // The post is live already (a lookup found it): read its strong ref back, upload nothing again.
      let root: Ref | null = null;
      if (req.landed) {
        const held = await readRecord(req.account, await rkeyFor(req.idempotencyKey, 0), signal);
        if (held.kind !== "found") return { kind: "unknown", message: `the post was found, but reading it back failed (${held.kind === "not_found" ? "not there" : held.message})` };
        root = { uri: held.uri, cid: held.cid };
      }
      const media = root ? {} : await uploadImages(req.account, req.mediaUrls, budget, signal);
      if ("outcome" in media) return withBudget(media.outcome);
      const records: Array<Record<string, unknown>> = [];
      for (const text of parts) {
        const rich = await facetsFor(text, session, signal);
        if ("outcome" in rich) return withBudget(rich.outcome);
        records.push({ $type: POST, text, createdAt: new Date(now()).toISOString(), ...(rich.facets.length ? { facets: rich.facets } : {}) });
      }
      if (media.embed) records[0].embed = media.embed;

      if (!root) {
        const created = await createPart(req.account, await rkeyFor(req.idempotencyKey, 0), records[0], budget, signal, once.fetch);
        if ("outcome" in created) return withBudget(created.outcome);
        root = created.ref;
      }
      // Each later part replies to the one before it, in the post's thread (§3.5: root and parent strong refs).
      let parent = root;
      for (let i = 1; i < records.length; i++) {
        records[i].reply = { root, parent };
        const rkey = await rkeyFor(req.idempotencyKey, i);
        let part = await createPart(req.account, rkey, records[i], budget, signal, once.fetch);
        // A part whose fate is unknown (a lost answer, a 5xx) is tried once more at once: at the same
        // rkey it either lands once or answers "exists" and is read back, so asking again is safe
        // whenever, and it spares the item a verification.
        if ("outcome" in part && (part.outcome.kind === "unknown" || part.outcome.kind === "retryable") && !signal.aborted) {
          part = await createPart(req.account, rkey, records[i], budget, signal, once.fetch);
        }
        if ("outcome" in part) {
          const what = thread.length > 0 ? `part ${i + 1} of ${records.length}` : "its first comment";
          // Finishing a found post: the part's own outcome (the engine asks again, never re-posts).
          if (req.landed) return withBudget({ ...part.outcome, message: `${what}: ${part.outcome.message}` } as PublishOutcome);
          // The post is live, so the item is not failed; "unknown" sends it to lookup, which finds
          // the post, and the engine publishes again with `landed` to send the rest at their keys.
          return withBudget({ kind: "unknown", message: `posted as ${root.uri}, but ${what} was not (${part.outcome.kind}: ${part.outcome.message})`, externalId: root.uri, url: postUrl(root.uri) });
        }
        parent = part.ref;
      }
      return withBudget({ kind: "posted", externalId: root.uri, url: postUrl(root.uri) });
    },

    lookup,

    async connect({ handle: given, credentials }, { signal }): Promise<Connection> {
      const handle = given.trim().replace(/^@/, "").toLowerCase();
      const password = (credentials.appPassword ?? "").trim();
      const field = "credentials.appPassword";
      // The user sees only that the account's server could not be reached: the DID document names the
      // server, so what failed there (an internal address, a name that does not resolve) is logged, not shown.
      const unreachable = (detail: string): Connection => ({
        kind: "unavailable",
        message: `Pacer could not reach the Bluesky server of @${handle}; check the handle, and try again in a moment.`,
        detail: `connecting @${handle}: ${detail}`,
      });
      if (!APP_PASSWORD.test(password)) {
        // An app password cannot delete or migrate the account; the main password can, and Pacer never asks for it.
        return { kind: "refused", code: "app_password_required", field, message: "Enter an app password (bsky.app → Settings → Privacy and security → App passwords; it looks like xxxx-xxxx-xxxx-xxxx), not your account password." };
      }
      // Handle → DID on the AppView, DID → PDS from the DID document, then log in at that PDS (§2.2).
      let did = handle;
      if (!handle.startsWith("did:")) {
        const resolved = await xrpc(appview, "com.atproto.identity.resolveHandle", signal, { query: { handle } });
        if (resolved.outcome) return unreachable(resolved.outcome.message);
        if (resolved.status === 400) return { kind: "refused", code: "handle_unknown", field: "handle", message: `Bluesky knows no account @${handle}: check the handle (e.g. alice.bsky.social).` };
        if (resolved.status !== 200 || typeof resolved.body?.did !== "string" || !resolved.body.did.startsWith("did:")) return unreachable(`resolving the handle: HTTP ${resolved.status}`);
        did = resolved.body.did;
      }
      // did:plc:<24 base32> at the directory; did:web:<host> at the host (https://atproto.com/specs/did).
      const docUrl = /^did:plc:[a-z2-7]{24}$/.test(did) ? `${plc}/${did}` : /^did:web:[a-z0-9.-]+$/i.test(did) ? `https://${did.slice("did:web:".length)}/.well-known/did.json` : null;
      if (!docUrl) return { kind: "refused", code: "handle_unknown", field: "handle", message: `@${handle} uses an identity Pacer does not support (${clip(did)}).` };
      const got = await send(fetchImpl, docUrl, { method: "GET" }, signal);
      if (got.outcome) return unreachable(got.outcome.message);
      const doc = (await readJson(got.response)) as { alsoKnownAs?: unknown } | undefined;
      const pdsUrl = got.response.status === 200 ? pdsFromDidDoc(doc) : null;
      if (!pdsUrl) return unreachable(`reading ${clip(did)}'s DID document: HTTP ${got.response.status}`);
      // The handle must be claimed back by the DID document, or anyone could name someone else's DID (https://atproto.com/specs/handle).
      if (!handle.startsWith("did:") && !(Array.isArray(doc?.alsoKnownAs) && doc.alsoKnownAs.includes(`at://${handle}`))) {
        return { kind: "refused", code: "handle_unknown", field: "handle", message: `@${handle} does not match its Bluesky identity; check the handle.` };
      }

      const login = await xrpc(pdsUrl, "com.atproto.server.createSession", signal, { method: "POST", json: { identifier: did, password } });
      if (login.outcome) return unreachable(login.outcome.message);
      const b = login.body;
      if (login.status === 200 && typeof b?.accessJwt === "string" && typeof b.refreshJwt === "string" && b.did === did) {
        const session: Session = { did, handle: typeof b.handle === "string" ? b.handle : handle, pdsUrl: pdsFromDidDoc(b.didDoc) ?? pdsUrl, accessJwt: b.accessJwt, refreshJwt: b.refreshJwt };
        return { kind: "connected", credentials: credentialsOf(session) };
      }
      switch (b?.error) {
        case "AuthenticationRequired":
          return { kind: "refused", code: "app_password_invalid", field, message: `Bluesky did not accept this app password for @${handle}: check it, or create a new one.` };
        case "AuthFactorTokenRequired":
          return { kind: "refused", code: "app_password_required", field, message: "That is the account password (Bluesky sent a sign-in code): enter an app password instead." };
        case "AccountTakedown":
          return { kind: "refused", code: "account_restricted", field: "handle", message: `Bluesky has suspended @${handle}; it cannot be connected until Bluesky lifts that.` };
      }
      if (login.status === 429) {
        const wait = rateLimitDelayMs(login.headers, now());
        return { kind: "unavailable", message: `Bluesky allows only a few sign-ins per account (30 per 5 minutes, 300 a day); try again${wait ? ` in ${Math.ceil(wait / 60_000)} min` : " later"}.` };
      }
      return unreachable(`signing in: HTTP ${login.status}`);
    },

    // Reconciliation gives the keys of the account's recently sent items; a post at one's rkey is that item's.
    markersFromKeys: true,

    async recentPosts(account, { since, signal, keys = [] }): Promise<RecentPosts> {
      // The AppView's author feed, newest first by min(createdAt, indexedAt) (§7); the repo's own
      // listRecords is ordered by rkey, which for Pacer's derived keys is not time (§3.3).
      const did = account.credentials.did;
      if (!did) throw new Error(`Could not read @${account.handle}'s Bluesky posts: no session (reconnect the account)`);
      // The rkey is a one-way function of the key (rkeyFor), so the keys that could be here are tried.
      const keyOfRkey = new Map(await Promise.all(keys.map(async (key) => [await rkeyFor(key, 0), key] as const)));
      const posts: PlatformPost[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < RECENT_POSTS_MAX_PAGES; page++) {
        const body = await read(account, "app.bsky.feed.getAuthorFeed", { actor: did, limit: String(PAGE_SIZE), filter: "posts_with_replies", ...(cursor ? { cursor } : {}) }, signal, "posts");
        const feed = Array.isArray(body.feed) ? (body.feed as Array<{ post?: { uri?: unknown; author?: { did?: unknown }; record?: { createdAt?: unknown }; indexedAt?: unknown }; reason?: unknown }>) : [];
        let reachedSince = false;
        for (const item of feed) {
          const p = item.post;
          // The author's reposts of others are not its posts (and sort by the repost's time).
          if (item.reason || p?.author?.did !== did || typeof p.uri !== "string") continue;
          // The feed is ordered by min(createdAt, indexedAt): once that is before `since`, so is everything after it.
          if (typeof p.indexedAt === "string" && Date.parse(p.indexedAt) < since.getTime()) reachedSince = true;
          const created = typeof p.record?.createdAt === "string" ? Date.parse(p.record.createdAt) : NaN;
          if (Number.isNaN(created)) continue;
          if (created < since.getTime()) {
            reachedSince = true;
            continue;
          }
          const rkey = p.uri.slice(p.uri.lastIndexOf("/") + 1);
          posts.push({ externalId: p.uri, url: postUrl(p.uri), createdAt: new Date(created).toISOString(), marker: keyOfRkey.get(rkey) ?? null });
        }
        cursor = typeof body.cursor === "string" ? body.cursor : undefined;
        if (reachedSince || !cursor || feed.length === 0) return { posts, complete: true };
      }
      return { posts, complete: false };
    },

    async readMetrics(account, { signal }): Promise<AccountMetrics> {
      const did = account.credentials.did;
      if (!did) throw new Error(`Could not read @${account.handle}'s Bluesky metrics: no session (reconnect the account)`);
      const profile = await read(account, "app.bsky.actor.getProfile", { actor: did }, signal, "profile");
      const followers = count(profile.followersCount);
      const body = await read(account, "app.bsky.feed.getAuthorFeed", { actor: did, limit: String(PAGE_SIZE), filter: "posts_with_replies" }, signal, "posts");
      // Engagement: likes, reposts, replies and quotes over the account's latest 100 own posts (reposts of others skipped).
      let engagement = 0;
      for (const item of Array.isArray(body.feed) ? (body.feed as Array<{ post?: Record<string, unknown> & { author?: { did?: unknown } }; reason?: unknown }>) : []) {
        if (item.reason || item.post?.author?.did !== did) continue;
        engagement += count(item.post.likeCount) + count(item.post.repostCount) + count(item.post.replyCount) + count(item.post.quoteCount);
      }
      // Bluesky publishes no reach or impressions: followers stand in (the audience a post is
      // delivered to in Following feeds), so a reach decline is a follower decline, never invented.
      return { reach: followers, engagement, followers, observedAt: new Date(now()).toISOString() };
    },

    async disconnect(account, { signal }) {
      const session = sessionOf(account);
      if (!session) return false;
      const reply = await xrpc(session.pdsUrl, "com.atproto.server.deleteSession", signal, { method: "POST", token: session.refreshJwt });
      refreshed.delete(account.id);
      return !reply.outcome && reply.status === 200;
    },
  };
}

function credentialsOf(s: Session): Record<string, string> {
  return { did: s.did, handle: s.handle, pdsUrl: s.pdsUrl, accessJwt: s.accessJwt, refreshJwt: s.refreshJwt };
}

/** The PDS of a DID document: the #atproto_pds service, scheme + host (+ port) only (https://atproto.com/specs/did). */
function pdsFromDidDoc(doc: unknown): string | null {
  const services = (doc as { service?: unknown } | undefined)?.service;
  if (!Array.isArray(services)) return null;
  for (const s of services as Array<{ id?: unknown; type?: unknown; serviceEndpoint?: unknown }>) {
    if (typeof s?.id !== "string" || !s.id.endsWith("#atproto_pds") || s.type !== "AtprotoPersonalDataServer" || typeof s.serviceEndpoint !== "string") continue;
    try {
      const url = new URL(s.serviceEndpoint);
      if ((url.protocol === "https:" || url.protocol === "http:") && !url.username && !url.password) return url.origin;
    } catch {
      // not a URL: look further
    }
  }
  return null;
}

/**
 * RateLimit-Limit/-Remaining/-Reset (epoch seconds)/-Policy ("limit;w=seconds"), which the PDS sets
 * on every rate-limited route's answer, for the tightest limit that applied (§6).
 */
export function readBudget(headers: Headers): RateLimitBudget | undefined {
  const limit = Number(headers.get("ratelimit-limit"));
  const remaining = Number(headers.get("ratelimit-remaining"));
  const reset = Number(headers.get("ratelimit-reset"));
  // A reset no date can be built from (a bad header) is no budget, never a throw.
  const resetAt = isoAt(reset * 1000);
  if (!headers.has("ratelimit-remaining") || !Number.isFinite(limit) || !Number.isFinite(remaining) || !Number.isFinite(reset) || reset <= 0 || !resetAt) return undefined;
  const window = /;\s*w=(\d+)/.exec(headers.get("ratelimit-policy") ?? "")?.[1];
  return { limit, remaining, resetAt, ...(window ? { windowSeconds: Number(window) } : {}) };
}

const count = (n: unknown) => (typeof n === "number" && Number.isFinite(n) && n >= 0 ? n : 0);

/** A platform's text, short enough for a message. */
const clip = (text: unknown) => (text === undefined || text === null ? "" : String(text).slice(0, 300));

/** The body as bytes, or undefined past `limit` (the stream is cancelled, so a large image is never buffered whole). */
async function readBytesCapped(response: Response, limit: number): Promise<Uint8Array | undefined> {
  if (Number(response.headers.get("content-length") ?? 0) > limit) {
    await response.body?.cancel().catch(() => {});
    return undefined;
  }
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}
