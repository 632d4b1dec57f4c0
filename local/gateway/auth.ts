// The local stand-in for Supabase Auth (GoTrue): the email+password part of its HTTP API that
// @supabase/supabase-js and @supabase/ssr call, stored in auth.users / auth.sessions / auth.refresh_tokens.
//
// Status codes, error codes and messages follow supabase/auth (internal/api/*.go, internal/tokens/service.go)
// so that code written against this server behaves the same against a hosted project.
import { createHash, randomInt, randomUUID } from "node:crypto";
import { isIP } from "node:net";
import bcrypt from "bcryptjs";
import { SignJWT, errors as joseErrors, importJWK, jwtVerify, type JWK, type JWTPayload } from "jose";
import type postgres from "postgres";
import type { LocalKeys } from "../keys.ts";
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH } from "../../lib/auth/password-rules.ts";

type Sql = postgres.Sql;
type Tx = postgres.TransactionSql;

export interface AuthHandlerOptions {
  sql: Sql;
  keys: LocalKeys;
  log: (line: string) => void;
  /**
   * The `iss` claim: GoTrue's is its configured `<project url>/auth/v1`, never derived from the
   * request (so a token's issuer does not depend on which host name a client used).
   */
  issuer: string;
  /** Access token lifetime (GoTrue's JWT_EXP); 3600 as on Supabase. */
  accessTokenTtlSeconds?: number;
  /** How long a rotated refresh token may still be used (GoTrue's REFRESH_TOKEN_REUSE_INTERVAL); 10. */
  refreshTokenReuseIntervalSeconds?: number;
  /**
   * GoTrue's SITE_URL: the app its emails link to. A `redirect_to` on a loopback address wins (the
   * address the browser is really using), as a local project's redirect allow-list would let it.
   */
  siteUrl?: string;
  /** Delivers an email GoTrue would send (the password-reset link): SMTP, or the local mailbox. */
  sendMail: (mail: AuthMail) => Promise<void>;
}

/** One email from the auth server, with the link it carries kept apart for the local mailbox. */
export interface AuthMail {
  to: string;
  subject: string;
  text: string;
  link: string;
}

// GoTrue stores uuid.Nil as every row's instance_id.
const NIL_UUID = "00000000-0000-0000-0000-000000000000";
// GoTrue's mailer defaults: MAILER_OTP_EXP (a day), MAILER_OTP_LENGTH, SMTP_MAX_FREQUENCY (a minute).
const EMAIL_OTP_TTL_SECONDS = 86_400;
const EMAIL_OTP_LENGTH = 6;
const EMAIL_MAX_FREQUENCY_SECONDS = 60;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// The format check GoTrue runs (github.com/badoux/checkmail ValidateFormat).
const EMAIL_RE =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** An error GoTrue reports as {code, message} (API version 2024-01-01) or {code, error_code, msg}. */
export class AuthApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** GoTrue answers some /token problems in OAuth2's shape instead. */
class OAuthFailure extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  encrypted_password: string | null;
  email_confirmed_at: Date | null;
  last_sign_in_at: Date | null;
  recovery_token: string | null;
  recovery_sent_at: Date | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  created_at: Date | null;
  updated_at: Date | null;
  phone: string | null;
  banned_until: Date | null;
  is_anonymous: boolean;
}

interface SessionRef {
  id: string;
  created_at: Date;
}

export function createAuthHandler(opts: AuthHandlerOptions): (req: Request) => Promise<Response> {
  const { sql, keys, log } = opts;
  const ttl = opts.accessTokenTtlSeconds ?? 3600;
  const reuseInterval = opts.refreshTokenReuseIntervalSeconds ?? 10;
  const privateKey = importJWK(keys.jwtPrivateJwk as JWK, "ES256");
  const publicKey = importJWK(keys.jwtPublicJwk as JWK, "ES256");

  return async (req) => {
    const url = new URL(req.url);
    const path = url.pathname.replace(/^\/auth\/v1(?=\/|$)/, "") || "/";
    try {
      switch (`${req.method} ${path}`) {
        case "GET /health":
          return json(200, {
            version: "local",
            name: "GoTrue",
            description: "GoTrue is a user registration and authentication API",
          });
        case "GET /settings":
          return json(200, SETTINGS);
        case "GET /.well-known/jwks.json":
          // Supabase caches the JWKS at the edge for 10 minutes; auth-js caches it as long.
          return json(200, { keys: [keys.jwtPublicJwk] }, { "cache-control": "public, max-age=600" });
        case "POST /signup":
          return json(200, await signup(req));
        case "POST /token":
          return json(200, await token(req, url));
        case "GET /user": {
          const { user } = await authenticate(req);
          return json(200, userJson(user));
        }
        case "PUT /user":
          return json(200, await updateUser(req));
        case "POST /recover":
          return json(200, await recover(req, url));
        case "POST /verify":
          return json(200, await verify(req));
        case "POST /logout":
          await logout(req, url);
          return new Response(null, { status: 204 });
      }
      throw new AuthApiFailure(
        404,
        "not_found",
        `${req.method} /auth/v1${path} is not implemented by Pacer's local auth server (local/gateway/auth.ts)`,
      );
    } catch (error) {
      if (error instanceof AuthApiFailure) return errorResponse(req, error);
      if (error instanceof OAuthFailure) {
        return json(400, { error: error.error, error_description: error.description });
      }
      log(`auth: ${req.method} ${path} failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
      return errorResponse(
        req,
        new AuthApiFailure(500, "unexpected_failure", "Unexpected failure, please check server logs for more information"),
      );
    }
  };

  async function signup(req: Request) {
    const body = await readJson(req);
    const email = str(body.email);
    const phone = str(body.phone);
    const password = str(body.password);
    const data = isObject(body.data) ? body.data : {};
    // Same order of checks as GoTrue's Signup / validateSignupParams. PKCE fields are accepted and
    // ignored: with autoconfirm GoTrue returns the session directly, PKCE or not.
    if (!password) throw new AuthApiFailure(400, "validation_failed", "Signup requires a valid password");
    checkPasswordStrength(password);
    if (email && phone) {
      throw new AuthApiFailure(400, "validation_failed", "Only an email address or phone number should be provided on signup.");
    }
    if (phone) throw new AuthApiFailure(400, "phone_provider_disabled", "Phone signups are disabled");
    if (!email) throw new AuthApiFailure(400, "validation_failed", "Sign up only available with email provider");
    const normalized = validateEmail(email);
    // Hash outside the transaction, as GoTrue does: bcrypt is slow and must not hold a connection.
    const hash = await bcrypt.hash(password, 10);
    return authTx(sql, async (tx) => {
      const user = await insertUser(tx, { email: normalized, hash, userMetadata: data, log });
      const signedIn = await markSignedIn(tx, user.id);
      return issueSession(tx, signedIn, req);
    });
  }

  async function token(req: Request, url: URL) {
    const grantType = url.searchParams.get("grant_type");
    if (grantType === "password") return passwordGrant(req);
    if (grantType === "refresh_token") return refreshTokenGrant(req);
    throw new AuthApiFailure(400, "invalid_credentials", "unsupported_grant_type");
  }

  async function passwordGrant(req: Request) {
    const body = await readJson(req);
    const email = str(body.email);
    const phone = str(body.phone);
    const password = str(body.password);
    if (email && phone) {
      throw new AuthApiFailure(400, "validation_failed", "Only an email address or phone number should be provided on login.");
    }
    if (phone) throw new AuthApiFailure(422, "phone_provider_disabled", "Phone logins are disabled");
    if (!email) throw new AuthApiFailure(400, "validation_failed", "missing email or phone");

    const [user] = await sql<UserRow[]>`
      select * from auth.users
      where lower(email) = ${email.toLowerCase()} and aud = 'authenticated' and is_sso_user = false
      limit 1`;
    // One answer for "no such user" and "wrong password", so sign-in cannot be used to probe emails.
    const invalid = new AuthApiFailure(400, "invalid_credentials", "Invalid login credentials");
    if (!user || !user.encrypted_password) throw invalid;
    if (isBanned(user)) throw new AuthApiFailure(400, "user_banned", "User is banned");
    if (!(await bcrypt.compare(password, user.encrypted_password).catch(() => false))) throw invalid;
    if (!user.email_confirmed_at) throw new AuthApiFailure(400, "email_not_confirmed", "Email not confirmed");

    return authTx(sql, async (tx) => issueSession(tx, await markSignedIn(tx, user.id), req));
  }

  // GoTrue's legacy (non-HMAC) refresh tokens: each use revokes the token and issues a child.
  async function refreshTokenGrant(req: Request) {
    const body = await readJson(req);
    const presented = str(body.refresh_token);
    if (!presented) throw new OAuthFailure("invalid_request", "refresh_token required");
    const notFound = new AuthApiFailure(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");

    const outcome = await authTx(sql, async (tx) => {
      // Lock the session before the token (the order logout's cascade uses), so concurrent refreshes
      // of one session queue up instead of both rotating the same token.
      const [found] = await tx`select session_id from auth.refresh_tokens where token = ${presented}`;
      if (!found) throw notFound;
      if (!found.session_id) {
        throw new AuthApiFailure(400, "session_not_found", "Invalid Refresh Token: No Valid Session Found");
      }
      const [session] = await tx<(SessionRef & { user_id: string; not_after: Date | null })[]>`
        select id, user_id, created_at, not_after from auth.sessions where id = ${found.session_id} for update`;
      if (!session) throw notFound;
      const [rt] = await tx`
        select id, token, revoked, updated_at from auth.refresh_tokens where token = ${presented} for update`;
      if (!rt) throw notFound;
      const user = await findUser(tx, session.user_id);
      if (!user) throw notFound;
      if (isBanned(user)) throw new AuthApiFailure(400, "user_banned", "Invalid Refresh Token: User Banned");
      if (session.not_after && session.not_after.getTime() <= Date.now()) {
        throw new AuthApiFailure(400, "session_expired", "Invalid Refresh Token: Session Expired");
      }

      let issued: string | undefined;
      if (rt.revoked) {
        const [active] = await tx`
          select token, parent from auth.refresh_tokens
          where session_id = ${session.id} and revoked = false order by id desc limit 1`;
        if (active && active.parent === rt.token) {
          // The client refreshed but never stored the answer: hand back the token it missed.
          issued = active.token as string;
        } else if (Date.now() > (rt.updated_at as Date).getTime() + reuseInterval * 1000) {
          // Reuse outside the grace window looks like theft: revoke the whole family, keep that
          // revocation (commit), and refuse.
          await tx`update auth.refresh_tokens set revoked = true, updated_at = now()
                   where session_id = ${session.id} and revoked = false`;
          return { error: new AuthApiFailure(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used") };
        }
      } else {
        await tx`update auth.refresh_tokens set revoked = true, updated_at = now() where id = ${rt.id}`;
      }
      if (!issued) issued = await insertRefreshToken(tx, user.id, session.id, rt.token as string);

      const { userAgent, ip } = client(req);
      await tx`update auth.sessions
               set refreshed_at = now() at time zone 'utc', updated_at = now(),
                   user_agent = ${userAgent}, ip = ${ip}::inet
               where id = ${session.id}`;
      return { response: await tokenResponse(user, session, issued) };
    });
    if ("error" in outcome) throw outcome.error;
    return outcome.response;
  }

  async function logout(req: Request, url: URL) {
    const { user, sessionId } = await authenticate(req);
    const scope = url.searchParams.get("scope") ?? "";
    if (!["", "global", "local", "others"].includes(scope)) {
      throw new AuthApiFailure(400, "validation_failed", `Unsupported logout scope "${scope}"`);
    }
    // Deleting a session deletes its refresh tokens (on delete cascade); access tokens already
    // issued stay valid until they expire, exactly as on Supabase, except against /user.
    await authTx(sql, async (tx) => {
      if (!sessionId || scope === "" || scope === "global") {
        await tx`delete from auth.sessions where user_id = ${user.id}`;
      } else if (scope === "local") {
        await tx`delete from auth.sessions where id = ${sessionId}`;
      } else {
        await tx`delete from auth.sessions where user_id = ${user.id} and id <> ${sessionId}`;
      }
    });
  }

  // GoTrue's Recover (internal/api/recover.go) and sendPasswordRecovery (mail.go): 200 and an empty
  // object whether or not the address has an account, so the answer cannot be used to probe emails.
  async function recover(req: Request, url: URL) {
    const body = await readJson(req);
    const email = str(body.email);
    if (!email) throw new AuthApiFailure(400, "validation_failed", "Password recovery requires an email");
    const normalized = validateEmail(email);
    const pkce = validatePkceParams(str(body.code_challenge_method), str(body.code_challenge));

    const [user] = await sql<UserRow[]>`
      select * from auth.users
      where lower(email) = ${normalized} and aud = 'authenticated' and is_sso_user = false
      limit 1`;
    if (!user) return {};
    if (user.recovery_sent_at) {
      const left = Math.floor((user.recovery_sent_at.getTime() + EMAIL_MAX_FREQUENCY_SECONDS * 1000 - Date.now()) / 1000);
      if (left > 0) {
        throw new AuthApiFailure(429, "over_email_send_rate_limit", `For security purposes, you can only request this after ${left} seconds.`);
      }
    }
    // The token is sha224(email + a 6-digit code) in hex, prefixed "pkce_" for a PKCE client (as
    // GoTrue stores it: addFlowPrefixToToken); the link carries it as token_hash. GoTrue also keeps
    // it in auth.one_time_tokens; auth.users.recovery_token alone is enough here.
    const otp = String(randomInt(10 ** EMAIL_OTP_LENGTH)).padStart(EMAIL_OTP_LENGTH, "0");
    const tokenHash = emailTokenHash(user.email ?? normalized, otp);
    const stored = pkce ? `pkce_${tokenHash}` : tokenHash;
    const link = recoveryLink(siteUrlFor(url.searchParams.get("redirect_to")), stored);
    // Sent before the token is stored, as GoTrue does: a mail that fails leaves the old token in place.
    try {
      await opts.sendMail({ to: user.email ?? normalized, subject: "Reset your Pacer password", text: recoveryText(link, otp), link });
    } catch (error) {
      log(`auth: sending the password-reset email failed: ${(error as Error).message}`);
      throw new AuthApiFailure(500, "unexpected_failure", "Error sending recovery email");
    }
    await authTx(sql, (tx) => tx`
      update auth.users set recovery_token = ${stored}, recovery_sent_at = now(), updated_at = now()
      where id = ${user.id}`);
    return {};
  }

  /** GoTrue's SITE_URL, or the loopback origin the app passed as redirect_to (see `siteUrl`). */
  function siteUrlFor(redirectTo: string | null): string {
    try {
      const target = new URL(redirectTo ?? "");
      const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(target.hostname);
      if ((target.protocol === "http:" || target.protocol === "https:") && loopback) return target.origin;
    } catch {
      // Not a URL: fall back to the site URL, as GoTrue does for a redirect_to it does not allow.
    }
    return opts.siteUrl ?? "http://127.0.0.1:3000";
  }

  // GoTrue's POST /verify (internal/api/verify.go) for the email links this server sends: recovery
  // (and magiclink, which shares its token). Sign-up needs no confirmation here (autoconfirm), so no
  // signup, invite or email-change token ever exists to verify.
  async function verify(req: Request) {
    const body = await readJson(req);
    const type = str(body.type);
    const token = str(body.token);
    let tokenHash = str(body.token_hash);
    const email = str(body.email);
    const phone = str(body.phone);
    if (!type) throw new AuthApiFailure(400, "validation_failed", "Verify requires a verification type");
    if ((!token && !tokenHash) || (token && tokenHash)) {
      throw new AuthApiFailure(400, "validation_failed", "Verify requires either a token or a token hash");
    }
    let byEmail: string | null = null;
    if (token) {
      if (phone || !email) {
        throw new AuthApiFailure(400, "validation_failed", "Only an email address or phone number should be provided on verify");
      }
      try {
        byEmail = validateEmail(email);
      } catch {
        throw new AuthApiFailure(422, "validation_failed", "Invalid email format");
      }
      tokenHash = emailTokenHash(byEmail, token);
    } else if (email || phone || str(body.redirect_to)) {
      throw new AuthApiFailure(400, "validation_failed", "Only the token_hash and type should be provided");
    }

    const knownTypes = ["signup", "invite", "recovery", "magiclink", "email_change", "email"];
    if (!knownTypes.includes(type)) {
      throw new AuthApiFailure(400, "validation_failed", byEmail ? "Unsupported verification type" : "Invalid email verification type");
    }
    // The two messages GoTrue uses: one for a link (token_hash), one for a typed code (token + email).
    const invalid = byEmail
      ? new AuthApiFailure(403, "otp_expired", "Token has expired or is invalid")
      : new AuthApiFailure(403, "otp_expired", "Email link is invalid or has expired");

    return authTx(sql, async (tx) => {
      if (type !== "recovery" && type !== "magiclink") throw invalid;
      const [user] = byEmail
        ? await tx<UserRow[]>`
            select * from auth.users
            where lower(email) = ${byEmail} and aud = 'authenticated' and is_sso_user = false
              and recovery_token in (${tokenHash}, ${`pkce_${tokenHash}`})
            for update`
        : await tx<UserRow[]>`select * from auth.users where recovery_token = ${tokenHash} for update`;
      if (!user || !user.recovery_token) throw invalid;
      if (isBanned(user)) throw new AuthApiFailure(403, "user_banned", "User is banned");
      if (!user.recovery_sent_at || user.recovery_sent_at.getTime() + EMAIL_OTP_TTL_SECONDS * 1000 < Date.now()) throw invalid;
      // Recover: the link works once. Following it also confirms the address it was sent to.
      await tx`
        update auth.users
        set recovery_token = '', email_confirmed_at = coalesce(email_confirmed_at, now()),
            last_sign_in_at = now(), updated_at = now()
        where id = ${user.id}`;
      return issueSession(tx, (await findUser(tx, user.id))!, req, "otp");
    });
  }

  // GoTrue's UserUpdate (internal/api/user.go), for what Pacer uses: a new password (after a reset
  // link, or from a signed-in session) and user metadata.
  async function updateUser(req: Request) {
    const { user, sessionId } = await authenticate(req);
    const body = await readJson(req);
    if ((str(body.email) && str(body.email).toLowerCase() !== user.email) || str(body.phone)) {
      throw new AuthApiFailure(
        400,
        "validation_failed",
        "Changing the email address or phone number is not implemented by Pacer's local auth server (local/gateway/auth.ts)",
      );
    }
    const password = typeof body.password === "string" && body.password !== "" ? body.password : null;
    let hash: string | null = null;
    if (password !== null) {
      checkPasswordStrength(password);
      if (user.encrypted_password && (await bcrypt.compare(password, user.encrypted_password).catch(() => false))) {
        throw new AuthApiFailure(422, "same_password", "New password should be different from the old password.");
      }
      hash = await bcrypt.hash(password, 10);
    }
    const data = isObject(body.data) ? body.data : null;

    return authTx(sql, async (tx) => {
      if (data) {
        // Keys set to null are removed, as GoTrue's UpdateUserMetaData does.
        const merged: Record<string, unknown> = { ...(user.raw_user_meta_data ?? {}), ...data };
        for (const [key, value] of Object.entries(merged)) if (value === null) delete merged[key];
        await tx`update auth.users set raw_user_meta_data = ${tx.json(merged as postgres.JSONValue)}, updated_at = now()
                 where id = ${user.id}`;
      }
      if (hash) {
        // UpdatePassword: clears outstanding email tokens, and signs out every other session (all of
        // them when the token carries none), since the old password may be what was compromised.
        await tx`update auth.users set encrypted_password = ${hash}, recovery_token = '', recovery_sent_at = null,
                 updated_at = now() where id = ${user.id}`;
        if (sessionId) await tx`delete from auth.sessions where user_id = ${user.id} and id <> ${sessionId}`;
        else await tx`delete from auth.sessions where user_id = ${user.id}`;
      }
      return userJson((await findUser(tx, user.id))!);
    });
  }

  /** GoTrue's requireAuthentication: a valid access token whose user and session still exist. */
  async function authenticate(req: Request): Promise<{ user: UserRow; sessionId: string | null }> {
    const match = /^bearer (\S+)$/i.exec(req.headers.get("authorization") ?? "");
    if (!match) throw new AuthApiFailure(401, "no_authorization", "This endpoint requires a valid Bearer token");

    let claims: JWTPayload;
    try {
      const key = await publicKey;
      ({ payload: claims } = await jwtVerify(
        match[1],
        (header) => {
          if (header.kid && header.kid !== keys.jwtPublicJwk.kid) {
            throw new Error(`unrecognized JWT kid ${header.kid} for algorithm ${header.alg}`);
          }
          return key;
        },
        { algorithms: ["ES256"] },
      ));
    } catch (error) {
      throw new AuthApiFailure(403, "bad_jwt", `invalid JWT: unable to parse or verify signature, ${jwtProblem(error)}`);
    }

    const sub = claims.sub;
    if (!sub) throw new AuthApiFailure(403, "bad_jwt", "invalid claim: missing sub claim");
    if (!UUID_RE.test(sub)) throw new AuthApiFailure(400, "bad_jwt", "invalid claim: sub claim must be a UUID");
    const user = await findUser(sql, sub);
    if (!user) throw new AuthApiFailure(403, "user_not_found", "User from sub claim in JWT does not exist");

    let sessionId: string | null = null;
    const sid = claims.session_id;
    if (typeof sid === "string" && sid !== "" && sid !== NIL_UUID) {
      if (!UUID_RE.test(sid)) {
        throw new AuthApiFailure(403, "bad_jwt", "invalid claim: session_id claim must be a UUID");
      }
      const [session] = await sql`select id from auth.sessions where id = ${sid}`;
      if (!session) {
        throw new AuthApiFailure(403, "session_not_found", "Session from session_id claim in JWT does not exist");
      }
      sessionId = sid;
    }
    if (isBanned(user)) throw new AuthApiFailure(403, "user_banned", "User is banned");
    return { user, sessionId };
  }

  async function issueSession(tx: Tx, user: UserRow, req: Request, method: "password" | "otp" = "password") {
    const { userAgent, ip } = client(req);
    const [session] = await tx<SessionRef[]>`
      insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip)
      values (${randomUUID()}, ${user.id}, now(), now(), 'aal1', ${userAgent}, ${ip}::inet)
      returning id, created_at`;
    const refreshToken = await insertRefreshToken(tx, user.id, session.id, null);
    return tokenResponse(user, session, refreshToken, method);
  }

  // `method` is how the session began. GoTrue keeps it (auth.mfa_amr_claims) for refreshed tokens too;
  // this server keeps no such table, so a refreshed token always says "password".
  async function tokenResponse(user: UserRow, session: SessionRef, refreshToken: string, method = "password") {
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + ttl;
    const accessToken = await new SignJWT({
      email: user.email ?? "",
      phone: user.phone ?? "",
      app_metadata: user.raw_app_meta_data ?? {},
      user_metadata: user.raw_user_meta_data ?? {},
      role: user.role || "authenticated",
      aal: "aal1",
      // GoTrue derives amr from how the session began, so refreshed tokens keep the sign-in time.
      amr: [{ method, timestamp: Math.floor(session.created_at.getTime() / 1000) }],
      session_id: session.id,
      is_anonymous: user.is_anonymous,
    })
      .setProtectedHeader({ alg: "ES256", kid: keys.jwtPrivateJwk.kid, typ: "JWT" })
      .setIssuer(opts.issuer)
      .setSubject(user.id)
      .setAudience(user.aud || "authenticated")
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(await privateKey);
    return {
      access_token: accessToken,
      token_type: "bearer",
      expires_in: ttl,
      expires_at: exp,
      refresh_token: refreshToken,
      user: userJson(user),
    };
  }
}

/**
 * Create a confirmed email+password user directly, with the same rows and hashing as sign-up
 * (for the dev stack's demo user and for tests). Throws AuthApiFailure on a bad email, a weak
 * password or an existing user.
 */
export async function createUser(
  sql: Sql,
  input: { email: string; password: string; userMetadata?: Record<string, unknown> },
): Promise<{ id: string }> {
  checkPasswordStrength(input.password);
  const email = validateEmail(input.email);
  const hash = await bcrypt.hash(input.password, 10);
  try {
    const user = await authTx(sql, (tx) => insertUser(tx, { email, hash, userMetadata: input.userMetadata ?? {} }));
    return { id: user.id };
  } catch (error) {
    // No HTTP client to hide the cause from here: name it (typically a trigger on auth.users).
    const cause = (error as Error).cause;
    if (error instanceof AuthApiFailure && cause instanceof Error) error.message += `: ${cause.message}`;
    throw error;
  }
}

async function insertUser(
  tx: Tx,
  input: { email: string; hash: string; userMetadata: Record<string, unknown>; log?: (line: string) => void },
): Promise<UserRow> {
  const [existing] = await tx`select id from auth.users where lower(email) = ${input.email} and is_sso_user = false`;
  if (existing) throw new AuthApiFailure(422, "user_already_exists", "User already registered");
  const id = randomUUID();
  try {
    await tx`
      insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                              raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_sso_user, is_anonymous)
      values (${NIL_UUID}, ${id}, 'authenticated', 'authenticated', ${input.email}, ${input.hash}, now(),
              ${tx.json({ provider: "email", providers: ["email"] })}, ${tx.json(input.userMetadata as postgres.JSONValue)},
              now(), now(), false, false)`;
  } catch (error) {
    if ((error as { code?: string }).code === "23505") {
      throw new AuthApiFailure(422, "user_already_exists", "User already registered");
    }
    // GoTrue hides the cause (often a trigger on auth.users); locally, say it in the log.
    input.log?.(`auth: inserting into auth.users failed: ${(error as Error).message}`);
    throw Object.assign(new AuthApiFailure(500, "unexpected_failure", "Database error saving new user"), { cause: error });
  }
  // Triggers may have changed the row as it went in; read it back as GoTrue does.
  return (await findUser(tx, id))!;
}

async function markSignedIn(tx: Tx, userId: string): Promise<UserRow> {
  await tx`update auth.users set last_sign_in_at = now() where id = ${userId}`;
  return (await findUser(tx, userId))!;
}

async function findUser(sql: Sql | Tx, id: string): Promise<UserRow | undefined> {
  const [user] = await sql<UserRow[]>`select * from auth.users where id = ${id}`;
  return user;
}

async function insertRefreshToken(tx: Tx, userId: string, sessionId: string, parent: string | null) {
  const token = newRefreshToken();
  await tx`insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
           values (${NIL_UUID}, ${token}, ${userId}, false, now(), now(), ${parent}, ${sessionId})`;
  return token;
}

// GoTrue's legacy refresh tokens are 12 random lowercase letters and digits.
function newRefreshToken(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let token = "";
  for (let i = 0; i < 12; i++) token += alphabet[randomInt(alphabet.length)];
  return token;
}

const authAdminRole = new WeakMap<Sql, Promise<boolean>>();

/**
 * A transaction as GoTrue's own database user: on Supabase it connects as supabase_auth_admin with
 * search_path=auth, so triggers on auth.users run with those rights. Doing the same here means a
 * sign-up trigger that would fail on Supabase fails locally too.
 */
async function authTx<T>(sql: Sql, fn: (tx: Tx) => Promise<T>): Promise<T> {
  let hasRole = authAdminRole.get(sql);
  if (!hasRole) {
    // Only where this connection may take the role (a superuser locally; not always elsewhere).
    hasRole = sql`
      select case when exists (select from pg_roles where rolname = 'supabase_auth_admin')
                  then pg_has_role('supabase_auth_admin', 'member') else false end as ok`.then(
      ([row]) => row.ok as boolean,
    );
    authAdminRole.set(sql, hasRole);
  }
  const asAuthAdmin = await hasRole;
  return (await sql.begin(async (tx) => {
    if (asAuthAdmin) await tx`set local role supabase_auth_admin`;
    await tx`set local search_path = auth`;
    return fn(tx);
  })) as T;
}

function checkPasswordStrength(password: string) {
  if (password.length < PASSWORD_MIN_LENGTH) {
    // Supabase's default policy: length only, no required characters, no leaked-password check.
    throw new AuthApiFailure(422, "weak_password", `Password should be at least ${PASSWORD_MIN_LENGTH} characters.`, {
      weak_password: { reasons: ["length"] },
    });
  }
  if (Buffer.byteLength(password) > PASSWORD_MAX_BYTES) {
    throw new AuthApiFailure(422, "validation_failed", `Password cannot be longer than ${PASSWORD_MAX_BYTES} characters`);
  }
}

/** GoTrue's crypto.GenerateTokenHash: sha224(email + code), hex. */
function emailTokenHash(email: string, otp: string): string {
  return createHash("sha224").update(email + otp).digest("hex");
}

/**
 * The reset link, as Pacer's "Reset password" email template builds it on Supabase
 * ({{ .SiteURL }}/auth/confirm?token_hash={{ .TokenHash }}&type=recovery&next=/reset-password,
 * docs/deploying.md): app/auth/confirm verifies it on the server, so it works in any browser.
 */
function recoveryLink(siteUrl: string, tokenHash: string): string {
  const link = new URL("/auth/confirm", siteUrl);
  link.searchParams.set("token_hash", tokenHash);
  link.searchParams.set("type", "recovery");
  link.searchParams.set("next", "/reset-password");
  return link.href;
}

function recoveryText(link: string, otp: string): string {
  return [
    "Someone (hopefully you) asked to reset the password of your Pacer account.",
    "",
    `Choose a new password: ${link}`,
    "",
    `The link works once and expires in ${EMAIL_OTP_TTL_SECONDS / 3600} hours. Code: ${otp}`,
    "If you did not ask for this, ignore this email: your password stays as it is.",
  ].join("\n");
}

// GoTrue's validatePKCEParams (internal/api/pkce.go): both or neither; true for a PKCE request.
function validatePkceParams(method: string, challenge: string): boolean {
  if (!method && !challenge) return false;
  if (!method || !challenge) {
    throw new AuthApiFailure(400, "validation_failed", "PKCE flow requires code_challenge_method and code_challenge");
  }
  if (challenge.length < 43 || challenge.length > 128) {
    throw new AuthApiFailure(400, "validation_failed", "code challenge has to be between 43 and 128 characters");
  }
  if (!/^[a-zA-Z._~0-9-]+$/.test(challenge)) {
    throw new AuthApiFailure(400, "validation_failed", "code challenge can only contain alphanumeric characters, hyphens, periods, underscores and tildes");
  }
  return true;
}

function validateEmail(email: string): string {
  if (!email) throw new AuthApiFailure(400, "validation_failed", "An email address is required");
  if (email.length > 255) throw new AuthApiFailure(400, "validation_failed", "An email address is too long");
  if (!EMAIL_RE.test(email)) {
    throw new AuthApiFailure(400, "validation_failed", "Unable to validate email address: invalid format");
  }
  return email.toLowerCase();
}

function isBanned(user: UserRow) {
  return user.banned_until !== null && user.banned_until.getTime() > Date.now();
}

/** The user object GoTrue returns (models.User), without the fields Pacer's schema doesn't keep. */
function userJson(user: UserRow) {
  const iso = (d: Date | null) => d?.toISOString();
  const confirmedAt = iso(user.email_confirmed_at);
  return {
    id: user.id,
    aud: user.aud ?? "",
    role: user.role ?? "",
    email: user.email ?? "",
    email_confirmed_at: confirmedAt,
    phone: user.phone ?? "",
    confirmed_at: confirmedAt,
    last_sign_in_at: iso(user.last_sign_in_at),
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    // There is no auth.identities table locally; this is the email identity GoTrue would have made.
    identities: user.email
      ? [
          {
            identity_id: uuidFrom(`identity:${user.id}`),
            id: user.id,
            user_id: user.id,
            identity_data: {
              ...(user.raw_user_meta_data ?? {}),
              email: user.email,
              email_verified: user.email_confirmed_at !== null,
              phone_verified: false,
              sub: user.id,
            },
            provider: "email",
            last_sign_in_at: iso(user.last_sign_in_at ?? user.created_at),
            created_at: iso(user.created_at),
            updated_at: iso(user.updated_at),
            email: user.email,
          },
        ]
      : [],
    created_at: iso(user.created_at),
    updated_at: iso(user.updated_at),
    is_anonymous: user.is_anonymous,
  };
}

/** A stable, version-4-shaped UUID derived from `seed`. */
function uuidFrom(seed: string): string {
  const b = createHash("sha256").update(seed).digest().subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Describe a verification failure in the words of golang-jwt, which GoTrue's messages embed. */
function jwtProblem(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "token has invalid claims: token is expired";
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `token has invalid claims: ${error.message}`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return "token signature is invalid: crypto/ecdsa: verification error";
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return `token signature is invalid: ${error.message}`;
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) {
    return `token is malformed: ${error.message}`;
  }
  return `token is unverifiable: ${error instanceof Error ? error.message : String(error)}`;
}

const API_VERSION_2024_01_01 = Date.parse("2024-01-01T00:00:00Z");

/** GoTrue picks its error body by the X-Supabase-Api-Version the client sent (auth-js sends 2024-01-01). */
function errorResponse(req: Request, error: AuthApiFailure): Response {
  const requested = req.headers.get("x-supabase-api-version") ?? "";
  const at = /^\d{4}-\d{2}-\d{2}$/.test(requested) ? Date.parse(`${requested}T00:00:00Z`) : NaN;
  if (at >= API_VERSION_2024_01_01) {
    return json(
      error.status,
      { code: error.code, message: error.message, ...error.extra },
      // auth-js only trusts `code` when the response carries this header.
      { "x-supabase-api-version": "2024-01-01" },
    );
  }
  return json(error.status, { code: error.status, error_code: error.code, msg: error.message, ...error.extra });
}

async function readJson(req: Request): Promise<Record<string, unknown>> {
  const text = await req.text();
  if (!text.trim()) return {};
  try {
    const body = JSON.parse(text);
    if (isObject(body)) return body;
  } catch (error) {
    throw new AuthApiFailure(400, "bad_json", `Could not parse request body as JSON: ${(error as Error).message}`);
  }
  throw new AuthApiFailure(400, "bad_json", "Could not parse request body as JSON: expected an object");
}

/** The caller's user agent and address, which GoTrue records on the session. */
function client(req: Request): { userAgent: string | null; ip: string | null } {
  const forwarded = req.headers.get("x-forwarded-for")?.split(",")[0]?.trim() ?? "";
  return { userAgent: req.headers.get("user-agent"), ip: isIP(forwarded) ? forwarded : null };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// What GET /auth/v1/settings reports: email+password only, confirmed on sign-up, nothing else.
const SETTINGS = {
  external: {
    anonymous_users: false,
    apple: false,
    azure: false,
    bitbucket: false,
    discord: false,
    facebook: false,
    figma: false,
    fly: false,
    github: false,
    gitlab: false,
    google: false,
    keycloak: false,
    kakao: false,
    linkedin: false,
    linkedin_oidc: false,
    notion: false,
    spotify: false,
    slack: false,
    slack_oidc: false,
    workos: false,
    twitch: false,
    twitter: false,
    email: true,
    phone: false,
    zoom: false,
  },
  disable_signup: false,
  mailer_autoconfirm: true,
  phone_autoconfirm: false,
  sms_provider: "",
  saml_enabled: false,
};
