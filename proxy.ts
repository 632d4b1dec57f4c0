// Next.js request interceptor (Next 16's name for middleware): keeps the Supabase session fresh and
// gives every page a Content-Security-Policy with a nonce of its own.
import type { NextRequest } from "next/server";
import { updateSession } from "@/lib/supabase/proxy";
import { contentSecurityPolicy, newNonce } from "@/lib/security/csp";

export async function proxy(request: NextRequest) {
  const csp = contentSecurityPolicy({
    nonce: newNonce(),
    dev: process.env.NODE_ENV === "development",
    supabaseUrl: process.env.NEXT_PUBLIC_SUPABASE_URL,
    https: request.nextUrl.protocol === "https:" || request.headers.get("x-forwarded-proto") === "https",
  });
  // Next reads the nonce from the request's policy while rendering, and puts it on its own scripts;
  // updateSession forwards these request headers.
  request.headers.set("content-security-policy", csp);
  const response = await updateSession(request);
  response.headers.set("content-security-policy", csp);
  return response;
}

export const config = {
  matcher: [
    // Pages: everything except the API and static assets.
    "/((?!api/|_next/static|_next/image|favicon.ico|.*\\.(?:svg|png|jpg|jpeg|gif|webp)$).*)",
    // The API only when it rides on the session cookie, which may need refreshing. A request with an
    // Authorization header (access token or API key) is authenticated by the route from that header
    // alone and answers JSON, which needs no CSP: skipping the proxy saves a Supabase client per request.
    { source: "/api/:path*", missing: [{ type: "header", key: "authorization" }] },
  ],
};
