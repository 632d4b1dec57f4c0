"use client";
// API keys: make one (its secret is shown once, here), see each key's scopes and last use, revoke one.
// The form checks with the same zod schema the route parses (lib/api-keys/input.ts).
import { useState, type FormEvent } from "react";
import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Check, Copy, KeyRound } from "lucide-react";
import { failureMessage, getJson, sendJson } from "@/lib/api/client";
import { API_KEY_SCOPES, SCOPE_DESCRIPTIONS, createApiKeyInput, type ApiKey, type ApiKeyScope } from "@/lib/api-keys/input";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Checkbox } from "@/components/ui/checkbox";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { LoadState } from "@/components/ui/load-state";
import { NativeSelect } from "@/components/ui/native-select";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { When } from "@/components/time/when";
import { WhenOrNone } from "@/components/time/optional-when";

const keysQuery = { queryKey: ["api-keys"], queryFn: () => getJson<{ workspaceId: string; keys: ApiKey[] }>("/api/keys") };

const EXPIRIES = [
  { value: "", label: "Never" },
  { value: "30", label: "In 30 days" },
  { value: "90", label: "In 90 days" },
  { value: "365", label: "In a year" },
];

export function ApiKeysPage() {
  const keys = useQuery(keysQuery);
  const [made, setMade] = useState<{ name: string; secret: string } | null>(null);
  return (
    <div className="grid grid-cols-1 gap-6">
      {made ? <NewSecret made={made} onDone={() => setMade(null)} /> : <CreateKeyForm onMade={setMade} />}
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Keys</h2>
          </CardTitle>
          <CardDescription>
            A key acts as the person who made it, only in this workspace and only within its scopes; it stops working when
            revoked, when it expires, or when its maker leaves the workspace. Send it as{" "}
            <code className="rounded bg-muted px-1 text-foreground">Authorization: Bearer pk_…</code> — see the{" "}
            <Link href="/dashboard/api-reference" className="underline underline-offset-4">
              API reference
            </Link>
            .
          </CardDescription>
        </CardHeader>
        <CardContent>{keys.data ? <KeysTable keys={keys.data.keys} /> : <LoadState what="the API keys" error={keys.error} />}</CardContent>
      </Card>
    </div>
  );
}

function CreateKeyForm({ onMade }: { onMade: (made: { name: string; secret: string }) => void }) {
  const queryClient = useQueryClient();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: (body: unknown) => sendJson<{ key: ApiKey; secret: string }>("POST", "/api/keys", body),
    onSuccess: async (result) => {
      onMade({ name: result.key.name, secret: result.secret });
      await queryClient.invalidateQueries({ queryKey: ["api-keys"] });
    },
    onError: (e) => setErrors({ form: failureMessage(e) }),
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const days = Number(form.get("expiry") || 0);
    const body = {
      name: String(form.get("name") ?? ""),
      scopes: API_KEY_SCOPES.filter((s) => form.get(`scope-${s}`) === "on"),
      expiresAt: days ? new Date(Date.now() + days * 86_400_000).toISOString() : null,
    };
    const parsed = createApiKeyInput.safeParse(body);
    if (!parsed.success) {
      setErrors(Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0] ?? "form"), i.message])));
      return;
    }
    setErrors({});
    create.mutate(parsed.data);
  }

  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Make a key</h2>
        </CardTitle>
        <CardDescription>For a program that calls Pacer&apos;s API. You see the key once, right after making it.</CardDescription>
      </CardHeader>
      <CardContent>
        <form onSubmit={submit} className="grid max-w-xl gap-4" noValidate>
          <div className="grid gap-2">
            <Label htmlFor="key-name">Name</Label>
            <Input id="key-name" name="name" placeholder="e.g. Nightly CSV import" maxLength={100} aria-invalid={!!errors.name} aria-describedby={errors.name ? "key-name-error" : undefined} />
            {errors.name && <p id="key-name-error" className="text-sm text-destructive">{errors.name}</p>}
          </div>
          <fieldset className="grid gap-2">
            <legend className="mb-1 text-sm font-medium">Scopes</legend>
            {API_KEY_SCOPES.map((scope) => (
              <label key={scope} className="flex items-start gap-2 text-sm">
                <Checkbox name={`scope-${scope}`} defaultChecked={scope === "read"} className="mt-0.5" aria-label={`${scope} scope`} />
                <span>
                  <span className="font-medium">{scope}</span> — {SCOPE_DESCRIPTIONS[scope]}
                </span>
              </label>
            ))}
            {errors.scopes && <p className="text-sm text-destructive">{errors.scopes}</p>}
          </fieldset>
          <div className="grid max-w-xs gap-2">
            <Label htmlFor="key-expiry">Expires</Label>
            <NativeSelect id="key-expiry" name="expiry" defaultValue="">
              {EXPIRIES.map((e) => (
                <option key={e.value} value={e.value}>
                  {e.label}
                </option>
              ))}
            </NativeSelect>
            {errors.expiresAt && <p className="text-sm text-destructive">{errors.expiresAt}</p>}
          </div>
          {errors.form && (
            <p role="alert" className="text-sm text-destructive">
              {errors.form}
            </p>
          )}
          <div>
            <Button type="submit" disabled={create.isPending}>
              <KeyRound aria-hidden />
              {create.isPending ? "Making…" : "Make key"}
            </Button>
          </div>
        </form>
      </CardContent>
    </Card>
  );
}

function NewSecret({ made, onDone }: { made: { name: string; secret: string }; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <Card className="border-primary">
      <CardHeader>
        <CardTitle>
          <h2>Your new key “{made.name}”</h2>
        </CardTitle>
        <CardDescription>Copy it now and keep it somewhere safe: Pacer stores only a fingerprint of it and cannot show it again.</CardDescription>
      </CardHeader>
      <CardContent className="grid gap-3">
        <div className="flex gap-2">
          <Input readOnly value={made.secret} aria-label="New API key" className="font-mono" onFocus={(e) => e.currentTarget.select()} />
          <Button
            type="button"
            variant="outline"
            onClick={async () => {
              await navigator.clipboard?.writeText(made.secret).catch(() => {});
              setCopied(true);
            }}
          >
            {copied ? <Check aria-hidden /> : <Copy aria-hidden />}
            {copied ? "Copied" : "Copy"}
          </Button>
        </div>
        <div>
          <Button type="button" onClick={onDone}>
            I have copied it
          </Button>
        </div>
      </CardContent>
    </Card>
  );
}

const STATUS_VARIANT = { active: "default", expired: "secondary", revoked: "destructive" } as const;

function KeysTable({ keys }: { keys: ApiKey[] }) {
  if (keys.length === 0) {
    return <p className="rounded-lg border border-dashed p-6 text-center text-sm text-muted-foreground">No API keys yet.</p>;
  }
  return (
    <Table data-cards aria-label="API keys">
      <TableHeader>
        <TableRow>
          <TableHead>Name</TableHead>
          <TableHead>Key</TableHead>
          <TableHead>Scopes</TableHead>
          <TableHead>Made</TableHead>
          <TableHead>Last used</TableHead>
          <TableHead>Expires</TableHead>
          <TableHead>Status</TableHead>
          <TableHead>
            <span className="sr-only">Actions</span>
          </TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {keys.map((key) => (
          <TableRow key={key.id} data-key-id={key.id}>
            <TableCell className="font-medium">{key.name}</TableCell>
            <TableCell data-label="Key" className="font-mono text-xs">{key.prefix}…</TableCell>
            <TableCell data-label="Scopes">
              <div className="flex flex-wrap gap-1">
                {key.scopes.map((s: ApiKeyScope) => (
                  <Badge key={s} variant="outline">
                    {s}
                  </Badge>
                ))}
              </div>
            </TableCell>
            <TableCell data-label="Made">
              <When at={key.createdAt} />
              <span className="block text-xs text-muted-foreground">{key.createdByYou ? "by you" : "by another member"}</span>
            </TableCell>
            <TableCell data-label="Last used">
              <WhenOrNone at={key.lastUsedAt} none="Never" />
            </TableCell>
            <TableCell data-label="Expires">
              <WhenOrNone at={key.expiresAt} none="Never" />
            </TableCell>
            <TableCell data-label="Status">
              <Badge variant={STATUS_VARIANT[key.status]}>{key.status}</Badge>
            </TableCell>
            <TableCell className="text-right">{key.status === "active" && <RevokeButton apiKey={key} />}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/** Two steps, so a stray click does not break a running program. */
function RevokeButton({ apiKey }: { apiKey: ApiKey }) {
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const revoke = useMutation({
    mutationFn: () => sendJson("DELETE", `/api/keys/${apiKey.id}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["api-keys"] }),
    onError: (e) => setError(failureMessage(e)),
  });
  return (
    <div className="grid justify-items-end gap-1">
      {confirming ? (
        <div className="flex gap-2">
          <Button size="sm" variant="destructive" onClick={() => revoke.mutate()} disabled={revoke.isPending}>
            Revoke “{apiKey.name}”
          </Button>
          <Button size="sm" variant="outline" onClick={() => setConfirming(false)}>
            Keep
          </Button>
        </div>
      ) : (
        <Button size="sm" variant="outline" onClick={() => setConfirming(true)}>
          Revoke
        </Button>
      )}
      {error && (
        <p role="alert" className="text-sm text-destructive">
          {error}
        </p>
      )}
    </div>
  );
}
