// Sign-up page: a new user gets a free workspace and lands on the dashboard.
import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { PasswordForm } from "@/components/auth/password-form";
import { currentUser } from "@/lib/auth";

export const metadata: Metadata = { title: "Sign up" };

export default async function SignUpPage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  const { next } = await searchParams;
  if (await currentUser()) redirect("/dashboard");
  return <PasswordForm mode="sign-up" next={typeof next === "string" ? next : undefined} />;
}
