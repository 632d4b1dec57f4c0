"use client";
// The bulk bar: what is selected, and Cancel / Retry / Reschedule for it. Each asks first, saying what
// will happen (and what will be skipped), then acts in one request; the outcome is announced, with
// Undo after a cancel (Undo restores what this cancel cancelled). Keyboard: the confirmation takes
// focus when it opens; afterwards focus returns to the bar.
import { useEffect, useId, useRef, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { useAnnounce } from "@/components/app/announcer";
import { useTimeZone } from "@/components/time/time-zone";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { failureMessage, sendJson } from "@/lib/api/client";
import { instantOfWallTime, wallTimeAt } from "@/lib/time/wall-time";
import { exactTime } from "@/lib/time/relative";
import type { BulkAction, BulkOutcome } from "@/lib/queue/types";
import { describeOutcome, posts } from "./describe";
import { useRefreshQueue } from "./queries";

/** The selection: ids picked one by one, or every item matching the filters. */
export type Selection = { kind: "ids"; ids: number[] } | { kind: "all"; count: number; filter: Record<string, string> };

const count = (s: Selection) => (s.kind === "ids" ? s.ids.length : s.count);

const VERB: Record<BulkAction, { button: string; done: string }> = {
  cancel: { button: "Cancel", done: "Cancelled" },
  retry: { button: "Retry", done: "Retried" },
  reschedule: { button: "Reschedule", done: "Rescheduled" },
};

function whatHappens(action: BulkAction, n: number): string {
  switch (action) {
    case "cancel":
      return `Cancel ${posts(n)}? Posts still waiting are cancelled now; a post being published is asked to stop after its current attempt. Posted and failed posts are skipped. You can undo this right after.`;
    case "retry":
      return `Retry ${posts(n)}? Failed posts and posts needing review go back to the queue, due now; the rest are skipped. For a post needing review, check the account first: the earlier attempt may have landed.`;
    case "reschedule":
      return `Move ${posts(n)} to a new time? Only posts still waiting move; the rest are skipped. A post held by a paused account or a rate limit still waits for that.`;
  }
}

export function BulkBar({ selection, onDone, onSelectNone }: { selection: Selection; onDone: () => void; onSelectNone: () => void }) {
  const announce = useAnnounce();
  const refresh = useRefreshQueue();
  const { timeZone } = useTimeZone();
  const [asking, setAsking] = useState<BulkAction | null>(null);
  const [when, setWhen] = useState(() => wallTimeAt(new Date(Date.now() + 3600_000), timeZone));
  const [error, setError] = useState<string | null>(null);
  const summary = useRef<HTMLParagraphElement>(null);
  const confirmRegion = useRef<HTMLDivElement>(null);
  const whenId = useId();
  const n = count(selection);

  useEffect(() => {
    // The confirmation takes focus as it opens: its first field, or its confirm button.
    if (asking) confirmRegion.current?.querySelector<HTMLElement>("input, button")?.focus();
  }, [asking]);

  const target = () => (selection.kind === "ids" ? { ids: selection.ids } : { filter: selection.filter });

  const restore = async (ids: number[]) => {
    try {
      const o = await sendJson<BulkOutcome>("POST", "/api/queue/restore", { ids });
      announce(describeOutcome("Restored", o));
    } catch (e) {
      announce(`Could not undo: ${failureMessage(e)}`);
    }
    await refresh();
  };

  const act = useMutation({
    mutationFn: async (action: BulkAction) => {
      let scheduledFor: string | undefined;
      if (action === "reschedule") {
        const r = instantOfWallTime(when, timeZone);
        if (!r.ok) throw new Error(r.message);
        scheduledFor = r.instant;
      }
      return sendJson<BulkOutcome>("POST", "/api/queue/bulk", { action, ...target(), ...(scheduledFor ? { scheduledFor } : {}) });
    },
    onMutate: () => setError(null),
    onSuccess: async (o, action) => {
      setAsking(null);
      const cancelled = o.items.filter((i) => i.outcome === "cancelled").map((i) => i.id);
      announce(describeOutcome(VERB[action].done, o), action === "cancel" && cancelled.length ? { action: { label: "Undo", run: () => restore(cancelled) } } : undefined);
      onDone();
      await refresh();
      summary.current?.focus();
    },
    onError: (e) => setError(failureMessage(e)),
  });

  return (
    <section aria-label="Bulk actions" className="grid gap-3 rounded-lg border bg-muted/40 p-3" data-testid="bulk-bar">
      <div className="flex flex-wrap items-center gap-2">
        <p ref={summary} tabIndex={-1} className="mr-auto text-sm font-medium outline-none" aria-live="polite">
          {selection.kind === "all" ? `All ${posts(n)} matching the filters selected` : n ? `${posts(n)} selected` : "Select posts to act on them together."}
        </p>
        {n > 0 && (
          <>
            {(Object.keys(VERB) as BulkAction[]).map((action) => (
              <Button key={action} size="sm" variant={asking === action ? "default" : "outline"} aria-expanded={asking === action} onClick={() => setAsking(asking === action ? null : action)}>
                {VERB[action].button}
                {action === "reschedule" ? "…" : ""}
              </Button>
            ))}
            <Button size="sm" variant="ghost" onClick={onSelectNone}>
              Clear selection
            </Button>
          </>
        )}
      </div>
      {asking && n > 0 && (
        <div ref={confirmRegion} role="group" aria-label={`Confirm: ${VERB[asking].button.toLowerCase()}`} className="grid gap-3 rounded-md border bg-background p-3">
          <p className="text-sm">{whatHappens(asking, n)}</p>
          {asking === "reschedule" && (
            <div className="grid max-w-xs gap-1">
              <Label htmlFor={whenId}>New time ({timeZone})</Label>
              <Input id={whenId} type="datetime-local" value={when} onChange={(e) => setWhen(e.target.value)} />
              {instantOfWallTime(when, timeZone).ok && (
                <span className="text-xs text-muted-foreground">{exactTime((instantOfWallTime(when, timeZone) as { instant: string }).instant, timeZone)}</span>
              )}
            </div>
          )}
          <div className="flex flex-wrap gap-2">
            <Button size="sm" variant={asking === "cancel" ? "destructive" : "default"} disabled={act.isPending} onClick={() => act.mutate(asking)}>
              {act.isPending ? "Working…" : `${VERB[asking].button} ${posts(n)}`}
            </Button>
            <Button size="sm" variant="outline" onClick={() => setAsking(null)}>
              Back
            </Button>
          </div>
        </div>
      )}
      {error && (
        <p role="alert" className="text-sm text-destructive">
          {error}
        </p>
      )}
    </section>
  );
}
