// Where to send a user after signing in or up: `?next=` only if it stays on Pacer's own origin.

export const AFTER_SIGN_IN = "/dashboard";

/**
 * `next` resolved against `origin` the way a browser would resolve it (tabs and newlines dropped,
 * backslashes read as slashes, percent-escapes kept), as a path on that origin; anything that would
 * leave it (`//evil.com`, `/\evil.com`, `/%09/evil.com`, `https://evil.com`, `javascript:`) is
 * AFTER_SIGN_IN instead.
 */
export function safeNextPath(next: string | null | undefined, origin: string): string {
  if (!next) return AFTER_SIGN_IN;
  let target: URL;
  try {
    target = new URL(next, origin);
  } catch {
    return AFTER_SIGN_IN;
  }
  if (target.origin !== new URL(origin).origin) return AFTER_SIGN_IN;
  // Rebuilt from the parsed parts, so what the browser navigates to is what was checked. Dot-segments
  // can collapse to a path that begins "//" ("/.//evil.com" → "//evil.com"), which a Location header
  // or a link reads as another host: never a path like that.
  const path = `${target.pathname}${target.search}${target.hash}`;
  if (path.startsWith("//") || path.startsWith("/\\")) return AFTER_SIGN_IN;
  return path;
}
