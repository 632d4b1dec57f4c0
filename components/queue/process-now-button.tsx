"use client";
// "Process now": runs the publishing engine for this workspace at once instead of at the next
// scheduled run (owners and admins). What the run did is announced (and goes away by itself); a
// refusal stays beside the button. When nothing was due, the announcement says when the next
// scheduled run is.
import { useRef, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Play } from "lucide-react";
import { useAnnounce } from "@/components/app/announcer";
import { Button } from "@/components/ui/button";
import { failureMessage, sendJson } from "@/lib/api/client";
import { relativeTime } from "@/lib/time/relative";
import type { QueueSchedule, QueueStatusSummary, RunReport } from "@/lib/queue/types";
import { queueStatusQuery, useRefreshQueue } from "./queries";

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "Published 2, failed 1." or "Nothing was due. The next scheduled run is in 40 s." */
export function describeRun(run: RunReport, schedule: QueueSchedule, now = Date.now()): string {
  if (run.claimed === 0) return `Nothing was due. ${nextRunSentence(schedule, now)}`;
  const parts = [`published ${run.published}`, `failed ${run.failed}`];
  if (run.retrying) parts.push(`${plural(run.retrying, "post")} will be tried again`);
  if (run.needsReview) parts.push(`${run.needsReview} need${run.needsReview === 1 ? "s" : ""} review`);
  const sentence = parts.join(", ");
  return `${sentence[0].toUpperCase()}${sentence.slice(1)}.`;
}

/** When the queue is next processed by itself. */
export function nextRunSentence(schedule: QueueSchedule, now = Date.now()): string {
  if (schedule.nextRunAt) {
    return Date.parse(schedule.nextRunAt) <= now + 1000
      ? "The next scheduled run is due now."
      : `The next scheduled run is ${relativeTime(schedule.nextRunAt, now)}.`;
  }
  if (schedule.everySeconds) {
    const every = schedule.everySeconds === 60 ? "every minute" : `every ${plural(Math.round(schedule.everySeconds / 60), "minute")}`;
    return `Scheduled runs come ${every}, but none has run recently: is the scheduler running?`;
  }
  return "No scheduled run is set up; use Process now.";
}

export function ProcessNowButton() {
  const queryClient = useQueryClient();
  const refresh = useRefreshQueue();
  const announce = useAnnounce();
  const button = useRef<HTMLButtonElement>(null);
  const [error, setError] = useState<string | null>(null);
  const run = useMutation({
    mutationFn: () => sendJson<{ ran: true; run: RunReport; status: QueueStatusSummary }>("POST", "/api/queue/process", {}),
    onMutate: () => setError(null),
    onSuccess: async (result) => {
      queryClient.setQueryData(queueStatusQuery.queryKey, result.status);
      announce(describeRun(result.run, result.status.schedule));
      await refresh();
      button.current?.focus();
    },
    onError: (e) => {
      setError(failureMessage(e));
      button.current?.focus();
    },
  });

  return (
    <div className="grid justify-items-end gap-1">
      <Button ref={button} onClick={() => run.mutate()} disabled={run.isPending} aria-describedby={error ? "process-now-error" : undefined}>
        <Play aria-hidden />
        {run.isPending ? "Processing…" : "Process now"}
      </Button>
      {error && (
        <p id="process-now-error" role="alert" className="max-w-sm text-right text-sm text-destructive">
          {error}
        </p>
      )}
    </div>
  );
}
