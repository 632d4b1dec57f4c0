// Webhook endpoints and their delivery log, for admins and owners: the operations the routes and the
// page call. Reads go through RLS as the user; changes through the private functions of
// 20261204000600_webhooks.sql (run as the server's role inside the user's transaction, checking the
// user's claims). Nothing here sends a webhook: the worker does (./deliver.ts).
import { asUser, type Tx, type UserClaims } from "@/lib/db";
import { fromDatabaseError, notFound, PacerError, validationFailed } from "@/lib/api/errors";
import { encryptCredentials } from "@/lib/accounts/credentials";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { BlockedDestination, checkDestination, parseAllowedHosts } from "@/lib/connectors/outbound";
import { createEndpointInput, deliveryId, endpointId, updateEndpointInput } from "./input";
import { newWebhookSecret, secretHint } from "./signature";
import type { WebhookEventType } from "./events";

export interface WebhookEndpoint {
  id: string;
  workspaceId: string;
  url: string;
  description: string;
  events: WebhookEventType[];
  secretHint: string;
  enabled: boolean;
  disabledAt: string | null;
  /** Why it was disabled: the notice the page shows until someone re-enables it. */
  disabledReason: string | null;
  consecutiveFailures: number;
  lastSuccessAt: string | null;
  secretRotatedAt: string | null;
  createdAt: string;
}

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  nextAttemptAt: string | null;
  giveUpAt: string;
  lastAttemptAt: string | null;
  responseStatus: number | null;
  responseMs: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

const iso = (v: unknown) => (v == null ? null : new Date(v as string).toISOString());

function toEndpoint(r: Record<string, unknown>): WebhookEndpoint {
  return {
    id: r.id as string,
    workspaceId: r.workspace_id as string,
    url: r.url as string,
    description: r.description as string,
    events: r.events as WebhookEventType[],
    secretHint: r.secret_hint as string,
    enabled: r.enabled as boolean,
    disabledAt: iso(r.disabled_at),
    disabledReason: (r.disabled_reason as string | null) ?? null,
    consecutiveFailures: r.consecutive_failures as number,
    lastSuccessAt: iso(r.last_success_at),
    secretRotatedAt: iso(r.secret_rotated_at),
    createdAt: iso(r.created_at)!,
  };
}

function toDelivery(r: Record<string, unknown>): WebhookDelivery {
  return {
    id: String(r.id),
    endpointId: r.endpoint_id as string,
    eventId: r.event_id as string,
    eventType: r.event_type as string,
    status: r.status as WebhookDelivery["status"],
    attempts: r.attempts as number,
    nextAttemptAt: r.status === "pending" ? iso(r.next_attempt_at) : null,
    giveUpAt: iso(r.give_up_at)!,
    lastAttemptAt: iso(r.last_attempt_at),
    responseStatus: (r.response_status as number | null) ?? null,
    responseMs: (r.response_ms as number | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    deliveredAt: iso(r.delivered_at),
    createdAt: iso(r.created_at)!,
  };
}

const ENDPOINT_COLUMNS = "id, workspace_id, url, description, events, secret_hint, enabled, disabled_at, disabled_reason, consecutive_failures, last_success_at, secret_rotated_at, created_at";

const forbidden = () => new PacerError(403, "forbidden", "Only admins and owners of this workspace can manage its webhooks.");

/** Runs `fn` as the server's role inside the user's transaction: the functions it calls check the user's claims. */
async function asServer<T>(tx: Tx, fn: () => Promise<T>): Promise<T> {
  await tx`select set_config('role', 'pacer_worker', true)`;
  const result = await fn();
  await tx`select set_config('role', 'authenticated', true)`;
  return result;
}

/** In the user's transaction, with database errors turned into replies (404 for not yours, 403 for too weak a role). */
function inTransaction<T>(user: UserClaims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return asUser(user, async (tx) => {
    try {
      return await fn(tx);
    } catch (error) {
      if (error instanceof PacerError) throw error;
      if ((error as { code?: string }).code === "42501") throw forbidden();
      return fromDatabaseError(error);
    }
  });
}

/** The workspace asked for (or the user's own), refused below admin. */
async function adminWorkspace(tx: Tx, requested: string | null | undefined): Promise<string> {
  const ws = await resolveWorkspaceId(tx, requested);
  const [may] = await tx`select private.has_role_on_workspace(${ws}, 'admin') as yes`;
  if (!may.yes) throw forbidden();
  return ws;
}

const urlIssue = (message: string) => new PacerError(400, "validation_failed", `url: ${message}`, [{ path: "url", message }]);

/**
 * Where Pacer may send: https to a public address; plain http, or an internal address, only for a host
 * the operator allows (PACER_ALLOWED_HOSTS, as the local stack does). Checked again at every send.
 */
export async function checkEndpointUrl(url: string, env: Record<string, string | undefined> = process.env): Promise<void> {
  const allowed = parseAllowedHosts(env.PACER_ALLOWED_HOSTS);
  const parsed = new URL(url);
  const host = parsed.hostname.toLowerCase();
  const hostAllowed = allowed.has(host) || allowed.has(`${host}:${parsed.port || (parsed.protocol === "https:" ? "443" : "80")}`);
  if (parsed.protocol !== "https:" && !hostAllowed) throw urlIssue("A webhook URL must start with https://.");
  try {
    await checkDestination(parsed, allowed);
  } catch (error) {
    if (error instanceof BlockedDestination) {
      throw urlIssue("This URL points to a private, loopback or otherwise internal address; Pacer sends webhooks to public addresses only.");
    }
    throw urlIssue(`${host} could not be resolved; check the host name.`);
  }
}

export function listEndpoints(user: UserClaims, requestedWorkspaceId?: string | null) {
  return inTransaction(user, async (tx) => {
    const ws = await adminWorkspace(tx, requestedWorkspaceId);
    const rows = await tx.unsafe(`select ${ENDPOINT_COLUMNS} from public.webhook_endpoints where workspace_id = $1 order by created_at, id`, [ws]);
    return { workspaceId: ws, endpoints: rows.map(toEndpoint) };
  });
}

/** Creates an endpoint; the reply carries its secret, which is never shown again. */
export async function createEndpoint(user: UserClaims, body: unknown): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const parsed = createEndpointInput.safeParse(body);
  if (!parsed.success) throw validationFailed(parsed.error, "The webhook endpoint");
  const input = parsed.data;
  const secret = newWebhookSecret();
  const sealed = await encryptCredentials({ secret });
  const endpoint = await inTransaction(user, async (tx) => {
    const ws = await adminWorkspace(tx, input.workspaceId);
    // Asked after the role, so a weaker member learns nothing about what a URL resolves to.
    await checkEndpointUrl(input.url);
    const [row] = await asServer(
      tx,
      () => tx`select private.create_webhook_endpoint(${ws}, ${input.url}, ${input.description ?? ""}, ${input.events}, ${sealed}, ${secretHint(secret)}) as e`,
    );
    return toEndpoint(row.e);
  });
  return { endpoint, secret };
}

function parseEndpointId(id: string): string {
  if (!endpointId.safeParse(id).success) throw notFound("Webhook endpoint");
  return id;
}

export async function updateEndpoint(user: UserClaims, id: string, body: unknown): Promise<WebhookEndpoint> {
  parseEndpointId(id);
  const parsed = updateEndpointInput.safeParse(body);
  if (!parsed.success) throw validationFailed(parsed.error, "The change");
  const input = parsed.data;
  return inTransaction(user, async (tx) => {
    // The role is checked before anything about the URL is looked up.
    await asServer(tx, () => tx`select private.webhook_endpoint_workspace(${id})`);
    if (input.url !== undefined) await checkEndpointUrl(input.url);
    const [row] = await asServer(
      tx,
      () => tx`select private.update_webhook_endpoint(${id}, ${input.url ?? null}, ${input.description ?? null}, ${input.events ?? null}, ${input.enabled ?? null}) as e`,
    );
    return toEndpoint(row.e);
  });
}

export function deleteEndpoint(user: UserClaims, id: string): Promise<{ deleted: true }> {
  parseEndpointId(id);
  return inTransaction(user, async (tx) => {
    await asServer(tx, () => tx`select private.delete_webhook_endpoint(${id})`);
    return { deleted: true as const };
  });
}

/** A new secret at once, shown once; deliveries signed after this use it. */
export async function rotateSecret(user: UserClaims, id: string): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  parseEndpointId(id);
  const secret = newWebhookSecret();
  const sealed = await encryptCredentials({ secret });
  const endpoint = await inTransaction(user, async (tx) => {
    const [row] = await asServer(tx, () => tx`select private.rotate_webhook_secret(${id}, ${sealed}, ${secretHint(secret)}) as e`);
    return toEndpoint(row.e);
  });
  return { endpoint, secret };
}

/** Queues a ping event for this endpoint; the worker delivers it like any other. */
export function sendTestEvent(user: UserClaims, id: string): Promise<{ eventId: string }> {
  parseEndpointId(id);
  return inTransaction(user, async (tx) => {
    const [row] = await asServer(tx, () => tx`select private.queue_webhook_ping(${id}) as event_id`);
    return { eventId: row.event_id as string };
  });
}

export const DELIVERIES_PAGE = 50;

/** The endpoint's deliveries, newest first; `before` (a delivery id) pages back. */
export function listDeliveries(user: UserClaims, id: string, before?: string | null): Promise<{ deliveries: WebhookDelivery[] }> {
  parseEndpointId(id);
  if (before != null && !deliveryId.safeParse(before).success) {
    throw new PacerError(400, "validation_failed", "before must be a delivery id from an earlier page.", [{ path: "before", message: "Give a delivery id." }]);
  }
  return inTransaction(user, async (tx) => {
    // 404 for anyone outside the workspace, 403 below admin; RLS then shows the rows.
    await asServer(tx, () => tx`select private.webhook_endpoint_workspace(${id})`);
    const rows = await tx`
      select * from public.webhook_deliveries
      where endpoint_id = ${id} and (${before ?? null}::bigint is null or id < ${before ?? null}::bigint)
      order by id desc limit ${DELIVERIES_PAGE}`;
    return { deliveries: rows.map(toDelivery) };
  });
}

/** Retry now: due at once (a given-up delivery gets a fresh 24 hours). */
export function retryDelivery(user: UserClaims, id: string): Promise<{ delivery: WebhookDelivery }> {
  if (!deliveryId.safeParse(id).success) throw notFound("Webhook delivery");
  return inTransaction(user, async (tx) => {
    const [row] = await asServer(tx, () => tx`select private.retry_webhook_delivery(${id}::bigint) as d`);
    return { delivery: toDelivery(row.d) };
  });
}
