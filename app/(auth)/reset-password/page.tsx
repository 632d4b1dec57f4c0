// Choose a new password. The reset link (app/(auth)/auth/confirm) signed the user in; without a session
// the link has expired or was never followed, and the page says how to get a new one.
import type { Metadata } from "next";
import { ResetPasswordForm } from "@/components/auth/reset-password-form";
import { currentUser } from "@/lib/auth";

export const metadata: Metadata = { title: "Choose a new password" };

export default async function ResetPasswordPage() {
  const user = await currentUser();
  return <ResetPasswordForm email={user ? String(user.email ?? "") : null} />;
}
