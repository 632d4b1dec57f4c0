// Account health's database calls: thin typed wrappers over the SQL functions of migration
// 20261202000300_health. The scan's calls run as the least-privilege `pacer_worker` (asWorker); a
// person's calls run in the caller's transaction as that user (lib/db asUser), so the database
// checks their role. Runtime-agnostic (postgres.js in Node and in the Deno Edge Function).
import type postgres from "postgres";
import { asWorker, integer, literal } from "../db/worker.ts";
import { storableText } from "../engine/store.ts";

export type Sql = postgres.Sql;
/** A transaction running as the signed-in user (role authenticated with their claims). */
export type UserTx = postgres.TransactionSql;

/** An account leased to this scan, with what reading its metrics needs. */
export interface ClaimedAccount {
  accountId: string;
  workspaceId: string;
  platform: string;
  handle: string;
  credentialsEncrypted: string | null;
  leaseId: string;
  /** When the database ends the lease; a result recorded later is ignored. */
  leaseExpiresAt: Date;
  /** When this account may be read: the platform's read pace, shared by every scan (claim_accounts_for_scan). */
  readAt: Date;
}

/** What one read found: the metrics (AccountMetrics of lib/connectors/types.ts), or why there are none. */
export type ScanResult =
  | {
      accountId: string;
      leaseId: string;
      reach: number;
      engagement: number;
      followers: number;
      /** The platform's last activity of the account, when it says. */
      lastActivityAt?: Date | null;
      /** When the account's authorisation ends, when the platform says. */
      tokenExpiresAt?: Date | null;
    }
  | { accountId: string; leaseId: string; error: string };

/** What an evaluation changed. */
export interface EvaluationSummary {
  accountsEvaluated: number;
  alertsOpened: number;
  alertsResolved: number;
  scoresWritten: number;
  accountsPaused: number;
  /** At-risk accounts of workspaces in "warn" mode, warned (audited) and left running. */
  accountsWarned: number;
  destinationsHeld: number;
}

export interface ScanRecordSummary extends EvaluationSummary {
  /** Results written (their lease still held). */
  recorded: number;
  /** Results whose lease had ended (the account was claimed again): nothing written. */
  ignored: number;
}

const MAX_READ_ERROR = 2000;

function summary(r: postgres.Row): EvaluationSummary {
  return {
    accountsEvaluated: r.accounts_evaluated,
    alertsOpened: r.alerts_opened,
    alertsResolved: r.alerts_resolved,
    scoresWritten: r.scores_written,
    accountsPaused: r.accounts_paused,
    accountsWarned: r.accounts_warned,
    destinationsHeld: r.destinations_held,
  };
}

/**
 * Lease up to `limit` accounts due for a scan (of one workspace, if given), oldest due first; overlapping
 * scans never share one. Each comes with its read time, inside its platform's pace across every scan;
 * only reads due within `withinSeconds` (at most 60, the default) are handed out, the rest stay due.
 */
export async function claimAccountsForScan(
  sql: Sql,
  opts: { worker: string; limit: number; leaseSeconds: number; workspaceId?: string; withinSeconds?: number },
): Promise<ClaimedAccount[]> {
  const rows = await asWorker(
    sql,
    `select * from private.claim_accounts_for_scan(${literal(opts.worker)}, ${integer(opts.limit)}, ${integer(opts.leaseSeconds)}, ${literal(opts.workspaceId ?? null)}::uuid, ${integer(opts.withinSeconds ?? 60)})`,
  );
  return rows.map((r) => ({
    accountId: r.account_id,
    workspaceId: r.workspace_id,
    platform: r.platform,
    handle: r.handle,
    credentialsEncrypted: r.credentials_encrypted,
    leaseId: r.lease_id,
    leaseExpiresAt: new Date(r.lease_expires_at),
    readAt: new Date(r.read_at),
  }));
}

/** Write each account's snapshot (or read error), release the leases, evaluate them: one call. */
export async function recordHealthScan(sql: Sql, results: ScanResult[]): Promise<ScanRecordSummary> {
  const payload = results.map((r) =>
    "error" in r
      ? { account_id: r.accountId, lease_id: r.leaseId, error: storableText(r.error, MAX_READ_ERROR) }
      : {
          account_id: r.accountId,
          lease_id: r.leaseId,
          reach: Math.round(r.reach),
          engagement: Math.round(r.engagement),
          followers: Math.round(r.followers),
          last_activity_at: r.lastActivityAt?.toISOString() ?? null,
          token_expires_at: r.tokenExpiresAt?.toISOString() ?? null,
        },
  );
  const [row] = await asWorker(sql, `select * from private.record_health_scan(${literal(JSON.stringify(payload))}::jsonb)`);
  return { recorded: row.recorded, ignored: row.ignored, ...summary(row) };
}

/** Evaluate the rules for these accounts now (e.g. after a workspace retuned them). */
export async function evaluateAccountHealth(sql: Sql, accountIds: string[]): Promise<EvaluationSummary> {
  const ids = `array[${accountIds.map((id) => literal(id)).join(",")}]::uuid[]`;
  const [row] = await asWorker(sql, `select * from private.evaluate_account_health(${ids})`);
  return summary(row);
}

/** The daily upkeep if a day has passed since the last (one run in the installation does it), else null. */
export async function maintainHealthStorageIfDue(sql: Sql): Promise<Record<string, unknown> | null> {
  const [row] = await asWorker(sql, "select private.maintain_health_storage_if_due() as result");
  return row.result;
}

/** Daily upkeep: next months' partitions, daily rollups, raw partitions past retention dropped. */
export async function maintainHealthStorage(sql: Sql): Promise<Record<string, unknown>> {
  // As the connection's own role (the owner: migrations, operators, benches), not pacer_worker: its
  // retention arguments can drop partitions, so the scan's role only gets the daily, argument-free form.
  const [row] = await sql`select private.maintain_health_storage() as result`;
  return row.result;
}

// --- A person's actions, in their transaction (the database checks their role). ------------------

export interface AccountChange {
  account_id: string;
  state: string;
  paused_reason?: string | null;
  changed: boolean;
}

export async function pauseAccount(tx: UserTx, accountId: string): Promise<AccountChange> {
  const [row] = await tx`select public.pause_account(${accountId}) as r`;
  return row.r;
}

export async function resumeAccount(tx: UserTx, accountId: string): Promise<AccountChange> {
  const [row] = await tx`select public.resume_account(${accountId}) as r`;
  return row.r;
}

export async function pauseAtRiskAccounts(tx: UserTx, workspaceId: string): Promise<{ paused: number; account_ids: string[] }> {
  const [row] = await tx`select public.pause_at_risk_accounts(${workspaceId}) as r`;
  return row.r;
}

export async function acknowledgeAlert(
  tx: UserTx,
  alertId: number,
): Promise<{ id: number; acknowledged_at: string; acknowledged_by: string }> {
  const [row] = await tx`select public.acknowledge_health_alert(${alertId}) as r`;
  return row.r;
}

export async function releaseDestination(
  tx: UserTx,
  accountId: string,
  destination: string,
): Promise<{ released: boolean; items: number }> {
  const [row] = await tx`select public.release_destination(${accountId}, ${destination}) as r`;
  return row.r;
}

/** Make every account of the workspace due for a scan now; returns how many were not due yet. */
export async function requestHealthScan(tx: UserTx, workspaceId: string): Promise<number> {
  const [row] = await tx`select public.request_health_scan(${workspaceId}) as n`;
  return row.n;
}
