// Wall-clock times in a named time zone ↔ instants (UTC), the way a person means them: "tomorrow
// 09:00 in Europe/Paris". Pure and browser-safe (Intl only), no time-zone library. Schedules are
// stored as instants. The composer, the calendar and CSV import (readScheduledAt) all read times here.

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
      second: "2-digit",
    });
    formatters.set(zone, f);
  }
  return f;
}

const partsAt = (t: number, zone: string) =>
  Object.fromEntries(formatterFor(zone).formatToParts(new Date(t)).map((p) => [p.type, p.value])) as Record<string, string>;

/** Whether `zone` is an IANA zone name this runtime knows (offsets like +01:00 are not zones). */
export function isTimeZone(zone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone)) return false;
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

/** `zone`'s offset from UTC at instant `t` (milliseconds, whole seconds), asked of Intl. */
function offsetAt(t: number, zone: string): number {
  const p = partsAt(t, zone);
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(t / 1000) * 1000;
}

// Asking Intl costs ~30 µs, too much four times a row for a 10,000-row import. A zone changes its
// offset at most a few times a year and never twice in a day, so a UTC day whose first and last
// seconds share an offset has that offset throughout; only a day with a change is asked about each instant.
const DAY = 86_400_000;
const dayOffsets = new Map<string, number | null>();

function cachedOffsetAt(t: number, zone: string): number {
  const day = Math.floor(t / DAY);
  const key = `${zone}/${day}`;
  let whole = dayOffsets.get(key);
  if (whole === undefined) {
    const first = offsetAt(day * DAY, zone);
    whole = first === offsetAt((day + 1) * DAY - 1000, zone) ? first : null;
    if (dayOffsets.size > 100_000) dayOffsets.clear();
    dayOffsets.set(key, whole);
  }
  return whole ?? offsetAt(t, zone);
}

/** The wall time at `instant` in `zone`, as a datetime-local value ("YYYY-MM-DDTHH:mm"). */
export function wallTimeAt(instant: Date | string, zone: string): string {
  return new Date(wallClockAt(instant, zone).getTime()).toISOString().slice(0, 16);
}

/**
 * The instants (ms, earliest first) at which `zone`'s clock shows `wallMs`'s UTC fields: none in a DST
 * gap, two in a repeated hour. The zone's offset a day either side covers both sides of any
 * transition; keep the candidates that really show this wall time in the zone.
 */
function instantsShowing(wallMs: number, zone: string): number[] {
  const offsets = new Set([wallMs - DAY, wallMs, wallMs + DAY].map((t) => cachedOffsetAt(t, zone)));
  return [...offsets]
    .map((off) => wallMs - off)
    .filter((t) => cachedOffsetAt(t, zone) === wallMs - t)
    .sort((a, b) => a - b);
}

/**
 * The wall clock at `instant` in `zone` as a Date whose UTC fields read it (seconds kept). This is how
 * a calendar run in UTC (FullCalendar with timeZone="UTC") is handed times in any zone.
 */
export function wallClockAt(instant: Date | string, zone: string): Date {
  const ms = new Date(instant).getTime();
  return new Date(ms + cachedOffsetAt(ms, zone));
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
  return new Date(wallMs - cachedOffsetAt(wallMs - DAY, zone));
}

/** A local time as people write it: "2026-12-02T09:00" or "2026-12-02 09:00", seconds optional. */
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/;

/** A local time's fields as the UTC milliseconds they would be in UTC, or why they are no time. */
function readLocal(local: string, keepSeconds: boolean): { ok: true; wallMs: number } | { ok: false; reason: "unreadable" | "invalid" } {
  const m = LOCAL.exec(local);
  if (!m) return { ok: false, reason: "unreadable" };
  const [y, mo, d, h, mi] = m.slice(1, 6).map(Number);
  const s = keepSeconds ? Number(m[6] ?? 0) : 0;
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) return { ok: false, reason: "invalid" };
  return { ok: true, wallMs: Date.UTC(y, mo - 1, d, h, mi, s) };
}

export type WallTimeResult =
  | { ok: true; instant: string; /** The wall time happens twice (clocks go back): the first is meant. */ ambiguous: boolean }
  | { ok: false; reason: "invalid" | "nonexistent"; message: string };

/**
 * The instant a wall time in `zone` names (a datetime-local value; seconds ignored past the minute).
 * A time skipped when clocks go forward (a DST gap) names no instant and is refused with a message; a
 * time that happens twice (clocks go back) is its first.
 */
export function instantOfWallTime(local: string, zone: string): WallTimeResult {
  const read = readLocal(local, false);
  if (!read.ok && read.reason === "unreadable") return { ok: false, reason: "invalid", message: "Enter a date and a time, e.g. 2026-12-02 09:00." };
  if (!read.ok) return { ok: false, reason: "invalid", message: "This date does not exist; check the day and the month." };
  const matches = instantsShowing(read.wallMs, zone);
  if (matches.length === 0) {
    const wall = new Date(read.wallMs).toISOString().slice(0, 16).replace("T", " ");
    return { ok: false, reason: "nonexistent", message: `${wall} does not exist in ${zone}: the clocks skip that hour (daylight saving time). Choose a time outside it.` };
  }
  return { ok: true, instant: new Date(matches[0]).toISOString(), ambiguous: matches.length > 1 };
}

export type Scheduled = { ok: true; instant: string | null } | { ok: false; message: string };

const WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;
const EXAMPLES = "e.g. 2026-12-01 09:30 (read in the row's timezone, or yours) or 2026-12-01T09:30:00+01:00";
const NOT_REAL = (value: string) => `"${value}" is not a real date and time; write one like 2026-12-01 09:30 or 2026-12-01T09:30:00+01:00.`;

/**
 * A CSV import's scheduled_at → an ISO instant (null when empty: as soon as possible): an ISO 8601
 * time with an offset, or a local time (a space or a T, seconds kept) read in `zone`. A local time
 * that does not exist (the hour a clock skips) is refused; one that happens twice is the first.
 */
export function readScheduledAt(cell: string, zone: string): Scheduled {
  const value = cell.trim();
  if (value === "") return { ok: true, instant: null };
  const offset = WITH_OFFSET.exec(value);
  if (offset) {
    const [, y, mo, d, h, mi, sec = "00"] = offset;
    const wall = readLocal(`${y}-${mo}-${d}T${h}:${mi}:${sec}`, true);
    if (!wall.ok) return { ok: false, message: NOT_REAL(value) };
    return { ok: true, instant: new Date(value.replace(" ", "T")).toISOString() };
  }
  const local = readLocal(value, true);
  if (!local.ok && local.reason === "invalid") return { ok: false, message: NOT_REAL(value) };
  if (!local.ok) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return { ok: false, message: `"${value}" has no time of day; add one, ${EXAMPLES}.` };
    return { ok: false, message: `"${value}" is not a time Pacer can read; write it as year-month-day hour:minute, ${EXAMPLES}.` };
  }
  const [first] = instantsShowing(local.wallMs, zone);
  if (first === undefined) {
    return { ok: false, message: `${value.replace("T", " ")} does not exist in ${zone} (the clocks skip that hour); choose another time or give an offset.` };
  }
  return { ok: true, instant: new Date(first).toISOString() };
}
