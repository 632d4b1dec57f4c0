// The review queue: what automation could not decide, with what a person needs to decide it, and
// the decisions (mark posted, retry, cancel, acknowledge a missing post). Every decision is made by
// a SQL function that checks the role and writes the audit log with who; these wrappers validate,
// act as the user (RLS), and turn the database's refusals into API errors.
import { z } from "zod";
import { asUser, type Row, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, fromDatabaseError, validationFailed } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { retryInput, storable, type RetryQueueItemsInput } from "@/lib/queue/input";
import { toEntry, type HistoryEntry } from "@/lib/history";

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export interface ReviewItem {
  id: number;
  postId: string;
  text: string;
  destination: string | null;
  accountId: string;
  handle: string;
  platform: string;
  status: string;
  scheduledFor: string;
  attempts: number;
  verifyAttempts: number;
  lastError: string | null;
  errorClass: string | null;
  /** Ids the platform gave for this item in any attempt: a person checks these first. */
  externalIdsSeen: string[];
  /** Every attempt, oldest first. */
  history: HistoryEntry[];
  updatedAt: string;
}

/** A posted record whose post reconciliation no longer finds on the platform. */
export interface MissingPost {
  queueItemId: number;
  accountId: string;
  handle: string;
  platform: string;
  text: string;
  externalId: string | null;
  externalUrl: string | null;
  postedAt: string | null;
  noticedAt: string;
}

/** A post on the platform carrying the marker of an item that already has one there: a duplicate publish. */
export interface DuplicatePost {
  queueItemId: number;
  accountId: string;
  handle: string;
  platform: string;
  text: string;
  /** The extra post, to remove on the platform. */
  externalId: string;
  externalUrl: string | null;
  /** The post Pacer keeps as the item's. */
  keptExternalId: string | null;
  createdOnPlatformAt: string | null;
  noticedAt: string;
}

/** An account a person must look at (read-only here: resume and reconnect are account actions). */
export interface ReviewAccount {
  id: string;
  handle: string;
  platform: string;
  state: string;
  requiresReview: boolean;
  lastError: string | null;
  healthScore: number;
  updatedAt: string;
}

export interface ReviewQueue {
  items: ReviewItem[];
  missingPosts: MissingPost[];
  duplicatePosts: DuplicatePost[];
  accounts: ReviewAccount[];
}

const workspaceId = z.uuid("workspaceId must be a workspace id (a UUID).").nullish();
export const reviewListInput = z.strictObject({
  workspaceId,
  limit: z.coerce.number("limit must be a number.").int("limit must be a whole number.").min(1, "limit is at least 1.").max(200, "limit is at most 200.").default(50),
});

/** What needs a person in this workspace: items, missing and duplicate posts, accounts. Any member may read it. */
export async function listReview(user: UserClaims, input: z.input<typeof reviewListInput> = {}): Promise<ReviewQueue> {
  const parsed = reviewListInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The review query");
  const { limit } = parsed.data;
  return asUser(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, parsed.data.workspaceId);
    const items = await tx`
      select q.id, q.post_id, p.text, p.destination, q.account_id, a.handle, a.platform, q.status, q.scheduled_for,
             q.attempts, q.verify_attempts, q.last_error, q.error_class, q.external_id, q.updated_at
      from public.queue_items q
      join public.posts p on p.id = q.post_id
      join public.social_accounts a on a.id = q.account_id
      where q.id in (select private.review_item_ids(${ws}, ${limit}))
      order by q.id desc`;
    const ids = items.map((r) => r.id);
    const history = ids.length
      ? await tx`
          select h.*, a.handle from public.posting_history h
          left join public.social_accounts a on a.id = h.account_id
          where h.queue_item_id = any (${ids}::bigint[]) and h.workspace_id = ${ws}
          order by h.queue_item_id, h.finished_at, h.id`
      : [];
    const byItem = new Map<string, Row[]>();
    for (const h of history) byItem.set(String(h.queue_item_id), [...(byItem.get(String(h.queue_item_id)) ?? []), h]);

    const missing = await tx`
      select m.queue_item_id, m.account_id, a.handle, a.platform, p.text, m.external_id, m.external_url, q.posted_at, m.noticed_at
      from public.missing_posts m
      join public.queue_items q on q.id = m.queue_item_id
      join public.posts p on p.id = q.post_id
      join public.social_accounts a on a.id = m.account_id
      where m.workspace_id = ${ws} and m.resolved_at is null
      order by m.noticed_at desc, m.queue_item_id desc
      limit ${limit}`;
    const duplicates = await tx`
      select d.queue_item_id, d.account_id, a.handle, a.platform, p.text, d.external_id, d.external_url, d.kept_external_id,
             d.created_on_platform_at, d.noticed_at
      from public.duplicate_posts d
      join public.queue_items q on q.id = d.queue_item_id
      join public.posts p on p.id = q.post_id
      join public.social_accounts a on a.id = d.account_id
      where d.workspace_id = ${ws} and d.resolved_at is null
      order by d.noticed_at desc, d.queue_item_id desc, d.external_id
      limit ${limit}`;
    const accounts = await tx`
      select id, handle, platform, state, requires_review, last_error, health_score, updated_at
      from public.social_accounts
      where workspace_id = ${ws} and (state in ('needs_review', 'restricted') or requires_review)
      order by updated_at desc
      limit ${limit}`;

    return {
      items: items.map((r) => {
        const rows = byItem.get(String(r.id)) ?? [];
        const seen = new Set<string>(rows.map((h) => h.external_id).filter(Boolean));
        if (r.external_id) seen.add(r.external_id);
        return {
          id: Number(r.id),
          postId: r.post_id,
          text: r.text,
          destination: r.destination,
          accountId: r.account_id,
          handle: r.handle,
          platform: r.platform,
          status: r.status,
          scheduledFor: r.scheduled_for.toISOString(),
          attempts: r.attempts,
          verifyAttempts: r.verify_attempts,
          lastError: r.last_error,
          errorClass: r.error_class,
          externalIdsSeen: [...seen],
          history: rows.map(toEntry),
          updatedAt: r.updated_at.toISOString(),
        };
      }),
      missingPosts: missing.map((m) => ({
        queueItemId: Number(m.queue_item_id),
        accountId: m.account_id,
        handle: m.handle,
        platform: m.platform,
        text: m.text,
        externalId: m.external_id,
        externalUrl: m.external_url,
        postedAt: iso(m.posted_at),
        noticedAt: m.noticed_at.toISOString(),
      })),
      duplicatePosts: duplicates.map((d) => ({
        queueItemId: Number(d.queue_item_id),
        accountId: d.account_id,
        handle: d.handle,
        platform: d.platform,
        text: d.text,
        externalId: d.external_id,
        externalUrl: d.external_url,
        keptExternalId: d.kept_external_id,
        createdOnPlatformAt: iso(d.created_on_platform_at),
        noticedAt: d.noticed_at.toISOString(),
      })),
      accounts: accounts.map((a) => ({
        id: a.id,
        handle: a.handle,
        platform: a.platform,
        state: a.state,
        requiresReview: a.requires_review,
        lastError: a.last_error,
        healthScore: a.health_score,
        updatedAt: a.updated_at.toISOString(),
      })),
    };
  });
}

// ------------------------------------------------------------------------------------------------
// Decisions
// ------------------------------------------------------------------------------------------------

// Postgres text holds neither NUL nor lone surrogates.

export const markPostedInput = z
  .strictObject({
    workspaceId,
    id: z.int("id must be a queue item id (a whole number).").positive("id must be a queue item id."),
    externalId: z.string("externalId must be text.").trim().min(1, "externalId must not be empty.").max(200, "externalId has at most 200 characters.").refine(storable, "externalId may not contain NUL characters or broken Unicode.").optional(),
    url: z
      .string("url must be text.")
      .max(2048, "url has at most 2,048 characters.")
      .refine((u) => /^https?:\/\/[^/?#\s]+\S*$/i.test(u), "url must be the post's link, starting with https:// (or http://).")
      .optional(),
  })
  .refine((m) => m.externalId !== undefined || m.url !== undefined, { path: ["externalId"], message: "Give the post's id on the platform (externalId) or its link (url)." });
export type MarkPostedInput = z.input<typeof markPostedInput>;

export interface MarkedPosted {
  id: number;
  status: "posted";
  externalId: string | null;
  externalUrl: string | null;
  postedAt: string;
}

/** A person saw the post on the platform: the item is posted, with a history row and an audit row saying who. */
export async function markPosted(user: UserClaims, input: MarkPostedInput): Promise<MarkedPosted> {
  const parsed = markPostedInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The mark-posted request");
  const m = parsed.data;
  return decide(user, m.workspaceId, null, async (tx, ws) => {
    const [r] = await tx`select * from private.mark_posted(${ws}, ${m.id}, ${m.externalId ?? null}, ${m.url ?? null})`;
    return { id: Number(r.id), status: "posted" as const, externalId: r.external_id, externalUrl: r.external_url, postedAt: r.posted_at.toISOString() };
  });
}

/** Failed or needs-review items back to pending, due now (private.retry_queue_items' rules), audited. */
export async function retryReviewItems(user: UserClaims, input: RetryQueueItemsInput): Promise<{ retried: number }> {
  const parsed = retryInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The retry request");
  const r = parsed.data;
  return decide(user, r.workspaceId, r.ids, async (tx, ws) => {
    const [row] = await tx`select private.review_retry(${ws}, ${r.ids}::bigint[]) as n`;
    return { retried: row.n as number };
  });
}

export const idsInput = retryInput;

/** Cancel items by id (private.cancel_queue_items' rules: needs_review items only this way), audited. */
export async function cancelReviewItems(user: UserClaims, input: RetryQueueItemsInput): Promise<{ cancelled: number; cancelRequested: number }> {
  const parsed = idsInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The cancel request");
  const c = parsed.data;
  return decide(user, c.workspaceId, c.ids, async (tx, ws) => {
    const [row] = await tx`select * from private.review_cancel(${ws}, ${c.ids}::bigint[])`;
    return { cancelled: row.cancelled as number, cancelRequested: row.cancel_requested as number };
  });
}

/** Close missing-post flags a person has looked at; reconciliation never reopens them. */
export async function acknowledgeMissingPosts(user: UserClaims, input: RetryQueueItemsInput): Promise<{ acknowledged: number }> {
  const parsed = idsInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The acknowledge request");
  const a = parsed.data;
  return decide(user, a.workspaceId, a.ids, async (tx, ws) => {
    const [row] = await tx`select private.acknowledge_missing_posts(${ws}, ${a.ids}::bigint[]) as n`;
    return { acknowledged: row.n as number };
  });
}

/** Close an item's duplicate-post flags once a person has dealt with the extra posts; reconciliation never reopens them. */
export async function acknowledgeDuplicatePosts(user: UserClaims, input: RetryQueueItemsInput): Promise<{ acknowledged: number }> {
  const parsed = idsInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The acknowledge request");
  const a = parsed.data;
  return decide(user, a.workspaceId, a.ids, async (tx, ws) => {
    const [row] = await tx`select private.acknowledge_duplicate_posts(${ws}, ${a.ids}::bigint[]) as n`;
    return { acknowledged: row.n as number };
  });
}

/** Run one decision as the user in the workspace asked for, with the database's refusals as API errors. */
async function decide<T>(user: UserClaims, requested: string | null | undefined, ids: number[] | null, fn: (tx: Tx, ws: string) => Promise<T>): Promise<T> {
  return asUser(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, requested);
    try {
      return await fn(tx, ws);
    } catch (error) {
      return fromReviewError(error, ids);
    }
  });
}

/** 403 for a weak role (the database says which roles may), 404 for ids not in the workspace, 409 for items in the wrong state. */
function fromReviewError(error: unknown, ids: number[] | null): never {
  const e = error as { code?: string; message?: string; hint?: string; detail?: string };
  if (e?.code === "42501") throw new PacerError(403, "forbidden", e.message ?? "Your role in this workspace does not allow that.");
  if (e?.code === "P0002") throw new PacerError(404, "not_found", e.message!);
  if (e?.code === "22023") throw new PacerError(400, "validation_failed", e.message!);
  if (e?.code === "P0001" && e.detail?.includes('"queue_item_conflict"')) {
    const { items } = JSON.parse(e.detail) as { items: Array<{ id: number; status: string }> };
    const issues = items.map((it) => ({ path: ids ? `ids.${ids.indexOf(Number(it.id))}` : "id", message: `Queue item ${it.id} is ${it.status.replace("_", " ")}.` }));
    throw new PacerError(409, "queue_item_conflict", [e.message, e.hint].filter(Boolean).join(" "), issues);
  }
  return fromDatabaseError(error);
}
