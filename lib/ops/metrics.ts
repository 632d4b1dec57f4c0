// How well this installation publishes, for its operators: success, time to post, stuck, orphaned,
// duplicates, verification and queue lag, overall, per platform and per workspace. The figures are
// computed in the database (public.ops_metrics, migration 20261202000500; defined in
// docs/operations.md); this file validates the query and reads them.
import { z } from "zod";
import { asUser, type UserClaims } from "@/lib/db";
import { PacerError, validationFailed } from "@/lib/api/errors";
import type { SchedulerWarning } from "./scheduler";

const UNIT_SECONDS = { m: 60, h: 3600, d: 86400 } as const;
export const MIN_WINDOW_SECONDS = 5 * 60;
export const MAX_WINDOW_SECONDS = 7 * 86400;

/** "90m", "24h", "7d": a window ending now, from 5 minutes to 7 days. */
const windowSeconds = z
  .string()
  .regex(/^[1-9][0-9]{0,5}[mhd]$/, "window is a whole number of minutes, hours or days, e.g. 90m, 24h or 7d.")
  .transform((w) => Number(w.slice(0, -1)) * UNIT_SECONDS[w.slice(-1) as keyof typeof UNIT_SECONDS])
  .refine((s) => s >= MIN_WINDOW_SECONDS && s <= MAX_WINDOW_SECONDS, "window is from 5m to 7d.");

// Lenient about other query parameters (cache busters and the like).
export const metricsInput = z.object({
  window: windowSeconds.default(24 * 3600),
  workspaceId: z.uuid("workspaceId must be a workspace id (a UUID).").nullish(),
});
export type MetricsQuery = z.input<typeof metricsInput>;

export interface ScopeMetrics {
  finished: number;
  posted: number;
  failed: number;
  success_rate: number | null;
  time_to_post_seconds: { p50: number | null; p95: number | null };
  verified: number;
  verification_rate: number | null;
  lookups: number;
  lookups_unanswered: number;
  published: number;
  duplicates: number;
  duplicate_rate: number | null;
  stuck: { past_lease: number; verifying_overdue: number; needs_review_overdue: number };
  orphaned: { leases_not_recovered: number; history_without_item: number };
  oldest_due_at: string | null;
  queue_lag_seconds: number;
  counts: Record<"pending" | "rate_limited" | "processing" | "verifying" | "posted" | "failed" | "cancelled" | "needs_review", number>;
}

export interface OpsMetrics {
  window: { from: string; to: string; seconds: number };
  workspace_id: string | null;
  /** Empty when nothing at all is recorded (a new installation). */
  overall: ScopeMetrics | Record<string, never>;
  platforms: Array<{ platform: string } & ScopeMetrics>;
  /** At most 100: most failures, duplicates and stuck items first. */
  workspaces: Array<{ workspace_id: string; name: string } & ScopeMetrics>;
  /** The same warnings as GET /api/ops/scheduler's: the schedule's and the publishing alerts. */
  warnings: SchedulerWarning[];
  checked_at: string;
}

/** The metrics, for operators of the installation only (the database refuses anyone else). */
export async function opsMetrics(user: UserClaims, query: MetricsQuery = {}): Promise<OpsMetrics> {
  const parsed = metricsInput.safeParse(query);
  if (!parsed.success) throw validationFailed(parsed.error, "The query");
  const { window, workspaceId } = parsed.data;
  try {
    const [row] = await asUser(user, (tx) =>
      tx`select public.ops_metrics(make_interval(secs => ${window}), ${workspaceId ?? null}) as metrics`);
    return row.metrics as OpsMetrics;
  } catch (error) {
    if ((error as { code?: string }).code === "42501") {
      throw new PacerError(403, "operators_only",
        "Only operators of this installation can read its metrics (docs/deploying.md, \"Operators\").");
    }
    throw error;
  }
}
