// The ops page's server data: the installation's metrics over a window and the schedule's state, polled.
import { queryOptions } from "@tanstack/react-query";
import type { OpsMetrics } from "@/lib/ops/metrics";
import type { SchedulerStatus } from "@/lib/ops/scheduler";
import { ApiError, getJson } from "@/lib/api/client";

// The metrics are aggregates over a window: a slower pace than the queue's is plenty.
const POLL_MS = 15_000;

// A non-operator's 403 is an answer, not a failure to retry.
const refused = (error: unknown) => error instanceof ApiError && error.status === 403;
const noRetryWhenRefused = (failures: number, error: Error) => !refused(error) && failures < 3;
// Polling stops only for a refusal; after any other failure (a deploy, a blip) it goes on, so the
// page never freezes on old figures.
const pollUnlessRefused = (query: { state: { error: unknown } }) => (refused(query.state.error) ? false : POLL_MS);

export function opsMetricsQuery(window: string) {
  return queryOptions({
    queryKey: ["ops", "metrics", window],
    queryFn: () => getJson<OpsMetrics>(`/api/ops/metrics?window=${encodeURIComponent(window)}`),
    refetchInterval: pollUnlessRefused,
    retry: noRetryWhenRefused,
  });
}

export const schedulerQuery = queryOptions({
  queryKey: ["ops", "scheduler"],
  queryFn: () => getJson<SchedulerStatus>("/api/ops/scheduler"),
  refetchInterval: pollUnlessRefused,
  retry: noRetryWhenRefused,
});
