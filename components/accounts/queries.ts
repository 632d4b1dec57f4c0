// The accounts page's server data as TanStack Query queries: the workspace's accounts (all, or one
// page of a search), its account groups and its plan usage.
import { queryOptions, useQueryClient } from "@tanstack/react-query";
import type { Account, AccountPage } from "@/lib/accounts";
import type { AccountGroup } from "@/lib/accounts/groups";
import type { Usage } from "@/lib/workspaces";
import { getJson } from "@/lib/api/client";

/** Every live account (the composer, the calendar and the import read this). */
export const accountsQuery = queryOptions({
  queryKey: ["accounts"],
  queryFn: () => getJson<{ workspaceId: string; accounts: Account[] }>("/api/accounts"),
});

export interface AccountFilters {
  q: string;
  platform: string;
  state: string;
  health: string;
  groupId: string;
}

/** The query string of these filters (empty ones left out), plus any paging. */
export function accountSearch(filters: AccountFilters, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...filters, ...extra })) if (value) params.set(key, value);
  return params.toString();
}

/** One page of the accounts page's list. */
export const accountPageQuery = (filters: AccountFilters, cursor: string | null, limit: number) =>
  queryOptions({
    queryKey: ["accounts", "page", filters, cursor, limit],
    queryFn: () => getJson<AccountPage>(`/api/accounts?${accountSearch(filters, { limit: String(limit), ...(cursor ? { cursor } : {}) })}`),
    placeholderData: (previous) => previous,
  });

export const groupsQuery = queryOptions({
  queryKey: ["account-groups"],
  queryFn: () => getJson<{ workspaceId: string; groups: AccountGroup[] }>("/api/account-groups"),
});

export const usageQuery = queryOptions({
  queryKey: ["usage"],
  queryFn: () => getJson<Usage>("/api/workspace/usage"),
});

/** After adding, renaming, pausing or removing accounts, the lists, the groups and the usage are stale. */
export function useRefreshAccounts() {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: accountsQuery.queryKey }),
      queryClient.invalidateQueries({ queryKey: groupsQuery.queryKey }),
      queryClient.invalidateQueries({ queryKey: usageQuery.queryKey }),
    ]);
}
