"use client";
// The new-password form a reset link leads to: the rules shown before submit, the same check as the
// auth server, then updateUser. Auth signs out every other session when the password changes.
import { useEffect, useRef, useState, type FormEvent } from "react";
import Link from "next/link";
import { CircleCheck } from "lucide-react";
import { createClient } from "@/lib/supabase/client";
import { authProblem, type AuthProblem } from "@/lib/auth/messages";
import { passwordProblem } from "@/lib/auth/password-rules";
import { AuthProblemAlert } from "@/components/auth/auth-problem";
import { PasswordField } from "@/components/auth/password-field";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";

export function ResetPasswordForm({ email }: { email: string | null }) {
  const [pending, setPending] = useState(false);
  const [done, setDone] = useState(false);
  const [problem, setProblem] = useState<AuthProblem | null>(null);
  const [passwordError, setPasswordError] = useState<string | null>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const doneRef = useRef<HTMLHeadingElement>(null);
  // Once the confirmation is on screen, focus moves to it, so it is what a screen reader reads next.
  useEffect(() => {
    if (done) doneRef.current?.focus();
  }, [done]);

  if (email === null) {
    return (
      <Card className="w-full max-w-sm">
        <CardHeader>
          <CardTitle>
            <h1 className="text-xl">Choose a new password</h1>
          </CardTitle>
          <CardDescription>
            This page opens from the link in a password-reset email, and that link has expired or was already used.
          </CardDescription>
        </CardHeader>
        <CardContent>
          <Button asChild className="w-full">
            <Link href="/forgot-password">Get a new reset link</Link>
          </Button>
        </CardContent>
      </Card>
    );
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const password = String(new FormData(event.currentTarget).get("password"));
    setProblem(null);
    const tooWeak = passwordProblem(password);
    setPasswordError(tooWeak);
    if (tooWeak) {
      passwordRef.current?.focus();
      return;
    }
    setPending(true);
    const { error } = await createClient().auth.updateUser({ password });
    setPending(false);
    if (error) {
      setProblem(authProblem("new-password", error));
      passwordRef.current?.focus();
      return;
    }
    setDone(true);
  }

  return (
    <Card className="w-full max-w-sm">
      <CardHeader>
        <CardTitle>
          <h1 className="text-xl">Choose a new password</h1>
        </CardTitle>
        <CardDescription>For {email}.</CardDescription>
      </CardHeader>
      <CardContent>
        {done ? (
          <Alert data-testid="password-changed">
            <CircleCheck aria-hidden />
            <AlertTitle>
              <h2 ref={doneRef} tabIndex={-1} className="outline-none">
                Your password is changed
              </h2>
            </AlertTitle>
            <AlertDescription>
              <p>You are signed in here; everywhere else you were signed in, you will need the new password.</p>
              <Button asChild className="mt-2">
                <Link href="/dashboard">Go to the dashboard</Link>
              </Button>
            </AlertDescription>
          </Alert>
        ) : (
          <form onSubmit={onSubmit} className="grid gap-4">
            {problem && <AuthProblemAlert title="Could not change the password" problem={problem} />}
            <PasswordField inputRef={passwordRef} label="New password" autoComplete="new-password" showRules error={passwordError} />
            <Button type="submit" disabled={pending}>
              {pending ? "Saving…" : "Save new password"}
            </Button>
          </form>
        )}
      </CardContent>
    </Card>
  );
}
