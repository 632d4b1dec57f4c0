// The queue page's server data as TanStack Query queries: the workspace's queue counts, pages of its
// items (filtered, searched, a cursor per page) and one item's detail.
import { infiniteQueryOptions, queryOptions, useQueryClient } from "@tanstack/react-query";
import type { QueueItemDetail, QueuePage, QueueStatus, QueueStatusSummary } from "@/lib/queue/types";
import { getJson } from "@/lib/api/client";

/** Items per page; "Load more" fetches the next. */
export const PAGE_SIZE = 50;

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

/** What the list shows: the page's filters, as GET /api/queue/items takes them. */
export interface QueueFilters {
  status: QueueStatus | "";
  accountId: string;
  platform: string;
  /** ISO instants (the page turns the day pickers into them in the user's zone). */
  from: string;
  to: string;
  q: string;
  order: "newest" | "oldest";
}

export const NO_FILTERS: QueueFilters = { status: "", accountId: "", platform: "", from: "", to: "", q: "", order: "newest" };

/** The filters that are set, without the order: the body of "all matching" and the query string. */
export function activeFilters(f: QueueFilters): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ["status", "accountId", "platform", "from", "to", "q"] as const) if (f[key].trim()) out[key] = f[key].trim();
  return out;
}

/** The list polls at the status' pace: it is the status that knows whether anything is moving. */
export function queuePagesQuery(filters: QueueFilters, busy: boolean) {
  return infiniteQueryOptions({
    queryKey: ["queue", "items", filters],
    queryFn: ({ pageParam }) => {
      const params = new URLSearchParams({ ...activeFilters(filters), order: filters.order, limit: String(PAGE_SIZE) });
      if (pageParam) params.set("cursor", pageParam);
      return getJson<QueuePage>(`/api/queue/items?${params}`);
    },
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    refetchInterval: busy ? BUSY_MS : IDLE_MS,
  });
}

export function queueItemQuery(id: number) {
  return queryOptions({
    queryKey: ["queue", "item", id],
    queryFn: () => getJson<QueueItemDetail>(`/api/queue/items/${id}`),
  });
}

/** After adding, cancelling, retrying or processing, the counts, the list and any open detail are stale. */
export function useRefreshQueue() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: ["queue"] });
}
