// Wall-clock times in a named time zone ↔ instants (UTC), the way a person means them: "tomorrow
// 09:00 in Europe/Paris". Pure and browser-safe (Intl only). Schedules are stored as instants.

/** A datetime-local value: "2026-12-02T09:00" (seconds allowed, ignored past the minute). */
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$/;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The wall time at `instant` in `zone`, as a datetime-local value ("YYYY-MM-DDTHH:mm"). */
export function wallTimeAt(instant: Date | string, zone: string): string {
  const parts = Object.fromEntries(formatterFor(zone).formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** Minutes `zone` is ahead of UTC at `ms`. */
function offsetMinutes(ms: number, zone: string): number {
  const [y, mo, d, h, mi] = wallTimeAt(new Date(ms), zone).split(/[-T:]/).map(Number);
  return Math.round((Date.UTC(y, mo - 1, d, h, mi) - Math.floor(ms / 60_000) * 60_000) / 60_000);
}

/**
 * The instants (ms, earliest first) at which `zone`'s clock shows `wallMs`'s UTC fields: none in a DST
 * gap, two in a repeated hour. The zone's offset a day either side covers both sides of any
 * transition; keep the candidates that really show this wall time in the zone.
 */
function instantsShowing(wallMs: number, zone: string): number[] {
  const offsets = new Set([wallMs - 86_400_000, wallMs, wallMs + 86_400_000].map((t) => offsetMinutes(t, zone)));
  return [...offsets]
    .map((off) => wallMs - off * 60_000)
    .filter((t) => offsetMinutes(t, zone) * 60_000 === wallMs - t)
    .sort((a, b) => a - b);
}

/**
 * The wall clock at `instant` in `zone` as a Date whose UTC fields read it (seconds kept). This is how
 * a calendar run in UTC (FullCalendar with timeZone="UTC") is handed times in any zone.
 */
export function wallClockAt(instant: Date | string, zone: string): Date {
  const ms = new Date(instant).getTime();
  return new Date(ms + offsetMinutes(ms, zone) * 60_000);
}

/**
 * The inverse of wallClockAt, for a view's edges (midnight, a week's start), which must name an
 * instant: a repeated time is its first; a time in a DST gap is read with the offset before the gap,
 * i.e. as far past the gap's end as it is past its start (02:30 in a 02:00→03:00 gap is 03:30).
 * Times a person chose go through instantOfWallTime instead, which refuses a skipped time.
 */
export function instantOfWallClock(wall: Date, zone: string): Date {
  const wallMs = wall.getTime();
  const matches = instantsShowing(wallMs, zone);
  if (matches.length > 0) return new Date(matches[0]);
  const before = offsetMinutes(wallMs - 86_400_000, zone);
  return new Date(wallMs - before * 60_000);
}

export type WallTimeResult =
  | { ok: true; instant: string; /** The wall time happens twice (clocks go back): the first is meant. */ ambiguous: boolean }
  | { ok: false; reason: "invalid" | "nonexistent"; message: string };

/**
 * The instant a wall time in `zone` names. A time skipped when clocks go forward (a DST gap) names no
 * instant and is refused with a message; a time that happens twice (clocks go back) is its first.
 */
export function instantOfWallTime(local: string, zone: string): WallTimeResult {
  const m = LOCAL.exec(local);
  if (!m) return { ok: false, reason: "invalid", message: "Enter a date and a time, e.g. 2026-12-02 09:00." };
  const [y, mo, d, h, mi] = m.slice(1, 6).map(Number);
  const asUtc = Date.UTC(y, mo - 1, d, h, mi);
  const wall = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}`;
  if (new Date(asUtc).toISOString().slice(0, 16) !== wall) {
    return { ok: false, reason: "invalid", message: "This date does not exist; check the day and the month." };
  }
  const matches = instantsShowing(asUtc, zone);
  if (matches.length === 0) {
    return {
      ok: false,
      reason: "nonexistent",
      message: `${wall.replace("T", " ")} does not exist in ${zone}: the clocks skip that hour (daylight saving time). Choose a time outside it.`,
    };
  }
  return { ok: true, instant: new Date(matches[0]).toISOString(), ambiguous: matches.length > 1 };
}
