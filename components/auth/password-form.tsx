"use client";
// The email-and-password form behind both sign-in and sign-up, talking to Supabase Auth from the browser.
import { useRef, useState, type FormEvent } from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { MailCheck } from "lucide-react";
import { createClient } from "@/lib/supabase/client";
import { safeNextPath } from "@/lib/auth/redirect";
import { authProblem, type AuthProblem } from "@/lib/auth/messages";
import { passwordProblem } from "@/lib/auth/password-rules";
import { AuthProblemAlert } from "@/components/auth/auth-problem";
import { PasswordField } from "@/components/auth/password-field";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";

type Mode = "sign-in" | "sign-up";

const copy = {
  "sign-in": {
    title: "Sign in to Pacer",
    description: "Welcome back. Enter the email and password you signed up with.",
    submit: "Sign in",
    pending: "Signing in…",
    failed: "Could not sign in",
    passwordAutocomplete: "current-password",
    switchText: "No account yet?",
    switchLink: "Sign up",
    switchHref: "/sign-up",
  },
  "sign-up": {
    title: "Create your Pacer account",
    description: "A free workspace with room for 10 social accounts comes with it.",
    submit: "Create account",
    pending: "Creating account…",
    failed: "Could not create the account",
    passwordAutocomplete: "new-password",
    switchText: "Already have an account?",
    switchLink: "Sign in",
    switchHref: "/sign-in",
  },
} as const;

export function PasswordForm({ mode, next }: { mode: Mode; next?: string }) {
  const router = useRouter();
  const text = copy[mode];
  const [pending, setPending] = useState(false);
  const [problem, setProblem] = useState<AuthProblem | null>(null);
  const [passwordError, setPasswordError] = useState<string | null>(null);
  const [confirmEmail, setConfirmEmail] = useState(false);
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const credentials = { email: String(form.get("email")), password: String(form.get("password")) };
    setProblem(null);
    // A new password is checked here first, against the rules the form shows (the server checks them again).
    const tooWeak = mode === "sign-up" ? passwordProblem(credentials.password) : null;
    setPasswordError(tooWeak);
    if (tooWeak) {
      passwordRef.current?.focus();
      return;
    }
    setPending(true);

    const supabase = createClient();
    const { data, error } =
      mode === "sign-in"
        ? await supabase.auth.signInWithPassword(credentials)
        : await supabase.auth.signUp(credentials);

    if (error) {
      const said = authProblem(mode, error);
      setProblem(said);
      setPending(false);
      // Focus goes to the field the problem is about, so keyboard and screen-reader users land on it.
      (said.field === "email" ? emailRef : passwordRef).current?.focus();
      return;
    }
    if (!data.session) {
      // The project asks new users to confirm their email before the first sign-in.
      setConfirmEmail(true);
      setPending(false);
      return;
    }
    // Checked against this page's own origin: anything that would leave it goes to the dashboard.
    router.replace(safeNextPath(next, window.location.origin));
    router.refresh();
  }

  // Passed along as given: the other form checks it the same way before using it.
  const switchHref = next ? `${text.switchHref}?next=${encodeURIComponent(next)}` : text.switchHref;

  return (
    <Card className="w-full max-w-sm">
      <CardHeader>
        <CardTitle>
          <h1 className="text-xl">{text.title}</h1>
        </CardTitle>
        <CardDescription>{text.description}</CardDescription>
      </CardHeader>
      <CardContent>
        {confirmEmail ? (
          <Alert>
            <MailCheck aria-hidden />
            <AlertTitle>Check your inbox</AlertTitle>
            <AlertDescription>Follow the link we sent to confirm your email address, then sign in.</AlertDescription>
          </Alert>
        ) : (
          <form onSubmit={onSubmit} className="grid gap-4">
            {problem && <AuthProblemAlert title={text.failed} problem={problem} next={next} />}
            <div className="grid gap-2">
              <Label htmlFor="email">Email</Label>
              <Input
                ref={emailRef}
                id="email"
                name="email"
                type="email"
                autoComplete="email"
                required
                placeholder="you@example.com"
              />
            </div>
            <PasswordField
              inputRef={passwordRef}
              autoComplete={text.passwordAutocomplete}
              showRules={mode === "sign-up"}
              error={passwordError}
              extra={
                mode === "sign-in" && (
                  <Link href="/forgot-password" className="text-sm underline underline-offset-4">
                    Forgot password?
                  </Link>
                )
              }
            />
            <Button type="submit" disabled={pending}>
              {pending ? text.pending : text.submit}
            </Button>
          </form>
        )}
      </CardContent>
      <CardFooter className="justify-center gap-1 text-sm text-muted-foreground">
        {text.switchText}
        <Link href={switchHref} className="font-medium text-foreground underline underline-offset-4">
          {text.switchLink}
        </Link>
      </CardFooter>
    </Card>
  );
}
