"use client";
// The webhooks page: add an endpoint (its secret shown once), and per endpoint its events, a disabled
// notice with re-enable, test event, secret rotation, removal and the delivery log with retry-now.
import { When } from "@/components/time/when";
import { WhenOrNone } from "@/components/time/optional-when";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { CircleAlert, KeyRound, RotateCw, Send, Trash2 } from "lucide-react";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Checkbox } from "@/components/ui/checkbox";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { LoadState } from "@/components/ui/load-state";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { useTimeZone } from "@/components/time/time-zone";
import { ApiError, failureMessage } from "@/lib/api/client";
import { WEBHOOK_EVENTS, WEBHOOK_EVENT_DESCRIPTIONS } from "@/lib/webhooks/events";
import { createEndpointInput } from "@/lib/webhooks/input";
import type { WebhookEndpoint } from "@/lib/webhooks";
import {
  createEndpointCall,
  deleteEndpointCall,
  deliveriesQuery,
  endpointsQuery,
  patchEndpoint,
  retryDeliveryCall,
  rotateSecretCall,
  testEventCall,
} from "./queries";

export function WebhooksPage() {
  const endpoints = useQuery(endpointsQuery);
  // The secret of the endpoint just created or rotated: shown here once, never fetched again.
  const [secret, setSecret] = useState<{ endpointUrl: string; value: string } | null>(null);

  if (!endpoints.data) {
    if (endpoints.error instanceof ApiError && endpoints.error.code === "forbidden") {
      return (
        <Alert>
          <CircleAlert aria-hidden />
          <AlertTitle>Only admins and owners manage webhooks</AlertTitle>
          <AlertDescription>Ask an admin or the owner of this workspace to add or change its webhook endpoints.</AlertDescription>
        </Alert>
      );
    }
    return <LoadState what="webhook endpoints" error={endpoints.error} />;
  }
  return (
    <div className="grid grid-cols-1 gap-6">
      {secret && <SecretOnce url={secret.endpointUrl} secret={secret.value} onDone={() => setSecret(null)} />}
      <AddEndpoint workspaceId={endpoints.data.workspaceId} onCreated={(url, value) => setSecret({ endpointUrl: url, value })} />
      {endpoints.data.endpoints.length === 0 ? (
        <p className="text-sm text-muted-foreground">No endpoints yet. Add one above to hear about posts and accounts as they change.</p>
      ) : (
        endpoints.data.endpoints.map((endpoint) => (
          <EndpointCard key={endpoint.id} endpoint={endpoint} onSecret={(value) => setSecret({ endpointUrl: endpoint.url, value })} />
        ))
      )}
    </div>
  );
}

function SecretOnce({ url, secret, onDone }: { url: string; secret: string; onDone: () => void }) {
  return (
    <Alert>
      <KeyRound aria-hidden />
      <AlertTitle>Signing secret for {url}</AlertTitle>
      <AlertDescription>
        <p>Copy it into your receiver now: Pacer will not show it again. Verify each delivery&apos;s Pacer-Signature with it (docs/webhooks.md).</p>
        <code data-testid="webhook-secret" className="block break-all rounded bg-muted px-2 py-1 font-mono text-sm text-foreground">
          {secret}
        </code>
        <Button variant="outline" size="sm" className="mt-2" onClick={onDone}>
          I have copied it
        </Button>
      </AlertDescription>
    </Alert>
  );
}

function AddEndpoint({ workspaceId, onCreated }: { workspaceId: string; onCreated: (url: string, secret: string) => void }) {
  const queryClient = useQueryClient();
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<string[]>(["post.published", "post.failed"]);
  const [issues, setIssues] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: createEndpointCall,
    onSuccess: async (result) => {
      onCreated(result.endpoint.url, result.secret);
      setUrl("");
      setDescription("");
      await queryClient.invalidateQueries({ queryKey: ["webhooks"] });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.issues) setIssues(Object.fromEntries(error.issues.map((i) => [i.path.split(".")[0], i.message])));
      else setFailure(failureMessage(error));
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setIssues({});
    setFailure(null);
    const body = { workspaceId, url, description, events };
    // The same schema as the API, so the form says what the API would.
    const parsed = createEndpointInput.safeParse(body);
    if (!parsed.success) {
      setIssues(Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0] ?? "url"), i.message])));
      return;
    }
    create.mutate(body);
  }

  const fieldError = (name: string) =>
    issues[name] ? (
      <p id={`webhook-${name}-error`} className="text-sm text-destructive">
        {issues[name]}
      </p>
    ) : null;

  return (
    <Card>
      <CardHeader>
        <CardTitle>Add an endpoint</CardTitle>
        <CardDescription>Pacer sends each event you choose to this HTTPS URL, signed, from its worker, retrying for 24 hours.</CardDescription>
      </CardHeader>
      <CardContent>
        <form onSubmit={submit} className="grid gap-4" noValidate>
          <div className="grid gap-1.5">
            <Label htmlFor="webhook-url">Endpoint URL</Label>
            <Input
              id="webhook-url"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              placeholder="https://example.com/pacer-webhooks"
              aria-invalid={issues.url ? true : undefined}
              aria-describedby={issues.url ? "webhook-url-error" : undefined}
            />
            {fieldError("url")}
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor="webhook-description">Description (optional)</Label>
            <Input id="webhook-description" value={description} onChange={(e) => setDescription(e.target.value)} placeholder="CRM sync" />
            {fieldError("description")}
          </div>
          <fieldset className="grid gap-2" aria-describedby={issues.events ? "webhook-events-error" : undefined}>
            <legend className="mb-1 text-sm font-medium">Events</legend>
            {WEBHOOK_EVENTS.map((name) => (
              <div key={name} className="flex items-start gap-2">
                <Checkbox
                  id={`webhook-event-${name}`}
                  checked={events.includes(name)}
                  onChange={(e) => setEvents((list) => (e.target.checked ? [...list, name] : list.filter((x) => x !== name)))}
                />
                <Label htmlFor={`webhook-event-${name}`} className="grid gap-0.5 font-normal">
                  <span className="font-mono text-sm">{name}</span>
                  <span className="text-xs text-muted-foreground">{WEBHOOK_EVENT_DESCRIPTIONS[name]}</span>
                </Label>
              </div>
            ))}
            {fieldError("events")}
          </fieldset>
          {failure && (
            <p role="alert" className="text-sm text-destructive">
              {failure}
            </p>
          )}
          <div>
            <Button type="submit" disabled={create.isPending}>
              {create.isPending ? "Adding…" : "Add endpoint"}
            </Button>
          </div>
        </form>
      </CardContent>
    </Card>
  );
}

function EndpointCard({ endpoint, onSecret }: { endpoint: WebhookEndpoint; onSecret: (secret: string) => void }) {
  const queryClient = useQueryClient();
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["webhooks"] });
  const act = useMutation({
    mutationFn: async (action: "enable" | "disable" | "test" | "rotate" | "delete") => {
      if (action === "enable" || action === "disable") {
        await patchEndpoint(endpoint.id, { enabled: action === "enable" });
        return action === "enable" ? "Re-enabled: deliveries waiting for this endpoint go out again." : "Disabled: nothing is sent to it until you re-enable it.";
      }
      if (action === "test") {
        await testEventCall(endpoint.id);
        return "Test event queued: the worker sends it within a minute; watch the log below.";
      }
      if (action === "rotate") {
        onSecret((await rotateSecretCall(endpoint.id)).secret);
        return "New secret in use for every delivery from now on.";
      }
      await deleteEndpointCall(endpoint.id);
      return "Endpoint removed.";
    },
    onMutate: () => setMessage(null),
    onSuccess: async (text) => {
      setMessage({ text, error: false });
      await refresh();
    },
    onError: (error) => setMessage({ text: failureMessage(error), error: true }),
  });
  const label = endpoint.description || endpoint.url;

  return (
    <Card aria-label={`Endpoint ${endpoint.url}`} role="region">
      <CardHeader>
        <CardTitle className="flex flex-wrap items-center gap-2 break-all">
          {endpoint.url}
          <Badge variant={endpoint.enabled ? "secondary" : "destructive"}>{endpoint.enabled ? "Enabled" : "Disabled"}</Badge>
        </CardTitle>
        <CardDescription>
          {endpoint.description && <span>{endpoint.description} · </span>}
          Secret {endpoint.secretHint} · since <When at={endpoint.secretRotatedAt ?? endpoint.createdAt} />
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {!endpoint.enabled && (
          <Alert variant="destructive">
            <CircleAlert aria-hidden />
            <AlertTitle>This endpoint is disabled</AlertTitle>
            <AlertDescription>
              <p>{endpoint.disabledReason ?? "Disabled."}</p>
              <Button size="sm" className="mt-2" onClick={() => act.mutate("enable")} disabled={act.isPending}>
                Re-enable
              </Button>
            </AlertDescription>
          </Alert>
        )}
        <div className="flex flex-wrap gap-1">
          {endpoint.events.map((name) => (
            <Badge key={name} variant="outline" className="font-mono">
              {name}
            </Badge>
          ))}
        </div>
        <div className="flex flex-wrap gap-2">
          <Button variant="outline" size="sm" onClick={() => act.mutate("test")} disabled={act.isPending || !endpoint.enabled}>
            <Send aria-hidden /> Send test event
          </Button>
          <Button variant="outline" size="sm" onClick={() => act.mutate("rotate")} disabled={act.isPending}>
            <KeyRound aria-hidden /> Rotate secret
          </Button>
          {endpoint.enabled && (
            <Button variant="outline" size="sm" onClick={() => act.mutate("disable")} disabled={act.isPending}>
              Disable
            </Button>
          )}
          <Button
            variant="ghost"
            size="sm"
            aria-label={`Remove ${label}`}
            onClick={() => window.confirm(`Remove the endpoint ${endpoint.url} and its delivery log?`) && act.mutate("delete")}
            disabled={act.isPending}
          >
            <Trash2 aria-hidden /> Remove
          </Button>
        </div>
        {message && (
          <p role={message.error ? "alert" : "status"} className={message.error ? "text-sm text-destructive" : "text-sm text-muted-foreground"}>
            {message.text}
          </p>
        )}
        <DeliveryLog endpoint={endpoint} />
      </CardContent>
    </Card>
  );
}

const STATUS_LABEL = { pending: "Pending", delivered: "Delivered", failed: "Given up" } as const;

function DeliveryLog({ endpoint }: { endpoint: WebhookEndpoint }) {
  const queryClient = useQueryClient();
  const log = useQuery(deliveriesQuery(endpoint.id));
  const { timeZone } = useTimeZone();
  const [failure, setFailure] = useState<string | null>(null);
  const retry = useMutation({
    mutationFn: retryDeliveryCall,
    onMutate: () => setFailure(null),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["webhooks", "deliveries", endpoint.id] }),
    onError: (error) => setFailure(failureMessage(error)),
  });
  if (!log.data) return <LoadState what="deliveries" error={log.error} />;
  if (log.data.deliveries.length === 0) return <p className="text-sm text-muted-foreground">No deliveries yet.</p>;
  return (
    <div className="grid gap-2">
      {failure && (
        <p role="alert" className="text-sm text-destructive">
          {failure}
        </p>
      )}
      <div className="overflow-x-auto">
        <Table data-cards aria-label={`Deliveries to ${endpoint.url}`}>
          <TableHeader>
            <TableRow>
              <TableHead>Event</TableHead>
              <TableHead>Status</TableHead>
              <TableHead>Attempts</TableHead>
              <TableHead>Answer</TableHead>
              <TableHead>Last attempt ({timeZone})</TableHead>
              <TableHead>Next attempt ({timeZone})</TableHead>
              <TableHead>
                <span className="sr-only">Actions</span>
              </TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {log.data.deliveries.map((d) => (
              <TableRow key={d.id}>
                <TableCell data-label="Event">
                  <span className="font-mono text-xs">{d.eventType}</span>
                  <span className="block font-mono text-xs wrap-anywhere text-muted-foreground">
                    <span className="font-sans">Pacer-Event-Id </span>
                    {d.eventId}
                  </span>
                </TableCell>
                <TableCell data-label="Status">
                  <Badge variant={d.status === "delivered" ? "secondary" : d.status === "failed" ? "destructive" : "outline"}>{STATUS_LABEL[d.status]}</Badge>
                </TableCell>
                <TableCell data-label="Attempts">{d.attempts}</TableCell>
                <TableCell data-label="Answer" className="max-w-xs whitespace-normal">
                  {d.responseStatus ? `HTTP ${d.responseStatus}` : d.attempts ? "No answer" : "—"}
                  {d.responseMs != null && <span className="text-muted-foreground"> · {d.responseMs} ms</span>}
                  {d.lastError && <span className="block text-xs text-muted-foreground">{d.lastError}</span>}
                </TableCell>
                <TableCell data-label={`Last attempt (${timeZone})`}>
                  <WhenOrNone at={d.lastAttemptAt} />
                </TableCell>
                <TableCell data-label={`Next attempt (${timeZone})`}>
                  <WhenOrNone at={d.nextAttemptAt} />
                </TableCell>
                <TableCell>
                  <Button variant="outline" size="sm" onClick={() => retry.mutate(d.id)} disabled={retry.isPending}>
                    <RotateCw aria-hidden /> Retry now
                  </Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </div>
    </div>
  );
}
