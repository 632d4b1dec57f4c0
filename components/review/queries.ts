// The review queue as a TanStack Query query, polled like the queue page: quickly while anything waits for a person.
import { queryOptions, useQueryClient } from "@tanstack/react-query";
import type { ReviewQueue } from "@/lib/review";
import { getJson } from "@/lib/api/client";

const BUSY_MS = 5_000;
const IDLE_MS = 15_000;

export const reviewQuery = queryOptions({
  queryKey: ["review"],
  queryFn: () => getJson<ReviewQueue>("/api/review"),
  refetchInterval: (query) => {
    const d = query.state.data;
    return d && d.items.length + d.missingPosts.length + d.duplicatePosts.length + d.accounts.length > 0 ? BUSY_MS : IDLE_MS;
  },
});

/** A decision changes the review queue, the queue page and the accounts' health. */
export function useRefreshReview() {
  const queryClient = useQueryClient();
  return () =>
    Promise.all(["review", "queue", "health"].map((key) => queryClient.invalidateQueries({ queryKey: [key] })));
}
