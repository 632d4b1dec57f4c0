"use client";
// The latest queue items, one row each: status, account, text, times, errors and retries, with Cancel and Retry.
import { useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { ExternalLink } from "lucide-react";
import { cancelQueueItemsAction, retryQueueItemsAction, type ActionError } from "@/app/dashboard/queue/actions";
import { platformName } from "@/components/accounts/platforms";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { useRefreshQueue } from "./queries";
import { platformLimitsQuery, textRules } from "@/components/compose/queries";
import { formatInZone, useTimeZone } from "@/components/time/time-zone";
import { measureText, type TextRule } from "@/lib/posts/length";
import { cn } from "@/components/ui/cn";
import type { QueueItem } from "@/lib/queue/types";
import { CANCELLABLE, MID_PUBLISH, RETRYABLE, errorClassName, statusStyle } from "./statuses";


const unexpected: ActionError = { code: "unexpected", message: "Pacer could not do that just now. Try again in a moment." };

export function QueueTable({ items }: { items: QueueItem[] }) {
  const limits = useQuery(platformLimitsQuery);
  const rules = textRules(limits.data?.platforms);
  const { timeZone } = useTimeZone();
  if (items.length === 0) {
    return (
      <p className="rounded-lg border border-dashed p-8 text-center text-sm text-muted-foreground">
        The queue is empty. Compose a post above and it shows up here, newest first.
      </p>
    );
  }
  return (
    <Table aria-label="Queue">
      <TableHeader>
        <TableRow>
          <TableHead>Status</TableHead>
          <TableHead>Account</TableHead>
          <TableHead>Post</TableHead>
          <TableHead>Priority</TableHead>
          <TableHead>Scheduled ({timeZone})</TableHead>
          <TableHead>Posted ({timeZone})</TableHead>
          <TableHead>Attempts</TableHead>
          <TableHead>Error</TableHead>
          <TableHead>
            <span className="sr-only">Actions</span>
          </TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {items.map((item) => (
          <QueueRow key={item.id} item={item} rule={rules.get(item.platform)} />
        ))}
      </TableBody>
    </Table>
  );
}

function QueueRow({ item, rule }: { item: QueueItem; rule: TextRule | undefined }) {
  const refresh = useRefreshQueue();
  const [error, setError] = useState<ActionError | null>(null);
  const [note, setNote] = useState<string | null>(null);
  // Shown at once, before the next refetch reports the item's cancelRequested.
  const [cancelAsked, setCancelAsked] = useState(false);
  const status = statusStyle(item.status);
  const handle = `@${item.handle}`;
  const what = ` #${item.id} to ${handle}`;

  const cancel = useMutation({
    mutationFn: () => cancelQueueItemsAction([item.id]),
    onSuccess: async (result) => {
      setError(result.ok ? null : result.error);
      if (result.ok && result.value.cancelRequested > 0) setCancelAsked(true);
      else if (result.ok && result.value.cancelled === 0) setNote("Nothing to cancel: it has already finished.");
      // A conflict means this row is out of date, so refresh either way.
      await refresh();
    },
    onError: () => setError(unexpected),
  });
  const retry = useMutation({
    mutationFn: () => retryQueueItemsAction([item.id]),
    onSuccess: async (result) => {
      setError(result.ok ? null : result.error);
      await refresh();
    },
    onError: () => setError(unexpected),
  });

  const midPublish = MID_PUBLISH.includes(item.status);
  const cancelRequested = midPublish && (cancelAsked || item.cancelRequested === true);
  const errorId = `queue-item-${item.id}-error`;

  return (
    <TableRow data-testid={`queue-item-${item.id}`}>
      <TableCell>
        <Badge variant="outline" className={status.className} title={status.description}>
          {status.label}
        </Badge>
      </TableCell>
      <TableCell>
        <div className="grid">
          <span className="font-medium">{handle}</span>
          <span className="text-muted-foreground">{platformName(item.platform)}</span>
          {/* Its posted items stay after an account is removed; say whose they were. */}
          {item.accountRemoved && <span className="text-xs text-muted-foreground">Removed account</span>}
        </div>
      </TableCell>
      <TableCell className="max-w-64 min-w-40 whitespace-normal">
        <PostText text={item.text} rule={rule} />
      </TableCell>
      <TableCell className="tabular-nums">{item.priority}</TableCell>
      <TableCell>
        <Time at={item.scheduledFor} />
        {item.nextAttemptAt && item.nextAttemptAt !== item.scheduledFor ? (
          <span className="block text-xs text-muted-foreground">
            next try <Time at={item.nextAttemptAt} />
          </span>
        ) : null}
      </TableCell>
      <TableCell>
        {item.postedAt ? (
          item.externalUrl ? (
            <a href={item.externalUrl} target="_blank" rel="noreferrer" className="inline-flex items-center gap-1 underline-offset-4 hover:underline">
              <Time at={item.postedAt} />
              <ExternalLink className="size-3" aria-hidden />
              <span className="sr-only">(view the post, opens in a new tab)</span>
            </a>
          ) : (
            <Time at={item.postedAt} />
          )
        ) : (
          <span className="text-muted-foreground">—</span>
        )}
      </TableCell>
      <TableCell className="tabular-nums">
        {item.attempts === 0 ? (
          <span className="text-muted-foreground">None yet</span>
        ) : (
          <>
            {item.attempts}
            {item.attempts > 1 && <span className="text-muted-foreground"> · retry {item.attempts - 1}</span>}
          </>
        )}
      </TableCell>
      <TableCell className="max-w-56 min-w-32 whitespace-normal">
        {item.lastError || item.errorClass ? (
          <div className="grid gap-1">
            {item.errorClass && (
              <Badge variant="outline" className="font-normal">
                {errorClassName(item.errorClass)}
              </Badge>
            )}
            {item.lastError && (
              <p className="line-clamp-3 text-sm wrap-anywhere text-muted-foreground" title={item.lastError}>
                {item.lastError}
              </p>
            )}
          </div>
        ) : (
          <span className="text-muted-foreground">—</span>
        )}
      </TableCell>
      <TableCell className="text-right">
        <div className="flex items-center justify-end gap-2">
          {cancelRequested ? (
            <span className="text-sm text-muted-foreground">Cancel requested</span>
          ) : (
            CANCELLABLE.includes(item.status) && (
              <Button
                size="sm"
                variant="outline"
                disabled={cancel.isPending}
                aria-describedby={error ? errorId : undefined}
                onClick={() => {
                  setNote(null);
                  cancel.mutate();
                }}
              >
                {cancel.isPending ? "Cancelling…" : "Cancel"}
                <span className="sr-only">{what}</span>
              </Button>
            )
          )}
          {RETRYABLE.includes(item.status) && (
            <Button
              size="sm"
              variant="outline"
              disabled={retry.isPending}
              aria-describedby={error ? errorId : undefined}
              onClick={() => {
                setNote(null);
                retry.mutate();
              }}
            >
              {retry.isPending ? "Retrying…" : "Retry"}
              <span className="sr-only">{what}</span>
            </Button>
          )}
        </div>
        {error && (
          <p id={errorId} role="alert" className="mt-1 text-sm whitespace-normal text-destructive">
            {error.message}
          </p>
        )}
        {note && (
          <p role="status" className="mt-1 text-sm whitespace-normal text-muted-foreground">
            {note}
          </p>
        )}
      </TableCell>
    </TableRow>
  );
}

/** The post's text, folded to a line with the full text a click (or Enter) away, and its length as its platform counts it. */
function PostText({ text, rule }: { text: string; rule: TextRule | undefined }) {
  const m = rule ? measureText(rule, text) : null;
  return (
    <div className="grid gap-1">
      <details>
        <summary className="cursor-pointer truncate">{text}</summary>
        <p className="mt-1 wrap-anywhere whitespace-pre-wrap">{text}</p>
      </details>
      {m && m.limit !== null && (
        <span
          className={cn("text-xs tabular-nums", m.over && !m.soft ? "text-destructive" : "text-muted-foreground")}
          title={`${m.length} of ${rule!.name}'s ${m.limit}, counted ${rule!.name}'s way${m.note ? `: ${m.note}` : ""}`}
        >
          {m.length.toLocaleString("en")} / {m.limit.toLocaleString("en")}
          <span className="sr-only"> characters as {rule!.name} counts them</span>
        </span>
      )}
    </div>
  );
}

// Short enough to keep the table inside the page; the full instant is in the <time> element and its title.
function Time({ at }: { at: string }) {
  const { timeZone } = useTimeZone();
  return (
    <time dateTime={at} title={formatInZone(at, timeZone, { weekday: "long", month: "long" })}>
      {formatInZone(at, timeZone, { weekday: undefined, year: undefined, timeZoneName: undefined })}
    </time>
  );
}
