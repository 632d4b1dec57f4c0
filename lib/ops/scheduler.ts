// Whether the schedule that drives the queue is working: what operators read (every call's answer
// and the warnings) and what a monitor polls (warnings only). The rules live in the database
// (private.scheduler_warnings, migration 20261202000100); this file only reads them.
import { asUser, asWorker, db, type UserClaims } from "@/lib/db";
import { PacerError } from "@/lib/api/errors";

/** The schedule's warnings, and the publishing alerts of lib/ops/metrics.ts (success_rate_low, duplicate_posts). */
export interface SchedulerWarning {
  code: "scheduled_call_failed" | "no_successful_call" | "queue_stalled" | "success_rate_low" | "duplicate_posts";
  function_name: string;
  since: string | null;
  message: string;
}

export interface SchedulerStatus {
  warnings: SchedulerWarning[];
  functions: Array<{
    function_name: string;
    every_seconds: number;
    enabled: boolean;
    last_call_at: string | null;
    last_status: number | null;
    last_error: string | null;
    last_success_at: string | null;
    calls_last_hour: number;
    failures_last_hour: number;
  }>;
  checked_at: string;
}

/** The full picture, for operators of the installation only (the database refuses anyone else). */
export async function schedulerStatus(user: UserClaims): Promise<SchedulerStatus> {
  try {
    const [row] = await asUser(user, (tx) => tx`select public.scheduler_status() as status`);
    return row.status as SchedulerStatus;
  } catch (error) {
    if ((error as { code?: string }).code === "42501") {
      throw new PacerError(403, "operators_only",
        "Only operators of this installation can read the scheduler's state (docs/deploying.md, \"Operators\").");
    }
    throw error;
  }
}

export interface Health {
  status: "ok" | "warning";
  /** Codes and functions only: details are for operators. */
  warnings: Array<Pick<SchedulerWarning, "code" | "function_name" | "since">>;
  checked_at: string;
}

/**
 * How long one answer of the public health check is reused, so polling it costs the database little.
 * The publishing alerts in it are judged at most once a minute for the whole installation, in the
 * database (private.ops_warnings, migration 20261202001401): every process and cold start shares that.
 */
const HEALTH_TTL_MS = 10_000;
let cached: { at: number; health: Promise<Health> } | undefined;

/** What an uptime monitor polls: the schedule's warnings and the publishing alerts (success, duplicates). */
export function health(now = Date.now()): Promise<Health> {
  if (!cached || now - cached.at >= HEALTH_TTL_MS) {
    const promise = readHealth();
    cached = { at: now, health: promise };
    promise.catch(() => (cached = undefined));
  }
  return cached.health;
}

async function readHealth(): Promise<Health> {
  const rows = await asWorker(db(), `select code, function_name, since from private.scheduler_warnings()
                                     union all select code, function_name, since from private.ops_warnings()`);
  return {
    status: rows.length ? "warning" : "ok",
    warnings: rows.map((r) => ({ code: r.code, function_name: r.function_name, since: r.since ? new Date(r.since).toISOString() : null })),
    checked_at: new Date().toISOString(),
  };
}
