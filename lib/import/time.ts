// Reading scheduled_at: an ISO 8601 time with an offset, or a local wall-clock time in an IANA zone
// (the row's timezone, else the user's), turned into a UTC instant without a time-zone library.

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

/** `zone`'s offset from UTC at instant `t` (milliseconds), asked of Intl. */
function offsetAt(t: number, zone: string): number {
  const parts = Object.fromEntries(formatterFor(zone).formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  return Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second) - Math.floor(t / 1000) * 1000;
}

// Asking Intl costs ~30 µs, too much four times a row for 10,000 rows. A zone changes its offset at
// most a few times a year and never twice in a day, so a UTC day whose first and last seconds share
// an offset has that offset throughout; only a day with a change is asked about each instant.
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

/** The wall-clock time at instant `t` in `zone`, as if it were UTC (milliseconds). */
const wallClock = (t: number, zone: string) => t + cachedOffsetAt(t, zone);

export type Scheduled = { ok: true; instant: string | null } | { ok: false; message: string };

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;
const WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

function validParts(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth && h <= 23 && mi <= 59 && s <= 59;
}

const EXAMPLES = "e.g. 2026-12-01 09:30 (read in the row's timezone, or yours) or 2026-12-01T09:30:00+01:00";
const NOT_REAL = (value: string) => `"${value}" is not a real date and time; write one like 2026-12-01 09:30 or 2026-12-01T09:30:00+01:00.`;

/**
 * scheduled_at → an ISO instant (null when empty: as soon as possible). `zone` reads a local time;
 * a time with an offset ignores it. A local time that does not exist (the hour a clock skips) is
 * refused; one that happens twice (the hour a clock repeats) is the first.
 */
export function readScheduledAt(cell: string, zone: string): Scheduled {
  const value = cell.trim();
  if (value === "") return { ok: true, instant: null };
  const offset = WITH_OFFSET.exec(value);
  if (offset) {
    const [, y, mo, d, h, mi, s = "0"] = offset;
    if (!validParts(+y, +mo, +d, +h, +mi, +s)) return { ok: false, message: NOT_REAL(value) };
    return { ok: true, instant: new Date(value.replace(" ", "T")).toISOString() };
  }
  const local = LOCAL.exec(value);
  if (!local) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return { ok: false, message: `"${value}" has no time of day; add one, ${EXAMPLES}.` };
    return { ok: false, message: `"${value}" is not a time Pacer can read; write it as year-month-day hour:minute, ${EXAMPLES}.` };
  }
  const [, y, mo, d, h, mi, s = "0"] = local;
  if (!validParts(+y, +mo, +d, +h, +mi, +s)) return { ok: false, message: NOT_REAL(value) };
  const wanted = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  // The zone's offset just before and just after the wall time: one of them applies, or it is in a gap.
  const candidates = [wanted - 12 * 3600_000, wanted + 12 * 3600_000]
    .map((probe) => wanted - (wallClock(probe, zone) - probe))
    .filter((t) => wallClock(t, zone) === wanted)
    .sort((a, b) => a - b);
  if (candidates.length === 0) {
    return { ok: false, message: `${value.replace("T", " ")} does not exist in ${zone} (the clocks skip that hour); choose another time or give an offset.` };
  }
  return { ok: true, instant: new Date(candidates[0]).toISOString() };
}
