// Database rows → the queue's API shapes, in one place: a post (as add, edit and duplicate reply
// with it) and a queue item (as the list, the detail and add reply with it).
import type { Row } from "@/lib/db";
import type { Post, QueueItem, WaitingFor } from "./types";

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** The posts columns toPost reads: `returning ${POST_COLUMNS}` or `select ${POST_COLUMNS}`. */
export const POST_COLUMNS = "id, workspace_id, text, media_urls, first_comment, thread, platform_options, destination, created_at";

export function toPost(r: Row): Post {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    text: r.text,
    mediaUrls: r.media_urls,
    firstComment: r.first_comment,
    thread: r.thread,
    platformOptions: r.platform_options,
    destination: r.destination,
    createdAt: r.created_at.toISOString(),
  };
}

export const ITEM_SELECT = `
  select q.id, q.post_id, p.text, p.thread, p.platform_options, q.account_id, a.handle, a.platform, a.state as account_state,
         a.archived_at is not null as account_removed,
         q.status, q.priority, q.scheduled_for,
         case when q.status in ('pending', 'rate_limited', 'verifying') and q.lease_id is null and isfinite(q.run_at)
              then q.run_at end as next_attempt_at,
         q.status in ('pending', 'rate_limited') and q.lease_id is null and not isfinite(q.run_at) as held,
         q.posted_at, q.attempts, q.last_error, q.error_class, q.external_url, q.cancel_requested,
         q.created_at, q.updated_at
  from public.queue_items q
  join public.posts p on p.id = q.post_id
  join public.social_accounts a on a.id = q.account_id`;

/** An account the engine publishes to (private.account_can_publish). */
const PUBLISHING_STATES = new Set(["connected", "active"]);

/**
 * Why a waiting item is not going out on its own time: its account cannot publish (paused, needs
 * reconnecting, …; the claim holds such items) or its destination is held. Null when nothing holds it.
 */
function waitingFor(r: Row): WaitingFor | null {
  if (r.status !== "pending" && r.status !== "rate_limited") return null;
  if (!PUBLISHING_STATES.has(r.account_state)) return "account";
  if (r.held) return "destination";
  return null;
}

export function toQueueItem(r: Row): QueueItem {
  return {
    id: Number(r.id),
    postId: r.post_id,
    text: r.text,
    thread: r.thread ?? [],
    platformOptions: r.platform_options ?? {},
    accountId: r.account_id,
    handle: r.handle,
    platform: r.platform,
    accountState: r.account_state,
    accountRemoved: r.account_removed ?? false,
    status: r.status,
    waitingFor: waitingFor(r),
    priority: r.priority,
    scheduledFor: r.scheduled_for.toISOString(),
    nextAttemptAt: r.next_attempt_at ? r.next_attempt_at.toISOString() : null,
    postedAt: iso(r.posted_at),
    attempts: r.attempts,
    lastError: r.last_error,
    errorClass: r.error_class,
    externalUrl: r.external_url,
    cancelRequested: r.cancel_requested,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}
