// Times on the import page, in the user's zone (the one lib/import/time.ts reads local times in).
import { userTimeZone } from "@/lib/import/time";

export function formatTime(iso: string): string {
  return new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: userTimeZone() }).format(new Date(iso));
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
