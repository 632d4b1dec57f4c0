"use client";
// The audit log: filters (who, action, entity, time range), entries newest first with "Load older",
// and a CSV export of what the filters match.
import { useTimeZone } from "@/components/time/time-zone";
import { instantOfWallClock } from "@/lib/time/wall-time";
import { useState, type FormEvent } from "react";
import { useInfiniteQuery } from "@tanstack/react-query";
import { Download } from "lucide-react";
import { getJson } from "@/lib/api/client";
import type { AuditChange, AuditEntry, AuditPage as AuditPageData } from "@/lib/audit";
import { When } from "@/components/time/when";
import { Button } from "@/components/ui/button";
import { Card, CardContent } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { LoadState } from "@/components/ui/load-state";
import { NativeSelect } from "@/components/ui/native-select";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";

interface Filters {
  actor: string;
  action: string;
  entity: string;
  from: string;
  to: string;
}
const NO_FILTERS: Filters = { actor: "", action: "", entity: "", from: "", to: "" };

/** A datetime-local value in the user's zone (their setting, not the browser's) as an ISO instant, or "" when empty. */
const toIso = (local: string, timeZone: string) => (local ? instantOfWallClock(new Date(`${local.slice(0, 16)}:00Z`), timeZone).toISOString() : "");

function queryString(workspaceId: string | undefined, filters: Filters, cursor?: string | null) {
  const params = new URLSearchParams();
  if (workspaceId) params.set("workspaceId", workspaceId);
  for (const key of ["actor", "action", "entity"] as const) if (filters[key]) params.set(key, filters[key]);
  if (filters.from) params.set("from", filters.from);
  if (filters.to) params.set("to", filters.to);
  if (cursor) params.set("cursor", cursor);
  return params.toString();
}

const ENTITY_NAMES: Record<string, string> = {
  workspace_members: "Member",
  workspace_invitations: "Invitation",
  workspaces: "Workspace",
  social_accounts: "Account",
  plans: "Plan",
};

const show = (v: unknown) => (v === null || v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));

export function AuditPage({ workspaceId }: { workspaceId?: string }) {
  const { timeZone } = useTimeZone();
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const log = useInfiniteQuery({
    queryKey: ["audit", workspaceId ?? "default", filters],
    queryFn: ({ pageParam }) => getJson<AuditPageData>(`/api/audit?${queryString(workspaceId, filters, pageParam)}`),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
  const facets = log.data?.pages[0]?.facets;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setFilters({
      actor: String(data.get("actor") ?? ""),
      action: String(data.get("action") ?? ""),
      entity: String(data.get("entity") ?? ""),
      from: toIso(String(data.get("from") ?? ""), timeZone),
      to: toIso(String(data.get("to") ?? ""), timeZone),
    });
  }

  const entries = log.data?.pages.flatMap((p) => p.entries) ?? [];
  return (
    <div className="grid grid-cols-1 gap-6">
      <Card>
        <CardContent>
          <form onSubmit={onSubmit} aria-label="Filter the audit log" className="grid items-end gap-4 sm:grid-cols-3 lg:grid-cols-[repeat(5,1fr)_auto_auto]">
            <Filter label="Who" name="actor" options={(facets?.actors ?? []).map((a) => [a.id, a.email ?? a.id])} />
            <Filter label="Action" name="action" options={(facets?.actions ?? []).map((a) => [a, a])} />
            <Filter label="Entity" name="entity" options={(facets?.entities ?? []).map((e) => [e, ENTITY_NAMES[e] ?? e])} />
            <div className="grid gap-2">
              <Label htmlFor="audit-from">From ({timeZone})</Label>
              <Input id="audit-from" name="from" type="datetime-local" />
            </div>
            <div className="grid gap-2">
              <Label htmlFor="audit-to">To ({timeZone})</Label>
              <Input id="audit-to" name="to" type="datetime-local" />
            </div>
            <Button type="submit">Apply filters</Button>
            <Button asChild variant="outline">
              <a href={`/api/audit/export?${queryString(workspaceId, filters)}`} download>
                <Download aria-hidden /> Export CSV
              </a>
            </Button>
          </form>
        </CardContent>
      </Card>
      {!log.data ? (
        <LoadState what="the audit log" error={log.error} />
      ) : entries.length === 0 ? (
        <p className="rounded-lg border border-dashed p-6 text-center text-sm text-muted-foreground">Nothing matches these filters.</p>
      ) : (
        <Table data-cards aria-label="Audit log">
          <TableHeader>
            <TableRow>
              <TableHead>When</TableHead>
              <TableHead>Who</TableHead>
              <TableHead>Action</TableHead>
              <TableHead>What</TableHead>
              <TableHead>Change</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {entries.map((entry) => (
              <EntryRow key={entry.id} entry={entry} />
            ))}
          </TableBody>
        </Table>
      )}
      {log.hasNextPage && (
        <Button variant="outline" className="justify-self-center" disabled={log.isFetchingNextPage} onClick={() => log.fetchNextPage()}>
          {log.isFetchingNextPage ? "Loading…" : "Load older entries"}
        </Button>
      )}
    </div>
  );
}

function Filter({ label, name, options }: { label: string; name: string; options: Array<[string, string]> }) {
  return (
    <div className="grid gap-2">
      <Label htmlFor={`audit-${name}`}>{label}</Label>
      <NativeSelect id={`audit-${name}`} name={name} defaultValue="">
        <option value="">Any</option>
        {options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </NativeSelect>
    </div>
  );
}

function EntryRow({ entry }: { entry: AuditEntry }) {
  return (
    <TableRow className="align-top">
      <TableCell data-label="When" className="whitespace-nowrap">
        <When at={entry.at} />
      </TableCell>
      <TableCell data-label="Who" className="whitespace-normal wrap-anywhere">{entry.actor ? (entry.actor.email ?? entry.actor.id) : <span className="text-muted-foreground">Pacer</span>}</TableCell>
      <TableCell data-label="Action">{entry.action}</TableCell>
      <TableCell data-label="What" className="whitespace-normal">
        {ENTITY_NAMES[entry.entity] ?? entry.entity}
        {entry.subject && <span className="block text-muted-foreground">{entry.subject}</span>}
      </TableCell>
      {/* Values wrap: a long one (a post's text, a URL) would otherwise push the table past its box. */}
      <TableCell data-label="Change" className="min-w-48 whitespace-normal wrap-anywhere">
        <Changes changes={entry.changes} />
      </TableCell>
    </TableRow>
  );
}

function Changes({ changes }: { changes: AuditChange[] }) {
  if (changes.length === 0) return <span className="text-muted-foreground">—</span>;
  return (
    <ul className="grid gap-0.5 text-sm">
      {changes.slice(0, 8).map((c) => (
        <li key={c.field}>
          <span className="font-medium">{c.field}</span>: {show(c.from)} → {show(c.to)}
        </li>
      ))}
      {changes.length > 8 && <li className="text-muted-foreground">and {changes.length - 8} more</li>}
    </ul>
  );
}
