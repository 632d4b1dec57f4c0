"use client";
// The queue list's filters: status, account, platform, a scheduled-day range (in the user's zone),
// a text search (the post, its thread or the handle) and the order. Each change shows the first page again.
import { useEffect, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { accountsQuery } from "@/components/accounts/queries";
import { platformName } from "@/components/accounts/platforms";
import { useTimeZone } from "@/components/time/time-zone";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { instantOfWallTime } from "@/lib/time/wall-time";
import { QUEUE_STATUSES, type QueueStatus } from "@/lib/queue/types";
import { NO_FILTERS, type QueueFilters } from "./queries";
import { statusStyle } from "./statuses";

/** A day picked in the user's zone → the instant its midnight is (the `to` day is included: its next midnight). */
function dayStart(day: string, zone: string, next = false): string {
  if (!day) return "";
  const date = new Date(`${day}T00:00:00Z`);
  if (next) date.setUTCDate(date.getUTCDate() + 1);
  const r = instantOfWallTime(`${date.toISOString().slice(0, 10)}T00:00`, zone);
  return r.ok ? r.instant : "";
}

export function QueueFiltersBar({ filters, onChange }: { filters: QueueFilters; onChange: (f: QueueFilters) => void }) {
  const accounts = useQuery(accountsQuery);
  const { timeZone } = useTimeZone();
  const [search, setSearch] = useState(filters.q);
  const [days, setDays] = useState({ from: "", to: "" });
  const platforms = [...new Set(accounts.data?.accounts.map((a) => a.platform) ?? [])].sort();

  // The search applies a moment after typing stops, so each key press is not a request.
  useEffect(() => {
    if (search === filters.q) return;
    const timer = setTimeout(() => onChange({ ...filters, q: search }), 300);
    return () => clearTimeout(timer);
  }, [search, filters, onChange]);

  const setDay = (which: "from" | "to", day: string) => {
    const next = { ...days, [which]: day };
    setDays(next);
    onChange({ ...filters, from: dayStart(next.from, timeZone), to: dayStart(next.to, timeZone, true) });
  };
  const changed = JSON.stringify(filters) !== JSON.stringify(NO_FILTERS) || search !== "" || days.from !== "" || days.to !== "";

  return (
    <form role="search" aria-label="Filter the queue" className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4 xl:grid-cols-7" onSubmit={(e) => e.preventDefault()}>
      <div className="grid gap-1 sm:col-span-2 lg:col-span-4 xl:col-span-2">
        <Label htmlFor="queue-search">Search</Label>
        <Input id="queue-search" type="search" placeholder="Text, thread or @handle" value={search} onChange={(e) => setSearch(e.target.value)} />
      </div>
      <div className="grid gap-1">
        <Label htmlFor="queue-status">Status</Label>
        <NativeSelect id="queue-status" value={filters.status} onChange={(e) => onChange({ ...filters, status: e.target.value as QueueStatus | "" })}>
          <option value="">Any status</option>
          {QUEUE_STATUSES.map((s) => (
            <option key={s} value={s}>
              {statusStyle(s).label}
            </option>
          ))}
        </NativeSelect>
      </div>
      <div className="grid gap-1">
        <Label htmlFor="queue-account">Account</Label>
        <NativeSelect id="queue-account" value={filters.accountId} onChange={(e) => onChange({ ...filters, accountId: e.target.value })}>
          <option value="">Any account</option>
          {accounts.data?.accounts.map((a) => (
            <option key={a.id} value={a.id}>
              @{a.handle} ({platformName(a.platform)})
            </option>
          ))}
        </NativeSelect>
      </div>
      <div className="grid gap-1">
        <Label htmlFor="queue-platform">Platform</Label>
        <NativeSelect id="queue-platform" value={filters.platform} onChange={(e) => onChange({ ...filters, platform: e.target.value })}>
          <option value="">Any platform</option>
          {platforms.map((p) => (
            <option key={p} value={p}>
              {platformName(p)}
            </option>
          ))}
        </NativeSelect>
      </div>
      <div className="grid gap-1">
        <Label htmlFor="queue-from">Scheduled from ({timeZone})</Label>
        <Input id="queue-from" type="date" value={days.from} onChange={(e) => setDay("from", e.target.value)} />
      </div>
      <div className="grid gap-1">
        <Label htmlFor="queue-to">Scheduled until ({timeZone})</Label>
        <Input id="queue-to" type="date" value={days.to} onChange={(e) => setDay("to", e.target.value)} />
      </div>
      <div className="grid gap-1">
        <Label htmlFor="queue-order">Order</Label>
        <NativeSelect id="queue-order" value={filters.order} onChange={(e) => onChange({ ...filters, order: e.target.value as QueueFilters["order"] })}>
          <option value="newest">Latest scheduled first</option>
          <option value="oldest">Earliest scheduled first</option>
        </NativeSelect>
      </div>
      {changed && (
        <Button
          type="button"
          variant="ghost"
          className="justify-self-start sm:self-end"
          onClick={() => {
            setSearch("");
            setDays({ from: "", to: "" });
            onChange(NO_FILTERS);
          }}
        >
          Clear filters
        </Button>
      )}
    </form>
  );
}
