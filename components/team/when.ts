// How the team and audit pages show a time: in the user's zone, from this one function until a user
// setting for the zone exists (then only timeZone() changes).

/** The zone times are shown in. */
export function timeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** A stored UTC time as the user reads it, e.g. "Dec 1, 2026, 10:04". */
export function formatWhen(iso: string): string {
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short", timeZone: timeZone() }).format(new Date(iso));
}
