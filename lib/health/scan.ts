// A health scan run: lease accounts due for a scan, read each one's metrics through its connector
// (each at the read time the claim gave it: the platform's pace, shared by every scan), and hand the
// results to the database, which stores the snapshots and evaluates the rules for the whole batch in
// one call. The same code runs in the scan-health Edge Function (Deno), `npm run worker` and tests.
// Runtime-agnostic.
import type { Connector, ConnectorAccount } from "../connectors/types.ts";
import { decryptCredentials } from "../accounts/credentials.ts";
import { claimAccountsForScan, maintainHealthStorageIfDue, recordHealthScan, type ClaimedAccount, type ScanResult, type Sql } from "./store.ts";

export interface ScanOptions {
  sql: Sql;
  worker: string;
  connectorFor: (platform: string) => Connector;
  /** Scan only this workspace's due accounts ("check all now"); storage upkeep is then left to the scheduled runs. */
  workspaceId?: string;
  /** Stop claiming after this long; reads in flight are finished and recorded. */
  budgetMs: number;
  /** Accounts per claim (and per recorded batch). */
  batchSize?: number;
  /** Reads in flight at once, across platforms. */
  concurrency?: number;
  /** A lease outlives a read's timeout by a wide margin. */
  leaseSeconds?: number;
  /** Give up one read after this long; the account's snapshot records the error. */
  readTimeoutMs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface ScanSummary {
  claimed: number;
  read: number;
  readErrors: number;
  recorded: number;
  alertsOpened: number;
  alertsResolved: number;
  accountsPaused: number;
  /** What the daily storage upkeep did, when this run was the one to do it. */
  upkeep: Record<string, unknown> | null;
  ms: number;
}

export const SCAN_DEFAULTS = { batchSize: 50, concurrency: 10, leaseSeconds: 120, readTimeoutMs: 15_000 };

export async function scanHealth(opts: ScanOptions): Promise<ScanSummary> {
  const o = { ...SCAN_DEFAULTS, ...opts };
  // A short budget (a person's "check all now") still reads: a read may take at most half of it.
  o.readTimeoutMs = Math.min(o.readTimeoutMs, Math.max(1_000, Math.floor(o.budgetMs / 2)));
  const log = o.log ?? (() => {});
  const started = Date.now();
  const deadline = started + o.budgetMs;
  const summary: ScanSummary = { claimed: 0, read: 0, readErrors: 0, recorded: 0, alertsOpened: 0, alertsResolved: 0, accountsPaused: 0, upkeep: null, ms: 0 };

  // A batch is claimed only when its reads can finish inside the budget: the claim hands out only
  // reads whose turn (the platform's pace, across every scan) comes before the budget ends.
  while (!o.signal?.aborted && Date.now() + o.readTimeoutMs < deadline) {
    let batch: ClaimedAccount[];
    try {
      const withinSeconds = Math.floor((deadline - o.readTimeoutMs - Date.now()) / 1000);
      if (withinSeconds < 1) break;
      batch = await claimAccountsForScan(o.sql, { worker: o.worker, limit: o.batchSize, leaseSeconds: o.leaseSeconds, workspaceId: o.workspaceId, withinSeconds });
    } catch (error) {
      log(`scan: claim failed: ${(error as Error).message}`);
      break;
    }
    // Nothing due, or every due platform's reads for the rest of the budget already handed out.
    if (batch.length === 0) break;
    summary.claimed += batch.length;

    const results = await readAll(batch, o, deadline);
    summary.read += results.filter((r) => !("error" in r)).length;
    summary.readErrors += results.filter((r) => "error" in r).length;
    try {
      const written = await recordHealthScan(o.sql, results);
      summary.recorded += written.recorded;
      summary.alertsOpened += written.alertsOpened;
      summary.alertsResolved += written.alertsResolved;
      summary.accountsPaused += written.accountsPaused;
    } catch (error) {
      // The leases expire and the accounts are scanned again by a later run: nothing is lost.
      log(`scan: recording ${results.length} result(s) failed, they will be scanned again: ${(error as Error).message}`);
      break;
    }
  }
  // Once a day, whichever run comes first: partitions ahead, daily rollups, retention.
  if (!o.workspaceId) {
    summary.upkeep = await maintainHealthStorageIfDue(o.sql).catch((error: Error) => {
      log(`scan: health storage upkeep failed, the next run tries again: ${error.message}`);
      return null;
    });
  }
  summary.ms = Date.now() - started;
  return summary;
}

/**
 * Read every claimed account, at most `concurrency` at once, each at its read time. The claim spaced
 * the read times of each platform at its pace (public.platforms.scan_reads_per_minute) across every
 * scan, so overlapping scans together never read a platform faster; reads are spread, never burst.
 */
async function readAll(batch: ClaimedAccount[], o: typeof SCAN_DEFAULTS & ScanOptions, deadline: number): Promise<ScanResult[]> {
  const results: ScanResult[] = [];
  const queue = [...batch].sort((a, b) => a.readAt.getTime() - b.readAt.getTime());
  const workers = Array.from({ length: Math.min(o.concurrency, batch.length) }, async () => {
    for (let claimed = queue.shift(); claimed; claimed = queue.shift()) {
      // A read that could not end inside the budget is left unread (its lease lapses, and a later
      // run reads it); the claim's horizon makes this rare.
      const at = claimed.readAt.getTime();
      if (at + o.readTimeoutMs > deadline) continue;
      if (at > Date.now()) await new Promise((r) => setTimeout(r, at - Date.now()));
      results.push(await readOne(claimed, o));
    }
  });
  await Promise.all(workers);
  return results;
}

/** One account's metrics, or why there are none: never throws (one account never fails a scan). */
async function readOne(claimed: ClaimedAccount, o: typeof SCAN_DEFAULTS & ScanOptions): Promise<ScanResult> {
  const base = { accountId: claimed.accountId, leaseId: claimed.leaseId };
  try {
    const connector = o.connectorFor(claimed.platform);
    const account: ConnectorAccount = {
      id: claimed.accountId,
      platform: claimed.platform,
      handle: claimed.handle,
      credentials: claimed.credentialsEncrypted ? await decryptCredentials(claimed.credentialsEncrypted) : {},
    };
    const metrics = await connector.readMetrics(account, { signal: AbortSignal.timeout(o.readTimeoutMs) });
    // Figures the database could not store (a bigint) would fail the whole batch's write.
    const bad = (["reach", "engagement", "followers"] as const).find((k) => !(Number.isFinite(metrics[k]) && metrics[k] >= 0 && metrics[k] < 2 ** 53));
    if (bad) throw new Error(`the platform reported ${bad} = ${String(metrics[bad])}, not a count`);
    return { ...base, reach: metrics.reach, engagement: metrics.engagement, followers: metrics.followers };
  } catch (error) {
    return { ...base, error: error instanceof Error ? error.message : String(error) };
  }
}
