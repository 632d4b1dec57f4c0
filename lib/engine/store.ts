// The engine's database calls: thin wrappers over the SQL functions in the queue migration, each
// run as the least-privilege `pacer_worker` role. Runtime-agnostic (postgres.js runs in Node and Deno).
import type postgres from "postgres";

export type Sql = postgres.Sql;

/** A queue item leased to this worker, with what it needs to publish or verify it. */
export interface ClaimedItem {
  id: number;
  leaseId: string;
  /** "publish" sends the post; "verify" asks the platform whether an earlier attempt landed. */
  mode: "publish" | "verify";
  /** Publish attempts made, counting this one when mode is "publish". */
  attempts: number;
  /** Verifications made, counting this one when mode is "verify". */
  verifyAttempts: number;
  idempotencyKey: string;
  workspaceId: string;
  accountId: string;
  platform: string;
  handle: string;
  credentialsEncrypted: string | null;
  action: string;
  text: string;
  mediaUrls: string[];
  firstComment: string | null;
  destination: string | null;
}

/** What one attempt found; record_outcomes turns it into the item's next state. */
export interface AttemptResult {
  id: number;
  leaseId: string;
  mode: "publish" | "verify";
  /** Which publish (or verification) of the item this was: 1, 2, … */
  attempt: number;
  /** A PublishOutcome kind, or for verification: found, not_found, unavailable. */
  outcome: string;
  externalId?: string | null;
  externalUrl?: string | null;
  errorMessage?: string | null;
  /** When to try again (backoff, Retry-After, verification delay); null means no retry is left. */
  retryAt: Date | null;
  startedAt: Date;
  finishedAt: Date;
  latencyMs: number;
  worker: string;
}

function asWorker<T>(sql: Sql, fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    await tx`select set_config('role', 'pacer_worker', true)`;
    return fn(tx);
  }) as Promise<T>;
}

export async function claimDuePosts(
  sql: Sql,
  opts: { worker: string; limit: number; leaseSeconds: number },
): Promise<ClaimedItem[]> {
  const rows = await asWorker(
    sql,
    (tx) => tx`select * from private.claim_due_posts(${opts.worker}, ${opts.limit}, ${opts.leaseSeconds})`,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    leaseId: r.lease_id,
    mode: r.mode,
    attempts: r.attempts,
    verifyAttempts: r.verify_attempts,
    idempotencyKey: r.idempotency_key,
    workspaceId: r.workspace_id,
    accountId: r.account_id,
    platform: r.platform,
    handle: r.handle,
    credentialsEncrypted: r.credentials_encrypted,
    action: r.action,
    text: r.text,
    mediaUrls: r.media_urls,
    firstComment: r.first_comment,
    destination: r.destination,
  }));
}

/** Write a batch of outcomes in one statement. Returns which were applied (lease still held). */
export async function recordOutcomes(sql: Sql, results: AttemptResult[]): Promise<Map<number, boolean>> {
  if (results.length === 0) return new Map();
  const payload = results.map((r) => ({
    id: r.id,
    lease_id: r.leaseId,
    mode: r.mode,
    attempt: r.attempt,
    outcome: r.outcome,
    external_id: r.externalId ?? null,
    external_url: r.externalUrl ?? null,
    error_message: r.errorMessage ?? null,
    retry_at: r.retryAt?.toISOString() ?? null,
    started_at: r.startedAt.toISOString(),
    finished_at: r.finishedAt.toISOString(),
    latency_ms: r.latencyMs,
    worker: r.worker,
  }));
  const rows = await asWorker(sql, (tx) => tx`select * from private.record_outcomes(${tx.json(payload)})`);
  return new Map(rows.map((r) => [Number(r.id), r.applied as boolean]));
}

/** Send items whose worker stopped mid-attempt to verification. Returns how many. */
export async function recoverExpiredLeases(sql: Sql, limit = 1000): Promise<number> {
  const [row] = await asWorker(sql, (tx) => tx`select private.recover_expired_leases(${limit}) as n`);
  return row.n as number;
}

/** Housekeeping a processing run does on the side: fold counter deltas, prune old ledger rows, end billing grace. */
export async function tidyUp(sql: Sql): Promise<void> {
  await asWorker(sql, async (tx) => {
    await tx`select private.compact_queue_counters()`;
    await tx`select private.prune_rate_limit_ledger()`;
    // A past-due subscription's grace period ends on time even when Stripe sends nothing more.
    await tx`select private.expire_billing_grace()`;
  });
}
