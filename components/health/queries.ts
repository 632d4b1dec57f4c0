// The health pages' server data as TanStack Query queries, polled like the queue page's.
import { queryOptions, useQueryClient } from "@tanstack/react-query";
import { getJson } from "@/lib/api/client";
import type { AccountHealth, HealthOverview, HealthRule } from "./types";

// Polling rather than Realtime (see components/queue/queries.ts). Scans run every few minutes, so
// a quick pace only while something needs a person (an open warning or critical alert).
const BUSY_MS = 5_000;
const IDLE_MS = 15_000;

export const healthOverviewQuery = queryOptions({
  queryKey: ["health", "overview"],
  queryFn: () => getJson<HealthOverview>("/api/accounts/health"),
  refetchInterval: (query) => {
    const open = query.state.data?.openAlerts;
    return open && open.warning + open.critical > 0 ? BUSY_MS : IDLE_MS;
  },
});

export const healthRulesQuery = queryOptions({
  queryKey: ["health", "rules"],
  queryFn: () => getJson<{ rules: HealthRule[] }>("/api/accounts/health/rules"),
});

export function accountHealthQuery(accountId: string, days: number) {
  return queryOptions({
    queryKey: ["health", "account", accountId, days],
    queryFn: () => getJson<AccountHealth>(`/api/accounts/${encodeURIComponent(accountId)}/health?days=${days}`),
    refetchInterval: IDLE_MS,
  });
}

/** A pause, resume, acknowledgement, release or scan changes what every health view shows. */
export function useRefreshHealth() {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ["health"] }),
      queryClient.invalidateQueries({ queryKey: ["review"] }),
      queryClient.invalidateQueries({ queryKey: ["accounts"] }),
    ]);
}
