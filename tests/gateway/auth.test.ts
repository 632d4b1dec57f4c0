// The local auth server as @supabase/supabase-js sees it: sign-up, sign-in, JWKS-verified claims,
// refresh-token rotation, sign-out and GoTrue's error codes, against the gateway the test run started
// (plus a private gateway where a test needs to hold the signing key or change a setting).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createClient } from "@supabase/supabase-js";
import { SignJWT, decodeJwt, decodeProtectedHeader, generateKeyPair, importJWK, type JWK } from "jose";
import postgres from "postgres";
import { generateKeys, type LocalKeys } from "../../local/keys.ts";
import { startGateway, type Gateway } from "../../local/gateway/server.ts";
import { createUser } from "../../local/gateway/auth.ts";
import { freePort } from "../setup/free-port.ts";

const SUPABASE_URL = process.env.NEXT_PUBLIC_SUPABASE_URL!;
const PUBLISHABLE_KEY = process.env.NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY!;
const PASSWORD = "correct-horse-9";

const newEmail = (label = "auth") => `${label}-${randomUUID().slice(0, 12)}@pacer.test`;

/** A supabase-js client that keeps nothing between calls, and records the paths it requests. */
function client(opts: { url?: string; key?: string } = {}) {
  const requests: string[] = [];
  const supabase = createClient(opts.url ?? SUPABASE_URL, opts.key ?? PUBLISHABLE_KEY, {
    // A storage key per client: auth-js caches the JWKS per storage key across clients.
    auth: { persistSession: false, autoRefreshToken: false, storageKey: `test-${randomUUID()}` },
    global: {
      fetch: (input, init) => {
        requests.push(new URL(input instanceof Request ? input.url : input.toString()).pathname);
        return fetch(input, init);
      },
    },
  });
  return { supabase, requests };
}

async function signUp(label?: string, data: Record<string, unknown> = {}) {
  const email = newEmail(label);
  const { data: result, error } = await client().supabase.auth.signUp({ email, password: PASSWORD, options: { data } });
  expect(error).toBeNull();
  return { email, session: result.session!, user: result.user! };
}

/** A raw call to /auth/v1, for what supabase-js doesn't expose (status codes, bodies, headers). */
function authFetch(path: string, init: RequestInit = {}, base = SUPABASE_URL) {
  return fetch(`${base}/auth/v1${path}`, {
    ...init,
    headers: { apikey: PUBLISHABLE_KEY, "content-type": "application/json", ...(init.headers as Record<string, string>) },
  });
}

describe("sign-up", () => {
  it("returns a session and a confirmed user, as GoTrue does with autoconfirm", async () => {
    const email = newEmail("Signup").replace("signup", "SignUp");
    const { data, error } = await client().supabase.auth.signUp({
      email,
      password: PASSWORD,
      options: { data: { workspace_name: "Acme" } },
    });
    expect(error).toBeNull();
    const { session, user } = data;
    expect(session).toMatchObject({ token_type: "bearer", expires_in: 3600 });
    expect(session!.refresh_token).toMatch(/^[a-z0-9]{12}$/);
    expect(session!.expires_at).toBe(decodeJwt(session!.access_token).exp);
    expect(user).toMatchObject({
      email: email.toLowerCase(),
      aud: "authenticated",
      role: "authenticated",
      phone: "",
      app_metadata: { provider: "email", providers: ["email"] },
      user_metadata: { workspace_name: "Acme" },
      is_anonymous: false,
    });
    expect(user!.email_confirmed_at).toBeTruthy();
    expect(user!.confirmed_at).toBe(user!.email_confirmed_at);
    expect(user!.identities).toHaveLength(1);
    expect(user!.identities![0]).toMatchObject({ provider: "email", user_id: user!.id });
  });

  it("stores the user as Supabase does: bcrypt hash, confirmed, email provider", async () => {
    const { user } = await signUp();
    const sql = postgres(process.env.SUPABASE_DB_URL!, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql`select * from auth.users where id = ${user.id}`;
      expect(row.encrypted_password).toMatch(/^\$2[ab]\$10\$/);
      expect(row.email_confirmed_at).toBeInstanceOf(Date);
      expect(row.raw_app_meta_data).toEqual({ provider: "email", providers: ["email"] });
      expect(row.instance_id).toBe("00000000-0000-0000-0000-000000000000");
      const sessions = await sql`select aal from auth.sessions where user_id = ${user.id}`;
      expect(sessions.map((s) => s.aal)).toEqual(["aal1"]);
    } finally {
      await sql.end();
    }
  });

  it("returns the session straight away for a PKCE client too (@supabase/ssr's flow)", async () => {
    const supabase = createClient(SUPABASE_URL, PUBLISHABLE_KEY, {
      auth: { persistSession: false, autoRefreshToken: false, flowType: "pkce", storageKey: `test-${randomUUID()}` },
    });
    const { data, error } = await supabase.auth.signUp({ email: newEmail("pkce"), password: PASSWORD });
    expect(error).toBeNull();
    expect(data.session?.access_token).toBeTruthy();
  });

  it("refuses an email that is already registered, whatever its case", async () => {
    const { email } = await signUp();
    const { data, error } = await client().supabase.auth.signUp({ email: email.toUpperCase(), password: PASSWORD });
    expect(data.session).toBeNull();
    expect(error).toMatchObject({ code: "user_already_exists", status: 422, message: "User already registered" });
  });

  it("refuses a weak password with GoTrue's weak_password error", async () => {
    const { error } = await client().supabase.auth.signUp({ email: newEmail(), password: "12345" });
    expect(error).toMatchObject({
      name: "AuthWeakPasswordError",
      code: "weak_password",
      status: 422,
      message: "Password should be at least 6 characters.",
      reasons: ["length"],
    });
  });

  it("refuses a malformed email", async () => {
    const { error } = await client().supabase.auth.signUp({ email: "not an email", password: PASSWORD });
    expect(error).toMatchObject({
      code: "validation_failed",
      status: 400,
      message: "Unable to validate email address: invalid format",
    });
  });
});

describe("password sign-in", () => {
  it("opens a new session for the right password", async () => {
    const { email, session: first, user } = await signUp();
    const { data, error } = await client().supabase.auth.signInWithPassword({ email: email.toUpperCase(), password: PASSWORD });
    expect(error).toBeNull();
    expect(data.user!.id).toBe(user.id);
    expect(data.user!.last_sign_in_at).toBeTruthy();
    expect(decodeJwt(data.session!.access_token).session_id).not.toBe(decodeJwt(first.access_token).session_id);
  });

  it("answers a wrong password and an unknown email alike: 400 invalid_credentials", async () => {
    const { email } = await signUp();
    for (const attempt of [
      { email, password: "wrong-password" },
      { email: newEmail("nobody"), password: PASSWORD },
    ]) {
      const { data, error } = await client().supabase.auth.signInWithPassword(attempt);
      expect(data.session).toBeNull();
      expect(error).toMatchObject({ code: "invalid_credentials", status: 400, message: "Invalid login credentials" });
    }
  });

  it("signs in a user made with createUser", async () => {
    const sql = postgres(process.env.SUPABASE_DB_URL!, { max: 1, onnotice: () => {} });
    try {
      const email = newEmail("made");
      const { id } = await createUser(sql, { email, password: PASSWORD, userMetadata: { full_name: "Demo" } });
      const { data, error } = await client().supabase.auth.signInWithPassword({ email, password: PASSWORD });
      expect(error).toBeNull();
      expect(data.user).toMatchObject({ id, user_metadata: { full_name: "Demo" } });
      await expect(createUser(sql, { email, password: PASSWORD })).rejects.toMatchObject({ code: "user_already_exists" });
    } finally {
      await sql.end();
    }
  });
});

describe("access tokens", () => {
  it("carry Supabase's claims, and getClaims verifies them with the JWKS instead of calling /user", async () => {
    const { session, user, email } = await signUp();
    const { supabase, requests } = client();
    const { data, error } = await supabase.auth.getClaims(session.access_token);
    expect(error).toBeNull();
    expect(data!.header).toMatchObject({ alg: "ES256", typ: "JWT" });
    expect(data!.header.kid).toBeTruthy();
    const claims = data!.claims;
    expect(claims).toMatchObject({
      iss: `${SUPABASE_URL}/auth/v1`,
      sub: user.id,
      aud: "authenticated",
      role: "authenticated",
      email,
      phone: "",
      aal: "aal1",
      is_anonymous: false,
      app_metadata: { provider: "email", providers: ["email"] },
    });
    expect(claims.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.amr).toEqual([{ method: "password", timestamp: expect.any(Number) }]);
    expect(claims.exp - claims.iat).toBe(3600);

    await supabase.auth.getClaims(session.access_token);
    expect(requests.filter((p) => p === "/auth/v1/.well-known/jwks.json")).toHaveLength(1);
    expect(requests.filter((p) => p === "/auth/v1/user")).toHaveLength(0);
  });

  it("are accepted by getUser while their session lives", async () => {
    const { session, user } = await signUp();
    const { data, error } = await client().supabase.auth.getUser(session.access_token);
    expect(error).toBeNull();
    expect(data.user).toMatchObject({ id: user.id, email: user.email });
  });

  it("are rejected when signed by another key under the same kid", async () => {
    const { session } = await signUp();
    const { kid } = decodeProtectedHeader(session.access_token);
    const { privateKey } = await generateKeyPair("ES256");
    const forged = await new SignJWT(decodeJwt(session.access_token))
      .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
      .sign(privateKey);

    const { data, error } = await client().supabase.auth.getClaims(forged);
    expect(data).toBeNull();
    expect(error).toMatchObject({ name: "AuthInvalidJwtError", message: "Invalid JWT signature" });

    const res = await authFetch("/user", { headers: { authorization: `Bearer ${forged}`, "x-supabase-api-version": "2024-01-01" } });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: "bad_jwt" });
  });

  it("are rejected when signed with HS256 (getClaims then asks /user, which refuses)", async () => {
    const { session } = await signUp();
    const forged = await new SignJWT(decodeJwt(session.access_token))
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .sign(new TextEncoder().encode("super-secret-jwt-token-with-at-least-32-characters-long"));
    const { supabase, requests } = client();
    const { data, error } = await supabase.auth.getClaims(forged);
    expect(data).toBeNull();
    expect(error).toMatchObject({ code: "bad_jwt", status: 403 });
    expect(requests).toContain("/auth/v1/user");
  });
});

describe("refresh tokens", () => {
  it("rotate: a refresh issues a new refresh token and a new access token for the same session", async () => {
    const { session } = await signUp();
    const { supabase } = client();
    const { data, error } = await supabase.auth.refreshSession({ refresh_token: session.refresh_token });
    expect(error).toBeNull();
    const next = data.session!;
    expect(next.refresh_token).not.toBe(session.refresh_token);
    expect(decodeJwt(next.access_token).session_id).toBe(decodeJwt(session.access_token).session_id);
    // The sign-in time stays in amr across refreshes, as GoTrue keeps it on the session.
    expect(decodeJwt(next.access_token).amr).toEqual(decodeJwt(session.access_token).amr);

    // GoTrue lets a client that lost the answer retry with the parent token: it gets the same child.
    const retry = await client().supabase.auth.refreshSession({ refresh_token: session.refresh_token });
    expect(retry.error).toBeNull();
    expect(retry.data.session!.refresh_token).toBe(next.refresh_token);
  });

  it("refuses an unknown refresh token", async () => {
    const { error } = await client().supabase.auth.refreshSession({ refresh_token: "nosuchtoken1" });
    expect(error).toMatchObject({
      code: "refresh_token_not_found",
      status: 400,
      message: "Invalid Refresh Token: Refresh Token Not Found",
    });
  });
});

describe("sign-out", () => {
  it("ends the session: its refresh token and access token stop working against Auth", async () => {
    const { email } = await signUp();
    const { supabase } = client();
    const { data } = await supabase.auth.signInWithPassword({ email, password: PASSWORD });
    const { access_token, refresh_token } = data.session!;
    expect((await supabase.auth.signOut()).error).toBeNull();

    const refreshed = await client().supabase.auth.refreshSession({ refresh_token });
    expect(refreshed.error).toMatchObject({ code: "refresh_token_not_found", status: 400 });

    const user = await client().supabase.auth.getUser(access_token);
    expect(user.error).toMatchObject({ name: "AuthSessionMissingError" });
    const res = await authFetch("/user", { headers: { authorization: `Bearer ${access_token}`, "x-supabase-api-version": "2024-01-01" } });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      code: "session_not_found",
      message: "Session from session_id claim in JWT does not exist",
    });

    // As on Supabase, the JWT itself stays valid until it expires: only Auth knows the session ended.
    expect((await client().supabase.auth.getClaims(access_token)).error).toBeNull();
  });

  it("signs out everywhere by default, or only elsewhere with scope 'others', or only here with 'local'", async () => {
    const { email } = await signUp();
    const signIn = async () => {
      const c = client().supabase;
      const { data } = await c.auth.signInWithPassword({ email, password: PASSWORD });
      return { c, session: data.session! };
    };
    const stillRefreshes = async (refresh_token: string) =>
      (await client().supabase.auth.refreshSession({ refresh_token })).error === null;

    const a = await signIn();
    const b = await signIn();
    await a.c.auth.signOut({ scope: "others" });
    expect(await stillRefreshes(a.session.refresh_token)).toBe(true);
    expect(await stillRefreshes(b.session.refresh_token)).toBe(false);

    const c = await signIn();
    const d = await signIn();
    await c.c.auth.signOut({ scope: "local" });
    expect(await stillRefreshes(c.session.refresh_token)).toBe(false);
    expect(await stillRefreshes(d.session.refresh_token)).toBe(true);

    const e = await signIn();
    await e.c.auth.signOut();
    expect(await stillRefreshes(e.session.refresh_token)).toBe(false);
    expect(await stillRefreshes(d.session.refresh_token)).toBe(false);
  });
});

describe("a gateway holding its own signing key", () => {
  let keys: LocalKeys;
  let gateway: Gateway;
  let functionsDir: string;
  const own = () => client({ url: gateway.url, key: keys.publishableKey });

  beforeAll(async () => {
    keys = await generateKeys();
    functionsDir = mkdtempSync(join(tmpdir(), "pacer-gateway-functions-"));
    mkdirSync(join(functionsDir, "echo"));
    writeFileSync(
      join(functionsDir, "echo", "index.ts"),
      `Deno.serve(async (req) => Response.json({
        method: req.method,
        path: new URL(req.url).pathname,
        auth: req.headers.get("authorization"),
        body: await req.text(),
      }));`,
    );
    gateway = await startGateway({
      port: await freePort(),
      dbUrl: process.env.SUPABASE_DB_URL!,
      keys,
      functionsDir,
      functionEnv: {},
      scheduler: false,
      log: () => {},
      auth: { accessTokenTtlSeconds: 2, refreshTokenReuseIntervalSeconds: 0 },
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    rmSync(functionsDir, { recursive: true, force: true });
  });

  it("issues tokens with the configured lifetime, signed by its key", async () => {
    const { data } = await own().supabase.auth.signUp({ email: newEmail("ttl"), password: PASSWORD });
    expect(data.session!.expires_in).toBe(2);
    const { exp, iat } = decodeJwt(data.session!.access_token);
    expect(exp! - iat!).toBe(2);
    expect(decodeProtectedHeader(data.session!.access_token).kid).toBe(keys.jwtPublicJwk.kid);
  });

  it("rejects an expired token: getClaims locally, /user with bad_jwt", async () => {
    const { data } = await own().supabase.auth.signUp({ email: newEmail("exp"), password: PASSWORD });
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ ...decodeJwt(data.session!.access_token), iat: now - 120, exp: now - 60 })
      .setProtectedHeader({ alg: "ES256", kid: keys.jwtPrivateJwk.kid, typ: "JWT" })
      .sign(await importJWK(keys.jwtPrivateJwk as JWK, "ES256"));

    const claims = await own().supabase.auth.getClaims(expired);
    expect(claims.error).toMatchObject({ name: "AuthInvalidJwtError", message: "JWT has expired" });

    const res = await authFetch(
      "/user",
      { headers: { apikey: keys.publishableKey, authorization: `Bearer ${expired}`, "x-supabase-api-version": "2024-01-01" } },
      gateway.url,
    );
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      code: "bad_jwt",
      message: "invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired",
    });
  });

  it("refuses a refresh token reused after the grace period, and revokes the session's tokens", async () => {
    const { data } = await own().supabase.auth.signUp({ email: newEmail("reuse"), password: PASSWORD });
    const a = data.session!.refresh_token;
    const b = (await own().supabase.auth.refreshSession({ refresh_token: a })).data.session!.refresh_token;
    const c = (await own().supabase.auth.refreshSession({ refresh_token: b })).data.session!.refresh_token;

    const reused = await own().supabase.auth.refreshSession({ refresh_token: a });
    expect(reused.error).toMatchObject({
      code: "refresh_token_already_used",
      status: 400,
      message: "Invalid Refresh Token: Already Used",
    });
    // Reuse looks like theft, so the newest token in the family is revoked with it.
    const latest = await own().supabase.auth.refreshSession({ refresh_token: c });
    expect(latest.error).toMatchObject({ code: "refresh_token_already_used" });
  });

  it("hands /functions/v1/<name>/... to the function runner, leaving CORS to the function as Supabase does", async () => {
    const res = await fetch(`${gateway.url}/functions/v1/echo/a/b`, {
      method: "POST",
      headers: { authorization: "Bearer some-token", origin: "http://localhost:3000" },
      body: "hello",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ method: "POST", path: "/echo/a/b", auth: "Bearer some-token", body: "hello" });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("does not accept tokens signed by another gateway's key", async () => {
    const { session } = await signUp();
    const { error } = await own().supabase.auth.getUser(session.access_token);
    expect(error).toMatchObject({ code: "bad_jwt", status: 403 });
  });
});

describe("the gateway", () => {
  it("requires the project's API key on Auth, except for health and the JWKS", async () => {
    const noKey = await fetch(`${SUPABASE_URL}/auth/v1/settings`);
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ message: "No API key found in request" });

    const wrongKey = await fetch(`${SUPABASE_URL}/auth/v1/settings`, { headers: { apikey: "sb_publishable_nope" } });
    expect(wrongKey.status).toBe(401);
    expect(await wrongKey.json()).toMatchObject({ message: "Invalid API key" });

    const settings = await authFetch("/settings");
    expect(settings.status).toBe(200);
    expect(await settings.json()).toMatchObject({ mailer_autoconfirm: true, disable_signup: false, external: { email: true } });

    expect((await fetch(`${SUPABASE_URL}/auth/v1/health`)).status).toBe(200);
    const jwks = await fetch(`${SUPABASE_URL}/auth/v1/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    const { keys } = await jwks.json();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(keys[0].d).toBeUndefined();
  });

  it("shapes errors by the API version the client asks for, as GoTrue does", async () => {
    const body = JSON.stringify({ email: newEmail("nobody"), password: PASSWORD });
    const current = await authFetch("/token?grant_type=password", {
      method: "POST",
      body,
      headers: { "x-supabase-api-version": "2024-01-01" },
    });
    expect(current.headers.get("x-supabase-api-version")).toBe("2024-01-01");
    expect(await current.json()).toEqual({ code: "invalid_credentials", message: "Invalid login credentials" });

    const legacy = await authFetch("/token?grant_type=password", { method: "POST", body });
    expect(await legacy.json()).toEqual({ code: 400, error_code: "invalid_credentials", msg: "Invalid login credentials" });
  });

  it("answers CORS for the browser app, for any origin", async () => {
    const origin = "http://localhost:3000";
    const preflight = await fetch(`${SUPABASE_URL}/auth/v1/token?grant_type=password`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "apikey, authorization, content-type, x-client-info, x-supabase-api-version",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
    expect(preflight.headers.get("access-control-allow-credentials")).toBe("true");
    const allowed = preflight.headers.get("access-control-allow-headers")!.split(/,\s*/);
    for (const h of ["apikey", "authorization", "content-type", "x-client-info", "x-supabase-api-version"]) {
      expect(allowed).toContain(h);
    }

    const real = await authFetch("/settings", { headers: { origin: "http://127.0.0.1:3000" } });
    expect(real.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:3000");
    expect(real.headers.get("access-control-expose-headers")).toContain("x-supabase-api-version");
  });

  it("says plainly what it does not serve", async () => {
    const res = await authFetch("/otp", { method: "POST", body: "{}", headers: { "x-supabase-api-version": "2024-01-01" } });
    expect(res.status).toBe(404);
    expect((await res.json()).message).toContain("not implemented");
  });

  it("refuses to start in production or on any address but 127.0.0.1", async () => {
    const base = {
      port: 0,
      dbUrl: process.env.SUPABASE_DB_URL!,
      keys: await generateKeys(),
      functionsDir: tmpdir(),
      functionEnv: {},
      scheduler: false,
      log: () => {},
    };
    await expect(startGateway({ ...base, host: "0.0.0.0" })).rejects.toThrow(/only listens on 127\.0\.0\.1/);
    vi.stubEnv("NODE_ENV", "production");
    try {
      await expect(startGateway(base)).rejects.toThrow(/NODE_ENV=production/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
