// The record key of a Pacer post on Bluesky: a TID derived from the queue item's idempotency key,
// so every attempt at one item writes the same key and a second post cannot exist by construction.
// app.bsky.feed.post declares `"key": "tid"`, so the key must be a valid TID, not the key itself
// (docs/platforms/bluesky.md §3.2–3.3; https://atproto.com/specs/record-key, https://atproto.com/specs/tid).

/** base32-sortable, 5 bits a character (https://atproto.com/specs/tid). */
const S32 = "234567abcdefghijklmnopqrstuvwxyz";

/** A TID's syntax: 13 characters, top bit 0 (https://atproto.com/specs/tid). */
export const TID_PATTERN = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/;

/** 2024-01-01T00:00:00Z in microseconds, and one year: derived TIDs read as times in 2024, never in the future. */
const T0_MICROS = 1_704_067_200_000_000n;
const SPAN_MICROS = 31_536_000_000_000n;

/** Versioned: changing the derivation would give every queued item a new key, so it never changes in place. */
const PREFIX = "pacer:bsky:rkey:v1:";

/**
 * The rkey of part `partIndex` of the post with this idempotency key (0 = the post, 1 = its first
 * comment or its thread's second post, n = the thread's (n+1)-th). SHA-256 of the key picks a 10-bit
 * clock id and a microsecond inside 2024.
 */
export async function rkeyFor(idempotencyKey: string, partIndex = 0): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${PREFIX}${idempotencyKey}:${partIndex}`)));
  const clockId = BigInt(((digest[0] << 8) | digest[1]) & 0x3ff);
  let offset = 0n;
  for (let i = 2; i < 8; i++) offset = (offset << 8n) | BigInt(digest[i]);
  const micros = T0_MICROS + (offset % SPAN_MICROS);
  return encodeTid((micros << 10n) | clockId);
}

/** A 63-bit value as a 13-character TID. */
export function encodeTid(value: bigint): string {
  let out = "";
  for (let v = value; v > 0n; v >>= 5n) out = S32[Number(v & 31n)] + out;
  return out.padStart(13, "2");
}
