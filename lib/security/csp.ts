// The Content-Security-Policy of Pacer's pages: scripts only from a per-request nonce (Next puts it on
// its own scripts), nothing may frame a page, and the browser talks only to Pacer and Supabase Auth.

export interface CspOptions {
  /** Fresh for every request, unguessable (newNonce). */
  nonce: string;
  /** `next dev`: React needs eval to rebuild server error stacks in the browser. */
  dev: boolean;
  /** NEXT_PUBLIC_SUPABASE_URL: where the browser signs in (supabase-js). */
  supabaseUrl: string | undefined;
  /** Whether the page itself was served over https (then subresources are upgraded too). */
  https: boolean;
}

/** 128 random bits, base64: a CSP nonce. */
export function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

export function contentSecurityPolicy({ nonce, dev, supabaseUrl, https }: CspOptions): string {
  const supabase = supabaseUrl ? new URL(supabaseUrl).origin : null;
  const supabaseSocket = supabase?.replace(/^http/, "ws");
  const directives = [
    "default-src 'self'",
    // 'strict-dynamic': scripts the nonced ones load are trusted too; 'self' is only for old browsers.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    // Inline styles stay allowed: React renders style attributes (the usage meter), which no nonce can
    // cover, and a style cannot run script.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    ["connect-src 'self'", supabase, supabaseSocket].filter(Boolean).join(" "),
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    // Only over https: on http://127.0.0.1 it would send the local stack's own requests to https.
    ...(https ? ["upgrade-insecure-requests"] : []),
  ];
  return directives.join("; ");
}
