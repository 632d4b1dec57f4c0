// Sign-in page; `?next=` (set when the dashboard turned a visitor away) is where to go afterwards.
import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { PasswordForm } from "@/components/auth/password-form";
import { currentUser } from "@/lib/auth";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  const { next } = await searchParams;
  if (await currentUser()) redirect("/dashboard");
  return <PasswordForm mode="sign-in" next={typeof next === "string" ? next : undefined} />;
}
