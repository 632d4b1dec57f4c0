// What the approvals API accepts, as zod schemas shared by the approvals page and the routes. An
// admin's edits are checked again by the queue's own schema (addInput) when the post is queued.
import { z } from "zod";

export const SUBMISSION_STATUSES = ["submitted", "approved", "rejected"] as const;
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];

const workspaceId = z.uuid("workspaceId must be a workspace id (a UUID).").nullish();

export const listSubmissionsInput = z.object({
  workspaceId,
  status: z.enum(SUBMISSION_STATUSES, `status must be one of: ${SUBMISSION_STATUSES.join(", ")}.`).optional(),
});

/** The fields of POST /api/queue/add an admin may change before approving; each is re-checked by addInput. */
export const POST_FIELDS = ["text", "mediaUrls", "firstComment", "destination", "accountIds", "priority", "scheduledFor", "ifPast"] as const;
/** A bulk submission is decided as a whole; the only thing an admin may add is what to do with rows whose time has passed. */
export const BULK_FIELDS = ["ifPast"] as const;

export const approveInput = z.strictObject(
  Object.fromEntries(POST_FIELDS.map((f) => [f, z.unknown().optional()])) as Record<(typeof POST_FIELDS)[number], z.ZodOptional<z.ZodUnknown>>,
  { error: `Send only the fields to change before approving: ${POST_FIELDS.join(", ")}.` },
);

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
export type RejectInput = z.input<typeof rejectInput>;
export type ApprovalSettingInput = z.input<typeof approvalSettingInput>;
