// The local stack's secrets: API keys, the ES256 signing key of the local auth server and the
// credentials encryption key. Generated once per data folder and kept there (never committed).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface LocalKeys {
  publishableKey: string;
  secretKey: string;
  /** ES256 key pair that signs access tokens; the public half is served as the JWKS. */
  jwtPrivateJwk: JsonWebKey & { kid: string; alg: "ES256" };
  jwtPublicJwk: JsonWebKey & { kid: string; alg: "ES256"; use: "sig" };
  /** base64 of 32 random bytes: PACER_CREDENTIALS_KEY */
  credentialsKey: string;
  /** PACER_CRON_SECRET: what the scheduler presents to scheduled functions, and nothing else. */
  cronSecret: string;
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

export async function generateKeys(): Promise<LocalKeys> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const kid = b64url(random(8));
  const priv = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const pub = await crypto.subtle.exportKey("jwk", pair.publicKey);
  return {
    publishableKey: `sb_publishable_${b64url(random(18))}`,
    secretKey: `sb_secret_${b64url(random(18))}`,
    jwtPrivateJwk: { ...priv, kid, alg: "ES256" },
    jwtPublicJwk: { kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y, kid, alg: "ES256", use: "sig", key_ops: ["verify"] },
    credentialsKey: Buffer.from(random(32)).toString("base64"),
    cronSecret: b64url(random(32)),
  };
}

/** Read the keys kept in `dir`, creating them on first use. */
export async function loadOrCreateKeys(dir: string): Promise<LocalKeys> {
  const file = join(dir, "keys.json");
  if (existsSync(file)) {
    const kept = JSON.parse(readFileSync(file, "utf8")) as LocalKeys;
    // Data folders made before the cron secret was its own key get one now.
    if (kept.cronSecret) return kept;
    const keys = { ...kept, cronSecret: b64url(random(32)) };
    writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
    return keys;
  }
  mkdirSync(dir, { recursive: true });
  const keys = await generateKeys();
  writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}
