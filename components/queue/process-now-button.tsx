"use client";
// "Process now": runs the publishing engine at once instead of at the next minute's run; owners and admins only.
import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Play } from "lucide-react";
import { processQueueNowAction } from "@/app/dashboard/queue/actions";
import { Button } from "@/components/ui/button";
import type { QueueStatusSummary } from "@/lib/queue/types";
import { queueStatusQuery, useRefreshQueue } from "./queries";
import { ISSUES, WAITING, sum } from "./statuses";

/** Where the workspace stands after the run (the run itself spans every workspace, so its own figures are not ours to show). */
function describe(status: QueueStatusSummary): string {
  const { counts } = status;
  return `Processing ran. Now ${counts.posted} posted, ${sum(counts, WAITING)} waiting or in progress, ${sum(counts, ISSUES)} with issues.`;
}

export function ProcessNowButton() {
  const queryClient = useQueryClient();
  const refresh = useRefreshQueue();
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const run = useMutation({
    mutationFn: processQueueNowAction,
    onMutate: () => setMessage(null),
    onSuccess: async (result) => {
      setMessage(result.ok ? { text: describe(result.value), error: false } : { text: result.error.message, error: true });
      if (result.ok) queryClient.setQueryData(queueStatusQuery.queryKey, result.value);
      await refresh();
    },
    onError: () => setMessage({ text: "Pacer could not process the queue just now. Try again in a moment.", error: true }),
  });

  return (
    <div className="grid justify-items-end gap-1">
      <Button onClick={() => run.mutate()} disabled={run.isPending} aria-describedby={message ? "process-now-result" : undefined}>
        <Play aria-hidden />
        {run.isPending ? "Processing…" : "Process now"}
      </Button>
      {message && (
        <p
          id="process-now-result"
          role={message.error ? "alert" : "status"}
          className={message.error ? "max-w-sm text-right text-sm text-destructive" : "max-w-sm text-right text-sm text-muted-foreground"}
        >
          {message.text}
        </p>
      )}
    </div>
  );
}
