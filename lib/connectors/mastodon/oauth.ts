// Connecting a Mastodon account: the OAuth pieces the app's connect routes call, as plain functions
// over Pacer's guarded transport (docs/platforms/mastodon.md §1). The flow: the user names an
// instance → registerApp once per instance and redirect URI (keep the client id and secret,
// encrypted) → discover whether it does PKCE → send the user to authorizeUrl → exchangeCode with
// the code the instance redirects back with → the connector's `connect` verifies the token and gives
// the credentials to store. Mastodon tokens do not expire and there is no refresh token
// (doorkeeper.rb: access_token_expires_in nil); reconnecting is running this flow again.
// revokeToken on disconnect (Pacer forgets the token even when the instance cannot be reached).
import { readJson, send } from "../http.ts";
import { guardedFetch, parseAllowedHosts, type AllowedHosts } from "../outbound.ts";
import { singleSendFetch } from "../transport.ts";

/** What Pacer asks for: posting, media, and reading the account and its statuses (research §1.3). */
export const MASTODON_SCOPES = "read write:statuses write:media";

export interface MastodonOAuthOptions {
  allowedHosts?: string | readonly string[] | AllowedHosts;
  /** For reads and the app registration. */
  fetch?: typeof fetch;
  /** For the code exchange (a code is good once): must never re-send on its own (lib/connectors/transport.ts). */
  publishFetch?: typeof fetch;
}

export type OAuthFailure = { kind: "refused"; code: string; message: string } | { kind: "unavailable"; message: string };

export interface RegisteredApp {
  kind: "registered";
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  scopes: string[];
}

/**
 * The instance's origin from what a user typed ("mastodon.social", "https://social.example/"),
 * or null when it is not a host. Only the origin is kept: Mastodon's API lives at the root.
 */
export function instanceOrigin(input: string): string | null {
  const trimmed = input.trim().replace(/^@?[^@/]+@(?=[^@/]+$)/, ""); // "alice@social.example" names the instance too
  if (!trimmed) return null;
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`);
    if (url.protocol !== "https:" && url.protocol !== "http:") return null;
    if (url.username || url.password) return null;
    // A bare word is not an instance; localhost and IP literals are (the operator's allowlist decides whether Pacer may reach them).
    const hostLike = url.hostname.includes(".") || url.hostname === "localhost" || url.hostname.startsWith("[");
    if (!hostLike) return null;
    if (url.pathname !== "/" || url.search || url.hash) return null;
    return url.origin;
  } catch {
    return null;
  }
}

const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** A PKCE pair (RFC 7636, S256 — the only method Mastodon supports): keep the verifier with the state until the callback. */
export async function createPkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  return { verifier, challenge: base64url(digest) };
}

/**
 * Where to send the user (docs: https://docs.joinmastodon.org/methods/oauth/#authorize). Pass
 * `codeChallenge` only when `discover` said the instance does PKCE. `forceLogin` lets a user connect a
 * second account of the same instance.
 */
export function authorizeUrl(input: { instance: string; clientId: string; redirectUri: string; state: string; codeChallenge?: string | null; scopes?: string; forceLogin?: boolean }): string {
  const url = new URL("/oauth/authorize", input.instance);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", input.clientId);
  url.searchParams.set("redirect_uri", input.redirectUri);
  url.searchParams.set("scope", input.scopes ?? MASTODON_SCOPES);
  url.searchParams.set("state", input.state);
  if (input.codeChallenge) {
    url.searchParams.set("code_challenge", input.codeChallenge);
    url.searchParams.set("code_challenge_method", "S256");
  }
  if (input.forceLogin) url.searchParams.set("force_login", "true");
  return url.href;
}

export function createMastodonOAuth(opts: MastodonOAuthOptions = {}) {
  const allowed = opts.allowedHosts instanceof Set ? opts.allowedHosts : parseAllowedHosts(opts.allowedHosts as string | string[] | undefined);
  const reads = guardedFetch(opts.fetch ?? fetch, allowed);
  let once: typeof fetch | undefined;

  async function post(instance: string, path: string, body: Record<string, string | string[]>, signal: AbortSignal, through: typeof fetch) {
    const sent = await send(through, new URL(path, instance).href, { method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(body) }, signal);
    if (sent.outcome) return { failure: sent.outcome.message, notSent: sent.outcome.kind === "retryable" || sent.outcome.kind === "permanent" };
    return { status: sent.response.status, body: (await readJson(sent.response)) as Record<string, unknown> | undefined };
  }
  // The instance is the user's own input, so its name is shown; what failed reaching it (refused as
  // internal, not resolved) only goes to the log, or a sign-in would tell which internal names exist.
  const unreachable = (instance: string, detail: string): OAuthFailure => {
    console.warn(`mastodon: could not reach ${new URL(instance).host}: ${detail}`);
    return { kind: "unavailable", message: `Pacer could not reach ${new URL(instance).host}: check the instance's name, and try again in a moment.` };
  };
  const said = (body: Record<string, unknown> | undefined) => String(body?.error_description ?? body?.error ?? "").slice(0, 300);

  return {
    /** POST /api/v1/apps (docs: https://docs.joinmastodon.org/methods/apps/#create): once per instance and redirect URI. */
    async registerApp(
      instance: string,
      input: { clientName: string; redirectUri: string; website?: string; scopes?: string },
      { signal }: { signal: AbortSignal },
    ): Promise<RegisteredApp | OAuthFailure> {
      const scopes = input.scopes ?? MASTODON_SCOPES;
      const reply = await post(instance, "/api/v1/apps", { client_name: input.clientName, redirect_uris: [input.redirectUri], scopes, ...(input.website ? { website: input.website } : {}) }, signal, reads);
      if (reply.failure !== undefined) return unreachable(instance, reply.failure);
      const b = reply.body;
      if (reply.status === 200 && typeof b?.client_id === "string" && typeof b.client_secret === "string") {
        // redirect_uris since 4.3; older servers give redirect_uri (newline-joined).
        const uris = Array.isArray(b.redirect_uris) ? b.redirect_uris.map(String) : String(b.redirect_uri ?? input.redirectUri).split("\n");
        return { kind: "registered", clientId: b.client_id, clientSecret: b.client_secret, redirectUris: uris, scopes: scopes.split(" ") };
      }
      if (reply.status === 422) return { kind: "refused", code: "app_refused", message: `${new URL(instance).host} refused to register Pacer: ${said(b)}` };
      if (reply.status === 404 || (reply.status === 200 && !b)) return { kind: "refused", code: "not_mastodon", message: `${new URL(instance).host} does not answer as a Mastodon instance.` };
      return unreachable(instance, `HTTP ${reply.status}`);
    },

    /**
     * Whether the instance does PKCE: /.well-known/oauth-authorization-server (4.3+) listing S256.
     * A 404 is an older server: the plain code flow (the client secret still authenticates the exchange).
     */
    async discover(instance: string, { signal }: { signal: AbortSignal }): Promise<{ kind: "discovered"; pkce: boolean } | OAuthFailure> {
      const sent = await send(reads, new URL("/.well-known/oauth-authorization-server", instance).href, { headers: { accept: "application/json" } }, signal);
      if (sent.outcome) return unreachable(instance, sent.outcome.message);
      const body = (await readJson(sent.response)) as { code_challenge_methods_supported?: unknown } | undefined;
      if (sent.response.status === 404) return { kind: "discovered", pkce: false };
      if (sent.response.status !== 200) return unreachable(instance, `HTTP ${sent.response.status}`);
      const methods = body?.code_challenge_methods_supported;
      return { kind: "discovered", pkce: Array.isArray(methods) && methods.includes("S256") };
    },

    /**
     * POST /oauth/token with grant_type=authorization_code (docs: https://docs.joinmastodon.org/methods/oauth/#token).
     * Sent once (a code is good once). `invalid_client` means the instance forgot the app (< 4.3 could
     * vacuum apps): register again and restart the flow.
     */
    async exchangeCode(
      input: { instance: string; clientId: string; clientSecret: string; redirectUri: string; code: string; codeVerifier?: string | null },
      { signal }: { signal: AbortSignal },
    ): Promise<{ kind: "token"; accessToken: string; scope: string } | OAuthFailure> {
      try {
        once ??= guardedFetch(opts.publishFetch ?? opts.fetch ?? singleSendFetch(), allowed);
      } catch (error) {
        return unreachable(input.instance, (error as Error).message);
      }
      const body: Record<string, string> = {
        grant_type: "authorization_code",
        code: input.code,
        client_id: input.clientId,
        client_secret: input.clientSecret,
        redirect_uri: input.redirectUri,
        ...(input.codeVerifier ? { code_verifier: input.codeVerifier } : {}),
      };
      const reply = await post(input.instance, "/oauth/token", body, signal, once);
      if (reply.failure !== undefined) return unreachable(input.instance, reply.failure);
      const b = reply.body;
      if (reply.status === 200 && typeof b?.access_token === "string" && /^[\x21-\x7e]{1,512}$/.test(b.access_token)) {
        return { kind: "token", accessToken: b.access_token, scope: typeof b.scope === "string" ? b.scope : MASTODON_SCOPES };
      }
      if (b?.error === "invalid_grant") return { kind: "refused", code: "invalid_grant", message: "The authorization code expired or was already used: connect again." };
      if (b?.error === "invalid_client") return { kind: "refused", code: "invalid_client", message: `${new URL(input.instance).host} no longer knows Pacer's app: register it again and connect again.` };
      if (reply.status >= 400 && reply.status < 500) return { kind: "refused", code: String(b?.error ?? "token_refused"), message: `${new URL(input.instance).host} refused the code: ${said(b)}` };
      return unreachable(input.instance, `HTTP ${reply.status}`);
    },

    /** POST /oauth/revoke (docs: https://docs.joinmastodon.org/methods/oauth/#revoke): 200 even when already revoked. */
    async revokeToken(
      input: { instance: string; clientId: string; clientSecret: string; token: string },
      { signal }: { signal: AbortSignal },
    ): Promise<{ kind: "revoked" } | OAuthFailure> {
      const reply = await post(input.instance, "/oauth/revoke", { client_id: input.clientId, client_secret: input.clientSecret, token: input.token }, signal, reads);
      if (reply.failure !== undefined) return unreachable(input.instance, reply.failure);
      if (reply.status === 200) return { kind: "revoked" };
      if (reply.status === 401 || reply.status === 403) return { kind: "refused", code: String(reply.body?.error ?? "unauthorized_client"), message: `${new URL(input.instance).host} refused to revoke: ${said(reply.body)}` };
      return unreachable(input.instance, `HTTP ${reply.status}`);
    },
  };
}
