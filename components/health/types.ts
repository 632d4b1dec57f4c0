// The health API's answers as the pages read them (the contract of issue 9's health routes, docs/api.md "Health").
export type Severity = "info" | "warning" | "critical";
export type AutoPause = "off" | "warn" | "pause";

export interface HealthSettings {
  autoPause: AutoPause;
  pauseBelowScore: number;
}

export interface AtRiskAccount {
  accountId: string;
  handle: string;
  platform: string;
  state: string;
  pausedReason: string | null;
  healthScore: number;
  alerts: Array<{
    id: number | string;
    ruleId: string;
    ruleName: string;
    severity: Severity;
    message: string;
    openedAt: string;
    acknowledgedAt: string | null;
  }>;
}

export interface HealthAlert {
  id: number | string;
  accountId?: string;
  handle?: string;
  ruleId: string;
  ruleName: string;
  severity: Severity;
  message: string;
  advice: string | null;
  observed: number | null;
  baseline: number | null;
  threshold?: number | null;
  openedAt: string;
  resolvedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy?: string | null;
}

export interface HealthOverview {
  workspaceId: string;
  settings: HealthSettings;
  accounts: number;
  scoreDistribution: Array<{ from: number; to: number; accounts: number }>;
  openAlerts: Record<Severity, number>;
  atRisk: AtRiskAccount[];
  alerts: HealthAlert[];
  lastScanAt: string | null;
}

export interface HealthRule {
  id: string;
  name: string;
  description: string;
  unit: string;
  direction: string;
  severity: Severity;
  points: number;
  advice: string;
  canDisable: boolean;
  defaultThreshold: number;
  threshold: number;
  clearThreshold: number;
  minThreshold: number;
  maxThreshold: number;
  enabled: boolean;
  tuned: boolean;
}

export interface AccountHealth {
  account: {
    id: string;
    handle: string;
    platform: string;
    state: string;
    pausedReason: string | null;
    healthScore: number;
    lastError: string | null;
  };
  baseline: { reach: number | null; engagement: number | null; followers: number | null; samples: number | null; computedAt: string } | null;
  snapshots: Array<{
    takenAt: string;
    reach: number | null;
    engagement: number | null;
    followers: number | null;
    postsPublished: number | null;
    publishFailures: number | null;
    readError: string | null;
  }>;
  scores: Array<{ scoredAt: string; score: number }>;
  breakdown: Array<{ rule: string; name: string; severity: Severity; points: number; observed: number | null; threshold: number | null }>;
  alerts: HealthAlert[];
  attempts: Array<{
    finishedAt: string;
    kind: string;
    outcome: string;
    destination: string | null;
    errorMessage: string | null;
    externalId: string | null;
  }>;
  stateChanges: Array<{
    at: string;
    action: string;
    actorId: string | null;
    by: string | null;
    from: string | null;
    to: string | null;
    reason: string | null;
  }>;
  destinations: Array<{ destination: string; rejections: number; reason: string | null; heldAt: string | null; releasedAt: string | null }>;
}

export interface PauseResult {
  accountId: string;
  state: string;
  pausedReason: string | null;
  changed: boolean;
}
