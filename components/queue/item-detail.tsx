"use client";
// A queue item's detail, opened from its row: the post in full (text, thread parts), what its status
// means, its times, every attempt from the posting history and the link to the post; and what may
// be done with it: edit (while nothing of it was sent), duplicate, restore (a cancelled item whose
// time is ahead). Edit and duplicate are inline: the composer is for new posts.
import { useId, useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { ExternalLink } from "lucide-react";
import { useAnnounce } from "@/components/app/announcer";
import { When } from "@/components/time/when";
import { useTimeZone } from "@/components/time/time-zone";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import { ApiError, failureMessage, sendJson } from "@/lib/api/client";
import { instantOfWallTime, wallTimeAt } from "@/lib/time/wall-time";
import { EDIT_REFUSAL_MESSAGES } from "@/lib/posts/edit-refusal";
import type { BulkOutcome, Post, QueueItemDetail } from "@/lib/queue/types";
import { queueItemQuery, useRefreshQueue } from "./queries";
import { errorClassName, itemStatus } from "./statuses";

export function ItemDetail({ id }: { id: number }) {
  const detail = useQuery(queueItemQuery(id));
  const [mode, setMode] = useState<"view" | "edit" | "duplicate">("view");
  if (!detail.data) {
    return (
      <p role={detail.error ? "alert" : "status"} className="text-sm text-muted-foreground">
        {detail.error ? `Could not load the details: ${detail.error.message}` : "Loading the details…"}
      </p>
    );
  }
  const { item, post, attempts, editable, editRefusal, restorable } = detail.data;
  const status = itemStatus(item);

  return (
    <div className="grid gap-4 text-sm whitespace-normal" data-testid={`queue-item-${id}-detail`}>
      <dl className="grid gap-x-6 gap-y-2 sm:grid-cols-[max-content_1fr]">
        <dt className="font-medium">Status</dt>
        <dd>
          {status.label}: {status.description}
          {item.cancelRequested && " A cancel was requested; it ends cancelled unless the attempt in flight posts."}
        </dd>
        <dt className="font-medium">Scheduled</dt>
        <dd>
          <When at={item.scheduledFor} />
        </dd>
        {item.nextAttemptAt && item.nextAttemptAt !== item.scheduledFor && (
          <>
            <dt className="font-medium">Next try</dt>
            <dd>
              <When at={item.nextAttemptAt} />
            </dd>
          </>
        )}
        {item.postedAt && (
          <>
            <dt className="font-medium">Posted</dt>
            <dd className="flex flex-wrap items-center gap-2">
              <When at={item.postedAt} />
              {item.externalUrl && (
                <a href={item.externalUrl} target="_blank" rel="noreferrer" className="inline-flex items-center gap-1 underline underline-offset-4">
                  View the post <ExternalLink className="size-3" aria-hidden />
                  <span className="sr-only">(opens in a new tab)</span>
                </a>
              )}
            </dd>
          </>
        )}
        <dt className="font-medium">Priority</dt>
        <dd>{item.priority} of 10</dd>
        {(item.lastError || item.errorClass) && item.waitingFor === null && (
          <>
            <dt className="font-medium">Last error</dt>
            <dd className="wrap-anywhere">
              {item.errorClass && <span className="font-medium">{errorClassName(item.errorClass)}: </span>}
              {item.lastError}
            </dd>
          </>
        )}
      </dl>

      {mode === "edit" ? (
        <EditPost post={post} onClose={() => setMode("view")} />
      ) : (
        <section aria-label="The post" className="grid gap-2">
          <h3 className="font-medium">The post</h3>
          <p className="wrap-anywhere whitespace-pre-wrap">{post.text}</p>
          {post.thread.length > 0 && (
            <ol className="grid gap-2 border-l-2 pl-3" aria-label="Thread">
              {post.thread.map((part, i) => (
                <li key={i} className="grid gap-1">
                  <span className="text-xs text-muted-foreground">Part {i + 2}</span>
                  <p className="wrap-anywhere whitespace-pre-wrap">{part}</p>
                </li>
              ))}
            </ol>
          )}
          {post.firstComment && <p className="wrap-anywhere text-muted-foreground">First comment: {post.firstComment}</p>}
          {post.destination && <p className="text-muted-foreground">Destination: {post.destination}</p>}
          {post.mediaUrls.length > 0 && <p className="text-muted-foreground">{post.mediaUrls.length} media file(s)</p>}
        </section>
      )}

      <section aria-label="Attempts" className="grid gap-2">
        <h3 className="font-medium">Attempts</h3>
        {attempts.length === 0 ? (
          <p className="text-muted-foreground">None yet.</p>
        ) : (
          <ol className="grid gap-2">
            {attempts.map((a) => (
              <li key={a.id} className="grid gap-0.5 rounded-md border p-2">
                <span>
                  <span className="font-medium">
                    {a.kind === "verify" ? "Check" : a.kind === "publish" ? "Attempt" : a.kind === "review" ? "Marked posted" : "Found"} {a.attempt}
                  </span>
                  : {a.outcome.replaceAll("_", " ")}
                  {a.latencyMs !== null && <span className="text-muted-foreground"> · {a.latencyMs.toLocaleString("en")} ms</span>}
                </span>
                <When at={a.finishedAt} className="text-xs" />
                {a.errorMessage && <span className="wrap-anywhere text-muted-foreground">{a.errorMessage}</span>}
              </li>
            ))}
          </ol>
        )}
      </section>

      {mode === "duplicate" && <Duplicate detail={detail.data} onClose={() => setMode("view")} />}
      {mode === "view" && (
        <div className="flex flex-wrap gap-2">
          {editable && (
            <Button size="sm" variant="outline" onClick={() => setMode("edit")}>
              Edit post
            </Button>
          )}
          <Button size="sm" variant="outline" onClick={() => setMode("duplicate")}>
            Duplicate
          </Button>
          {restorable && <Restore id={id} />}
          {/* A sent post's state says why it cannot change; approval is not visible otherwise. */}
          {editRefusal === "approval_required" && <p className="basis-full text-muted-foreground">{EDIT_REFUSAL_MESSAGES.approval_required}</p>}
        </div>
      )}
    </div>
  );
}

function Restore({ id }: { id: number }) {
  const announce = useAnnounce();
  const refresh = useRefreshQueue();
  const [error, setError] = useState<string | null>(null);
  const restore = useMutation({
    mutationFn: () => sendJson<BulkOutcome>("POST", "/api/queue/restore", { ids: [id] }),
    onSuccess: async (o) => {
      const item = o.items[0];
      if (item?.done) announce("Restored: the post is back in the queue.");
      else setError(item?.message ?? "It could not be restored.");
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  return (
    <>
      <Button size="sm" variant="outline" disabled={restore.isPending} onClick={() => restore.mutate()}>
        Restore
      </Button>
      {error && (
        <p role="alert" className="text-destructive">
          {error}
        </p>
      )}
    </>
  );
}

/** Problems the API named, by field path ("text", "thread.1"). */
const issuesOf = (e: unknown) => (e instanceof ApiError && e.issues?.length ? e.issues : [{ path: "", message: failureMessage(e) }]);

function EditPost({ post, onClose }: { post: Post; onClose: () => void }) {
  const announce = useAnnounce();
  const refresh = useRefreshQueue();
  const [text, setText] = useState(post.text);
  const [thread, setThread] = useState(post.thread);
  const [issues, setIssues] = useState<Array<{ path: string; message: string }>>([]);
  const base = useId();
  const save = useMutation({
    mutationFn: () => sendJson<{ post: Post }>("PATCH", `/api/queue/posts/${post.id}`, { text, thread }),
    onSuccess: async () => {
      announce("Post saved.");
      await refresh();
      onClose();
    },
    onError: (e) => {
      const found = issuesOf(e);
      setIssues(found);
      // Focus the first field at fault.
      const first = found[0]?.path;
      const field = first === "text" ? `${base}-text` : first?.startsWith("thread.") ? `${base}-part-${first.split(".")[1]}` : null;
      if (field) document.getElementById(field)?.focus();
    },
  });
  const messageFor = (path: string) => issues.filter((i) => i.path === path).map((i) => i.message).join(" ");
  return (
    <form
      aria-label="Edit the post"
      className="grid gap-3"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <div className="grid gap-1">
        <Label htmlFor={`${base}-text`}>Text</Label>
        <Textarea id={`${base}-text`} value={text} onChange={(e) => setText(e.target.value)} aria-invalid={!!messageFor("text") || undefined} aria-describedby={messageFor("text") ? `${base}-text-error` : undefined} />
        {messageFor("text") && <p id={`${base}-text-error`} className="text-destructive">{messageFor("text")}</p>}
      </div>
      {thread.map((part, i) => {
        const message = messageFor(`thread.${i}`);
        return (
          <div key={i} className="grid gap-1">
            <Label htmlFor={`${base}-part-${i}`}>Thread part {i + 2}</Label>
            <Textarea id={`${base}-part-${i}`} value={part} aria-invalid={!!message || undefined} onChange={(e) => setThread(thread.map((p, j) => (j === i ? e.target.value : p)))} />
            {message && <p className="text-destructive">{message}</p>}
            <Button type="button" size="sm" variant="ghost" className="justify-self-start" onClick={() => setThread(thread.filter((_, j) => j !== i))}>
              Remove part {i + 2}
            </Button>
          </div>
        );
      })}
      {issues.filter((i) => i.path !== "text" && !/^thread\.\d+$/.test(i.path)).map((i, k) => (
        <p key={k} role="alert" className="text-destructive">
          {i.message}
        </p>
      ))}
      <div className="flex flex-wrap gap-2">
        {post.firstComment === null && (
          <Button type="button" size="sm" variant="outline" onClick={() => setThread([...thread, ""])}>
            Add a thread part
          </Button>
        )}
        <Button type="submit" size="sm" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save post"}
        </Button>
        <Button type="button" size="sm" variant="ghost" onClick={onClose}>
          Discard changes
        </Button>
      </div>
    </form>
  );
}

function Duplicate({ detail, onClose }: { detail: QueueItemDetail; onClose: () => void }) {
  const announce = useAnnounce();
  const refresh = useRefreshQueue();
  const { timeZone } = useTimeZone();
  // The original's time while it is ahead, else an hour from now.
  const [when, setWhen] = useState(() => {
    const ahead = Date.parse(detail.item.scheduledFor) > Date.now();
    return wallTimeAt(ahead ? detail.item.scheduledFor : new Date(Date.now() + 3600_000), timeZone);
  });
  const [error, setError] = useState<string | null>(null);
  const whenId = useId();
  const copy = useMutation({
    mutationFn: async () => {
      const r = instantOfWallTime(when, timeZone);
      if (!r.ok) throw new Error(r.message);
      if (Date.parse(r.instant) < Date.now()) throw new Error("This time has passed; choose a time from now on.");
      const res = await fetch(`/api/queue/posts/${detail.post.id}/duplicate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ scheduledFor: r.instant }),
      });
      const body = await res.json();
      if (!res.ok) throw new ApiError(res.status, body?.error?.code ?? "unexpected", body?.error?.message ?? "The copy was not queued.");
      return { status: res.status, body };
    },
    onSuccess: async ({ status, body }) => {
      announce(status === 202 ? "The copy waits for an admin's approval." : `Copy queued for ${body.items.length} account${body.items.length === 1 ? "" : "s"}.`);
      await refresh();
      onClose();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  return (
    <form
      aria-label="Duplicate the post"
      className="grid gap-2 rounded-md border p-3"
      onSubmit={(e) => {
        e.preventDefault();
        copy.mutate();
      }}
    >
      <p>A copy of this post goes to the same accounts at the time you choose.</p>
      <div className="grid max-w-xs gap-1">
        <Label htmlFor={whenId}>Copy at ({timeZone})</Label>
        <Input id={whenId} type="datetime-local" value={when} autoFocus onChange={(e) => setWhen(e.target.value)} aria-invalid={!!error || undefined} />
      </div>
      {error && (
        <p role="alert" className="text-destructive">
          {error}
        </p>
      )}
      <div className="flex flex-wrap gap-2">
        <Button type="submit" size="sm" disabled={copy.isPending}>
          {copy.isPending ? "Queueing…" : "Queue the copy"}
        </Button>
        <Button type="button" size="sm" variant="ghost" onClick={onClose}>
          Back
        </Button>
      </div>
    </form>
  );
}
