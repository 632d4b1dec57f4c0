// Next.js configuration for Pacer's web app: the defaults, plus security headers on every response.
// The Content-Security-Policy is not here: it carries a nonce per request, so proxy.ts sets it
// (lib/security/csp.ts).
import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          // Files are what their Content-Type says, never sniffed into script or HTML.
          { key: "X-Content-Type-Options", value: "nosniff" },
          // Other sites learn only Pacer's origin, never a page's path or query.
          { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
          // For browsers older than CSP's frame-ancestors: no page may be framed.
          { key: "X-Frame-Options", value: "DENY" },
        ],
      },
    ];
  },
};

export default nextConfig;
