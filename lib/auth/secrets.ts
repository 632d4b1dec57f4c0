// Comparing a presented secret with the expected one without leaking, through timing, how much of it
// matched. Runtime-agnostic (Web Crypto), so the Edge Function under Deno and Node share it.

const encoder = new TextEncoder();

/**
 * True when `presented` equals `expected`. Both are hashed first (SHA-256), so the comparison always
 * runs over 32 bytes whatever the lengths, and every byte is compared (no early exit).
 */
export async function secretsMatch(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(presented)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let difference = 0;
  for (let i = 0; i < x.length; i++) difference |= x[i] ^ y[i];
  return difference === 0;
}

/** True when `authorization` is `Bearer <secret>`; false for a missing or empty secret, always. */
export async function bearerMatches(authorization: string | null, secret: string | undefined): Promise<boolean> {
  if (!secret) return false;
  return secretsMatch(authorization ?? "", `Bearer ${secret}`);
}
