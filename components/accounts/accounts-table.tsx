"use client";
// The accounts of one page of the list: a table from `md` up, a card per account below it (the same
// markup, restyled, with explicit table roles so screen readers keep the table). Each account can be
// selected for a bulk action, renamed inline, paused or resumed, and removed after a confirmation
// that says what happens to its posts.
import { useRef, useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import type { Account } from "@/lib/accounts";
import { renameAccountAction, type ActionError } from "@/app/dashboard/accounts/actions";
import { sendJson, failureMessage } from "@/lib/api/client";
import { Badge, type badgeVariants } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { Input } from "@/components/ui/input";
import { useAnnounce } from "@/components/app/announcer";
import { When } from "@/components/time/when";
import type { VariantProps } from "class-variance-authority";
import { platformName } from "./platforms";
import { useRefreshAccounts } from "./queries";
import { ReconnectAccount } from "./reconnect-account";
import { previewRemoval, removalConsequences, type RemovalPreview } from "./removal";
import { healthBand } from "./account-terms";

export const STATES: Record<Account["state"], { label: string; variant: VariantProps<typeof badgeVariants>["variant"] }> = {
  connected: { label: "Connected", variant: "secondary" },
  active: { label: "Active", variant: "default" },
  paused: { label: "Paused", variant: "outline" },
  restricted: { label: "Restricted", variant: "destructive" },
  needs_reconnect: { label: "Needs reconnect", variant: "destructive" },
  needs_review: { label: "Needs review", variant: "destructive" },
};

const unexpected: ActionError = { code: "unexpected", message: "Pacer could not save that just now. Try again in a moment." };

// Below md: the table's parts become blocks and each row a card; from md up, a plain table.
const cardTable = "w-full text-sm max-md:block";
const cardRow = "border-b max-md:mb-3 max-md:grid max-md:grid-cols-[auto_minmax(0,1fr)] max-md:gap-x-3 max-md:gap-y-1 max-md:rounded-lg max-md:border max-md:p-3";
const cell = "p-2 align-middle max-md:col-start-2 max-md:block max-md:p-0";
/** What a cell is, said only on the card (the table's header says it from md up). */
const CardLabel = ({ children }: { children: string }) => <span className="text-muted-foreground md:hidden">{children}: </span>;

export function AccountsTable({
  accounts,
  selected,
  onSelect,
  showRemoved = false,
}: {
  accounts: Account[];
  selected: Set<string>;
  onSelect: (ids: string[], on: boolean) => void;
  showRemoved?: boolean;
}) {
  const allOnPage = accounts.length > 0 && accounts.every((a) => selected.has(a.id));
  return (
    <table role="table" aria-label="Social accounts" className={cardTable}>
      <thead role="rowgroup" className="max-md:sr-only">
        <tr role="row" className="border-b text-left">
          <th role="columnheader" className="w-8 p-2">
            {!showRemoved && (
              <Checkbox
                aria-label="Select every account on this page"
                checked={allOnPage}
                onChange={(e) => onSelect(accounts.map((a) => a.id), e.target.checked)}
              />
            )}
          </th>
          <th role="columnheader" className="p-2 font-medium">Account</th>
          <th role="columnheader" className="p-2 font-medium">Platform</th>
          <th role="columnheader" className="p-2 font-medium">State</th>
          <th role="columnheader" className="p-2 font-medium">Health</th>
          <th role="columnheader" className="p-2 font-medium">{showRemoved ? "Removed" : "Added"}</th>
          <th role="columnheader" className="p-2">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody role="rowgroup" className="max-md:block">
        {accounts.map((account) => (
          <AccountRow key={account.id} account={account} selected={selected.has(account.id)} onSelect={(on) => onSelect([account.id], on)} />
        ))}
      </tbody>
    </table>
  );
}

function AccountRow({ account, selected, onSelect }: { account: Account; selected: boolean; onSelect: (on: boolean) => void }) {
  const refresh = useRefreshAccounts();
  const announce = useAnnounce();
  const [mode, setMode] = useState<"view" | "rename" | "confirm-remove">("view");
  const [error, setError] = useState<ActionError | null>(null);
  const [preview, setPreview] = useState<RemovalPreview | null>(null);
  const renameButton = useRef<HTMLButtonElement>(null);
  const removeButton = useRef<HTMLButtonElement>(null);
  const handle = `@${account.handle}`;
  const state = STATES[account.state] ?? { label: account.state, variant: "outline" };
  const removed = account.archivedAt !== null;
  const publishing = account.state === "connected" || account.state === "active";

  const rename = useMutation({
    mutationFn: (displayName: string) => renameAccountAction(account.id, { displayName }),
    onSuccess: async (result) => {
      setError(result.ok ? null : result.error);
      if (result.ok) {
        setMode("view");
        await refresh();
        announce(`Renamed ${handle} to ${result.account?.displayName ?? "its new name"}.`);
        renameButton.current?.focus();
      }
    },
    onError: () => setError(unexpected),
  });
  const askRemove = useMutation({
    mutationFn: () => previewRemoval([account.id]),
    onSuccess: (p) => {
      setPreview(p);
      show("confirm-remove");
    },
    onError: (e) => setError({ code: "unexpected", message: failureMessage(e) }),
  });
  const remove = useMutation({
    mutationFn: () => sendJson("DELETE", `/api/accounts/${account.id}`),
    onSuccess: async () => {
      setError(null);
      await refresh();
      announce(`Removed ${handle}. ${preview ? removalDone(preview) : ""}`.trim());
    },
    onError: (e) => setError({ code: "unexpected", message: failureMessage(e) }),
  });
  const toggle = useMutation({
    mutationFn: () => sendJson<{ state: string; paused_reason?: string | null }>("POST", `/api/accounts/${account.id}/${publishing ? "pause" : "resume"}`),
    onSuccess: async () => {
      setError(null);
      await refresh();
      announce(publishing ? `Paused ${handle}: its posts wait until you resume it.` : `Resumed ${handle}.`);
    },
    onError: (e) => setError({ code: "unexpected", message: failureMessage(e) }),
  });

  function onRename(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    rename.mutate(String(new FormData(event.currentTarget).get("displayName") ?? ""));
  }

  function show(next: typeof mode) {
    setError(null);
    setMode(next);
  }

  const errorId = `account-${account.id}-error`;
  const band = healthBand(account.healthScore);

  return (
    <tr role="row" className={cardRow} data-testid="account-row">
      <td role="cell" className="w-8 p-2 align-middle max-md:row-span-6 max-md:p-0 max-md:pt-1">
        {!removed && <Checkbox aria-label={`Select ${handle}`} checked={selected} onChange={(e) => onSelect(e.target.checked)} />}
      </td>
      <td role="cell" className={cell}>
        {mode === "rename" ? (
          <form onSubmit={onRename} className="flex flex-wrap items-center gap-2">
            <Input
              name="displayName"
              defaultValue={account.displayName}
              aria-label={`Display name of ${handle}`}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? errorId : undefined}
              className="h-8 w-44 max-w-full"
              autoFocus
              onKeyDown={(event) => event.key === "Escape" && show("view")}
            />
            <Button type="submit" size="sm" disabled={rename.isPending}>
              {rename.isPending ? "Saving…" : "Save"}
            </Button>
            <Button type="button" size="sm" variant="ghost" onClick={() => show("view")}>
              Cancel
            </Button>
          </form>
        ) : (
          <div className="grid min-w-0">
            <span className="font-medium break-words">{account.displayName}</span>
            <span className="break-all text-muted-foreground">{handle}</span>
          </div>
        )}
        {error && (
          <p id={errorId} role="alert" className="mt-1 text-sm text-destructive">
            {error.issues?.map((issue) => issue.message).join(" ") || error.message}
          </p>
        )}
      </td>
      <td role="cell" className={cell}>
        <CardLabel>Platform</CardLabel>
        {platformName(account.platform)}
      </td>
      <td role="cell" className={cell}>
        <CardLabel>State</CardLabel>
        <Badge variant={state.variant}>{removed ? "Removed" : state.label}</Badge>
        {/* Why an account that cannot publish is stopped (plan limit, expired token, restriction). */}
        {!removed && account.lastError && !publishing ? <p className="mt-1 max-w-64 text-xs text-muted-foreground">{account.lastError}</p> : null}
      </td>
      <td role="cell" className={cell}>
        <CardLabel>Health</CardLabel>
        {account.healthScore}
        <span className="text-muted-foreground">/100</span>
        <span className="text-xs text-muted-foreground"> ({band})</span>
      </td>
      <td role="cell" className={cell}>
        <CardLabel>{removed ? "Removed" : "Added"}</CardLabel>
        <When at={account.archivedAt ?? account.createdAt} relative={removed} />
      </td>
      <td role="cell" className="p-2 text-right align-middle max-md:col-span-2 max-md:mt-2 max-md:block max-md:p-0 max-md:text-left">
        {removed ? null : mode === "confirm-remove" && preview ? (
          <div role="group" aria-label={`Remove ${handle}?`} className="grid justify-items-end gap-2 max-md:justify-items-start">
            <p className="max-w-80 text-left text-sm whitespace-normal">
              Remove {handle}? {removalConsequences(preview)}
            </p>
            <div className="flex gap-2">
              <Button size="sm" variant="destructive" disabled={remove.isPending} onClick={() => remove.mutate()}>
                {remove.isPending ? "Removing…" : "Yes, remove"}
              </Button>
              <Button
                size="sm"
                variant="ghost"
                autoFocus
                onClick={() => {
                  show("view");
                  removeButton.current?.focus();
                }}
              >
                Keep
              </Button>
            </div>
          </div>
        ) : (
          <div className="flex flex-wrap items-center justify-end gap-2 max-md:justify-start">
            <ReconnectAccount account={account} />
            <Button ref={renameButton} size="sm" variant="outline" disabled={mode === "rename"} onClick={() => show("rename")}>
              Rename<span className="sr-only"> {handle}</span>
            </Button>
            {(publishing || account.state === "paused") && (
              <Button size="sm" variant="outline" disabled={toggle.isPending} onClick={() => toggle.mutate()}>
                {publishing ? "Pause" : "Resume"}
                <span className="sr-only"> {handle}</span>
              </Button>
            )}
            <Button ref={removeButton} size="sm" variant="outline" disabled={askRemove.isPending} onClick={() => askRemove.mutate()}>
              Remove<span className="sr-only"> {handle}</span>
            </Button>
          </div>
        )}
      </td>
    </tr>
  );
}

/** The announcement after a removal: what was cancelled, what stays. */
export function removalDone(p: RemovalPreview): string {
  const cancelled = p.waiting + p.inFlight;
  return [
    cancelled > 0 ? `${cancelled.toLocaleString("en")} waiting ${cancelled === 1 ? "post was" : "posts were"} cancelled.` : "",
    p.posted > 0 ? `${p.posted.toLocaleString("en")} posted ${p.posted === 1 ? "stays" : "stay"} in your history.` : "",
  ]
    .filter(Boolean)
    .join(" ");
}
