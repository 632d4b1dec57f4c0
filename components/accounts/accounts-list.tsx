"use client";
// The workspace's accounts at any number (Ultra allows 1,000): search and filters answered by the
// server, PAGE accounts a page (keyset cursors), and bulk pause, resume and remove over the selected
// accounts — or over every account the filters match — with each account's outcome announced.
import { useEffect, useId, useRef, useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import type { Account } from "@/lib/accounts";
import { ACCOUNT_STATE_FILTERS } from "@/lib/accounts/input";
import { getJson, sendJson, failureMessage } from "@/lib/api/client";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { LoadState } from "@/components/ui/load-state";
import { useAnnounce } from "@/components/app/announcer";
import { AccountsTable, STATES } from "./accounts-table";
import { AccountTerms } from "./account-terms";
import { PLATFORM_IDS, platformName } from "./platforms";
import { AccountGroups } from "./account-groups";
import { accountPageQuery, accountSearch, groupsQuery, useRefreshAccounts, type AccountFilters } from "./queries";
import { previewRemoval, removalConsequences, type RemovalPreview } from "./removal";

/** Accounts a page. */
export const PAGE = 50;

const NO_FILTERS: AccountFilters = { q: "", platform: "", state: "", health: "", groupId: "" };

type BulkAction = "pause" | "resume" | "remove";
interface BulkReply {
  action: BulkAction;
  results: Array<{ accountId: string; outcome: string; message: string | null }>;
  summary: Record<string, number>;
}

const OUTCOME_WORDS: Record<string, string> = {
  paused: "paused",
  resumed: "resumed",
  removed: "removed",
  unchanged: "already so",
  still_paused: "still paused (the plan does not cover them)",
  already_removed: "already removed",
  account_removed: "removed earlier",
  plan_limit: "not covered by the plan",
  needs_reconnect: "in need of a reconnect first",
  forbidden: "not allowed for your role",
  not_found: "not found",
};

/** "Paused 998 accounts; 2 already so." */
function bulkSummary(reply: BulkReply): string {
  const verb = { pause: "Paused", resume: "Resumed", remove: "Removed" }[reply.action];
  const done = reply.summary[{ pause: "paused", resume: "resumed", remove: "removed" }[reply.action]] ?? 0;
  const rest = Object.entries(reply.summary)
    .filter(([outcome]) => outcome !== { pause: "paused", resume: "resumed", remove: "removed" }[reply.action])
    .map(([outcome, n]) => `${n.toLocaleString("en")} ${OUTCOME_WORDS[outcome] ?? outcome.replaceAll("_", " ")}`);
  return `${verb} ${done.toLocaleString("en")} ${done === 1 ? "account" : "accounts"}${rest.length ? `; ${rest.join(", ")}` : ""}.`;
}

export function AccountsList() {
  const id = useId();
  const announce = useAnnounce();
  const refresh = useRefreshAccounts();
  const [search, setSearch] = useState("");
  const [filters, setFilters] = useState<AccountFilters>(NO_FILTERS);
  // The cursors of the pages before this one (the first page has none).
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirm, setConfirm] = useState<{ ids: string[]; preview: RemovalPreview } | null>(null);
  const [outcome, setOutcome] = useState<BulkReply | null>(null);
  const [error, setError] = useState<string | null>(null);
  const bulkBar = useRef<HTMLDivElement>(null);

  // Typing searches after a short pause, on the server.
  useEffect(() => {
    const timer = setTimeout(() => setFilter({ q: search.trim() }), 250);
    return () => clearTimeout(timer);
  }, [search]);

  const cursor = cursors.at(-1) ?? null;
  const page = useQuery(accountPageQuery(filters, cursor, PAGE));
  const groups = useQuery(groupsQuery);
  const showRemoved = filters.state === "removed";

  /** A new filter starts again at the first page. */
  function setFilter(change: Partial<AccountFilters>) {
    setFilters((f) => ({ ...f, ...change }));
    setCursors([null]);
  }

  function select(ids: string[], on: boolean) {
    setSelected((s) => {
      const next = new Set(s);
      for (const i of ids) {
        if (on) next.add(i);
        else next.delete(i);
      }
      return next;
    });
  }

  const selectMatching = useMutation({
    mutationFn: () => getJson<{ accounts: Account[] }>(`/api/accounts?${accountSearch(filters)}`),
    onSuccess: ({ accounts }) => {
      select(accounts.map((a) => a.id), true);
      announce(`Selected all ${accounts.length.toLocaleString("en")} matching accounts.`);
    },
    onError: (e) => setError(failureMessage(e)),
  });

  const bulk = useMutation({
    mutationFn: ({ action, ids }: { action: BulkAction; ids: string[] }) => sendJson<BulkReply>("POST", "/api/accounts/bulk", { action, accountIds: ids }),
    onSuccess: async (reply) => {
      setError(null);
      setConfirm(null);
      setOutcome(reply);
      // What was done leaves the selection; what was refused stays selected, to look at.
      const done = new Set(reply.results.filter((r) => ["paused", "resumed", "removed", "unchanged", "already_removed"].includes(r.outcome)).map((r) => r.accountId));
      setSelected((s) => new Set([...s].filter((a) => !done.has(a))));
      await refresh();
      announce(bulkSummary(reply));
      bulkBar.current?.querySelector<HTMLButtonElement>("button")?.focus();
    },
    onError: (e) => setError(failureMessage(e)),
  });

  const askRemove = useMutation({
    mutationFn: async (ids: string[]) => ({ ids, preview: await previewRemoval(ids) }),
    onSuccess: (c) => setConfirm(c),
    onError: (e) => setError(failureMessage(e)),
  });

  const ids = [...selected];
  const data = page.data;
  const first = (cursors.length - 1) * PAGE;

  return (
    <div className="grid min-w-0 gap-4">
      <AccountTerms />
      <div role="search" className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-5" aria-label="Find accounts">
        <div className="grid gap-1 sm:col-span-2 lg:col-span-1">
          <Label htmlFor={`${id}-q`}>Search</Label>
          <Input id={`${id}-q`} type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="@handle or name" />
        </div>
        <div className="grid gap-1">
          <Label htmlFor={`${id}-platform`}>Platform</Label>
          <NativeSelect id={`${id}-platform`} value={filters.platform} onChange={(e) => setFilter({ platform: e.target.value })}>
            <option value="">All platforms</option>
            {PLATFORM_IDS.map((p) => (
              <option key={p} value={p}>
                {platformName(p)}
              </option>
            ))}
          </NativeSelect>
        </div>
        <div className="grid gap-1">
          <Label htmlFor={`${id}-state`}>State</Label>
          <NativeSelect id={`${id}-state`} value={filters.state} onChange={(e) => setFilter({ state: e.target.value })}>
            <option value="">All live accounts</option>
            {ACCOUNT_STATE_FILTERS.map((s) => (
              <option key={s} value={s}>
                {s === "removed" ? "Removed" : STATES[s].label}
              </option>
            ))}
          </NativeSelect>
        </div>
        <div className="grid gap-1">
          <Label htmlFor={`${id}-health`}>Health</Label>
          <NativeSelect id={`${id}-health`} value={filters.health} onChange={(e) => setFilter({ health: e.target.value })}>
            <option value="">Any health</option>
            <option value="good">Good (80–100)</option>
            <option value="fair">Fair (50–79)</option>
            <option value="poor">Poor (below 50)</option>
          </NativeSelect>
        </div>
        <div className="grid gap-1">
          <Label htmlFor={`${id}-group`}>Group</Label>
          <NativeSelect id={`${id}-group`} value={filters.groupId} onChange={(e) => setFilter({ groupId: e.target.value })}>
            <option value="">Any group</option>
            {groups.data?.groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name} ({g.accountIds.length})
              </option>
            ))}
          </NativeSelect>
        </div>
      </div>

      {!showRemoved && (
        <div ref={bulkBar} role="group" aria-label="Bulk actions" className="flex flex-wrap items-center gap-2 rounded-md border bg-muted/30 p-2 text-sm">
          <span aria-live="polite" className="mr-auto" data-testid="selection-count">
            {ids.length.toLocaleString("en")} selected
          </span>
          <Button size="sm" variant="outline" disabled={selectMatching.isPending || !data?.total} onClick={() => selectMatching.mutate()}>
            Select all {data ? data.total.toLocaleString("en") : ""} matching
          </Button>
          <Button size="sm" variant="ghost" disabled={ids.length === 0} onClick={() => setSelected(new Set())}>
            Clear selection
          </Button>
          <Button size="sm" variant="outline" disabled={ids.length === 0 || bulk.isPending} onClick={() => bulk.mutate({ action: "pause", ids })}>
            Pause selected
          </Button>
          <Button size="sm" variant="outline" disabled={ids.length === 0 || bulk.isPending} onClick={() => bulk.mutate({ action: "resume", ids })}>
            Resume selected
          </Button>
          <Button size="sm" variant="outline" disabled={ids.length === 0 || askRemove.isPending} onClick={() => askRemove.mutate(ids)}>
            Remove selected…
          </Button>
        </div>
      )}

      {!showRemoved && <AccountGroups selected={ids} onShow={(groupId) => setFilter({ groupId })} />}

      {confirm && (
        <div role="alertdialog" aria-labelledby={`${id}-confirm`} className="grid gap-2 rounded-md border border-destructive/50 p-3 text-sm">
          <p id={`${id}-confirm`}>
            Remove {confirm.preview.accounts.toLocaleString("en")} {confirm.preview.accounts === 1 ? "account" : "accounts"}? {removalConsequences(confirm.preview)}
          </p>
          <div className="flex flex-wrap gap-2">
            <Button size="sm" variant="destructive" disabled={bulk.isPending} onClick={() => bulk.mutate({ action: "remove", ids: confirm.ids })}>
              {bulk.isPending ? "Removing…" : `Yes, remove ${confirm.preview.accounts.toLocaleString("en")}`}
            </Button>
            <Button size="sm" variant="ghost" autoFocus onClick={() => setConfirm(null)}>
              Keep them
            </Button>
          </div>
        </div>
      )}

      {error && (
        <p role="alert" className="text-sm text-destructive">
          {error}
        </p>
      )}
      {outcome && <BulkOutcome reply={outcome} onClose={() => setOutcome(null)} />}

      {data ? (
        data.accounts.length === 0 ? (
          <p className="rounded-lg border border-dashed p-8 text-center text-sm text-muted-foreground">
            {JSON.stringify(filters) === JSON.stringify(NO_FILTERS)
              ? "No social accounts yet. Add one above to start publishing; a sandbox account is a safe place to try Pacer."
              : "No account matches these filters."}
          </p>
        ) : (
          <AccountsTable accounts={data.accounts} selected={selected} onSelect={select} showRemoved={showRemoved} />
        )
      ) : (
        <LoadState what="accounts" error={page.error} />
      )}

      {data && data.total > 0 && (
        <nav aria-label="Account pages" className="flex flex-wrap items-center justify-between gap-2 text-sm">
          <span data-testid="page-range">
            {(first + 1).toLocaleString("en")}–{(first + data.accounts.length).toLocaleString("en")} of {data.total.toLocaleString("en")}
          </span>
          <div className="flex gap-2">
            <Button size="sm" variant="outline" disabled={cursors.length === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
              Previous page
            </Button>
            <Button size="sm" variant="outline" disabled={!data.nextCursor} onClick={() => setCursors((c) => [...c, data.nextCursor])}>
              Next page
            </Button>
          </div>
        </nav>
      )}
    </div>
  );
}

/** Each account the last bulk action could not act on, and why (the rest are counted). */
function BulkOutcome({ reply, onClose }: { reply: BulkReply; onClose: () => void }) {
  const refused = reply.results.filter((r) => !["paused", "resumed", "removed", "unchanged", "already_removed"].includes(r.outcome));
  return (
    <div className="grid gap-1 rounded-md border p-3 text-sm" data-testid="bulk-outcome">
      <p className="font-medium">{bulkSummary(reply)}</p>
      {refused.length > 0 && (
        <ul className="list-disc pl-5 text-muted-foreground">
          {refused.slice(0, 20).map((r) => (
            <li key={r.accountId}>
              {r.message ?? OUTCOME_WORDS[r.outcome] ?? r.outcome} <span className="break-all">({r.accountId})</span>
            </li>
          ))}
          {refused.length > 20 && <li>and {(refused.length - 20).toLocaleString("en")} more, still selected.</li>}
        </ul>
      )}
      <Button size="sm" variant="ghost" className="justify-self-start" onClick={onClose}>
        Dismiss
      </Button>
    </div>
  );
}
