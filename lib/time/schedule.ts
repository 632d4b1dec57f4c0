// The rule for a schedule in the past, in one place for every way a time enters Pacer (the API, the
// composer, the calendar, approvals, CSV import). A time more than PAST_TOLERANCE_MS ago is refused
// unless the sender says to publish it now; a time a little in the past is clock skew between the
// sender's clock and ours (or the seconds a form took to send) and is taken as now. Pure (no I/O).
import { relativeTime, shortTime } from "./relative";

/** How far in the past a schedule may be and still be taken as now: clocks disagree by that much. */
export const PAST_TOLERANCE_MS = 5 * 60_000;

/** What to do with a time already past: refuse it (the default) or publish now. */
export const IF_PAST = ["refuse", "publish_now"] as const;
export type IfPast = (typeof IF_PAST)[number];

/** True when `at` is further in the past than clock skew explains, i.e. refused unless ifPast is publish_now. */
export function isPastSchedule(at: string | Date | null | undefined, now: number = Date.now()): boolean {
  if (at === null || at === undefined) return false;
  const ms = new Date(at).getTime();
  return Number.isFinite(ms) && ms < now - PAST_TOLERANCE_MS;
}

/** True when `at` is before now at all (the composer asks about any past time; the API forgives skew). */
export function hasPassed(at: string | Date | null | undefined, now: number = Date.now()): boolean {
  if (at === null || at === undefined) return false;
  const ms = new Date(at).getTime();
  return Number.isFinite(ms) && ms < now;
}

/** "3 h ago": how long ago a past schedule was, for messages. */
export const howLongAgo = (at: string | Date, now: number = Date.now()) => relativeTime(at, now);

/**
 * The API's message for scheduledFor in the past (the field's issue and the 422's text). `optional`:
 * whether the request may leave scheduledFor out (a reschedule may not).
 */
export function pastScheduleMessage(at: string, now: number = Date.now(), optional = true): string {
  const choices = optional ? `send a future time, or leave scheduledFor out to publish now, or set ifPast: "publish_now"` : `send a future time, or set ifPast: "publish_now" to publish now`;
  return `${at} is in the past (${howLongAgo(at, now)}); ${choices}.`;
}

/** What a page says of a time already past, in the user's zone: "Dec 1, 9:00 AM EST is in the past (3 h ago)." */
export function pastChoiceMessage(at: string, timeZone: string, now: number = Date.now()): string {
  return `${shortTime(at, timeZone, now)} is in the past (${howLongAgo(at, now)}).`;
}
