// The connector for Pacer's sandbox platform (local/sandbox): publishes with our idempotency key as
// the post's client_ref and finds it again by that ref, since the sandbox, like most platforms,
// does not deduplicate retries for us.
import { classifyStatus, readJson, send } from "./http.ts";
import { guardedFetch, parseAllowedHosts, type AllowedHosts } from "./outbound.ts";
import { singleSendFetch } from "./transport.ts";
import type { AccountMetrics, Connection, Connector, ConnectorAccount, Lookup, PlatformPost, PublishFailure, PublishOutcome, RecentPosts } from "./types.ts";

export interface SandboxConnectorOptions {
  /** The sandbox's URL, from the operator's configuration (PACER_SANDBOX_URL); never from an account. */
  baseUrl?: string;
  /** Internal hosts the operator allows (PACER_ALLOWED_HOSTS): `host` or `host:port`. */
  allowedHosts?: string | readonly string[] | AllowedHosts;
  /** For reads (lookups, metrics); connection reuse is fine for them. */
  fetch?: typeof fetch;
  /** For publishing and creating a handle (neither may be sent twice): must never re-send on its own (lib/connectors/transport.ts). Defaults to `fetch` when that is given, else the runtime's single-send fetch. */
  publishFetch?: typeof fetch;
  now?: () => number;
}

/** A reply read to the end, or the outcome decided without one. */
type Answer =
  | { status: number; headers: Headers; body: SandboxBody | undefined; outcome?: undefined }
  | { outcome: PublishFailure; status?: undefined; headers?: undefined; body?: undefined };

interface SandboxBody {
  error?: string;
  message?: string;
  id?: string;
  url?: string;
  token?: string;
  posts?: Array<{ id: string; url?: string; created_at?: string; client_ref?: string | null }>;
  reach?: number;
  engagement?: number;
  followers?: number;
}

/**
 * Credentials it reads: `accessToken`, the token the sandbox handed out when the handle was created
 * (Pacer's connect flow stores it). Without one it answers auth_expired: it never registers a handle
 * on its own behalf, so no account can borrow another's identity.
 */
export function createSandboxConnector(opts: SandboxConnectorOptions = {}): Connector {
  const allowed = opts.allowedHosts instanceof Set ? opts.allowedHosts : parseAllowedHosts(opts.allowedHosts as string | string[] | undefined);
  const fetchImpl = guardedFetch(opts.fetch ?? fetch, allowed);
  const now = opts.now ?? Date.now;

  function baseUrl(): string {
    if (!opts.baseUrl) throw new Error("No sandbox URL: set PACER_SANDBOX_URL.");
    return opts.baseUrl.replace(/\/+$/, "");
  }

  /** Resolved on first use, so a runtime that cannot send once refuses publishing (and creating handles) only. */
  let publishFetch: typeof fetch | undefined;
  function sendingOnce(): { fetch: typeof fetch } | { refused: string } {
    try {
      publishFetch ??= guardedFetch(opts.publishFetch ?? opts.fetch ?? singleSendFetch(), allowed);
      return { fetch: publishFetch };
    } catch (error) {
      return { refused: (error as Error).message };
    }
  }

  async function answer(url: string, init: RequestInit, signal: AbortSignal, through = fetchImpl): Promise<Answer> {
    const sent = await send(through, url, init, signal);
    if (sent.outcome) return sent;
    const body = (await readJson(sent.response)) as SandboxBody | undefined;
    return { status: sent.response.status, headers: sent.response.headers, body };
  }

  /** One call with the account's own token; auth is checked before anything is stored. */
  async function call(
    account: ConnectorAccount,
    method: string,
    path: string,
    body: unknown,
    signal: AbortSignal,
    headers: Record<string, string> = {},
    through = fetchImpl,
  ): Promise<Answer> {
    const token = account.credentials.accessToken;
    if (!token) return { outcome: { kind: "auth_expired", message: `@${account.handle} has no sandbox token (reconnect the account).` } };
    return answer(`${baseUrl()}${path}`, jsonInit(method, body, { authorization: `Bearer ${token}`, ...headers }), signal, through);
  }

  const postsPath = (account: ConnectorAccount) => `/v1/accounts/${encodeURIComponent(account.handle)}/posts`;

  async function lookup(account: ConnectorAccount, idempotencyKey: string, { signal }: { signal: AbortSignal }): Promise<Lookup> {
    const query = `?client_ref=${encodeURIComponent(idempotencyKey)}&limit=1`;
    const reply = await call(account, "GET", postsPath(account) + query, undefined, signal);
    if (reply.outcome) return { kind: "unavailable", message: reply.outcome.message };
    if (reply.status !== 200 || !Array.isArray(reply.body?.posts)) {
      return { kind: "unavailable", message: `HTTP ${reply.status}: ${reply.body?.message ?? "unreadable answer"}` };
    }
    const [post] = reply.body.posts;
    return post ? { kind: "found", externalId: post.id, url: post.url } : { kind: "not_found" };
  }

  return {
    platform: "sandbox",

    async publish(req, { signal }) {
      // The sandbox's posts take no replies: no thread (lib/connectors/registry.ts CAPABILITIES).
      if (req.thread?.length) return { kind: "permanent", message: "The sandbox cannot post a thread (nothing was sent): queue the parts as one text or as separate posts." };
      const body = {
        text: req.text,
        media_urls: req.mediaUrls,
        first_comment: req.firstComment ?? null,
        destination: req.destination ?? null,
        client_ref: req.idempotencyKey,
      };
      const once = sendingOnce();
      if ("refused" in once) return { kind: "retryable", message: `not sent: ${once.refused}` };
      // A second line of defence: the sandbox honours the header when set to (as Mastodon does); the client_ref is what we rely on.
      const reply = await call(req.account, "POST", postsPath(req.account), body, signal, { "idempotency-key": req.idempotencyKey }, once.fetch);
      if (reply.outcome) return reply.outcome;
      const { status, headers, body: answer } = reply;
      if (status === 200 || status === 201) {
        return answer?.id
          ? { kind: "posted", externalId: answer.id, url: answer.url }
          : { kind: "unknown", message: `HTTP ${status} but the post's id could not be read` };
      }
      const detail = [answer?.error, answer?.message].filter(Boolean).join(": ");
      switch (answer?.error) {
        case "account_restricted":
          return { kind: "restricted", message: detail };
        case "destination_rejected":
          return { kind: "destination_rejected", message: detail };
        case "account_not_found":
          return { kind: "auth_expired", message: `${detail} (reconnect the account)` };
        case "duplicate_content":
          return settleDuplicate(req.account, req.idempotencyKey, detail, signal);
      }
      return classifyStatus(status, headers, detail, now()) ?? { kind: "unknown", message: `unexpected HTTP ${status}` };
    },

    lookup,

    async connect({ handle, credentials }, { signal }): Promise<Connection> {
      const field = "credentials.accessToken";
      const token = credentials.accessToken;
      const unreachable = (detail: string): Connection => ({ kind: "unavailable", message: `Pacer could not reach the sandbox to connect @${handle} (${detail}); try again in a moment.` });
      if (!token) {
        // A new handle: the sandbox hands its token out this once, to us (so the request is sent once too).
        const once = sendingOnce();
        if ("refused" in once) return unreachable(once.refused);
        const reply = await answer(`${baseUrl()}/v1/accounts`, jsonInit("POST", { handle }), signal, once.fetch);
        if (reply.outcome) return unreachable(reply.outcome.message);
        const issued = reply.body?.token;
        if (reply.status === 201 && typeof issued === "string" && TOKEN.test(issued)) return { kind: "connected", credentials: { accessToken: issued } };
        if (reply.body?.error === "handle_taken") {
          return { kind: "refused", code: "handle_taken", field, message: `@${handle} already exists on the sandbox: to connect it, enter the access token it was created with (${field}).` };
        }
        if (reply.status === 400) return { kind: "refused", code: "handle_invalid", field: "handle", message: `The sandbox does not accept this handle: ${clip(reply.body?.message)}` };
        return unreachable(`HTTP ${reply.status}`);
      }
      // An existing handle: the token must be its own, as an OAuth grant would be the owner's.
      const reply = await call({ id: "", platform: "sandbox", handle, credentials: { accessToken: token } }, "GET", `/v1/accounts/${encodeURIComponent(handle)}/metrics`, undefined, signal);
      if (reply.outcome) return unreachable(reply.outcome.message);
      if (reply.status === 200) return { kind: "connected", credentials: { accessToken: token } };
      if (reply.body?.error === "account_not_found") {
        return { kind: "refused", code: "token_invalid", field, message: `There is no sandbox account @${handle} for this token; leave ${field} empty to create @${handle}.` };
      }
      if (reply.status === 401) {
        const why = reply.body?.error === "token_expired" ? "has expired" : `is not @${handle}'s`;
        return { kind: "refused", code: "token_invalid", field, message: `This access token ${why}: enter the token @${handle} was created with (${field}).` };
      }
      return unreachable(`HTTP ${reply.status}`);
    },

    async recentPosts(account, { since, signal }): Promise<RecentPosts> {
      // Newest first, a page at a time (the sandbox's largest), each page older than the last one's
      // oldest post; capped so one busy account cannot spend the run's budget or the read limit.
      const posts: PlatformPost[] = [];
      let maxId: string | null = null;
      for (let page = 0; page < RECENT_POSTS_MAX_PAGES; page++) {
        const query = `?since=${encodeURIComponent(since.toISOString())}&limit=${PAGE_SIZE}${maxId ? `&max_id=${encodeURIComponent(maxId)}` : ""}`;
        const reply = await call(account, "GET", postsPath(account) + query, undefined, signal);
        if (reply.outcome) throw new Error(`Could not read @${account.handle}'s sandbox posts: ${reply.outcome.message}`);
        if (reply.status !== 200 || !Array.isArray(reply.body?.posts)) {
          throw new Error(`Could not read @${account.handle}'s sandbox posts: HTTP ${reply.status}: ${clip(reply.body?.message ?? "unreadable answer")}`);
        }
        for (const p of reply.body.posts) {
          // Only what a reply proves is kept: an id, a time, and a marker of Pacer's shape.
          if (typeof p?.id !== "string" || typeof p.created_at !== "string" || Number.isNaN(Date.parse(p.created_at))) continue;
          posts.push({
            externalId: p.id,
            url: typeof p.url === "string" ? p.url : undefined,
            createdAt: new Date(p.created_at).toISOString(),
            marker: typeof p.client_ref === "string" && p.client_ref.length <= 200 ? p.client_ref : null,
          });
        }
        if (reply.body.posts.length < PAGE_SIZE) return { posts, complete: true };
        const oldest = reply.body.posts[reply.body.posts.length - 1]?.id;
        if (typeof oldest !== "string" || oldest === maxId) break;
        maxId = oldest;
      }
      return { posts, complete: false };
    },

    async readMetrics(account, { signal }): Promise<AccountMetrics> {
      const reply = await call(account, "GET", `/v1/accounts/${encodeURIComponent(account.handle)}/metrics`, undefined, signal);
      const failure = reply.outcome
        ? reply.outcome.message
        : reply.status !== 200
          ? `HTTP ${reply.status}: ${reply.body?.message ?? ""}`
          : null;
      if (failure !== null || !reply.body) throw new Error(`Could not read @${account.handle}'s sandbox metrics: ${failure ?? "empty answer"}`);
      const { reach = 0, engagement = 0, followers = 0 } = reply.body;
      return { reach, engagement, followers, observedAt: new Date(now()).toISOString() };
    },
  };

  /**
   * A duplicate-content refusal may be the platform recognising OUR earlier attempt, whose response
   * was lost. So ask: our post found → it is posted; not found → retryable (nothing of ours is live
   * and the platform's duplicate window moves on); the platform unreachable → unknown, for the engine to verify.
   */
  async function settleDuplicate(account: ConnectorAccount, key: string, detail: string, signal: AbortSignal): Promise<PublishOutcome> {
    const found = await lookup(account, key, { signal });
    if (found.kind === "found") return { kind: "posted", externalId: found.externalId, url: found.url };
    if (found.kind === "not_found") return { kind: "retryable", message: `${detail} (none of the recent posts is this one; retry later or change the text)` };
    return { kind: "unknown", message: `${detail}; could not check whether it is our earlier attempt: ${found.message}` };
  }
}

/** The sandbox's largest page of posts, and how many pages one reconciliation read may take. */
const PAGE_SIZE = 100;
const RECENT_POSTS_MAX_PAGES = 20;

/** What a sandbox token looks like; anything else in a reply is not stored. */
const TOKEN = /^[\x21-\x7e]{1,512}$/;

/** A platform's text, short enough for a message. */
const clip = (text: unknown) => String(text ?? "").slice(0, 300);

function jsonInit(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return body === undefined
    ? { method, headers }
    : { method, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}
