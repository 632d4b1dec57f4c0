// Account health as people read it: a workspace's overview (scores, open alerts, accounts at risk),
// one account's detail (series, baseline, score breakdown, alerts, attempts, state changes, held
// destinations) and the rules in force. Every read runs as the user under RLS; what lives outside
// RLS (the baseline, the last scan, state changes from the audit log) comes from security definer
// functions that check membership in the database (migration 20261202000700_health_reads).
import { z } from "zod";
import { asUser, type Row, type Tx, type UserClaims } from "@/lib/db";
import { fromDatabaseError, notFound, validationFailed } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export type Severity = "info" | "warning" | "critical";
export type AutoPause = "off" | "warn" | "pause";

export interface HealthSettings {
  autoPause: AutoPause;
  pauseBelowScore: number;
}

/** What a workspace that chose nothing gets (the defaults of public.workspace_health_settings). */
export const DEFAULT_HEALTH_SETTINGS: HealthSettings = { autoPause: "pause", pauseBelowScore: 40 };

export interface AtRiskAccount {
  accountId: string;
  handle: string;
  platform: string;
  state: string;
  pausedReason: string | null;
  healthScore: number;
  alerts: { id: number; ruleId: string; ruleName: string; severity: Severity; message: string; openedAt: string; acknowledgedAt: string | null }[];
}

export interface WorkspaceAlert {
  id: number;
  accountId: string;
  handle: string;
  ruleId: string;
  ruleName: string;
  severity: Severity;
  message: string;
  advice: string;
  observed: number | null;
  baseline: number | null;
  openedAt: string;
  resolvedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
}

export interface HealthOverview {
  workspaceId: string;
  settings: HealthSettings;
  accounts: number;
  scoreDistribution: { from: number; to: number; accounts: number }[];
  openAlerts: Record<Severity, number>;
  /** The worst at-risk accounts, at most 100 (AT_RISK_LISTED). */
  atRisk: AtRiskAccount[];
  /** Every at-risk account, listed or not, and those of them that may publish: what pause-all without a list pauses. */
  atRiskTotal: { accounts: number; mayPublish: number };
  alerts: WorkspaceAlert[];
  lastScanAt: string | null;
}

export interface AccountHealth {
  account: { id: string; handle: string; platform: string; state: string; pausedReason: string | null; healthScore: number; lastError: string | null };
  baseline: { reach: number | null; engagement: number | null; followers: number | null; samples: number | null; computedAt: string } | null;
  snapshots: {
    takenAt: string;
    reach: number | null;
    engagement: number | null;
    followers: number | null;
    postsPublished: number;
    publishFailures: number;
    readError: string | null;
  }[];
  scores: { scoredAt: string; score: number }[];
  breakdown: { rule: string; name: string; severity: Severity; points: number; observed: number | null; threshold: number | null }[];
  alerts: {
    id: number;
    ruleId: string;
    ruleName: string;
    severity: Severity;
    message: string;
    advice: string;
    observed: number | null;
    baseline: number | null;
    threshold: number;
    openedAt: string;
    resolvedAt: string | null;
    acknowledgedAt: string | null;
  }[];
  attempts: { finishedAt: string; kind: string; outcome: string; destination: string | null; errorMessage: string | null; externalId: string | null }[];
  stateChanges: { at: string; action: string; actorId: string | null; by: string; from: string | null; to: string | null; reason: string | null }[];
  destinations: { destination: string; rejections: number; reason: string; heldAt: string; releasedAt: string | null }[];
}

export interface HealthRule {
  id: string;
  name: string;
  description: string;
  unit: string;
  direction: "above" | "below";
  severity: Severity;
  points: number;
  advice: string;
  canDisable: boolean;
  defaultThreshold: number;
  /** In force for the workspace: its own, or the default. */
  threshold: number;
  clearThreshold: number;
  minThreshold: number;
  maxThreshold: number;
  enabled: boolean;
  /** The workspace changed the threshold or switched the rule on or off. */
  tuned: boolean;
}

/** The score buckets of the overview's distribution. */
export const SCORE_BUCKETS = [
  { from: 0, to: 19 },
  { from: 20, to: 39 },
  { from: 40, to: 59 },
  { from: 60, to: 79 },
  { from: 80, to: 100 },
] as const;

const LIST_LIMIT = 100;
/** How many at-risk accounts the overview lists (worst first); atRiskTotal counts them all. */
export const AT_RISK_LISTED = LIST_LIMIT;
const DETAIL_LIMIT = 50;

export const workspaceQuery = z.strictObject({ workspaceId: z.uuid("workspaceId must be a workspace id (a UUID).").nullish() });

/** The `?workspaceId=` of a read, validated (400 for anything else). */
export function parseWorkspaceQuery(input: unknown): string | null {
  const parsed = workspaceQuery.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The query");
  return parsed.data.workspaceId ?? null;
}

export async function settingsOf(tx: Tx, workspaceId: string): Promise<HealthSettings> {
  const [row] = await tx`select auto_pause, pause_below_score from public.workspace_health_settings where workspace_id = ${workspaceId}`;
  return row ? { autoPause: row.auto_pause, pauseBelowScore: row.pause_below_score } : { ...DEFAULT_HEALTH_SETTINGS };
}

/** A workspace's health at a glance. Any member may read it. */
export function getHealthOverview(user: UserClaims, requestedWorkspaceId?: string | null): Promise<HealthOverview> {
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, requestedWorkspaceId);
    const settings = await settingsOf(tx, workspaceId);

    // Buckets of 20 points (SCORE_BUCKETS); 100 joins the top one.
    const buckets = await tx`
      select least(health_score / 20, 4) as bucket, count(*)::int as n
      from public.social_accounts where workspace_id = ${workspaceId} and archived_at is null group by 1`;
    const inBucket = (i: number) => buckets.find((b) => b.bucket === i)?.n ?? 0;
    const severities = await tx`
      select severity, count(*)::int as n from public.health_alerts
      where workspace_id = ${workspaceId} and resolved_at is null group by severity`;
    const openAlerts: Record<Severity, number> = { info: 0, warning: 0, critical: 0 };
    for (const s of severities) openAlerts[s.severity as Severity] = s.n;

    // At risk as pause-all sees it: an open warning or critical alert, or a score below the threshold.
    // The worst listed; the window counts are over all of them (computed before the limit), the
    // states that may publish as private.account_can_publish says.
    const atRisk = await tx`
      select a.id, a.handle, a.platform, a.state, a.paused_reason, a.health_score,
             count(*) over ()::int as total,
             (count(*) filter (where a.state in ('connected', 'active')) over ())::int as total_may_publish
      from public.social_accounts a
      where a.workspace_id = ${workspaceId} and a.archived_at is null
        and (a.health_score < ${settings.pauseBelowScore}
             or exists (select 1 from public.health_alerts al where al.account_id = a.id and al.resolved_at is null
                        and al.severity in ('warning', 'critical')))
      order by a.health_score, a.handle
      limit ${LIST_LIMIT}`;
    const riskIds = atRisk.map((a) => a.id);
    const riskAlerts = riskIds.length
      ? await tx`
          select al.id, al.account_id, al.rule_id, r.name as rule_name, al.severity, al.message, al.opened_at, al.acknowledged_at
          from public.health_alerts al join public.health_rules r on r.id = al.rule_id
          where al.account_id = any (${riskIds}::uuid[]) and al.resolved_at is null
          order by array_position(array['critical', 'warning', 'info'], al.severity), al.opened_at desc`
      : [];

    // Open first (most severe, newest), then the latest resolved.
    const alerts = await tx`
      (select al.*, a.handle, r.name as rule_name, 0 as part
       from public.health_alerts al
       join public.social_accounts a on a.id = al.account_id
       join public.health_rules r on r.id = al.rule_id
       where al.workspace_id = ${workspaceId} and al.resolved_at is null
       order by array_position(array['critical', 'warning', 'info'], al.severity), al.opened_at desc, al.id desc
       limit ${LIST_LIMIT})
      union all
      (select al.*, a.handle, r.name as rule_name, 1 as part
       from public.health_alerts al
       join public.social_accounts a on a.id = al.account_id
       join public.health_rules r on r.id = al.rule_id
       where al.workspace_id = ${workspaceId} and al.resolved_at is not null
       order by al.resolved_at desc, al.id desc
       limit ${LIST_LIMIT})`;
    const [scan] = await tx`select public.workspace_health_last_scan(${workspaceId}) as at`;

    return {
      workspaceId,
      settings,
      accounts: buckets.reduce((sum, b) => sum + b.n, 0),
      scoreDistribution: SCORE_BUCKETS.map((b, i) => ({ from: b.from, to: b.to, accounts: inBucket(i) })),
      openAlerts,
      atRisk: atRisk.map((a) => ({
        accountId: a.id,
        handle: a.handle,
        platform: a.platform,
        state: a.state,
        pausedReason: a.paused_reason,
        healthScore: a.health_score,
        alerts: riskAlerts
          .filter((al) => al.account_id === a.id)
          .map((al) => ({
            id: Number(al.id),
            ruleId: al.rule_id,
            ruleName: al.rule_name,
            severity: al.severity,
            message: al.message,
            openedAt: al.opened_at.toISOString(),
            acknowledgedAt: iso(al.acknowledged_at),
          })),
      })),
      atRiskTotal: { accounts: atRisk[0]?.total ?? 0, mayPublish: atRisk[0]?.total_may_publish ?? 0 },
      alerts: alerts.slice(0, LIST_LIMIT).map(toWorkspaceAlert),
      lastScanAt: iso(scan.at),
    };
  });
}

function toWorkspaceAlert(al: Row): WorkspaceAlert {
  return {
    id: Number(al.id),
    accountId: al.account_id,
    handle: al.handle,
    ruleId: al.rule_id,
    ruleName: al.rule_name,
    severity: al.severity,
    message: al.message,
    advice: al.advice,
    observed: num(al.observed),
    baseline: num(al.baseline),
    openedAt: al.opened_at.toISOString(),
    resolvedAt: iso(al.resolved_at),
    acknowledgedAt: iso(al.acknowledged_at),
    acknowledgedBy: al.acknowledged_by,
  };
}

export const detailInput = z.strictObject({
  /** Optional, as everywhere: an account of another workspace is then not found. */
  workspaceId: z.uuid("workspaceId must be a workspace id (a UUID).").nullish(),
  days: z.coerce
    .number("days must be a number.")
    .int("days must be a whole number.")
    .min(1, "days is at least 1.")
    .max(90, "days is at most 90 (raw snapshots are kept 90 days).")
    .default(7),
});

const uuid = z.uuid();

/** An account id from a path: anything that is not one is simply not found. */
export function accountIdFrom(raw: string): string {
  if (!uuid.safeParse(raw).success) throw notFound("Account");
  return raw;
}

/** One account's health over the last `days`. Any member of its workspace may read it. */
export async function getAccountHealth(user: UserClaims, rawAccountId: string, query: unknown = {}): Promise<AccountHealth> {
  const accountId = accountIdFrom(rawAccountId);
  const parsed = detailInput.safeParse(query);
  if (!parsed.success) throw validationFailed(parsed.error, "The query");
  const { days, workspaceId } = parsed.data;
  return asUser(user, async (tx) => {
    const [account] = await tx`
      select id, handle, platform, state, paused_reason, health_score, last_error from public.social_accounts
      where id = ${accountId} and (${workspaceId ?? null}::uuid is null or workspace_id = ${workspaceId ?? null})`;
    if (!account) throw notFound("Account");
    const [{ since }] = await tx`select now() - ${days} * interval '1 day' as since`;

    const [baseline] = await tx`select * from public.account_health_baseline(${accountId})`.catch(fromDatabaseError);
    const snapshots = await tx`
      select taken_at, reach::float8, engagement::float8, followers::float8, posts_published, publish_failures, read_error
      from public.account_health_snapshots
      where account_id = ${accountId} and taken_at >= ${since}
      order by taken_at`;
    // A step series: the score in force when the window starts (dated at its start), then each change.
    const scores = await tx`
      (select ${since}::timestamptz as scored_at, score from public.account_health_scores
       where account_id = ${accountId} and scored_at < ${since} order by scored_at desc limit 1)
      union all
      (select scored_at, score from public.account_health_scores
       where account_id = ${accountId} and scored_at >= ${since} order by scored_at)
      order by scored_at`;
    const [current] = await tx`
      select breakdown from public.account_health_scores where account_id = ${accountId} order by scored_at desc limit 1`;
    const alerts = await tx`
      select al.*, r.name as rule_name from public.health_alerts al join public.health_rules r on r.id = al.rule_id
      where al.account_id = ${accountId}
      order by (al.resolved_at is null) desc, al.opened_at desc, al.id desc
      limit ${LIST_LIMIT}`;
    const attempts = await tx`
      select finished_at, kind, outcome, destination, error_message, external_id from public.posting_history
      where account_id = ${accountId} order by finished_at desc, id desc limit ${DETAIL_LIMIT}`;
    const changes = await tx`select * from public.account_state_changes(${accountId}, ${DETAIL_LIMIT})`.catch(fromDatabaseError);
    const holds = await tx`
      select destination, rejections, reason, held_at, released_at from public.destination_holds
      where account_id = ${accountId} order by (released_at is null) desc, held_at desc limit ${DETAIL_LIMIT}`;

    return {
      account: {
        id: account.id,
        handle: account.handle,
        platform: account.platform,
        state: account.state,
        pausedReason: account.paused_reason,
        healthScore: account.health_score,
        lastError: account.last_error,
      },
      baseline: baseline
        ? {
            reach: num(baseline.reach),
            engagement: num(baseline.engagement),
            followers: num(baseline.followers),
            samples: baseline.samples,
            computedAt: baseline.computed_at.toISOString(),
          }
        : null,
      snapshots: snapshots.map((s) => ({
        takenAt: s.taken_at.toISOString(),
        reach: s.reach,
        engagement: s.engagement,
        followers: s.followers,
        postsPublished: s.posts_published,
        publishFailures: s.publish_failures,
        readError: s.read_error,
      })),
      scores: scores.map((s) => ({ scoredAt: s.scored_at.toISOString(), score: s.score })),
      breakdown: ((current?.breakdown ?? []) as Row[]).map((b) => ({
        rule: b.rule,
        name: b.name,
        severity: b.severity,
        points: Number(b.points),
        observed: num(b.observed),
        threshold: num(b.threshold),
      })),
      alerts: alerts.map((al) => ({
        id: Number(al.id),
        ruleId: al.rule_id,
        ruleName: al.rule_name,
        severity: al.severity,
        message: al.message,
        advice: al.advice,
        observed: num(al.observed),
        baseline: num(al.baseline),
        threshold: Number(al.threshold),
        openedAt: al.opened_at.toISOString(),
        resolvedAt: iso(al.resolved_at),
        acknowledgedAt: iso(al.acknowledged_at),
      })),
      attempts: attempts.map((h) => ({
        finishedAt: h.finished_at.toISOString(),
        kind: h.kind,
        outcome: h.outcome,
        destination: h.destination,
        errorMessage: h.error_message,
        externalId: h.external_id,
      })),
      stateChanges: changes.map((c) => ({
        at: c.at.toISOString(),
        action: c.action,
        actorId: c.actor_id,
        by: c.by,
        from: c.from_state,
        to: c.to_state,
        reason: c.reason,
      })),
      destinations: holds.map((h) => ({
        destination: h.destination,
        rejections: h.rejections,
        reason: h.reason,
        heldAt: h.held_at.toISOString(),
        releasedAt: iso(h.released_at),
      })),
    };
  });
}

/** The rules in force for a workspace: defaults, its tuning, the bounds it may tune within. Any member. */
export function listHealthRules(user: UserClaims, requestedWorkspaceId?: string | null): Promise<{ rules: HealthRule[] }> {
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, requestedWorkspaceId);
    return { rules: await rulesOf(tx, workspaceId) };
  });
}

export async function rulesOf(tx: Tx, workspaceId: string, ruleId?: string): Promise<HealthRule[]> {
  const rows = await tx`
    select r.*, w.rule_id is not null as tuned,
           coalesce(w.threshold, r.threshold)::float8 as threshold_in_force,
           private.effective_clear_threshold(r.threshold, r.clear_threshold, w.threshold, w.clear_threshold)::float8 as clear_in_force,
           coalesce(w.enabled, r.enabled) as enabled_in_force
    from public.health_rules r
    left join public.workspace_health_rules w on w.rule_id = r.id and w.workspace_id = ${workspaceId}
    where ${ruleId ?? null}::text is null or r.id = ${ruleId ?? null}
    order by r.sort_order`;
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    description: r.description,
    unit: r.unit,
    direction: r.direction,
    severity: r.severity,
    points: r.points,
    advice: r.advice,
    canDisable: r.can_disable,
    defaultThreshold: Number(r.threshold),
    threshold: r.threshold_in_force,
    clearThreshold: r.clear_in_force,
    minThreshold: Number(r.min_threshold),
    maxThreshold: Number(r.max_threshold),
    enabled: r.enabled_in_force,
    tuned: r.tuned,
  }));
}
