// The connector for Pacer's sandbox platform (local/sandbox): publishes with our idempotency key as
// the post's client_ref and finds it again by that ref, since the sandbox, like most platforms,
// does not deduplicate retries for us.
import { classifyStatus, readJson, send } from "./http.ts";
import { singleSendFetch } from "./transport.ts";
import type { AccountMetrics, Connector, ConnectorAccount, Lookup, PublishFailure, PublishOutcome } from "./types.ts";

export interface SandboxConnectorOptions {
  /** The sandbox's URL; an account's `credentials.baseUrl` wins over it. */
  baseUrl?: string;
  /** For reads (lookups, metrics, registering); connection reuse is fine for them. */
  fetch?: typeof fetch;
  /** For publishing: must never re-send on its own (lib/connectors/transport.ts). Defaults to `fetch` when that is given, else the runtime's single-send fetch. */
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
  posts?: Array<{ id: string; url?: string }>;
  reach?: number;
  engagement?: number;
  followers?: number;
}

/**
 * Credentials it reads: `accessToken` (optional: without one the connector registers the handle on
 * the sandbox, which is idempotent, and caches the token) and `baseUrl` (optional).
 */
export function createSandboxConnector(opts: SandboxConnectorOptions = {}): Connector {
  const fetchImpl = opts.fetch ?? fetch;
  const now = opts.now ?? Date.now;
  const tokens = new Map<string, string>(); // registered tokens by `${baseUrl} ${handle}`

  function baseUrlOf(account: ConnectorAccount): string {
    const base = account.credentials.baseUrl ?? opts.baseUrl;
    if (!base) throw new Error(`No sandbox URL for @${account.handle}: set PACER_SANDBOX_URL or the account's baseUrl credential.`);
    return base.replace(/\/+$/, "");
  }

  /** Resolved on the first publish, so a runtime that cannot send once refuses publishing only. */
  let publishFetch = opts.publishFetch ?? opts.fetch;

  async function answer(url: string, init: RequestInit, signal: AbortSignal, through = fetchImpl): Promise<Answer> {
    const sent = await send(through, url, init, signal);
    if (sent.outcome) return sent;
    const body = (await readJson(sent.response)) as SandboxBody | undefined;
    return { status: sent.response.status, headers: sent.response.headers, body };
  }

  /** Registers the handle (idempotent) for its token. Nothing is published, so any failure is safe to retry. */
  async function register(base: string, handle: string, signal: AbortSignal): Promise<{ token: string } | { outcome: PublishFailure }> {
    const reply = await answer(`${base}/v1/accounts`, jsonInit("POST", { handle }), signal);
    if (reply.outcome) return { outcome: { kind: "retryable", message: `could not register @${handle}: ${reply.outcome.message}` } };
    if (reply.body?.token) {
      tokens.set(`${base} ${handle}`, reply.body.token);
      return { token: reply.body.token };
    }
    const detail = `could not register @${handle}: HTTP ${reply.status} ${reply.body?.message ?? ""}`.trim();
    return { outcome: reply.status === 400 ? { kind: "permanent", message: detail } : { kind: "retryable", message: detail } };
  }

  /** One authenticated call; a token we registered ourselves is renewed once if the sandbox forgot it (reset). */
  async function call(
    account: ConnectorAccount,
    method: string,
    path: string,
    body: unknown,
    signal: AbortSignal,
    headers: Record<string, string> = {},
    through = fetchImpl,
  ): Promise<Answer> {
    const base = baseUrlOf(account);
    const own = account.credentials.accessToken;
    for (let renewed = false; ; renewed = true) {
      let token = own ?? tokens.get(`${base} ${account.handle}`);
      if (!token) {
        const registered = await register(base, account.handle, signal);
        if ("outcome" in registered) return registered;
        token = registered.token;
      }
      const init = jsonInit(method, body, { authorization: `Bearer ${token}`, ...headers });
      const reply = await answer(`${base}${path}`, init, signal, through);
      // Auth is checked before anything is stored, so sending again after these is safe.
      const forgotten = reply.body?.error === "invalid_token" || reply.body?.error === "account_not_found";
      if (own || renewed || !forgotten) return reply;
      tokens.delete(`${base} ${account.handle}`);
    }
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
      const body = {
        text: req.text,
        media_urls: req.mediaUrls,
        first_comment: req.firstComment ?? null,
        destination: req.destination ?? null,
        client_ref: req.idempotencyKey,
      };
      try {
        publishFetch ??= singleSendFetch();
      } catch (error) {
        return { kind: "retryable", message: `not sent: ${(error as Error).message}` };
      }
      // A second line of defence: the sandbox honours the header when set to (as Mastodon does); the client_ref is what we rely on.
      const reply = await call(req.account, "POST", postsPath(req.account), body, signal, { "idempotency-key": req.idempotencyKey }, publishFetch);
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

function jsonInit(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return body === undefined
    ? { method, headers }
    : { method, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}
