// Which time zone the dashboard shows and takes times in — the user's saved setting
// (GET /api/me/settings), else the browser's — in one place, so every page agrees. Pages call
// useTimeZone(); conversions between wall times and instants are lib/time/wall-time.ts.
import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { getJson, sendJson } from "@/lib/api/client";
import type { UserSettings } from "@/lib/settings/input";

/** The zone this browser runs in (the default until the user saves one). */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export const settingsQuery = queryOptions({
  queryKey: ["me", "settings"],
  queryFn: () => getJson<UserSettings>("/api/me/settings"),
  staleTime: 60_000,
});

export interface TimeZoneChoice {
  /** The zone to show times in and read entered times in. */
  timeZone: string;
  /** True when it is the user's saved setting; false while it is only the browser's. */
  saved: boolean;
  browserTimeZone: string;
  /** True until the saved setting is known: times shown meanwhile are in the browser's zone. */
  loading: boolean;
  /** Save a zone as the user's setting; rejects with the API's error (an ApiError naming timeZone). */
  save: (timeZone: string) => Promise<UserSettings>;
  saving: boolean;
}

export function useTimeZone(): TimeZoneChoice {
  const queryClient = useQueryClient();
  const settings = useQuery(settingsQuery);
  const save = useMutation({
    mutationFn: (timeZone: string) => sendJson<UserSettings>("PUT", "/api/me/settings", { timeZone }),
    onSuccess: (saved) => queryClient.setQueryData(settingsQuery.queryKey, saved),
  });
  const browser = browserTimeZone();
  const saved = settings.data?.timeZone ?? null;
  return {
    timeZone: saved ?? browser,
    saved: saved !== null,
    browserTimeZone: browser,
    loading: settings.isPending,
    save: save.mutateAsync,
    saving: save.isPending,
  };
}

/** An instant as a person in `timeZone` reads it, e.g. "Wed, Dec 2, 2026, 9:00 AM CET". */
export function formatInZone(instant: string | Date, timeZone: string, options: Intl.DateTimeFormatOptions = {}): string {
  return new Intl.DateTimeFormat("en", {
    timeZone,
    weekday: "short",
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZoneName: "short",
    ...options,
  }).format(new Date(instant));
}
