// The health API's answers as the pages read them: the types lib/health/overview.ts builds them with
// (type-only imports: nothing of the server's code reaches the browser).
import type { AccountHealth, WorkspaceAlert } from "@/lib/health/overview";

export type { AccountHealth, AtRiskAccount, AutoPause, HealthOverview, HealthRule, HealthSettings, Severity } from "@/lib/health/overview";

/** An alert as the alerts table shows it: a workspace's (with its account) or one account's (with its threshold). */
export type HealthAlert =
  | (WorkspaceAlert & { threshold?: undefined })
  | (AccountHealth["alerts"][number] & { accountId?: undefined; handle?: undefined; acknowledgedBy?: undefined });

export interface PauseResult {
  accountId: string;
  state: string;
  pausedReason: string | null;
  changed: boolean;
}
