// The fake Mastodon instance's HTTP API as a web Request → Response handler. It answers the requests
// Pacer's Mastodon connector makes, with the documented shapes, status codes, error texts and
// headers (each route names its docs.joinmastodon.org page; details and the server code behind them
// are in docs/platforms/mastodon.md). A reply may instead be RESET_CONNECTION (the socket is destroyed).
import { createHash, randomBytes } from "node:crypto";
import { statusLength } from "../../../lib/connectors/mastodon/text.ts";
import type { FakeAccount, FakeApp, FakeMedia, FakeStatus, FakeToken, MastodonState } from "./state.ts";

export const RESET_CONNECTION = Symbol("reset connection");
export type FakeReply = Response | typeof RESET_CONNECTION;

export interface HandlerOptions {
  /** Waits ms; the server wakes every sleeper when it stops. */
  sleep: (ms: number) => Promise<void>;
}

/** Scopes an app may register (docs: https://docs.joinmastodon.org/api/oauth-scopes/). */
const KNOWN_SCOPES = new Set([
  "read", "write", "follow", "push", "profile", "admin:read", "admin:write",
  "read:accounts", "read:blocks", "read:bookmarks", "read:favourites", "read:filters", "read:follows", "read:lists", "read:mutes", "read:notifications", "read:search", "read:statuses",
  "write:accounts", "write:blocks", "write:bookmarks", "write:conversations", "write:favourites", "write:filters", "write:follows", "write:lists", "write:media", "write:mutes", "write:notifications", "write:reports", "write:statuses",
]);

// Error texts (docs: https://docs.joinmastodon.org/entities/Error/ and the methods' pages; research §1.6, §2.3).
const TOKEN_INVALID = "The access token is invalid";
const TOKEN_REVOKED = "The access token was revoked";
const OUTSIDE_SCOPES = "This action is outside the authorized scopes";
const TEMPORARY_PROBLEM = "There was a temporary problem serving your request, please try again";
const STATE_ERRORS: Record<Exclude<FakeAccount["state"], "active">, string> = {
  disabled: "Your login is currently disabled",
  suspended: "Your login is currently disabled",
  unconfirmed: "Your login is missing a confirmed e-mail address",
  pending: "Your login is currently pending approval",
};
const INVALID_GRANT =
  "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";
const INVALID_CLIENT = "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.";
/** Doorkeeper's default authorization code lifetime (authorization_code_expires_in is left commented out). */
const CODE_LIFETIME_MS = 10 * 60_000;

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", ...headers } });
const apiError = (status: number, error: string, headers: Record<string, string> = {}) => json(status, { error }, headers);
const html = (status: number, body: string) => new Response(`<!doctype html><html><body>${body}</body></html>`, { status, headers: { "content-type": "text/html; charset=utf-8" } });
const redirect = (location: string, headers: Record<string, string> = {}) => new Response(null, { status: 302, headers: { location, ...headers } });

/**
 * The browser's session on the instance (the fake's stand-in for its sign-in cookie): the account it
 * is signed in as. Path /oauth, so the app on another port of the same host is not sent it.
 */
const SESSION_COOKIE = "fake_mastodon_session";
const signIn = (accountId: string) => `${SESSION_COOKIE}=${accountId}; Path=/oauth; HttpOnly; SameSite=Lax`;
const SIGN_OUT = `${SESSION_COOKIE}=; Path=/oauth; Max-Age=0`;
const sessionOf = (request: Request) => request.headers.get("cookie")?.match(new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`))?.[1];
/** Rails' boolean cast, as truthy_param? reads force_login. */
const truthy = (value: string | null) => value !== null && !["", "0", "f", "false", "off"].includes(value.toLowerCase());

/** Rate-limit headers: ISO 8601 with microseconds, UTC (Time#iso8601(6); docs: https://docs.joinmastodon.org/api/rate-limits/). */
export function isoMicros(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, "000Z");
}

type Budget = { limit: number; remaining: number; resetAt: number };
const budgetHeaders = (b: Budget): Record<string, string> => ({
  "x-ratelimit-limit": String(b.limit),
  "x-ratelimit-remaining": String(b.remaining),
  "x-ratelimit-reset": isoMicros(b.resetAt),
});
const tooManyRequests = (b: Budget) => apiError(429, "Too many requests", budgetHeaders({ ...b, remaining: 0 }));

/** A request's parameters from JSON, urlencoded or multipart bodies; `key[]` collects arrays. */
async function readParams(request: Request): Promise<Record<string, unknown> | null> {
  const type = request.headers.get("content-type") ?? "";
  try {
    if (type.includes("application/json")) {
      const text = await request.text();
      const parsed = text ? JSON.parse(text) : {};
      return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : null;
    }
    if (type.includes("multipart/form-data") || type.includes("application/x-www-form-urlencoded")) {
      const form = await request.formData();
      const params: Record<string, unknown> = {};
      for (const [key, value] of form.entries()) {
        if (key.endsWith("[]")) ((params[key.slice(0, -2)] ??= []) as unknown[]).push(value);
        else params[key] = value;
      }
      return params;
    }
    const text = await request.text();
    return text ? null : {};
  } catch {
    return null;
  }
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** `read` grants every `read:*`, `write` every `write:*` (docs: https://docs.joinmastodon.org/api/oauth-scopes/). */
function grants(scopes: string[], accepted: string[]): boolean {
  return accepted.some((want) => scopes.includes(want) || scopes.includes(want.split(":")[0]));
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/**
 * The status text as Mastodon's TextFormatter renders `content`: paragraphs, <br />, links split into
 * invisible/visible spans, remote mentions as h-cards showing `@user`, hashtags as links. Paragraphs
 * as Rails' simple_format makes them (TextFormatter#to_s, app/lib/text_formatter.rb, then
 * `.delete("\n")`): any run of two or more newlines is one paragraph break, so "a\n\n\nb" reads back
 * as "a\n\nb" and only /source gives the text as posted (docs/platforms/mastodon.md §4.1, §4.3).
 */
export function renderContent(text: string, host: string): string {
  const entity = /(https?:\/\/[^\s<>"]+[^\s<>".,:;!?'")\]])|(?<=^|[^\p{L}\p{N}_/@])@([\p{L}\p{N}_]+)(?:@([\p{L}\p{N}.-]+\.[\p{L}\p{N}-]+))?|(?<=^|[^\p{L}\p{N}_&/])#([\p{L}\p{N}_]+)/gu;
  const paragraphs = text.replace(/\r\n/g, "\n").split(/\n{2,}/);
  return paragraphs
    .map((para) => {
      let out = "";
      let at = 0;
      for (const m of para.matchAll(entity)) {
        out += escapeHtml(para.slice(at, m.index));
        at = m.index! + m[0].length;
        if (m[1]) {
          const url = new URL(m[1]);
          const visible = `${url.host}${url.pathname === "/" ? "" : url.pathname}${url.search}${url.hash}`;
          out += `<a href="${escapeHtml(m[1])}" target="_blank" rel="nofollow noopener" translate="no"><span class="invisible">${url.protocol}//</span><span class="">${escapeHtml(visible)}</span><span class="invisible"></span></a>`;
        } else if (m[2]) {
          const domain = m[3] ?? host;
          out += `<span class="h-card" translate="no"><a href="https://${escapeHtml(domain)}/@${escapeHtml(m[2])}" class="u-url mention">@<span>${escapeHtml(m[2])}</span></a></span>`;
        } else {
          out += `<a href="https://${escapeHtml(host)}/tags/${escapeHtml(m[4].toLowerCase())}" class="mention hashtag" rel="tag">#<span>${escapeHtml(m[4])}</span></a>`;
        }
      }
      out += escapeHtml(para.slice(at));
      return `<p>${out.replace(/\n/g, "<br />")}</p>`;
    })
    .join("");
}

export function createMastodonHandler(state: MastodonState, { sleep }: HandlerOptions) {
  const origin = () => state.baseUrl;

  function presentAccount(a: FakeAccount) {
    return {
      id: a.id,
      username: a.username,
      acct: a.username,
      display_name: a.display_name,
      locked: false,
      bot: false,
      created_at: new Date(a.created_at).toISOString(),
      note: "",
      url: `${origin()}/@${a.username}`,
      avatar: `${origin()}/avatars/original/missing.png`,
      header: `${origin()}/headers/original/missing.png`,
      followers_count: a.followers_count,
      following_count: a.following_count,
      statuses_count: state.liveStatusesOf(a.id).length,
      last_status_at: null,
      emojis: [],
      fields: [],
    };
  }

  function presentMedia(m: FakeMedia) {
    const ready = !m.failed && state.now() >= m.ready_at;
    return {
      id: m.id,
      type: m.type,
      url: ready ? `${origin()}/system/media_attachments/${m.id}/original` : null,
      preview_url: `${origin()}/system/media_attachments/${m.id}/small`,
      remote_url: null,
      meta: {},
      description: m.description,
      blurhash: null,
    };
  }

  /** The Status entity (docs: https://docs.joinmastodon.org/entities/Status/); `application` only for its author. */
  function presentStatus(s: FakeStatus, viewer: string | null) {
    const account = state.accounts.get(s.account_id)!;
    const parent = s.in_reply_to_id ? state.status(s.in_reply_to_id) : undefined;
    return {
      id: s.id,
      created_at: new Date(s.created_at).toISOString(),
      in_reply_to_id: s.in_reply_to_id,
      in_reply_to_account_id: parent?.account_id ?? null,
      sensitive: s.sensitive,
      spoiler_text: s.spoiler_text,
      visibility: s.visibility,
      language: s.language,
      uri: `${origin()}/users/${account.username}/statuses/${s.id}`,
      url: `${origin()}/@${account.username}/${s.id}`,
      replies_count: s.replies_count,
      reblogs_count: s.reblogs_count,
      favourites_count: s.favourites_count,
      edited_at: null,
      content: renderContent(s.text, state.host),
      reblog: null,
      ...(viewer === s.account_id ? { application: s.application } : {}),
      account: presentAccount(account),
      media_attachments: s.media_ids.map((id) => presentMedia(state.media.get(id)!)),
      mentions: [],
      tags: [],
      emojis: [],
      card: null,
      poll: null,
    };
  }

  // ---------------------------------------------------------------- auth

  type Caller = { token: FakeToken; account: FakeAccount | null };

  function bearer(request: Request): FakeToken | undefined {
    const header = request.headers.get("authorization") ?? "";
    const m = header.match(/^Bearer\s+(.+)$/i);
    return m ? state.tokens.get(m[1].trim()) : undefined;
  }

  /**
   * doorkeeper_authorize! then require_user! (app/controllers/api/base_controller.rb): 401 for a
   * missing, unknown or revoked token, 403 outside the token's scopes, 403 for a user who cannot act,
   * 422 for an app-only token.
   */
  function authorize(request: Request, scopes: string[]): { caller: Caller & { account: FakeAccount }; response?: undefined } | { caller?: undefined; response: Response } {
    const token = bearer(request);
    if (!token) return { response: apiError(401, TOKEN_INVALID) };
    if (token.revoked) return { response: apiError(401, TOKEN_REVOKED) };
    if (!grants(token.scopes, scopes)) return { response: apiError(403, OUTSIDE_SCOPES) };
    const account = token.account_id ? state.accounts.get(token.account_id) : undefined;
    if (!account) return { response: apiError(422, "This method requires an authenticated user") };
    if (account.state !== "active") return { response: apiError(403, STATE_ERRORS[account.state]) };
    return { caller: { token, account } };
  }

  // ---------------------------------------------------------------- rate limits

  /**
   * Rack::Attack for /api/*: counts the request in every matching throttle and answers 429 past a
   * limit; otherwise the headers of the budget closest to running out (docs: https://docs.joinmastodon.org/api/rate-limits/).
   */
  function throttle(request: Request, url: URL): { headers: Record<string, string>; budget: Budget | null; response?: Response } {
    if (!url.pathname.startsWith("/api/")) return { headers: {}, budget: null };
    const t = state.config.throttles;
    const token = bearer(request);
    const live = token && !token.revoked ? token : undefined;
    const matched: Array<ReturnType<MastodonState["count"]>> = [];
    if (live) {
      matched.push(state.count("per_token", live.id, t.perToken));
      if (live.account_id) {
        matched.push(state.count("per_user", live.account_id, t.perUser));
        if (request.method === "POST" && /^\/api\/v[12]\/media$/.test(url.pathname)) matched.push(state.count("media", live.account_id, t.media));
        if (["max_id", "min_id", "since_id", "page"].some((p) => url.searchParams.has(p))) matched.push(state.count("paging", live.account_id, t.paging));
      }
    } else {
      matched.push(state.count("unauthenticated", "ip", t.unauthenticated));
    }
    const over = matched.find((b) => b.exceeded);
    if (over) return { headers: {}, budget: over, response: tooManyRequests(over) };
    const tightest = matched.reduce((a, b) => (b.remaining < a.remaining ? b : a));
    return { headers: budgetHeaders(tightest), budget: tightest };
  }

  // ---------------------------------------------------------------- OAuth (docs: https://docs.joinmastodon.org/methods/apps/, /methods/oauth/)

  async function createApp(request: Request): Promise<Response> {
    const params = await readParams(request);
    if (!params) return apiError(400, "Unable to parse the request body");
    const name = str(params.client_name)?.trim();
    if (!name) return apiError(422, "Validation failed: Application name can't be blank");
    const raw = params.redirect_uris;
    const uris = (Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(/\s+/) : []).map(String).filter(Boolean);
    if (uris.length === 0) return apiError(422, "Validation failed: Redirect URI can't be blank");
    for (const uri of uris) {
      if (uri === "urn:ietf:wg:oauth:2.0:oob") continue;
      try {
        new URL(uri);
      } catch {
        return apiError(422, "Validation failed: Redirect URI must be an absolute URI.");
      }
    }
    const scopes = (str(params.scopes) ?? "read").split(/[\s+]+/).filter(Boolean);
    if (scopes.some((s) => !KNOWN_SCOPES.has(s))) return apiError(422, "Validation failed: Scopes must be valid");
    const app = state.registerApp({ name, website: str(params.website) ?? null, redirect_uris: uris, scopes });
    return json(200, {
      id: app.id,
      name: app.name,
      website: app.website,
      scopes: app.scopes,
      redirect_uri: app.redirect_uris.join("\n"),
      redirect_uris: app.redirect_uris,
      client_id: app.client_id,
      client_secret: app.client_secret,
      client_secret_expires_at: 0,
    });
  }

  function authorizationServer(): Response {
    // 4.3+ only (docs: https://docs.joinmastodon.org/methods/oauth/#authorization-server-metadata); older servers 404.
    if (!state.config.pkce) return apiError(404, "Record not found");
    const o = origin();
    return json(200, {
      issuer: `${o}/`,
      service_documentation: "https://docs.joinmastodon.org/",
      authorization_endpoint: `${o}/oauth/authorize`,
      token_endpoint: `${o}/oauth/token`,
      app_registration_endpoint: `${o}/api/v1/apps`,
      revocation_endpoint: `${o}/oauth/revoke`,
      userinfo_endpoint: `${o}/oauth/userinfo`,
      scopes_supported: [...KNOWN_SCOPES],
      response_types_supported: ["code"],
      response_modes_supported: ["query", "fragment", "form_post"],
      code_challenge_methods_supported: ["S256"],
      grant_types_supported: ["authorization_code", "client_credentials"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    });
  }

  type AuthorizeCheck = { app: FakeApp; redirectUri: string; scopes: string[]; state: string | null; challenge: string | null; response?: undefined } | { response: Response };

  /** The checks Doorkeeper makes on GET and POST /oauth/authorize. */
  function checkAuthorize(p: URLSearchParams): AuthorizeCheck {
    const app = state.apps.get(p.get("client_id") ?? "");
    if (!app) return { response: html(401, `<h1>An error has occurred</h1><p>${INVALID_CLIENT}</p>`) };
    const redirectUri = p.get("redirect_uri") ?? "";
    if (!app.redirect_uris.includes(redirectUri)) return { response: html(400, "<h1>An error has occurred</h1><p>The requested redirect uri is malformed or doesn't match client redirect URI.</p>") };
    const back = (error: string, description: string) => {
      const to = new URL(redirectUri);
      to.searchParams.set("error", error);
      to.searchParams.set("error_description", description);
      if (p.get("state")) to.searchParams.set("state", p.get("state")!);
      return { response: redirect(to.href) };
    };
    if (p.get("response_type") !== "code") return back("unsupported_response_type", "The authorization server does not support this response type.");
    const scopes = (p.get("scope") ?? "read").split(/[\s+]+/).filter(Boolean);
    if (scopes.some((s) => !app.scopes.includes(s))) return back("invalid_scope", "The requested scope is invalid, unknown, or malformed.");
    const challenge = p.get("code_challenge");
    if (challenge && state.config.pkce && (p.get("code_challenge_method") ?? "plain") !== "S256") return back("invalid_request", "The code challenge method must be S256.");
    return { app, redirectUri, scopes, state: p.get("state"), challenge: state.config.pkce ? challenge : null };
  }

  /**
   * The consent page. Signed out, the fake signs in by username (a new one is created), so dev and
   * Playwright need no setup; signed in, it names the user and the page cannot change who.
   */
  function consentPage(p: URLSearchParams, check: Exclude<AuthorizeCheck, { response: Response }>, signedIn: FakeAccount | undefined, headers: Record<string, string>): Response {
    const hidden = [...p.entries()].map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join("");
    const who = signedIn
      ? `<label>Signed in as <input name="username" value="${escapeHtml(signedIn.username)}" readonly></label>`
      : `<label>Signed in as <input name="username" value="${escapeHtml(p.get("username") ?? "")}" required autocomplete="username"></label>`;
    const page = html(
      200,
      `<h1>Authorization required</h1><p><b>${escapeHtml(check.app.name)}</b> would like permission to access your account: ${escapeHtml(check.scopes.join(" "))}.</p>
<form method="post" action="/oauth/authorize">${hidden}${who}
<button name="decision" value="approve">Authorize</button> <button name="decision" value="deny" formnovalidate>Deny</button></form>`,
    );
    for (const [k, v] of Object.entries(headers)) page.headers.set(k, v);
    return page;
  }

  /**
   * GET /oauth/authorize (app/controllers/oauth/authorizations_controller.rb): with force_login the
   * browser is signed out first and asked who signs in; otherwise a browser signed in as a user who
   * already authorized this app with these scopes is sent straight back with a code (Doorkeeper's
   * matching_token?), with no page — so without force_login a second account cannot be chosen.
   */
  function authorizePage(request: Request, p: URLSearchParams): Response {
    const check = checkAuthorize(p);
    if (check.response) return check.response;
    if (truthy(p.get("force_login"))) return consentPage(p, check, undefined, { "set-cookie": SIGN_OUT });
    const signedIn = state.accounts.get(sessionOf(request) ?? "");
    const matching =
      signedIn &&
      [...state.tokens.values()].some((t) => t.account_id === signedIn.id && t.client_id === check.app.client_id && !t.revoked && check.scopes.every((s) => t.scopes.includes(s)));
    if (matching) return redirect(issueCode(check, signedIn));
    return consentPage(p, check, signedIn, {});
  }

  /** A code for this account, and where the browser takes it. */
  function issueCode(check: Exclude<AuthorizeCheck, { response: Response }>, account: FakeAccount): string {
    const back = new URL(check.redirectUri);
    if (check.state) back.searchParams.set("state", check.state);
    const code = randomBytes(24).toString("base64url");
    state.codes.set(code, {
      code,
      client_id: check.app.client_id,
      redirect_uri: check.redirectUri,
      scopes: check.scopes,
      account_id: account.id,
      challenge: check.challenge,
      expires_at: state.now() + CODE_LIFETIME_MS,
      used: false,
    });
    back.searchParams.set("code", code);
    return back.href;
  }

  async function approve(request: Request): Promise<Response> {
    const params = new URLSearchParams(await request.text());
    const check = checkAuthorize(params);
    if (check.response) return check.response;
    const back = new URL(check.redirectUri);
    if (check.state) back.searchParams.set("state", check.state);
    if (params.get("decision") !== "approve") {
      back.searchParams.set("error", "access_denied");
      back.searchParams.set("error_description", "The resource owner or authorization server denied the request.");
      return redirect(back.href);
    }
    // Signed in already (and not asked to sign in again): the session's user, whatever the form says.
    const signedIn = truthy(params.get("force_login")) ? undefined : state.accounts.get(sessionOf(request) ?? "");
    const username = signedIn?.username ?? params.get("username")?.trim() ?? "";
    if (!/^[A-Za-z0-9_]{1,30}$/.test(username)) return html(422, "<p>Sign in with a username (letters, digits, _).</p>");
    const account = signedIn ?? state.createAccount(username);
    const to = issueCode(check, account);
    if (check.redirectUri === "urn:ietf:wg:oauth:2.0:oob") return html(200, `<p>Copy this code: <code id="code">${new URL(to).searchParams.get("code")}</code></p>`);
    return redirect(to, { "set-cookie": signIn(account.id) });
  }

  /** Client authentication: client_secret_post or client_secret_basic. */
  function client(request: Request, params: Record<string, unknown>): FakeApp | null {
    let id = str(params.client_id);
    let secretGiven = str(params.client_secret);
    const basic = request.headers.get("authorization")?.match(/^Basic\s+(.+)$/i);
    if (basic) {
      const [u, s] = Buffer.from(basic[1], "base64").toString().split(":");
      id = decodeURIComponent(u ?? "");
      secretGiven = decodeURIComponent(s ?? "");
    }
    const app = id ? state.apps.get(id) : undefined;
    return app && app.client_secret === secretGiven ? app : null;
  }

  async function token(request: Request): Promise<Response> {
    const params = await readParams(request);
    if (!params) return json(400, { error: "invalid_request", error_description: "The request is missing a required parameter." });
    const grant = str(params.grant_type);
    if (grant !== "authorization_code" && grant !== "client_credentials") {
      // No refresh_token grant: Mastodon tokens do not expire (config/initializers/doorkeeper.rb).
      return json(400, { error: "unsupported_grant_type", error_description: "The authorization grant type is not supported by the authorization server." });
    }
    const app = client(request, params);
    if (!app) return json(401, { error: "invalid_client", error_description: INVALID_CLIENT });
    const issued = (t: FakeToken) => json(200, { access_token: t.token, token_type: "Bearer", scope: t.scopes.join(" "), created_at: Math.floor(t.created_at / 1000) });
    if (grant === "client_credentials") {
      const scopes = (str(params.scope) ?? "read").split(/[\s+]+/).filter(Boolean);
      if (scopes.some((s) => !app.scopes.includes(s))) return json(400, { error: "invalid_scope", error_description: "The requested scope is invalid, unknown, or malformed." });
      return issued(state.issueToken(null, app.client_id, scopes));
    }
    const code = state.codes.get(str(params.code) ?? "");
    const invalidGrant = () => json(400, { error: "invalid_grant", error_description: INVALID_GRANT });
    if (!code || code.used || code.expires_at <= state.now() || code.client_id !== app.client_id || code.redirect_uri !== str(params.redirect_uri)) return invalidGrant();
    if (code.challenge) {
      const verifier = str(params.code_verifier) ?? "";
      if (createHash("sha256").update(verifier).digest("base64url") !== code.challenge) return invalidGrant();
    }
    code.used = true;
    return issued(state.issueToken(code.account_id, app.client_id, code.scopes));
  }

  async function revoke(request: Request): Promise<Response> {
    const params = await readParams(request);
    if (!params) return json(400, { error: "invalid_request" });
    const app = client(request, params);
    const found = state.tokens.get(str(params.token) ?? "");
    if (!app || (found && found.client_id !== app.client_id)) {
      return json(403, { error: "unauthorized_client", error_description: "You are not authorized to revoke this token" });
    }
    if (found) found.revoked = true;
    return json(200, {});
  }

  // ---------------------------------------------------------------- statuses (docs: https://docs.joinmastodon.org/methods/statuses/)

  /** POST /api/v1/statuses with the Idempotency-Key semantics of post_status_service.rb (research §2.1). */
  async function createStatus(request: Request, caller: Caller & { account: FakeAccount }, headers: Record<string, string>): Promise<FakeReply> {
    const account = caller.account;
    const key = request.headers.get("idempotency-key");
    const lockKey = `${account.id}:${key}`;
    const mode = state.config.idempotency;
    if (key && mode === "upstream-current") {
      // with_redis_lock does not wait: a held lock raises RaceConditionError → 503.
      if (state.idempotencyLocks.has(lockKey)) return apiError(503, TEMPORARY_PROBLEM, headers);
      state.idempotencyLocks.add(lockKey);
    }
    try {
      if (key) {
        const stored = state.idempotency.get(lockKey);
        if (stored && stored.expires_at > state.now()) {
          if (mode === "bug-40399") return html(500, "<h1>We're sorry, but something went wrong.</h1>"); // issue #40399
          const original = state.status(stored.status_id);
          if (!original || original.deleted) return apiError(404, "Record not found", headers);
          return json(200, presentStatus(original, account.id), headers);
        }
      }
      const params = await readParams(request);
      if (!params) return apiError(400, "Unable to parse the request body", headers);
      const text = str(params.status) ?? "";
      // Stripped before it is saved, as Mastodon's Status#prepare_contents does.
      const spoiler = (str(params.spoiler_text) ?? "").trim();
      const mediaIds = (Array.isArray(params.media_ids) ? params.media_ids : []).map(String);
      // visibility, spoiler_text and in_reply_to_id as https://docs.joinmastodon.org/methods/statuses/#create
      // documents them: visibility one of public, unlisted, private, direct (absent: the account's
      // default, public here); spoiler_text shown before the text and counted with it; in_reply_to_id
      // a status to reply to (unknown or deleted → 404). The docs give no text for a visibility outside
      // the four; Mastodon refuses it as a validation failure (422), and the wording here is the fake's.
      const visibility = str(params.visibility) ?? "public";
      if (!["public", "unlisted", "private", "direct"].includes(visibility)) return apiError(422, "Validation failed: Visibility is reserved", headers);
      const inReplyTo = str(params.in_reply_to_id) ?? (typeof params.in_reply_to_id === "number" ? String(params.in_reply_to_id) : null);
      const parent = inReplyTo ? state.status(inReplyTo) : undefined;
      if (inReplyTo && (!parent || parent.deleted)) return apiError(404, "Record not found", headers);

      // validate_media!
      if (mediaIds.length > state.config.maxMediaAttachments) return apiError(422, `Validation failed: You can't attach more than ${state.config.maxMediaAttachments} files`, headers);
      const media = mediaIds.map((id) => state.media.get(id));
      if (media.some((m) => !m || m.account_id !== account.id || m.status_id !== null)) return apiError(422, "Validation failed: Media attachment could not be found", headers);
      if (media.some((m) => m!.failed || state.now() < m!.ready_at)) return apiError(422, "Validation failed: Media attachments have not finished processing. Try again in a moment!", headers);
      const kinds = new Set(media.map((m) => (m!.type === "image" ? "image" : "av")));
      if (kinds.size > 1 || (kinds.has("av") && media.length > 1)) return apiError(422, "Validation failed: You can't attach a video to a post that already contains images", headers);

      // StatusLengthValidator and the presence check on text.
      if (!text.trim() && mediaIds.length === 0) return apiError(422, "Validation failed: Text can't be blank", headers);
      if (statusLength(text, spoiler, state.config.charactersReservedPerUrl) > state.config.maxCharacters) {
        return apiError(422, `Validation failed: Text character limit of ${state.config.maxCharacters} exceeded`, headers);
      }

      // RateLimiter, statuses family: 300 per 3 h per account, only for statuses actually created.
      const family = state.count("statuses", account.id, state.config.throttles.statuses, false);
      if (family.remaining <= 0) return tooManyRequests(family);

      const before = state.takeFault(account.id, "error_before_commit", "reset_before_commit", "slow_commit");
      if (before?.kind === "error_before_commit") return serverError(before.status);
      if (before?.kind === "reset_before_commit") return RESET_CONNECTION;
      if (before?.kind === "slow_commit") await sleep(before.ms);

      const app = state.apps.get(caller.token.client_id);
      const status: FakeStatus = {
        id: state.newId(),
        account_id: account.id,
        text,
        spoiler_text: spoiler,
        // A limited (silenced) account's public posts are stored unlisted.
        visibility: visibility === "public" && account.silenced ? "unlisted" : (visibility as FakeStatus["visibility"]),
        language: str(params.language) ?? "en",
        sensitive: params.sensitive === true || params.sensitive === "true" || spoiler !== "",
        in_reply_to_id: parent?.id ?? null,
        media_ids: mediaIds,
        created_at: state.now(),
        application: app ? { name: app.name, website: app.website } : null,
        favourites_count: 0,
        reblogs_count: 0,
        replies_count: 0,
        deleted: false,
        idempotency_key: key,
        response_lost: null,
      };
      state.statuses.push(status);
      for (const m of media) m!.status_id = status.id;
      if (parent) parent.replies_count++;
      const spent = state.count("statuses", account.id, state.config.throttles.statuses);
      if (key) state.idempotency.set(lockKey, { status_id: status.id, expires_at: status.created_at + state.config.idempotencyTtlMs });

      // override_rate_limit_headers :create, family: :statuses — unless Rack::Attack's budget is tighter.
      const rack = Number(headers["x-ratelimit-remaining"] ?? Infinity);
      const answerHeaders = rack < spent.remaining ? headers : budgetHeaders(spent);

      const after = state.takeFault(account.id, "drop_after_commit", "error_after_commit", "hang_after_commit");
      if (after) status.response_lost = after.kind;
      if (after?.kind === "drop_after_commit") return RESET_CONNECTION;
      if (after?.kind === "error_after_commit") return serverError(after.status);
      if (after?.kind === "hang_after_commit") await sleep(after.ms);
      return json(200, presentStatus(status, account.id), answerHeaders);
    } finally {
      if (key && mode === "upstream-current") state.idempotencyLocks.delete(lockKey);
    }
  }

  function serverError(status: number): Response {
    if (status === 503) return apiError(503, TEMPORARY_PROBLEM);
    if (status === 502 || status === 504) return html(status, `<center><h1>${status} ${status === 502 ? "Bad Gateway" : "Gateway Time-out"}</h1></center><hr><center>nginx</center>`);
    return html(status, "<h1>We're sorry, but something went wrong.</h1>");
  }

  /**
   * GET /api/v1/statuses/:id/context (docs: https://docs.joinmastodon.org/methods/statuses/#context):
   * `ancestors` (what it replies to, oldest first) and `descendants` (replies to it and to them, in
   * thread order, depth first), each only if the viewer may see it; 404 for a status it may not.
   */
  function statusContext(id: string, viewer: string, headers: Record<string, string>): Response {
    const visibleTo = (s: FakeStatus | undefined): s is FakeStatus =>
      !!s && !s.deleted && (s.account_id === viewer || s.visibility === "public" || s.visibility === "unlisted");
    const status = state.status(id);
    if (!visibleTo(status)) return apiError(404, "Record not found", headers);
    const ancestors: FakeStatus[] = [];
    for (let up = status.in_reply_to_id ? state.status(status.in_reply_to_id) : undefined; up; up = up.in_reply_to_id ? state.status(up.in_reply_to_id) : undefined) {
      if (visibleTo(up)) ancestors.unshift(up);
    }
    const descendants: FakeStatus[] = [];
    const walk = (parentId: string) => {
      for (const child of state.statuses.filter((s) => s.in_reply_to_id === parentId).sort((a, b) => (BigInt(a.id) > BigInt(b.id) ? 1 : -1))) {
        if (!visibleTo(child)) continue;
        descendants.push(child);
        walk(child.id);
      }
    };
    walk(status.id);
    return json(200, { ancestors: ancestors.map((s) => presentStatus(s, viewer)), descendants: descendants.map((s) => presentStatus(s, viewer)) }, headers);
  }

  /** GET /api/v1/accounts/:id/statuses (docs: https://docs.joinmastodon.org/methods/accounts/#statuses), newest first, with a Link header. */
  function accountStatuses(url: URL, accountId: string, viewer: string, headers: Record<string, string>): Response {
    if (!state.accounts.get(accountId)) return apiError(404, "Record not found", headers);
    const q = url.searchParams;
    const limit = Math.min(Math.max(Number(q.get("limit") ?? 20) || 20, 1), 40);
    const maxId = q.get("max_id") ? BigInt(q.get("max_id")!) : null;
    const sinceId = q.get("since_id") ? BigInt(q.get("since_id")!) : null;
    const minId = q.get("min_id") ? BigInt(q.get("min_id")!) : null;
    const visibleUntil = state.now() - state.config.readLagMs;
    let list = state
      .liveStatusesOf(accountId)
      .filter((s) => s.created_at <= visibleUntil)
      .filter((s) => (maxId === null || BigInt(s.id) < maxId) && (sinceId === null || BigInt(s.id) > sinceId) && (minId === null || BigInt(s.id) > minId))
      .filter((s) => q.get("exclude_replies") !== "true" || s.in_reply_to_id === null);
    // The author sees every visibility; others only public and unlisted.
    if (viewer !== accountId) list = list.filter((s) => s.visibility === "public" || s.visibility === "unlisted");
    // min_id pages forward (the oldest newer ones); otherwise the newest first.
    list.sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
    const page = minId !== null ? list.slice(-limit) : list.slice(0, limit);
    const links: string[] = [];
    const base = `${origin()}/api/v1/accounts/${accountId}/statuses`;
    if (page.length > 0) {
      if (page.length === limit) links.push(`<${base}?limit=${limit}&max_id=${page[page.length - 1].id}>; rel="next"`);
      links.push(`<${base}?limit=${limit}&min_id=${page[0].id}>; rel="prev"`);
    }
    return json(200, page.map((s) => presentStatus(s, viewer)), links.length ? { ...headers, link: links.join(", ") } : headers);
  }

  // ---------------------------------------------------------------- media (docs: https://docs.joinmastodon.org/methods/media/)

  async function uploadMedia(request: Request, caller: Caller & { account: FakeAccount }, headers: Record<string, string>): Promise<Response> {
    if (state.takeFault(caller.account.id, "media_error")) return apiError(500, "Error processing thumbnail for uploaded media", headers);
    let form: FormData;
    try {
      form = await request.formData();
    } catch {
      return apiError(422, "Validation failed: File can't be blank", headers);
    }
    const file = form.get("file");
    if (!(file instanceof Blob)) return apiError(422, "Validation failed: File can't be blank", headers);
    const contentType = file.type.split(";")[0].trim();
    const type: FakeMedia["type"] | null =
      contentType === "image/gif" ? "gifv" : contentType.startsWith("image/") ? "image" : contentType.startsWith("video/") ? "video" : contentType.startsWith("audio/") ? "audio" : null;
    if (!type) return apiError(422, "Validation failed: File content type is invalid, File is invalid", headers);
    const limit = type === "image" ? state.config.imageSizeLimit : state.config.videoSizeLimit;
    if (file.size > limit) return apiError(422, `Validation failed: File file size must be less than ${limit} Bytes`, headers);
    const media: FakeMedia = {
      id: state.newId(),
      account_id: caller.account.id,
      type,
      content_type: contentType,
      size: file.size,
      description: typeof form.get("description") === "string" ? (form.get("description") as string) : null,
      // Images are processed synchronously (200); video, audio and GIFs asynchronously (202).
      ready_at: type === "image" ? state.now() : state.now() + state.config.mediaProcessingMs,
      failed: false,
      status_id: null,
    };
    state.media.set(media.id, media);
    return json(type === "image" ? 200 : 202, presentMedia(media), headers);
  }

  function getMedia(id: string, caller: Caller & { account: FakeAccount }, headers: Record<string, string>): Response {
    const media = state.media.get(id);
    if (!media || media.account_id !== caller.account.id) return apiError(404, "Record not found", headers);
    if (media.failed) return apiError(422, "There was an error processing your media", headers);
    return json(state.now() >= media.ready_at ? 200 : 206, presentMedia(media), headers);
  }

  // ---------------------------------------------------------------- instance (docs: https://docs.joinmastodon.org/methods/instance/)

  function instance(version: 1 | 2): Response {
    const c = state.config;
    const configuration = {
      statuses: { max_characters: c.maxCharacters, max_media_attachments: c.maxMediaAttachments, characters_reserved_per_url: c.charactersReservedPerUrl },
      media_attachments: {
        supported_mime_types: ["image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/webm", "audio/mpeg"],
        description_limit: 1_500,
        image_size_limit: c.imageSizeLimit,
        image_matrix_limit: 33_177_600,
        video_size_limit: c.videoSizeLimit,
        video_frame_rate_limit: 120,
        video_matrix_limit: 8_294_400,
      },
      polls: { max_options: 4, max_characters_per_option: 50, min_expiration: 300, max_expiration: 2_629_746 },
    };
    if (version === 1) return json(200, { uri: state.host, title: "Fake Mastodon", version: "3.5.0", configuration });
    return json(200, {
      domain: state.host,
      title: "Fake Mastodon",
      version: c.pkce ? "4.5.0" : "4.2.0",
      api_versions: c.pkce ? { mastodon: 6 } : undefined,
      source_url: "https://github.com/mastodon/mastodon",
      description: "A local fake of a Mastodon instance, for Pacer's tests and development.",
      configuration: { urls: {}, accounts: { max_featured_tags: 10 }, ...configuration, translation: { enabled: false } },
      registrations: { enabled: true, approval_required: false, message: null },
    });
  }

  // ---------------------------------------------------------------- routing

  async function api(request: Request, url: URL, headers: Record<string, string>): Promise<FakeReply> {
    const path = url.pathname;
    const method = request.method;
    if (path === "/api/v2/instance" && method === "GET") return state.config.instanceV2 ? withHeaders(instance(2), headers) : apiError(404, "Record not found", headers);
    if (path === "/api/v1/instance" && method === "GET") return withHeaders(instance(1), headers);
    if (path === "/api/v1/apps" && method === "POST") return withHeaders(await createApp(request), headers);

    const need = (scopes: string[]) => authorize(request, scopes);
    // One-shot faults for the caller's account: a 429 or a 5xx on its next API request.
    const token = bearer(request);
    if (token?.account_id && !token.revoked) {
      // Random faults (when on) are rolled per status creation, then met like queued ones.
      if (path === "/api/v1/statuses" && method === "POST") state.rollFault(token.account_id);
      const fault = state.takeFault(token.account_id, "rate_limit", "error_before_commit");
      if (fault?.kind === "rate_limit") return tooManyRequests({ limit: state.config.throttles.perToken.limit, remaining: 0, resetAt: state.now() + fault.resetInMs });
      if (fault?.kind === "error_before_commit") return serverError(fault.status);
    }

    if (path === "/api/v1/accounts/verify_credentials" && method === "GET") {
      const auth = need(["read:accounts", "profile"]);
      if (!auth.caller) return withHeaders(auth.response, headers);
      const a = auth.caller.account;
      return json(200, { ...presentAccount(a), source: { privacy: "public", sensitive: false, language: "", note: "", fields: [], follow_requests_count: 0 } }, headers);
    }
    if (path === "/api/v1/statuses" && method === "POST") {
      const auth = need(["write:statuses"]);
      if (!auth.caller) return withHeaders(auth.response, headers);
      return createStatus(request, auth.caller, headers);
    }
    if (path === "/api/v2/media" && method === "POST") {
      const auth = need(["write:media"]);
      if (!auth.caller) return withHeaders(auth.response, headers);
      return uploadMedia(request, auth.caller, headers);
    }
    const mediaMatch = path.match(/^\/api\/v1\/media\/(\d+)$/);
    if (mediaMatch && method === "GET") {
      const auth = need(["write:media"]);
      if (!auth.caller) return withHeaders(auth.response, headers);
      return getMedia(mediaMatch[1], auth.caller, headers);
    }
    const accountStatusesMatch = path.match(/^\/api\/v1\/accounts\/(\d+)\/statuses$/);
    if (accountStatusesMatch && method === "GET") {
      const auth = need(["read:statuses"]);
      if (!auth.caller) return withHeaders(auth.response, headers);
      return accountStatuses(url, accountStatusesMatch[1], auth.caller.account.id, headers);
    }
    const contextMatch = path.match(/^\/api\/v1\/statuses\/(\d+)\/context$/);
    if (contextMatch && method === "GET") {
      const auth = need(["read:statuses"]);
      if (!auth.caller) return withHeaders(auth.response, headers);
      return statusContext(contextMatch[1], auth.caller.account.id, headers);
    }
    const statusMatch = path.match(/^\/api\/v1\/statuses\/(\d+)(\/source)?$/);
    if (statusMatch) {
      const auth = need(method === "DELETE" ? ["write:statuses"] : ["read:statuses"]);
      if (!auth.caller) return withHeaders(auth.response, headers);
      const status = state.status(statusMatch[1]);
      const viewer = auth.caller.account.id;
      const visible = status && !status.deleted && (status.account_id === viewer || status.visibility === "public" || status.visibility === "unlisted");
      if (!visible) return apiError(404, "Record not found", headers);
      if (method === "GET" && statusMatch[2]) return json(200, { id: status.id, text: status.text, spoiler_text: status.spoiler_text }, headers);
      if (method === "GET") return json(200, presentStatus(status, viewer), headers);
      if (method === "DELETE" && !statusMatch[2]) {
        if (status.account_id !== viewer) return apiError(404, "Record not found", headers);
        status.deleted = true;
        return json(200, { ...presentStatus(status, viewer), text: status.text }, headers);
      }
    }
    return apiError(404, "Record not found", headers);
  }

  return async function handle(request: Request): Promise<FakeReply> {
    const url = new URL(request.url);
    const path = url.pathname;
    const method = request.method;
    if (path === "/.well-known/oauth-authorization-server" && method === "GET") return authorizationServer();
    if (path === "/oauth/authorize" && method === "GET") return authorizePage(request, url.searchParams);
    if (path === "/oauth/authorize" && method === "POST") return approve(request);
    if (path === "/oauth/token" && method === "POST") return token(request);
    if (path === "/oauth/revoke" && method === "POST") return revoke(request);
    if (path === "/" && method === "GET") return html(200, `<h1>Fake Mastodon</h1><p>${state.accounts.size} accounts, ${state.statuses.filter((s) => !s.deleted).length} statuses.</p>`);
    const limited = throttle(request, url);
    if (limited.response) return limited.response;
    if (path.startsWith("/api/")) return api(request, url, limited.headers);
    return html(404, "<h1>The page you are looking for isn't here.</h1>");
  };
}

function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const [k, v] of Object.entries(headers)) if (!response.headers.has(k)) response.headers.set(k, v);
  return response;
}
