// The Upload-Post fake's HTTP API as a web Request → Response handler; a reply may instead be
// RESET_CONNECTION (the server destroys the socket). Every route names its documentation page
// (https://docs.upload-post.com/…) and the marks of docs/platforms/upload-post.md:
// [D] documented, [C] official client only, [S] third-party only, [?] undocumented (the fake's choice).
import { randomBytes } from "node:crypto";
import {
  BRUTE_FORCE,
  isPlatform,
  platformName,
  TEXT_PLATFORMS,
  type ApiKeyAccount,
  type Job,
  type Platform,
  type PlatformResult,
  type UploadPostState,
} from "./state.ts";

export const RESET_CONNECTION = Symbol("reset connection");
export type FakeReply = Response | typeof RESET_CONNECTION;

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
/** Non-200 answers are `{"success": false, "message": …}` [D error-handling]. */
const fail = (status: number, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  json(status, { success: false, message, ...extra }, headers);

/** Which form field carries a platform's destination [D upload-text, upload-video, upload-photos]. */
export const DESTINATION_FIELD: Partial<Record<Platform, string>> = {
  reddit: "subreddit",
  facebook: "facebook_page_id",
  pinterest: "pinterest_board_id",
  linkedin: "target_linkedin_page_id",
};

const UPLOAD_ROUTES: Record<string, Job["media_type"]> = { "/api/upload_text": "text", "/api/upload_photos": "photo", "/api/upload": "video" };

export function createUploadPostHandler(state: UploadPostState, opts: { syncSwitchMs?: number } = {}) {
  // "If the upload takes longer than 59 seconds, it will automatically switch to asynchronous processing" [D upload-video].
  const syncSwitchMs = opts.syncSwitchMs ?? 59_000;
  const now = () => state.now();
  const iso = (ms: number) => new Date(ms).toISOString();

  /** The key behind the request, or the answer to send: 401 [D authentication], the brute-force 429 [D rate-limits]. */
  function authenticate(request: Request, caller: string): { key: ApiKeyAccount; response?: undefined } | { key?: undefined; response: Response } {
    const header = request.headers.get("authorization");
    if (!header) return { response: fail(401, "Authorization header required") };
    // "Apikey" per the docs; some pages write "ApiKey": accepted case-insensitively [?].
    const match = /^apikey\s+(\S+)$/i.exec(header.trim());
    const blocked = state.badKeys.get(caller);
    if (blocked && blocked.blockedUntil > now()) {
      // The body of this 429 is not documented [?].
      return { response: fail(429, "Too many failed authentication attempts. Try again in a few minutes.") };
    }
    const key = match ? state.keys.get(match[1]) : undefined;
    if (!key) {
      const entry = blocked ?? { failures: 0, blockedUntil: 0 };
      entry.failures++;
      if (entry.failures >= BRUTE_FORCE.failures) Object.assign(entry, { failures: 0, blockedUntil: now() + BRUTE_FORCE.blockMs });
      state.badKeys.set(caller, entry);
      return { response: fail(401, match ? "Invalid or expired token" : "Invalid API key") };
    }
    state.badKeys.delete(caller);
    if (key.expired) return { response: fail(401, "API key expired") };
    return { key };
  }

  /** X-RateLimit-* on every authenticated answer [D rate-limits]; the window's numbers are configurable (only [S] gives real ones). */
  function spendRate(key: ApiKeyAccount): { headers: Record<string, string>; over: boolean } {
    const { limit, windowMs } = state.config.rateLimit;
    if (now() - key.window.start >= windowMs) key.window = { start: now(), count: 0 };
    key.window.count++;
    const reset = Math.ceil((key.window.start + windowMs) / 1000);
    const headers = {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(0, limit - key.window.count)),
      "x-ratelimit-reset": String(reset),
    };
    return { headers, over: key.window.count > limit };
  }

  /** The social accounts a request names, so a fault aimed at one account finds its request. */
  function accountsNamed(key: ApiKeyAccount, url: URL, form: FormData | null): Array<{ profile: string; platform: string }> {
    if (form) {
      const user = String(form.get("user") ?? "");
      return form.getAll("platform[]").map((p) => ({ profile: user, platform: String(p) }));
    }
    const requestId = url.searchParams.get("request_id") ?? decodeURIComponent(url.pathname.split("/post-analytics/")[1] ?? "");
    const job = requestId ? state.jobs.get(`${key.apiKey} ${requestId}`) : undefined;
    if (job) return job.platforms.map((platform) => ({ profile: job.profile, platform }));
    const analytics = /^\/api\/analytics\/([^/]+)$/.exec(url.pathname);
    if (analytics) return (url.searchParams.get("platforms") ?? "").split(",").map((platform) => ({ profile: decodeURIComponent(analytics[1]), platform }));
    const profile = /^\/api\/uploadposts\/users\/([^/]+)$/.exec(url.pathname);
    if (profile) {
      const p = key.profiles.get(decodeURIComponent(profile[1]));
      return p ? [...p.social.keys()].map((platform) => ({ profile: p.username, platform })) : [];
    }
    return [];
  }

  return async function handle(request: Request, caller = "127.0.0.1"): Promise<FakeReply> {
    const url = new URL(request.url);
    const path = url.pathname.replace(/\/+$/, "");
    state.settle();

    if (path === "/connect") return connectPage(request, url);
    if (!path.startsWith("/api/")) return fail(404, "Not found");

    const auth = authenticate(request, caller);
    if (auth.response) return auth.response;
    const key = auth.key;
    const rate = spendRate(key);
    const reply = (r: Response): FakeReply => {
      for (const [name, value] of Object.entries(rate.headers)) r.headers.set(name, value);
      return r;
    };
    let form: FormData | null = null;
    if (request.method === "POST" && UPLOAD_ROUTES[path]) {
      try {
        form = await request.formData();
      } catch {
        return reply(fail(400, "The body must be multipart/form-data."));
      }
    }
    // Random faults (when on): each upload rolls once, for the first account it names.
    if (form) {
      const [first] = accountsNamed(key, url, form);
      if (first) state.rollFault(key.apiKey, first.profile, first.platform);
    }
    // An injected 429 for one account: the documented request-rate answer, reset at the given time.
    for (const { profile, platform } of accountsNamed(key, url, form)) {
      const resetIn = state.faultsFor(key.apiKey, profile, platform).rateLimitNext?.shift();
      if (resetIn !== undefined) {
        return withHeaders(fail(429, "Rate limit exceeded. Wait until the X-RateLimit-Reset timestamp."), {
          ...rate.headers,
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": String(Math.ceil((now() + resetIn) / 1000)),
        });
      }
    }
    // Request rate [D rate-limits]: the 429 body is undocumented [?].
    if (rate.over) return reply(fail(429, "Rate limit exceeded. Wait until the X-RateLimit-Reset timestamp."));

    if (form) return upload(key, request, form, UPLOAD_ROUTES[path], reply);
    const route = `${request.method} ${path}`;
    if (route === "GET /api/uploadposts/me") {
      // https://docs.upload-post.com/api/current-user [D fields; no JSON example survives].
      return reply(json(200, { success: true, message: "API key is valid", email: key.email, plan: key.plan, preferences: {}, api_usage: { count: key.usage.count } }));
    }
    if (route === "GET /api/uploadposts/status") return reply(status(key, url));
    if (route === "GET /api/uploadposts/history") return reply(history(key, url));
    if (route === "POST /api/uploadposts/posts/retry") return reply(await retry(key, request));
    if (path.startsWith("/api/uploadposts/post-analytics/") && request.method === "GET") return reply(postAnalytics(key, url));
    if (path.startsWith("/api/analytics/") && request.method === "GET") return reply(analytics(key, url));
    if (path === "/api/uploadposts/users" || path.startsWith("/api/uploadposts/users/") || path === "/api/uploadposts/facebook/pages") {
      return reply(await users(key, request, url, path));
    }
    return reply(fail(404, "Not found"));
  };

  // ---- Publishing: https://docs.upload-post.com/api/upload-text, /api/upload-photo, /api/upload-video

  async function upload(key: ApiKeyAccount, request: Request, form: FormData, mediaType: Job["media_type"], reply: (r: Response) => FakeReply): Promise<FakeReply> {
    const user = String(form.get("user") ?? "");
    const named = form.getAll("platform[]").map(String);
    // Faults aimed at this account's next upload, before anything is created.
    for (const platform of named) {
      const status = state.faultsFor(key.apiKey, user, platform).failNext?.shift();
      if (status !== undefined) return reply(json(status, { success: false, error: "Internal server error" }));
    }
    // "Idempotency-Key … Can also be sent as X-Idempotency-Key or X-Request-Id. When provided, if a
    // matching upload job already exists, the API returns the existing job" [D upload-text]. The
    // form's request_id alone is tracking, not deduplication [?: the pessimistic reading].
    const h = request.headers;
    const idempotencyKey = h.get("idempotency-key") ?? h.get("x-idempotency-key") ?? h.get("x-request-id");
    const existing = idempotencyKey ? state.jobForKey(key.apiKey, idempotencyKey) : undefined;
    // What a replay answers is undocumented [?]: the job's async answer, nothing published again.
    if (existing) return reply(json(200, asyncBody(existing, "Upload already exists for this Idempotency-Key; returning the existing job.")));

    if (!user) return reply(fail(400, "Username required"));
    const profile = key.profiles.get(user);
    // "Username not associated with any profile" [D error-handling].
    if (!profile) return reply(fail(404, "User not found"));
    if (named.length === 0) return reply(fail(400, "Platform is required"));
    const invalid = named.filter((p) => !isPlatform(p) || (mediaType === "text" && !TEXT_PLATFORMS.includes(p)));
    if (invalid.length) return reply(fail(400, `Invalid platforms: [${invalid.join(", ")}]`));
    const platforms = named as Platform[];
    const title = String(form.get("title") ?? "");
    if (mediaType === "text" && !title.trim()) return reply(fail(400, "Title cannot be empty"));
    if (platforms.includes("reddit") && !form.get("subreddit")) return reply(fail(400, "subreddit is required for Reddit"));
    if (platforms.includes("reddit") && !title.trim()) return reply(fail(400, "title is required for Reddit"));
    if (platforms.includes("pinterest") && !form.get("pinterest_board_id")) return reply(fail(400, "pinterest_board_id is required for Pinterest"));
    const media = mediaType === "photo" ? form.getAll("photos[]").map(String) : mediaType === "video" ? [String(form.get("video") ?? "")].filter(Boolean) : [];
    if (mediaType !== "text" && media.length === 0) return reply(fail(400, mediaType === "video" ? "Video file and title are required" : "At least one photo is required"));
    // None of the platforms connected: 400 with invalid_platforms [S].
    const connected = platforms.filter((p) => profile.social.has(p));
    if (connected.length === 0) {
      return reply(fail(400, `None of the requested platforms is connected to profile ${user}.`, { error_code: "profile_platform_mapping_invalid", invalid_platforms: platforms }));
    }
    // Daily hard caps per social account, rolling 24 h [D limit-of-uploads, rendered example].
    const violations = connected
      .map((p) => ({ p, used: state.postsLast24h(key.apiKey, user, p), cap: state.config.caps[p] }))
      .filter(({ used, cap }) => used >= cap)
      .map(({ p, used, cap }) => ({ platform: p, type: "hard_cap", message: `Daily cap reached for ${p}: ${used}/${cap} in last 24h`, used_last_24h: used, cap }));
    if (violations.length) return reply(fail(429, "Post verification failed", { violations }));
    // Monthly quota per key: 429 with usage [D upload-video, error-handling; body [?]].
    if (key.monthlyLimit !== null && key.usage.count >= key.monthlyLimit) {
      return reply(fail(429, `You have reached your monthly limit of ${key.monthlyLimit} uploads`, { usage: { ...key.usage, limit: key.monthlyLimit } }));
    }
    key.usage.count++;

    const request_id = String(form.get("request_id") ?? "") || h.get("x-request-id") || state.newRequestId();
    const destination = platforms.map((p) => DESTINATION_FIELD[p] && form.get(DESTINATION_FIELD[p]!)).find(Boolean);
    const created = now();
    const processing = state.config.processingMs[mediaType];
    const job: Job = {
      apiKey: key.apiKey,
      request_id,
      idempotencyKey,
      profile: user,
      platforms,
      media_type: mediaType,
      title,
      description: form.get("description") === null ? null : String(form.get("description")),
      first_comment: form.get("first_comment") === null ? null : String(form.get("first_comment")),
      destination: destination ? String(destination) : null,
      media,
      created_at: created,
      dueAt: created + processing,
      results: new Map(),
      settled: false,
    };
    for (const p of platforms) {
      const result: PlatformResult = { platform: p, status: "queued", success: false, message: "Queued" };
      // Connected elsewhere but not on this profile: a skipped entry [S].
      if (!profile.social.has(p)) Object.assign(result, { status: "failed", skipped: true, skip_reason: "profile_platform_not_configured", error_code: "profile_platform_mapping_invalid", error: `${platformName(p)} is not connected to profile ${user}.` });
      const retryFor = state.faultsFor(key.apiKey, user, p).retryableFor?.shift();
      if (retryFor !== undefined) {
        job.retryableFrom = created + processing;
        job.dueAt = Math.max(job.dueAt, created + processing + retryFor);
      }
      job.results.set(p, result);
    }
    state.addJob(job);
    const drop = platforms.some((p) => {
      const f = state.faultsFor(key.apiKey, user, p);
      if (!f.dropAnswerAfterCommit) return false;
      f.dropAnswerAfterCommit--;
      return true;
    });
    // Committed, then the answer is lost (the connection is destroyed).
    if (drop) return RESET_CONNECTION;

    const asyncUpload = /^(true|1)$/i.test(String(form.get("async_upload") ?? ""));
    if (asyncUpload || processing > syncSwitchMs) {
      // "returns immediately with a request_id" [D async-uploads]; the body is [S]: S-note and S-fakes.
      return reply(json(200, asyncBody(job, "Upload initiated successfully in background.")));
    }
    // Synchronous: the work is done before answering [D error-handling example].
    job.dueAt = now();
    state.settle();
    const results = Object.fromEntries(
      [...job.results.values()].map((r) => [r.platform, r.success ? { success: true, url: r.url, post_id: r.platform_post_id } : { success: false, error: r.error }]),
    );
    return reply(json(200, { success: true, results, usage: { ...key.usage, limit: key.monthlyLimit }, request_id: job.request_id }));
  }

  function asyncBody(job: Job, message: string) {
    return { success: true, message, request_id: job.request_id, total_platforms: job.platforms.length };
  }

  // ---- https://docs.upload-post.com/api/upload-status [D]

  /** A platform's result as status shows it now. */
  function resultView(job: Job, r: PlatformResult): Record<string, unknown> | null {
    if (!job.settled && (r.status === "queued" || r.status === "processing")) {
      if (job.retryableFrom !== undefined && now() >= job.retryableFrom) {
        return { platform: r.platform, status: "retryable", success: false, message: "Failed; will be retried automatically" };
      }
      const started = now() - job.created_at >= (job.dueAt - job.created_at) / 3;
      // Pending: accepted, nothing recorded yet (results: []) [D].
      return started ? { platform: r.platform, status: "processing", success: false, message: "Processing" } : null;
    }
    const view: Record<string, unknown> = { platform: r.platform, status: r.status, success: r.success, message: r.message, upload_timestamp: r.upload_timestamp };
    if (r.error) Object.assign(view, { error: r.error, error_code: r.error_code });
    // Whether status carries the post's id and link is undocumented [?]; third-party code reads `url` [S].
    if (r.success && state.config.statusCarriesIds) Object.assign(view, { url: r.url, platform_post_id: r.platform_post_id });
    return view;
  }

  function status(key: ApiKeyAccount, url: URL): Response {
    const id = url.searchParams.get("request_id") ?? url.searchParams.get("job_id");
    if (!id) return json(400, { error: "request_id or job_id is required" });
    const job = state.jobs.get(`${key.apiKey} ${id}`);
    // The 404 body is not in the stored docs beyond `not_found` [?].
    if (!job || now() - job.created_at < state.config.statusLagMs) return json(404, { request_id: id, status: "not_found", error: "No upload found for this request_id" });
    // A finished answer is served as it was for 5 minutes, even after a posts/retry re-ran the job [D upload-status; retry [?]].
    const cacheKey = `${key.apiKey} ${id}`;
    const cached = state.statusCache.get(cacheKey);
    if (cached && now() < cached.until) return json(200, cached.body);
    const results = [...job.results.values()].map((r) => resultView(job, r)).filter(Boolean);
    const top = job.retryableFrom !== undefined && !job.settled && now() >= job.retryableFrom ? "processing" : state.jobStatus(job);
    const body = {
      request_id: job.request_id,
      status: top,
      completed: [...job.results.values()].filter((r) => r.status === "completed").length,
      total: top === "pending" ? null : job.platforms.length,
      results,
      last_update: iso(Math.min(now(), job.dueAt)),
    };
    if ((top === "completed" || top === "failed") && state.config.finishedStatusCacheMs > 0) state.statusCache.set(cacheKey, { body, until: now() + state.config.finishedStatusCacheMs });
    return json(200, body);
  }

  // ---- https://docs.upload-post.com/api/upload-history [D]

  function history(key: ApiKeyAccount, url: URL): Response {
    const page = Number(url.searchParams.get("page") ?? "1");
    const limit = Number(url.searchParams.get("limit") ?? "10");
    if (!Number.isInteger(page) || page < 1) return json(400, { error: "Invalid page" });
    if (![10, 20, 50, 100].includes(limit)) return json(400, { error: "Invalid limit" });
    const items: Array<Record<string, unknown>> = [];
    for (const job of state.jobs.values()) {
      if (job.apiKey !== key.apiKey) continue;
      for (const r of job.results.values()) {
        if (r.status !== "completed" && r.status !== "failed") continue;
        items.push({
          user_email: key.email,
          profile_username: job.profile,
          platform: r.platform,
          media_type: job.media_type,
          upload_timestamp: r.upload_timestamp,
          success: r.success,
          platform_post_id: r.platform_post_id ?? null,
          post_url: r.success ? r.url : undefined,
          error_message: r.error ?? null,
          post_title: job.title,
          is_async: true,
          job_id: null,
          request_id: job.request_id,
          request_total_platforms: job.platforms.length,
        });
      }
    }
    items.sort((a, b) => String(b.upload_timestamp).localeCompare(String(a.upload_timestamp)));
    return json(200, { history: items.slice((page - 1) * limit, page * limit), total: items.length, page, limit });
  }

  // ---- https://docs.upload-post.com/api/get-analytics (post analytics) [D fields; body shape [?]]

  function postAnalytics(key: ApiKeyAccount, url: URL): Response {
    const id = decodeURIComponent(url.pathname.split("/post-analytics/")[1] ?? "");
    const job = state.jobs.get(`${key.apiKey} ${id}`);
    const only = url.searchParams.get("platform");
    const done = job ? [...job.results.values()].filter((r) => r.success && (!only || r.platform === only)) : [];
    if (!job || done.length === 0) return fail(404, "No post found for this request_id");
    const platforms = Object.fromEntries(
      done.map((r) => {
        const m = state.social(key.apiKey, job.profile, r.platform)?.metrics;
        return [r.platform, { success: true, platform_post_id: r.platform_post_id, post_url: r.url, post_metrics: { likes: m?.likes ?? 0, comments: m?.comments ?? 0 } }];
      }),
    );
    return json(200, { success: true, request_id: job.request_id, platforms });
  }

  // ---- https://docs.upload-post.com/api/get-analytics (profile analytics) [D fields; body shape [?]]

  function analytics(key: ApiKeyAccount, url: URL): Response {
    const profile = key.profiles.get(decodeURIComponent(url.pathname.slice("/api/analytics/".length)));
    if (!profile) return fail(404, "Profile not found");
    const wanted = (url.searchParams.get("platforms") ?? "").split(",").filter(Boolean);
    if (wanted.length === 0) return fail(400, "platforms is required");
    const body: Record<string, unknown> = {};
    for (const p of wanted) {
      const social = isPlatform(p) ? profile.social.get(p) : undefined;
      if (!social) {
        body[p] = { success: false, message: `${p} is not connected or has no analytics` };
        continue;
      }
      const m = social.metrics;
      body[p] = {
        followers: m.followers,
        reach: m.reach,
        impressions: m.reach,
        views: m.reach,
        profileViews: 0,
        likes: m.likes,
        comments: m.comments,
        shares: m.shares,
        saves: m.saves,
        reach_timeseries: [],
        metric_type: "reach",
        primary_impressions_field: "reach",
        available_metrics: ["followers", "reach", "likes", "comments", "shares", "saves"],
      };
    }
    return json(200, body);
  }

  // ---- POST /api/uploadposts/posts/retry: official client only [C-npm retryPost]; 409 when nothing failed [S]

  async function retry(key: ApiKeyAccount, request: Request): Promise<Response> {
    let body: { request_id?: unknown };
    try {
      body = (await request.json()) as typeof body;
    } catch {
      return fail(400, "The body must be JSON.");
    }
    const job = typeof body.request_id === "string" ? state.jobs.get(`${key.apiKey} ${body.request_id}`) : undefined;
    if (!job) return fail(404, "No upload found for this request_id");
    const failed = [...job.results.values()].filter((r) => r.status === "failed");
    if (!job.settled || failed.length === 0) return fail(409, "Nothing to retry: no platform of this upload has failed.");
    for (const r of failed) Object.assign(r, { status: "queued", success: false, message: "Queued", error: undefined, error_code: undefined });
    job.settled = false;
    job.retryableFrom = undefined;
    job.dueAt = now() + state.config.processingMs[job.media_type];
    return json(200, { success: true, request_id: job.request_id, retried: failed.map((r) => r.platform) });
  }

  // ---- https://docs.upload-post.com/api/user-profiles [D], /guides/user-profile-integration [D]

  async function users(key: ApiKeyAccount, request: Request, url: URL, path: string): Promise<Response> {
    const route = `${request.method} ${path}`;
    const profileView = (username: string) => {
      const p = key.profiles.get(username)!;
      const social: Record<string, unknown> = {};
      for (const [platform, s] of p.social) {
        social[platform] = { username: s.username, display_name: s.display_name, handle: s.username, social_images: "", ...(s.reauth_required ? { reauth_required: true } : {}) };
      }
      return { username: p.username, created_at: p.created_at, social_accounts: social };
    };
    const readJson = async () => {
      try {
        return (await request.json()) as Record<string, unknown>;
      } catch {
        return {};
      }
    };
    if (route === "GET /api/uploadposts/users") {
      return json(200, { success: true, plan: key.plan.toLowerCase(), limit: key.profileLimit, profiles: [...key.profiles.keys()].map(profileView) });
    }
    if (route === "POST /api/uploadposts/users") {
      const { username } = await readJson();
      // Allowed characters are undocumented [?]: [A-Za-z0-9_-]{1,64}.
      if (typeof username !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(username)) return fail(400, "Username required");
      if (key.profiles.has(username)) return fail(409, "Profile already exists");
      if (key.profiles.size >= key.profileLimit) return fail(403, "Profile limit reached for your plan", { error_code: "PROFILE_LIMIT_REACHED" });
      state.createProfile(key, username);
      return json(201, { success: true, profile: profileView(username) });
    }
    if (route === "DELETE /api/uploadposts/users") {
      const { username } = await readJson();
      if (typeof username !== "string") return fail(400, "Username required");
      if (!key.profiles.delete(username)) return fail(404, "Profile not found");
      return json(200, { success: true, message: "Profile deleted" });
    }
    if (route === "POST /api/uploadposts/users/generate-jwt") {
      const body = await readJson();
      const username = typeof body.username === "string" ? body.username : "";
      if (!username) return fail(400, "Username required");
      if (!key.profiles.has(username)) return fail(404, "Profile not found", { error_code: "PROFILE_NOT_FOUND" });
      const token = randomBytes(18).toString("base64url");
      // Single use, valid 48 h [D user-profiles].
      state.connectLinks.set(token, { apiKey: key.apiKey, profile: username, redirect_url: typeof body.redirect_url === "string" ? body.redirect_url : null, expiresAt: now() + 48 * 3600_000, used: false });
      return json(200, { success: true, access_url: `${state.baseUrl}/connect?token=${token}`, duration: "48h" });
    }
    if (route === "GET /api/uploadposts/facebook/pages") {
      const social = state.social(key.apiKey, url.searchParams.get("profile") ?? "", "facebook");
      const pages = social && social.pages !== "any" ? social.pages : [];
      return json(200, { success: true, pages: pages.map((p) => ({ ...p, profile: url.searchParams.get("profile") })) });
    }
    const one = /^\/api\/uploadposts\/users\/([^/]+)$/.exec(path);
    if (one && request.method === "GET") {
      const username = decodeURIComponent(one[1]);
      // 404 body per S-note [S].
      if (!key.profiles.has(username)) return fail(404, "Profile not found");
      return json(200, { success: true, profile: profileView(username) });
    }
    return fail(404, "Not found");
  }

  // ---- The hosted connect page a generate-jwt link opens (no real OAuth: the user names a handle per platform)

  async function connectPage(request: Request, url: URL): Promise<Response> {
    const form = request.method === "POST" ? new URLSearchParams(await request.text()) : url.searchParams;
    const token = form.get("token") ?? "";
    const link = state.connectLinks.get(token);
    if (!link || link.used || link.expiresAt < now()) return new Response("This connect link is invalid, used or expired.", { status: 410 });
    const profile = state.keys.get(link.apiKey)?.profiles.get(link.profile);
    if (!profile) return new Response("The profile is gone.", { status: 404 });
    if (request.method === "POST") {
      link.used = true;
      for (const p of form.getAll("platform")) {
        const handle = form.get(`handle_${p}`)?.trim();
        if (isPlatform(p) && handle) state.connectSocial(profile, p, handle.replace(/^@/, ""));
      }
      if (link.redirect_url) return new Response(null, { status: 303, headers: { location: link.redirect_url } });
      return new Response("Connected. You can close this page.", { headers: { "content-type": "text/plain" } });
    }
    const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    const rows = ["tiktok", "instagram", "linkedin", "youtube", "facebook", "x", "threads", "pinterest", "reddit", "bluesky"]
      .map((p) => `<p><label><input type="checkbox" name="platform" value="${p}"> ${platformName(p as Platform)}</label> handle <input name="handle_${p}" value="${esc(profile.social.get(p as Platform)?.username ?? "")}"></p>`)
      .join("\n");
    return new Response(
      `<!doctype html><title>Connect social accounts (Upload-Post fake)</title><h1>Connect accounts to ${esc(profile.username)}</h1>` +
        `<form method="post"><input type="hidden" name="token" value="${esc(token)}">${rows}<button>Connect</button></form>`,
      { headers: { "content-type": "text/html; charset=utf-8" } },
    );
  }
}

function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}
