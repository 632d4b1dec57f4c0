"use client";
// Asks Supabase Auth to email a password-reset link. The answer is the same whether or not the
// address has an account (Auth answers alike), so the page cannot be used to find out who uses Pacer.
import { useEffect, useRef, useState, type FormEvent } from "react";
import Link from "next/link";
import { CircleAlert, MailCheck } from "lucide-react";
import { createClient } from "@/lib/supabase/client";
import { authProblem, type AuthProblem } from "@/lib/auth/messages";
import { AuthProblemAlert } from "@/components/auth/auth-problem";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";

export function ForgotPasswordForm({ mailboxUrl, linkInvalid }: { mailboxUrl: string | null; linkInvalid: boolean }) {
  const [pending, setPending] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [problem, setProblem] = useState<AuthProblem | null>(null);
  const emailRef = useRef<HTMLInputElement>(null);
  const doneRef = useRef<HTMLHeadingElement>(null);
  // Once the confirmation is on screen, focus moves to it, so it is what a screen reader reads next.
  useEffect(() => {
    if (sentTo) doneRef.current?.focus();
  }, [sentTo]);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const email = String(new FormData(event.currentTarget).get("email")).trim();
    setPending(true);
    setProblem(null);
    const { error } = await createClient().auth.resetPasswordForEmail(email, {
      // The email's link comes back to this app (app/(auth)/auth/confirm), then to the new-password page.
      redirectTo: `${window.location.origin}/reset-password`,
    });
    setPending(false);
    // Auth limits mails per address only for addresses that have an account: answering that case
    // differently would tell anyone which addresses are registered. It gets the same answer as any.
    if (error && error.code !== "over_email_send_rate_limit") {
      setProblem(authProblem("reset-request", error));
      emailRef.current?.focus();
      return;
    }
    setSentTo(email);
  }

  return (
    <Card className="w-full max-w-sm">
      <CardHeader>
        <CardTitle>
          <h1 className="text-xl">Reset your password</h1>
        </CardTitle>
        <CardDescription>Enter the email address you signed up with. We will send you a link to choose a new password.</CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {linkInvalid && !sentTo && (
          <Alert variant="destructive" data-testid="reset-link-invalid">
            <CircleAlert aria-hidden />
            <AlertTitle>That reset link no longer works</AlertTitle>
            <AlertDescription>A link works once, for 24 hours. Ask for a new one below.</AlertDescription>
          </Alert>
        )}
        {sentTo ? (
          <Alert data-testid="reset-sent">
            <MailCheck aria-hidden />
            <AlertTitle>
              <h2 ref={doneRef} tabIndex={-1} className="outline-none">
                Check your email
              </h2>
            </AlertTitle>
            <AlertDescription>
              <p>
                If an account uses {sentTo}, a link to choose a new password is on its way. It works once, for 24 hours.
                Nothing arrived? Check the spam folder, or ask again in a minute.
              </p>
            </AlertDescription>
          </Alert>
        ) : (
          <form onSubmit={onSubmit} className="grid gap-4">
            {problem && <AuthProblemAlert title="Could not send the link" problem={problem} />}
            <div className="grid gap-2">
              <Label htmlFor="email">Email</Label>
              <Input ref={emailRef} id="email" name="email" type="email" autoComplete="email" required placeholder="you@example.com" />
            </div>
            <Button type="submit" disabled={pending}>
              {pending ? "Sending…" : "Send reset link"}
            </Button>
          </form>
        )}
        {mailboxUrl && (
          <p data-testid="local-mailbox-notice" className="text-sm text-muted-foreground">
            This copy of Pacer runs on your computer and sends no email. The reset email lands in the{" "}
            <a href={mailboxUrl} target="_blank" rel="noreferrer" className="font-medium text-foreground underline underline-offset-4">
              local mailbox
            </a>
            .
          </p>
        )}
      </CardContent>
      <CardFooter className="justify-center gap-1 text-sm text-muted-foreground">
        Remembered it?
        <Link href="/sign-in" className="font-medium text-foreground underline underline-offset-4">
          Sign in
        </Link>
      </CardFooter>
    </Card>
  );
}
