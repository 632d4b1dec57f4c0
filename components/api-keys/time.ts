// Times on the API keys page, in the person's zone. The one place the zone comes from, so the user
// setting (when it lands) replaces it here alone.
export function displayTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function formatWhen(iso: string | null, never = "Never"): string {
  if (!iso) return never;
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short", timeZone: displayTimeZone() }).format(new Date(iso));
}
