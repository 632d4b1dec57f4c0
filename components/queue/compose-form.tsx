"use client";
// Form that queues one post for one or more of the workspace's accounts, with a priority and an optional time.
import { useState, type FormEvent } from "react";
import Link from "next/link";
import { useMutation, useQuery } from "@tanstack/react-query";
import { CircleAlert, Plus } from "lucide-react";
import { addToQueueAction, type ActionError } from "@/app/dashboard/queue/actions";
import { accountsQuery } from "@/components/accounts/queries";
import { platformName } from "@/components/accounts/platforms";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Checkbox } from "@/components/ui/checkbox";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import { useRefreshQueue } from "./queries";

const FIELDS = ["text", "accountIds", "priority", "scheduledFor"] as const;
type Field = (typeof FIELDS)[number];

const PRIORITIES = Array.from({ length: 10 }, (_, i) => i + 1);
const priorityLabel = (p: number) => (p === 10 ? "10 (first)" : p === 1 ? "1 (last)" : p === 5 ? "5 (normal)" : String(p));

/** Issues about one of this form's fields go next to it (by the path's first segment, e.g. "accountIds.0"); the rest in the alert. */
function splitIssues(error: ActionError | null) {
  const byField: Partial<Record<Field, string>> = {};
  for (const issue of error?.issues ?? []) {
    const field = issue.path.split(".")[0];
    if ((FIELDS as readonly string[]).includes(field)) byField[field as Field] ??= issue.message;
  }
  const showAlert = error !== null && Object.keys(byField).length === 0;
  return { byField, showAlert };
}

/** A datetime-local value is the browser's local time; the server gets an instant. Empty means now. */
function toInstant(local: string): string | undefined {
  if (!local) return undefined;
  const at = new Date(local);
  return Number.isNaN(at.getTime()) ? local : at.toISOString();
}

export function ComposeForm() {
  const accounts = useQuery(accountsQuery);
  const refresh = useRefreshQueue();
  const [error, setError] = useState<ActionError | null>(null);
  const [queued, setQueued] = useState<string | null>(null);
  const add = useMutation({
    mutationFn: addToQueueAction,
    onSuccess: async (result) => {
      setError(result.ok ? null : result.error);
      if (result.ok) {
        const n = result.value.queued;
        setQueued(`Queued for ${n} ${n === 1 ? "account" : "accounts"}.`);
        await refresh();
      }
    },
    onError: () => setError({ code: "unexpected", message: "Pacer could not queue the post just now. Try again in a moment." }),
  });
  const { byField, showAlert } = splitIssues(error);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const scheduledFor = toInstant(String(data.get("scheduledFor") ?? ""));
    setQueued(null);
    add.mutate(
      {
        text: String(data.get("text") ?? ""),
        accountIds: data.getAll("accountIds").map(String),
        priority: Number(data.get("priority") ?? 5),
        ...(scheduledFor ? { scheduledFor } : {}),
      },
      { onSuccess: (result) => result.ok && form.reset() },
    );
  }

  const fieldProps = (field: Field) => ({
    "aria-invalid": byField[field] ? true : undefined,
    "aria-describedby": byField[field] ? `compose-${field}-error` : undefined,
  });
  const fieldError = (field: Field) =>
    byField[field] && (
      <p id={`compose-${field}-error`} className="text-sm text-destructive">
        {byField[field]}
      </p>
    );

  const list = accounts.data?.accounts;

  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Compose a post</h2>
        </CardTitle>
        <CardDescription>
          One queue item per account. Pacer publishes each when it is due, inside the account&apos;s limits.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {showAlert && error && (
          <Alert variant="destructive">
            <CircleAlert aria-hidden />
            <AlertTitle>The post was not queued</AlertTitle>
            <AlertDescription>{error.message}</AlertDescription>
          </Alert>
        )}
        <form onSubmit={onSubmit} className="grid gap-4" noValidate aria-label="Compose a post">
          <div className="grid gap-2">
            <Label htmlFor="compose-text">Text</Label>
            <Textarea id="compose-text" name="text" rows={3} placeholder="What should your accounts say?" required {...fieldProps("text")} />
            {fieldError("text")}
          </div>

          <fieldset className="grid gap-2" aria-describedby={byField.accountIds ? "compose-accountIds-error" : undefined}>
            <legend className="mb-2 text-sm font-medium">Accounts</legend>
            {list === undefined ? (
              <p className="text-sm text-muted-foreground" role="status">
                {accounts.error ? `Could not load accounts: ${accounts.error.message}` : "Loading accounts…"}
              </p>
            ) : list.length === 0 ? (
              <p className="text-sm text-muted-foreground">
                No accounts to post to yet.{" "}
                <Link href="/dashboard/accounts" className="font-medium text-foreground underline underline-offset-4">
                  Add an account
                </Link>{" "}
                first.
              </p>
            ) : (
              <ul className="grid gap-2 sm:grid-cols-2">
                {list.map((account) => (
                  <li key={account.id} className="flex items-center gap-2">
                    <Checkbox
                      id={`compose-account-${account.id}`}
                      name="accountIds"
                      value={account.id}
                      aria-invalid={byField.accountIds ? true : undefined}
                    />
                    <Label htmlFor={`compose-account-${account.id}`} className="block font-normal">
                      @{account.handle}{" "}
                      <span className="text-muted-foreground">
                        on {platformName(account.platform)}
                        {account.state !== "connected" && account.state !== "active" ? ` (${account.state.replaceAll("_", " ")})` : ""}
                      </span>
                    </Label>
                  </li>
                ))}
              </ul>
            )}
            {fieldError("accountIds")}
          </fieldset>

          <div className="grid items-start gap-4 sm:grid-cols-[10rem_16rem_1fr]">
            <div className="grid gap-2">
              <Label htmlFor="compose-priority">Priority</Label>
              <select
                id="compose-priority"
                name="priority"
                defaultValue="5"
                className="h-9 rounded-md border border-input bg-transparent px-3 text-sm shadow-xs outline-none focus-visible:border-ring focus-visible:ring-[3px] focus-visible:ring-ring/50 aria-invalid:border-destructive"
                {...fieldProps("priority")}
              >
                {PRIORITIES.map((p) => (
                  <option key={p} value={p}>
                    {priorityLabel(p)}
                  </option>
                ))}
              </select>
              {fieldError("priority")}
            </div>
            <div className="grid gap-2">
              <Label htmlFor="compose-scheduledFor">
                Schedule for <span className="font-normal text-muted-foreground">(optional)</span>
              </Label>
              <Input
                id="compose-scheduledFor"
                name="scheduledFor"
                type="datetime-local"
                aria-describedby={byField.scheduledFor ? "compose-scheduledFor-error" : "compose-scheduledFor-hint"}
                aria-invalid={byField.scheduledFor ? true : undefined}
              />
              {fieldError("scheduledFor") || (
                <p id="compose-scheduledFor-hint" className="text-sm text-muted-foreground">
                  Empty publishes as soon as possible.
                </p>
              )}
            </div>
            <Button type="submit" className="sm:mt-6 sm:justify-self-end" disabled={add.isPending || list?.length === 0}>
              <Plus aria-hidden />
              {add.isPending ? "Adding…" : "Add to queue"}
            </Button>
          </div>
          {queued && (
            <p role="status" className="text-sm text-muted-foreground">
              {queued}
            </p>
          )}
        </form>
      </CardContent>
    </Card>
  );
}
