// How Pacer signs a webhook delivery: `Pacer-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<body>" under the endpoint's secret>`. Web Crypto only, so it runs in Node and Deno alike.

export const SIGNATURE_HEADER = "Pacer-Signature";
export const EVENT_ID_HEADER = "Pacer-Event-Id";
export const EVENT_TYPE_HEADER = "Pacer-Event-Type";
/** Receivers should refuse a signature older than this (a replayed delivery); docs/webhooks.md says so. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** The hex HMAC-SHA256 of `${timestamp}.${body}` under `secret`. */
export async function webhookSignature(secret: string, timestamp: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return hex(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${timestamp}.${body}`)));
}

/** The Pacer-Signature header's value for `body` sent at `timestamp` (unix seconds). */
export async function signatureHeader(secret: string, timestamp: number, body: string): Promise<string> {
  return `t=${timestamp},v1=${await webhookSignature(secret, timestamp, body)}`;
}

/** A new endpoint secret: `whsec_` and 32 random bytes, base64url. Shown once; stored sealed. */
export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

/** What people see of a secret afterwards, to tell which one a receiver holds. */
export const secretHint = (secret: string) => `…${secret.slice(-4)}`;
