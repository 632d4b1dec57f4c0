// Times on the import page, in the user's zone (their setting, else the browser's: components/time).
import { formatInZone, useTimeZone } from "@/components/time/time-zone";

/** A formatter of instants in the user's zone, for a component of the import page. */
export function useFormatTime(): (iso: string) => string {
  const { timeZone } = useTimeZone();
  return (iso) => formatInZone(iso, timeZone);
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
