// The calendar: a workspace's queue items over a time range, moving waiting items to another time,
// and editing a post before it is sent. Every call acts as the user, under RLS; the rules about what
// may move or change live in SQL (supabase/migrations/*_calendar.sql).
import { z } from "zod";
import { asUser, type Row, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, fromDatabaseError, notFound, validationFailed, type FieldIssue } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { checkAccounts, checkTextLengths, checkThreads } from "@/lib/queue/enqueue";
import { POST_COLUMNS, toPost } from "@/lib/queue/rows";
import { isPastSchedule, pastScheduleMessage } from "@/lib/time/schedule";
import type { Post } from "@/lib/queue/types";
import {
  MAX_CALENDAR_ITEMS,
  calendarInput,
  editPostInput,
  rescheduleInput,
  type CalendarQuery,
  type EditPostInput,
  type RescheduleInput,
} from "./input";
import type { CalendarItem, CalendarRange, RescheduledItem } from "./types";

export * from "./types";
export type { CalendarQuery, EditPostInput, RescheduleInput } from "./input";

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

function toCalendarItem(r: Row): CalendarItem {
  return {
    id: Number(r.id),
    postId: r.post_id,
    text: r.text,
    mediaUrls: r.media_urls,
    firstComment: r.first_comment,
    destination: r.destination,
    accountId: r.account_id,
    handle: r.handle,
    platform: r.platform,
    status: r.status,
    scheduledFor: r.scheduled_for.toISOString(),
    postedAt: iso(r.posted_at),
    at: r.at.toISOString(),
    nextAttemptAt: iso(r.next_attempt_at),
    lastError: r.last_error,
    externalUrl: r.external_url,
    cancelRequested: r.cancel_requested,
    reschedulable: r.reschedulable,
    editable: r.edit_refusal === null,
    editRefusal: r.edit_refusal,
  };
}

/**
 * The items placed in [from, to) (posted ones by when they were posted, the rest by their scheduled
 * time), earliest first, optionally of one account or platform. At most MAX_CALENDAR_ITEMS; past
 * that the reply says so and how to see the rest.
 */
export async function listCalendarItems(user: UserClaims, query: CalendarQuery): Promise<CalendarRange> {
  const parsed = calendarInput.safeParse(query);
  if (!parsed.success) throw validationFailed(parsed.error, "The calendar query");
  const c = parsed.data;
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, c.workspaceId);
    const rows = await tx.unsafe(
      `select q.id, q.post_id, p.text, p.media_urls, p.first_comment, p.destination, q.account_id, a.handle, a.platform,
              q.status, q.scheduled_for, q.posted_at, private.calendar_time(q.status, q.scheduled_for, q.posted_at) as at,
              case when q.status in ('pending', 'rate_limited') and q.lease_id is null and isfinite(q.run_at)
                        and q.run_at > q.scheduled_for then q.run_at end as next_attempt_at,
              q.last_error, q.external_url, q.cancel_requested,
              q.status in ('pending', 'rate_limited') and q.lease_id is null as reschedulable,
              private.post_edit_refusal(q.post_id, q.workspace_id) as edit_refusal
       from public.queue_items q
       join public.posts p on p.id = q.post_id
       join public.social_accounts a on a.id = q.account_id
       where q.id = any (array(select private.calendar_item_ids($1, $2, $3, $4, $5, $6)))
       order by at, q.id`,
      [workspaceId, c.from, c.to, c.accountId ?? null, c.platform ?? null, MAX_CALENDAR_ITEMS + 1],
    );
    const truncated = rows.length > MAX_CALENDAR_ITEMS;
    const items = rows.slice(0, MAX_CALENDAR_ITEMS).map(toCalendarItem);
    return {
      workspaceId,
      from: new Date(c.from).toISOString(),
      to: new Date(c.to).toISOString(),
      items,
      truncated,
      limit: MAX_CALENDAR_ITEMS,
      notice: truncated
        ? `This range holds more than ${MAX_CALENDAR_ITEMS.toLocaleString("en")} posts; only the earliest ${MAX_CALENDAR_ITEMS.toLocaleString("en")} are shown (up to ${items.at(-1)!.at}). Choose a shorter range, or filter by account or platform, to see the rest.`
        : null,
    };
  });
}

/**
 * Move waiting items (pending or rate limited, not claimed) to a new time, all or none. A wait the
 * engine set (a paused account, a limit, a backoff) still holds: the item runs no earlier than it.
 */
export async function rescheduleQueueItems(
  user: UserClaims,
  input: RescheduleInput,
): Promise<{ workspaceId: string; items: RescheduledItem[] }> {
  const parsed = rescheduleInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The reschedule request");
  const r = parsed.data;
  // The past-schedule rule (lib/time/schedule.ts), said here with the field. A time within the
  // tolerance, or one the caller chose to post now, is passed as greatest(time, now()) so the
  // database, which refuses a past time by its own clock, takes it as now.
  if (isPastSchedule(r.scheduledFor) && r.ifPast !== "publish_now") throw scheduledInPast(r.scheduledFor);

  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, r.workspaceId);
    // As add checks them: an account on a platform this installation publishes to (PACER_CONNECTORS).
    const accounts = await tx`
      select q.id, q.account_id from public.queue_items q
      where q.id = any (${r.itemIds}::bigint[]) and q.workspace_id = ${workspaceId}`;
    const issues = await checkAccounts(
      tx,
      workspaceId,
      accounts.map((a) => ({ path: `itemIds.${r.itemIds.indexOf(Number(a.id))}`, id: a.account_id as string })),
    );
    if (issues.length) {
      throw new PacerError(409, "account_not_publishable", `Nothing was rescheduled: ${issues.map((i) => i.message).join(" ")}`, issues);
    }
    try {
      const rows = await tx`
        select * from private.reschedule_queue_items(${workspaceId}, ${r.itemIds}::bigint[], greatest(${r.scheduledFor}::timestamptz, now()))`;
      return {
        workspaceId,
        items: rows.map((row) => ({
          id: Number(row.id),
          status: row.status,
          scheduledFor: row.scheduled_for.toISOString(),
          nextAttemptAt: Number.isFinite(row.run_at.getTime()) ? row.run_at.toISOString() : null,
        })),
      };
    } catch (error) {
      return fromCalendarError(error, r.itemIds, r.scheduledFor);
    }
  });
}

const postId = z.uuid();
const EDITABLE_COLUMNS = {
  text: "text",
  mediaUrls: "media_urls",
  firstComment: "first_comment",
  destination: "destination",
  thread: "thread",
  platformOptions: "platform_options",
} as const;

/**
 * Change a post's text, media, first comment or destination while none of its items has been claimed
 * or sent (the database refuses it after that, whatever path the change takes).
 */
export async function editPost(user: UserClaims, id: string, input: EditPostInput): Promise<{ post: Post }> {
  if (!postId.safeParse(id).success) throw notFound("Post");
  const parsed = editPostInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The post");
  const { workspaceId: requested, ...fields } = parsed.data;

  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, requested);
    const [existing] = await tx.unsafe(`select ${POST_COLUMNS} from public.posts where id = $1 and workspace_id = $2`, [id, workspaceId]);
    if (!existing) throw notFound("Post");
    await requireEditor(tx, workspaceId);

    const changes: Record<string, unknown> = {};
    for (const [field, column] of Object.entries(EDITABLE_COLUMNS)) {
      const value = fields[field as keyof typeof EDITABLE_COLUMNS];
      if (value !== undefined) changes[column] = value;
    }
    // The post as it would be, held to the rules of the platforms it goes to (as add holds a new one).
    const after = { ...toPost(existing), ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) };
    await checkEditedPost(tx, workspaceId, id, after);
    try {
      const [post] = await tx`
        update public.posts set ${tx(changes)} where id = ${id} and workspace_id = ${workspaceId}
        returning id, workspace_id, text, media_urls, first_comment, thread, platform_options, destination, created_at`;
      if (!post) throw notFound("Post");
      return { post: toPost(post) };
    } catch (error) {
      return fromCalendarError(error);
    }
  });
}

/** Text lengths and thread rules for the accounts the post's waiting items go to; 400 naming the field. */
async function checkEditedPost(tx: Tx, workspaceId: string, postId: string, post: Post) {
  const rows = await tx`
    select distinct q.account_id from public.queue_items q
    where q.post_id = ${postId} and q.status in ('pending', 'rate_limited')`;
  const accountIds = rows.map((r) => r.account_id as string);
  const issues = [
    ...(await checkTextLengths(tx, workspaceId, [
      {
        texts: [
          { path: "text", text: post.text, what: "The text" },
          { path: "firstComment", text: post.firstComment, what: "The first comment" },
          ...post.thread.map((part, i) => ({ path: `thread.${i}`, text: part, what: `Part ${i + 2} of the thread` })),
        ],
        accountIds,
        contentWarning: post.platformOptions?.mastodon?.contentWarning,
      },
    ])),
    ...(await checkThreads(tx, workspaceId, [{ prefix: "", threadParts: post.thread.length, hasFirstComment: post.firstComment != null, accountIds }])),
  ];
  if (issues.length) {
    throw new PacerError(400, "validation_failed", `The post is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
  }
}

async function requireEditor(tx: Tx, workspaceId: string) {
  const [r] = await tx`select private.has_role_on_workspace(${workspaceId}, 'editor') as ok`;
  if (!r.ok) {
    throw new PacerError(403, "forbidden", "Your role in this workspace does not allow you to edit posts; editors, admins and owners can.");
  }
}

const scheduledInPast = (at: string) =>
  new PacerError(422, "scheduled_in_past", `The new time is in the past; nothing was rescheduled. ${pastScheduleMessage(at, Date.now(), false)}`, [
    { path: "scheduledFor", message: pastScheduleMessage(at, Date.now(), false) },
  ]);

const FIELD_OF_COLUMN: Record<string, string> = {
  text: "text",
  media_urls: "mediaUrls",
  first_comment: "firstComment",
  destination: "destination",
  thread: "thread",
  platform_options: "platformOptions",
};

/** The calendar functions' refusals as replies that name the field or item at fault. */
function fromCalendarError(error: unknown, ids: number[] = [], at?: string): never {
  const e = error as { code?: string; message?: string; hint?: string; detail?: string };
  const detail = e?.detail?.startsWith("{") ? (JSON.parse(e.detail) as { code?: string; column?: string; items?: Array<{ id: number; status: string }> }) : {};
  const message = [e?.message, e?.hint].filter(Boolean).join(" ");
  if (e?.code === "42501") throw new PacerError(403, "forbidden", e.message!);
  if (detail.code === "scheduled_in_past") throw scheduledInPast(at ?? "");
  if (e?.code === "22023") {
    const path = detail.column ? (FIELD_OF_COLUMN[detail.column] ?? "scheduledFor") : "(body)";
    throw new PacerError(400, "validation_failed", message, [{ path, message: e.message! }]);
  }
  if (detail.code === "queue_item_conflict" && detail.items) {
    const issues: FieldIssue[] = detail.items.map((it) => ({
      path: `itemIds.${ids.indexOf(Number(it.id))}`,
      message: `Queue item ${it.id} is ${it.status.replace("_", " ")}.`,
    }));
    throw new PacerError(409, "queue_item_conflict", message, issues);
  }
  return fromDatabaseError(error);
}
