// The posting queue as its users see it: add one post or thousands, read the counts and the latest
// items, cancel, retry, and run the processor now. Every call acts as the user, under RLS.
import { z } from "zod";
import { asUser, db, literal, type Row, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, fromDatabaseError, notFound, validationFailed, type FieldIssue } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { processQueue } from "@/lib/engine/process";
import { engineSettingsFromEnv } from "@/lib/engine/settings";
import { connectorFor } from "@/lib/connectors/registry";
import { credentialStore } from "@/lib/accounts/refreshed-credentials";
import { ITEM_SELECT, POST_COLUMNS, toPost, toQueueItem } from "./rows";
import { isPastSchedule, pastScheduleMessage, type IfPast } from "@/lib/time/schedule";
import { checkAccounts, checkTextLengths, checkThreads, insertPosts, type AccountReference, type PostToQueue, type TextsToCheck, type ThreadToCheck } from "./enqueue";
import {
  MAX_BULK_ITEMS,
  addInput,
  bulkInput,
  bulkRow,
  cancelInput,
  processInput,
  retryInput,
  type BulkAddInput,
  type AddToQueueInput,
  type BulkRow,
  type CancelQueueItemsInput,
  type RetryQueueItemsInput,
} from "./input";
import {
  QUEUE_STATUSES,
  emptyCounts,
  type BulkResult,
  type CancelResult,
  type Post,
  type QueueItem,
  type QueueSchedule,
  type QueueStatus,
  type QueueStatusSummary,
  type RunReport,
} from "./types";

export * from "./types";
export * from "./manage";
export type { AddToQueueInput, BulkAddInput, BulkRowInput, CancelQueueItemsInput, RetryQueueItemsInput } from "./input";

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** The workspace a call acts on, and a 403 unless the user's role there is at least `minRole`. */
async function workspaceFor(tx: Tx, requested: string | null | undefined, minRole: "viewer" | "editor" | "admin", verb: string) {
  const workspaceId = await resolveWorkspaceId(tx, requested);
  if (minRole !== "viewer") {
    const [r] = await tx`select private.has_role_on_workspace(${workspaceId}, ${minRole}) as ok`;
    if (!r.ok) {
      const who = minRole === "editor" ? "editors, admins and owners" : "admins and owners";
      throw new PacerError(403, "forbidden", `Your role in this workspace does not allow you to ${verb}; ${who} can.`);
    }
  }
  return workspaceId;
}

/** Queue-function errors: 403 for a weak role, 404 for ids not in the workspace, 409 for items in the wrong state. */
function fromQueueError(error: unknown, ids: number[] = []): never {
  const e = error as { code?: string; message?: string; hint?: string; detail?: string };
  if (e?.code === "P0002") throw new PacerError(404, "not_found", e.message!);
  if (e?.code === "P0001" && e.detail?.includes('"queue_item_conflict"')) {
    const { items } = JSON.parse(e.detail) as { items: Array<{ id: number; status: string }> };
    const issues = items.map((it) => ({
      path: `ids.${ids.indexOf(Number(it.id))}`,
      message: `Queue item ${it.id} is ${it.status.replace("_", " ")}.`,
    }));
    throw new PacerError(409, "queue_item_conflict", [e.message, e.hint].filter(Boolean).join(" "), issues);
  }
  return fromDatabaseError(error);
}

// ------------------------------------------------------------------------------------------------
// Adding posts
// ------------------------------------------------------------------------------------------------

/** `fn` inside `within` (a transaction the caller holds as this user), or in a transaction of its own. */
const inTransaction = <T>(user: UserClaims, within: Tx | undefined, fn: (tx: Tx) => Promise<T>) =>
  within ? fn(within) : asUser(user, fn);

/**
 * One post to one or more accounts → the post and its queue items (status pending). `within`: run in
 * the caller's transaction (an Idempotency-Key records its reply in the same one).
 */
export async function addToQueue(user: UserClaims, input: AddToQueueInput, within?: Tx): Promise<{ post: Post; items: QueueItem[] }> {
  const parsed = addInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The post");
  const a = parsed.data;

  return inTransaction(user, within, async (tx) => {
    const workspaceId = await workspaceFor(tx, a.workspaceId, "editor", "queue posts");
    const issues = await checkAccounts(tx, workspaceId, a.accountIds.map((id, i) => ({ path: `accountIds.${i}`, id })));
    issues.push(...(await checkTextLengths(tx, workspaceId, [textsOf(a, "", a.accountIds)])));
    issues.push(...(await checkThreads(tx, workspaceId, [threadOf(a, "", a.accountIds)])));
    const past = pastScheduleIssues([a], () => "");
    if (issues.length || past.length) throw scheduleRefusal(issues, past, "The post");

    const { postIds } = await insertPosts(tx, workspaceId, [toPostToQueue(a, a.accountIds)]);
    const [post] = await tx.unsafe(`select ${POST_COLUMNS} from public.posts where id = $1`, [postIds[0]]);
    const items = await tx.unsafe(`${ITEM_SELECT} where q.post_id = $1 order by q.id`, [postIds[0]]);
    return { post: toPost(post), items: items.map(toQueueItem) };
  });
}

/**
 * Up to 10,000 rows in one transaction. Every row is checked — shape in TypeScript, accounts in one
 * query — and if any is bad the request is refused with every bad row listed and nothing written.
 * `dryRun` checks only. `within`: as for addToQueue.
 */
export async function bulkAddToQueue(user: UserClaims, input: BulkAddInput, within?: Tx): Promise<BulkResult> {
  const envelope = bulkInput.safeParse(input);
  if (!envelope.success) throw validationFailed(envelope.error, "The bulk request");
  const { items: raw, dryRun = false, ifPast, workspaceId: requested } = envelope.data;

  const issues: FieldIssue[] = [];
  const rows: Array<BulkRow | null> = raw.map((row, i) => {
    const r = bulkRow.safeParse(row);
    if (r.success) return r.data;
    for (const issue of r.error.issues) {
      issues.push({ path: ["items", i, ...issue.path].map(String).join("."), message: issue.message });
    }
    return null;
  });
  // Account ids are checked against the workspace even in rows with other faults, so one answer lists them all.
  const refs = raw.flatMap((row, i) => accountReferences(row, i));
  const itemCount = rows.reduce((n, r) => n + (r ? (r.accountIds?.length ?? 1) : 0), 0);
  if (itemCount > MAX_BULK_ITEMS) {
    issues.push({
      path: "items",
      message: `These rows would queue ${itemCount.toLocaleString("en")} posts; at most ${MAX_BULK_ITEMS.toLocaleString("en")} per request.`,
    });
  }

  return inTransaction(user, within, async (tx) => {
    const workspaceId = await workspaceFor(tx, requested, "editor", "queue posts");
    await requireBulkPosting(tx, workspaceId);
    issues.push(...(await checkAccounts(tx, workspaceId, refs)));
    issues.push(...(await checkTextLengths(tx, workspaceId, rows.flatMap((r, i) => (r ? [textsOf(r, `items.${i}.`, r.accountIds ?? [r.accountId!])] : [])))));
    issues.push(...(await checkThreads(tx, workspaceId, rows.flatMap((r, i) => (r ? [threadOf(r, `items.${i}.`, r.accountIds ?? [r.accountId!])] : [])))));
    const past = pastScheduleIssues(rows, (i) => `items.${i}.`, ifPast);
    if (issues.length || past.length) throw scheduleRefusal(sortByRow(issues), sortByRow(past), "The bulk request", raw.length);

    const posts = (rows as BulkRow[]).map((r) => toPostToQueue(r, r.accountIds ?? [r.accountId!]));
    if (dryRun) return { dryRun, accepted: posts.length, posts: posts.length, items: itemCount };
    const written = await insertPosts(tx, workspaceId, posts);
    return { dryRun, accepted: posts.length, posts: written.postIds.length, items: written.items };
  });
}

/** 403 unless the workspace's plan includes bulk posting (features_enabled.bulk_import), naming the plans that do. */
async function requireBulkPosting(tx: Tx, workspaceId: string) {
  const [plan] = await tx`
    select p.name, coalesce((p.features_enabled ->> 'bulk_import')::boolean, false) as allowed,
           private.plan_with_feature('bulk_import') as cheapest
    from public.workspaces w join public.plans p on p.id = w.plan_id
    where w.id = ${workspaceId}`;
  if (!plan.allowed) {
    throw new PacerError(
      403,
      "plan_feature_unavailable",
      `Bulk posting is not part of the ${plan.name} plan; ${plan.cheapest} and above include it. Upgrade in Billing, or add posts one at a time with POST /api/queue/add.`,
    );
  }
}

export function toPostToQueue(r: Omit<BulkRow, "accountId" | "accountIds">, accountIds: string[]): PostToQueue {
  return {
    text: r.text,
    mediaUrls: r.mediaUrls ?? [],
    firstComment: r.firstComment ?? null,
    thread: r.thread ?? [],
    platformOptions: r.platformOptions ?? {},
    destination: r.destination ?? null,
    accountIds,
    priority: r.priority ?? 5,
    scheduledFor: r.scheduledFor ?? null,
  };
}

const uuid = z.uuid();

type PostParts = Pick<BulkRow, "text" | "firstComment" | "thread" | "platformOptions">;

/**
 * A post's text, first comment and each part of its thread, named by their paths in the request
 * (`prefix` is the row's, in bulk): every part is a post of its own on the platform, held to its limit.
 */
function textsOf(post: PostParts, prefix: string, accountIds: string[]): TextsToCheck {
  return {
    texts: [
      { path: `${prefix}text`, text: post.text, what: "The text" },
      { path: `${prefix}firstComment`, text: post.firstComment ?? null, what: "The first comment" },
      ...(post.thread ?? []).map((part, i) => ({ path: `${prefix}thread.${i}`, text: part, what: `Part ${i + 2} of the thread` })),
    ],
    accountIds,
    contentWarning: post.platformOptions?.mastodon?.contentWarning,
  };
}

function threadOf(post: PostParts, prefix: string, accountIds: string[]): ThreadToCheck {
  return { prefix, threadParts: post.thread?.length ?? 0, hasFirstComment: post.firstComment != null, accountIds };
}

/** The well-formed account ids a raw row names, with their paths. */
function accountReferences(row: unknown, i: number): AccountReference[] {
  if (typeof row !== "object" || row === null) return [];
  const { accountId, accountIds } = row as { accountId?: unknown; accountIds?: unknown };
  const refs: AccountReference[] = [];
  if (typeof accountId === "string" && uuid.safeParse(accountId).success) refs.push({ path: `items.${i}.accountId`, id: accountId });
  if (Array.isArray(accountIds)) {
    accountIds.forEach((id, j) => {
      if (typeof id === "string" && uuid.safeParse(id).success) refs.push({ path: `items.${i}.accountIds.${j}`, id });
    });
  }
  return refs;
}

const rowOf = (path: string) => Number(path.split(".")[1] ?? -1);
const sortByRow = (issues: FieldIssue[]) => issues.sort((a, b) => rowOf(a.path) - rowOf(b.path));

/**
 * The rule for a schedule in the past (lib/time/schedule.ts): a scheduledFor more than 5 minutes ago
 * is an issue at its field unless the row (or the request, `fallback`) says ifPast: "publish_now".
 * Times accepted here that are in the past are stored as now (insertPosts).
 */
export function pastScheduleIssues(
  rows: Array<{ scheduledFor?: string; ifPast?: IfPast } | null>,
  prefix: (i: number) => string,
  fallback?: IfPast,
  now: number = Date.now(),
): FieldIssue[] {
  return rows.flatMap((r, i) =>
    r && isPastSchedule(r.scheduledFor, now) && (r.ifPast ?? fallback ?? "refuse") === "refuse"
      ? [{ path: `${prefix(i)}scheduledFor`, message: pastScheduleMessage(r.scheduledFor!, now) }]
      : [],
  );
}

/**
 * A 422 scheduled_in_past when a time in the past is all that is wrong (the sender chooses: a new
 * time, or publish now), else the usual 400 listing every issue, the past times among them.
 */
export function scheduleRefusal(issues: FieldIssue[], past: FieldIssue[], what: string, rows?: number): PacerError {
  if (issues.length > 0) return invalid(rows === undefined ? [...issues, ...past] : sortByRow([...issues, ...past]), what, rows);
  const head = past.slice(0, 3).map((i) => `${i.path}: ${i.message}`).join("; ");
  const more = past.length > 3 ? `; and ${past.length - 3} more (see issues)` : "";
  return new PacerError(422, "scheduled_in_past", `${what} is scheduled in the past; nothing was queued. ${head}${more}`, past);
}

function invalid(issues: FieldIssue[], what: string, rows?: number): PacerError {
  const badRows = new Set(issues.map((i) => i.path.match(/^items\.(\d+)/)?.[1]).filter(Boolean)).size;
  const head = issues.slice(0, 3).map((i) => `${i.path}: ${i.message}`).join("; ");
  const more = issues.length > 3 ? `; and ${issues.length - 3} more (see issues)` : "";
  const scope = rows !== undefined && badRows ? ` ${badRows} of ${rows} rows have problems; nothing was queued.` : "";
  return new PacerError(400, "validation_failed", `${what} is not valid:${scope} ${head}${more}.`, issues);
}

// ------------------------------------------------------------------------------------------------
// Reading the queue
// ------------------------------------------------------------------------------------------------

/**
 * Counts by status and platform from the counter deltas (never a count over the items), the next
 * due and oldest waiting times from two indexed min() reads.
 */
export function getQueueStatus(user: UserClaims, requestedWorkspaceId?: string | null): Promise<QueueStatusSummary> {
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, requestedWorkspaceId);
    // Three independent reads, sent together in one round trip (not five): the workspace id inlined,
    // as a statement with parameters costs postgres.js a round trip of its own to describe them
    // (`prepare: false`, lib/db) and holds back the statements behind it.
    const ws = literal(workspaceId);
    const [counters, [times], [schedule]] = await Promise.all([
      tx.unsafe(`select platform, status, n from private.queue_counts(${ws})`),
      tx.unsafe(`
        select
          (select min(q.run_at) from public.queue_items q
            where q.workspace_id = ${ws} and q.lease_id is null
              and q.status in ('pending', 'rate_limited', 'verifying') and q.run_at < 'infinity') as next_due_at,
          (select min(q.scheduled_for) from public.queue_items q
            where q.workspace_id = ${ws} and q.status in ('pending', 'rate_limited')) as oldest_pending_at`),
      tx.unsafe(`select every_seconds, enabled, last_call_at from private.queue_schedule()`),
    ]);

    const counts = emptyCounts();
    const byPlatform: Record<string, Record<QueueStatus, number>> = {};
    for (const c of counters) {
      const n = Number(c.n);
      counts[c.status as QueueStatus] += n;
      // '?' holds the items of accounts deleted since: in the totals, under no platform.
      if (c.platform === "?" || n === 0) continue;
      (byPlatform[c.platform] ??= emptyCounts())[c.status as QueueStatus] += n;
    }
    const total = QUEUE_STATUSES.reduce((sum, s) => sum + counts[s], 0);
    const settled = counts.posted + counts.failed;
    return {
      workspaceId,
      total,
      counts,
      successRate: settled ? counts.posted / settled : null,
      nextDueAt: iso(times.next_due_at),
      oldestPendingAt: iso(times.oldest_pending_at),
      byPlatform,
      schedule: scheduleOf(schedule),
    };
  });
}

/**
 * When the queue is next processed: the last recorded run plus the interval. A last run older than
 * two intervals means no scheduler is running (e.g. locally without the gateway): then only the
 * interval is known, and nextRunAt is null rather than a time that will not come.
 */
function scheduleOf(row: Row | undefined): QueueSchedule {
  if (!row || !row.enabled) return { everySeconds: null, lastRunAt: null, nextRunAt: null };
  const last = (row.last_call_at as Date | null)?.getTime() ?? null;
  const everyMs = row.every_seconds * 1000;
  const fresh = last !== null && Date.now() - last < 2 * everyMs;
  return {
    everySeconds: row.every_seconds,
    lastRunAt: iso(row.last_call_at),
    nextRunAt: fresh ? new Date(last + everyMs).toISOString() : null,
  };
}

// ------------------------------------------------------------------------------------------------
// Changing items: cancel, retry (the state changes themselves live in SQL)
// ------------------------------------------------------------------------------------------------

/**
 * Cancel by ids, or by filter (account, scheduled time range). Waiting items are cancelled at once;
 * items mid-publish are marked cancel_requested and end cancelled unless the attempt in flight posted.
 */
export async function cancelQueueItems(user: UserClaims, input: CancelQueueItemsInput): Promise<CancelResult> {
  const parsed = cancelInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The cancel request");
  const c = parsed.data;
  return asUser(user, async (tx) => {
    const workspaceId = await workspaceFor(tx, c.workspaceId, "editor", "cancel posts");
    if (c.accountId) {
      const [a] = await tx`select 1 from public.social_accounts where id = ${c.accountId} and workspace_id = ${workspaceId}`;
      if (!a) throw notFound("Account");
    }
    try {
      const [r] = await tx`
        select * from private.cancel_queue_items(${workspaceId}, ${c.ids ?? null}::bigint[], ${c.accountId ?? null}::uuid,
                                                 ${c.from ?? null}::timestamptz, ${c.to ?? null}::timestamptz)`;
      return { cancelled: r.cancelled, cancelRequested: r.cancel_requested };
    } catch (error) {
      return fromQueueError(error, c.ids);
    }
  });
}

/** Send failed or needs_review items back to pending, due now: a person decided to try again. */
export async function retryQueueItems(user: UserClaims, input: RetryQueueItemsInput): Promise<{ retried: number }> {
  const parsed = retryInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The retry request");
  const r = parsed.data;
  return asUser(user, async (tx) => {
    const workspaceId = await workspaceFor(tx, r.workspaceId, "editor", "retry posts");
    try {
      const [row] = await tx`select private.retry_queue_items(${workspaceId}, ${r.ids}::bigint[]) as n`;
      return { retried: row.n };
    } catch (error) {
      return fromQueueError(error, r.ids);
    }
  });
}

// ------------------------------------------------------------------------------------------------
// Processing now
// ------------------------------------------------------------------------------------------------

/** How long a run started from the API may claim for; attempts in flight then finish (each ≤ the call timeout). */
export const PROCESS_NOW_BUDGET_MS = 10_000;
/** The longest a platform call of such a run may take (shorter where the operator's PACER_CALL_TIMEOUT_MS is). */
const PROCESS_NOW_CALL_TIMEOUT_MS = 10_000;
/** A run's lease outlives its budget and its last calls, so two runs of one workspace never overlap. */
export const PROCESS_NOW_LEASE_SECONDS = (PROCESS_NOW_BUDGET_MS + PROCESS_NOW_CALL_TIMEOUT_MS) / 1000 + 10;

/**
 * Owners and admins: publish their workspace's due items now, in this server process, then return
 * its status. Only that workspace's items are claimed, one run per workspace at a time (a lease row:
 * a second call gets 409), few at once, so the web server's pool stays free for requests.
 */
export async function processQueueNow(
  user: UserClaims,
  requestedWorkspaceId?: string | null,
): Promise<{ ran: true; run: RunReport; status: QueueStatusSummary }> {
  const { workspaceId, lease } = await asUser(user, async (tx) => {
    const workspaceId = await workspaceFor(tx, requestedWorkspaceId, "admin", "run the queue now");
    const [run] = await tx`select private.start_process_now(${workspaceId}, ${PROCESS_NOW_LEASE_SECONDS}) as lease`;
    return { workspaceId, lease: run.lease as string | null };
  });
  if (!lease) {
    throw new PacerError(
      409,
      "already_running",
      `This workspace's queue is already being processed by an earlier request; wait for it to finish (at most ${PROCESS_NOW_LEASE_SECONDS} seconds) and try again.`,
    );
  }
  // This run's name in the posting history, so its report counts only what it did.
  const worker = `now-${crypto.randomUUID().slice(0, 8)}`;
  const startedAt = new Date();
  let claimed = 0;
  try {
    // The operator's engine settings (retries, lookup waits, leases), as the worker and the Edge Function read them.
    const settings = engineSettingsFromEnv(process.env);
    const summary = await processQueue({
      sql: db(),
      ...settings,
      // "now-": the history's worker column tells a run of this web server's process now from the
      // worker's (PACER_WORKER_ID, worker-<pid>) and the Edge Function's (edge-…).
      worker,
      connectorFor: (platform) => connectorFor(platform, process.env, { storeCredentials: credentialStore(db()) }),
      workspaceId,
      budgetMs: PROCESS_NOW_BUDGET_MS,
      // Never longer than the operator's: their item lease (PACER_LEASE_SECONDS) is sized to outlive
      // their call timeout, and the engine refuses to run a call that could outlast its lease.
      callTimeoutMs: Math.min(settings.callTimeoutMs ?? PROCESS_NOW_CALL_TIMEOUT_MS, PROCESS_NOW_CALL_TIMEOUT_MS),
      concurrency: 10,
      batchSize: 10,
    });
    claimed = summary.claimed;
  } finally {
    await asUser(user, (tx) => tx`select private.finish_process_now(${workspaceId}, ${lease})`);
  }
  return { ran: true, run: await runReport(user, workspaceId, worker, startedAt, claimed), status: await getQueueStatus(user, workspaceId) };
}

/** Where the items this run attempted stand now: published, failed, waiting to try again, or needing review. */
async function runReport(user: UserClaims, workspaceId: string, worker: string, startedAt: Date, claimed: number): Promise<RunReport> {
  const rows = await asUser(user, (tx) => tx`
    select q.status, count(*)::integer as n from public.queue_items q
    where q.id in (select h.queue_item_id from public.posting_history h
                   where h.workspace_id = ${workspaceId} and h.finished_at >= ${startedAt} and h.worker = ${worker})
    group by q.status`);
  const n = (statuses: string[]) => rows.filter((r) => statuses.includes(r.status)).reduce((sum, r) => sum + r.n, 0);
  return {
    claimed,
    published: n(["posted"]),
    failed: n(["failed"]),
    retrying: n(["pending", "rate_limited", "verifying", "processing"]),
    needsReview: n(["needs_review"]),
  };
}

/** The process route's body (optional): `{ workspaceId? }`; 400 for anything else. */
export function parseProcessRequest(input: unknown): { workspaceId?: string | null } {
  const parsed = processInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The request");
  return parsed.data;
}
