// Managing the queue from its page or the API: pages through any number of items (filters, text
// search, a keyset cursor), one bulk action on a selection or on everything matching a filter with
// an outcome per item, restoring cancelled items, an item's detail with every attempt, and
// duplicating a post. Every call acts as the user: RLS decides what is visible, the SQL functions
// (supabase/migrations/*_queue_management.sql) decide what may change.
import { asUser, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, fromDatabaseError, notFound, validationFailed } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";
import type { AddToQueueInput } from "./input";
import {
  MAX_BULK_SELECTION,
  bulkActionInput,
  duplicateInput,
  pageInput,
  restoreInput,
  type BulkActionInput,
  type DuplicateInput,
  type PageQuery,
  type RestoreInput,
} from "./manage-input";
import { ITEM_SELECT, POST_COLUMNS, toPost, toQueueItem } from "./rows";
import type { BulkAction, BulkOutcome, ItemOutcome, QueueItemDetail, QueuePage, QueueStatus, SkipReason } from "./types";

export type { BulkActionInput, DuplicateInput, PageQuery, RestoreInput, QueueFilter } from "./manage-input";

// ------------------------------------------------------------------------------------------------
// Pages
// ------------------------------------------------------------------------------------------------

interface Cursor {
  at: string;
  id: number;
  order: "newest" | "oldest";
}

/** The position after a page's last item: its scheduled time and id (the order's keys), opaque to callers. */
const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify([c.at, c.id, c.order])).toString("base64url");

const badCursor = () =>
  new PacerError(400, "validation_failed", "cursor is not one Pacer gave: send the nextCursor of the page before, unchanged, with the same order.", [
    { path: "cursor", message: "Send the nextCursor of the page before, unchanged." },
  ]);

/**
 * A cursor only says where to resume: a page still shows only the caller's workspace, so a forged
 * one can move the start, never widen what is seen. Anything not of the shape Pacer makes is refused.
 */
function decodeCursor(raw: string, order: Cursor["order"]): Cursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(value) || value.length !== 3) throw badCursor();
  const [at, id, o] = value as [unknown, unknown, unknown];
  if (typeof at !== "string" || Number.isNaN(Date.parse(at)) || !/^\d{4}-\d\d-\d\dT/.test(at)) throw badCursor();
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) throw badCursor();
  if (o !== order) throw badCursor();
  return { at, id, order };
}

/** `q` as an ILIKE pattern that matches it literally anywhere. */
const containing = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

type Filters = {
  status?: QueueStatus[];
  accountId?: string;
  platform?: string;
  from?: string;
  to?: string;
  q?: string;
};

/** The ids matching `f` after `after`, in `order`, at most `limit`: private.queue_page_ids. */
async function pageIds(tx: Tx, workspaceId: string, f: Filters, order: Cursor["order"], limit: number, after?: Cursor): Promise<number[]> {
  const rows = await tx`
    select id from private.queue_page_ids(
      ${workspaceId}, ${f.status?.length ? f.status : null}::public.queue_status[], ${f.accountId ?? null}::uuid, ${f.platform ?? null},
      ${f.from ?? null}::timestamptz, ${f.to ?? null}::timestamptz, ${f.q ? containing(f.q) : null},
      ${after?.at ?? null}::timestamptz, ${after?.id ?? null}::bigint, ${order === "newest"}, ${limit}) as id`;
  return rows.map((r) => Number(r.id));
}

/**
 * One page of the workspace's items matching the filters, latest scheduled first (or oldest), ties
 * broken by id: a keyset on (scheduled_for, id), so paging through any number of items never skips
 * or repeats one, even while items are added. The first page also says how many match (up to
 * MAX_BULK_SELECTION, for "select all N matching").
 */
export async function listQueuePage(user: UserClaims, query: PageQuery = {}): Promise<QueuePage> {
  const parsed = pageInput.safeParse(query);
  if (!parsed.success) throw validationFailed(parsed.error, "The query");
  const { workspaceId: requested, cursor, order, limit, ...filters } = parsed.data;
  const after = cursor ? decodeCursor(cursor, order) : undefined;
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, requested);
    const ids = await pageIds(tx, workspaceId, filters, order, limit + 1, after);
    const pageIdsOnly = ids.slice(0, limit);
    const rows = pageIdsOnly.length ? await tx.unsafe(`${ITEM_SELECT} where q.id = any ($1::bigint[])`, [pageIdsOnly]) : [];
    const byId = new Map(rows.map((r) => [Number(r.id), toQueueItem(r)]));
    // In the page's order; an item RLS hides (none should be) is left out rather than shown empty.
    const items = pageIdsOnly.map((id) => byId.get(id)).filter((i) => i !== undefined);
    const last = items.at(-1);
    let matching: number | null = null;
    let matchingCapped = false;
    if (!after) {
      const n = ids.length <= limit ? ids.length : (await pageIds(tx, workspaceId, filters, order, MAX_BULK_SELECTION + 1)).length;
      matchingCapped = n > MAX_BULK_SELECTION;
      matching = Math.min(n, MAX_BULK_SELECTION);
    }
    return {
      workspaceId,
      items,
      nextCursor: ids.length > limit && last ? encodeCursor({ at: last.scheduledFor, id: last.id, order }) : null,
      matching,
      matchingCapped,
    };
  });
}

// ------------------------------------------------------------------------------------------------
// Bulk actions and restore
// ------------------------------------------------------------------------------------------------

const DONE_OUTCOME: Record<BulkAction | "restore", ItemOutcome["outcome"]> = {
  cancel: "cancelled",
  retry: "retried",
  reschedule: "rescheduled",
  restore: "restored",
};

const SKIP_MESSAGES: Record<SkipReason, string> = {
  not_found: "There is no queue item with this id in this workspace.",
  already_posted: "Already posted.",
  already_failed: "Already failed: nothing is waiting to cancel. Retry it instead.",
  already_cancelled: "Already cancelled.",
  cancel_already_requested: "Being published now; a cancel is already requested.",
  not_failed: "Only failed items and items needing review can be retried.",
  not_waiting: "No longer waiting to be sent, so it cannot be rescheduled.",
  in_flight: "Being published now; wait for the outcome.",
  account_not_publishable: "Pacer cannot publish to this account's platform yet; cancel it instead.",
  plan_limit: "The plan does not cover this account (it is paused for that); upgrade in Billing or remove accounts.",
  not_cancelled: "Only cancelled items can be restored.",
  time_passed: "Its scheduled time has passed; duplicate the post with a new time instead.",
  account_removed: "Its account was removed from this workspace; queue the post for another account instead.",
  was_tried: "It was tried before it was cancelled, so it may have been published; check the account, then duplicate the post if it is not there.",
};

/** A skipped item's reason: the database's own, or what its status says for this action. */
function skipReason(action: BulkAction | "restore", was: QueueStatus, reason: string | null): SkipReason {
  if (reason) return reason as SkipReason;
  if (action === "retry") return was === "posted" ? "already_posted" : "not_failed";
  if (action === "restore") return "not_cancelled";
  if (was === "posted") return "already_posted";
  if (was === "cancelled") return "already_cancelled";
  if (was === "failed") return action === "cancel" ? "already_failed" : "not_waiting";
  return "not_waiting";
}

const SQL_FUNCTION = {
  cancel: "bulk_cancel_queue_items",
  retry: "bulk_retry_queue_items",
  reschedule: "bulk_reschedule_queue_items",
  restore: "restore_queue_items",
} as const;

async function act(tx: Tx, workspaceId: string, action: BulkAction | "restore", ids: number[], at?: string): Promise<BulkOutcome> {
  let rows;
  try {
    rows =
      action === "reschedule"
        ? await tx`select * from private.bulk_reschedule_queue_items(${workspaceId}, ${ids}::bigint[], ${at!}::timestamptz)`
        : await tx.unsafe(`select * from private.${SQL_FUNCTION[action]}($1, $2::bigint[])`, [workspaceId, ids]);
  } catch (error) {
    const e = error as { code?: string; message?: string; detail?: string };
    if (e?.code === "42501") throw new PacerError(403, "forbidden", e.message!);
    if (e?.detail?.includes('"scheduled_in_past"')) {
      throw new PacerError(422, "scheduled_in_past", `The new time (${at}) is in the past; nothing was rescheduled. Choose a time from now on.`, [
        { path: "scheduledFor", message: "This time is in the past; choose a time from now on." },
      ]);
    }
    return fromDatabaseError(error);
  }
  const items: ItemOutcome[] = rows.map((r) => {
    if (r.done) {
      const outcome = action === "cancel" && r.reason === "cancel_requested" ? "cancel_requested" : DONE_OUTCOME[action];
      return { id: Number(r.id), done: true, outcome, status: r.status, reason: null, message: null };
    }
    const reason: SkipReason = r.was === null ? "not_found" : skipReason(action, r.was, r.reason);
    return { id: Number(r.id), done: false, outcome: "skipped", status: r.was === null ? null : r.status, reason, message: SKIP_MESSAGES[reason] };
  });
  const skippedBy: BulkOutcome["skippedBy"] = {};
  for (const i of items) if (i.reason) skippedBy[i.reason] = (skippedBy[i.reason] ?? 0) + 1;
  const done = items.filter((i) => i.done).length;
  return { workspaceId, action, matched: items.length, done, skipped: items.length - done, skippedBy, items };
}

/**
 * Cancel, retry or reschedule the items named by `ids`, or every item matching `filter` (at most
 * MAX_BULK_SELECTION: a filter matching more is refused with the count). One statement changes
 * every item it may; the rest are skipped, each with its reason. Editors and up.
 */
export async function bulkQueueAction(user: UserClaims, input: BulkActionInput): Promise<BulkOutcome> {
  const parsed = bulkActionInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The bulk action");
  const b = parsed.data;
  if (b.action === "reschedule" && Date.parse(b.scheduledFor!) < Date.now()) {
    throw new PacerError(422, "scheduled_in_past", `The new time (${b.scheduledFor}) is in the past; nothing was rescheduled. Choose a time from now on.`, [
      { path: "scheduledFor", message: "This time is in the past; choose a time from now on." },
    ]);
  }
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, b.workspaceId);
    let ids = b.ids;
    if (!ids) {
      ids = await pageIds(tx, workspaceId, b.filter!, "oldest", MAX_BULK_SELECTION + 1);
      if (ids.length > MAX_BULK_SELECTION) {
        throw new PacerError(
          400,
          "too_many_items",
          `More than ${MAX_BULK_SELECTION.toLocaleString("en")} items match this filter; nothing was changed. Narrow it (a status, an account, a time range) and send it again.`,
          [{ path: "filter", message: `At most ${MAX_BULK_SELECTION.toLocaleString("en")} items per request.` }],
        );
      }
      if (ids.length === 0) return { workspaceId, action: b.action, matched: 0, done: 0, skipped: 0, skippedBy: {}, items: [] };
    }
    return act(tx, workspaceId, b.action, ids, b.scheduledFor);
  });
}

/** Cancelled items back to waiting for their time, where it has not passed and they were never tried (Undo of cancel). */
export async function restoreQueueItems(user: UserClaims, input: RestoreInput): Promise<BulkOutcome> {
  const parsed = restoreInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The restore request");
  return asUser(user, async (tx) => act(tx, await resolveWorkspaceId(tx, parsed.data.workspaceId), "restore", parsed.data.ids));
}

// ------------------------------------------------------------------------------------------------
// One item in detail
// ------------------------------------------------------------------------------------------------

/** An item with its post in full (thread, media, comment) and every attempt from the posting history. */
export async function getQueueItemDetail(user: UserClaims, rawId: string, requestedWorkspaceId?: string | null): Promise<QueueItemDetail> {
  const id = Number(rawId);
  if (!/^\d{1,18}$/.test(rawId) || !Number.isSafeInteger(id) || id < 1) throw notFound("Queue item");
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, requestedWorkspaceId);
    const [row] = await tx.unsafe(`${ITEM_SELECT} where q.id = $1 and q.workspace_id = $2`, [id, workspaceId]);
    if (!row) throw notFound("Queue item");
    const [state] = await tx`
      select q.verify_attempts, private.post_edit_refusal(q.post_id, q.workspace_id) as edit_refusal
      from public.queue_items q where q.id = ${id}`;
    const [post] = await tx.unsafe(`select ${POST_COLUMNS} from public.posts where id = $1`, [row.post_id]);
    const attempts = await tx`
      select id, kind, attempt, started_at, finished_at, outcome, error_message, latency_ms, external_id
      from public.posting_history where queue_item_id = ${id} and workspace_id = ${workspaceId}
      order by started_at, id`;
    const item = toQueueItem(row);
    return {
      item,
      post: toPost(post),
      attempts: attempts.map((a) => ({
        id: Number(a.id),
        kind: a.kind,
        attempt: a.attempt,
        startedAt: a.started_at.toISOString(),
        finishedAt: a.finished_at.toISOString(),
        outcome: a.outcome,
        errorMessage: a.error_message,
        latencyMs: a.latency_ms,
        externalId: a.external_id,
      })),
      editable: state.edit_refusal === null,
      editRefusal: state.edit_refusal,
      restorable: item.status === "cancelled" && Date.parse(item.scheduledFor) > Date.now() && item.attempts === 0 && state.verify_attempts === 0,
    };
  });
}

// ------------------------------------------------------------------------------------------------
// Duplicate
// ------------------------------------------------------------------------------------------------

/**
 * What POST /api/queue/add needs to queue a copy of a post: its content, to its accounts (or the
 * ones given), at the given time or the original's when that is still ahead. The caller queues it
 * as add does (approvals included), so a copy meets every rule a new post meets.
 */
export async function duplicateRequest(user: UserClaims, postId: string, input: DuplicateInput): Promise<AddToQueueInput> {
  const parsed = duplicateInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The duplicate request");
  const d = parsed.data;
  if (!/^[0-9a-f-]{36}$/i.test(postId)) throw notFound("Post");
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, d.workspaceId);
    const [post] = await tx.unsafe(`select ${POST_COLUMNS} from public.posts where id = $1 and workspace_id = $2`, [postId, workspaceId]);
    if (!post) throw notFound("Post");
    const items = await tx`
      select q.account_id, q.priority, q.scheduled_for from public.queue_items q
      where q.post_id = ${postId} order by q.id`;
    const original = toPost(post);
    const accountIds = d.accountIds ?? [...new Set(items.map((i) => i.account_id as string))];
    if (accountIds.length === 0) {
      throw new PacerError(400, "validation_failed", "This post has no accounts left to copy it to; name them in accountIds.", [
        { path: "accountIds", message: "Choose at least one account." },
      ]);
    }
    const at = items.length ? (items[0].scheduled_for as Date) : null;
    const scheduledFor = d.scheduledFor ?? (at && at.getTime() > Date.now() ? at.toISOString() : undefined);
    if (!scheduledFor) {
      throw new PacerError(400, "validation_failed", "The original's time has passed; say when the copy goes out in scheduledFor.", [
        { path: "scheduledFor", message: "Choose when the copy goes out." },
      ]);
    }
    return {
      text: original.text,
      mediaUrls: original.mediaUrls,
      firstComment: original.firstComment,
      thread: original.thread,
      platformOptions: original.platformOptions,
      destination: original.destination,
      priority: items.length ? items[0].priority : undefined,
      accountIds,
      scheduledFor,
      workspaceId,
    };
  }).catch((error) => {
    if (error instanceof PacerError) throw error;
    return fromDatabaseError(error);
  });
}
