"use client";
// Form that connects a social account to the workspace; shows the plan limit and field errors it runs into.
import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { CircleAlert, Plus } from "lucide-react";
import { addAccountAction, type ActionError } from "@/app/dashboard/accounts/actions";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { connectablePlatforms, platformName } from "./platforms";
import { useRefreshAccounts } from "./queries";
import { useAnnounce } from "@/components/app/announcer";

const FIELDS = ["platform", "handle", "displayName", "accessToken"] as const;
type Field = (typeof FIELDS)[number];

/** The form field an issue's path (as the API names it) belongs to. */
const fieldOf = (path: string): Field | undefined =>
  path === "credentials.accessToken" || path === "credentials"
    ? "accessToken"
    : (FIELDS as readonly string[]).includes(path)
      ? (path as Field)
      : undefined;

/** Issues about one of this form's fields go next to it; everything else goes in the alert. */
function splitIssues(error: ActionError | null) {
  const byField: Partial<Record<Field, string>> = {};
  for (const issue of error?.issues ?? []) {
    const field = fieldOf(issue.path);
    if (field) byField[field] ??= issue.message;
  }
  const showAlert = error !== null && Object.keys(byField).length === 0;
  return { byField, showAlert };
}

export function AddAccountForm({ limitReached }: { limitReached: boolean }) {
  const refresh = useRefreshAccounts();
  const announce = useAnnounce();
  const [error, setError] = useState<ActionError | null>(null);
  const add = useMutation({
    mutationFn: (input: unknown) => addAccountAction(input),
    onSuccess: async (result) => {
      setError(result.ok ? null : result.error);
      // At the limit, the usage on screen was stale (e.g. a teammate added the last account): show the real one.
      if (result.ok || result.error.code === "plan_limit_reached") await refresh();
      if (result.ok && result.account) announce(`Added @${result.account.handle} on ${platformName(result.account.platform)}.`);
    },
    onError: () =>
      setError({ code: "unexpected", message: "Pacer could not add the account just now. Try again in a moment." }),
  });
  const { byField, showAlert } = splitIssues(error);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const displayName = String(data.get("displayName") ?? "").trim();
    const accessToken = String(data.get("accessToken") ?? "").trim();
    const input = {
      platform: String(data.get("platform")),
      handle: String(data.get("handle") ?? ""),
      ...(displayName ? { displayName } : {}),
      // Only for a handle that already exists on the platform: a new one is created and its token kept.
      ...(accessToken ? { credentials: { accessToken } } : {}),
    };
    add.mutate(input, { onSuccess: (result) => result.ok && form.reset() });
  }

  const fieldProps = (field: Field) => ({
    "aria-invalid": byField[field] ? true : undefined,
    "aria-describedby": byField[field] ? `${field}-error` : undefined,
  });
  const fieldError = (field: Field) =>
    byField[field] && (
      <p id={`${field}-error`} className="text-sm text-destructive">
        {byField[field]}
      </p>
    );

  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Add a sandbox account</h2>
        </CardTitle>
        <CardDescription>
          Pacer publishes to it once it is connected. Sandbox accounts are safe to try things: a new handle is created
          for you; an existing one needs the access token it was created with.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {showAlert && error && (
          <Alert variant="destructive">
            <CircleAlert aria-hidden />
            <AlertTitle>
              {error.code === "plan_limit_reached" ? "Plan limit reached" : "The account was not added"}
            </AlertTitle>
            <AlertDescription>{error.message}</AlertDescription>
          </Alert>
        )}
        <form onSubmit={onSubmit} aria-label="Add an account" className="grid items-start gap-4 sm:grid-cols-[10rem_1fr_1fr_auto]" noValidate>
          <div className="grid gap-2">
            <Label htmlFor="platform">Platform</Label>
            <select
              id="platform"
              name="platform"
              defaultValue="sandbox"
              className="h-9 rounded-md border border-input bg-transparent px-3 text-sm shadow-xs outline-none focus-visible:border-ring focus-visible:ring-[3px] focus-visible:ring-ring/50 aria-invalid:border-destructive"
              {...fieldProps("platform")}
            >
              {connectablePlatforms.map((id) => (
                <option key={id} value={id}>
                  {platformName(id)}
                </option>
              ))}
            </select>
            {fieldError("platform")}
          </div>
          <div className="grid gap-2">
            <Label htmlFor="handle">Handle</Label>
            <Input id="handle" name="handle" placeholder="@yourbrand" autoComplete="off" required {...fieldProps("handle")} />
            {fieldError("handle")}
          </div>
          <div className="grid gap-2">
            <Label htmlFor="displayName">
              Display name <span className="font-normal text-muted-foreground">(optional)</span>
            </Label>
            <Input id="displayName" name="displayName" placeholder="Your Brand" autoComplete="off" {...fieldProps("displayName")} />
            {fieldError("displayName")}
          </div>
          <div className="grid gap-2 sm:col-span-3">
            <Label htmlFor="accessToken">
              Access token <span className="font-normal text-muted-foreground">(only for an account that already exists)</span>
            </Label>
            <Input
              id="accessToken"
              name="accessToken"
              type="password"
              placeholder="sbx_…"
              autoComplete="off"
              {...fieldProps("accessToken")}
            />
            {fieldError("accessToken")}
          </div>
          <Button type="submit" className="sm:mt-6" disabled={limitReached || add.isPending}>
            <Plus aria-hidden />
            {add.isPending ? "Adding…" : "Add account"}
          </Button>
        </form>
      </CardContent>
    </Card>
  );
}
