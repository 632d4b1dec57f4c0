"use client";
// A time as the dashboard shows it everywhere: short and exact ("Dec 2, 9:00 AM EST", with the year
// when it is not this year) beside a relative one ("in 14 h"). The full time with seconds and zone is
// one tap or key press away (a toggle button, not a hover-only tooltip), so touch and keyboard users
// reach it too. The relative part refreshes every minute.
import { useEffect, useState } from "react";
import { exactTime, relativeTime, shortTime } from "@/lib/time/relative";
import { cn } from "@/components/ui/cn";
import { useTimeZone } from "./time-zone";

/** The current time, refreshed every `everyMs` (one timer per component; cheap at a minute). */
export function useNow(everyMs = 60_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function When({ at, relative = true, className }: { at: string | Date; relative?: boolean; className?: string }) {
  const { timeZone } = useTimeZone();
  const now = useNow();
  const [open, setOpen] = useState(false);
  const iso = new Date(at).toISOString();
  return (
    <span className={cn("inline-flex flex-col items-start", className)}>
      <button
        type="button"
        className="rounded-sm text-left underline decoration-dotted underline-offset-2 outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        data-testid="when"
      >
        <time dateTime={iso}>{shortTime(iso, timeZone, now)}</time>
        {relative && <span className="text-muted-foreground"> · {relativeTime(iso, now)}</span>}
      </button>
      {open && (
        <span className="text-xs text-muted-foreground" data-testid="when-exact">
          {exactTime(iso, timeZone)}
        </span>
      )}
    </span>
  );
}
