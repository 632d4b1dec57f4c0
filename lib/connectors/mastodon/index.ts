// The Mastodon connector (docs/platforms/mastodon.md). Each account lives on its own instance, named
// by its user, so every request goes through Pacer's outbound guard; a publish is sent once
// (singleSendFetch) and carries an Idempotency-Key derived from the queue item's key, so a re-send
// within the hour gets the first status back instead of a second one. Lookup answers by reading the
// account's own statuses (Mastodon keeps no marker on a status), never by sending again. Every
// answer's X-RateLimit-* headers are returned with the outcome so the engine can slow down before a 429.
import { classifyStatus, isoAt, readJson, send } from "../http.ts";
import { guardedFetch, parseAllowedHosts, type AllowedHosts } from "../outbound.ts";
import { singleSendFetch } from "../transport.ts";
import type {
  AccountMetrics,
  Connection,
  Connector,
  ConnectorAccount,
  Lookup,
  PlatformPost,
  PublishFailure,
  PublishOutcome,
  PublishRequest,
  RateLimitBudget,
  RecentPosts,
  SentAttempt,
} from "../types.ts";
import { MASTODON_VISIBILITIES } from "../types.ts";
import { instanceOrigin } from "./oauth.ts";
import { DEFAULT_CHARACTERS_RESERVED_PER_URL, DEFAULT_MAX_CHARACTERS, statusLength } from "./text.ts";

export { authorizeUrl, createMastodonOAuth, createPkce, instanceOrigin, MASTODON_SCOPES } from "./oauth.ts";
export { statusLength } from "./text.ts";

export interface MastodonConnectorOptions {
  /** Internal hosts the operator allows (PACER_ALLOWED_HOSTS), e.g. the local fake instance. */
  allowedHosts?: string | readonly string[] | AllowedHosts;
  /** For reads (lookups, metrics, instance limits, media downloads and polls); connection reuse is fine for them. */
  fetch?: typeof fetch;
  /** For creating statuses and uploading media: must never re-send on its own (lib/connectors/transport.ts). Defaults to `fetch` when given, else the runtime's single-send fetch. */
  publishFetch?: typeof fetch;
  now?: () => number;
  /** The client_name Pacer registers its app under; statuses show it to their author, and lookup prefers it among matches. */
  appName?: string;
  /** Waits between polls of media still processing (ms); the last repeats until the call's time runs out. */
  mediaPollMs?: number[];
}

/** An instance's limits for a status (GET /api/v2/instance → configuration.statuses; research §6). */
export interface InstanceLimits {
  maxCharacters: number;
  maxMediaAttachments: number;
  charactersReservedPerUrl: number;
  imageSizeLimit: number;
  videoSizeLimit: number;
}

export interface MastodonConnector extends Connector {
  /** The instance's limits (cached a day), for the composer and the limit table; defaults when it cannot be read. */
  instanceLimits(instance: string, opts: { signal: AbortSignal }): Promise<InstanceLimits>;
}

/** Status as the connector reads it (docs: https://docs.joinmastodon.org/entities/Status/). */
interface StatusBody {
  id?: unknown;
  url?: unknown;
  created_at?: unknown;
  in_reply_to_id?: unknown;
  content?: unknown;
  spoiler_text?: unknown;
  application?: { name?: unknown } | null;
  media_attachments?: unknown[];
  favourites_count?: unknown;
  reblogs_count?: unknown;
  replies_count?: unknown;
}

type Answer =
  | { status: number; headers: Headers; body: unknown; budget: RateLimitBudget | undefined; outcome?: undefined }
  | { outcome: PublishFailure; status?: undefined; headers?: undefined; body?: undefined; budget?: undefined };

interface Session {
  instance: string;
  token: string;
  accountId: string;
}

const DEFAULT_LIMITS: InstanceLimits = {
  maxCharacters: DEFAULT_MAX_CHARACTERS,
  maxMediaAttachments: 4,
  charactersReservedPerUrl: DEFAULT_CHARACTERS_RESERVED_PER_URL,
  imageSizeLimit: 16_777_216,
  videoSizeLimit: 103_809_024,
};
const LIMITS_TTL_MS = 24 * 3_600_000;
/** A failed read of the limits is retried after this, not on every publish. */
const LIMITS_RETRY_MS = 60_000;
/** Statuses a page holds at most (docs: methods/accounts#statuses, limit max 40). */
const PAGE_SIZE = 40;
const LOOKUP_MAX_PAGES = 10;
const RECENT_POSTS_MAX_PAGES = 25;
/** Lookups read statuses back to this long before the attempt was sent (clocks differ). */
const CLOCK_MARGIN_MS = 5 * 60_000;
/** Without a send time, how far back a lookup reads: an Idempotency-Key lives an hour, a verification comes sooner. */
const LOOKUP_DEFAULT_WINDOW_MS = 24 * 3_600_000;
/** At most this many /source reads per lookup, for statuses whose HTML differs from what was sent (mentions, folded newlines); past it the lookup is unavailable. */
const SOURCE_CHECKS = 10;
const DEFAULT_POLL_MS = [500, 1_000, 2_000, 4_000];
/** Replies after the post in one thread (posts.thread's cap: a thread of 25). */
const MAX_THREAD_REPLIES = 24;

const clip = (text: unknown) => String(text ?? "").slice(0, 300);

/**
 * Credentials it reads: `instance` (the instance's origin), `accessToken`, `accountId` (the
 * account's id on the instance, from verify_credentials at connect). `clientId` and `clientSecret`
 * are kept for revoking on disconnect.
 */
export function createMastodonConnector(opts: MastodonConnectorOptions = {}): MastodonConnector {
  const allowed = opts.allowedHosts instanceof Set ? opts.allowedHosts : parseAllowedHosts(opts.allowedHosts as string | string[] | undefined);
  const reads = guardedFetch(opts.fetch ?? fetch, allowed);
  const now = opts.now ?? Date.now;
  const appName = opts.appName ?? "Pacer";
  const pollMs = opts.mediaPollMs ?? DEFAULT_POLL_MS;
  const limitsCache = new Map<string, { at: number; ttl: number; limits: InstanceLimits | null }>();

  let publishFetch: typeof fetch | undefined;
  function sendingOnce(): { fetch: typeof fetch } | { refused: string } {
    try {
      publishFetch ??= guardedFetch(opts.publishFetch ?? opts.fetch ?? singleSendFetch(), allowed);
      return { fetch: publishFetch };
    } catch (error) {
      return { refused: (error as Error).message };
    }
  }

  function session(account: ConnectorAccount): Session | PublishFailure {
    const { instance, accessToken, accountId } = account.credentials;
    const origin = instance ? instanceOrigin(instance) : null;
    if (!origin || !accessToken || !accountId) return { kind: "auth_expired", message: `@${account.handle} has no Mastodon token (reconnect the account).` };
    return { instance: origin, token: accessToken, accountId };
  }

  async function call(
    s: Pick<Session, "instance"> & { token?: string },
    method: string,
    path: string,
    signal: AbortSignal,
    init: { json?: unknown; form?: FormData; headers?: Record<string, string> } = {},
    through = reads,
  ): Promise<Answer> {
    const headers: Record<string, string> = { accept: "application/json", ...init.headers };
    if (s.token) headers.authorization = `Bearer ${s.token}`;
    let body: BodyInit | undefined;
    if (init.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(init.json);
    } else if (init.form) body = init.form;
    const sent = await send(through, new URL(path, s.instance).href, { method, headers, body }, signal);
    if (sent.outcome) return sent;
    const parsed = await readJson(sent.response);
    return { status: sent.response.status, headers: sent.response.headers, body: parsed, budget: readBudget(sent.response.headers) };
  }

  async function instanceLimits(instance: string, { signal }: { signal: AbortSignal }): Promise<InstanceLimits> {
    return (await readLimits(instance, signal)) ?? DEFAULT_LIMITS;
  }

  /** The instance's limits, or null when they could not be read (the instance will judge the text itself). */
  async function readLimits(instance: string, signal: AbortSignal): Promise<InstanceLimits | null> {
    const cached = limitsCache.get(instance);
    if (cached && now() - cached.at < cached.ttl) return cached.limits;
    let limits: InstanceLimits | null = null;
    const v2 = await call({ instance }, "GET", "/api/v2/instance", signal);
    if (v2.status === 200) limits = parseLimits((v2.body as { configuration?: unknown })?.configuration);
    else if (v2.status === 404) {
      // Before 4.0: /api/v1/instance carries `configuration` from 3.4.2; older ones have the default 500.
      const v1 = await call({ instance }, "GET", "/api/v1/instance", signal);
      if (v1.status === 200) limits = parseLimits((v1.body as { configuration?: unknown })?.configuration) ?? DEFAULT_LIMITS;
    }
    limitsCache.set(instance, { at: now(), ttl: limits ? LIMITS_TTL_MS : LIMITS_RETRY_MS, limits });
    return limits;
  }

  /**
   * Downloads one media file and uploads it (POST /api/v2/media), polling until processed (docs:
   * https://docs.joinmastodon.org/methods/media/). The upload is a POST like the status: it goes
   * through the single-send fetch (`through`), so the HTTP layer never sends it twice on its own.
   */
  async function uploadMedia(s: Session, mediaUrl: string, limits: InstanceLimits, through: typeof fetch, signal: AbortSignal): Promise<{ id: string; budget?: RateLimitBudget } | { outcome: PublishFailure }> {
    // Nothing is posted until the status is created, so every failure here is safe to retry:
    // a lost upload answer only leaves an unattached file, which the instance cleans up.
    const notPosted = (o: PublishFailure): { outcome: PublishFailure } => ({ outcome: o.kind === "unknown" ? { kind: "retryable", message: `media not uploaded: ${o.message}` } : o });
    const got = await send(reads, mediaUrl, {}, signal);
    if (got.outcome) return notPosted(got.outcome);
    if (got.response.status !== 200) {
      await got.response.body?.cancel().catch(() => {});
      return { outcome: { kind: "permanent", message: `could not download the media ${clip(mediaUrl)}: HTTP ${got.response.status}` } };
    }
    const type = got.response.headers.get("content-type")?.split(";")[0].trim() || "application/octet-stream";
    const cap = type.startsWith("image/") && type !== "image/gif" ? limits.imageSizeLimit : limits.videoSizeLimit;
    let bytes: Uint8Array | undefined;
    try {
      bytes = await readBytes(got.response, cap);
    } catch (error) {
      return { outcome: { kind: "retryable", message: `could not download the media ${clip(mediaUrl)}: ${(error as Error).message}` } };
    }
    if (!bytes) return { outcome: { kind: "permanent", message: `the media ${clip(mediaUrl)} is larger than the instance accepts (${cap} bytes)` } };
    const form = new FormData();
    form.append("file", new Blob([bytes as BlobPart], { type }), new URL(mediaUrl).pathname.split("/").pop() || "media");
    const up = await call(s, "POST", "/api/v2/media", signal, { form }, through);
    if (up.outcome) return notPosted(up.outcome);
    const body = up.body as { id?: unknown; url?: unknown; error?: unknown } | undefined;
    if ((up.status === 200 || up.status === 202) && typeof body?.id === "string") {
      if (up.status === 200 && body.url) return { id: body.id, budget: up.budget };
      return pollMedia(s, body.id, signal);
    }
    if (up.status === 500) return { outcome: { kind: "retryable", message: `the instance failed to process the media: ${clip(body?.error)}` } };
    return notPosted(classifyAnswer(up.status, up.headers, errorText(up.body), now()));
  }

  /** GET /api/v1/media/:id: 206 while processing, 200 when done (docs: methods/media#get). */
  async function pollMedia(s: Session, id: string, signal: AbortSignal): Promise<{ id: string; budget?: RateLimitBudget } | { outcome: PublishFailure }> {
    for (let i = 0; ; i++) {
      if (!(await pause(pollMs[Math.min(i, pollMs.length - 1)], signal))) {
        return { outcome: { kind: "retryable", message: "the media was still processing when the call's time ran out; nothing was posted" } };
      }
      const r = await call(s, "GET", `/api/v1/media/${encodeURIComponent(id)}`, signal);
      if (r.outcome && signal.aborted) return { outcome: { kind: "retryable", message: "the media was still processing when the call's time ran out; nothing was posted" } };
      if (r.outcome) return { outcome: r.outcome.kind === "unknown" ? { kind: "retryable", message: `media not confirmed: ${r.outcome.message}` } : r.outcome };
      if (r.status === 200) return { id, budget: r.budget };
      if (r.status === 206) continue;
      if (r.status === 404 || r.status === 422) return { outcome: { kind: "permanent", message: `the instance could not process the media: HTTP ${r.status}: ${clip(errorText(r.body))}` } };
      const failure = classifyAnswer(r.status, r.headers, errorText(r.body), now());
      return { outcome: failure.kind === "unknown" ? { kind: "retryable", message: failure.message } : failure };
    }
  }

  /** POST /api/v1/statuses (docs: https://docs.joinmastodon.org/methods/statuses/#create), sent once, with its Idempotency-Key. */
  async function createStatus(s: Session, body: Record<string, unknown>, key: string, through: typeof fetch, signal: AbortSignal): Promise<PublishOutcome> {
    const r = await call(s, "POST", "/api/v1/statuses", signal, { json: body, headers: { "idempotency-key": key } }, through);
    if (r.outcome) return r.outcome;
    const status = r.body as StatusBody | undefined;
    const rateLimit = r.budget ? { rateLimit: r.budget } : {};
    if (r.status === 200) {
      return typeof status?.id === "string"
        ? { kind: "posted", externalId: status.id, url: typeof status.url === "string" ? status.url : undefined, ...rateLimit }
        : { kind: "unknown", message: "HTTP 200 but the status's id could not be read", ...rateLimit };
    }
    if (r.status === 404) {
      // A reply's parent is gone; for a root, the only 404 is a same-key retry whose first status
      // was deleted: it landed, so it must not be posted again (research §2.1).
      return body.in_reply_to_id
        ? { kind: "permanent", message: "the status this replies to no longer exists", ...rateLimit }
        : { kind: "unknown", message: "Mastodon says a status with this item's key was posted and has since been deleted; it is not posted again", ...rateLimit };
    }
    return { ...classifyAnswer(r.status, r.headers, errorText(r.body), now()), ...rateLimit };
  }

  /**
   * Reads the account's statuses newest first (GET /api/v1/accounts/:id/statuses, Link rel="next"),
   * calling `visit` for each until it returns "stop" or they are older than `since`.
   */
  async function readStatuses(
    s: Session,
    since: number,
    maxPages: number,
    signal: AbortSignal,
    visit: (status: StatusBody) => Promise<"stop" | void> | "stop" | void,
  ): Promise<{ complete: boolean; stopped: boolean } | { failure: string }> {
    let path = `/api/v1/accounts/${encodeURIComponent(s.accountId)}/statuses?limit=${PAGE_SIZE}&exclude_reblogs=true`;
    for (let page = 0; page < maxPages; page++) {
      const r = await call(s, "GET", path, signal);
      if (r.outcome) return { failure: r.outcome.message };
      if (r.status !== 200 || !Array.isArray(r.body)) return { failure: `HTTP ${r.status}: ${clip(errorText(r.body) ?? "unreadable answer")}` };
      for (const status of r.body as StatusBody[]) {
        const at = typeof status?.created_at === "string" ? Date.parse(status.created_at) : NaN;
        if (Number.isNaN(at) || typeof status.id !== "string") continue;
        if (at < since) return { complete: true, stopped: false };
        if ((await visit(status)) === "stop") return { complete: true, stopped: true };
      }
      const next = nextLink(r.headers.get("link"), s.instance);
      if (r.body.length < PAGE_SIZE || !next) return { complete: true, stopped: false };
      path = next;
    }
    return { complete: false, stopped: false };
  }

  async function lookup(account: ConnectorAccount, _key: string, { signal, sent }: { signal: AbortSignal; sent?: SentAttempt }): Promise<Lookup> {
    const s = session(account);
    if ("kind" in s) return { kind: "unavailable", message: s.message };
    // 1. An id an earlier answer carried: one read settles it (a deleted status still landed).
    if (sent?.externalId) {
      const r = await call(s, "GET", `/api/v1/statuses/${encodeURIComponent(sent.externalId)}`, signal);
      if (r.outcome) return { kind: "unavailable", message: r.outcome.message };
      const status = r.body as StatusBody | undefined;
      if (r.status === 200) return { kind: "found", externalId: sent.externalId, url: typeof status?.url === "string" ? status.url : undefined };
      if (r.status === 404) return { kind: "found", externalId: sent.externalId };
      return { kind: "unavailable", message: `HTTP ${r.status}: ${clip(errorText(r.body))}` };
    }
    // Mastodon keeps no marker on a status (the Idempotency-Key lives only in its Redis): the status
    // can only be recognised by what was sent.
    if (!sent) return { kind: "unavailable", message: "Mastodon keeps no key on a status: a lookup needs what the attempt sent (its text)" };
    // 2. The account's own statuses since the attempt was sent: a root with the same media count and
    // the same text, that no other item of the account is recorded with. The rendered HTML is not
    // the text: Mastodon folds any run of blank lines into one paragraph break and rewrites mentions
    // and links. A status is taken on its HTML alone only when no other text renders the same (equal
    // to ours, which has no blank line, mention, hashtag or link); every other candidate is confirmed
    // by /source, the text as posted. Whatever cannot be settled (a /source unread, too many to check,
    // two matches, a page unread) is `unavailable`: a wrong `not_found` is a duplicate once
    // Mastodon's hour-long Idempotency-Key is gone.
    const sentAt = sent.sentAt ? Date.parse(sent.sentAt) : NaN;
    const since = Number.isNaN(sentAt) ? now() - LOOKUP_DEFAULT_WINDOW_MS : sentAt - CLOCK_MARGIN_MS;
    const want = normalize(sent.text);
    const wantLoose = loose(sent.text);
    // Mentions, hashtags and links render differently from the text: any status may be it.
    const rewritten = /[@#]|https?:\/\//.test(sent.text);
    const htmlSettles = !rewritten && !/\n\s*\n/.test(want);
    const others = new Set(sent.excludeExternalIds ?? []);
    const matches: StatusBody[] = [];
    let sourceChecks = 0;
    let unsettled: string | null = null;
    const read = await readStatuses(s, since, LOOKUP_MAX_PAGES, signal, async (status) => {
      if (status.in_reply_to_id || others.has(String(status.id))) return;
      if (sent.mediaCount !== undefined && (status.media_attachments?.length ?? 0) !== sent.mediaCount) return;
      // The post's own content warning, if it was given one (a status with another is not it).
      // Compared as Mastodon keeps it (stripped), or a warning with spaces around it would never match.
      if ((typeof status.spoiler_text === "string" ? status.spoiler_text : "").trim() !== (sent.options?.mastodon?.contentWarning ?? "").trim()) return;
      const shown = htmlToText(String(status.content ?? ""));
      if (htmlSettles && normalize(shown) === want) return void matches.push(status);
      if (!rewritten && loose(shown) !== wantLoose) return;
      if (sourceChecks >= SOURCE_CHECKS) {
        unsettled = `more than ${SOURCE_CHECKS} statuses needed their source read`;
        return;
      }
      sourceChecks++;
      const src = await call(s, "GET", `/api/v1/statuses/${encodeURIComponent(String(status.id))}/source`, signal);
      if (src.status === 200 && normalize(String((src.body as { text?: unknown })?.text ?? "")) === want) matches.push(status);
      else if (src.status !== 200) unsettled = `could not read a status's source: ${src.outcome?.message ?? `HTTP ${src.status}`}`;
    });
    if ("failure" in read) return { kind: "unavailable", message: `could not read @${account.handle}'s statuses: ${read.failure}` };
    if (!read.complete) return { kind: "unavailable", message: `read ${LOOKUP_MAX_PAGES * PAGE_SIZE} statuses without reaching the attempt's send time` };
    if (unsettled) return { kind: "unavailable", message: unsettled };
    // The app name only chooses among matches, never rules one out: apps are kept per instance and
    // redirect URI under the name they were registered with, so after PACER_MASTODON_APP_NAME changes
    // Pacer's own statuses carry the old one. (A status shows its app's name and website only, no
    // client id to compare.) One match from Pacer's app is ours; one from another app is either
    // Pacer's under an earlier name or the person's own post: a human decides, nothing is re-sent.
    const ours = matches.filter((m) => m.application?.name === appName);
    if (ours.length === 1) return { kind: "found", externalId: String(ours[0].id), url: typeof ours[0].url === "string" ? ours[0].url : undefined };
    if (ours.length > 1) return { kind: "unavailable", message: `${ours.length} statuses from Pacer's app have this text and none is recorded for another item: which one is this attempt's is unclear` };
    if (matches.length > 0) {
      const apps = [...new Set(matches.map((m) => (typeof m.application?.name === "string" ? `"${clip(m.application.name)}"` : "no app")))].join(", ");
      return { kind: "unavailable", message: `a status with this text was made by another app (${apps}), not "${appName}": Pacer's under an earlier app name, or posted by hand` };
    }
    return { kind: "not_found" };
  }

  /**
   * The parts after a post found live (`landed`): each is looked for among the post's descendants
   * (GET /api/v1/statuses/:id/context, docs: https://docs.joinmastodon.org/methods/statuses/#context)
   * as a status of this account replying to the part before it with the part's text; only a part not
   * there is sent, with its own Idempotency-Key (which also answers a re-send within its hour). The
   * engine calls this from a verification, after the publish's deadline and margin, so an absent
   * part is not still on its way. Whatever cannot be settled is `unknown`.
   */
  async function finishParts(
    s: Session,
    req: PublishRequest,
    rootId: string,
    replies: string[],
    shared: Record<string, string>,
    through: typeof fetch,
    signal: AbortSignal,
  ): Promise<PublishOutcome> {
    if (replies.length === 0) return { kind: "posted", externalId: rootId };
    const context = await call(s, "GET", `/api/v1/statuses/${encodeURIComponent(rootId)}/context`, signal);
    if (context.outcome) return { kind: "unknown", message: `could not read the thread of ${rootId}: ${context.outcome.message}` };
    if (context.status === 404) return { kind: "permanent", message: `the post ${rootId} no longer exists, so its thread cannot be finished` };
    const descendants = (context.body as { descendants?: unknown } | undefined)?.descendants;
    if (context.status !== 200 || !Array.isArray(descendants)) return { kind: "unknown", message: `could not read the thread of ${rootId}: HTTP ${context.status}: ${clip(errorText(context.body))}` };
    const ours = (descendants as Array<StatusBody & { account?: { id?: unknown } }>).filter((d) => d?.account?.id === s.accountId && typeof d.id === "string");
    let parent = rootId;
    let rateLimit: RateLimitBudget | undefined;
    let sent = false;
    for (const [i, text] of replies.entries()) {
      // Once a part had to be sent, none after it can exist (each would reply to it).
      if (!sent) {
        const candidates = ours.filter((d) => d.in_reply_to_id === parent);
        const matches: StatusBody[] = [];
        for (const candidate of candidates) {
          const same = await partMatches(s, candidate, text, signal);
          if (typeof same === "object") return { kind: "unknown", message: `could not tell whether part ${i + 2} is there: ${same.unsettled}` };
          if (same) matches.push(candidate);
        }
        if (matches.length > 1) return { kind: "unknown", message: `${matches.length} replies to ${parent} have part ${i + 2}'s text; which is the thread's is unclear` };
        if (matches.length === 1) {
          parent = String(matches[0].id);
          continue;
        }
      }
      const reply = await createStatus(s, { status: text, in_reply_to_id: parent, ...shared }, await partKey(req.idempotencyKey, i + 1), through, signal);
      rateLimit = reply.rateLimit ?? rateLimit;
      if (reply.kind !== "posted") return { ...reply, message: `part ${i + 2} of ${replies.length + 1}: ${reply.message}` } as PublishOutcome;
      sent = true;
      parent = reply.externalId;
    }
    return { kind: "posted", externalId: rootId, ...(rateLimit ? { rateLimit } : {}) };
  }

  /** Whether a status is a part with this text: its HTML where that settles it, else its /source (as lookup does). */
  async function partMatches(s: Session, status: StatusBody, text: string, signal: AbortSignal): Promise<boolean | { unsettled: string }> {
    const want = normalize(text);
    const rewritten = /[@#]|https?:\/\//.test(text);
    const shown = htmlToText(String(status.content ?? ""));
    if (!rewritten && !/\n\s*\n/.test(want) && normalize(shown) === want) return true;
    if (!rewritten && loose(shown) !== loose(text)) return false;
    const src = await call(s, "GET", `/api/v1/statuses/${encodeURIComponent(String(status.id))}/source`, signal);
    if (src.status === 200) return normalize(String((src.body as { text?: unknown })?.text ?? "")) === want;
    return { unsettled: `could not read a status's source: ${src.outcome?.message ?? `HTTP ${src.status}`}` };
  }

  return {
    platform: "mastodon",
    instanceLimits,
    lookup,

    postsInParts: true,

    /**
     * The post, then its thread (or first comment) as replies, each to the one before, each with its
     * own Idempotency-Key (`<item key>:reply:<n>`), all with the post's visibility and content
     * warning. Once the post is live the outcome is never a refusal: a part that fails makes it
     * `unknown`, and the engine's lookup finds the post and publishes again with `landed`, which
     * sends only the parts not there (finishParts).
     */
    async publish(req, { signal }) {
      const s = session(req.account);
      if ("kind" in s) return s;
      if (req.destination) return { kind: "permanent", message: "Mastodon has no destinations: an account posts to its own profile" };
      const parts = replyTexts(req);
      if ("refused" in parts) return { kind: "permanent", message: parts.refused };
      const options = req.options?.mastodon ?? {};
      // Mastodon strips the warning before saving it (Status#prepare_contents): send it as it will be kept.
      const contentWarning = (options.contentWarning ?? "").trim();
      if (options.visibility !== undefined && !(MASTODON_VISIBILITIES as readonly string[]).includes(options.visibility)) {
        return { kind: "permanent", message: `"${clip(options.visibility)}" is not a Mastodon visibility; use one of ${MASTODON_VISIBILITIES.join(", ")}` };
      }
      const once = sendingOnce();
      if ("refused" in once) return { kind: "retryable", message: `not sent: ${once.refused}` };
      // The instance's own limit, so an over-long text is refused before anything is sent; if it
      // cannot be read, the instance judges (422, permanent). The content warning counts in every part.
      const limits = await readLimits(s.instance, signal);
      if (limits) {
        const named: Array<[string, string]> = [["text", req.text], ...parts.replies.map((t, i): [string, string] => [req.thread?.length ? `thread's part ${i + 2}` : "first comment", t])];
        for (const [what, text] of named) {
          const length = statusLength(text, contentWarning, limits.charactersReservedPerUrl);
          if (length > limits.maxCharacters) {
            return { kind: "permanent", message: `The ${what} is ${length} characters${contentWarning ? " with the content warning" : ""}; ${s.instance.replace(/^https?:\/\//, "")} allows ${limits.maxCharacters} (nothing was sent).` };
          }
        }
        if (req.mediaUrls.length > limits.maxMediaAttachments) {
          return { kind: "permanent", message: `${req.mediaUrls.length} media files; the instance allows ${limits.maxMediaAttachments} per post (nothing was sent).` };
        }
      }
      // Every part carries the post's visibility and warning: a reply more public than the post
      // would show the thread's later parts to people the first was hidden from.
      const shared = { ...(options.visibility ? { visibility: options.visibility } : {}), ...(contentWarning ? { spoiler_text: contentWarning } : {}) };
      if (req.landed) return finishParts(s, req, req.landed.externalId, parts.replies, shared, once.fetch, signal);

      const mediaIds: string[] = [];
      for (const url of req.mediaUrls) {
        const uploaded = await uploadMedia(s, url, limits ?? DEFAULT_LIMITS, once.fetch, signal);
        if ("outcome" in uploaded) return uploaded.outcome;
        mediaIds.push(uploaded.id);
      }
      const key = await idempotencyKeyFor(req.idempotencyKey);
      const root = await createStatus(s, { status: req.text, ...(mediaIds.length ? { media_ids: mediaIds } : {}), ...shared }, key, once.fetch, signal);
      if (root.kind !== "posted" || parts.replies.length === 0) return root;
      let parent = root.externalId;
      let rateLimit = root.rateLimit;
      for (const [i, text] of parts.replies.entries()) {
        const reply = await createStatus(s, { status: text, in_reply_to_id: parent, ...shared }, await partKey(req.idempotencyKey, i + 1), once.fetch, signal);
        rateLimit = reply.rateLimit ?? rateLimit;
        if (reply.kind !== "posted") {
          // The post is live: never a refusal (the engine would fail or re-send it). Verification
          // finds the post and finishes the rest.
          return {
            kind: "unknown",
            message: `posted as ${root.externalId}, but part ${i + 2} of ${parts.replies.length + 1} was not (${reply.kind}: ${reply.message})`,
            externalId: root.externalId,
            ...(root.url ? { url: root.url } : {}),
            ...(rateLimit ? { rateLimit } : {}),
          };
        }
        parent = reply.externalId;
      }
      return { ...root, ...(rateLimit ? { rateLimit } : {}) };
    },

    /**
     * `credentials`: `instance` and `accessToken` from the code exchange (createMastodonOAuth), plus
     * `clientId`/`clientSecret` to keep for revoking. Verifies the token (verify_credentials) and adds
     * the account's id. `handle` may be empty, the username, or username@instance.
     */
    async connect({ handle, credentials }, { signal }): Promise<Connection> {
      const instance = instanceOrigin(credentials.instance ?? "");
      if (!instance) return { kind: "refused", code: "instance_invalid", field: "credentials.instance", message: "Name the Mastodon instance, e.g. mastodon.social." };
      if (!credentials.accessToken) return { kind: "refused", code: "token_invalid", field: "credentials.accessToken", message: "Connect through the instance's sign-in: there is no access token." };
      const r = await call({ instance, token: credentials.accessToken }, "GET", "/api/v1/accounts/verify_credentials", signal);
      const host = new URL(instance).host;
      // What failed reaching it is for the log only (Connection.detail): see lib/connectors/http.ts.
      if (r.outcome) return { kind: "unavailable", message: `Pacer could not reach ${host}; try again in a moment.`, detail: `${host}: ${r.outcome.message}` };
      const me = r.body as { id?: unknown; username?: unknown } | undefined;
      if (r.status === 200 && typeof me?.id === "string" && typeof me.username === "string") {
        const wanted = handle.replace(/^@/, "").toLowerCase();
        if (wanted && wanted !== me.username.toLowerCase() && wanted !== `${me.username}@${host}`.toLowerCase()) {
          return { kind: "refused", code: "handle_mismatch", field: "handle", message: `This sign-in is @${me.username}@${host}, not @${wanted}.` };
        }
        const keep = Object.fromEntries(Object.entries(credentials).filter(([k]) => ["clientId", "clientSecret", "scope"].includes(k)));
        return { kind: "connected", credentials: { ...keep, instance, accessToken: credentials.accessToken, accountId: me.id, username: me.username } };
      }
      const said = clip(errorText(r.body));
      if (r.status === 401 || r.status === 422) return { kind: "refused", code: "token_invalid", field: "credentials.accessToken", message: `${host} does not accept this token (${said}): connect again.` };
      if (r.status === 403) return { kind: "refused", code: "account_restricted", field: "handle", message: `${host} says: ${said}.` };
      if (r.status === 404) return { kind: "refused", code: "not_mastodon", field: "credentials.instance", message: `${host} does not answer as a Mastodon instance.` };
      return { kind: "unavailable", message: `${host} answered HTTP ${r.status}; try again in a moment.` };
    },

    async recentPosts(account, { since, signal }): Promise<RecentPosts> {
      const s = session(account);
      if ("kind" in s) throw new Error(`Could not read @${account.handle}'s statuses: ${s.message}`);
      const posts: PlatformPost[] = [];
      const read = await readStatuses(s, since.getTime(), RECENT_POSTS_MAX_PAGES, signal, (status) => {
        posts.push({
          externalId: String(status.id),
          url: typeof status.url === "string" ? status.url : undefined,
          createdAt: new Date(Date.parse(String(status.created_at))).toISOString(),
          // Mastodon keeps no marker on a status (research §4.2).
          marker: null,
        });
      });
      if ("failure" in read) throw new Error(`Could not read @${account.handle}'s statuses: ${read.failure}`);
      return { posts, complete: read.complete };
    },

    /**
     * followers from verify_credentials; engagement = favourites + reblogs + replies of the latest 40
     * statuses; reach = followers, since Mastodon shows no impressions (research §4.4).
     */
    async readMetrics(account, { signal }): Promise<AccountMetrics> {
      const s = session(account);
      if ("kind" in s) throw new Error(`Could not read @${account.handle}'s Mastodon metrics: ${s.message}`);
      const me = await call(s, "GET", "/api/v1/accounts/verify_credentials", signal);
      const failed = (r: Answer) => (r.outcome ? r.outcome.message : `HTTP ${r.status}: ${clip(errorText(r.body))}`);
      const followers = (me.body as { followers_count?: unknown } | undefined)?.followers_count;
      if (me.status !== 200 || typeof followers !== "number") throw new Error(`Could not read @${account.handle}'s Mastodon metrics: ${failed(me)}`);
      const list = await call(s, "GET", `/api/v1/accounts/${encodeURIComponent(s.accountId)}/statuses?limit=${PAGE_SIZE}&exclude_reblogs=true`, signal);
      if (list.status !== 200 || !Array.isArray(list.body)) throw new Error(`Could not read @${account.handle}'s Mastodon statuses: ${failed(list)}`);
      const count = (v: unknown) => (typeof v === "number" && v >= 0 ? v : 0);
      const engagement = (list.body as StatusBody[]).reduce((sum, st) => sum + count(st.favourites_count) + count(st.reblogs_count) + count(st.replies_count), 0);
      return { followers, engagement, reach: followers, observedAt: new Date(now()).toISOString() };
    },
  };
}

/**
 * The Idempotency-Key for a queue item's key: Mastodon keys it by account and the raw value, for an
 * hour from the status's creation; a short hash keeps it bounded and the same on every attempt.
 */
export async function idempotencyKeyFor(itemKey: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(itemKey)));
  return `pacer-${[...digest.slice(0, 24)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The Idempotency-Key of part `n` (1 = the first reply: the first comment, or the thread's second post). */
function partKey(itemKey: string, n: number): Promise<string> {
  return idempotencyKeyFor(`${itemKey}:reply:${n}`);
}

/** The replies a request asks for: its thread's parts, or its first comment; refused when it has both or too many. */
function replyTexts(req: PublishRequest): { replies: string[] } | { refused: string } {
  const thread = req.thread ?? [];
  if (thread.length > 0 && req.firstComment) return { refused: "a post has a thread or a first comment, not both (put the comment in the thread)" };
  if (thread.length > MAX_THREAD_REPLIES) return { refused: `a thread has at most ${MAX_THREAD_REPLIES + 1} posts, not ${thread.length + 1}` };
  return { replies: thread.length > 0 ? thread : req.firstComment ? [req.firstComment] : [] };
}

/**
 * Mastodon's errors by what they say (docs: https://docs.joinmastodon.org/entities/Error/; research §2.3, §7),
 * then the shared status classes (429 with X-RateLimit-Reset, 5xx unknown, 401 auth_expired).
 */
export function classifyAnswer(status: number, headers: Headers, error: string | undefined, now = Date.now()): PublishFailure {
  const text = error ?? "";
  const message = text ? `HTTP ${status}: ${text}` : `HTTP ${status}`;
  if (status === 401) return { kind: "auth_expired", message: `${message} (reconnect the account)` };
  if (status === 403) {
    if (/outside the authorized scopes/i.test(text)) return { kind: "auth_expired", message: `${message} (reconnect the account, granting posting and media)` };
    if (/not allowed/i.test(text)) return { kind: "permanent", message };
    // Suspended, disabled, unconfirmed, pending approval, memorial, moved: a human must act on the instance.
    return { kind: "restricted", message };
  }
  if (status === 422) {
    if (/requires an authenticated user/i.test(text)) return { kind: "auth_expired", message: `${message} (reconnect the account)` };
    if (/not finished processing/i.test(text)) return { kind: "retryable", message };
    return { kind: "permanent", message };
  }
  return classifyStatus(status, headers, text, now) ?? { kind: "unknown", message: `unexpected HTTP ${status}` };
}

/** X-RateLimit-Limit/Remaining/Reset (reset is an ISO 8601 time; docs: https://docs.joinmastodon.org/api/rate-limits/). */
export function readBudget(headers: Headers): RateLimitBudget | undefined {
  const limit = Number(headers.get("x-ratelimit-limit"));
  const remaining = Number(headers.get("x-ratelimit-remaining"));
  // Date.parse gives NaN for what no date can be built from; isoAt guards it anyway, so a bad header is no budget, never a throw.
  const resetAt = isoAt(Date.parse(headers.get("x-ratelimit-reset") ?? ""));
  if (!headers.has("x-ratelimit-limit") || !Number.isFinite(limit) || !Number.isFinite(remaining) || !resetAt) return undefined;
  return { limit, remaining, resetAt };
}

function parseLimits(configuration: unknown): InstanceLimits | null {
  const c = configuration as { statuses?: Record<string, unknown>; media_attachments?: Record<string, unknown> } | undefined;
  const n = (v: unknown, fallback: number) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : fallback);
  if (!c?.statuses) return null;
  return {
    maxCharacters: n(c.statuses.max_characters, DEFAULT_MAX_CHARACTERS),
    maxMediaAttachments: n(c.statuses.max_media_attachments, 4),
    charactersReservedPerUrl: n(c.statuses.characters_reserved_per_url, DEFAULT_CHARACTERS_RESERVED_PER_URL),
    imageSizeLimit: n(c.media_attachments?.image_size_limit, DEFAULT_LIMITS.imageSizeLimit),
    videoSizeLimit: n(c.media_attachments?.video_size_limit, DEFAULT_LIMITS.videoSizeLimit),
  };
}

const errorText = (body: unknown): string | undefined => {
  const e = (body as { error?: unknown } | undefined)?.error;
  return typeof e === "string" ? e.slice(0, 300) : undefined;
};

/** The rel="next" target of a Link header, as a path on the same instance (never another host). */
function nextLink(link: string | null, instance: string): string | null {
  const m = link?.match(/<([^>]+)>\s*;\s*rel="next"/);
  if (!m) return null;
  try {
    const url = new URL(m[1], instance);
    return url.origin === instance ? `${url.pathname}${url.search}` : null;
  } catch {
    return null;
  }
}

/** A status's `content` as the text a reader sees: paragraphs and line breaks kept, markup dropped, entities decoded. */
export function htmlToText(content: string): string {
  return content
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/p>\s*<p>/gi, "\n\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#\d+|#x[0-9a-f]+|amp|lt|gt|quot|apos|#39);/gi, (_, e: string) => {
      const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
      if (named[e.toLowerCase()]) return named[e.toLowerCase()];
      const code = e[1].toLowerCase() === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      // A hostile or broken instance may send &#x110000;: read as U+FFFD, as an HTML parser does, never a throw.
      return code <= 0x10ffff ? String.fromCodePoint(code) : "\uFFFD";
    });
}

const normalize = (text: string) => text.replace(/\r\n/g, "\n").trim();
/** Whitespace runs as one space: the rendered text folds newlines (3+ into a paragraph break), /source settles it. */
const loose = (text: string) => text.replace(/\s+/g, " ").trim();

/** Waits ms unless the signal ends first; false when it did. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
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

/** A body's bytes up to `limit`; undefined past it (the stream is cancelled). */
async function readBytes(response: Response, limit: number): Promise<Uint8Array | undefined> {
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
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}
