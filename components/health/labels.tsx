// How the health pages name things: account states, alert severities, scores and times.
import type { VariantProps } from "class-variance-authority";
import { Badge, badgeVariants } from "@/components/ui/badge";
import Link from "next/link";
import { cn } from "@/components/ui/cn";
import { platformName } from "@/components/accounts/platforms";
import { formatInZone } from "@/components/time/time-zone";
import { When as SharedWhen } from "@/components/time/when";
import type { Severity } from "./types";

type Variant = VariantProps<typeof badgeVariants>["variant"];

const states: Record<string, { label: string; variant: Variant }> = {
  connected: { label: "Connected", variant: "secondary" },
  active: { label: "Active", variant: "default" },
  paused: { label: "Paused", variant: "outline" },
  restricted: { label: "Restricted", variant: "destructive" },
  needs_reconnect: { label: "Needs reconnect", variant: "destructive" },
  needs_review: { label: "Needs review", variant: "destructive" },
};

export function stateLabel(state: string | null | undefined): string {
  return state ? (states[state]?.label ?? state) : "—";
}

export function StateBadge({ state }: { state: string }) {
  const style = states[state] ?? { label: state, variant: "outline" as Variant };
  return <Badge variant={style.variant}>{style.label}</Badge>;
}

export const severityLabels: Record<Severity, string> = { critical: "Critical", warning: "Warning", info: "Info" };

const severityClasses: Record<Severity, string> = {
  critical: "border-red-300 bg-red-100 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100",
  warning: "border-amber-300 bg-amber-100 text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100",
  info: "border-sky-300 bg-sky-100 text-sky-900 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-100",
};

export function SeverityBadge({ severity }: { severity: Severity }) {
  return (
    <Badge variant="outline" className={severityClasses[severity]}>
      {severityLabels[severity] ?? severity}
    </Badge>
  );
}

/** A score as a badge coloured by band: under 40 in trouble, under 80 worth watching. */
export function ScoreBadge({ score, className }: { score: number; className?: string }) {
  const band = score < 40 ? severityClasses.critical : score < 80 ? severityClasses.warning : "";
  return (
    <Badge variant="outline" className={cn("tabular-nums", band, className)} aria-label={`Health score ${score} of 100`}>
      {score}/100
    </Badge>
  );
}

// Times in the user's zone (useTimeZone(): the saved setting, else the browser's), like every page.
const short: Intl.DateTimeFormatOptions = { weekday: undefined, year: undefined, timeZoneName: undefined };

/** A time as every page shows it (components/time/when.tsx: the full instant one tap away), or a dash. */
export function When({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="text-muted-foreground">—</span>;
  return <SharedWhen at={at} />;
}

/** A chart axis or tooltip time in `timeZone`, without the zone's name (the chart's caption has it). */
export function shortTime(at: string, timeZone: string): string {
  return formatInZone(at, timeZone, short);
}

/** A metric as people read it: whole numbers with separators, rates as percentages. */
export function formatNumber(value: number | null | undefined, unit?: string): string {
  if (value == null) return "—";
  if (unit === "percent" || unit === "%") return `${Math.round(value * 10) / 10}%`;
  if (unit === "ratio") return `${Math.round(value * 1000) / 10}%`;
  return Number.isInteger(value) ? value.toLocaleString("en") : (Math.round(value * 100) / 100).toLocaleString("en");
}

/** An account in a table: its handle, linking to its health page, over its platform. */
export function AccountCell({ id, handle, platform }: { id: string; handle: string; platform: string }) {
  return (
    <>
      <Link className="font-medium underline underline-offset-4" href={`/dashboard/health/${id}`}>
        @{handle}
      </Link>
      <div className="text-muted-foreground">{platformName(platform)}</div>
    </>
  );
}
