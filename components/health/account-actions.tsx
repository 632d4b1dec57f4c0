"use client";
// One-click actions on an account's health: pause or resume it, acknowledge an alert, release a held destination.
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { Pause, Play } from "lucide-react";
import { Button } from "@/components/ui/button";
import { failureMessage, sendJson } from "@/lib/api/client";
import { useRefreshHealth } from "./queries";
import type { PauseResult } from "./types";

function ActionError({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p role="alert" className="text-sm whitespace-normal text-destructive">
      {message}
    </p>
  );
}

/** Pause when it can publish, resume when paused; states a person must fix first (restricted, reconnect) offer neither. */
export function PauseResumeButton({ accountId, handle, state }: { accountId: string; handle: string; state: string }) {
  const refresh = useRefreshHealth();
  const [error, setError] = useState<string | null>(null);
  const paused = state === "paused";
  const action = useMutation({
    mutationFn: () =>
      sendJson<PauseResult>("POST", `/api/accounts/${encodeURIComponent(accountId)}/${paused ? "resume" : "pause"}`),
    onSuccess: async () => {
      setError(null);
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  if (!paused && state !== "active" && state !== "connected") return null;
  return (
    <div className="grid justify-items-start gap-1">
      <Button
        size="sm"
        variant={paused ? "default" : "outline"}
        disabled={action.isPending}
        onClick={() => action.mutate()}
        aria-label={`${paused ? "Resume" : "Pause"} @${handle}`}
      >
        {paused ? <Play aria-hidden /> : <Pause aria-hidden />}
        {paused ? "Resume" : "Pause"}
      </Button>
      <ActionError message={error} />
    </div>
  );
}

export function AcknowledgeButton({ alertId, label }: { alertId: number | string; label: string }) {
  const refresh = useRefreshHealth();
  const [error, setError] = useState<string | null>(null);
  const acknowledge = useMutation({
    mutationFn: () => sendJson("POST", `/api/alerts/${encodeURIComponent(String(alertId))}/acknowledge`),
    onSuccess: async () => {
      setError(null);
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  return (
    <div className="grid justify-items-start gap-1">
      <Button size="sm" variant="outline" disabled={acknowledge.isPending} onClick={() => acknowledge.mutate()} aria-label={label}>
        Acknowledge
      </Button>
      <ActionError message={error} />
    </div>
  );
}

export function ReleaseDestinationButton({ accountId, destination }: { accountId: string; destination: string }) {
  const refresh = useRefreshHealth();
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const release = useMutation({
    mutationFn: () =>
      sendJson<{ released: boolean; items: number }>("POST", `/api/accounts/${encodeURIComponent(accountId)}/destinations/release`, {
        destination,
      }),
    onSuccess: async (result) => {
      setError(null);
      setNote(`Released: ${result.items} held ${result.items === 1 ? "post goes" : "posts go"} out again.`);
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  return (
    <div className="grid justify-items-start gap-1">
      <Button size="sm" variant="outline" disabled={release.isPending} onClick={() => release.mutate()} aria-label={`Release ${destination}`}>
        Release
      </Button>
      {note && (
        <p role="status" className="text-sm whitespace-normal text-muted-foreground">
          {note}
        </p>
      )}
      <ActionError message={error} />
    </div>
  );
}

export { ActionError };

/** Said once per page to people whose role only reads: why the actions are missing. */
export function ViewerNote() {
  return (
    <p role="note" data-testid="viewer-note" className="rounded-lg border border-dashed p-3 text-sm text-muted-foreground">
      Viewers can look but not act; ask an editor or admin.
    </p>
  );
}
