// The queue page's server data as TanStack Query queries: the workspace's queue counts and its latest items.
import { queryOptions, useQueryClient } from "@tanstack/react-query";
import type { QueueItem, QueueStatusSummary } from "@/lib/queue/types";
import { getJson } from "@/lib/api/client";

/** How many items the page lists: the latest, newest first. */
export const LATEST = 50;

// Polling rather than Supabase Realtime: the local stack has no Realtime server, and a plain
// refetch goes through the same RLS-scoped route as everything else. Fast while work is moving.
const BUSY_MS = 2_000;
const IDLE_MS = 10_000;

export function isBusy(status: QueueStatusSummary | undefined): boolean {
  if (!status) return false;
  const { pending, processing, verifying } = status.counts;
  return pending + processing + verifying > 0;
}

export const queueStatusQuery = queryOptions({
  queryKey: ["queue", "status"],
  queryFn: () => getJson<QueueStatusSummary>("/api/queue/status"),
  refetchInterval: (query) => (isBusy(query.state.data) ? BUSY_MS : IDLE_MS),
});

/** The list polls at the status' pace: it is the status that knows whether anything is moving. */
export function queueItemsQuery(busy: boolean) {
  return queryOptions({
    queryKey: ["queue", "items"],
    queryFn: () => getJson<{ items: QueueItem[] }>(`/api/queue/items?limit=${LATEST}`),
    refetchInterval: busy ? BUSY_MS : IDLE_MS,
  });
}

/** After adding, cancelling, retrying or processing, both the counts and the list are stale. */
export function useRefreshQueue() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: ["queue"] });
}
