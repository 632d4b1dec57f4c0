"use client";
// Account groups on the accounts page: make a group from the selected accounts, add or take out the
// selected ones, rename, delete, or show a group's accounts in the list. The composer's picker
// offers the same groups. Editors and up may change them (the API answers others with 403).
import { useId, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import type { AccountGroup } from "@/lib/accounts/groups";
import { sendJson, failureMessage } from "@/lib/api/client";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { useAnnounce } from "@/components/app/announcer";
import { groupsQuery, useRefreshAccounts } from "./queries";

const accounts = (n: number) => `${n.toLocaleString("en")} ${n === 1 ? "account" : "accounts"}`;

export function AccountGroups({ selected, onShow }: { selected: string[]; onShow: (groupId: string) => void }) {
  const id = useId();
  const announce = useAnnounce();
  const refresh = useRefreshAccounts();
  const groups = useQuery(groupsQuery);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState("");

  const create = useMutation({
    mutationFn: () => sendJson<{ group: AccountGroup }>("POST", "/api/account-groups", { name, accountIds: selected }),
    onSuccess: async ({ group }) => {
      setError(null);
      setName("");
      await refresh();
      announce(`Made the group ${group.name} with ${accounts(group.accountIds.length)}.`);
    },
    onError: (e) => setError(failureMessage(e)),
  });

  function onCreate(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }

  return (
    <details className="rounded-md border px-3 py-2 text-sm" data-testid="account-groups">
      <summary className="cursor-pointer font-medium outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50">
        Account groups ({groups.data?.groups.length ?? 0})
      </summary>
      <div className="mt-3 grid gap-3">
        <p className="text-muted-foreground">Name a set of accounts once, then pick the whole group when you compose a post.</p>
        <form onSubmit={onCreate} className="flex flex-wrap items-end gap-2">
          <div className="grid min-w-0 flex-1 gap-1">
            <Label htmlFor={`${id}-name`}>New group&apos;s name</Label>
            <Input id={`${id}-name`} value={name} maxLength={60} onChange={(e) => setName(e.target.value)} aria-invalid={error ? true : undefined} />
          </div>
          <Button type="submit" size="sm" disabled={create.isPending || !name.trim()}>
            Make group of {accounts(selected.length)} selected
          </Button>
        </form>
        {error && (
          <p role="alert" className="text-destructive">
            {error}
          </p>
        )}
        <ul className="grid gap-2" aria-label="Account groups">
          {groups.data?.groups.map((g) => (
            <GroupRow key={g.id} group={g} selected={selected} onShow={onShow} />
          ))}
        </ul>
      </div>
    </details>
  );
}

function GroupRow({ group, selected, onShow }: { group: AccountGroup; selected: string[]; onShow: (groupId: string) => void }) {
  const announce = useAnnounce();
  const refresh = useRefreshAccounts();
  const [renaming, setRenaming] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const change = useMutation({
    mutationFn: (body: { name?: string; accountIds?: string[] }) => sendJson<{ group: AccountGroup }>("PATCH", `/api/account-groups/${group.id}`, body),
    onSuccess: async ({ group: changed }, body) => {
      setError(null);
      setRenaming(false);
      await refresh();
      announce(body.name ? `Renamed the group to ${changed.name}.` : `${changed.name} now has ${accounts(changed.accountIds.length)}.`);
    },
    onError: (e) => setError(failureMessage(e)),
  });
  const remove = useMutation({
    mutationFn: () => sendJson("DELETE", `/api/account-groups/${group.id}`),
    onSuccess: async () => {
      await refresh();
      announce(`Deleted the group ${group.name}; its accounts stay.`);
    },
    onError: (e) => setError(failureMessage(e)),
  });

  const members = new Set(group.accountIds);
  const adding = selected.filter((a) => !members.has(a));
  const takingOut = selected.filter((a) => members.has(a));

  return (
    <li className="grid gap-2 rounded-md border p-2">
      {renaming ? (
        <form
          className="flex flex-wrap items-center gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            change.mutate({ name: String(new FormData(e.currentTarget).get("name") ?? "") });
          }}
        >
          <Input name="name" defaultValue={group.name} aria-label={`New name of the group ${group.name}`} className="h-8 w-48 max-w-full" autoFocus />
          <Button type="submit" size="sm">
            Save
          </Button>
          <Button type="button" size="sm" variant="ghost" onClick={() => setRenaming(false)}>
            Cancel
          </Button>
        </form>
      ) : (
        <p>
          <span className="font-medium break-words">{group.name}</span> <span className="text-muted-foreground">· {accounts(group.accountIds.length)}</span>
        </p>
      )}
      <div className="flex flex-wrap gap-2">
        <Button size="sm" variant="outline" onClick={() => onShow(group.id)}>
          Show<span className="sr-only"> the accounts of {group.name}</span>
        </Button>
        <Button size="sm" variant="outline" disabled={adding.length === 0 || change.isPending} onClick={() => change.mutate({ accountIds: [...group.accountIds, ...adding] })}>
          Add {adding.length ? accounts(adding.length) : "selected"}
          <span className="sr-only"> to {group.name}</span>
        </Button>
        <Button
          size="sm"
          variant="outline"
          disabled={takingOut.length === 0 || change.isPending}
          onClick={() => change.mutate({ accountIds: group.accountIds.filter((a) => !takingOut.includes(a)) })}
        >
          Take out {takingOut.length ? accounts(takingOut.length) : "selected"}
          <span className="sr-only"> of {group.name}</span>
        </Button>
        <Button size="sm" variant="outline" onClick={() => setRenaming(true)}>
          Rename<span className="sr-only"> the group {group.name}</span>
        </Button>
        {confirmDelete ? (
          <>
            <Button size="sm" variant="destructive" onClick={() => remove.mutate()}>
              Yes, delete the group
            </Button>
            <Button size="sm" variant="ghost" autoFocus onClick={() => setConfirmDelete(false)}>
              Keep
            </Button>
          </>
        ) : (
          <Button size="sm" variant="outline" onClick={() => setConfirmDelete(true)}>
            Delete<span className="sr-only"> the group {group.name}</span>
          </Button>
        )}
      </div>
      {error && (
        <p role="alert" className="text-destructive">
          {error}
        </p>
      )}
    </li>
  );
}
