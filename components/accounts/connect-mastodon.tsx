"use client";
// "Connect Mastodon": the user names their instance and is sent to its sign-in; the instance sends
// them back to Pacer, which adds the account (ConnectNotice says how it went).
import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { CircleAlert, LogIn } from "lucide-react";
import { ApiError, sendJson } from "@/lib/api/client";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";

export function ConnectMastodon({ limitReached }: { limitReached: boolean }) {
  const [error, setError] = useState<{ message: string; onField: boolean } | null>(null);
  const start = useMutation({
    mutationFn: (instance: string) => sendJson<{ authorizeUrl: string }>("POST", "/api/accounts/mastodon/connect", { instance }),
    // A full page load: the instance's sign-in is its own site.
    onSuccess: ({ authorizeUrl }) => window.location.assign(authorizeUrl),
    onError: (e) =>
      setError({
        message: e instanceof Error ? e.message : "Pacer could not start the sign-in. Try again in a moment.",
        onField: e instanceof ApiError && e.status === 400,
      }),
  });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    start.mutate(String(new FormData(event.currentTarget).get("instance") ?? ""));
  }

  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Connect Mastodon</h2>
        </CardTitle>
        <CardDescription>
          Name your instance: Pacer sends you to its sign-in to allow posting, then brings you back here. Pacer never
          sees your Mastodon password.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {error && !error.onField && (
          <Alert variant="destructive">
            <CircleAlert aria-hidden />
            <AlertDescription>{error.message}</AlertDescription>
          </Alert>
        )}
        <form onSubmit={onSubmit} className="grid gap-4" noValidate>
          <div className="grid gap-2">
            <Label htmlFor="mastodon-instance">Your instance</Label>
            <Input
              id="mastodon-instance"
              name="instance"
              placeholder="mastodon.social"
              autoComplete="url"
              inputMode="url"
              required
              aria-invalid={error?.onField ? true : undefined}
              aria-describedby={error?.onField ? "mastodon-instance-error" : undefined}
            />
            {error?.onField && (
              <p id="mastodon-instance-error" className="text-sm text-destructive">
                {error.message}
              </p>
            )}
          </div>
          <Button type="submit" className="justify-self-start" disabled={limitReached || start.isPending || start.isSuccess}>
            <LogIn aria-hidden />
            {start.isPending || start.isSuccess ? "Opening your instance…" : "Connect Mastodon"}
          </Button>
        </form>
      </CardContent>
    </Card>
  );
}
