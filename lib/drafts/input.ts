// What a post draft holds, as zod schemas shared by the composer and the drafts API: the queue's own
// post fields (lib/queue/input.ts addInput, so a rule there is a rule here), each optional, since a
// draft may be unfinished: its text may be empty and it may name no account yet.
import { z } from "zod";
import { addInput, storable } from "@/lib/queue/input";

/** Accounts a draft may name: as many as the largest plan has; queueing still takes at most 100 per post. */
export const MAX_DRAFT_ACCOUNTS = 1000;

export const draftContent = addInput
  .omit({ text: true, accountIds: true, workspaceId: true })
  .partial()
  .extend({
    text: z
      .string("The draft's text must be text.")
      .max(10_000, "A post has at most 10,000 characters.")
      .refine(storable, "The text may not contain NUL characters or broken Unicode.")
      .optional(),
    accountIds: z
      .array(z.uuid("Give an account id (a UUID) from GET /api/accounts."), "accountIds must be a list of account ids.")
      .max(MAX_DRAFT_ACCOUNTS, `A draft names at most ${MAX_DRAFT_ACCOUNTS.toLocaleString("en")} accounts.`)
      .optional(),
  });

const workspaceId = z.uuid("workspaceId must be a workspace id (a UUID).");

export const createDraftInput = z.strictObject({ content: draftContent, workspaceId: workspaceId.nullish() });
export const updateDraftInput = z.strictObject({ content: draftContent });

export type DraftContent = z.infer<typeof draftContent>;
export type CreateDraftInput = z.input<typeof createDraftInput>;
export type UpdateDraftInput = z.input<typeof updateDraftInput>;

/** A saved draft, shared with the workspace's editors. */
export interface Draft {
  id: string;
  workspaceId: string;
  content: DraftContent;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}
