// Forgot password against the local auth server, as supabase-js and @supabase/ssr drive it:
// POST /recover mails a link (here: caught by the test), POST /verify turns the link's token_hash into
// a session, PUT /user sets the new password. Statuses, codes and messages are GoTrue's
// (internal/api/recover.go, verify.go, user.go, mail.go).
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "@supabase/supabase-js";
import { decodeJwt } from "jose";
import postgres from "postgres";
import { generateKeys, type LocalKeys } from "../../local/keys.ts";
import { startGateway, type Gateway } from "../../local/gateway/server.ts";
import type { AuthMail } from "../../local/gateway/auth.ts";
import { PASSWORD_MIN_LENGTH } from "@/lib/auth/password-rules";
import { freePort } from "../setup/free-port.ts";

const PASSWORD = "correct-horse-9";
const NEW_PASSWORD = "battery-staple-7";
const SITE = "https://pacer.example";
const newEmail = (label = "recover") => `${label}-${randomUUID().slice(0, 12)}@pacer.test`;

let keys: LocalKeys;
let gateway: Gateway;
let sql: postgres.Sql;
const mails: AuthMail[] = [];

beforeAll(async () => {
  keys = await generateKeys();
  sql = postgres(process.env.SUPABASE_DB_URL!, { max: 2, onnotice: () => {} });
  gateway = await startGateway({
    port: await freePort(),
    dbUrl: process.env.SUPABASE_DB_URL!,
    keys,
    functionsDir: tmpdir(),
    functionEnv: {},
    scheduler: false,
    log: () => {},
    siteUrl: SITE,
    sendMail: async (mail) => {
      mails.push(mail);
    },
  });
});
afterAll(async () => {
  await gateway?.stop();
  await sql?.end();
});

/** A supabase-js client of this gateway; PKCE keeps its code verifier in memory, as the browser would in a cookie. */
function client(flowType: "implicit" | "pkce" = "implicit") {
  const store = new Map<string, string>();
  return createClient(gateway.url, keys.publishableKey, {
    auth: {
      persistSession: flowType === "pkce",
      autoRefreshToken: false,
      flowType,
      storageKey: `test-${randomUUID()}`,
      storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v), removeItem: (k) => void store.delete(k) },
    },
  });
}

function recoverFetch(body: unknown, query = "") {
  return fetch(`${gateway.url}/auth/v1/recover${query}`, {
    method: "POST",
    headers: { apikey: keys.publishableKey, "content-type": "application/json", "x-supabase-api-version": "2024-01-01" },
    body: JSON.stringify(body),
  });
}

async function signUp() {
  const email = newEmail();
  const { data, error } = await client().auth.signUp({ email, password: PASSWORD });
  expect(error).toBeNull();
  return { email, session: data.session! };
}

/** Ask for a reset and return the link mailed for it. */
async function resetLink(email: string, supabase = client(), redirectTo?: string) {
  const before = mails.length;
  const { error } = await supabase.auth.resetPasswordForEmail(email, redirectTo ? { redirectTo } : undefined);
  expect(error).toBeNull();
  expect(mails.length).toBe(before + 1);
  const mail = mails.at(-1)!;
  expect(mail.to).toBe(email);
  return new URL(mail.link);
}

describe("POST /recover", () => {
  it("mails a one-time link to the app's /auth/confirm for a registered address", async () => {
    const { email } = await signUp();
    const link = await resetLink(email);
    expect(link.origin + link.pathname).toBe(`${SITE}/auth/confirm`);
    expect(link.searchParams.get("type")).toBe("recovery");
    expect(link.searchParams.get("next")).toBe("/reset-password");
    // sha224 in hex, as GoTrue's GenerateTokenHash
    expect(link.searchParams.get("token_hash")).toMatch(/^[0-9a-f]{56}$/);
    expect(mails.at(-1)!.text).toContain(link.href);
  });

  it("answers an unknown address exactly as a known one, and mails nothing", async () => {
    const { email } = await signUp();
    const known = await recoverFetch({ email });
    const before = mails.length;
    const unknown = await recoverFetch({ email: newEmail("nobody") });
    expect([known.status, await known.json()]).toEqual([200, {}]);
    expect([unknown.status, await unknown.json()]).toEqual([200, {}]);
    expect(mails.length).toBe(before);
  });

  it("refuses a missing or malformed address with GoTrue's messages", async () => {
    const missing = await recoverFetch({});
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: "validation_failed", message: "Password recovery requires an email" });
    const malformed = await recoverFetch({ email: "not-an-email" });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: "validation_failed", message: "Unable to validate email address: invalid format" });
  });

  it("sends at most one email a minute per account (429 over_email_send_rate_limit)", async () => {
    const { email } = await signUp();
    await resetLink(email);
    const again = await recoverFetch({ email });
    expect(again.status).toBe(429);
    const body = await again.json();
    expect(body.code).toBe("over_email_send_rate_limit");
    expect(body.message).toMatch(/^For security purposes, you can only request this after \d+ seconds\.$/);
  });

  it("links to the loopback address the app asked for, and to the site URL for anything else", async () => {
    const local = await signUp();
    const loopback = await resetLink(local.email, client(), "http://127.0.0.1:4123/reset-password");
    expect(loopback.origin).toBe("http://127.0.0.1:4123");
    const other = await signUp();
    const elsewhere = await resetLink(other.email, client(), "https://evil.example/reset-password");
    expect(elsewhere.origin).toBe(SITE);
  });
});

describe("POST /verify and PUT /user", () => {
  it("turns the link into a session once; the new password then signs in and the old one does not", async () => {
    const { email, session: earlier } = await signUp();
    const link = await resetLink(email);
    const token_hash = link.searchParams.get("token_hash")!;

    const supabase = client();
    const { data, error } = await supabase.auth.verifyOtp({ type: "recovery", token_hash });
    expect(error).toBeNull();
    expect(data.user!.email).toBe(email);
    expect(decodeJwt(data.session!.access_token).amr).toEqual([expect.objectContaining({ method: "otp" })]);

    const reused = await client().auth.verifyOtp({ type: "recovery", token_hash });
    expect(reused.error).toMatchObject({ status: 403, code: "otp_expired", message: "Email link is invalid or has expired" });

    await supabase.auth.setSession(data.session!);
    const same = await supabase.auth.updateUser({ password: PASSWORD });
    expect(same.error).toMatchObject({ status: 422, code: "same_password", message: "New password should be different from the old password." });
    const weak = await supabase.auth.updateUser({ password: "x".repeat(PASSWORD_MIN_LENGTH - 1) });
    expect(weak.error).toMatchObject({ status: 422, code: "weak_password" });
    const updated = await supabase.auth.updateUser({ password: NEW_PASSWORD });
    expect(updated.error).toBeNull();

    expect((await client().auth.signInWithPassword({ email, password: NEW_PASSWORD })).error).toBeNull();
    expect((await client().auth.signInWithPassword({ email, password: PASSWORD })).error).toMatchObject({ code: "invalid_credentials" });
    // The session from before the reset is signed out (the old password may be what leaked).
    const stale = await client().auth.refreshSession({ refresh_token: earlier.refresh_token });
    expect(stale.error).toMatchObject({ status: 400 });
  });

  it("verifies a PKCE client's link (token prefixed pkce_, as GoTrue stores it) by its token_hash", async () => {
    const { email } = await signUp();
    const link = await resetLink(email, client("pkce"));
    const token_hash = link.searchParams.get("token_hash")!;
    expect(token_hash).toMatch(/^pkce_[0-9a-f]{56}$/);
    const { data, error } = await client().auth.verifyOtp({ type: "recovery", token_hash });
    expect(error).toBeNull();
    expect(data.user!.email).toBe(email);
  });

  it("accepts the six-digit code from the email with the address instead of the link", async () => {
    const { email } = await signUp();
    await resetLink(email);
    const code = /Code: (\d{6})/.exec(mails.at(-1)!.text)![1];
    const wrong = await client().auth.verifyOtp({ type: "recovery", email, token: code === "000000" ? "000001" : "000000" });
    expect(wrong.error).toMatchObject({ status: 403, code: "otp_expired", message: "Token has expired or is invalid" });
    const { data, error } = await client().auth.verifyOtp({ type: "recovery", email, token: code });
    expect(error).toBeNull();
    expect(data.session).not.toBeNull();
  });

  it("refuses a link older than a day, and a token_hash sent with other fields", async () => {
    const { email } = await signUp();
    const token_hash = (await resetLink(email)).searchParams.get("token_hash")!;
    const mixed = await fetch(`${gateway.url}/auth/v1/verify`, {
      method: "POST",
      headers: { apikey: keys.publishableKey, "content-type": "application/json", "x-supabase-api-version": "2024-01-01" },
      body: JSON.stringify({ type: "recovery", token_hash, email }),
    });
    expect(mixed.status).toBe(400);
    expect(await mixed.json()).toMatchObject({ code: "validation_failed", message: "Only the token_hash and type should be provided" });

    await sql`update auth.users set recovery_sent_at = now() - interval '25 hours' where lower(email) = ${email}`;
    const expired = await client().auth.verifyOtp({ type: "recovery", token_hash });
    expect(expired.error).toMatchObject({ status: 403, code: "otp_expired", message: "Email link is invalid or has expired" });
  });
});

describe("the local mailbox", () => {
  it("shows the reset email, with its link, at the shared gateway's /mailbox", async () => {
    const base = process.env.NEXT_PUBLIC_SUPABASE_URL!;
    const key = process.env.NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY!;
    const shared = createClient(base, key, { auth: { persistSession: false, autoRefreshToken: false } });
    const email = newEmail("mailbox");
    expect((await shared.auth.signUp({ email, password: PASSWORD })).error).toBeNull();
    expect((await shared.auth.resetPasswordForEmail(email)).error).toBeNull();

    const page = await fetch(`${base}/mailbox`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`To <strong>${email}</strong>`);
    expect(html).toMatch(/href="[^"]*\/auth\/confirm\?token_hash=[0-9a-f]{56}&amp;type=recovery&amp;next=%2Freset-password"/);
  });
});
