// An API key's secret: `pk_` and 32 random bytes (base64url), so guessing one is hopeless and a plain
// SHA-256 is a safe thing to store and look up by (no slow hash needed: there is nothing to brute-force).
import { createHash, randomBytes } from "node:crypto";

const KEY_PATTERN = /^pk_[A-Za-z0-9_-]{43}$/;

export function generateApiKey(): { secret: string; prefix: string; hash: Buffer } {
  const secret = `pk_${randomBytes(32).toString("base64url")}`;
  return { secret, prefix: secret.slice(0, 11), hash: hashApiKey(secret) };
}

export function hashApiKey(secret: string): Buffer {
  return createHash("sha256").update(secret).digest();
}

/** Whether a bearer token is meant as an API key (then it is never tried as a session token). */
export const isApiKeyToken = (token: string) => token.startsWith("pk_");

/** Whether it has the shape of one Pacer made; anything else is refused before the database. */
export const isWellFormedApiKey = (token: string) => KEY_PATTERN.test(token);
