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
  approveManyInput,
  listSubmissionsInput,
  rejectInput,
  type ApprovalSettingInput,
  type ApproveInput,
  type ApproveManyInput,
  type RejectInput,
  type SubmissionStatus,
} from "./input";

export type { ApprovalSettingInput, ApproveInput, ApproveManyInput, RejectInput, SubmissionStatus } from "./input";
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
  /** The CSV row it came from, when an editor's import sent it (one submission per row). */
  fromImport: { importId: string; fileName: string; rowNumber: number } | null;
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
    fromImport: r.import_id ? { importId: r.import_id, fileName: r.file_name, rowNumber: r.row_number } : null,
  };
}

// ------------------------------------------------------------------------------------------------
// Submitting (from the queue's routes, in their transaction)
// ------------------------------------------------------------------------------------------------

/** True when this user's posts to the workspace must wait: the setting is on and they are an editor, not admin. */
export async function mustWait(tx: Tx, workspaceId: string): Promise<boolean> {
  const [r] = await tx`
    select w.editor_posts_need_approval
           and private.has_role_on_workspace(w.id, 'editor')
           and not private.has_role_on_workspace(w.id, 'admin') as wait
    from public.workspaces w where w.id = ${workspaceId}`;
  return Boolean(r?.wait);
}

/**
 * Posts that wait as one submission each (kind "add"), in one statement: an editor's CSV rows while
 * the workspace's posts need approval, so an admin can approve, edit or reject each row. Each
 * request is POST /api/queue/add's body, already checked by the caller (and checked again as an add
 * when approved). Answers the submissions' ids, in order.
 */
export async function submitPosts(tx: Tx, workspaceId: string, requests: AddToQueueInput[]): Promise<string[]> {
  if (requests.length === 0) return [];
  try {
    const rows = await tx`
      select s.id
      from jsonb_array_elements(${tx.json(requests as postgres.JSONValue)}) with ordinality as r(request, ord)
      cross join lateral private.submit_posts(${workspaceId}, 'add', r.request, 1) s
      order by r.ord`;
    return rows.map((r) => r.id as string);
  } catch (error) {
    return fromDatabaseError(error);
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
  return asUser(user, (tx) => approveIn(user, tx, id, changes));
}

async function approveIn(user: UserClaims, tx: Tx, id: string, changes: Record<string, unknown>) {
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
}

export interface ApproveManyResult {
  approved: Array<{ id: string; posts: number; items: number }>;
  /** Submissions not approved, each with why (decided already, an account gone, not yours to decide…). */
  notApproved: Array<{ id: string; code: string; message: string }>;
}

/**
 * Approve several submissions as they are (the approvals page's "Approve all shown": an editor's CSV
 * rows wait one submission each). One transaction; each submission in a savepoint of its own, so
 * one that can no longer be queued is reported and the others still go in.
 */
export function approveSubmissions(user: UserClaims, input: ApproveManyInput): Promise<ApproveManyResult> {
  const parsed = approveManyInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The approval");
  return asUser(user, async (tx) => {
    const result: ApproveManyResult = { approved: [], notApproved: [] };
    for (const id of new Set(parsed.data.ids)) {
      try {
        const { queued } = await tx.savepoint((sp) => approveIn(user, sp, id, {}));
        result.approved.push({ id, ...queued });
      } catch (error) {
        if (!(error instanceof PacerError)) throw error;
        result.notApproved.push({ id, code: error.code, message: error.message });
      }
    }
    return result;
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
      `select ${COLUMNS.split(", ").map((c) => `s.${c}`).join(", ")}, r.import_id, r.row_number, i.file_name
       from public.post_submissions s
       left join public.import_rows r on r.submission_id = s.id
       left join public.imports i on i.id = r.import_id and i.workspace_id = r.workspace_id
       where s.workspace_id = $1 and ($2::text is null or s.status = $2) order by s.created_at desc, s.id limit 200`,
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
