// Posting history as its users read it: every attempt (and every settlement by a person or by
// reconciliation), newest first, filtered and keyset-paged, under RLS as the user.
import { z } from "zod";
import { asUser, type Row, type UserClaims } from "@/lib/db";
import { PacerError, validationFailed } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";

/** Every outcome an attempt can have (lib/connectors/types.ts), and those of verification. */
export const HISTORY_OUTCOMES = [
  "posted",
  "unknown",
  "retryable",
  "rate_limited",
  "auth_expired",
  "restricted",
  "destination_rejected",
  "permanent",
  "found",
  "not_found",
  "unavailable",
] as const;

export interface HistoryEntry {
  id: number;
  queueItemId: number;
  accountId: string;
  /** Null when the account has since been removed (its history stays). */
  handle: string | null;
  platform: string;
  action: string;
  destination: string | null;
  /** publish or verify (the engine), review (a person), reconcile (found on the platform). */
  kind: "publish" | "verify" | "review" | "reconcile";
  attempt: number;
  startedAt: string;
  finishedAt: string;
  outcome: string;
  errorMessage: string | null;
  latencyMs: number | null;
  externalId: string | null;
  worker: string | null;
  /** Who decided, for kind "review". */
  actorId: string | null;
  /** False when the worker's lease had expired: recorded, but it changed nothing. */
  applied: boolean;
}

export interface HistoryPage {
  entries: HistoryEntry[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

const when = (what: string) => z.iso.datetime({ offset: true, error: `${what} must be an ISO 8601 time, e.g. 2026-12-01T09:00:00Z.` });
const shortText = (what: string) => z.string().trim().min(1, `${what} must not be empty.`).max(200, `${what} has at most 200 characters.`);

export const historyInput = z
  .strictObject({
    workspaceId: z.uuid("workspaceId must be a workspace id (a UUID).").nullish(),
    accountId: z.uuid("accountId must be an account id (a UUID) from GET /api/accounts.").optional(),
    platform: shortText("platform").optional(),
    destination: shortText("destination").optional(),
    outcome: z.enum(HISTORY_OUTCOMES, `outcome must be one of: ${HISTORY_OUTCOMES.join(", ")}.`).optional(),
    from: when("from").optional(),
    to: when("to").optional(),
    limit: z.coerce
      .number("limit must be a number.")
      .int("limit must be a whole number.")
      .min(1, "limit is at least 1.")
      .max(200, "limit is at most 200.")
      .default(50),
    cursor: z.string().max(200, "cursor is not one this API gave out.").optional(),
  })
  .superRefine((q, ctx) => {
    if (q.from && q.to && Date.parse(q.from) >= Date.parse(q.to)) {
      ctx.addIssue({ code: "custom", path: ["to"], message: "to must be later than from." });
    }
  });
export type HistoryQuery = z.input<typeof historyInput>;

/**
 * The cursor: the last entry's finished_at in microseconds since the epoch (JavaScript dates stop at
 * milliseconds, and two attempts can finish inside one) and its id, as base64url JSON. Opaque to
 * callers; only its shape is checked, since it only narrows a query the user may run anyway.
 */
function encodeCursor(finishedUs: string, id: string): string {
  return Buffer.from(JSON.stringify([finishedUs, id])).toString("base64url");
}

function decodeCursor(cursor: string): { finishedUs: string; id: string } {
  try {
    const [finishedUs, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    if (typeof finishedUs === "string" && /^-?\d{1,19}$/.test(finishedUs) && typeof id === "string" && /^\d{1,19}$/.test(id)) {
      return { finishedUs, id };
    }
  } catch {
    // Falls through to the error below.
  }
  throw new PacerError(400, "validation_failed", "cursor is not one this API gave out: pass nextCursor from the previous page as it is.", [
    { path: "cursor", message: "Not a cursor from this API." },
  ]);
}

/** One page of the workspace's posting history, newest first. */
export async function listHistory(user: UserClaims, input: HistoryQuery = {}): Promise<HistoryPage> {
  const parsed = historyInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The history query");
  const q = parsed.data;
  const after = q.cursor ? decodeCursor(q.cursor) : null;

  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, q.workspaceId);
    // Only the filters given enter the query, so each is planned against the index made for it
    // (see the history migration); the workspace condition stands beside RLS's own.
    const rows = await tx`
      select h.id, h.queue_item_id, h.account_id, a.handle, h.platform, h.action, h.destination, h.kind, h.attempt,
             h.started_at, h.finished_at, h.outcome, h.error_message, h.latency_ms, h.external_id, h.worker, h.actor_id,
             h.applied, (extract(epoch from h.finished_at) * 1000000)::bigint::text as finished_us
      from public.posting_history h
      left join public.social_accounts a on a.id = h.account_id
      where h.workspace_id = ${workspaceId}
        ${q.accountId ? tx`and h.account_id = ${q.accountId}` : tx``}
        ${q.platform ? tx`and h.platform = ${q.platform}` : tx``}
        ${q.destination ? tx`and h.destination = ${q.destination}` : tx``}
        ${q.outcome ? tx`and h.outcome = ${q.outcome}` : tx``}
        ${q.from ? tx`and h.finished_at >= ${q.from}::timestamptz` : tx``}
        ${q.to ? tx`and h.finished_at < ${q.to}::timestamptz` : tx``}
        ${after ? tx`and (h.finished_at, h.id) < ('epoch'::timestamptz + ${after.finishedUs}::bigint * interval '1 microsecond', ${after.id}::bigint)` : tx``}
      order by h.finished_at desc, h.id desc
      limit ${q.limit + 1}`;
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return { entries: page.map(toEntry), nextCursor: more && last ? encodeCursor(last.finished_us, String(last.id)) : null };
  });
}

/** One history row for the API (also used by the review list). */
export function toEntry(r: Row): HistoryEntry {
  return {
    id: Number(r.id),
    queueItemId: Number(r.queue_item_id),
    accountId: r.account_id,
    handle: r.handle ?? null,
    platform: r.platform,
    action: r.action,
    destination: r.destination,
    kind: r.kind,
    attempt: r.attempt,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at.toISOString(),
    outcome: r.outcome,
    errorMessage: r.error_message,
    latencyMs: r.latency_ms,
    externalId: r.external_id,
    worker: r.worker,
    actorId: r.actor_id,
    applied: r.applied,
  };
}
