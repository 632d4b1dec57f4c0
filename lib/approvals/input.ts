// What the approvals API accepts, as zod schemas shared by the approvals page and the routes. An
// admin's edits are checked again by the queue's own schema (addInput) when the post is queued.
import { z } from "zod";
import { accountIds, postFields } from "@/lib/queue/input";

export const SUBMISSION_STATUSES = ["submitted", "approved", "rejected"] as const;
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];

const workspaceId = z.uuid("workspaceId must be a workspace id (a UUID).").nullish();

export const listSubmissionsInput = z.object({
  workspaceId,
  status: z.enum(SUBMISSION_STATUSES, `status must be one of: ${SUBMISSION_STATUSES.join(", ")}.`).optional(),
});

/**
 * The fields of POST /api/queue/add an admin may change before approving, each checked by the
 * queue's own schema piece (lib/queue/input.ts), so an edit is refused for the same reasons a post is.
 * The edited post is checked again as a whole (accounts, lengths, threads) when it is queued.
 */
const editableFields = { ...postFields, accountIds };
export const POST_FIELDS = Object.keys(editableFields) as Array<keyof typeof editableFields>;
/** A bulk submission is decided as a whole; the only thing an admin may add is what to do with rows whose time has passed. */
export const BULK_FIELDS = ["ifPast"] as const;

export const approveInput = z
  .strictObject(editableFields, { error: `Send only the fields to change before approving: ${POST_FIELDS.join(", ")}.` })
  .partial();

/** How many submissions one "approve these" request takes: the approvals page lists 200 at most. */
export const MAX_APPROVE_MANY = 200;

export const approveManyInput = z.strictObject({
  ids: z
    .array(z.uuid("Each id is a submission id (a UUID) from GET /api/approvals."), "ids must be a list of submission ids.")
    .min(1, "Send at least one submission id.")
    .max(MAX_APPROVE_MANY, `Send at most ${MAX_APPROVE_MANY} submission ids per request.`),
});

export const rejectInput = z.strictObject({
  note: z
    .string("Write a note saying why, for the editor.")
    .trim()
    .min(1, "Write a note saying why, for the editor.")
    .max(2000, "A note has at most 2,000 characters."),
});

export const approvalSettingInput = z.strictObject({
  workspaceId,
  enabled: z.boolean("enabled must be true or false."),
});

export type ApproveInput = z.input<typeof approveInput>;
export type ApproveManyInput = z.input<typeof approveManyInput>;
export type RejectInput = z.input<typeof rejectInput>;
export type ApprovalSettingInput = z.input<typeof approvalSettingInput>;
