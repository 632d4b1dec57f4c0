"use server";
// Sign-out as a server action: ends the Supabase session (clearing its cookies) and returns to sign-in.
import { redirect } from "next/navigation";
import { createClient } from "@/lib/supabase/server";

export async function signOut() {
  const supabase = await createClient();
  await supabase.auth.signOut();
  redirect("/sign-in");
}
