// Who is making a request: the verified claims of the signed-in user, from the session cookie
// (pages, server actions) or from `Authorization: Bearer <access token>` (the HTTP API), or of the
// person an API key acts for (`Authorization: Bearer pk_…`, lib/api-keys).
import { createClient as createSupabaseClient, type SupabaseClient } from "@supabase/supabase-js";
import { createServerClient, parseCookieHeader } from "@supabase/ssr";
import { redirect } from "next/navigation";
import { createClient } from "@/lib/supabase/server";
import type { UserClaims } from "@/lib/db";
import { authenticateApiKey, isApiKeyToken } from "@/lib/api-keys";

/** The `iss` of this project's access tokens: Supabase Auth's URL, `<project url>/auth/v1`. */
export function expectedIssuer(): string {
  return `${process.env.NEXT_PUBLIC_SUPABASE_URL!.replace(/\/+$/, "")}/auth/v1`;
}

/** Access tokens for signed-in users carry this audience; getClaims checks only signature and expiry. */
export const ACCESS_TOKEN_AUDIENCE = "authenticated";

function toUserClaims(claims: Record<string, unknown> | undefined | null): UserClaims | null {
  // Only signed-in users' tokens act on data; anon or service tokens are not user sessions.
  if (!claims || typeof claims.sub !== "string" || claims.role !== "authenticated") return null;
  // A token signed by our key but minted for another audience or by another issuer is not ours to honour.
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(ACCESS_TOKEN_AUDIENCE) || claims.iss !== expectedIssuer()) return null;
  // Only an API key sets the key claim (it narrows what the database allows); a session never carries one.
  const { api_key: _ignored, ...session } = claims;
  return session as UserClaims;
}

let bearerVerifier: SupabaseClient | undefined;

/** One client per process verifies bearer tokens, so the JWKS is fetched once and cached. */
function verifier(): SupabaseClient {
  bearerVerifier ??= createSupabaseClient(
    process.env.NEXT_PUBLIC_SUPABASE_URL!,
    process.env.NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY!,
    { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } },
  );
  return bearerVerifier;
}

/**
 * The user behind an API request, or null. Verifies the JWT exactly as production does (getClaims).
 * An API key gives its maker's claims with `api_key` set (the route then sets the scope it uses), or
 * a 401/403 PacerError saying why the key is refused (revoked, expired, …).
 */
export async function authenticate(request: Request): Promise<UserClaims | null> {
  const header = request.headers.get("authorization");
  if (header) {
    const token = header.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) return null;
    if (isApiKeyToken(token)) return authenticateApiKey(token);
    const { data, error } = await verifier().auth.getClaims(token);
    return error ? null : toUserClaims(data?.claims);
  }
  const supabase = createServerClient(
    process.env.NEXT_PUBLIC_SUPABASE_URL!,
    process.env.NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY!,
    {
      cookies: {
        getAll: () =>
          parseCookieHeader(request.headers.get("cookie") ?? "").map((c) => ({ name: c.name, value: c.value ?? "" })),
        // The proxy refreshes and writes session cookies; an API response never needs to.
        setAll: () => {},
      },
    },
  );
  const { data, error } = await supabase.auth.getClaims();
  return error ? null : toUserClaims(data?.claims);
}

/** The signed-in user in a server component or server action, or null. */
export async function currentUser(): Promise<UserClaims | null> {
  const supabase = await createClient();
  const { data, error } = await supabase.auth.getClaims();
  return error ? null : toUserClaims(data?.claims);
}

/** The signed-in user, or a redirect to the sign-in page. */
export async function requireUser(): Promise<UserClaims> {
  const user = await currentUser();
  if (!user) redirect("/sign-in");
  return user;
}
