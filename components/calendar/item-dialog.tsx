"use client";
// One calendar item in a modal dialog: its post, account and times, and what may still be done to it:
// edit the post's text, move it to another time, or cancel it. A native <dialog>, so the keyboard,
// Escape and focus work as the browser makes them; focus returns to what opened it.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { CircleAlert, ExternalLink } from "lucide-react";
import { platformName } from "@/components/accounts/platforms";
import { CANCELLABLE, MID_PUBLISH, statusStyle } from "@/components/queue/statuses";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import { When } from "@/components/time/when";
import { shortTime } from "@/lib/time/relative";
import { isPastSchedule, pastChoiceMessage } from "@/lib/time/schedule";
import { failureMessage } from "@/lib/api/client";
import type { CalendarItem } from "@/lib/calendar/types";
import { EDIT_REFUSAL_MESSAGES } from "@/lib/posts/edit-refusal";
import { instantOfWallTime, wallTimeAt } from "@/lib/time/wall-time";
import { cancelItem, editPostText, rescheduleItem, useRefreshCalendar } from "./queries";


export function ItemDialog({ item, timeZone, onClose }: { item: CalendarItem | null; timeZone: string; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (item && !dialog.open) {
      opener.current = document.activeElement;
      dialog.showModal();
    } else if (!item && dialog.open) {
      dialog.close();
    }
  }, [item]);

  function closed() {
    onClose();
    if (opener.current instanceof HTMLElement && opener.current.isConnected) opener.current.focus();
  }

  return (
    <dialog
      ref={ref}
      onClose={closed}
      aria-labelledby="calendar-item-title"
      className="m-auto w-[min(36rem,calc(100vw-2rem))] rounded-lg border bg-background p-0 text-foreground shadow-lg backdrop:bg-black/40"
    >
      {item && <ItemDetails key={item.id} item={item} timeZone={timeZone} close={() => ref.current?.close()} />}
    </dialog>
  );
}

function ItemDetails({ item, timeZone, close }: { item: CalendarItem; timeZone: string; close: () => void }) {
  const refresh = useRefreshCalendar();
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const status = statusStyle(item.status);
  const done = (message: string) => async () => {
    setError(null);
    setNote(message);
    await refresh();
  };

  const edit = useMutation({
    mutationFn: (text: string) => editPostText(item.postId, text),
    onSuccess: done("Saved. Every account this post is queued for gets the new text."),
    onError: (e) => setError(failureMessage(e)),
  });
  const move = useMutation({
    mutationFn: (at: string) => rescheduleItem(item.id, at),
    onSuccess: (r) => done(`Moved to ${shortTime(r.items[0].scheduledFor, timeZone)}.`)(),
    onError: (e) => setError(failureMessage(e)),
  });
  const cancel = useMutation({
    mutationFn: () => cancelItem(item.id),
    onSuccess: async (r) => {
      await done(r.cancelRequested > 0 ? "Cancel requested: it ends cancelled unless the post already went out." : "Cancelled.")();
      if (r.cancelled > 0) close();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  const busy = edit.isPending || move.isPending || cancel.isPending;

  function onEdit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    edit.mutate(String(new FormData(event.currentTarget).get("text") ?? ""));
  }
  function onMove(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const value = String(new FormData(event.currentTarget).get("scheduledFor") ?? "");
    if (!value) return setError("Choose the new date and time.");
    const at = instantOfWallTime(value, timeZone);
    if (!at.ok) return setError(at.message);
    if (isPastSchedule(at.instant)) return setError(`${pastChoiceMessage(at.instant, timeZone)} Choose a time from now on.`);
    move.mutate(at.instant);
  }

  return (
    <div className="grid gap-4 p-6">
      <div className="flex items-start justify-between gap-4">
        <div className="space-y-1">
          <h2 id="calendar-item-title" className="text-lg font-semibold">
            Post to @{item.handle}
          </h2>
          <p className="text-sm text-muted-foreground">
            {platformName(item.platform)} · queue item #{item.id}
          </p>
        </div>
        <Badge variant="outline" className={status.className}>
          {status.label}
        </Badge>
      </div>
      {/* What the status means, in words (not a hover-only tooltip: touch and keyboard users read it too). */}
      {status.description && <p className="text-sm text-muted-foreground">{status.description}</p>}

      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="text-muted-foreground">Scheduled</dt>
        <dd>
          <When at={item.scheduledFor} />
        </dd>
        {item.nextAttemptAt && (
          <>
            <dt className="text-muted-foreground">Next try</dt>
            <dd>
              <When at={item.nextAttemptAt} /> (a limit or a retry holds it until then)
            </dd>
          </>
        )}
        {item.postedAt && (
          <>
            <dt className="text-muted-foreground">Posted</dt>
            <dd>
              <When at={item.postedAt} />
            </dd>
          </>
        )}
        <dt className="text-muted-foreground">Time zone</dt>
        <dd>{timeZone}</dd>
      </dl>
      {item.lastError && <p className="text-sm text-muted-foreground">{item.lastError}</p>}
      {item.externalUrl && (
        <a href={item.externalUrl} target="_blank" rel="noreferrer" className="inline-flex items-center gap-1 text-sm underline">
          Open the post <ExternalLink className="size-3" aria-hidden />
        </a>
      )}

      {item.editable ? (
        <form onSubmit={onEdit} className="grid gap-2">
          <Label htmlFor="calendar-item-text">Text</Label>
          <Textarea id="calendar-item-text" name="text" defaultValue={item.text} rows={5} required maxLength={10_000} />
          <p className="text-xs text-muted-foreground">Saving changes the post for every account it is queued to.</p>
          <div>
            <Button type="submit" size="sm" disabled={busy}>
              {edit.isPending ? "Saving…" : "Save text"}
            </Button>
          </div>
        </form>
      ) : (
        <div className="grid gap-1">
          <p className="text-sm font-medium">Text</p>
          <p className="text-sm whitespace-pre-wrap">{item.text}</p>
          {item.editRefusal && <p className="text-xs text-muted-foreground">{EDIT_REFUSAL_MESSAGES[item.editRefusal]}</p>}
        </div>
      )}

      {item.reschedulable && (
        <form onSubmit={onMove} className="grid gap-2">
          <Label htmlFor="calendar-item-when">Move to ({timeZone})</Label>
          <div className="flex flex-wrap gap-2">
            <Input id="calendar-item-when" name="scheduledFor" type="datetime-local" className="w-auto" defaultValue={wallTimeAt(item.scheduledFor, timeZone)} required />
            <Button type="submit" size="sm" variant="outline" disabled={busy}>
              {move.isPending ? "Moving…" : "Move"}
            </Button>
          </div>
        </form>
      )}

      {error && (
        <Alert variant="destructive">
          <CircleAlert aria-hidden />
          <AlertDescription>{error}</AlertDescription>
        </Alert>
      )}
      <p role="status" className="text-sm text-muted-foreground empty:hidden">
        {note}
      </p>

      <div className="flex flex-wrap justify-end gap-2">
        {CANCELLABLE.includes(item.status) && !(item.cancelRequested && MID_PUBLISH.includes(item.status)) && (
          <Button type="button" variant="destructive" size="sm" disabled={busy} onClick={() => cancel.mutate()}>
            {cancel.isPending ? "Cancelling…" : "Cancel post"}
          </Button>
        )}
        <Button type="button" variant="outline" size="sm" onClick={close}>
          Close
        </Button>
      </div>
    </div>
  );
}
