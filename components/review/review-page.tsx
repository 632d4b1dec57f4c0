"use client";
// The review queue: items Pacer could not decide (mark posted with the post's id or URL, retry,
// cancel), posted records whose post went missing and items posted more than once (acknowledge), and
// accounts needing a person.
import { WhenOrNone as When } from "@/components/time/optional-when";
import { useState, type FormEvent } from "react";
import Link from "next/link";
import { useMutation, useQuery } from "@tanstack/react-query";
import { platformName } from "@/components/accounts/platforms";
import { ActionError, ViewerNote } from "@/components/health/account-actions";
import { failureMessage, sendJson } from "@/lib/api/client";
import { AccountCell, ScoreBadge, StateBadge } from "@/components/health/labels";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { LoadState } from "@/components/ui/load-state";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import type { DuplicatePost, MissingPost, ReviewAccount, ReviewItem } from "@/lib/review";
import { reviewQuery, useRefreshReview } from "./queries";

/** `canAct`: the person may decide (editors and up); viewers see the queue without the decisions. */
export function ReviewPage({ canAct }: { canAct: boolean }) {
  const review = useQuery(reviewQuery);
  if (!review.data) return <LoadState what="the review queue" error={review.error} />;
  const { items, missingPosts, duplicatePosts, accounts } = review.data;
  return (
    <div className="grid grid-cols-1 gap-6">
      {!canAct && <ViewerNote />}
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Posts to decide</h2>
          </CardTitle>
          <CardDescription>
            Pacer could not tell whether these were published. Look on the platform first (the ids it gave are listed): if the post
            is there, mark it posted; if not, retry it or cancel it. Marking posted never sends anything again.
          </CardDescription>
        </CardHeader>
        <CardContent>
          {items.length === 0 ? (
            <Empty>No post needs a decision.</Empty>
          ) : (
            <ul className="grid gap-4" aria-label="Posts to decide">
              {items.map((item) => (
                <ReviewItemCard key={item.id} item={item} canAct={canAct} />
              ))}
            </ul>
          )}
        </CardContent>
      </Card>
      <MissingPostsCard missing={missingPosts} canAct={canAct} />
      <DuplicatePostsCard duplicates={duplicatePosts} canAct={canAct} />
      <AccountsCard accounts={accounts} />
    </div>
  );
}

function Empty({ children }: { children: React.ReactNode }) {
  return <p className="rounded-lg border border-dashed p-6 text-center text-sm text-muted-foreground">{children}</p>;
}

function ReviewItemCard({ item, canAct }: { item: ReviewItem; canAct: boolean }) {
  const refresh = useRefreshReview();
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const decide = useMutation({
    mutationFn: (action: { url: string; body: unknown; done: string }) => sendJson("POST", action.url, action.body).then(() => action.done),
    onSuccess: async (message) => {
      setError(null);
      setDone(message);
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  function markPosted(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const value = String(new FormData(event.currentTarget).get("post") ?? "").trim();
    if (!value) return setError("Enter the post's id or its URL, as the platform shows it.");
    const isUrl = /^https?:\/\//i.test(value);
    decide.mutate({
      url: "/api/review/mark-posted",
      body: isUrl ? { id: item.id, url: value } : { id: item.id, externalId: value },
      done: "Marked posted.",
    });
  }
  const fieldId = `review-${item.id}-post`;
  const title = `#${item.id} to @${item.handle}`;
  // Retry sends the post again without asking the platform first: the person must have looked.
  const [confirming, setConfirming] = useState<"retry" | "cancel" | null>(null);
  const seenIds = item.externalIdsSeen.length > 0;
  return (
    <li className="grid gap-3 rounded-lg border p-4" aria-label={`Post ${title}`}>
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <span className="font-medium">{title}</span>
        <span className="text-muted-foreground">
          {platformName(item.platform)}
          {item.destination ? ` · ${item.destination}` : ""} · scheduled <When at={item.scheduledFor} /> · {item.attempts}{" "}
          {item.attempts === 1 ? "attempt" : "attempts"}
        </span>
      </div>
      <p className="break-words whitespace-pre-wrap">{item.text}</p>
      {item.lastError && <p className="text-sm break-words text-destructive">{item.lastError}</p>}
      {item.externalIdsSeen.length > 0 && (
        <p className="text-sm break-all">
          Ids the platform gave: <span className="font-mono">{item.externalIdsSeen.join(", ")}</span>
        </p>
      )}
      {!canAct ? null : done ? (
        <p role="status" className="text-sm font-medium">
          {done}
        </p>
      ) : (
        <div className="grid gap-3">
          <form onSubmit={markPosted} className="flex flex-wrap items-end gap-2">
            <div className="grid min-w-0 flex-1 basis-56 gap-2">
              <Label htmlFor={fieldId}>Post id or URL</Label>
              <Input id={fieldId} name="post" placeholder={seenIds ? `e.g. ${item.externalIdsSeen[0]}` : "e.g. 12345 or https://…"} />
            </div>
            <Button type="submit" disabled={decide.isPending} aria-label={`Mark ${title} posted`}>
              Mark posted
            </Button>
          </form>
          {confirming ? (
            <div role="alertdialog" aria-label={confirming === "retry" ? `Retry ${title}?` : `Cancel ${title}?`} className="grid gap-2 rounded-md border p-3 text-sm">
              {confirming === "retry" ? (
                <p>
                  {seenIds ? <strong>The platform gave ids for this post, so it may already be live. </strong> : null}
                  Retry sends it again without asking the platform first. Only retry if you checked @{item.handle} on{" "}
                  {platformName(item.platform)} and the post is not there; if it is, mark it posted instead.
                </p>
              ) : (
                <p>Pacer will not send this post again. If an earlier attempt reached the platform, that post stays there.</p>
              )}
              <div className="flex flex-wrap gap-2">
                <Button
                  disabled={decide.isPending}
                  onClick={() =>
                    decide.mutate(
                      confirming === "retry"
                        ? { url: "/api/review/retry", body: { ids: [item.id] }, done: "Back in the queue: it will be sent again." }
                        : { url: "/api/review/cancel", body: { ids: [item.id] }, done: "Cancelled: Pacer will not send it again." },
                    )
                  }
                >
                  {confirming === "retry" ? "I checked: send it again" : "Yes, cancel it"}
                </Button>
                <Button variant="outline" onClick={() => setConfirming(null)}>
                  Keep it in review
                </Button>
              </div>
            </div>
          ) : (
            <div className="flex flex-wrap gap-2">
              <Button variant="outline" disabled={decide.isPending} onClick={() => setConfirming("retry")} aria-label={`Retry ${title}`}>
                Retry
              </Button>
              <Button variant="outline" disabled={decide.isPending} onClick={() => setConfirming("cancel")} aria-label={`Cancel ${title}`}>
                Cancel post
              </Button>
            </div>
          )}
        </div>
      )}
      <ActionError message={error} />
    </li>
  );
}

function MissingPostsCard({ missing, canAct }: { missing: MissingPost[]; canAct: boolean }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Missing posts</h2>
        </CardTitle>
        <CardDescription>
          Posted, but reconciliation no longer finds them on the platform (removed by the platform or by hand). Acknowledge once
          you have looked.
        </CardDescription>
      </CardHeader>
      <CardContent>
        {missing.length === 0 ? (
          <Empty>No posted record has gone missing.</Empty>
        ) : (
          <Table data-cards aria-label="Missing posts">
            <TableHeader>
              <TableRow>
                <TableHead>Account</TableHead>
                <TableHead>Post</TableHead>
                <TableHead>Posted</TableHead>
                <TableHead>Noticed</TableHead>
                {canAct && (
                  <TableHead>
                    <span className="sr-only">Actions</span>
                  </TableHead>
                )}
              </TableRow>
            </TableHeader>
            <TableBody>
              {missing.map((m) => (
                <MissingRow key={m.queueItemId} missing={m} canAct={canAct} />
              ))}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  );
}

function MissingRow({ missing, canAct }: { missing: MissingPost; canAct: boolean }) {
  const refresh = useRefreshReview();
  const [error, setError] = useState<string | null>(null);
  const acknowledge = useMutation({
    mutationFn: () => sendJson("POST", "/api/review/acknowledge", { ids: [missing.queueItemId] }),
    onSuccess: async () => {
      setError(null);
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  return (
    <TableRow>
      <TableCell data-label="Account">
        <Link className="underline underline-offset-4" href={`/dashboard/health/${missing.accountId}`}>
          @{missing.handle}
        </Link>
      </TableCell>
      <TableCell data-label="Post" className="min-w-48 whitespace-normal">
        <div className="line-clamp-2">{missing.text}</div>
        {missing.externalUrl ? (
          <a className="text-sm break-all underline underline-offset-4" href={missing.externalUrl} target="_blank" rel="noreferrer">
            {missing.externalId ?? missing.externalUrl}
          </a>
        ) : (
          <span className="font-mono text-sm">{missing.externalId}</span>
        )}
      </TableCell>
      <TableCell data-label="Posted">
        <When at={missing.postedAt} />
      </TableCell>
      <TableCell data-label="Noticed">
        <When at={missing.noticedAt} />
      </TableCell>
      {canAct && (
        <TableCell>
          <Button size="sm" variant="outline" disabled={acknowledge.isPending} onClick={() => acknowledge.mutate()} aria-label={`Acknowledge missing post #${missing.queueItemId}`}>
            Acknowledge
          </Button>
          <ActionError message={error} />
        </TableCell>
      )}
    </TableRow>
  );
}

function DuplicatePostsCard({ duplicates, canAct }: { duplicates: DuplicatePost[]; canAct: boolean }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Duplicate posts</h2>
        </CardTitle>
        <CardDescription>
          Reconciliation found these on the platform carrying the mark of a post Pacer had already published there: the same post
          went out twice. Remove the extra post on the platform, then acknowledge it.
        </CardDescription>
      </CardHeader>
      <CardContent>
        {duplicates.length === 0 ? (
          <Empty>No post went out twice.</Empty>
        ) : (
          <Table data-cards aria-label="Duplicate posts">
            <TableHeader>
              <TableRow>
                <TableHead>Account</TableHead>
                <TableHead>Extra post</TableHead>
                <TableHead>Kept</TableHead>
                <TableHead>Noticed</TableHead>
                {canAct && (
                  <TableHead>
                    <span className="sr-only">Actions</span>
                  </TableHead>
                )}
              </TableRow>
            </TableHeader>
            <TableBody>
              {duplicates.map((d) => (
                <DuplicateRow key={`${d.queueItemId}:${d.externalId}`} duplicate={d} canAct={canAct} />
              ))}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  );
}

function DuplicateRow({ duplicate, canAct }: { duplicate: DuplicatePost; canAct: boolean }) {
  const refresh = useRefreshReview();
  const [error, setError] = useState<string | null>(null);
  // Closes every open duplicate flag of the item: one decision per post Pacer published twice.
  const acknowledge = useMutation({
    mutationFn: () => sendJson("POST", "/api/review/acknowledge-duplicates", { ids: [duplicate.queueItemId] }),
    onSuccess: async () => {
      setError(null);
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  return (
    <TableRow>
      <TableCell data-label="Account">
        <Link className="underline underline-offset-4" href={`/dashboard/health/${duplicate.accountId}`}>
          @{duplicate.handle}
        </Link>
      </TableCell>
      <TableCell data-label="Extra post" className="min-w-48 whitespace-normal">
        <div className="line-clamp-2">{duplicate.text}</div>
        {duplicate.externalUrl ? (
          <a className="text-sm break-all underline underline-offset-4" href={duplicate.externalUrl} target="_blank" rel="noreferrer">
            {duplicate.externalId}
          </a>
        ) : (
          <span className="font-mono text-sm">{duplicate.externalId}</span>
        )}
      </TableCell>
      <TableCell data-label="Kept">
        <span className="font-mono text-sm">{duplicate.keptExternalId ?? "—"}</span>
      </TableCell>
      <TableCell data-label="Noticed">
        <When at={duplicate.noticedAt} />
      </TableCell>
      {canAct && (
        <TableCell>
          <Button size="sm" variant="outline" disabled={acknowledge.isPending} onClick={() => acknowledge.mutate()} aria-label={`Acknowledge duplicate post ${duplicate.externalId} of #${duplicate.queueItemId}`}>
            Acknowledge
          </Button>
          <ActionError message={error} />
        </TableCell>
      )}
    </TableRow>
  );
}

function AccountsCard({ accounts }: { accounts: ReviewAccount[] }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Accounts needing review</h2>
        </CardTitle>
        <CardDescription>
          Restricted by the platform, or in a state only a person can clear. Their posts wait and never move to another account.
          Open an account&apos;s health page to see why, and resume it there once it is fixed.
        </CardDescription>
      </CardHeader>
      <CardContent>
        {accounts.length === 0 ? (
          <Empty>No account needs review.</Empty>
        ) : (
          <Table data-cards aria-label="Accounts needing review">
            <TableHeader>
              <TableRow>
                <TableHead>Account</TableHead>
                <TableHead>State</TableHead>
                <TableHead>Score</TableHead>
                <TableHead>Last error</TableHead>
                <TableHead>Since</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {accounts.map((a) => (
                <TableRow key={a.id}>
                  <TableCell data-label="Account">
                    <AccountCell id={a.id} handle={a.handle} platform={a.platform} />
                  </TableCell>
                  <TableCell data-label="State">
                    <StateBadge state={a.state} />
                  </TableCell>
                  <TableCell data-label="Score">
                    <ScoreBadge score={a.healthScore} />
                  </TableCell>
                  <TableCell data-label="Last error" className="min-w-48 whitespace-normal">{a.lastError ?? "—"}</TableCell>
                  <TableCell data-label="Since">
                    <When at={a.updatedAt} />
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  );
}
