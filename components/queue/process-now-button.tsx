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
import type { QueueStatusSummary, RunReport } from "@/lib/queue/types";
import { describeRun } from "./describe";
import { queueStatusQuery, useRefreshQueue } from "./queries";

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
