// What the queue page's API accepts (listing, bulk actions, restore, duplicate), as zod schemas the
// routes and the page share. The pieces come from the queue's own schemas (./input), so a time, an
// id or an account id is described the same way everywhere.
import { z } from "zod";
import { MAX_IDS, addInput } from "./input";
import { BULK_ACTIONS, QUEUE_STATUSES, type QueueStatus } from "./types";

export const PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/** Items one bulk action reaches; a filter matching more is refused with the count, to narrow it. */
export const MAX_BULK_SELECTION = MAX_IDS;

const workspaceId = z.uuid("workspaceId must be a workspace id (a UUID).");
const time = (field: string) =>
  z.iso.datetime({ offset: true, error: `${field} must be an ISO 8601 time with a zone, e.g. 2026-12-01T09:30:00Z.` });

const statuses = z
  .string()
  .transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean))
  .pipe(
    z
      .array(z.enum(QUEUE_STATUSES, `status must be one or more of (comma-separated): ${QUEUE_STATUSES.join(", ")}.`))
      .min(1, `status must be one or more of (comma-separated): ${QUEUE_STATUSES.join(", ")}.`),
  );

/** Which items: the filters a page and "all matching" share. */
const filterFields = {
  status: z.union([statuses, z.array(z.enum(QUEUE_STATUSES, `status is one of: ${QUEUE_STATUSES.join(", ")}.`)).min(1)]).optional(),
  accountId: z.uuid("accountId must be an account id (a UUID) from GET /api/accounts.").optional(),
  platform: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/, "platform must be a platform id, e.g. sandbox or mastodon.")
    .optional(),
  from: time("from").optional(),
  to: time("to").optional(),
  q: z.string("q must be text.").trim().max(200, "Search for at most 200 characters.").optional(),
};

const checkRange = (f: { from?: string; to?: string }, ctx: z.RefinementCtx) => {
  if (f.from && f.to && Date.parse(f.from) >= Date.parse(f.to)) {
    ctx.addIssue({ code: "custom", path: ["to"], message: "to must be later than from." });
  }
};

export const queueFilter = z.strictObject(filterFields).superRefine(checkRange);

// Lenient about other query parameters (cache busters and the like).
export const pageInput = z
  .object({
    ...filterFields,
    cursor: z.string("cursor must be the nextCursor of the page before.").max(200, "cursor must be the nextCursor of the page before.").optional(),
    order: z.enum(["newest", "oldest"], "order is newest (latest scheduled first, the default) or oldest.").default("newest"),
    limit: z.coerce
      .number("limit must be a number.")
      .int("limit must be a whole number.")
      .min(1, "limit is at least 1.")
      .max(MAX_PAGE_SIZE, `limit is at most ${MAX_PAGE_SIZE}.`)
      .default(PAGE_SIZE),
    workspaceId: workspaceId.nullish(),
  })
  .superRefine(checkRange);

const itemIds = z
  .array(z.int("Queue item ids are whole numbers.").positive("Queue item ids are positive."), "ids must be a list of queue item ids.")
  .min(1, "Send at least one id.")
  .max(MAX_BULK_SELECTION, `Send at most ${MAX_BULK_SELECTION.toLocaleString("en")} ids per request.`);

export const bulkActionInput = z
  .strictObject({
    action: z.enum(BULK_ACTIONS, `action is one of: ${BULK_ACTIONS.join(", ")}.`),
    ids: itemIds.optional(),
    filter: queueFilter.optional(),
    scheduledFor: addInput.shape.scheduledFor,
    workspaceId: workspaceId.nullish(),
  })
  .superRefine((b, ctx) => {
    if ((b.ids === undefined) === (b.filter === undefined)) {
      ctx.addIssue({ code: "custom", path: ["ids"], message: "Send ids, or a filter for every item matching it (not both)." });
    }
    if (b.action === "reschedule" && b.scheduledFor === undefined) {
      ctx.addIssue({ code: "custom", path: ["scheduledFor"], message: "Say when to reschedule to: an ISO 8601 time with a zone, e.g. 2026-12-01T09:30:00Z." });
    }
    if (b.action !== "reschedule" && b.scheduledFor !== undefined) {
      ctx.addIssue({ code: "custom", path: ["scheduledFor"], message: "scheduledFor goes with action reschedule only." });
    }
  });

export const restoreInput = z.strictObject({ ids: itemIds, workspaceId: workspaceId.nullish() });

export const duplicateInput = z.strictObject({
  /** Where the copy goes: the original's accounts when left out. */
  accountIds: addInput.shape.accountIds.optional(),
  /** When the copy is due: the original's time when left out and still ahead. */
  scheduledFor: addInput.shape.scheduledFor,
  workspaceId: workspaceId.nullish(),
});

export type QueueFilter = z.input<typeof queueFilter>;
export type PageQuery = { [K in keyof z.input<typeof pageInput>]?: z.input<typeof pageInput>[K] | string };
export type BulkActionInput = z.input<typeof bulkActionInput>;
export type RestoreInput = z.input<typeof restoreInput>;
export type DuplicateInput = z.input<typeof duplicateInput>;
export type { QueueStatus };
