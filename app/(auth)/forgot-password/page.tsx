// Forgot password: asks for the email address and has Supabase Auth send a one-time reset link.
// `?link=invalid` is where app/(auth)/auth/confirm sends a link that expired or was already used.
import type { Metadata } from "next";
import { ForgotPasswordForm } from "@/components/auth/forgot-password-form";

export const metadata: Metadata = { title: "Forgot password" };

export default async function ForgotPasswordPage({ searchParams }: { searchParams: Promise<{ link?: string | string[] }> }) {
  const { link } = await searchParams;
  // Set by the local stack (local/stack.ts) only when no email can leave this computer.
  const mailboxUrl = process.env.PACER_LOCAL_MAILBOX_URL || null;
  return <ForgotPasswordForm mailboxUrl={mailboxUrl} linkInvalid={link === "invalid"} />;
}
