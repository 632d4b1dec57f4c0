// The import page's server data: whether this workspace may import (and which plan would let it), and its latest imports.
import { queryOptions, useQueryClient } from "@tanstack/react-query";
import type { ImportAccess } from "@/lib/import/input";
import { getJson } from "@/lib/api/client";

export const importOverviewQuery = queryOptions({
  queryKey: ["imports"],
  queryFn: () => getJson<ImportAccess>("/api/queue/import"),
});

/** After an import, its record and the queue are both stale. */
export function useRefreshImports() {
  const queryClient = useQueryClient();
  return () => Promise.all([queryClient.invalidateQueries({ queryKey: ["imports"] }), queryClient.invalidateQueries({ queryKey: ["queue"] })]);
}
