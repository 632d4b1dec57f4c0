// Approvals: while a workspace's "editors' posts need approval" is on, an editor's posts wait as
// submissions (checked exactly as the queue checks them) until an admin or owner approves them —
// replayed through addToQueue / bulkAddToQueue in the same transaction as the submission is marked
// approved, so it is queued once or not at all — or rejects them with a note. The database holds the
// rule too (supabase/migrations/20261204001000_approvals.sql): an editor cannot insert posts directly.
import type postgres from "postgres";
import { asUser, type Row, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, fromDatabaseError, notFound, validationFailed, type FieldIssue } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { addToQueue, bulkAddToQueue, pastScheduleIssues, scheduleRefusal, type AddToQueueInput, type BulkAddInput } from "@/lib/queue";
import { addInput } from "@/lib/queue/input";
import { checkAccounts, checkTextLengths } from "@/lib/queue/enqueue";
import {
  BULK_FIELDS,
  approvalSettingInput,
  approveInput,
  listSubmissionsInput,
  rejectInput,
  type ApprovalSettingInput,
  type ApproveInput,
  type RejectInput,
  type SubmissionStatus,
} from "./input";

export type { ApprovalSettingInput, ApproveInput, RejectInput, SubmissionStatus } from "./input";
export type SubmissionKind = "add" | "bulk";

/** `fn` in the caller's transaction (an Idempotency-Key's), or in one of its own as this user. */
export const inTransaction = <T>(user: UserClaims, within: Tx | undefined, fn: (tx: Tx) => Promise<T>) =>
  within ? fn(within) : asUser(user, fn);

export interface Submission {
  id: string;
  workspaceId: string;
  kind: SubmissionKind;
  status: SubmissionStatus;
  /** Posts the submission queues when approved. */
  posts: number;
  /** The request as POST /api/queue/add (kind "add") or /api/queue/bulk-post (kind "bulk") takes it. */
  request: Record<string, unknown>;
  note: string | null;
  submittedBy: string | null;
  submittedByEmail: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  createdAt: string;
}

const COLUMNS = "id, workspace_id, kind, status, posts, request, note, submitted_by, decided_by, decided_at, created_at";

function toSubmission(r: Row, emails: Map<string, string> = new Map()): Submission {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    kind: r.kind,
    status: r.status,
    posts: r.posts,
    request: r.request,
    note: r.note,
    submittedBy: r.submitted_by,
    submittedByEmail: r.submitted_by ? (emails.get(r.submitted_by) ?? null) : null,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at ? r.decided_at.toISOString() : null,
    createdAt: r.created_at.toISOString(),
  };
}

// ------------------------------------------------------------------------------------------------
// Submitting (from the queue's routes, in their transaction)
// ------------------------------------------------------------------------------------------------

/** True when this user's posts to the workspace must wait: the setting is on and they are an editor, not admin. */
async function mustWait(tx: Tx, workspaceId: string): Promise<boolean> {
  const [r] = await tx`
    select w.editor_posts_need_approval
           and private.has_role_on_workspace(w.id, 'editor')
           and not private.has_role_on_workspace(w.id, 'admin') as wait
    from public.workspaces w where w.id = ${workspaceId}`;
  return Boolean(r?.wait);
}

/**
 * 409 when this user's posts must wait for approval, for paths that cannot wait as a submission yet
 * (a CSV import's chunks): the database would refuse their insert anyway; this says what to do instead.
 */
export async function refuseWhileApprovalNeeded(tx: Tx, workspaceId: string, what: string): Promise<void> {
  if (await mustWait(tx, workspaceId)) {
    throw new PacerError(
      409,
      "approval_required",
      `Editors' posts in this workspace need approval, and ${what} cannot wait for it. Send the rows with POST /api/queue/bulk-post (they wait as one submission), or ask an admin to import the file.`,
    );
  }
}

/**
 * When the user's posts need approval, check `input` as the queue would and store it as a
 * submission (answer it); otherwise null, and the caller queues as usual. A bulk dry run never waits.
 */
export async function submitIfNeeded(user: UserClaims, tx: Tx, kind: SubmissionKind, input: unknown): Promise<Submission | null> {
  const body = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  if (kind === "bulk" && body.dryRun === true) return null;
  // An unknown workspace is left to the queue, which answers it as it always has.
  const requested = typeof body.workspaceId === "string" ? body.workspaceId : null;
  let workspaceId: string;
  try {
    workspaceId = await resolveWorkspaceId(tx, requested);
  } catch {
    return null;
  }
  if (!(await mustWait(tx, workspaceId))) return null;

  let request: Record<string, unknown>;
  let posts: number;
  if (kind === "add") {
    request = await checkAdd(tx, workspaceId, body);
    posts = 1;
  } else {
    // bulkAddToQueue's own dry run: every row checked, the plan feature too, nothing written.
    const checked = await bulkAddToQueue(user, { ...(body as BulkAddInput), dryRun: true }, tx);
    request = { items: body.items, workspaceId };
    posts = checked.posts;
  }
  try {
    const [row] = await tx`
      select ${tx.unsafe(COLUMNS)} from private.submit_posts(${workspaceId}, ${kind}, ${tx.json(request as postgres.JSONValue)}, ${posts})`;
    return toSubmission(row);
  } catch (error) {
    return fromDatabaseError(error);
  }
}

/** POST /api/queue/add's checks without the insert: the shape, the accounts, the texts' lengths. */
async function checkAdd(tx: Tx, workspaceId: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const parsed = addInput.safeParse(body);
  if (!parsed.success) throw validationFailed(parsed.error, "The post");
  const a = parsed.data;
  const issues: FieldIssue[] = await checkAccounts(tx, workspaceId, a.accountIds.map((id, i) => ({ path: `accountIds.${i}`, id })));
  issues.push(
    ...(await checkTextLengths(tx, workspaceId, [
      {
        texts: [
          { path: "text", text: a.text, what: "The text" },
          { path: "firstComment", text: a.firstComment ?? null, what: "The first comment" },
        ],
        accountIds: a.accountIds,
      },
    ])),
  );
  const past = pastScheduleIssues([a], () => "");
  if (issues.length || past.length) throw scheduleRefusal(issues, past, "The post");
  return { ...a, workspaceId };
}

// ------------------------------------------------------------------------------------------------
// Deciding (admins and owners)
// ------------------------------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Approve: the submission is marked approved and its posts queued in ONE transaction, created_by the
 * editor. `edits` (fields of POST /api/queue/add) replace the stored ones first and are checked as
 * an add is; a bad edit is a 400 and nothing changes. Two approvals at once: one queues, one gets 409.
 */
export async function approveSubmission(user: UserClaims, id: string, edits: ApproveInput = {}) {
  const parsed = approveInput.safeParse(edits ?? {});
  if (!parsed.success) throw validationFailed(parsed.error, "The edits");
  if (!UUID.test(id)) throw notFound("The submission");
  const changes = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
  return asUser(user, async (tx) => {
    const [stored] = await tx`select kind, request from public.post_submissions where id = ${id}`;
    if (!stored) throw notFound("The submission");
    const edited = Object.keys(changes).length > 0;
    if (edited && stored?.kind === "bulk" && Object.keys(changes).some((f) => !(BULK_FIELDS as readonly string[]).includes(f))) {
      throw new PacerError(400, "validation_failed", "A bulk submission is approved or rejected as a whole; reject it with a note to ask for changes.", [
        { path: "(body)", message: 'Send no edits for a bulk submission (only ifPast: "publish_now" for rows whose time has passed).' },
      ]);
    }
    const request = edited ? { ...stored.request, ...changes } : null;
    let row: Row;
    try {
      [row] = await tx`
        select ${tx.unsafe(COLUMNS)} from private.approve_submission(${id}, ${request ? tx.json(request as postgres.JSONValue) : null})`;
    } catch (error) {
      return fromDatabaseError(error);
    }
    const submission = toSubmission(row);
    // The admin queues it, as the queue's checks say today (accounts may have gone since it was sent).
    const queued =
      submission.kind === "add"
        ? { posts: 1, items: (await addToQueue(user, submission.request as AddToQueueInput, tx)).items.length }
        : await bulkAddToQueue(user, submission.request as BulkAddInput, tx);
    return { submission, queued: { posts: queued.posts, items: queued.items } };
  });
}

/** Reject with a note the editor sees; nothing is queued. */
export async function rejectSubmission(user: UserClaims, id: string, input: RejectInput): Promise<Submission> {
  const parsed = rejectInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The rejection");
  if (!UUID.test(id)) throw notFound("The submission");
  return asUser(user, async (tx) => {
    try {
      const [row] = await tx`select ${tx.unsafe(COLUMNS)} from private.reject_submission(${id}, ${parsed.data.note})`;
      return toSubmission(row);
    } catch (error) {
      return fromDatabaseError(error);
    }
  });
}

// ------------------------------------------------------------------------------------------------
// Reading, and the setting
// ------------------------------------------------------------------------------------------------

export interface ApprovalsView {
  workspaceId: string;
  /** The workspace's setting, and whether this user may decide (admin or owner). */
  editorPostsNeedApproval: boolean;
  canDecide: boolean;
  submissions: Submission[];
}

/** Admins and owners see the workspace's submissions; editors their own; viewers are refused. Newest first, 200 at most. */
export function listSubmissions(user: UserClaims, query: { workspaceId?: string | null; status?: string }): Promise<ApprovalsView> {
  const parsed = listSubmissionsInput.safeParse(query);
  if (!parsed.success) throw validationFailed(parsed.error, "The query");
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, parsed.data.workspaceId);
    const [w] = await tx`
      select w.editor_posts_need_approval, private.has_role_on_workspace(w.id, 'editor') as editor,
             private.has_role_on_workspace(w.id, 'admin') as admin
      from public.workspaces w where w.id = ${workspaceId}`;
    if (!w.editor) throw new PacerError(403, "forbidden", "Viewers have no submissions; editors, admins and owners see approvals.");
    const status = parsed.data.status ?? null;
    // RLS narrows an editor to their own submissions.
    const rows = await tx.unsafe(
      `select ${COLUMNS} from public.post_submissions
       where workspace_id = $1 and ($2::text is null or status = $2) order by created_at desc, id limit 200`,
      [workspaceId, status],
    );
    const ids = [...new Set(rows.map((r) => r.submitted_by).filter(Boolean))];
    const people = ids.length ? await tx`select user_id, email from private.people_in_workspace(${workspaceId}, ${ids}::uuid[])` : [];
    const emails = new Map(people.map((p) => [p.user_id as string, p.email as string]));
    return {
      workspaceId,
      editorPostsNeedApproval: w.editor_posts_need_approval,
      canDecide: w.admin,
      submissions: rows.map((r) => toSubmission(r, emails)),
    };
  });
}

/** Turn "editors' posts need approval" on or off: admins and owners only (audited with the workspace). */
export function setApprovalSetting(user: UserClaims, input: ApprovalSettingInput): Promise<{ workspaceId: string; editorPostsNeedApproval: boolean }> {
  const parsed = approvalSettingInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The setting");
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, parsed.data.workspaceId);
    const [r] = await tx`
      update public.workspaces set editor_posts_need_approval = ${parsed.data.enabled}
      where id = ${workspaceId} returning editor_posts_need_approval`;
    if (!r) throw new PacerError(403, "forbidden", "Only admins and owners can change whether editors' posts need approval.");
    return { workspaceId, editorPostsNeedApproval: r.editor_posts_need_approval };
  });
}
