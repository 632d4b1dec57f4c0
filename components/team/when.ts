// How the team and audit pages show a time: in the user's zone (useTimeZone(), like every page).
import { formatInZone } from "@/components/time/time-zone";

/** A stored UTC time as the user reads it, with its zone, e.g. "Dec 1, 2026, 10:04 AM GMT+9". */
export function formatWhen(iso: string, timeZone: string): string {
  return formatInZone(iso, timeZone, { weekday: undefined });
}
