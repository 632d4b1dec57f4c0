// The team page's data as TanStack Query queries, and its changes (PATCH included) as JSON calls.
import { queryOptions, useQueryClient } from "@tanstack/react-query";
import { ApiError, getJson } from "@/lib/api/client";
import type { Invitation, Team } from "@/lib/team";

const qs = (workspaceId?: string) => (workspaceId ? `?workspaceId=${encodeURIComponent(workspaceId)}` : "");

export const teamQuery = (workspaceId?: string) =>
  queryOptions({ queryKey: ["team", workspaceId ?? "default"], queryFn: () => getJson<Team>(`/api/team/members${qs(workspaceId)}`) });

export const invitationsQuery = (workspaceId?: string) =>
  queryOptions({
    queryKey: ["team", workspaceId ?? "default", "invitations"],
    queryFn: () => getJson<{ invitations: Invitation[] }>(`/api/team/invitations${qs(workspaceId)}`),
  });

/** A change to the team; a refusal throws an ApiError with the API's code and message. */
export async function teamChange<T>(method: "POST" | "PATCH" | "DELETE", url: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  if (response.status === 204) return undefined as T;
  const json = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, json?.error?.code ?? "unexpected", json?.error?.message ?? `${method} ${url} failed.`, json?.error?.issues);
  }
  return json as T;
}

export function useRefreshTeam() {
  const queryClient = useQueryClient();
  // The audit page shows each change too.
  return () => Promise.all(["team", "audit"].map((key) => queryClient.invalidateQueries({ queryKey: [key] })));
}
