"use client";
// Choosing the accounts a post goes to, usable with a thousand: grouped by platform (a group can be
// folded, and large groups start folded), a filter by handle or name, select all shown or a whole
// platform, and at most SHOWN rows rendered per group until asked for more. An account group (made on
// the accounts page) adds its accounts in one step.
import { useId, useMemo, useState, type Ref } from "react";
import { useQuery } from "@tanstack/react-query";
import { ChevronDown, ChevronRight } from "lucide-react";
import type { Account } from "@/lib/accounts";
import { platformName } from "@/components/accounts/platforms";
import { groupsQuery } from "@/components/accounts/queries";
import { NativeSelect } from "@/components/ui/native-select";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { MAX_ACCOUNTS_PER_POST } from "@/lib/queue/input";

/** Rows rendered per group before "Show more". */
const SHOWN = 50;
/** Groups larger than this start folded. */
const OPEN_UP_TO = 25;

interface Props {
  accounts: Account[];
  value: string[];
  onChange: (ids: string[]) => void;
  /** Receives focus when the field is invalid (react-hook-form's ref). */
  inputRef?: Ref<HTMLInputElement>;
  error?: string;
}

export function AccountPicker({ accounts, value, onChange, inputRef, error }: Props) {
  const id = useId();
  const [filter, setFilter] = useState("");
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const [shown, setShown] = useState<Record<string, number>>({});
  const selected = useMemo(() => new Set(value), [value]);
  const groupList = useQuery(groupsQuery).data?.groups ?? [];
  const [groupId, setGroupId] = useState("");
  // A group's accounts among those this picker offers (live ones; a removed account left its groups).
  const offered = useMemo(() => new Set(accounts.map((a) => a.id)), [accounts]);
  const groupMembers = (gid: string) => (groupList.find((g) => g.id === gid)?.accountIds ?? []).filter((a) => offered.has(a));

  const groups = useMemo(() => {
    const needle = filter.trim().toLowerCase().replace(/^@/, "");
    const byPlatform = new Map<string, { all: Account[]; matching: Account[] }>();
    for (const a of accounts) {
      const g = byPlatform.get(a.platform) ?? { all: [], matching: [] };
      g.all.push(a);
      if (!needle || a.handle.toLowerCase().includes(needle) || a.displayName.toLowerCase().includes(needle)) g.matching.push(a);
      byPlatform.set(a.platform, g);
    }
    return [...byPlatform].map(([platform, g]) => ({ platform, ...g })).sort((a, b) => platformName(a.platform).localeCompare(platformName(b.platform)));
  }, [accounts, filter]);

  const matching = groups.flatMap((g) => g.matching);
  const set = (ids: Iterable<string>, on: boolean) => {
    const next = new Set(selected);
    for (const i of ids) {
      if (on) next.add(i);
      else next.delete(i);
    }
    // The accounts' own order, so the request and its issue paths follow the list.
    onChange(accounts.filter((a) => next.has(a.id)).map((a) => a.id));
  };
  const errorId = `${id}-error`;

  return (
    <fieldset className="grid gap-3" aria-describedby={error ? errorId : `${id}-count`}>
      <legend className="mb-1 text-sm font-medium">Accounts</legend>
      <div className="flex flex-wrap items-end gap-2">
        <div className="grid flex-1 gap-1">
          <Label htmlFor={`${id}-filter`} className="font-normal text-muted-foreground">
            Find accounts by handle or name
          </Label>
          <Input
            id={`${id}-filter`}
            ref={inputRef}
            type="search"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? errorId : undefined}
            placeholder="@handle"
          />
        </div>
        <Button type="button" variant="outline" size="sm" onClick={() => set(matching.map((a) => a.id), true)} disabled={matching.length === 0}>
          Select all {filter.trim() ? "found" : ""} ({matching.length.toLocaleString("en")})
        </Button>
        <Button type="button" variant="outline" size="sm" onClick={() => onChange([])} disabled={value.length === 0}>
          Clear
        </Button>
      </div>
      {groupList.length > 0 && (
        <div className="flex flex-wrap items-end gap-2">
          <div className="grid min-w-0 flex-1 gap-1">
            <Label htmlFor={`${id}-group`} className="font-normal text-muted-foreground">
              Account group
            </Label>
            <NativeSelect id={`${id}-group`} value={groupId} onChange={(e) => setGroupId(e.target.value)}>
              <option value="">Choose a group</option>
              {groupList.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name} ({groupMembers(g.id).length.toLocaleString("en")})
                </option>
              ))}
            </NativeSelect>
          </div>
          <Button type="button" variant="outline" size="sm" disabled={!groupId || groupMembers(groupId).length === 0} onClick={() => set(groupMembers(groupId), true)}>
            Select the group&apos;s accounts
          </Button>
          <Button type="button" variant="outline" size="sm" disabled={!groupId || groupMembers(groupId).length === 0} onClick={() => set(groupMembers(groupId), false)}>
            Unselect them
          </Button>
        </div>
      )}
      <p id={`${id}-count`} className="text-sm text-muted-foreground" aria-live="polite">
        {value.length.toLocaleString("en")} of {accounts.length.toLocaleString("en")} accounts selected
        {value.length > MAX_ACCOUNTS_PER_POST &&
          `: one post goes to at most ${MAX_ACCOUNTS_PER_POST} accounts. Narrow the choice, or import the posts in bulk (CSV or POST /api/queue/bulk-post).`}
      </p>
      {error && (
        <p id={errorId} className="text-sm text-destructive">
          {error}
        </p>
      )}
      {groups.map((g) => {
        const name = platformName(g.platform);
        const isOpen = open[g.platform] ?? (filter.trim() !== "" || g.all.length <= OPEN_UP_TO);
        const chosen = g.all.filter((a) => selected.has(a.id)).length;
        const allMatchingChosen = g.matching.length > 0 && g.matching.every((a) => selected.has(a.id));
        const listId = `${id}-${g.platform}`;
        const limit = shown[g.platform] ?? SHOWN;
        return (
          <div key={g.platform} className="rounded-md border" role="group" aria-label={`${name} accounts`}>
            <div className="flex flex-wrap items-center gap-2 px-3 py-2">
              <Button
                type="button"
                variant="ghost"
                size="sm"
                aria-expanded={isOpen}
                aria-controls={listId}
                onClick={() => setOpen({ ...open, [g.platform]: !isOpen })}
              >
                {isOpen ? <ChevronDown aria-hidden /> : <ChevronRight aria-hidden />}
                {name}
                <span className="font-normal text-muted-foreground">
                  {chosen} of {g.all.length} selected
                </span>
              </Button>
              <label className="ml-auto flex items-center gap-2 text-sm">
                <Checkbox
                  checked={allMatchingChosen}
                  disabled={g.matching.length === 0}
                  onChange={(e) => set(g.matching.map((a) => a.id), e.target.checked)}
                />
                All {filter.trim() ? `found ` : ""}{name} accounts ({g.matching.length})
              </label>
            </div>
            {isOpen && (
              <ul id={listId} className="grid gap-1 border-t px-3 py-2 sm:grid-cols-2">
                {g.matching.length === 0 && <li className="text-sm text-muted-foreground">No {name} account matches.</li>}
                {g.matching.slice(0, limit).map((a) => (
                  <li key={a.id} className="flex items-center gap-2">
                    <Checkbox id={`${id}-${a.id}`} checked={selected.has(a.id)} onChange={(e) => set([a.id], e.target.checked)} />
                    <Label htmlFor={`${id}-${a.id}`} className="block font-normal">
                      @{a.handle}
                      {a.displayName !== a.handle && <span className="text-muted-foreground"> {a.displayName}</span>}
                      {a.state !== "connected" && a.state !== "active" && (
                        <span className="text-muted-foreground"> ({a.state.replaceAll("_", " ")})</span>
                      )}
                    </Label>
                  </li>
                ))}
                {g.matching.length > limit && (
                  <li className="sm:col-span-2">
                    <Button type="button" variant="link" size="sm" onClick={() => setShown({ ...shown, [g.platform]: limit + SHOWN * 4 })}>
                      Show more ({(g.matching.length - limit).toLocaleString("en")} not shown; or narrow with the filter)
                    </Button>
                  </li>
                )}
              </ul>
            )}
          </div>
        );
      })}
    </fieldset>
  );
}
