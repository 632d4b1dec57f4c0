// Where an email link from Supabase Auth lands (the "Reset password" template in docs/deploying.md):
// the server verifies its token_hash, which signs the user in with a session cookie, then sends them
// on to `next`. Verified here rather than in the browser, so the link works in any browser, not only
// the one that asked for it (@supabase/ssr's token-hash flow).
import { redirect } from "next/navigation";
import type { NextRequest } from "next/server";
import { createClient } from "@/lib/supabase/server";
import { safeNextPath } from "@/lib/auth/redirect";

export async function GET(request: NextRequest) {
  const params = request.nextUrl.searchParams;
  const tokenHash = params.get("token_hash");
  // Pacer only sends reset links (sign-ups need no confirmation on the local server; see docs/deploying.md).
  if (tokenHash && params.get("type") === "recovery") {
    const supabase = await createClient();
    const { error } = await supabase.auth.verifyOtp({ type: "recovery", token_hash: tokenHash });
    if (!error) redirect(safeNextPath(params.get("next"), request.nextUrl.origin));
  }
  // Expired, already used, or cut short by the mail program: offer a new one.
  redirect("/forgot-password?link=invalid");
}
