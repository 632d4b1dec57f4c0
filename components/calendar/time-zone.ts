// The one place the calendar learns the user's time zone, and converts between instants and the wall
// clock there. FullCalendar runs in UTC and is handed wall-clock times, so any zone works without a
// time-zone plugin; swapping userTimeZone() for the user's setting changes every time on the page.

/** The zone the calendar shows times in: the browser's, until users choose their own. */
export function userTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

const partsFormats = new Map<string, Intl.DateTimeFormat>();

function wallParts(instant: Date, timeZone: string) {
  let f = partsFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    partsFormats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(instant).map((x) => [x.type, x.value]));
  return { year: +p.year, month: +p.month, day: +p.day, hour: +p.hour, minute: +p.minute, second: +p.second };
}

/** The wall clock in `timeZone` at `instant`, as a Date whose UTC fields are that wall clock (FullCalendar in UTC reads it so). */
export function toWallClock(instant: Date | string, timeZone = userTimeZone()): Date {
  const w = wallParts(new Date(instant), timeZone);
  return new Date(Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second));
}

/** The instant at which `timeZone`'s wall clock shows `wall`'s UTC fields (the inverse of toWallClock). */
export function fromWallClock(wall: Date, timeZone = userTimeZone()): Date {
  // The zone's offset at a guess, then again at the answer: right across a daylight-saving change.
  const offsetAt = (ms: number) => toWallClock(new Date(ms), timeZone).getTime() - ms;
  const guess = wall.getTime() - offsetAt(wall.getTime());
  return new Date(wall.getTime() - offsetAt(guess));
}

/** A datetime-local input's value (YYYY-MM-DDTHH:mm) for `instant` in the user's zone, and back. */
export const toLocalInput = (instant: string, timeZone = userTimeZone()) => toWallClock(instant, timeZone).toISOString().slice(0, 16);
export const fromLocalInput = (value: string, timeZone = userTimeZone()) => fromWallClock(new Date(`${value}:00Z`), timeZone);

/** An instant as the user reads it, in their zone. */
export function formatInZone(instant: string, options: Intl.DateTimeFormatOptions = { dateStyle: "medium", timeStyle: "short" }): string {
  return new Intl.DateTimeFormat(undefined, { ...options, timeZone: userTimeZone() }).format(new Date(instant));
}
