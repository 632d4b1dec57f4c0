// Reconciliation (seeds/002_* "fix 3"): read each active account's recent posts on its platform and
// hold them against Pacer's records. A post carrying Pacer's marker with no posted record is recorded
// (its item settled posted); a posted record whose post is gone is flagged (public.missing_posts); a
// second post carrying one item's marker is a duplicate (public.duplicate_posts, counted by the
// operator's duplicate figure and alert).
// The comparison is one set-based SQL call per batch (private.record_reconciliation); this file only
// reads the platforms. Runtime-agnostic: the `reconcile` Edge Function (Deno) and Node import it, so
// relative .ts imports only.
import type postgres from "postgres";
import { asWorker, integer, literal, timestamp } from "../db/worker.ts";
import { decryptCredentials } from "../accounts/credentials.ts";
import type { Connector, PlatformPost } from "../connectors/types.ts";
import { MAX_ERROR_MESSAGE, MAX_EXTERNAL_ID, MAX_EXTERNAL_URL, storableText } from "../engine/store.ts";

export interface ReconcileOptions {
  sql: postgres.Sql;
  connectorFor: (platform: string) => Connector;
  /** Stop claiming accounts after this long (ms); reads in flight finish. */
  budgetMs?: number;
  /** Accounts claimed per batch (one SQL call records a batch). */
  batchSize?: number;
  /** Accounts read at once. */
  concurrency?: number;
  /** How far back each account's posts are read (ms). Longer than the schedule, so runs overlap. */
  windowMs?: number;
  /** An account reconciled less than this long ago is left for a later run (ms). */
  minAgeMs?: number;
  /** One account's read may take this long (ms) before it counts as failed. */
  readTimeoutMs?: number;
  /** Only this workspace's accounts (tests, a person's "check now"); every workspace's otherwise. */
  workspaceId?: string;
  log?: (line: string) => void;
}

/** One thing a run changed. */
export interface ReconcileChange {
  accountId: string;
  workspaceId: string;
  queueItemId: number;
  externalId: string | null;
}

export interface ReconcileReport {
  /** Accounts whose posts were read (or tried). */
  accounts: number;
  /** Posts with Pacer's marker that had no posted record: their items are now posted. */
  recorded: ReconcileChange[];
  /** Posted records whose post is gone from the platform: flagged for review. */
  flagged: ReconcileChange[];
  /** Flagged posts that are back on the platform: their flags closed. */
  reappeared: ReconcileChange[];
  /** Extra posts of one item on the platform (a duplicate publish), each with the extra post's id: recorded for review. */
  duplicates: ReconcileChange[];
  /** Accounts whose posts could not be read; retried first by the next run. */
  failed: Array<{ accountId: string; message: string }>;
  ms: number;
}

interface ClaimedAccount {
  accountId: string;
  workspaceId: string;
  platform: string;
  handle: string;
  credentialsEncrypted: string;
}

interface AccountRead {
  account_id: string;
  since: string;
  read_at: string;
  complete: boolean;
  error: string | null;
  posts: Array<{ external_id: string; url: string | null; created_at: string; marker: string | null }>;
}

export const RECONCILE_DEFAULTS = {
  budgetMs: 50_000,
  batchSize: 25,
  concurrency: 4,
  // 26 h: the schedule is hourly, so every post is read by about 25 runs before it leaves the window.
  windowMs: 26 * 3600_000,
  // 50 min: an hourly run reads each account once; a run that falls behind picks up the oldest first.
  minAgeMs: 50 * 60_000,
  readTimeoutMs: 20_000,
} as const;

export async function reconcileAccounts(opts: ReconcileOptions): Promise<ReconcileReport> {
  const o = { ...RECONCILE_DEFAULTS, ...stripUndefined(opts) };
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const report: ReconcileReport = { accounts: 0, recorded: [], flagged: [], reappeared: [], duplicates: [], failed: [], ms: 0 };
  // A lease outlives a batch's reads, so a second run never reads the same account meanwhile.
  const leaseSeconds = Math.ceil((o.readTimeoutMs * Math.ceil(o.batchSize / o.concurrency)) / 1000) + 60;

  while (Date.now() - started < o.budgetMs) {
    const accounts = await claim(opts.sql, o.batchSize, leaseSeconds, Math.floor(o.minAgeMs / 1000), new Date(started), opts.workspaceId);
    if (accounts.length === 0) break;
    report.accounts += accounts.length;
    const since = new Date(Date.now() - o.windowMs);
    const keys = await keysFor(opts.sql, accounts, opts.connectorFor, since);
    const reads = await mapLimited(accounts, o.concurrency, (a) => readAccount(a, opts.connectorFor, since, o.readTimeoutMs, keys.get(a.accountId)));
    for (const r of reads) if (r.error !== null) report.failed.push({ accountId: r.account_id, message: r.error });
    const rows = await recordReads(opts.sql, reads, log);
    for (const row of rows) {
      const change: ReconcileChange = {
        accountId: row.account_id,
        workspaceId: row.workspace_id,
        queueItemId: Number(row.queue_item_id),
        externalId: row.external_id,
      };
      if (row.change === "recorded") report.recorded.push(change);
      else if (row.change === "flagged") report.flagged.push(change);
      else if (row.change === "duplicate") report.duplicates.push(change);
      else report.reappeared.push(change);
    }
  }
  report.ms = Date.now() - started;
  log(
    `reconcile: ${report.accounts} account(s) read, ${report.recorded.length} post(s) recorded, ` +
      `${report.flagged.length} flagged missing, ${report.reappeared.length} reappeared, ${report.duplicates.length} duplicate(s), ` +
      `${report.failed.length} unreadable (${report.ms} ms)`,
  );
  return report;
}

/**
 * Record a batch's reads in one call; if the database refuses the batch, one account at a time, so
 * one account's data never stalls the others (whose leases would lapse and come first again, every run).
 */
async function recordReads(sql: postgres.Sql, reads: AccountRead[], log: (line: string) => void): Promise<postgres.Row[]> {
  const record = (batch: AccountRead[]) => asWorker(sql, `select * from private.record_reconciliation(${literal(JSON.stringify(batch))}::jsonb)`);
  try {
    return await record(reads);
  } catch (error) {
    if (reads.length === 1) {
      log(`reconcile: could not record account ${reads[0].account_id}: ${(error as Error).message}`);
      return [];
    }
    log(`reconcile: the database refused a batch of ${reads.length} (${(error as Error).message}); recording one by one`);
    const rows: postgres.Row[] = [];
    for (const read of reads) rows.push(...(await recordReads(sql, [read], log)));
    return rows;
  }
}

async function claim(
  sql: postgres.Sql,
  limit: number,
  leaseSeconds: number,
  minAgeSeconds: number,
  runStartedAt: Date,
  workspaceId?: string,
): Promise<ClaimedAccount[]> {
  const workspace = workspaceId ? `${literal(workspaceId)}::uuid` : "null";
  const rows = await asWorker(
    sql,
    `select * from private.claim_reconciliation(${integer(limit)}, ${integer(leaseSeconds)}, ${integer(minAgeSeconds)}, ${timestamp(runStartedAt)}, ${workspace})`,
  );
  return rows.map((r) => ({
    accountId: r.account_id,
    workspaceId: r.workspace_id,
    platform: r.platform,
    handle: r.handle,
    credentialsEncrypted: r.credentials_encrypted,
  }));
}

/**
 * The idempotency keys each account's connector needs to name markers (Connector.markersFromKeys):
 * its items sent since the window began. Only those accounts are asked about, in one query.
 */
async function keysFor(sql: postgres.Sql, accounts: ClaimedAccount[], connectorFor: (platform: string) => Connector, since: Date): Promise<Map<string, string[]>> {
  const wanted = accounts.filter((a) => {
    try {
      return connectorFor(a.platform).markersFromKeys === true;
    } catch {
      return false; // readAccount reports the account as unreadable.
    }
  });
  const keys = new Map<string, string[]>();
  if (wanted.length === 0) return keys;
  const ids = `array[${wanted.map((a) => `${literal(a.accountId)}::uuid`).join(",")}]`;
  const rows = await asWorker(sql, `select * from private.reconciliation_keys(${ids}, ${timestamp(since)})`);
  for (const r of rows) keys.set(r.account_id, [...(keys.get(r.account_id) ?? []), r.idempotency_key]);
  return keys;
}

/** One account's posts since the window's start, or why they could not be read. Never throws. */
async function readAccount(
  a: ClaimedAccount,
  connectorFor: (platform: string) => Connector,
  since: Date,
  timeoutMs: number,
  keys: string[] | undefined,
): Promise<AccountRead> {
  const base = { account_id: a.accountId, since: since.toISOString(), read_at: new Date().toISOString() };
  try {
    const connector = connectorFor(a.platform);
    const credentials = await decryptCredentials(a.credentialsEncrypted);
    const account = { id: a.accountId, platform: a.platform, handle: a.handle, credentials };
    const { posts, complete } = await connector.recentPosts(account, { since, signal: AbortSignal.timeout(timeoutMs), keys });
    return { ...base, complete, error: null, posts: posts.map(toRow) };
  } catch (error) {
    return { ...base, complete: false, error: storableText((error as Error).message || String(error), MAX_ERROR_MESSAGE), posts: [] };
  }
}

// What a platform sent, made storable: one NUL or broken surrogate would fail the whole batch's write.
const toRow = (p: PlatformPost) => ({
  external_id: storableText(p.externalId, MAX_EXTERNAL_ID) ?? "",
  url: storableText(p.url, MAX_EXTERNAL_URL),
  created_at: p.createdAt,
  marker: storableText(p.marker, 200),
});

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
