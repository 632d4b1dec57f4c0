// Post drafts (public.post_drafts): saved, reopened, changed and discarded by the workspace's editors,
// and queued — the draft deleted in the same transaction as its posts are written, so it is never
// both queued and still a draft. Every call acts as the user, under RLS.
import { z } from "zod";
import type postgres from "postgres";
import { asUser, type Row, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, notFound, validationFailed } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { addToQueue, type AddToQueueInput } from "@/lib/queue";
import { submitIfNeeded } from "@/lib/approvals";
import { createDraftInput, updateDraftInput, type CreateDraftInput, type Draft, type DraftContent, type UpdateDraftInput } from "./input";

export type { Draft, DraftContent, CreateDraftInput, UpdateDraftInput } from "./input";

/** Drafts listed per request: the most recently changed. */
export const DRAFTS_LISTED = 100;

const toDraft = (r: Row): Draft => ({
  id: r.id,
  workspaceId: r.workspace_id,
  content: r.content,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const DRAFT_COLUMNS = "id, workspace_id, content, created_by, created_at, updated_at";
const uuid = z.uuid();
/** The content as a jsonb object (a string parameter would be stored as a JSON string). */
const asJson = (tx: Tx, content: DraftContent) => tx.json(content as unknown as postgres.JSONValue);

/** The workspace, and a 403 saying who may unless the user is an editor or above there. */
async function editorWorkspace(tx: Tx, requested: string | null | undefined): Promise<string> {
  const workspaceId = await resolveWorkspaceId(tx, requested);
  const [r] = await tx`select private.has_role_on_workspace(${workspaceId}, 'editor') as ok`;
  if (!r.ok) throw new PacerError(403, "forbidden", "Your role in this workspace does not allow you to use drafts; editors, admins and owners can.");
  return workspaceId;
}

export function listDrafts(user: UserClaims, requestedWorkspaceId?: string | null): Promise<{ workspaceId: string; drafts: Draft[] }> {
  return asUser(user, async (tx) => {
    const workspaceId = await editorWorkspace(tx, requestedWorkspaceId);
    const rows = await tx.unsafe(
      `select ${DRAFT_COLUMNS} from public.post_drafts where workspace_id = $1 order by updated_at desc limit ${DRAFTS_LISTED}`,
      [workspaceId],
    );
    return { workspaceId, drafts: rows.map(toDraft) };
  });
}

export async function createDraft(user: UserClaims, input: CreateDraftInput): Promise<Draft> {
  const parsed = createDraftInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The draft");
  return asUser(user, async (tx) => {
    const workspaceId = await editorWorkspace(tx, parsed.data.workspaceId);
    const [row] = await tx`
      insert into public.post_drafts (workspace_id, content) values (${workspaceId}, ${asJson(tx, parsed.data.content)})
      returning ${tx.unsafe(DRAFT_COLUMNS)}`;
    return toDraft(row);
  });
}

export async function updateDraft(user: UserClaims, id: string, input: UpdateDraftInput): Promise<Draft> {
  const parsed = updateDraftInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The draft");
  if (!uuid.safeParse(id).success) throw notFound("The draft");
  return asUser(user, async (tx) => {
    const [row] = await tx`
      update public.post_drafts set content = ${asJson(tx, parsed.data.content)} where id = ${id}
      returning ${tx.unsafe(DRAFT_COLUMNS)}`;
    if (!row) throw notFound("The draft");
    return toDraft(row);
  });
}

export async function deleteDraft(user: UserClaims, id: string): Promise<void> {
  if (!uuid.safeParse(id).success) throw notFound("The draft");
  await asUser(user, async (tx) => {
    const [row] = await tx`delete from public.post_drafts where id = ${id} returning id`;
    if (!row) throw notFound("The draft");
  });
}

/**
 * Queue a draft as the post `input` describes (the composer's current fields, checked exactly as
 * POST /api/queue/add checks them) and delete the draft, in one transaction: if the post is refused,
 * the draft stays; if two requests race, the draft's row lock lets one queue it and the other gets 404.
 * `within`: a transaction the caller holds as this user (an Idempotency-Key records its reply there).
 */
export async function queueDraft(user: UserClaims, id: string, input: AddToQueueInput, within?: Tx) {
  if (!uuid.safeParse(id).success) throw notFound("The draft");
  const run = async (tx: Tx) => {
    const [draft] = await tx`delete from public.post_drafts where id = ${id} returning workspace_id`;
    if (!draft) throw notFound("The draft");
    const requested = (input as { workspaceId?: unknown })?.workspaceId;
    if (requested != null && requested !== draft.workspace_id) {
      throw new PacerError(400, "validation_failed", "The post is not valid: workspaceId: a draft is queued in its own workspace.", [
        { path: "workspaceId", message: "A draft is queued in its own workspace; leave workspaceId out." },
      ]);
    }
    const post = { ...input, workspaceId: draft.workspace_id };
    // An editor's post waits for approval while the workspace asks for it; the draft goes either way.
    const submission = await submitIfNeeded(user, tx, "add", post);
    if (submission) return { submission };
    return addToQueue(user, post, tx);
  };
  return within ? run(within) : asUser(user, run);
}
