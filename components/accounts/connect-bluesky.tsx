"use client";
// "Connect Bluesky": a handle and an app password, which Pacer uses once to sign in and then forgets
// (it keeps the session Bluesky hands out, never the password).
import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { CircleAlert, Plus } from "lucide-react";
import { ApiError, sendJson } from "@/lib/api/client";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { useRefreshAccounts } from "./queries";

export const APP_PASSWORDS_URL = "https://bsky.app/settings/app-passwords";

type Failure = { message: string; field?: "handle" | "appPassword" };

/** The field a failure names (the API's issue path), so its message shows next to it. */
export function blueskyFailure(error: unknown): Failure {
  if (!(error instanceof Error)) return { message: "Pacer could not reach Bluesky just now. Try again in a moment." };
  const issue = error instanceof ApiError ? error.issues?.[0] : undefined;
  const field = issue?.path === "handle" ? "handle" : issue?.path.startsWith("credentials") ? "appPassword" : undefined;
  return { message: issue?.message ?? error.message, field };
}

export function ConnectBluesky({ limitReached }: { limitReached: boolean }) {
  const refresh = useRefreshAccounts();
  const [failure, setFailure] = useState<Failure | null>(null);
  const [connected, setConnected] = useState<string | null>(null);
  const add = useMutation({
    mutationFn: (input: { handle: string; appPassword: string }) =>
      sendJson<{ account: { handle: string } }>("POST", "/api/accounts", {
        platform: "bluesky",
        handle: input.handle,
        credentials: { appPassword: input.appPassword },
      }),
    onSuccess: async ({ account }) => {
      setConnected(account.handle);
      await refresh();
    },
    onError: (e) => setFailure(blueskyFailure(e)),
  });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setFailure(null);
    setConnected(null);
    const form = event.currentTarget;
    const data = new FormData(form);
    add.mutate(
      { handle: String(data.get("handle") ?? ""), appPassword: String(data.get("appPassword") ?? "") },
      { onSuccess: () => form.reset() },
    );
  }

  const invalid = (field: Failure["field"]) =>
    failure?.field === field ? { "aria-invalid": true as const, "aria-describedby": `bluesky-${field}-error` } : {};
  const fieldError = (field: Failure["field"]) =>
    failure && failure.field === field && (
      <p id={`bluesky-${field}-error`} className="text-sm text-destructive">
        {failure.message}
      </p>
    );

  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Connect Bluesky</h2>
        </CardTitle>
        <CardDescription>
          Use an app password, not your account password: create one in{" "}
          <a href={APP_PASSWORDS_URL} target="_blank" rel="noreferrer" className="underline underline-offset-4">
            Bluesky’s settings → App passwords
          </a>
          . Pacer signs in with it once and never stores it.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {failure && !failure.field && (
          <Alert variant="destructive">
            <CircleAlert aria-hidden />
            <AlertDescription>{failure.message}</AlertDescription>
          </Alert>
        )}
        {connected && (
          <p role="status" className="text-sm">
            @{connected} is connected: Pacer can publish to it now.
          </p>
        )}
        <form onSubmit={onSubmit} className="grid gap-4" noValidate>
          <div className="grid gap-2">
            {/* Not "Handle": the sandbox form below has that label. */}
            <Label htmlFor="bluesky-handle">Bluesky account</Label>
            <Input id="bluesky-handle" name="handle" placeholder="you.bsky.social" autoComplete="username" required {...invalid("handle")} />
            {fieldError("handle")}
          </div>
          <div className="grid gap-2">
            <Label htmlFor="bluesky-app-password">App password</Label>
            <Input
              id="bluesky-app-password"
              name="appPassword"
              type="password"
              placeholder="xxxx-xxxx-xxxx-xxxx"
              autoComplete="off"
              required
              {...invalid("appPassword")}
            />
            {fieldError("appPassword")}
          </div>
          <Button type="submit" className="justify-self-start" disabled={limitReached || add.isPending}>
            <Plus aria-hidden />
            {add.isPending ? "Connecting…" : "Connect Bluesky"}
          </Button>
        </form>
      </CardContent>
    </Card>
  );
}
