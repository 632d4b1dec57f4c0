// The webhooks page's server data as TanStack Query queries, and the calls its buttons make.
import { queryOptions } from "@tanstack/react-query";
import { ApiError, getJson, sendJson } from "@/lib/api/client";
import type { WebhookDelivery, WebhookEndpoint } from "@/lib/webhooks";

export const endpointsQuery = queryOptions({
  queryKey: ["webhooks", "endpoints"],
  queryFn: () => getJson<{ workspaceId: string; endpoints: WebhookEndpoint[] }>("/api/webhooks"),
  refetchInterval: 15_000,
});

/** The log polls: the worker sends deliveries within seconds (or at the next minute's run). */
export function deliveriesQuery(endpointId: string) {
  return queryOptions({
    queryKey: ["webhooks", "deliveries", endpointId],
    queryFn: () => getJson<{ deliveries: WebhookDelivery[] }>(`/api/webhooks/${encodeURIComponent(endpointId)}/deliveries`),
    refetchInterval: 3_000,
  });
}

/** PATCH an endpoint (lib/api/client has no PATCH; the reply is read the same way). */
export async function patchEndpoint(id: string, body: unknown): Promise<{ endpoint: WebhookEndpoint }> {
  const response = await fetch(`/api/webhooks/${encodeURIComponent(id)}`, {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    cache: "no-store",
  });
  const reply = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, reply?.error?.code ?? "unexpected", reply?.error?.message ?? `Saving failed with status ${response.status}.`, reply?.error?.issues);
  }
  return reply;
}

export const createEndpointCall = (body: unknown) => sendJson<{ endpoint: WebhookEndpoint; secret: string }>("POST", "/api/webhooks", body);
export const deleteEndpointCall = (id: string) => sendJson<{ deleted: true }>("DELETE", `/api/webhooks/${encodeURIComponent(id)}`);
export const rotateSecretCall = (id: string) => sendJson<{ endpoint: WebhookEndpoint; secret: string }>("POST", `/api/webhooks/${encodeURIComponent(id)}/rotate-secret`);
export const testEventCall = (id: string) => sendJson<{ eventId: string }>("POST", `/api/webhooks/${encodeURIComponent(id)}/test`);
export const retryDeliveryCall = (id: string) => sendJson<{ delivery: WebhookDelivery }>("POST", `/api/webhooks/deliveries/${encodeURIComponent(id)}/retry`);
