"use client";
// Reconnect, on an account whose platform no longer accepts its credentials (state needs_reconnect):
// Mastodon goes through its instance's sign-in again; Bluesky asks for a new app password. Either
// way it stays the same account, with its queue and history.
import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import type { Account } from "@/lib/accounts";
import { sendJson } from "@/lib/api/client";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { blueskyFailure } from "./connect-bluesky";
import { useRefreshAccounts } from "./queries";

/** The platforms an account can be reconnected on from this page. */
const RECONNECTABLE = new Set(["mastodon", "bluesky"]);

export function ReconnectAccount({ account }: { account: Account }) {
  const refresh = useRefreshAccounts();
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const handle = `@${account.handle}`;
  const mastodon = useMutation({
    mutationFn: () => sendJson<{ authorizeUrl: string }>("POST", "/api/accounts/mastodon/connect", { accountId: account.id }),
    onSuccess: ({ authorizeUrl }) => window.location.assign(authorizeUrl),
    onError: (e) => setError(blueskyFailure(e).message),
  });
  const bluesky = useMutation({
    mutationFn: (appPassword: string) => sendJson("POST", `/api/accounts/${account.id}/reconnect`, { credentials: { appPassword } }),
    onSuccess: async () => {
      setAsking(false);
      await refresh();
    },
    onError: (e) => setError(blueskyFailure(e).message),
  });

  if (account.state !== "needs_reconnect" || !RECONNECTABLE.has(account.platform)) return null;
  const errorId = `reconnect-${account.id}-error`;
  const errorLine = error && (
    <p id={errorId} role="alert" className="basis-full text-left text-sm text-destructive">
      {error}
    </p>
  );

  if (account.platform === "mastodon") {
    return (
      <>
        <Button size="sm" disabled={mastodon.isPending || mastodon.isSuccess} onClick={() => (setError(null), mastodon.mutate())}>
          Reconnect<span className="sr-only"> {handle}</span>
        </Button>
        {errorLine}
      </>
    );
  }
  if (!asking) {
    return (
      <Button size="sm" onClick={() => setAsking(true)}>
        Reconnect<span className="sr-only"> {handle}</span>
      </Button>
    );
  }
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    bluesky.mutate(String(new FormData(event.currentTarget).get("appPassword") ?? ""));
  }
  return (
    <form onSubmit={onSubmit} className="flex basis-full flex-wrap items-center justify-end gap-2">
      <Input
        name="appPassword"
        type="password"
        placeholder="New app password"
        autoComplete="off"
        aria-label={`New app password for ${handle}`}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
        className="h-8 w-48"
        autoFocus
      />
      <Button type="submit" size="sm" disabled={bluesky.isPending}>
        {bluesky.isPending ? "Reconnecting…" : "Reconnect"}
      </Button>
      <Button type="button" size="sm" variant="ghost" onClick={() => (setAsking(false), setError(null))}>
        Cancel
      </Button>
      {errorLine}
    </form>
  );
}
