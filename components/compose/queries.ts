// The composer's server data as TanStack Query queries: the platforms' text limits and the workspace's drafts.
import { queryOptions, useQueryClient } from "@tanstack/react-query";
import { getJson } from "@/lib/api/client";
import type { PlatformLimits } from "@/lib/queue/platform-limits";
import type { Draft } from "@/lib/drafts/input";
import type { TextRule } from "@/lib/posts/length";

export const platformLimitsQuery = queryOptions({
  queryKey: ["platforms", "limits"],
  queryFn: () => getJson<{ workspaceId: string; platforms: PlatformLimits[] }>("/api/platforms/limits"),
  staleTime: 5 * 60_000,
});

export const draftsQuery = queryOptions({
  queryKey: ["drafts"],
  queryFn: () => getJson<{ workspaceId: string; drafts: Draft[] }>("/api/drafts"),
});

/** Each platform's text rule, as lib/posts/length.ts takes it. */
export function textRules(platforms: PlatformLimits[] | undefined): Map<string, TextRule> {
  return new Map((platforms ?? []).map((p) => [p.platform, { platform: p.platform, name: p.name, limit: p.textLimit, unit: p.textUnit }]));
}

export function useRefreshDrafts() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: draftsQuery.queryKey });
}
