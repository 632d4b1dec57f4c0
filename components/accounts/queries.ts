// The accounts page's server data as TanStack Query queries: the workspace's accounts and its plan usage.
import { queryOptions, useQueryClient } from "@tanstack/react-query";
import type { Account } from "@/lib/accounts";
import type { Usage } from "@/lib/workspaces";
import { getJson } from "@/lib/api/client";

export const accountsQuery = queryOptions({
  queryKey: ["accounts"],
  queryFn: () => getJson<{ workspaceId: string; accounts: Account[] }>("/api/accounts"),
});

export const usageQuery = queryOptions({
  queryKey: ["usage"],
  queryFn: () => getJson<Usage>("/api/workspace/usage"),
});

/** After adding, renaming or removing an account, both the list and the usage are stale. */
export function useRefreshAccounts() {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: accountsQuery.queryKey }),
      queryClient.invalidateQueries({ queryKey: usageQuery.queryKey }),
    ]);
}
