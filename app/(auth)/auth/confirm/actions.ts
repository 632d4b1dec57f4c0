"use server";
// Verifies a reset link's token_hash on the server, which signs the user in with a session cookie,
// then sends them on to `next`. On the server rather than in the browser, so the link works in any
// browser, not only the one that asked for it (@supabase/ssr's token-hash flow).
import { redirect } from "next/navigation";
import { createClient } from "@/lib/supabase/server";
import { safeNextPath } from "@/lib/auth/redirect";

// Only a path on this app is followed. It is checked against a placeholder origin: the request's Host
// is whatever its sender wrote, and a path needs no origin.
const SAME_APP = "http://pacer.invalid";

export async function confirmRecovery(form: FormData): Promise<void> {
  const tokenHash = String(form.get("token_hash") ?? "");
  if (tokenHash) {
    const supabase = await createClient();
    const { error } = await supabase.auth.verifyOtp({ type: "recovery", token_hash: tokenHash });
    if (!error) redirect(safeNextPath(String(form.get("next") ?? ""), SAME_APP));
  }
  // Expired, already used, or cut short by the mail program: offer a new one.
  redirect("/forgot-password?link=invalid");
}
