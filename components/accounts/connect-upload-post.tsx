"use client";
// "Connect Upload-Post": the workspace's API key (admins and owners), the key's profiles with their
// connected platforms to import as Pacer accounts, per-row import results, connect links and reconnect.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { CircleAlert, ExternalLink, KeyRound, RefreshCw } from "lucide-react";
import type { ImportResult, UploadPostOverview, UploadPostPlatform } from "@/lib/accounts/upload-post";
import { ApiError, failureMessage, getJson, sendJson } from "@/lib/api/client";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Checkbox } from "@/components/ui/checkbox";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { useTimeZone } from "@/components/time/time-zone";
import { shortTime } from "@/lib/time/relative";
import { platformName } from "./platforms";
import { useRefreshAccounts } from "./queries";

const overviewKey = ["upload-post"];

const OUTCOME_LABELS: Record<ImportResult["outcome"], string> = {
  added: "Added",
  already_connected: "Already in Pacer",
  refused_by_plan: "Plan limit",
  not_offered: "Not offered",
  not_connected: "Not connected",
  needs_reconnect: "Reconnect first",
  failed: "Not added",
};

const selectionId = (profile: string, platform: string) => `${profile}/${platform}`;

export function ConnectUploadPost() {
  const { timeZone } = useTimeZone();
  const queryClient = useQueryClient();
  const refreshAccounts = useRefreshAccounts();
  const overview = useQuery({
    queryKey: overviewKey,
    queryFn: () => getJson<UploadPostOverview>("/api/upload-post"),
    retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
  });
  const [problem, setProblem] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [results, setResults] = useState<ImportResult[] | null>(null);

  const refresh = () => Promise.all([queryClient.invalidateQueries({ queryKey: overviewKey }), refreshAccounts()]);
  const change = useMutation({
    mutationFn: (request: { method: "POST" | "PUT" | "DELETE"; url: string; body: unknown }) =>
      sendJson<Record<string, unknown>>(request.method, request.url, request.body),
    onMutate: () => setProblem(null),
    onError: (error) => setProblem(failureMessage(error)),
  });

  // Not enabled in this installation, or a viewer: nothing to offer here.
  if (overview.error instanceof ApiError && (overview.error.status === 404 || overview.error.status === 403)) return null;

  async function saveKey(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const apiKey = String(new FormData(form).get("apiKey") ?? "");
    await change.mutateAsync({ method: "PUT", url: "/api/upload-post/key", body: { apiKey } }).then(() => form.reset(), () => {});
    await refresh();
  }

  async function removeKey() {
    await change.mutateAsync({ method: "DELETE", url: "/api/upload-post/key", body: {} }).catch(() => {});
    await refresh();
  }

  async function importSelected() {
    const selections = [...selected].map((id) => {
      const [profile, platform] = id.split("/");
      return { profile, platform };
    });
    const answer = await change.mutateAsync({ method: "POST", url: "/api/upload-post/import", body: { selections } }).catch(() => null);
    if (answer) {
      setResults(answer.results as ImportResult[]);
      setSelected(new Set());
    }
    await refresh();
  }

  /** Opens Upload-Post's hosted page (it returns to this page). */
  async function connectMore(profile: string) {
    const answer = await change.mutateAsync({ method: "POST", url: "/api/upload-post/connect-link", body: { profile } }).catch(() => null);
    if (answer) window.location.assign(String(answer.url));
  }

  async function reconnect(accountId: string) {
    const answer = await change.mutateAsync({ method: "POST", url: "/api/upload-post/reconnect", body: { accountId } }).catch(() => null);
    if (answer && !answer.reconnected) window.location.assign(String(answer.url));
    await refresh();
  }

  const data = overview.data;
  const toggle = (id: string, on: boolean) =>
    setSelected((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Connect Upload-Post</h2>
        </CardTitle>
        <CardDescription>
          TikTok, Instagram, YouTube, LinkedIn, Facebook, X, Threads, Pinterest and Reddit accounts connected to your
          Upload-Post profiles become Pacer accounts, each counted by your plan.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {problem && (
          <Alert variant="destructive">
            <CircleAlert aria-hidden />
            <AlertTitle>Upload-Post</AlertTitle>
            <AlertDescription>{problem}</AlertDescription>
          </Alert>
        )}
        {!data ? (
          <p className="text-sm text-muted-foreground" role="status">
            {overview.error ? failureMessage(overview.error) : "Loading Upload-Post…"}
          </p>
        ) : (
          <>
            <section aria-label="Upload-Post API key" className="grid gap-2">
              <p className="text-sm">
                <KeyRound aria-hidden className="mr-1 inline size-4" />
                {data.key
                  ? `API key ending in ${data.key.last4}, set ${shortTime(data.key.setAt, timeZone)}.`
                  : data.canManageKey
                    ? "Paste the workspace's Upload-Post API key (Upload-Post dashboard → API Keys)."
                    : "An admin or owner of this workspace sets its Upload-Post API key first."}
              </p>
              {data.canManageKey && (
                <form onSubmit={saveKey} className="flex flex-wrap items-end gap-2" noValidate>
                  <div className="grid min-w-64 flex-1 gap-2">
                    <Label htmlFor="upload-post-key">{data.key ? "Replace the key" : "API key"}</Label>
                    <Input id="upload-post-key" name="apiKey" type="password" autoComplete="off" required />
                  </div>
                  <Button type="submit" disabled={change.isPending}>
                    {data.key ? "Replace key" : "Save key"}
                  </Button>
                  {data.key && (
                    <Button type="button" variant="outline" disabled={change.isPending} onClick={removeKey}>
                      Remove key
                    </Button>
                  )}
                </form>
              )}
              {data.key && data.canManageKey && (
                <p className="text-xs text-muted-foreground">
                  Removing the key moves the accounts that use it to “needs reconnect” until a key is set again.
                </p>
              )}
            </section>

            {data.problem && (
              <Alert variant="destructive">
                <CircleAlert aria-hidden />
                <AlertTitle>Upload-Post did not list the profiles</AlertTitle>
                <AlertDescription>{data.problem.message}</AlertDescription>
              </Alert>
            )}

            {data.key && !data.problem && (
              <>
                {data.profiles.map((profile) => (
                  <section key={profile.username} aria-label={`Profile ${profile.username}`} className="grid gap-2 rounded-md border p-3">
                    <div className="flex items-center justify-between gap-2">
                      <h3 className="font-medium">{profile.username}</h3>
                      <Button size="sm" variant="outline" disabled={change.isPending} onClick={() => connectMore(profile.username)}>
                        <ExternalLink aria-hidden />
                        Connect more accounts
                      </Button>
                    </div>
                    {profile.platforms.length === 0 && (
                      <p className="text-sm text-muted-foreground">No platforms connected to this profile on Upload-Post yet.</p>
                    )}
                    <ul className="grid gap-2">
                      {profile.platforms.map((p) => (
                        <PlatformRow
                          key={p.platform}
                          profile={profile.username}
                          platform={p}
                          checked={selected.has(selectionId(profile.username, p.platform))}
                          onToggle={toggle}
                          onReconnect={reconnect}
                          busy={change.isPending}
                        />
                      ))}
                    </ul>
                  </section>
                ))}
                <NewProfile onConnect={connectMore} busy={change.isPending} first={data.profiles.length === 0} />
                <div>
                  <Button disabled={selected.size === 0 || change.isPending} onClick={importSelected}>
                    {selected.size ? `Import ${selected.size} selected` : "Import selected"}
                  </Button>
                </div>
              </>
            )}

            {results && (
              <section aria-label="Import results" className="grid gap-1">
                <h3 className="text-sm font-medium">Import results</h3>
                <ul className="grid gap-1">
                  {results.map((r) => (
                    <li key={selectionId(r.profile, r.platform)} className="flex items-start gap-2 text-sm">
                      <Badge variant={r.outcome === "added" ? "default" : r.outcome === "already_connected" ? "secondary" : "destructive"}>
                        {OUTCOME_LABELS[r.outcome]}
                      </Badge>
                      <span>
                        {platformName(r.platform)} {r.handle ? `@${r.handle}` : ""} ({r.profile}): {r.message}
                      </span>
                    </li>
                  ))}
                </ul>
              </section>
            )}
          </>
        )}
      </CardContent>
    </Card>
  );
}

function PlatformRow(props: {
  profile: string;
  platform: UploadPostPlatform;
  checked: boolean;
  busy: boolean;
  onToggle: (id: string, on: boolean) => void;
  onReconnect: (accountId: string) => void;
}) {
  const { profile, platform: p } = props;
  const id = selectionId(profile, p.platform);
  const importable = p.offered && !p.account && !p.needsReconnect;
  return (
    <li className="flex flex-wrap items-center gap-2 text-sm">
      <Checkbox
        id={`up-${id}`}
        checked={props.checked}
        disabled={!importable}
        onChange={(event) => props.onToggle(id, event.currentTarget.checked)}
      />
      <Label htmlFor={`up-${id}`} className="font-normal">
        {platformName(p.platform)} @{p.handle}
      </Label>
      {p.account && <Badge variant="secondary">In Pacer</Badge>}
      {!p.offered && <Badge variant="outline">Not offered here</Badge>}
      {p.needsReconnect && <Badge variant="destructive">Reconnect on Upload-Post</Badge>}
      {p.account?.state === "needs_reconnect" && (
        <Button size="sm" variant="outline" disabled={props.busy} onClick={() => props.onReconnect(p.account!.id)}>
          <RefreshCw aria-hidden />
          Reconnect
        </Button>
      )}
    </li>
  );
}

/** A link for a profile not listed yet: Upload-Post creates it, then asks which platforms to connect. */
function NewProfile({ onConnect, busy, first }: { onConnect: (profile: string) => void; busy: boolean; first: boolean }) {
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const profile = String(new FormData(event.currentTarget).get("profile") ?? "").trim();
    if (profile) onConnect(profile);
  }
  return (
    <form onSubmit={submit} className="flex flex-wrap items-end gap-2">
      <div className="grid gap-2">
        <Label htmlFor="upload-post-profile">{first ? "Profile to connect accounts to" : "Another profile"}</Label>
        <Input id="upload-post-profile" name="profile" placeholder="my-brand" autoComplete="off" />
      </div>
      <Button type="submit" variant="outline" disabled={busy}>
        <ExternalLink aria-hidden />
        Connect accounts on Upload-Post
      </Button>
    </form>
  );
}
