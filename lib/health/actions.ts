// What people do about account health: pause and resume accounts, pause every at-risk account,
// acknowledge alerts, release held destinations, tune rules and settings, and check every account
// now. The person-facing SQL functions check roles and write the audit log (docs/health.md); these
// wrappers validate input, act as the user, and turn the database's refusals into API errors.
import { z } from "zod";
import { asUser, db, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, fromDatabaseError, notFound, validationFailed } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { connectorFor } from "@/lib/connectors/registry";
import { credentialStore } from "@/lib/accounts/refreshed-credentials";
import {
  acknowledgeAlert,
  evaluateAccountHealth,
  pauseAccount,
  releaseDestination,
  requestHealthScan,
  resumeAccount,
  type AccountChange,
} from "./store";
import { scanHealth, type ScanSummary } from "./scan";
import { accountIdFrom, rulesOf, settingsOf, type HealthRule, type HealthSettings } from "./overview";

const workspaceId = z.uuid("workspaceId must be a workspace id (a UUID).").nullish();

function parse<T extends z.ZodType>(schema: T, input: unknown, what = "The request"): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, what);
  return parsed.data;
}

/** Run as the user; the database's P0002 / 42501 / coded P0001 become 404 / 403 / 409. */
function asPerson<T>(user: UserClaims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return asUser(user, fn).catch(fromDatabaseError);
}

/** 403 unless the user holds at least `minRole` in the workspace (which they can already see). */
async function requireRole(tx: Tx, workspace: string, minRole: "editor" | "admin", verb: string) {
  const [r] = await tx`select private.has_role_on_workspace(${workspace}, ${minRole}) as ok`;
  if (!r.ok) {
    const who = minRole === "editor" ? "editors, admins and owners" : "admins and owners";
    throw new PacerError(403, "forbidden", `Your role in this workspace does not allow you to ${verb}; ${who} can.`);
  }
}

export interface AccountChangeReply {
  accountId: string;
  state: string;
  pausedReason: string | null;
  changed: boolean;
}

const toReply = (c: AccountChange): AccountChangeReply => ({
  accountId: c.account_id,
  state: c.state,
  pausedReason: c.paused_reason ?? null,
  changed: c.changed,
});

/** Pause one account (editors and up); one that cannot publish anyway is left as it is. */
export function pauseOne(user: UserClaims, rawAccountId: string): Promise<AccountChangeReply> {
  const accountId = accountIdFrom(rawAccountId);
  return asPerson(user, async (tx) => toReply(await pauseAccount(tx, accountId)));
}

/** Resume one account (editors and up): its waiting posts come back inside the limits. */
export function resumeOne(user: UserClaims, rawAccountId: string): Promise<AccountChangeReply> {
  const accountId = accountIdFrom(rawAccountId);
  return asPerson(user, async (tx) => toReply(await resumeAccount(tx, accountId)));
}

export const workspaceBody = z.strictObject({ workspaceId });

// The page lists at most 100 at-risk accounts; a list a little longer is still one person's choice.
const MAX_PAUSE_ALL_IDS = 500;

export const pauseAllBody = z.strictObject({
  workspaceId,
  accountIds: z
    .array(z.uuid("accountIds must be account ids (UUIDs)."), "accountIds must be a list of account ids.")
    .max(MAX_PAUSE_ALL_IDS, `accountIds holds at most ${MAX_PAUSE_ALL_IDS} accounts.`)
    .optional(),
});

/**
 * Pause the workspace's at-risk accounts (editors and up); healthy ones are untouched. With
 * `accountIds` (the ones the person confirmed), only those still at risk: the others are skipped and
 * counted, and an account that became at risk since is not paused. Without, every at-risk account.
 */
export function pauseAll(user: UserClaims, input: unknown): Promise<{ paused: number; accountIds: string[]; skipped: number }> {
  const body = parse(pauseAllBody, input);
  return asPerson(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, body.workspaceId);
    const ids = body.accountIds ?? null;
    const [row] = await tx`select public.pause_at_risk_accounts(${ws}::uuid, ${ids}::uuid[]) as r`;
    const r = row.r as { paused: number; account_ids: string[]; skipped: number };
    return { paused: r.paused, accountIds: r.account_ids, skipped: r.skipped };
  });
}

/** Acknowledge an alert (editors and up); acknowledging again keeps the first who and when. */
export function acknowledge(user: UserClaims, rawAlertId: string) {
  // Alert ids are bigints; anything else is simply not found.
  if (!/^[1-9][0-9]{0,14}$/.test(rawAlertId)) throw notFound("Alert");
  return asPerson(user, async (tx) => {
    const r = await acknowledgeAlert(tx, Number(rawAlertId));
    return { id: Number(r.id), acknowledgedAt: new Date(r.acknowledged_at).toISOString(), acknowledgedBy: r.acknowledged_by };
  });
}

export const releaseBody = z.strictObject({
  destination: z.string("destination must be text.").min(1, "destination is required.").max(500, "destination is at most 500 characters."),
});

/** End a destination hold for the account (editors and up); its waiting posts come back. */
export function release(user: UserClaims, rawAccountId: string, input: unknown): Promise<{ released: boolean; items: number }> {
  const accountId = accountIdFrom(rawAccountId);
  const { destination } = parse(releaseBody, input);
  return asPerson(user, (tx) => releaseDestination(tx, accountId, destination));
}

// --- Tuning (admins and owners): the trigger on workspace_health_rules enforces the bounds. ------

export const ruleBody = z
  .strictObject({
    workspaceId,
    threshold: z.number("threshold must be a number.").finite("threshold must be a finite number.").optional(),
    enabled: z.boolean("enabled must be true or false.").optional(),
  })
  .refine((b) => b.threshold !== undefined || b.enabled !== undefined, { message: "Send threshold, enabled or both." });

async function ruleExists(tx: Tx, ruleId: string) {
  const [r] = await tx`select 1 from public.health_rules where id = ${ruleId}`;
  if (!r) throw notFound("Health rule");
}

/** Set a rule's threshold (within its bounds: else 409) or switch it on or off, for the workspace. */
export async function tuneRule(user: UserClaims, ruleId: string, input: unknown): Promise<{ rule: HealthRule; evaluation: PolicyEvaluation | null }> {
  const body = parse(ruleBody, input);
  const ws = await asPerson(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, body.workspaceId);
    await requireRole(tx, ws, "admin", "tune health rules");
    await ruleExists(tx, ruleId);
    const hasThreshold = body.threshold !== undefined;
    const hasEnabled = body.enabled !== undefined;
    await tx`
      insert into public.workspace_health_rules (workspace_id, rule_id, threshold, enabled)
      values (${ws}, ${ruleId}, ${body.threshold ?? null}, ${body.enabled ?? null})
      on conflict (workspace_id, rule_id) do update set
        threshold = case when ${hasThreshold} then excluded.threshold else workspace_health_rules.threshold end,
        enabled = case when ${hasEnabled} then excluded.enabled else workspace_health_rules.enabled end`;
    return ws;
  });
  const evaluation = await reevaluate(user, ws);
  return { rule: await ruleNow(user, ws, ruleId), evaluation };
}

/** Back to the rule's defaults for the workspace. */
export async function resetRule(user: UserClaims, ruleId: string, requestedWorkspaceId?: string | null): Promise<void> {
  const ws = await asPerson(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, parse(workspaceBody, { workspaceId: requestedWorkspaceId }).workspaceId);
    await requireRole(tx, ws, "admin", "tune health rules");
    await ruleExists(tx, ruleId);
    await tx`delete from public.workspace_health_rules where workspace_id = ${ws} and rule_id = ${ruleId}`;
    return ws;
  });
  await reevaluate(user, ws);
}

async function ruleNow(user: UserClaims, ws: string, ruleId: string): Promise<HealthRule> {
  const [rule] = await asUser(user, (tx) => rulesOf(tx, ws, ruleId));
  return rule;
}

export const settingsBody = z
  .strictObject({
    workspaceId,
    autoPause: z.enum(["off", "warn", "pause"], "autoPause must be off, warn or pause.").optional(),
    pauseBelowScore: z
      .number("pauseBelowScore must be a number.")
      .int("pauseBelowScore must be a whole number.")
      .min(0, "pauseBelowScore is at least 0.")
      .max(100, "pauseBelowScore is at most 100.")
      .optional(),
  })
  .refine((b) => b.autoPause !== undefined || b.pauseBelowScore !== undefined, { message: "Send autoPause, pauseBelowScore or both." });

/** Set the workspace's auto-pause mode and score threshold (admins and owners). */
export async function updateSettings(user: UserClaims, input: unknown): Promise<{ settings: HealthSettings; evaluation: PolicyEvaluation | null }> {
  const body = parse(settingsBody, input);
  const { ws, settings } = await asPerson(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, body.workspaceId);
    await requireRole(tx, ws, "admin", "change the health settings");
    const current = await settingsOf(tx, ws);
    const next: HealthSettings = { autoPause: body.autoPause ?? current.autoPause, pauseBelowScore: body.pauseBelowScore ?? current.pauseBelowScore };
    await tx`
      insert into public.workspace_health_settings (workspace_id, auto_pause, pause_below_score)
      values (${ws}, ${next.autoPause}, ${next.pauseBelowScore})
      on conflict (workspace_id) do update set auto_pause = excluded.auto_pause, pause_below_score = excluded.pause_below_score`;
    return { ws, settings: next };
  });
  const evaluation = await reevaluate(user, ws);
  return { settings, evaluation };
}

/** What applying a policy change did at once, so the page can say so (accounts paused by it above all). */
export interface PolicyEvaluation {
  accountsPaused: number;
  alertsOpened: number;
  alertsResolved: number;
}

/**
 * A policy change applies at once: the workspace's accounts are evaluated again with it (a disabled
 * rule's alerts resolve, a tighter threshold opens alerts, auto-pause acts) instead of at each
 * account's next scan, up to an hour later. Evaluation is the scan's own (as pacer_worker).
 * Null when evaluating failed (the next scans apply the change).
 */
async function reevaluate(user: UserClaims, ws: string): Promise<PolicyEvaluation | null> {
  // The change is committed already: if evaluating fails, the next scans apply it, and the reply must
  // not say the change was not made.
  try {
    const ids = await asUser(user, async (tx) => (await tx`select id from public.social_accounts where workspace_id = ${ws}`).map((r) => r.id as string));
    if (!ids.length) return { accountsPaused: 0, alertsOpened: 0, alertsResolved: 0 };
    const { accountsPaused, alertsOpened, alertsResolved } = await evaluateAccountHealth(db(), ids);
    return { accountsPaused, alertsOpened, alertsResolved };
  } catch (error) {
    console.error(`health: re-evaluating workspace ${ws} after a policy change failed; the next scans apply it`, error);
    return null;
  }
}

// --- Check all now ------------------------------------------------------------------------------

/** "Check all now" reads inside a request: a budget like "process now", reads given up sooner. */
export const CHECK_ALL_BUDGET_MS = 10_000;
const CHECK_ALL_READ_TIMEOUT_MS = 5_000;

/**
 * Scan the workspace's accounts now (editors and up): they become due, and this request scans what
 * it can within its budget; the scheduled scans take any left over first (they are due).
 */
export async function checkAll(user: UserClaims, input: unknown): Promise<{ requested: number; scanned: ScanSummary }> {
  const body = parse(workspaceBody, input);
  const { ws, requested } = await asPerson(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, body.workspaceId);
    return { ws, requested: await requestHealthScan(tx, ws) };
  });
  const scanned = await scanHealth({
    sql: db(),
    worker: `api-${crypto.randomUUID().slice(0, 8)}`,
    workspaceId: ws,
    connectorFor: (platform) => connectorFor(platform, process.env, { storeCredentials: credentialStore(db()) }),
    budgetMs: CHECK_ALL_BUDGET_MS,
    readTimeoutMs: CHECK_ALL_READ_TIMEOUT_MS,
  });
  return { requested, scanned };
}
