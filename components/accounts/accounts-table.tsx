"use client";
// The workspace's social accounts, one row each, renamed inline and removed after a confirmation.
import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import type { Account } from "@/lib/accounts";
import { removeAccountAction, renameAccountAction, type ActionError } from "@/app/dashboard/accounts/actions";
import { Badge, type badgeVariants } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatInZone, useTimeZone } from "@/components/time/time-zone";
import type { VariantProps } from "class-variance-authority";
import { platformName } from "./platforms";
import { useRefreshAccounts } from "./queries";
import { ReconnectAccount } from "./reconnect-account";

const states: Record<Account["state"], { label: string; variant: VariantProps<typeof badgeVariants>["variant"] }> = {
  connected: { label: "Connected", variant: "secondary" },
  active: { label: "Active", variant: "default" },
  paused: { label: "Paused", variant: "outline" },
  restricted: { label: "Restricted", variant: "destructive" },
  needs_reconnect: { label: "Needs reconnect", variant: "destructive" },
  needs_review: { label: "Needs review", variant: "destructive" },
};

/** The day an account was added, in the user's zone, e.g. "Dec 2, 2026". */
const addedOn = (iso: string, timeZone: string) =>
  formatInZone(iso, timeZone, { weekday: undefined, hour: undefined, minute: undefined, timeZoneName: undefined });

const unexpected: ActionError = { code: "unexpected", message: "Pacer could not save that just now. Try again in a moment." };

export function AccountsTable({ accounts }: { accounts: Account[] }) {
  if (accounts.length === 0) {
    return (
      <p className="rounded-lg border border-dashed p-8 text-center text-sm text-muted-foreground">
        No social accounts yet. Add one above to start publishing; a sandbox account is a safe place to try Pacer.
      </p>
    );
  }
  return (
    <Table aria-label="Social accounts">
      <TableHeader>
        <TableRow>
          <TableHead>Account</TableHead>
          <TableHead>Platform</TableHead>
          <TableHead>State</TableHead>
          <TableHead>Health</TableHead>
          <TableHead>Added</TableHead>
          <TableHead>
            <span className="sr-only">Actions</span>
          </TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {accounts.map((account) => (
          <AccountRow key={account.id} account={account} />
        ))}
      </TableBody>
    </Table>
  );
}

function AccountRow({ account }: { account: Account }) {
  const refresh = useRefreshAccounts();
  const { timeZone } = useTimeZone();
  const [mode, setMode] = useState<"view" | "rename" | "confirm-remove">("view");
  const [error, setError] = useState<ActionError | null>(null);
  const handle = `@${account.handle}`;
  const state = states[account.state] ?? { label: account.state, variant: "outline" };

  const rename = useMutation({
    mutationFn: (displayName: string) => renameAccountAction(account.id, { displayName }),
    onSuccess: async (result) => {
      setError(result.ok ? null : result.error);
      if (result.ok) {
        setMode("view");
        await refresh();
      }
    },
    onError: () => setError(unexpected),
  });
  const remove = useMutation({
    mutationFn: () => removeAccountAction(account.id),
    onSuccess: async (result) => {
      setError(result.ok ? null : result.error);
      if (result.ok) await refresh();
    },
    onError: () => setError(unexpected),
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

  return (
    <TableRow>
      <TableCell className="whitespace-normal">
        {mode === "rename" ? (
          <form onSubmit={onRename} className="flex items-center gap-2">
            <Input
              name="displayName"
              defaultValue={account.displayName}
              aria-label={`Display name of ${handle}`}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? errorId : undefined}
              className="h-8 w-44"
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
          <div className="grid">
            <span className="font-medium">{account.displayName}</span>
            <span className="text-muted-foreground">{handle}</span>
          </div>
        )}
        {error && (
          <p id={errorId} role="alert" className="mt-1 text-sm text-destructive">
            {error.issues?.map((issue) => issue.message).join(" ") || error.message}
          </p>
        )}
      </TableCell>
      <TableCell>{platformName(account.platform)}</TableCell>
      <TableCell>
        <Badge variant={state.variant}>{state.label}</Badge>
        {/* Why an account that cannot publish is stopped (plan limit, expired token, restriction). */}
        {account.lastError && account.state !== "active" && account.state !== "connected" ? (
          <p className="mt-1 max-w-64 text-xs text-muted-foreground">{account.lastError}</p>
        ) : null}
      </TableCell>
      <TableCell>
        {account.healthScore}
        <span className="text-muted-foreground">/100</span>
      </TableCell>
      <TableCell>
        <time dateTime={account.createdAt}>{addedOn(account.createdAt, timeZone)}</time>
      </TableCell>
      <TableCell className="text-right">
        {mode === "confirm-remove" ? (
          <div className="flex items-center justify-end gap-2">
            <span className="text-sm">Remove {handle}?</span>
            <Button size="sm" variant="destructive" disabled={remove.isPending} onClick={() => remove.mutate()}>
              {remove.isPending ? "Removing…" : "Yes, remove"}
            </Button>
            <Button size="sm" variant="ghost" autoFocus onClick={() => show("view")}>
              Keep
            </Button>
          </div>
        ) : (
          <div className="flex flex-wrap items-center justify-end gap-2">
            <ReconnectAccount account={account} />
            <Button size="sm" variant="outline" disabled={mode === "rename"} onClick={() => show("rename")}>
              Rename<span className="sr-only"> {handle}</span>
            </Button>
            <Button size="sm" variant="outline" onClick={() => show("confirm-remove")}>
              Remove<span className="sr-only"> {handle}</span>
            </Button>
          </div>
        )}
      </TableCell>
    </TableRow>
  );
}
