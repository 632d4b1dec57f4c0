// The engine's database calls: thin wrappers over the SQL functions in the queue migration, each
// run as the least-privilege `pacer_worker` role. Runtime-agnostic (postgres.js runs in Node and Deno).
import type postgres from "postgres";
import type { PlatformOptions, RateLimitBudget } from "../connectors/types.ts";
import type { NextRun } from "./backoff.ts";
import { asWorker, integer, literal } from "../db/worker.ts";

export type Sql = postgres.Sql;

/** A queue item leased to this worker, with what it needs to publish or verify it. */
export interface ClaimedItem {
  id: number;
  leaseId: string;
  /** When the lease ends (epoch ms, this process's clock, counted from before the claim was sent). */
  leaseEndsAt: number;
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
  /** The post's further parts, each a reply to the one before ([] for a single post). */
  thread?: string[];
  /** The post's per-platform options (posts.platform_options). */
  options?: PlatformOptions;
  /**
   * Verifications of items with a thread or first comment: whether the rest may still be sent (the
   * account publishable, the item not cancelled), and why not. Unset: not asked (nothing to finish).
   */
  finish?: { allowed: boolean; reason: string | null };
  destination: string | null;
  /**
   * Verifications only: what the history says of the publish being checked, for platforms whose posts
   * carry no key of ours (Mastodon): when it was sent (no later than that), any id an answer gave, and
   * the ids recorded for the account's other items since (never this one's post). Unset when the
   * history could not be read.
   */
  sent?: { sentAt: string | null; externalId: string | null; otherExternalIds: string[] };
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
  /** Whether and when the item runs again, as this attempt decided (NextRun in backoff.ts). */
  next: NextRun;
  /** Publishes: when the call's time ran out (its start + call timeout); nothing of it leaves later. */
  callDeadlineAt?: Date;
  /** Unanswered lookups: the waits before asking again, the n-th for the n-th unanswered lookup in a row. */
  verifyRetryMs?: number[];
  /** The rate-limit budget the platform's answer stated, kept in the history. */
  rateLimit?: RateLimitBudget;
  /** The budget is spent (lib/engine/budget.ts): the account is sent nothing more before this. */
  budgetUntil?: Date | null;
  startedAt: Date;
  finishedAt: Date;
  latencyMs: number;
  worker: string;
}

export async function claimDuePosts(
  sql: Sql,
  opts: { worker: string; limit: number; leaseSeconds: number; workspaceId?: string },
): Promise<ClaimedItem[]> {
  // Only this workspace's items when one is named ("process now"); otherwise every tenant's, in turn.
  const workspace = opts.workspaceId ? `${literal(opts.workspaceId)}::uuid` : "null";
  // Measured before asking: the database starts the lease later than this, never earlier.
  const leaseEndsAt = Date.now() + opts.leaseSeconds * 1000;
  const rows = await asWorker(
    sql,
    `select * from private.claim_due_posts(${literal(opts.worker)}, ${integer(opts.limit)}, ${integer(opts.leaseSeconds)}, ${workspace})`,
  );
  const items: ClaimedItem[] = rows.map((r) => ({
    id: Number(r.id),
    leaseId: r.lease_id,
    leaseEndsAt,
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
    ...postParts(r),
  }));
  await attachSentAttempts(sql, items);
  return items;
}

/**
 * What the claim's row says of the post beyond its text: its thread and platform options (set only
 * when the post has either), and for verifications that may finish a thread or first comment,
 * whether the rest may be sent now (private.claim_due_posts decides: a publishable account and an
 * item not cancelled; a verification that finished parts on a paused account would break what a
 * pause promises).
 */
function postParts(r: Record<string, unknown>): Pick<ClaimedItem, "thread" | "options" | "finish"> {
  const thread = Array.isArray(r.thread) ? (r.thread as string[]) : [];
  const options = (r.platform_options ?? {}) as PlatformOptions;
  const parts: Pick<ClaimedItem, "thread" | "options" | "finish"> = {};
  if (thread.length > 0 || Object.keys(options).length > 0) Object.assign(parts, { thread, options });
  if (r.mode === "verify" && (thread.length > 0 || r.first_comment)) {
    parts.finish = { allowed: r.finish_allowed === true, reason: (r.finish_reason as string | null) ?? null };
  }
  return parts;
}

/**
 * For the items to verify: the send time and any recorded id of the publish being checked, and the
 * ids recorded for the account's other items, from the history, in one read. If it fails, `sent`
 * stays unset and the lookup is given nothing of the attempt (runAttempt): a Mastodon lookup then
 * answers "unavailable" and is asked again later, rather than read a day of statuses without
 * knowing which belong to other items. A claim is never lost to it.
 */
async function attachSentAttempts(sql: Sql, items: ClaimedItem[]): Promise<void> {
  const verifying = items.filter((i) => i.mode === "verify");
  if (verifying.length === 0) return;
  const ids = verifying.map((i) => integer(i.id)).join(",");
  try {
    const rows = await asWorker(sql, `select * from private.sent_attempts(array[${ids}]::bigint[])`);
    const byId = new Map(rows.map((r) => [Number(r.queue_item_id), r]));
    for (const item of verifying) {
      const row = byId.get(item.id);
      item.sent = {
        sentAt: row?.sent_at ? new Date(row.sent_at).toISOString() : null,
        externalId: row?.external_id ?? null,
        otherExternalIds: Array.isArray(row?.other_external_ids) ? (row.other_external_ids as string[]) : [],
      };
    }
  } catch {
    // Left unset: see above.
    for (const item of verifying) delete item.sent;
  }
}

/** Caps on what a platform's answer may put in a row (ids, links and messages are far shorter in practice). */
export const MAX_EXTERNAL_ID = 256;
export const MAX_EXTERNAL_URL = 2048;
export const MAX_ERROR_MESSAGE = 2000;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text a platform sent, made storable: at most `max` characters, without NUL or lone surrogates.
 * Postgres' text and jsonb refuse both, and one refused string fails the whole batch it is in.
 */
export function storableText(value: unknown, max: number): string | null {
  if (value === null || value === undefined) return null;
  // Cut first: a cut can split a surrogate pair, and the lone half is then removed too.
  return String(value).slice(0, max).replace(/\u0000/g, "").replace(LONE_SURROGATE, "");
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
    external_id: storableText(r.externalId, MAX_EXTERNAL_ID),
    external_url: storableText(r.externalUrl, MAX_EXTERNAL_URL),
    error_message: storableText(r.errorMessage, MAX_ERROR_MESSAGE),
    retry_at: typeof r.next === "object" ? r.next.retryAt.toISOString() : null,
    started_at: r.startedAt.toISOString(),
    finished_at: r.finishedAt.toISOString(),
    latency_ms: r.latencyMs,
    worker: r.worker,
    call_deadline_at: r.callDeadlineAt?.toISOString() ?? null,
    verify_retry_ms: r.verifyRetryMs ?? null,
    rate_limit: r.rateLimit ? storableBudget(r.rateLimit) : null,
    budget_until: r.budgetUntil?.toISOString() ?? null,
  }));
  const rows = await asWorker(sql, `select * from private.record_outcomes(${literal(JSON.stringify(payload))}::jsonb)`);
  return new Map(rows.map((r) => [Number(r.id), r.applied as boolean]));
}

/** A platform's stated budget as the history keeps it: numbers and a time only, whatever else the answer held. */
function storableBudget(b: RateLimitBudget): Record<string, number | string> | null {
  const reset = Date.parse(b.resetAt);
  if (![b.limit, b.remaining, reset].every(Number.isFinite)) return null;
  const out: Record<string, number | string> = { limit: b.limit, remaining: b.remaining, reset_at: new Date(reset).toISOString() };
  if (b.windowSeconds !== undefined && Number.isFinite(b.windowSeconds)) out.window_seconds = b.windowSeconds;
  return out;
}

/** Send items whose worker stopped mid-attempt to verification. Returns how many. */
export async function recoverExpiredLeases(sql: Sql, limit = 1000): Promise<number> {
  const [row] = await asWorker(sql, `select private.recover_expired_leases(${integer(limit)}) as n`);
  return row.n as number;
}

/**
 * The engine's own housekeeping after a processing run: fold counter deltas, prune old ledger rows.
 * Anything else a runner wants done on the side (billing's grace sweep) it passes to processQueue.
 */
export async function tidyUp(sql: Sql): Promise<void> {
  await asWorker(sql, "select private.compact_queue_counters(), private.prune_rate_limit_ledger()");
}
