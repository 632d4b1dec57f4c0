// The sandbox's HTTP API as a web Request → Response handler (testable in-process); a reply may
// instead be RESET_CONNECTION, which the server turns into a destroyed socket.
import { z } from "zod";
import { faultsSchema, type SandboxAccount, type SandboxNetwork, type SandboxPost } from "./network.ts";
import { renderFeedPage } from "./page.ts";

/** Returned instead of a Response: drop the connection without answering. */
export const RESET_CONNECTION = Symbol("reset connection");
export type SandboxReply = Response | typeof RESET_CONNECTION;

export interface HandlerOptions {
  /** Waits ms; the server wakes every sleeper when it stops, so hung responses never delay shutdown. */
  sleep: (ms: number) => Promise<void>;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const error = (status: number, code: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  json(status, { error: code, message, ...extra }, headers);

const postInput = z.object({
  text: z.string().min(1, "text must not be empty").max(10_000),
  media_urls: z.array(z.string().url()).max(20).default([]),
  first_comment: z.string().max(10_000).nullish(),
  destination: z.string().min(1).max(200).nullish(),
  client_ref: z.string().min(1).max(200).nullish(),
});
const accountInput = z.object({ handle: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "handle: 1–64 letters, digits, _ . -") });
const faultsInput = z.object({ handle: z.string().optional(), faults: faultsSchema, seed: z.number().int().optional() });
const configInput = z
  .object({
    handle: z.string().optional(),
    rate_limit: z.object({ posts: z.number().int().min(0), window_ms: z.number().int().min(1) }).optional(),
    duplicate_window: z.number().int().min(0).optional(),
    idempotency_keys: z.boolean().optional(),
  })
  .strict();
const metricsInput = z
  .object({
    reach: z.number().min(0).optional(),
    engagement: z.number().min(0).optional(),
    followers: z.number().min(0).optional(),
    /** Cuts reach and engagement by this fraction, e.g. 0.6 → 60% lower. */
    decline: z.number().min(0).max(1).optional(),
  })
  .strict();
const stateInput = z
  .object({
    restricted: z.boolean().optional(),
    tokenExpired: z.boolean().optional(),
    /** Replaces the list of destinations that refuse every post from the account ([] lifts them all). */
    rejectedDestinations: z.array(z.string().min(1).max(200)).max(100).optional(),
  })
  .strict();

type Parsed<T> = { data: T; response?: undefined } | { data?: undefined; response: Response };

async function parseBody<T>(request: Request, schema: z.ZodType<T>): Promise<Parsed<T>> {
  let raw: unknown;
  try {
    const text = await request.text();
    raw = text ? JSON.parse(text) : {};
  } catch {
    return { response: error(400, "invalid_request", "The body must be JSON.") };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { data: parsed.data };
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  return { response: error(400, "invalid_request", issues.map((i) => `${i.path || "body"}: ${i.message}`).join("; "), { issues }) };
}

export function createSandboxHandler(network: SandboxNetwork, { sleep }: HandlerOptions) {
  const latency = (handle: string) => {
    const l = network.faultsFor(handle).latency;
    if (!l || (l.ms === 0 && !l.jitterMs)) return;
    return sleep(Math.max(0, l.ms + (l.jitterMs ?? 0) * (2 * network.random() - 1)));
  };

  /** The account behind an authenticated request, or the error response to send. */
  function authorize(
    request: Request,
    handle: string,
  ): { account: SandboxAccount; response?: undefined } | { account?: undefined; response: Response; expired?: boolean } {
    const account = network.accounts.get(handle);
    if (!account) return { response: error(404, "account_not_found", `No sandbox account @${handle}; create it with POST /v1/accounts.`) };
    if (request.headers.get("authorization") !== `Bearer ${account.token}`) {
      return { response: error(401, "invalid_token", `The bearer token is not @${handle}'s.`) };
    }
    if (account.tokenExpired) return { response: error(401, "token_expired", "The access token has expired; reconnect the account."), expired: true };
    return { account };
  }

  async function publish(request: Request, handle: string): Promise<SandboxReply> {
    const receivedAt = network.now();
    const auth = authorize(request, handle);
    if (!auth.account) {
      // The account's own token, expired: a request the account was sent and the platform refused.
      if (auth.expired) network.countRefusal(handle, "token_expired");
      return auth.response;
    }
    const account = auth.account;
    /** An error answer with nothing stored, counted per account and code (stats' refusedByAccount). */
    const refuse = (status: number, code: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
      network.countRefusal(handle, code);
      return error(status, code, message, extra, headers);
    };
    const faults = network.faultsFor(handle);
    await latency(handle);
    if (account.restricted) return refuse(403, "account_restricted", `@${handle} is restricted from posting.`);
    const next = network.takeNextFault(handle);
    if (next?.kind === "rate_limited") {
      const seconds = Math.max(1, Math.ceil(next.retryAfterMs / 1000));
      return refuse(429, "rate_limited", `@${handle} is over its posting limit.`, { retry_after: seconds }, { "retry-after": String(seconds) });
    }
    if (next?.kind === "error_before_commit") return refuse(next.status, "internal_error", "Injected failure before storing the post.");
    const waitSeconds = network.spendRateLimit(account);
    if (waitSeconds !== null) {
      return refuse(429, "rate_limited", `@${handle} is over its posting limit.`, { retry_after: waitSeconds }, {
        "retry-after": String(waitSeconds),
      });
    }
    const body = await parseBody(request, postInput);
    if (!body.data) {
      network.countRefusal(handle, "invalid_request");
      return body.response;
    }
    const input = body.data;

    const idempotencyKey = network.honoursIdempotencyKeys(handle) ? (request.headers.get("idempotency-key") ?? undefined) : undefined;
    const earlier = idempotencyKey ? account.idempotency.get(idempotencyKey) : undefined;
    if (earlier) return json(201, present(earlier));

    // Faults that refuse the post before it is stored, in a fixed order so a seed replays the same way.
    if (network.roll(faults.token_expired)) return refuse(401, "token_expired", "The access token has expired; reconnect the account.");
    if (network.roll(faults.restricted)) return refuse(403, "account_restricted", `@${handle} is restricted from posting.`);
    // A destination the scenario made refuse this account (persistent), or the random fault.
    if (input.destination && (account.rejectedDestinations.includes(input.destination) || network.roll(faults.destination_rejected))) {
      return refuse(403, "destination_rejected", `${input.destination} does not accept posts from @${handle}.`);
    }
    if (network.roll(faults.duplicate_content) || (network.config.duplicateWindow > 0 && network.isDuplicateText(account, input.text))) {
      return refuse(422, "duplicate_content", "This text is identical to one of the account's recent posts.");
    }
    if (network.roll(faults.error_before_commit)) return refuse(500, "internal_error", "Injected failure before storing the post.");
    if (network.roll(faults.reset_before_commit)) {
      network.countRefusal(handle, "reset_before_commit");
      return RESET_CONNECTION;
    }
    // A slow platform: the request was read and is stored late, maybe after the client stopped waiting.
    if (faults.commit_late && network.roll(faults.commit_late.p)) await sleep(faults.commit_late.ms);

    const post = network.commit(
      account,
      {
        text: input.text,
        media_urls: input.media_urls,
        first_comment: input.first_comment ?? null,
        destination: input.destination ?? null,
        client_ref: input.client_ref ?? null,
        received_at_ms: receivedAt,
      },
      idempotencyKey,
    );

    // Faults after the post is stored: it is live, but the client does not learn so.
    if (network.roll(faults.error_after_commit)) {
      network.loseResponse(post, "error_after_commit");
      return error(500, "internal_error", "Injected failure after storing the post.");
    }
    if (next?.kind === "reset_after_commit" || network.roll(faults.reset_after_commit)) {
      network.loseResponse(post, "reset_after_commit");
      return RESET_CONNECTION;
    }
    if (faults.hang_after_commit && network.roll(faults.hang_after_commit.p)) {
      network.loseResponse(post, "hang_after_commit");
      await sleep(faults.hang_after_commit.ms);
    }
    return json(201, present(post));
  }

  async function readPosts(request: Request, handle: string, query: URLSearchParams): Promise<Response> {
    const auth = authorize(request, handle);
    if (!auth.account) return auth.response;
    await latency(handle);
    if (network.roll(network.faultsFor(handle).lookup_error)) return error(503, "unavailable", "Injected failure: reads are down.");
    const limit = Math.min(Math.max(Number(query.get("limit") ?? 20) || 20, 1), 100);
    const clientRef = query.get("client_ref");
    if (clientRef) return json(200, { posts: network.postsByClientRef(clientRef, handle).slice(-limit).reverse().map(present) });
    // The account's timeline, newest first, as platforms page it: `since` (ISO time) keeps posts made
    // at or after it; `max_id` (a post id) keeps older posts than it, for the next page.
    const since = query.get("since") ? Date.parse(query.get("since")!) : null;
    const maxId = query.get("max_id") ? Number(query.get("max_id")) : null;
    if ((since !== null && Number.isNaN(since)) || (maxId !== null && !Number.isSafeInteger(maxId))) {
      return error(400, "invalid_request", "since must be an ISO time and max_id a post id.");
    }
    const page: SandboxPost[] = [];
    const posts = auth.account.posts;
    for (let i = posts.length - 1; i >= 0 && page.length < limit; i--) {
      if (maxId !== null && Number(posts[i].id) >= maxId) continue;
      if (since !== null && Date.parse(posts[i].created_at) < since) break;
      page.push(posts[i]);
    }
    return json(200, { posts: page.map(present) });
  }

  async function readMetrics(request: Request, handle: string): Promise<Response> {
    const auth = authorize(request, handle);
    if (!auth.account) return auth.response;
    await latency(handle);
    return json(200, auth.account.metrics);
  }

  async function admin(request: Request, path: string, query: URLSearchParams): Promise<Response> {
    const method = request.method;
    if (path === "/v1/admin/stats" && method === "GET") return json(200, network.stats());
    if (path === "/v1/admin/posts" && method === "GET") {
      const clientRef = query.get("client_ref");
      const handle = query.get("handle") ?? undefined;
      if (clientRef) return json(200, { posts: network.postsByClientRef(clientRef, handle) });
      if (!handle) return error(400, "invalid_request", "Give client_ref or handle.");
      return json(200, { posts: network.accounts.get(handle)?.posts ?? [] });
    }
    const deleted = path.match(/^\/v1\/admin\/posts\/([^/]+)$/);
    if (deleted && method === "DELETE") {
      // The account's owner (or the platform's moderators) took the post down.
      const post = network.deletePost(decodeURIComponent(deleted[1]));
      return post ? json(200, { deleted: post.id }) : error(404, "not_found", "No such post.");
    }
    if (path === "/v1/admin/faults" && method === "POST") {
      const body = await parseBody(request, faultsInput);
      if (!body.data) return body.response;
      network.setFaults(body.data.handle, body.data.faults, body.data.seed);
      return json(200, { handle: body.data.handle ?? null, faults: body.data.faults });
    }
    if (path === "/v1/admin/faults" && method === "DELETE") {
      network.clearFaults(query.get("handle") ?? undefined);
      return json(200, { cleared: true });
    }
    if (path === "/v1/admin/config" && method === "POST") {
      const body = await parseBody(request, configInput);
      if (!body.data) return body.response;
      const { handle, rate_limit, duplicate_window, idempotency_keys } = body.data;
      if (rate_limit) network.setRateLimit(handle, { posts: rate_limit.posts, windowMs: rate_limit.window_ms });
      if (duplicate_window !== undefined) network.config.duplicateWindow = duplicate_window;
      if (idempotency_keys !== undefined) network.setIdempotencyKeys(handle, idempotency_keys);
      return json(200, network.config);
    }
    if (path === "/v1/admin/reset" && method === "POST") {
      network.reset();
      return json(200, { reset: true });
    }
    const scenario = path.match(/^\/v1\/admin\/accounts\/([^/]+)\/(metrics|state)$/);
    if (scenario && method === "POST") {
      const handle = decodeURIComponent(scenario[1]);
      const account = network.accounts.get(handle);
      if (!account) return error(404, "account_not_found", `No sandbox account @${handle}.`);
      if (scenario[2] === "metrics") {
        const body = await parseBody(request, metricsInput);
        if (!body.data) return body.response;
        const { decline, ...figures } = body.data;
        Object.assign(account.metrics, figures);
        if (decline !== undefined) {
          account.metrics.reach = Math.round(account.metrics.reach * (1 - decline));
          account.metrics.engagement = Math.round(account.metrics.engagement * (1 - decline));
        }
        return json(200, account.metrics);
      }
      const body = await parseBody(request, stateInput);
      if (!body.data) return body.response;
      account.restricted = body.data.restricted ?? account.restricted;
      account.tokenExpired = body.data.tokenExpired ?? account.tokenExpired;
      if (body.data.rejectedDestinations) account.rejectedDestinations = [...new Set(body.data.rejectedDestinations)];
      return json(200, {
        handle,
        restricted: account.restricted,
        tokenExpired: account.tokenExpired,
        rejectedDestinations: account.rejectedDestinations,
      });
    }
    return error(404, "not_found", `No admin route ${method} ${path}.`);
  }

  // A webhook receiver for trying Pacer's webhooks locally (docs/webhooks.md): POST records a
  // delivery, GET lists what arrived; the newest 100 per inbox, in memory.
  const inboxes = new Map<string, { received_at: string; headers: Record<string, string>; body: string }[]>();
  async function webhookInbox(request: Request, name: string): Promise<Response> {
    const inbox = inboxes.get(name) ?? [];
    if (request.method === "GET") return json(200, { deliveries: inbox });
    if (request.method !== "POST") return error(405, "method_not_allowed", "POST a delivery or GET the inbox.");
    const headers = Object.fromEntries([...request.headers].filter(([k]) => k.startsWith("pacer-") || k === "content-type"));
    inbox.push({ received_at: new Date().toISOString(), headers, body: (await request.text()).slice(0, 65_536) });
    inboxes.set(name, inbox.slice(-100));
    return new Response(null, { status: 204 });
  }

  return async function handle(request: Request): Promise<SandboxReply> {
    const url = new URL(request.url);
    const path = url.pathname;
    const method = request.method;
    const inbox = path.match(/^\/v1\/webhook-inbox\/([A-Za-z0-9_-]{1,64})$/);
    if (inbox) return webhookInbox(request, inbox[1]);
    if (path === "/" && method === "GET") {
      return new Response(renderFeedPage(network, url.searchParams.get("handle")), {
        headers: { "content-type": "text/html; charset=utf-8" },
      });
    }
    if (path === "/v1/accounts" && method === "POST") {
      const body = await parseBody(request, accountInput);
      if (!body.data) return body.response;
      const account = network.createAccount(body.data.handle);
      if (!account) {
        return error(409, "handle_taken", `@${body.data.handle} already exists; connect it with the token it was created with.`);
      }
      return json(201, { handle: account.handle, token: account.token });
    }
    if (path.startsWith("/v1/admin/")) return admin(request, path, url.searchParams);
    const match = path.match(/^\/v1\/accounts\/([^/]+)\/(posts|metrics)$/);
    if (match) {
      const handle = decodeURIComponent(match[1]);
      if (match[2] === "posts" && method === "POST") return publish(request, handle);
      if (match[2] === "posts" && method === "GET") return readPosts(request, handle, url.searchParams);
      if (match[2] === "metrics" && method === "GET") return readMetrics(request, handle);
    }
    return error(404, "not_found", `No route ${method} ${path}.`);
  };
}

/** What the API shows of a post (the fault marker is admin-only). */
function present({ response_fault: _f, deleted: _d, received_at_ms: _r, ...post }: SandboxPost): Omit<SandboxPost, "response_fault" | "deleted" | "received_at_ms"> {
  return post;
}
