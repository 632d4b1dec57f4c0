// The billing page's server data as TanStack Query queries, and the refresh after a plan change.
import { queryOptions, useQueryClient } from "@tanstack/react-query";
import type { BillingOverview } from "@/lib/billing/overview";
import { accountsQuery, usageQuery } from "@/components/accounts/queries";

export const billingQuery = queryOptions({
  queryKey: ["billing"],
  queryFn: async (): Promise<BillingOverview> => {
    const response = await fetch("/api/billing", { cache: "no-store" });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error(body?.error?.message ?? `Loading billing failed with status ${response.status}.`);
    return body as BillingOverview;
  },
});

export { usageQuery };

/** A plan change moves the limit, the usage and possibly accounts' states: all of it is stale. */
export function useRefreshBilling() {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: billingQuery.queryKey }),
      queryClient.invalidateQueries({ queryKey: usageQuery.queryKey }),
      queryClient.invalidateQueries({ queryKey: accountsQuery.queryKey }),
    ]);
}
