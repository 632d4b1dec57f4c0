// How the dashboard says when something happens: a short exact time (with the year only when it is
// not this year) and a relative one ("in 14 h", "2 min ago"). Pure and browser-safe (Intl only), so
// server, browser and tests format alike.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "in 14 h", "2 min ago", "just now", "in 3 days", "5 months ago". */
export function relativeTime(instant: string | Date, now: number = Date.now()): string {
  const diff = new Date(instant).getTime() - now;
  const abs = Math.abs(diff);
  if (abs < MINUTE) return diff >= 0 && abs >= 5_000 ? "in under a minute" : "just now";
  const [amount, unit] =
    abs < HOUR
      ? [Math.round(abs / MINUTE), "min"]
      : abs < DAY
        ? [Math.round(abs / HOUR), "h"]
        : abs < 60 * DAY
          ? [Math.round(abs / DAY), "day"]
          : abs < 365 * DAY
            ? [Math.round(abs / (30 * DAY)), "month"]
            : [Math.round(abs / (365 * DAY)), "year"];
  const words = unit === "min" || unit === "h" ? `${amount} ${unit}` : `${amount} ${unit}${amount === 1 ? "" : "s"}`;
  return diff >= 0 ? `in ${words}` : `${words} ago`;
}

function yearIn(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en", { timeZone, year: "numeric" }).format(instant);
}

/** "Dec 2, 9:00 AM EST" — with the year ("Jan 1, 2020, 9:00 AM EST") whenever it is not this year in `timeZone`. */
export function shortTime(instant: string | Date, timeZone: string, now: number = Date.now()): string {
  const at = new Date(instant);
  const sameYear = yearIn(at, timeZone) === yearIn(new Date(now), timeZone);
  return new Intl.DateTimeFormat("en", {
    timeZone,
    year: sameYear ? undefined : "numeric",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZoneName: "short",
  }).format(at);
}

/** "Wednesday, December 2, 2026 at 9:00:00 AM EST (America/New_York)": nothing left out. */
export function exactTime(instant: string | Date, timeZone: string): string {
  const text = new Intl.DateTimeFormat("en", {
    timeZone,
    weekday: "long",
    year: "numeric",
    month: "long",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    second: "2-digit",
    timeZoneName: "short",
  }).format(new Date(instant));
  return `${text} (${timeZone})`;
}

/** A day without its time ("Dec 2", or "Dec 2, 2027" when not this year in `timeZone`), for dates like a renewal. */
export function shortDate(instant: string | Date, timeZone: string, now: number = Date.now()): string {
  const at = new Date(instant);
  const sameYear = yearIn(at, timeZone) === yearIn(new Date(now), timeZone);
  return new Intl.DateTimeFormat("en", { timeZone, year: sameYear ? undefined : "numeric", month: "short", day: "numeric" }).format(at);
}
