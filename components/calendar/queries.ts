// The calendar's server data and changes: one query per visible range and filter, and the calls that
// move an item, edit its post or cancel it (the same HTTP API scripts use).
import { keepPreviousData, queryOptions, useQueryClient } from "@tanstack/react-query";
import type { CalendarRange, RescheduledItem } from "@/lib/calendar/types";
import type { Post } from "@/lib/queue/types";
import { getJson, sendJson } from "@/lib/api/client";

export interface CalendarFilter {
  from: string;
  to: string;
  accountId?: string;
  platform?: string;
}

export function calendarQuery(filter: CalendarFilter) {
  const params = new URLSearchParams({ from: filter.from, to: filter.to });
  if (filter.accountId) params.set("accountId", filter.accountId);
  if (filter.platform) params.set("platform", filter.platform);
  return queryOptions({
    queryKey: ["calendar", filter],
    queryFn: () => getJson<CalendarRange>(`/api/queue/calendar?${params}`),
    // The previous range stays on screen while the next loads, so the grid does not flash empty.
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
}

/** After a move, an edit or a cancel, every range shown may be stale (and the queue page's lists). */
export function useRefreshCalendar() {
  const queryClient = useQueryClient();
  return () => Promise.all([queryClient.invalidateQueries({ queryKey: ["calendar"] }), queryClient.invalidateQueries({ queryKey: ["queue"] })]);
}

export const rescheduleItem = (id: number, scheduledFor: string) =>
  sendJson<{ items: RescheduledItem[] }>("POST", "/api/queue/reschedule", { itemIds: [id], scheduledFor });

export const editPostText = (postId: string, text: string) =>
  sendJson<{ post: Post }>("PATCH", `/api/queue/posts/${encodeURIComponent(postId)}`, { text });

export const cancelItem = (id: number) =>
  sendJson<{ cancelled: number; cancelRequested: number }>("POST", "/api/queue/cancel", { ids: [id] });
