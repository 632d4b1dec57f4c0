// The connector for Upload-Post (https://docs.upload-post.com), the publishing API that holds a
// user's TikTok, Instagram, YouTube, LinkedIn, Facebook, X, Threads, Pinterest, Reddit and Bluesky
// tokens. One Pacer account = one connected platform of one Upload-Post profile; research and
// sources: docs/platforms/upload-post.md (§ numbers below point there).
//
// Exactly once: every upload carries our own request_id, the same value as Idempotency-Key and
// X-Request-Id, derived from the queue item's key, and asks for async_upload. A lost answer is then
// settled by GET /api/uploadposts/status?request_id=… (no record of the answer needed), and a resend
// returns the existing job instead of a second post (§3.4). Plain fetch, not the `upload-post`
// client: that one goes through axios (outside singleSendFetch and the outbound guard), drops the
// status, headers and body Pacer classifies by, and cannot send request_id (§7).
import { classifyStatus, isoAt, rateLimitDelayMs, readJson, send } from "./http.ts";
import { guardedFetch, parseAllowedHosts, type AllowedHosts } from "./outbound.ts";
import { singleSendFetch } from "./transport.ts";
import type { AccountMetrics, Connection, Connector, ConnectorAccount, Lookup, PlatformPost, PublishFailure, PublishOutcome, PublishRequest, RateLimitBudget, RecentPosts, SentAttempt } from "./types.ts";

export interface UploadPostConnectorOptions {
  /** Upload-Post's origin (the API is under /api); the operator's configuration, never an account's. */
  baseUrl?: string;
  /** Internal hosts the operator allows (PACER_ALLOWED_HOSTS): the local fake's. */
  allowedHosts?: string | readonly string[] | AllowedHosts;
  /** For reads (status, history, analytics, profiles). */
  fetch?: typeof fetch;
  /** For uploads and retries (never re-sent by the HTTP layer): lib/connectors/transport.ts. */
  publishFetch?: typeof fetch;
  now?: () => number;
  /**
   * Waits between status reads while a publish waits for its platform's result, the last repeated
   * until the call's signal ends it. Upload-Post suggests a first poll after ~5 s, then every 10 s
   * (https://docs.upload-post.com/api/upload-status); text usually finishes sooner.
   */
  statusPollMs?: number[];
}

export const UPLOAD_POST_URL = "https://api.upload-post.com";

/** The credentials an Upload-Post account stores (encrypted): the workspace's key, the profile, and which of its platforms. */
export interface UploadPostCredentials {
  apiKey: string;
  profile: string;
  platform: string;
}

/** Upload-Post's platform keys a Pacer account can be (https://docs.upload-post.com/api/user-profiles). */
export const UPLOAD_POST_PLATFORMS = ["tiktok", "instagram", "linkedin", "youtube", "facebook", "x", "threads", "pinterest", "reddit", "bluesky"] as const;

/** Platforms /api/upload_text does not take: they need a photo or a video (§3.1). */
const NEEDS_MEDIA = new Set(["instagram", "tiktok", "youtube", "pinterest"]);

/**
 * One post's text limit. X, Threads and Bluesky would be split into a thread by Upload-Post (§3.3),
 * i.e. several posts under one request_id, so longer text is refused before sending.
 */
export const UPLOAD_POST_TEXT_LIMITS: Record<string, number> = { x: 280, threads: 500, bluesky: 300, facebook: 63_206, linkedin: 3_000, tiktok: 2_200, instagram: 2_200, youtube: 5_000, pinterest: 500, reddit: 40_000 };

/** Which form field a Pacer destination becomes, per platform (§3.3). */
const DESTINATION_FIELD: Record<string, string> = { reddit: "subreddit", facebook: "facebook_page_id", pinterest: "pinterest_board_id", linkedin: "target_linkedin_page_id" };

const VIDEO = /\.(mp4|mov|webm|m4v|avi|mkv)(\?|#|$)/i;

/**
 * How long Upload-Post serves a finished status answer (`completed`, `failed`) again as it was: 5
 * minutes (https://docs.upload-post.com/api/upload-status; §3.7). Within it, a status read after
 * posts/retry can still show the failure the retry re-ran.
 */
const FINISHED_STATUS_CACHE_MS = 5 * 60_000;

/** TikTok's reached_active_user_cap: "wait a few hours" (https://docs.upload-post.com/guides/reached-active-user-cap-error). */
const USER_CAP_WAIT_MS = 3 * 3600_000;

/**
 * Our request_id for a queue item: `pacer-<key>` when the key is short and plain (queue keys are
 * UUIDs), else `pacerh-<sha-256 prefix>`. Deterministic, so every attempt of one item names one job.
 */
export async function uploadPostRequestId(idempotencyKey: string): Promise<string> {
  if (/^[A-Za-z0-9_-]{1,58}$/.test(idempotencyKey)) return `pacer-${idempotencyKey}`;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(idempotencyKey)));
  return `pacerh-${[...digest.slice(0, 20)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The queue item key a request_id of ours carries (null for hashed ids and other senders' ids). */
export function uploadPostMarker(requestId: unknown): string | null {
  return typeof requestId === "string" && requestId.startsWith("pacer-") && requestId.length <= 64 ? requestId.slice("pacer-".length) : null;
}

type Body = Record<string, unknown> | undefined;
type Answer = { status: number; headers: Headers; body: Body; outcome?: undefined } | { outcome: PublishFailure; status?: undefined; headers?: undefined; body?: undefined };

/** One platform's entry in a status answer (https://docs.upload-post.com/api/upload-status). */
interface PlatformResult {
  platform?: string;
  status?: string;
  success?: boolean;
  error?: string;
  error_code?: string;
  message?: string;
  url?: string;
  post_url?: string;
  platform_post_id?: string | string[] | null;
  post_id?: string;
  skipped?: boolean;
}

const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);
const clip = (v: unknown) => String(v ?? "").slice(0, 300);

export function createUploadPostConnector(opts: UploadPostConnectorOptions = {}): Connector & { publish(req: PublishRequest, o: { signal: AbortSignal }): Promise<PublishOutcome>; rateBudget(apiKey: string): RateLimitBudget | null } {
  const allowed = opts.allowedHosts instanceof Set ? opts.allowedHosts : parseAllowedHosts(opts.allowedHosts as string | string[] | undefined);
  const readFetch = guardedFetch(opts.fetch ?? fetch, allowed);
  const now = opts.now ?? Date.now;
  const base = (opts.baseUrl ?? UPLOAD_POST_URL).replace(/\/+$/, "");
  const polls = opts.statusPollMs?.length ? opts.statusPollMs : [2_000, 3_000, 5_000];
  /** The latest budget per API key (in memory only: a hint to hold back, the engine's limits stay the record). */
  // The request-rate budget Upload-Post reports for each API key on every answer (X-RateLimit-Limit /
  // -Remaining / -Reset, https://docs.upload-post.com/guides/rate-limits): each publish outcome carries
  // the latest as `rateLimit`, so the engine can slow down before a 429.
  const budgets = new Map<string, RateLimitBudget>();

  let publishFetch: typeof fetch | undefined;
  function sendingOnce(): { fetch: typeof fetch } | { refused: string } {
    try {
      publishFetch ??= guardedFetch(opts.publishFetch ?? opts.fetch ?? singleSendFetch(), allowed);
      return { fetch: publishFetch };
    } catch (error) {
      return { refused: (error as Error).message };
    }
  }

  function credentialsOf(account: ConnectorAccount): UploadPostCredentials | null {
    const { apiKey, profile, platform } = account.credentials;
    return apiKey && profile && platform ? { apiKey, profile, platform } : null;
  }

  /** One call with the workspace's key; every answer's X-RateLimit-* is kept. */
  async function call(apiKey: string, method: string, path: string, signal: AbortSignal, init: { body?: BodyInit; json?: unknown; headers?: Record<string, string> } = {}, through = readFetch): Promise<Answer> {
    const headers: Record<string, string> = { authorization: `Apikey ${apiKey}`, ...init.headers };
    let body = init.body;
    if (init.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(init.json);
    }
    const sent = await send(through, `${base}${path}`, { method, headers, body }, signal);
    if (sent.outcome) return sent;
    keepBudget(apiKey, sent.response.headers);
    return { status: sent.response.status, headers: sent.response.headers, body: obj(await readJson(sent.response)) };
  }

  function keepBudget(apiKey: string, headers: Headers) {
    const limit = Number(headers.get("x-ratelimit-limit"));
    const remaining = Number(headers.get("x-ratelimit-remaining"));
    const reset = Number(headers.get("x-ratelimit-reset"));
    // A reset no date can be built from (a bad header) is no budget, never a throw.
    const resetAt = isoAt(reset * 1000);
    if (![limit, remaining, reset].every((n) => Number.isFinite(n) && n >= 0) || headers.get("x-ratelimit-reset") === null || !resetAt) return;
    budgets.set(apiKey, { limit, remaining, resetAt });
  }

  const with_ = (apiKey: string, outcome: PublishOutcome): PublishOutcome => {
    const budget = budgets.get(apiKey);
    return budget ? { ...outcome, rateLimit: budget } : outcome;
  };

  /** Reads the job of a request_id: its result for our platform, or why not. */
  async function readStatus(creds: UploadPostCredentials, requestId: string, signal: AbortSignal) {
    const reply = await call(creds.apiKey, "GET", `/api/uploadposts/status?request_id=${encodeURIComponent(requestId)}`, signal);
    if (reply.outcome) return { kind: "unreadable" as const, message: reply.outcome.message };
    if (reply.status === 404) return { kind: "none" as const };
    if (reply.status === 429) return { kind: "rate_limited" as const, retryAfterMs: rateLimitDelayMs(reply.headers, now()), message: `HTTP 429: ${clip(reply.body?.message)}` };
    if (reply.status === 401) return { kind: "auth" as const, message: `HTTP 401: ${clip(reply.body?.message)}` };
    if (reply.status !== 200 || !reply.body) return { kind: "unreadable" as const, message: `HTTP ${reply.status}: ${clip(reply.body?.error ?? reply.body?.message)}` };
    const results = Array.isArray(reply.body.results) ? (reply.body.results as PlatformResult[]) : [];
    const result = results.find((r) => obj(r) && r.platform === creds.platform);
    return { kind: "job" as const, status: String(reply.body.status ?? ""), result };
  }

  /**
   * Post analytics for our request_id on our platform, the second documented source (§3.7): it
   * answers 404 when no post has that id, and is read live (status answers are cached).
   */
  async function analyticsOf(creds: UploadPostCredentials, requestId: string, signal: AbortSignal): Promise<{ kind: "found"; entry?: Record<string, unknown> } | { kind: "absent" } | { kind: "unreadable"; message: string }> {
    const reply = await call(creds.apiKey, "GET", `/api/uploadposts/post-analytics/${encodeURIComponent(requestId)}?platform=${encodeURIComponent(creds.platform)}`, signal);
    if (reply.outcome) return { kind: "unreadable", message: reply.outcome.message };
    if (reply.status === 404) return { kind: "absent" };
    if (reply.status !== 200) return { kind: "unreadable", message: `Upload-Post post analytics answered HTTP ${reply.status}` };
    const entry = reply.body ? (obj(obj(reply.body.platforms)?.[creds.platform]) ?? obj(obj(reply.body.results)?.[creds.platform]) ?? obj(reply.body[creds.platform])) : undefined;
    return { kind: "found", entry };
  }

  /** The post's id and link: from the status result, else post analytics, else our request_id (stable, and the marker). */
  async function postOf(creds: UploadPostCredentials, requestId: string, result: PlatformResult | undefined, signal: AbortSignal, analytics?: Record<string, unknown>): Promise<{ externalId: string; url?: string }> {
    const id = (r: PlatformResult | Record<string, unknown> | undefined) => {
      const v = r?.platform_post_id ?? r?.post_id;
      return Array.isArray(v) ? str(v[0]) : str(v);
    };
    const url = (r: PlatformResult | Record<string, unknown> | undefined) => str(r?.url) ?? str(r?.post_url);
    if (id(result)) return { externalId: id(result)!, url: url(result) };
    const entry = analytics ?? (await analyticsOf(creds, requestId, signal).then((a) => (a.kind === "found" ? a.entry : undefined)));
    if (id(entry)) return { externalId: id(entry)!, url: url(entry) ?? url(result) };
    return { externalId: requestId, url: url(entry) ?? url(result) };
  }

  /** A platform `failed` recorded before `since` (or with no time): an answer from before a retry, possibly the cached one (§3.7). */
  const failedBefore = (result: PlatformResult | undefined, since: number | undefined) => {
    if (since === undefined || result?.status !== "failed" || result.success === true) return false;
    const at = Date.parse(String((result as Record<string, unknown>).upload_timestamp ?? ""));
    return Number.isNaN(at) || at < since;
  };

  /** What a finished platform result means (§5.2); null while Upload-Post is still working on it. */
  async function settleResult(creds: UploadPostCredentials, requestId: string, result: PlatformResult | undefined, destination: string | null, signal: AbortSignal): Promise<PublishOutcome | null> {
    if (!result) return null;
    if (result.success === true || result.status === "completed") return { kind: "posted", ...(await postOf(creds, requestId, result, signal)) };
    // A platform the profile has not connected is skipped, not queued [S].
    if (result.skipped === true) return classifyPlatformError(creds.platform, { ...result, error_code: result.error_code ?? "profile_platform_mapping_invalid" }, destination);
    // queued, processing, and retryable ("eligible for automatic retry") are not final.
    if (result.status !== "failed") return null;
    return classifyPlatformError(creds.platform, result, destination);
  }

  /** Reads status until our platform's result is final or the call's time runs out (then unknown: lookup settles it). */
  async function awaitResult(creds: UploadPostCredentials, requestId: string, destination: string | null, signal: AbortSignal, retriedAt?: number): Promise<PublishOutcome> {
    let last = "no answer yet";
    for (let i = 0; ; i++) {
      if (!(await pause(polls[Math.min(i, polls.length - 1)], signal))) break;
      const read = await readStatus(creds, requestId, signal);
      if (read.kind === "job" && failedBefore(read.result, retriedAt)) {
        // The failure the retry re-ran, served from status's 5-minute cache: not this run's result.
        // Post analytics is read live, so it shows the post as soon as the retry lands it.
        const live = await analyticsOf(creds, requestId, signal);
        if (live.kind === "found") return { kind: "posted", ...(await postOf(creds, requestId, undefined, signal, live.entry)) };
        last = `status still shows the failure from before the retry (cached up to 5 minutes)`;
        continue;
      }
      if (read.kind === "job") {
        const settled = await settleResult(creds, requestId, read.result, destination, signal);
        if (settled) return settled;
        last = `status ${read.status || "unknown"}${read.result?.status ? `, ${creds.platform} ${read.result.status}` : ""}`;
      } else {
        // An early 404 is "not recorded yet" (status answers are cached 2–3 s), never "failed".
        last = read.kind === "none" ? "not recorded yet" : read.message;
      }
    }
    return { kind: "unknown", message: `Upload-Post accepted request ${requestId} but had not finished it when the call's time ran out (${last}); Pacer will look it up.` };
  }

  async function publish(req: PublishRequest, { signal }: { signal: AbortSignal }): Promise<PublishOutcome> {
    const creds = credentialsOf(req.account);
    if (!creds) return { kind: "auth_expired", message: `@${req.account.handle} has no Upload-Post key, profile and platform (reconnect the account).` };
    const { platform } = creds;
    // One request per post: no thread (lib/connectors/registry.ts CAPABILITIES); enqueue refuses it
    // first, this holds for rows written past the API.
    if (req.thread?.length) return { kind: "permanent", message: "Pacer cannot post a thread through Upload-Post (nothing was sent): queue the parts as one text or as separate posts." };
    const refuse = checkPost(platform, req);
    if (refuse) return { kind: "permanent", message: refuse };
    // The key's window is spent: wait for its reset rather than earn a 429.
    const budget = budgets.get(creds.apiKey);
    const resetIn = budget ? Date.parse(budget.resetAt) - now() : 0;
    if (budget && budget.remaining <= 0 && resetIn > 0) {
      return with_(creds.apiKey, { kind: "rate_limited", retryAfterMs: resetIn, message: `Not sent: the Upload-Post key's request budget is spent until ${budget.resetAt}.` });
    }
    const requestId = await uploadPostRequestId(req.idempotencyKey);
    const destination = req.destination ?? null;
    const once = sendingOnce();
    if ("refused" in once) return { kind: "retryable", message: `not sent: ${once.refused}` };

    // An earlier attempt may have left a job under this request_id. A resend with the same key would
    // only return that job (§3.4): a finished one is the answer, and a failed one is retried through
    // posts/retry, the one way to re-run it (§3.8).
    const before = await readStatus(creds, requestId, signal);
    if (before.kind === "rate_limited") return with_(creds.apiKey, { kind: "rate_limited", retryAfterMs: before.retryAfterMs, message: before.message });
    if (before.kind === "auth") return with_(creds.apiKey, { kind: "auth_expired", message: `Upload-Post refused the workspace's API key (${before.message}): paste a new key.` });
    // Whether a job already exists is not known: uploading now could make a second one. Nothing was sent.
    if (before.kind === "unreadable") return with_(creds.apiKey, { kind: "retryable", message: `Not sent: could not read Upload-Post's status for ${requestId} first (${before.message}).` });
    if (before.kind === "job") {
      if (before.result?.success === true || before.result?.status === "completed") return with_(creds.apiKey, { kind: "posted", ...(await postOf(creds, requestId, before.result, signal)) });
      // Failed overall with no result for our platform ("no activity for over 1 hour") proves
      // nothing (§3.7): not retried, left to lookup.
      if (!before.result && before.status === "failed") {
        return with_(creds.apiKey, { kind: "unknown", message: `Upload-Post marks request ${requestId} failed without a ${platform} result; Pacer will look it up.` });
      }
      let retriedAt: number | undefined;
      if (before.result?.status === "failed") {
        // A platform marked failed may still have posted: post analytics must agree it did not
        // before posts/retry runs it again (the same proof lookup asks for).
        const landed = await analyticsOf(creds, requestId, signal);
        if (landed.kind === "found") return with_(creds.apiKey, { kind: "posted", ...(await postOf(creds, requestId, undefined, signal, landed.entry)) });
        if (landed.kind === "unreadable") return with_(creds.apiKey, { kind: "retryable", message: `Not sent: Upload-Post marks request ${requestId} failed, and post analytics could not confirm nothing was posted (${landed.message}).` });
        // Results older than this are the failure being retried (status may serve it for 5 minutes).
        retriedAt = now();
        const retried = await call(creds.apiKey, "POST", "/api/uploadposts/posts/retry", signal, { json: { request_id: requestId } }, once.fetch);
        if (retried.outcome) return with_(creds.apiKey, retried.outcome);
        // 409: nothing left to retry (it finished meanwhile): status says how.
        if (retried.status !== 200 && retried.status !== 409) {
          const failure = retried.status === 429 || retried.status === 401 || retried.status >= 500 ? classifyAnswer(platform, retried.status, retried.headers, retried.body, now()) : null;
          return with_(creds.apiKey, failure ?? { kind: "permanent", message: `Upload-Post keeps the failed upload ${requestId} for this post and would not retry it (HTTP ${retried.status}: ${clip(retried.body?.message)}).` });
        }
      }
      return with_(creds.apiKey, await awaitResult(creds, requestId, destination, signal, retriedAt));
    }

    const form = uploadForm(creds, req, requestId);
    const path = req.mediaUrls.length === 0 ? "/api/upload_text" : VIDEO.test(req.mediaUrls[0]) ? "/api/upload" : "/api/upload_photos";
    const headers = { "idempotency-key": requestId, "x-request-id": requestId };
    const reply = await call(creds.apiKey, "POST", path, signal, { body: form, headers }, once.fetch);
    if (reply.outcome) return with_(creds.apiKey, reply.outcome);
    const { status, body } = reply;
    if (status === 200 && body?.success !== false) {
      // Lookup, and every later attempt, can only ask for our request_id: a job Upload-Post keeps
      // under another id is one Pacer cannot settle, so it is not followed as if it were ours.
      const named = str(body?.request_id);
      if (named && named !== requestId) {
        return with_(creds.apiKey, { kind: "unknown", message: `Upload-Post accepted the upload as request ${clip(named)}, not Pacer's ${requestId}; Pacer cannot look that job up, so a person must check whether it posted.` });
      }
      // Synchronous answer (the key did not ask async, or a replay answered that way): results per platform.
      const sync = obj(obj(body?.results)?.[platform]) as PlatformResult | undefined;
      if (sync) {
        const settled = await settleResult(creds, requestId, { ...sync, status: sync.success ? "completed" : "failed" }, destination, signal);
        if (settled) return with_(creds.apiKey, settled);
      }
      return with_(creds.apiKey, await awaitResult(creds, requestId, destination, signal));
    }
    return with_(creds.apiKey, classifyAnswer(platform, status, reply.headers, body, now()) ?? { kind: "unknown", message: `unexpected HTTP ${status} from Upload-Post` });
  }

  async function lookup(account: ConnectorAccount, idempotencyKey: string, { signal, sent }: { signal: AbortSignal; sent?: SentAttempt }): Promise<Lookup> {
    const creds = credentialsOf(account);
    if (!creds) return { kind: "unavailable", message: `@${account.handle} has no Upload-Post credentials to ask with.` };
    const requestId = await uploadPostRequestId(idempotencyKey);
    const read = await readStatus(creds, requestId, signal);
    if (read.kind === "none") {
      // Unknown to status; post analytics (a second documented source) must agree before "not found".
      const confirm = await analyticsOf(creds, requestId, signal);
      if (confirm.kind === "absent") return { kind: "not_found" };
      if (confirm.kind === "unreadable") return { kind: "unavailable", message: confirm.message };
      return { kind: "found", ...(await postOf(creds, requestId, undefined, signal, confirm.entry)) };
    }
    if (read.kind !== "job") return { kind: "unavailable", message: `Could not read Upload-Post's status for ${requestId}: ${read.message}` };
    const r = read.result;
    if (r?.success === true || r?.status === "completed") return { kind: "found", ...(await postOf(creds, requestId, r, signal)) };
    if (r?.status === "failed") {
      // Marked failed: believed only when post analytics agrees nothing landed (a platform marked
      // failed may have posted, and a not_found leads to posts/retry, a second post).
      const landed = await analyticsOf(creds, requestId, signal);
      if (landed.kind === "found") return { kind: "found", ...(await postOf(creds, requestId, undefined, signal, landed.entry)) };
      if (landed.kind === "unreadable") return { kind: "unavailable", message: landed.message };
      // A failure recorded before the attempt being verified was sent is the one that attempt
      // retried; while status may still serve it from its 5-minute cache, the retry's own result
      // is not known yet. Past that, a retry would have replaced it: the retry never ran.
      const sentAt = Date.parse(sent?.sentAt ?? "");
      if (!Number.isNaN(sentAt) && failedBefore(r, sentAt) && now() < sentAt + FINISHED_STATUS_CACHE_MS) {
        return { kind: "unavailable", message: `Upload-Post's status for ${requestId} still shows the failure from before this attempt (status answers are cached for 5 minutes); ask again later.` };
      }
      return { kind: "not_found" };
    }
    // Still working (queued, processing, retryable), or "failed" overall with no result for our
    // platform (no activity for an hour: not proof either way): ask again later.
    return {
      kind: "unavailable",
      message: `Upload-Post is still processing ${requestId} (status ${read.status || "unknown"}${r?.status ? `, ${creds.platform} ${r.status}` : ""}); ask again later.`,
    };
  }

  return {
    platform: "upload-post",
    publish,
    lookup,
    rateBudget: (apiKey) => budgets.get(apiKey) ?? null,

    async connect({ handle, credentials }, { signal }): Promise<Connection> {
      const { apiKey, profile, platform } = credentials;
      if (!apiKey) return { kind: "refused", code: "api_key_missing", field: "credentials.apiKey", message: "Enter the workspace's Upload-Post API key (Upload-Post dashboard → API Keys)." };
      if (!profile) return { kind: "refused", code: "profile_missing", field: "credentials.profile", message: "Name the Upload-Post profile whose account to connect." };
      if (!platform || !(UPLOAD_POST_PLATFORMS as readonly string[]).includes(platform)) {
        return { kind: "refused", code: "platform_invalid", field: "credentials.platform", message: `Choose one of ${UPLOAD_POST_PLATFORMS.join(", ")}.` };
      }
      const reply = await call(apiKey, "GET", `/api/uploadposts/users/${encodeURIComponent(profile)}`, signal);
      const unreachable = (detail: string): Connection => ({ kind: "unavailable", message: `Pacer could not reach Upload-Post to connect ${profile}'s ${platform} account (${detail}); try again in a moment.` });
      if (reply.outcome) return unreachable(reply.outcome.message);
      if (reply.status === 401) return { kind: "refused", code: "api_key_invalid", field: "credentials.apiKey", message: `Upload-Post does not accept this API key (${clip(reply.body?.message)}): paste a current key.` };
      if (reply.status === 404) return { kind: "refused", code: "profile_not_found", field: "credentials.profile", message: `Upload-Post has no profile "${profile}" for this API key.` };
      if (reply.status !== 200) return unreachable(`HTTP ${reply.status}`);
      const socials = obj(obj(reply.body?.profile)?.social_accounts) ?? {};
      const social = obj(socials[platform]);
      const connected = Object.keys(socials).filter((p) => obj(socials[p]));
      if (!social) {
        return {
          kind: "refused",
          code: "platform_not_connected",
          field: "credentials.platform",
          message: `Profile "${profile}" has no ${platform} account connected on Upload-Post${connected.length ? ` (connected: ${connected.join(", ")})` : ""}: connect it there first.`,
        };
      }
      if (social.reauth_required === true) {
        return { kind: "refused", code: "platform_needs_reconnect", field: "credentials.platform", message: `Upload-Post needs ${profile}'s ${platform} account reconnected before it can post.` };
      }
      const names = [social.username, social.handle, social.display_name].map((n) => String(n ?? "").replace(/^@/, "").toLowerCase());
      if (handle && !names.includes(handle.replace(/^@/, "").toLowerCase())) {
        return { kind: "refused", code: "handle_mismatch", field: "handle", message: `${profile}'s ${platform} account on Upload-Post is @${clip(social.username)}, not @${handle}.` };
      }
      return { kind: "connected", credentials: { apiKey, profile, platform } };
    },

    async recentPosts(account, { since, signal }): Promise<RecentPosts> {
      const creds = credentialsOf(account);
      if (!creds) throw new Error(`@${account.handle} has no Upload-Post credentials to read with.`);
      const posts: PlatformPost[] = [];
      // History is the whole key's (every profile and platform), newest first (§6.2).
      for (let page = 1; page <= HISTORY_MAX_PAGES; page++) {
        const reply = await call(creds.apiKey, "GET", `/api/uploadposts/history?page=${page}&limit=${HISTORY_PAGE}`, signal);
        const items = reply.body ? (reply.body.history ?? reply.body.uploads) : undefined;
        if (reply.outcome || reply.status !== 200 || !Array.isArray(items)) {
          throw new Error(`Could not read Upload-Post's history for ${creds.profile}/${creds.platform}: ${reply.outcome?.message ?? `HTTP ${reply.status}`}`);
        }
        for (const raw of items) {
          const item = obj(raw);
          const at = Date.parse(String(item?.upload_timestamp ?? ""));
          if (!item || Number.isNaN(at)) continue;
          if (at < since.getTime()) return { posts, complete: true };
          if (item.profile_username !== creds.profile || item.platform !== creds.platform || item.success !== true) continue;
          const id = Array.isArray(item.platform_post_id) ? str(item.platform_post_id[0]) : str(item.platform_post_id);
          const requestId = str(item.request_id);
          const externalId = id ?? requestId;
          if (!externalId) continue;
          posts.push({ externalId, url: str(item.post_url), createdAt: new Date(at).toISOString(), marker: uploadPostMarker(requestId) });
        }
        if (items.length < HISTORY_PAGE) return { posts, complete: true };
      }
      return { posts, complete: false };
    },

    async readMetrics(account, { signal }): Promise<AccountMetrics> {
      const creds = credentialsOf(account);
      if (!creds) throw new Error(`@${account.handle} has no Upload-Post credentials to read with.`);
      const page = account.credentials.facebookPageId ? `&page_id=${encodeURIComponent(account.credentials.facebookPageId)}` : "";
      const reply = await call(creds.apiKey, "GET", `/api/analytics/${encodeURIComponent(creds.profile)}?platforms=${encodeURIComponent(creds.platform)}${page}`, signal);
      const entry = reply.body ? (obj(reply.body[creds.platform]) ?? obj(obj(reply.body.analytics)?.[creds.platform]) ?? obj(obj(reply.body.platforms)?.[creds.platform])) : undefined;
      const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);
      if (reply.outcome || reply.status !== 200 || !entry || typeof entry.followers !== "number") {
        throw new Error(`Could not read ${creds.profile}/${creds.platform} analytics from Upload-Post: ${reply.outcome?.message ?? `HTTP ${reply.status} ${clip(entry?.message ?? reply.body?.message)}`}`);
      }
      // The platform's own headline figure: reach, views or impressions (primary_impressions_field).
      const primary = typeof entry.primary_impressions_field === "string" ? entry[entry.primary_impressions_field] : undefined;
      const reach = n(primary ?? entry.reach ?? entry.impressions ?? entry.views);
      const engagement = n(entry.likes) + n(entry.comments) + n(entry.shares) + n(entry.saves);
      return { followers: n(entry.followers), reach, engagement, observedAt: new Date(now()).toISOString() };
    },
  };
}

const HISTORY_PAGE = 100;
const HISTORY_MAX_PAGES = 20;

/** Why Upload-Post would not take this post for this platform, before sending; null when it would. */
function checkPost(platform: string, req: PublishRequest): string | null {
  const limit = UPLOAD_POST_TEXT_LIMITS[platform];
  const length = [...req.text].length;
  if (limit && length > limit) return `The text is ${length} characters; ${platform} through Upload-Post takes at most ${limit} in one post.`;
  if (NEEDS_MEDIA.has(platform) && req.mediaUrls.length === 0) return `${platform} posts need a photo or a video; Upload-Post has no text-only ${platform} posts.`;
  if (!req.text.trim() && req.mediaUrls.length === 0) return "The post is empty.";
  if ((platform === "reddit" || platform === "pinterest") && !req.destination) {
    return platform === "reddit" ? "A Reddit post needs a subreddit (the post's destination)." : "A Pinterest pin needs a board (the post's destination).";
  }
  return null;
}

/** The multipart body of one upload to one platform (§3.2, §3.3). */
function uploadForm(creds: UploadPostCredentials, req: PublishRequest, requestId: string): FormData {
  const form = new FormData();
  form.append("user", creds.profile);
  form.append("platform[]", creds.platform);
  if (creds.platform === "reddit") {
    // Reddit: the first line is the title, the rest the body (Pacer has one text).
    const [title, ...rest] = req.text.split("\n");
    form.append("title", title);
    if (rest.join("\n").trim()) form.append("description", rest.join("\n").trim());
  } else {
    form.append("title", req.text);
  }
  form.append("request_id", requestId);
  form.append("async_upload", "true");
  if (req.firstComment) form.append("first_comment", req.firstComment);
  const field = DESTINATION_FIELD[creds.platform];
  if (field && req.destination) form.append(field, creds.platform === "reddit" ? req.destination.replace(/^\/?r\//i, "") : req.destination);
  if (req.mediaUrls.length && VIDEO.test(req.mediaUrls[0])) form.append("video", req.mediaUrls[0]);
  else for (const url of req.mediaUrls) form.append("photos[]", url);
  return form;
}

/** A request-level answer other than an accepted upload (§5.1, §5.2). */
export function classifyAnswer(platform: string, status: number, headers: Headers, body: Body, now = Date.now()): PublishFailure | null {
  const detail = clip(body?.message ?? body?.error);
  const message = `HTTP ${status}: ${detail}`;
  if (status === 401) return { kind: "auth_expired", message: `Upload-Post refused the workspace's API key (${message}): paste a new key.` };
  if (status === 429) {
    const violations = Array.isArray(body?.violations) ? (body.violations as Array<Record<string, unknown>>) : [];
    const cap = violations.find((v) => v?.type === "hard_cap");
    // The daily cap per social account: no reset time is given (rolling 24 h).
    if (cap) return { kind: "rate_limited", retryAfterMs: null, message: `Upload-Post's daily cap for ${platform}: ${clip(cap.message ?? detail)}` };
    const usage = obj(body?.usage);
    if (usage || /monthly limit/i.test(detail)) {
      const reset = Date.parse(String(usage?.last_reset ?? ""));
      const wait = Number.isNaN(reset) ? null : Math.max(0, reset + 30 * 24 * 3600_000 - now);
      return { kind: "rate_limited", retryAfterMs: wait, message: `The Upload-Post plan's monthly uploads are used up (${detail}); upgrade the plan or wait for the next month.` };
    }
    if (/authentication attempts/i.test(detail)) return { kind: "auth_expired", message: `Upload-Post blocked Pacer after invalid keys (${message}): paste a current key.` };
    return { kind: "rate_limited", retryAfterMs: rateLimitDelayMs(headers, now), message };
  }
  if (status === 400 && (body?.error_code === "profile_platform_mapping_invalid" || Array.isArray(body?.invalid_platforms))) {
    return { kind: "auth_expired", message: `${platform} is no longer connected to the Upload-Post profile (${detail}): reconnect it on Upload-Post.` };
  }
  if (status === 403 && body?.error_code === "PROFILE_BLOCKED") return { kind: "restricted", message: `Upload-Post blocked the profile (${detail}).` };
  // The profile (or the key's user) is gone: reconnecting creates or picks it again.
  if (status === 404) return { kind: "auth_expired", message: `Upload-Post has no such profile (${detail}): reconnect the account.` };
  // Undocumented; may be a job in progress under our key: look it up rather than guess.
  if (status === 409) return { kind: "unknown", message };
  return classifyStatus(status, headers, detail, now);
}

/**
 * A platform's own failure inside a result (`success: false`, `error`, sometimes `error_code`).
 * Upload-Post documents no stable codes for these (§5.1): the codes third parties saw are read
 * first, then the text; anything else is permanent ("failed permanently").
 */
export function classifyPlatformError(platform: string, result: { error?: string; error_code?: string; message?: string }, destination: string | null): PublishFailure {
  const text = String(result.error ?? result.message ?? "");
  const code = String(result.error_code ?? "");
  const message = `${platform} through Upload-Post: ${clip(text) || "failed"}`;
  const lower = text.toLowerCase();
  const dest = destination?.replace(/^\/?r\//i, "").toLowerCase();
  if (code === "reached_active_user_cap" || lower.includes("reached_active_user_cap")) return { kind: "rate_limited", retryAfterMs: USER_CAP_WAIT_MS, message };
  if (dest && (lower.includes(dest) || /subreddit|community|board/.test(lower))) return { kind: "destination_rejected", message };
  if (["account_reauth_required", "tiktok_reconnect_required", "profile_platform_mapping_invalid"].includes(code) || /expired|reconnect|re-?auth|unauthori[sz]ed|not connected|invalid token/.test(lower)) {
    return { kind: "auth_expired", message: `${message} (reconnect it on Upload-Post)` };
  }
  if (["account_restricted", "account_checkpoint_required"].includes(code) || /restricted|suspended|checkpoint|blocked|disabled/.test(lower)) return { kind: "restricted", message };
  if (code === "instagram_publishing_limit_reached") return { kind: "rate_limited", retryAfterMs: null, message };
  return { kind: "permanent", message };
}

/** Waits ms, or until the signal fires; false when the signal fired. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** One connected platform of a profile, as the connect flow offers it to become a Pacer account. */
export interface UploadPostSocialAccount {
  platform: string;
  handle: string;
  displayName: string;
  /** Upload-Post says the platform's token is dead: reconnect it there (a new connect link). */
  needsReconnect: boolean;
}

/** A profile's `social_accounts`: the connected platforms Pacer can publish to, with their names. */
function socialAccountsOf(profile: Record<string, unknown> | undefined): UploadPostSocialAccount[] {
  const socials = obj(profile?.social_accounts) ?? {};
  const accounts: UploadPostSocialAccount[] = [];
  for (const [platform, raw] of Object.entries(socials)) {
    const s = obj(raw);
    if (!s || !(UPLOAD_POST_PLATFORMS as readonly string[]).includes(platform)) continue;
    const handle = (str(s.username) ?? str(s.handle) ?? str(s.display_name) ?? "").replace(/^@/, "");
    if (!handle) continue;
    accounts.push({ platform, handle, displayName: str(s.display_name) ?? handle, needsReconnect: s.reauth_required === true });
  }
  return accounts;
}

export type SetupResult<T> = { ok: true; value: T } | { ok: false; code: string; field: string | null; message: string };

/**
 * The steps of "Connect Upload-Post" the app's route handlers call (docs/platforms/upload-post.md
 * §2.4): check the workspace's key, make sure Pacer's profile exists, hand the user a connect link
 * (Upload-Post's hosted page runs each platform's OAuth), and list what the profile has connected,
 * each of which `connect` turns into a Pacer account. None of them publishes anything.
 */
export function createUploadPostSetup(opts: Pick<UploadPostConnectorOptions, "baseUrl" | "allowedHosts" | "fetch"> = {}) {
  const allowed = opts.allowedHosts instanceof Set ? opts.allowedHosts : parseAllowedHosts(opts.allowedHosts as string | string[] | undefined);
  const through = guardedFetch(opts.fetch ?? fetch, allowed);
  const base = (opts.baseUrl ?? UPLOAD_POST_URL).replace(/\/+$/, "");

  async function call(apiKey: string, method: string, path: string, signal: AbortSignal, json?: unknown) {
    const init: RequestInit = { method, headers: { authorization: `Apikey ${apiKey}`, ...(json === undefined ? {} : { "content-type": "application/json" }) }, body: json === undefined ? undefined : JSON.stringify(json) };
    const sent = await send(through, `${base}${path}`, init, signal);
    if (sent.outcome) return { status: 0, body: undefined, failure: sent.outcome.message };
    return { status: sent.response.status, body: obj(await readJson(sent.response)), failure: null };
  }
  const refused = (status: number, body: Body, failure: string | null): SetupResult<never> => {
    if (failure !== null || status === 0) return { ok: false, code: "platform_unreachable", field: null, message: `Pacer could not reach Upload-Post (${failure}); try again in a moment.` };
    if (status === 401) return { ok: false, code: "api_key_invalid", field: "credentials.apiKey", message: `Upload-Post does not accept this API key (${clip(body?.message)}).` };
    return { ok: false, code: String(body?.error_code ?? `upload_post_${status}`), field: null, message: `Upload-Post answered HTTP ${status}: ${clip(body?.message ?? body?.error)}` };
  };

  return {
    /** GET /api/uploadposts/me: the key works; its plan and account email. */
    async checkKey(apiKey: string, signal: AbortSignal): Promise<SetupResult<{ email: string | null; plan: string | null }>> {
      const r = await call(apiKey, "GET", "/api/uploadposts/me", signal);
      if (r.status !== 200) return refused(r.status, r.body, r.failure);
      return { ok: true, value: { email: str(r.body?.email) ?? null, plan: str(r.body?.plan) ?? null } };
    },
    /** POST /api/uploadposts/users; an existing profile (409) is fine. */
    async ensureProfile(apiKey: string, username: string, signal: AbortSignal): Promise<SetupResult<{ created: boolean }>> {
      const r = await call(apiKey, "POST", "/api/uploadposts/users", signal, { username });
      if (r.status === 201 || r.status === 200) return { ok: true, value: { created: true } };
      if (r.status === 409) return { ok: true, value: { created: false } };
      if (r.status === 403 && r.body?.error_code === "PROFILE_LIMIT_REACHED") {
        return { ok: false, code: "profile_limit_reached", field: null, message: "The Upload-Post plan has no room for another profile: upgrade it or free one." };
      }
      return refused(r.status, r.body, r.failure);
    },
    /** POST /api/uploadposts/users/generate-jwt: a single-use link, valid 48 h, to Upload-Post's connect page. */
    async connectLink(apiKey: string, username: string, redirectUrl: string, signal: AbortSignal): Promise<SetupResult<{ url: string }>> {
      const r = await call(apiKey, "POST", "/api/uploadposts/users/generate-jwt", signal, { username, redirect_url: redirectUrl, show_calendar: false });
      const url = str(r.body?.access_url);
      if (r.status === 200 && url && /^https?:\/\//.test(url)) return { ok: true, value: { url } };
      return refused(r.status, r.body, r.failure);
    },
    /** GET /api/uploadposts/users/{username}: the platforms connected to the profile. */
    async connectedAccounts(apiKey: string, username: string, signal: AbortSignal): Promise<SetupResult<UploadPostSocialAccount[]>> {
      const r = await call(apiKey, "GET", `/api/uploadposts/users/${encodeURIComponent(username)}`, signal);
      if (r.status === 404) return { ok: false, code: "profile_not_found", field: "credentials.profile", message: `Upload-Post has no profile "${username}" for this key.` };
      if (r.status !== 200) return refused(r.status, r.body, r.failure);
      return { ok: true, value: socialAccountsOf(obj(r.body?.profile)) };
    },
    /** GET /api/uploadposts/users: every profile of the key, each with its connected platforms. */
    async profiles(apiKey: string, signal: AbortSignal): Promise<SetupResult<{ username: string; accounts: UploadPostSocialAccount[] }[]>> {
      const r = await call(apiKey, "GET", "/api/uploadposts/users", signal);
      if (r.status !== 200) return refused(r.status, r.body, r.failure);
      const list = Array.isArray(r.body?.profiles) ? (r.body.profiles as unknown[]) : [];
      const profiles = list.map(obj).filter((p) => p && str(p.username)) as Record<string, unknown>[];
      return { ok: true, value: profiles.map((p) => ({ username: str(p.username)!, accounts: socialAccountsOf(p) })) };
    },
  };
}
