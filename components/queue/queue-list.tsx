"use client";
// The queue list: filters, the items a page at a time ("Load more"), a checkbox per row with "select
// all N matching", the bulk bar, and per row Cancel / Retry and a Details toggle that opens the row's
// detail beneath it. At md and up it is a table that fits its card (secondary columns live in the
// detail); below md each row is a card with its content stacked and its actions visible.
import { Fragment, useCallback, useState } from "react";
import { useInfiniteQuery, useMutation, useQuery } from "@tanstack/react-query";
import { ChevronDown, ChevronRight } from "lucide-react";
import { useAnnounce } from "@/components/app/announcer";
import { platformName } from "@/components/accounts/platforms";
import { platformLimitsQuery, textRules } from "@/components/compose/queries";
import { When } from "@/components/time/when";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { cn } from "@/components/ui/cn";
import { LoadState } from "@/components/ui/load-state";
import { failureMessage, sendJson } from "@/lib/api/client";
import { measureText, type TextRule } from "@/lib/posts/length";
import type { BulkAction, BulkOutcome, QueueItem } from "@/lib/queue/types";
import { BulkBar, type Selection } from "./bulk-bar";
import { describeOutcome } from "./describe";
import { QueueFiltersBar } from "./filters";
import { ItemDetail } from "./item-detail";
import { NO_FILTERS, activeFilters, queuePagesQuery, useRefreshQueue, type QueueFilters } from "./queries";
import { CANCELLABLE, MID_PUBLISH, RETRYABLE, errorClassName, itemStatus } from "./statuses";

// Below md the table's parts become blocks: each row a card, each cell a line of it.
const CARD_TABLE = "max-md:block";
const CARD_ROW = "max-md:mb-3 max-md:grid max-md:gap-2 max-md:rounded-lg max-md:border max-md:p-3";
const CARD_CELL = "max-md:block max-md:p-0";

export function QueueList({ busy }: { busy: boolean }) {
  const [filters, setFiltersState] = useState<QueueFilters>(NO_FILTERS);
  const [picked, setPicked] = useState<Set<number>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  const [open, setOpen] = useState<number | null>(null);
  const pages = useInfiniteQuery(queuePagesQuery(filters, busy));
  const limits = useQuery(platformLimitsQuery);
  const rules = textRules(limits.data?.platforms);

  const setFilters = useCallback((f: QueueFilters) => {
    setFiltersState(f);
    // A selection belongs to what it was made in.
    setPicked(new Set());
    setAllMatching(false);
  }, []);

  const items = pages.data?.pages.flatMap((p) => p.items) ?? [];
  const matching = pages.data?.pages[0]?.matching ?? 0;
  const capped = pages.data?.pages[0]?.matchingCapped ?? false;
  const selection: Selection = allMatching
    ? { kind: "all", count: matching, filter: activeFilters(filters) }
    : { kind: "ids", ids: items.filter((i) => picked.has(i.id)).map((i) => i.id) };
  const allShownPicked = items.length > 0 && items.every((i) => picked.has(i.id));

  const toggle = (id: number, on: boolean) => {
    setAllMatching(false);
    setPicked((prev) => {
      const next = new Set(prev);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  };
  const none = () => {
    setPicked(new Set());
    setAllMatching(false);
  };

  return (
    // One column no wider than the screen: a grid track would otherwise grow to the cards' widest content.
    <div className="grid grid-cols-[minmax(0,1fr)] gap-4">
      <QueueFiltersBar filters={filters} onChange={setFilters} />
      <BulkBar selection={selection} onDone={none} onSelectNone={none} />
      {pages.data && items.length > 0 && (
        <div className="flex flex-wrap items-center gap-3 text-sm">
          <label className="flex items-center gap-2">
            <Checkbox
              checked={allShownPicked || allMatching}
              onChange={(e) => {
                setAllMatching(false);
                setPicked(e.target.checked ? new Set(items.map((i) => i.id)) : new Set());
              }}
            />
            Select all {items.length} shown
          </label>
          {allShownPicked && !allMatching && matching > items.length && (
            <Button size="sm" variant="link" className="h-auto p-0" onClick={() => setAllMatching(true)}>
              Select all {matching.toLocaleString("en")}
              {capped ? "+" : ""} matching
            </Button>
          )}
          <span className="text-muted-foreground" data-testid="queue-matching">
            {matching.toLocaleString("en")}
            {capped ? "+" : ""} matching
          </span>
        </div>
      )}
      {!pages.data ? (
        <LoadState what="queue items" error={pages.error} />
      ) : items.length === 0 ? (
        <p className="rounded-lg border border-dashed p-8 text-center text-sm text-muted-foreground">
          {Object.keys(activeFilters(filters)).length
            ? "Nothing matches these filters."
            : "The queue is empty. Compose a post and it shows up here."}
        </p>
      ) : (
        <table aria-label="Queue" className={cn("w-full table-fixed text-sm", CARD_TABLE)}>
          <thead className="max-md:hidden">
            <tr className="border-b text-left">
              <th className="w-9 p-2">
                <span className="sr-only">Selected</span>
              </th>
              <th className="w-44 p-2 font-medium">Status</th>
              <th className="w-44 p-2 font-medium">Account</th>
              <th className="p-2 font-medium">Post</th>
              <th className="w-52 p-2 font-medium">Time</th>
              <th className="w-56 p-2 text-right font-medium">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody className={CARD_TABLE}>
            {items.map((item) => (
              <Fragment key={item.id}>
                <QueueRow
                  item={item}
                  rule={rules.get(item.platform)}
                  picked={allMatching || picked.has(item.id)}
                  onPick={(on) => toggle(item.id, on)}
                  open={open === item.id}
                  onToggle={() => setOpen(open === item.id ? null : item.id)}
                />
                {open === item.id && (
                  <tr className={cn("border-b bg-muted/30", CARD_ROW, "max-md:-mt-3 max-md:rounded-t-none max-md:border-t-0")}>
                    <td colSpan={6} id={`queue-item-${item.id}-details`} className={cn("p-3", CARD_CELL)}>
                      <ItemDetail id={item.id} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
      {pages.hasNextPage && (
        <Button variant="outline" className="justify-self-center" disabled={pages.isFetchingNextPage} onClick={() => pages.fetchNextPage()}>
          {pages.isFetchingNextPage ? "Loading…" : `Load more (${items.length} of ${matching.toLocaleString("en")}${capped ? "+" : ""} shown)`}
        </Button>
      )}
    </div>
  );
}

function QueueRow({
  item,
  rule,
  picked,
  onPick,
  open,
  onToggle,
}: {
  item: QueueItem;
  rule: TextRule | undefined;
  picked: boolean;
  onPick: (on: boolean) => void;
  open: boolean;
  onToggle: () => void;
}) {
  const refresh = useRefreshQueue();
  const announce = useAnnounce();
  const [error, setError] = useState<string | null>(null);
  const status = itemStatus(item);
  const handle = `@${item.handle}`;
  const what = ` #${item.id} to ${handle}`;
  const errorId = `queue-item-${item.id}-error`;
  const midPublish = MID_PUBLISH.includes(item.status);

  const act = useMutation({
    mutationFn: (action: BulkAction) => sendJson<BulkOutcome>("POST", "/api/queue/bulk", { action, ids: [item.id] }),
    onMutate: () => setError(null),
    onSuccess: async (o, action) => {
      const one = o.items[0];
      if (one && !one.done) setError(one.message);
      else if (action === "cancel" && one?.outcome === "cancelled") {
        announce(`Cancelled the post to ${handle}.`, { action: { label: "Undo", run: () => restore(item.id) } });
      } else announce(describeOutcome(action === "cancel" ? "Asked to stop" : "Retried", o));
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  const restore = async (id: number) => {
    try {
      const o = await sendJson<BulkOutcome>("POST", "/api/queue/restore", { ids: [id] });
      announce(o.done ? `Restored the post to ${handle}.` : `Not restored: ${o.items[0]?.message ?? "it could not be restored."}`);
    } catch (e) {
      announce(`Could not undo: ${failureMessage(e)}`);
    }
    await refresh();
  };

  return (
    <tr data-testid={`queue-item-${item.id}`} className={cn("border-b align-top", picked && "bg-muted/50", CARD_ROW)}>
      <td className={cn("p-2", CARD_CELL)}>
        <Checkbox aria-label={`Select the post${what}`} checked={picked} onChange={(e) => onPick(e.target.checked)} />
      </td>
      <td className={cn("p-2", CARD_CELL)}>
        <Badge variant="outline" className={cn("whitespace-normal", status.className)}>
          {status.label}
        </Badge>
        {item.errorClass && item.waitingFor === null && item.status !== "posted" && (
          <span className="mt-1 block text-xs text-muted-foreground">{errorClassName(item.errorClass)}</span>
        )}
        {item.cancelRequested && midPublish && <span className="mt-1 block text-xs text-muted-foreground">Cancel requested</span>}
        {/* Why it was cancelled when a person did not do it here (an account removed: "Account removed."). */}
        {item.status === "cancelled" && item.lastError && (
          <span className="mt-1 block text-xs whitespace-normal text-muted-foreground">{item.lastError}</span>
        )}
      </td>
      <td className={cn("p-2", CARD_CELL)}>
        <span className="block truncate font-medium">{handle}</span>
        <span className="text-muted-foreground">{platformName(item.platform)}</span>
        {/* Its posted items stay after an account is removed; say whose they were. */}
        {item.accountRemoved && <span className="block text-xs text-muted-foreground">Removed account</span>}
      </td>
      <td className={cn("p-2", CARD_CELL)}>
        <p className="line-clamp-2 wrap-anywhere">{item.text}</p>
        <span className="flex flex-wrap gap-x-2 text-xs text-muted-foreground">
          {item.thread.length > 0 && <span>+{item.thread.length} in thread</span>}
          <Length text={item.text} rule={rule} />
        </span>
      </td>
      <td className={cn("p-2", CARD_CELL)}>
        {item.postedAt ? (
          <span className="grid">
            <span className="text-xs text-muted-foreground">Posted</span>
            <When at={item.postedAt} />
          </span>
        ) : (
          <span className="grid">
            <span className="text-xs text-muted-foreground">Scheduled</span>
            <When at={item.scheduledFor} />
          </span>
        )}
      </td>
      <td className={cn("p-2 text-right max-md:text-left", CARD_CELL)}>
        <div className="flex flex-wrap items-center justify-end gap-2 max-md:justify-start">
          {CANCELLABLE.includes(item.status) && !(midPublish && item.cancelRequested) && (
            <Button size="sm" variant="outline" disabled={act.isPending} aria-describedby={error ? errorId : undefined} onClick={() => act.mutate("cancel")}>
              Cancel<span className="sr-only">{what}</span>
            </Button>
          )}
          {RETRYABLE.includes(item.status) && (
            <Button size="sm" variant="outline" disabled={act.isPending} aria-describedby={error ? errorId : undefined} onClick={() => act.mutate("retry")}>
              Retry<span className="sr-only">{what}</span>
            </Button>
          )}
          <Button size="sm" variant="ghost" aria-expanded={open} aria-controls={`queue-item-${item.id}-details`} onClick={onToggle}>
            {open ? <ChevronDown aria-hidden /> : <ChevronRight aria-hidden />}
            Details<span className="sr-only">{what}</span>
          </Button>
        </div>
        {error && (
          <p id={errorId} role="alert" className="mt-1 text-sm whitespace-normal text-destructive">
            {error}
          </p>
        )}
      </td>
    </tr>
  );
}

/** The text's length as its platform counts it, beside that platform's limit. */
function Length({ text, rule }: { text: string; rule: TextRule | undefined }) {
  const m = rule ? measureText(rule, text) : null;
  if (!m || m.limit === null) return null;
  return (
    <span className={cn("tabular-nums", m.over && !m.soft ? "text-destructive" : undefined)}>
      {m.length.toLocaleString("en")} / {m.limit.toLocaleString("en")}
      <span className="sr-only"> characters as {rule!.name} counts them</span>
    </span>
  );
}
