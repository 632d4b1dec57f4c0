// The OpenAPI 3.1 description of Pacer's HTTP API, served at /api/openapi.json and rendered at
// /dashboard/api-reference. Request schemas are the zod schemas the routes themselves parse (turned
// into JSON Schema 2020-12 by zod's toJSONSchema), so the document cannot drift from what a route
// accepts; replies are described more roughly, by the shapes below. Every route under app/api must
// appear here: tests/api-keys/openapi.test.ts walks the route files and fails on any left out.
import { z } from "zod";
import { KEY_SCOPE_OF_BUCKET } from "@/lib/api-keys";
import { API_KEY_SCOPES, SCOPE_DESCRIPTIONS, apiKeyListSchema, apiKeySchema, createApiKeyInput, createdApiKeySchema, listApiKeysQuery } from "@/lib/api-keys/input";
import { API_LIMITS, type ApiBucket } from "./limits";
import { addInput, bulkInput, cancelInput, processInput, retryInput } from "@/lib/queue/input";
import { bulkActionInput, duplicateInput, pageInput, restoreInput } from "@/lib/queue/manage-input";
import { BULK_ACTIONS, QUEUE_STATUSES } from "@/lib/queue/types";
import { ACCOUNT_STATES, accountChanges, newAccountInput, reconnectInput as accountReconnectInput } from "@/lib/accounts";
import { startInput as mastodonStartInput } from "@/lib/accounts/mastodon";
import { BULK_ACTIONS as ACCOUNT_BULK_ACTIONS, accountListQuery, bulkAccountsInput, groupChanges, newGroupInput, removalPreviewInput } from "@/lib/accounts/input";
import {
  connectLinkInput,
  importInput as uploadPostImportInput,
  keyInput as uploadPostKeyInput,
  reconnectInput as uploadPostReconnectInput,
  workspaceOnlyInput,
} from "@/lib/accounts/upload-post";
import { pauseAllBody, releaseBody, ruleBody, settingsBody, workspaceBody } from "@/lib/health/actions";
import { detailInput, workspaceQuery } from "@/lib/health/overview";
import { markPostedInput, reviewListInput } from "@/lib/review";
import { historyInput } from "@/lib/history";
import { homeInput } from "@/lib/home";
import { metricsInput } from "@/lib/ops/metrics";
import { planChoice, portalRequest } from "@/lib/billing/checkout";
import { auditQuery } from "@/lib/audit/input";
import { createDraftInput, updateDraftInput } from "@/lib/drafts/input";
import { settingsInput } from "@/lib/settings/input";
import { calendarInput, editPostInput, rescheduleInput } from "@/lib/calendar/input";
import { importCheckInput, importInput as csvImportInput, importListInput } from "@/lib/import/input";
import { acceptInput, changeRoleInput, inviteInput, leaveInput, transferInput } from "@/lib/team/input";
import { createEndpointInput, deliveryId, updateEndpointInput } from "@/lib/webhooks/input";
import { SUBMISSION_STATUSES, approvalSettingInput, approveInput, approveManyInput, listSubmissionsInput, rejectInput } from "@/lib/approvals/input";

type JsonSchema = Record<string, unknown>;
type Method = "get" | "post" | "put" | "patch" | "delete";

/**
 * Who may call an operation: `api` — a session (cookie or access token) or an API key with the
 * bucket's scope; `session` — signed-in people only (withSession); `public`, `stripe` (the webhook's
 * signature) and `browser` (a sign-in redirect) are not withUser routes.
 */
type Access = "api" | "session" | "public" | "stripe" | "browser";

export interface Operation {
  method: Method;
  /** OpenAPI's form: /api/accounts/{id}. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  access: Access;
  /** The route's rate-limit bucket (withUser / withSession routes). */
  bucket?: ApiBucket;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The body may be left out (an empty body reads as {}). */
  bodyOptional?: boolean;
  /** Accepts an Idempotency-Key header (lib/api/idempotency.ts). */
  idempotent?: boolean;
  /** The success reply: status, what it means, and its shape. */
  reply: { status: number; description: string; schema?: z.ZodType };
  /** Path parameters that are not UUIDs (the rest are). */
  pathParams?: Record<string, JsonSchema & { description: string }>;
}

// ------------------------------------------------------------------------------------------------
// Reply shapes, roughly: the fields a program reads. The TypeScript types in lib/ are the detail.
// ------------------------------------------------------------------------------------------------
const iso = z.iso.datetime();
const queueStatus = z.enum(QUEUE_STATUSES);
const counts = z.record(queueStatus, z.int());
const account = z.object({
  id: z.uuid(),
  workspaceId: z.uuid(),
  platform: z.string(),
  handle: z.string(),
  displayName: z.string(),
  state: z.enum(ACCOUNT_STATES),
  cooldownUntil: iso.nullable(),
  requiresReview: z.boolean(),
  lastError: z.string().nullable(),
  healthScore: z.int().min(0).max(100),
  pausedReason: z.enum(["plan_limit", "health", "manual", "removed"]).nullable(),
  archivedAt: iso.nullable().describe("When the account was removed; null for a live account."),
  createdAt: iso,
  updatedAt: iso,
});
const accountGroup = z.object({ id: z.uuid(), workspaceId: z.uuid(), name: z.string(), accountIds: z.array(z.uuid()), createdAt: iso, updatedAt: iso });
const bulkAccountResult = z.object({
  accountId: z.uuid(),
  outcome: z.string().describe("paused, resumed, still_paused, unchanged, removed, already_removed, account_removed, plan_limit, needs_reconnect, forbidden or not_found"),
  state: z.enum(ACCOUNT_STATES).nullable(),
  message: z.string().nullable(),
});
const queueItem = z.object({
  id: z.int(),
  postId: z.uuid(),
  text: z.string(),
  accountId: z.uuid(),
  handle: z.string(),
  platform: z.string(),
  accountState: z.string(),
  status: queueStatus,
  waitingFor: z.enum(["account", "destination"]).nullable().describe("What a waiting item waits for besides its time: its account (paused, or otherwise unable to publish) or a held destination."),
  priority: z.int(),
  scheduledFor: iso,
  nextAttemptAt: iso.nullable(),
  postedAt: iso.nullable(),
  attempts: z.int(),
  lastError: z.string().nullable(),
  errorClass: z.string().nullable(),
  externalUrl: z.string().nullable(),
  cancelRequested: z.boolean(),
  createdAt: iso,
  updatedAt: iso,
});
const queueStatusSummary = z.object({
  workspaceId: z.uuid(),
  total: z.int(),
  counts,
  successRate: z.number().nullable(),
  nextDueAt: iso.nullable(),
  oldestPendingAt: iso.nullable(),
  byPlatform: z.record(z.string(), counts),
  schedule: z.object({ everySeconds: z.int().nullable(), lastRunAt: iso.nullable(), nextRunAt: iso.nullable() })
    .describe("The processing schedule: its interval, its last recorded run, and the next one (null when no recent run is recorded)."),
});
const itemOutcome = z.object({
  id: z.int(),
  done: z.boolean(),
  outcome: z.enum(["cancelled", "cancel_requested", "retried", "rescheduled", "restored", "skipped"]),
  status: queueStatus.nullable(),
  reason: z.string().nullable().describe("Why it was skipped: not_found, already_posted, already_failed, already_cancelled, cancel_already_requested, not_failed, not_waiting, in_flight, account_not_publishable, plan_limit, not_cancelled, time_passed, was_tried, account_removed."),
  message: z.string().nullable(),
});
const bulkOutcome = z.object({
  workspaceId: z.uuid(),
  action: z.enum([...BULK_ACTIONS, "restore"]),
  matched: z.int(),
  done: z.int(),
  skipped: z.int(),
  skippedBy: z.record(z.string(), z.int()),
  items: z.array(itemOutcome),
});
const post = z.object({
  id: z.uuid(),
  workspaceId: z.uuid(),
  text: z.string(),
  mediaUrls: z.array(z.string()),
  firstComment: z.string().nullable(),
  thread: z.array(z.string()).describe("Further posts of a thread, each a reply to the one before; [] for none."),
  platformOptions: z.record(z.string(), z.object({}).loose()).describe("What only one platform understands, e.g. { mastodon: { visibility, contentWarning } }."),
  destination: z.string().nullable(),
  createdAt: iso,
});
const accountChange = z.object({ accountId: z.uuid(), state: z.string() }).loose();
/** A reply whose fields are documented in the summary and in docs/api.md rather than here. */
const object = (description: string) => z.object({}).loose().describe(description);

const editRefusal = z
  .enum(["sending", "approval_required"])
  .nullable()
  .describe("Why the caller may not change the post now: an item of it was claimed or sent, or editors' changes need approval; null when they may.");
const calendarItem = queueItem
  .pick({ id: true, postId: true, text: true, accountId: true, handle: true, platform: true, status: true, scheduledFor: true, postedAt: true, nextAttemptAt: true, lastError: true, externalUrl: true, cancelRequested: true })
  .extend({ mediaUrls: z.array(z.string()), firstComment: z.string().nullable(), destination: z.string().nullable(), at: iso, reschedulable: z.boolean(), editable: z.boolean(), editRefusal });
const importChange = z.object({ rowNumber: z.int(), importedAt: iso, message: z.string() });
const importRecord = z.object({
  id: z.uuid(), workspaceId: z.uuid(), fileName: z.string(), rowsInFile: z.int(), rowsImported: z.int(), rowsBad: z.int(),
  rowsRepeated: z.int(), rowsChanged: z.int(), createdBy: z.uuid().nullable(), createdAt: iso, updatedAt: iso,
});
const userSettings = z.object({ timeZone: z.string().nullable(), updatedAt: iso.nullable() });
const draft = z.object({ id: z.uuid(), workspaceId: z.uuid(), content: object("The composer's fields, each optional: text, accountIds, mediaUrls, firstComment, destination, priority, scheduledFor."), createdBy: z.uuid().nullable(), createdAt: iso, updatedAt: iso });
const member = z.object({ userId: z.uuid(), email: z.string(), role: z.string(), joinedAt: iso, you: z.boolean() });
const invitation = z.object({ id: z.uuid(), email: z.string(), role: z.string(), invitedBy: z.uuid().nullable(), createdAt: iso, expiresAt: iso, status: z.enum(["open", "expired"]) });
const endpoint = z.object({
  id: z.uuid(), workspaceId: z.uuid(), url: z.string(), description: z.string().nullable(), events: z.array(z.string()), secretHint: z.string(), enabled: z.boolean(),
  disabledAt: iso.nullable(), disabledReason: z.string().nullable(), consecutiveFailures: z.int(), lastSuccessAt: iso.nullable(), secretRotatedAt: iso.nullable(), createdAt: iso,
});
const delivery = z.object({
  id: z.string(), endpointId: z.uuid(), eventId: z.string(), eventType: z.string(), status: z.enum(["pending", "delivered", "failed"]), attempts: z.int(),
  nextAttemptAt: iso.nullable(), giveUpAt: iso.nullable(), lastAttemptAt: iso.nullable(), responseStatus: z.int().nullable(), responseMs: z.int().nullable(),
  lastError: z.string().nullable(), deliveredAt: iso.nullable(), createdAt: iso,
});

const submission = z.object({
  id: z.uuid(), workspaceId: z.uuid(), kind: z.enum(["add", "bulk"]), status: z.enum(SUBMISSION_STATUSES), posts: z.int(),
  request: z.record(z.string(), z.unknown()).describe("The request as POST /api/queue/add (kind add) or /api/queue/bulk-post (kind bulk) takes it."),
  note: z.string().nullable(), submittedBy: z.uuid().nullable(), submittedByEmail: z.string().nullable(),
  decidedBy: z.uuid().nullable(), decidedAt: iso.nullable(), createdAt: iso,
  fromImport: z.object({ importId: z.uuid(), fileName: z.string(), rowNumber: z.int() }).nullable()
    .describe("The CSV row it came from, when an editor's import sent it (one submission per row)."),
});

// ------------------------------------------------------------------------------------------------
// The operations.
// ------------------------------------------------------------------------------------------------
const workspaceIdQuery = z.object({ workspaceId: z.uuid().nullish().describe("The workspace; default: your personal (or oldest) one.") });

export const OPERATIONS: Operation[] = [
  // Queue
  { method: "post", path: "/api/queue/add", tag: "Queue", access: "api", bucket: "write", idempotent: true,
    summary: "Queue one post to one or more accounts", body: addInput,
    reply: { status: 201, description: "The post and its queue items.", schema: z.object({ post, items: z.array(queueItem) }) } },
  { method: "post", path: "/api/queue/bulk-post", tag: "Queue", access: "api", bucket: "bulk", idempotent: true,
    summary: "Queue up to 10,000 posts in one transaction (or check them with dryRun)", body: bulkInput,
    description: "Bulk posting is a plan feature (Starter and up).",
    reply: { status: 201, description: "What was queued (200 for a dry run).",
      schema: z.object({ dryRun: z.boolean(), accepted: z.int(), posts: z.int(), items: z.int() }) } },
  { method: "get", path: "/api/queue/status", tag: "Queue", access: "api", bucket: "read",
    summary: "The queue's counts by status and platform, success rate, next due and oldest waiting times", query: workspaceIdQuery,
    reply: { status: 200, description: "The workspace's queue at a glance.", schema: queueStatusSummary } },
  { method: "get", path: "/api/queue/items", tag: "Queue", access: "api", bucket: "read",
    summary: "One page of queue items, latest scheduled first: filters, text search and a cursor for the next page", query: pageInput,
    description: "Ordered by scheduled time, then id (newest first, or oldest with order=oldest). Pass nextCursor as cursor for the next page; null on the last. The first page says how many items match (up to 10,000).",
    reply: { status: 200, description: "The page.", schema: z.object({ workspaceId: z.uuid(), items: z.array(queueItem), nextCursor: z.string().nullable(), matching: z.int().nullable(), matchingCapped: z.boolean() }) } },
  { method: "get", path: "/api/queue/items/{id}", tag: "Queue", access: "api", bucket: "read", query: workspaceIdQuery,
    summary: "One queue item in detail: its post in full, every attempt from the posting history, whether it may be edited or restored",
    pathParams: { id: { type: "string", pattern: "^[0-9]+$", description: "The queue item's id (another value answers 404)." } },
    reply: { status: 200, description: "The item.", schema: z.object({
      item: queueItem, post, editable: z.boolean(), editRefusal, restorable: z.boolean(),
      attempts: z.array(z.object({ id: z.int(), kind: z.string(), attempt: z.int(), startedAt: iso, finishedAt: iso, outcome: z.string(), errorMessage: z.string().nullable(), latencyMs: z.int().nullable(), externalId: z.string().nullable() })),
    }) } },
  { method: "post", path: "/api/queue/bulk", tag: "Queue", access: "api", bucket: "write", body: bulkActionInput,
    summary: "Cancel, retry or reschedule the items named by ids, or every item matching a filter (editors and up), with an outcome per item",
    description: "Items the action applies to are changed by one statement; the others are skipped, each with a reason (already posted, not in this workspace, …). A filter matching more than 10,000 items is refused (400 too_many_items).",
    reply: { status: 200, description: "What was done to each item.", schema: bulkOutcome } },
  { method: "post", path: "/api/queue/restore", tag: "Queue", access: "api", bucket: "write", body: restoreInput,
    summary: "Put cancelled items back in the queue (Undo), where their time has not passed and they were never tried",
    reply: { status: 200, description: "What was done to each item.", schema: bulkOutcome } },
  { method: "post", path: "/api/queue/posts/{postId}/duplicate", tag: "Queue", access: "api", bucket: "write", idempotent: true, body: duplicateInput, bodyOptional: true,
    summary: "Queue a copy of a post, to its accounts (or the ones given), at the given time (or the original's while it is ahead)",
    description: "Queued as POST /api/queue/add queues a post: while the workspace's editors' posts need approval, an editor's copy waits as a submission (202).",
    pathParams: { postId: { type: "string", description: "The post's id (a UUID; another value answers 404)." } },
    reply: { status: 201, description: "The copy and its queue items.", schema: z.object({ post, items: z.array(queueItem) }) } },
  { method: "post", path: "/api/queue/cancel", tag: "Queue", access: "api", bucket: "write",
    summary: "Cancel queue items by ids or by filter; items mid-publish end cancelled unless they posted", body: cancelInput,
    reply: { status: 200, description: "How many were cancelled.", schema: z.object({ cancelled: z.int(), cancelRequested: z.int() }) } },
  { method: "post", path: "/api/queue/retry", tag: "Queue", access: "api", bucket: "write",
    summary: "Send failed or needs-review items back to pending, due now", body: retryInput,
    reply: { status: 200, description: "How many were retried.", schema: z.object({ retried: z.int() }) } },
  { method: "post", path: "/api/queue/process", tag: "Queue", access: "api", bucket: "process", body: processInput, bodyOptional: true,
    summary: "Run the queue processor for the workspace now (admins and owners)",
    reply: { status: 200, description: "What the run did in the workspace, and its status after it.", schema: z.object({
      ran: z.literal(true),
      run: z.object({ claimed: z.int(), published: z.int(), failed: z.int(), retrying: z.int(), needsReview: z.int() }),
      status: queueStatusSummary,
    }) } },

  // Calendar
  { method: "get", path: "/api/queue/calendar", tag: "Calendar", access: "api", bucket: "read", query: calendarInput,
    summary: "The queue items placed in [from, to) (at most 62 days, 2,000 items), earliest first",
    reply: { status: 200, description: "The items.", schema: z.object({ workspaceId: z.uuid(), from: iso, to: iso, items: z.array(calendarItem), truncated: z.boolean(), limit: z.int(), notice: z.string().nullable() }) } },
  { method: "post", path: "/api/queue/reschedule", tag: "Calendar", access: "api", bucket: "write", body: rescheduleInput,
    summary: "Move waiting queue items to a new time (editors and up; all or none)",
    reply: { status: 200, description: "The moved items.", schema: z.object({ workspaceId: z.uuid(), items: z.array(z.object({ id: z.int(), status: queueStatus, scheduledFor: iso, nextAttemptAt: iso.nullable() })) }) } },
  { method: "patch", path: "/api/queue/posts/{postId}", tag: "Calendar", access: "api", bucket: "write", body: editPostInput,
    summary: "Change a post none of whose items has been sent yet (text, media, first comment, destination, thread, platform options)",
    pathParams: { postId: { type: "string", description: "The post's id (a UUID; another value answers 404)." } },
    reply: { status: 200, description: "The post.", schema: z.object({ post }) } },

  // Import
  { method: "post", path: "/api/queue/import", tag: "Import", access: "api", bucket: "bulk", body: csvImportInput,
    summary: "Import one chunk of a CSV file's rows (idempotent by importId and row number)",
    description: "Bulk import is a plan feature (Starter and up). 201 when something was queued, 202 when an editor's rows were sent for approval instead (one submission per row, while the workspace's editors' posts need approval), 200 when nothing new was.",
    reply: { status: 201, description: "What the chunk did.", schema: z.object({ importId: z.uuid(), chunkIndex: z.int(), imported: z.int(), alreadyImported: z.int(), changed: z.array(importChange), awaitingApproval: z.int(), posts: z.int(), items: z.int(), import: importRecord }) } },
  { method: "post", path: "/api/queue/import/check", tag: "Import", access: "api", bucket: "read", body: importCheckInput,
    summary: "Which of a file's rows an import would skip as imported before, and which changed since (writes nothing)",
    reply: { status: 200, description: "The file's earlier imports.", schema: z.object({ alreadyImported: z.int(), importedAt: iso.nullable(), changed: z.array(importChange) }) } },
  { method: "get", path: "/api/queue/import", tag: "Import", access: "api", bucket: "read", query: importListInput,
    summary: "Whether this workspace may import, and its latest 20 imports; or one import with ?importId=",
    reply: { status: 200, description: "The overview, or { import }.", schema: z.union([
      z.object({ workspaceId: z.uuid(), planName: z.string(), includedFrom: z.string(), planIncludesImport: z.boolean(), canImport: z.boolean(), rowsWaitForApproval: z.boolean(), imports: z.array(importRecord) }),
      z.object({ import: importRecord }),
    ]) } },

  // Composer: settings, platform limits, drafts
  { method: "get", path: "/api/me/settings", tag: "Composer", access: "api", bucket: "read",
    summary: "The signed-in user's own settings (timeZone is null until one is saved)",
    reply: { status: 200, description: "The settings.", schema: userSettings } },
  { method: "put", path: "/api/me/settings", tag: "Composer", access: "api", bucket: "write", body: settingsInput,
    summary: "Save the user's time zone (an IANA name)", reply: { status: 200, description: "The settings.", schema: userSettings } },
  { method: "get", path: "/api/platforms/limits", tag: "Composer", access: "api", bucket: "read", query: workspaceIdQuery,
    summary: "Each offered platform's text limit (and how it is counted) and posting limits",
    reply: { status: 200, description: "The limits.", schema: z.object({ workspaceId: z.uuid(), platforms: z.array(z.object({
      platform: z.string(), name: z.string(), textLimit: z.int().nullable(), textUnit: z.enum(["graphemes", "characters"]),
      perHour: z.int().nullable(), perDay: z.int().nullable(), minGapMs: z.int().nullable() })) }) } },
  { method: "get", path: "/api/drafts", tag: "Composer", access: "api", bucket: "read", query: workspaceIdQuery,
    summary: "The workspace's drafts, the 100 most recently changed (editors and up)",
    reply: { status: 200, description: "The drafts.", schema: z.object({ workspaceId: z.uuid(), drafts: z.array(draft) }) } },
  { method: "post", path: "/api/drafts", tag: "Composer", access: "api", bucket: "write", body: createDraftInput,
    summary: "Save a new draft", reply: { status: 201, description: "The draft.", schema: z.object({ draft }) } },
  { method: "patch", path: "/api/drafts/{id}", tag: "Composer", access: "api", bucket: "write", body: updateDraftInput,
    summary: "Replace a draft's content", reply: { status: 200, description: "The draft.", schema: z.object({ draft }) } },
  { method: "delete", path: "/api/drafts/{id}", tag: "Composer", access: "api", bucket: "write",
    summary: "Discard a draft", reply: { status: 204, description: "Discarded." } },
  { method: "post", path: "/api/drafts/{id}/queue", tag: "Composer", access: "api", bucket: "write", idempotent: true, body: addInput,
    summary: "Queue a draft (the body is POST /api/queue/add's; workspaceId defaults to the draft's); the draft is deleted in the same transaction",
    reply: { status: 201, description: "The post and its queue items.", schema: z.object({ post, items: z.array(queueItem) }) } },

  // Approvals
  { method: "get", path: "/api/approvals", tag: "Approvals", access: "api", bucket: "read", query: listSubmissionsInput,
    summary: "Submissions waiting for approval or decided: all of the workspace's for admins and the owner, an editor's own for editors",
    reply: { status: 200, description: "The workspace's setting and its submissions, newest first (200 at most).", schema: z.object({
      workspaceId: z.uuid(), editorPostsNeedApproval: z.boolean(), canDecide: z.boolean(), submissions: z.array(submission) }) } },
  { method: "post", path: "/api/approvals/{id}/approve", tag: "Approvals", access: "api", bucket: "write", body: approveInput,
    summary: "Approve a submission (admins and the owner), optionally editing POST /api/queue/add's fields first: its posts enter the queue, created by the editor",
    pathParams: { id: { type: "string", format: "uuid", description: "The submission's id, from GET /api/approvals." } },
    reply: { status: 201, description: "The submission, approved, and what it queued.", schema: z.object({ submission, queued: z.object({ posts: z.int(), items: z.int() }) }) } },
  { method: "post", path: "/api/approvals/approve", tag: "Approvals", access: "api", bucket: "write", body: approveManyInput,
    summary: "Approve several submissions as they are (admins and the owner), e.g. an editor's CSV rows: each is queued, or listed in notApproved with why",
    reply: { status: 200, description: "What was approved and what was not.", schema: z.object({
      approved: z.array(z.object({ id: z.uuid(), posts: z.int(), items: z.int() })),
      notApproved: z.array(z.object({ id: z.uuid(), code: z.string(), message: z.string() })) }) } },
  { method: "post", path: "/api/approvals/{id}/reject", tag: "Approvals", access: "api", bucket: "write", body: rejectInput,
    summary: "Reject a submission with a note the editor sees (admins and the owner); nothing is queued",
    pathParams: { id: { type: "string", format: "uuid", description: "The submission's id, from GET /api/approvals." } },
    reply: { status: 200, description: "The submission, rejected.", schema: z.object({ submission }) } },
  { method: "put", path: "/api/workspace/approval-setting", tag: "Approvals", access: "session", bucket: "write", body: approvalSettingInput,
    summary: "Turn \"editors' posts need approval\" on or off (admins and the owner; people only: a key must not switch the control off)",
    reply: { status: 200, description: "The setting.", schema: z.object({ workspaceId: z.uuid(), editorPostsNeedApproval: z.boolean() }) } },

  // Team
  { method: "get", path: "/api/team/members", tag: "Team", access: "api", bucket: "read", query: workspaceIdQuery,
    summary: "The workspace's members and their roles, and the roles you may manage there",
    reply: { status: 200, description: "The team.", schema: z.object({ workspaceId: z.uuid(), workspaceName: z.string(), yourRole: z.string(), manageableRoles: z.array(z.string()),
      members: z.array(member), workspaces: z.array(z.object({ id: z.uuid(), name: z.string(), role: z.string() })) }) } },
  { method: "patch", path: "/api/team/members/{userId}", tag: "Team", access: "session", bucket: "write", body: changeRoleInput,
    summary: "Change a member's role (admins and the owner, within their rules)",
    pathParams: { userId: { type: "string", format: "uuid", description: "The member's user id, from GET /api/team/members." } },
    reply: { status: 200, description: "The member.", schema: z.object({ member }) } },
  { method: "delete", path: "/api/team/members/{userId}", tag: "Team", access: "session", bucket: "write", query: workspaceIdQuery,
    summary: "Remove a member from the workspace (your own id: leaving)",
    pathParams: { userId: { type: "string", format: "uuid", description: "The member's user id, from GET /api/team/members." } },
    reply: { status: 204, description: "Removed." } },
  { method: "get", path: "/api/team/invitations", tag: "Team", access: "api", bucket: "read", query: workspaceIdQuery,
    summary: "The workspace's open invitations, newest first (admins and the owner)",
    reply: { status: 200, description: "The invitations.", schema: z.object({ invitations: z.array(invitation) }) } },
  { method: "post", path: "/api/team/invitations", tag: "Team", access: "session", bucket: "write", body: inviteInput,
    summary: "Invite an email address at a role (by email, or a link shown once in local mode)",
    reply: { status: 201, description: "The invitation and how it was delivered.", schema: z.object({ invitation, delivery: z.enum(["email", "link"]), link: z.string().optional() }) } },
  { method: "delete", path: "/api/team/invitations/{id}", tag: "Team", access: "session", bucket: "write",
    summary: "Revoke an open invitation: its link stops working", reply: { status: 204, description: "Revoked." } },
  { method: "post", path: "/api/team/invitations/accept", tag: "Team", access: "session", bucket: "write", body: acceptInput,
    summary: "Accept an invitation by its link's token, as the signed-in person it was sent to",
    reply: { status: 200, description: "The workspace joined.", schema: z.object({ workspaceId: z.uuid(), role: z.string() }) } },
  { method: "post", path: "/api/team/leave", tag: "Team", access: "session", bucket: "write", body: leaveInput,
    summary: "Leave a workspace (not its owner, who transfers ownership first)",
    reply: { status: 200, description: "The workspace left.", schema: z.object({ workspaceId: z.uuid() }) } },
  { method: "post", path: "/api/team/transfer-ownership", tag: "Team", access: "session", bucket: "write", body: transferInput,
    summary: "Hand the workspace to another member (the owner only); the old owner becomes an admin",
    reply: { status: 200, description: "The new owner.", schema: z.object({ workspaceId: z.uuid(), ownerId: z.uuid() }) } },

  // Audit log
  { method: "get", path: "/api/audit", tag: "Audit log", access: "session", bucket: "read", query: auditQuery,
    summary: "One page of the audit log, newest first, filtered by actor, action, entity and time (admins and the owner)",
    reply: { status: 200, description: "A page of entries.", schema: z.object({ workspaceId: z.uuid(), entries: z.array(object("AuditEntry: { id, at, actor, action, entity, entityId, subject, changes, oldValues, newValues }")),
      nextCursor: z.string().nullable(), facets: object("{ actions, entities, actors } (first page only)").optional() }) } },
  { method: "get", path: "/api/audit/export", tag: "Audit log", access: "session", bucket: "read", query: auditQuery,
    summary: "The filtered audit log as a CSV file, at most 50,000 rows (X-Pacer-Truncated: true when more matched)",
    reply: { status: 200, description: "A text/csv attachment." } },

  // Webhooks
  { method: "get", path: "/api/webhooks", tag: "Webhooks", access: "api", bucket: "read", query: workspaceIdQuery,
    summary: "The workspace's webhook endpoints (admins and owners; never their secrets)",
    reply: { status: 200, description: "The endpoints.", schema: z.object({ workspaceId: z.uuid(), endpoints: z.array(endpoint) }) } },
  { method: "post", path: "/api/webhooks", tag: "Webhooks", access: "session", bucket: "write", body: createEndpointInput,
    summary: "Add a webhook endpoint; the reply carries its signing secret, the only time it is shown",
    reply: { status: 201, description: "The endpoint and its secret.", schema: z.object({ endpoint, secret: z.string() }) } },
  { method: "patch", path: "/api/webhooks/{id}", tag: "Webhooks", access: "session", bucket: "write", body: updateEndpointInput,
    summary: "Change an endpoint (url, description, events, enabled: re-enabling resumes its deliveries)",
    reply: { status: 200, description: "The endpoint.", schema: z.object({ endpoint }) } },
  { method: "delete", path: "/api/webhooks/{id}", tag: "Webhooks", access: "session", bucket: "write",
    summary: "Remove an endpoint and its delivery log", reply: { status: 200, description: "Removed.", schema: z.object({ deleted: z.literal(true) }) } },
  { method: "post", path: "/api/webhooks/{id}/rotate-secret", tag: "Webhooks", access: "session", bucket: "write",
    summary: "Replace the endpoint's signing secret at once; the reply carries the new one, the only time it is shown",
    reply: { status: 200, description: "The endpoint and its new secret.", schema: z.object({ endpoint, secret: z.string() }) } },
  { method: "post", path: "/api/webhooks/{id}/test", tag: "Webhooks", access: "api", bucket: "write",
    summary: "Queue a ping event for this endpoint only (the worker delivers it)",
    reply: { status: 202, description: "Queued, not yet sent.", schema: z.object({ eventId: z.string() }) } },
  { method: "get", path: "/api/webhooks/{id}/deliveries", tag: "Webhooks", access: "api", bucket: "read",
    query: z.object({ before: deliveryId.optional().describe("A delivery id from the page before: pages back.") }),
    summary: "The endpoint's delivery log, newest first, 50 per page",
    reply: { status: 200, description: "The deliveries.", schema: z.object({ deliveries: z.array(delivery) }) } },
  { method: "post", path: "/api/webhooks/deliveries/{id}/retry", tag: "Webhooks", access: "api", bucket: "write",
    summary: "Send a delivery again now (a given-up one gets a fresh 24 hours)",
    pathParams: { id: { type: "string", pattern: "^[1-9][0-9]{0,17}$", description: "The delivery's id." } },
    reply: { status: 202, description: "The delivery, due at once.", schema: z.object({ delivery }) } },

  // Accounts
  { method: "get", path: "/api/accounts", tag: "Accounts", access: "api", bucket: "read", query: accountListQuery,
    summary: "The workspace's social accounts, oldest first: search (q), filters, and pages (limit, cursor); without limit, all",
    description: "Live accounts unless state=removed. health: good (80–100), fair (50–79), poor (below 50).",
    reply: { status: 200, description: "The accounts.", schema: z.object({ workspaceId: z.uuid(), accounts: z.array(account), total: z.int(), nextCursor: z.string().nullable() }) } },
  { method: "post", path: "/api/accounts/bulk", tag: "Accounts", access: "api", bucket: "write", body: bulkAccountsInput,
    summary: "Pause, resume or remove up to 1,000 accounts at once; each account's outcome (never all-or-nothing)",
    reply: { status: 200, description: "Each account's outcome, and a count per outcome.",
             schema: z.object({ action: z.enum(ACCOUNT_BULK_ACTIONS), results: z.array(bulkAccountResult), summary: z.record(z.string(), z.int()) }) } },
  { method: "post", path: "/api/accounts/removal-preview", tag: "Accounts", access: "api", bucket: "read", body: removalPreviewInput,
    summary: "What removing these accounts would do: posts waiting (cancelled), in flight, and posted (kept); changes nothing",
    reply: { status: 200, description: "The counts.", schema: z.object({ accounts: z.int(), waiting: z.int(), inFlight: z.int(), posted: z.int() }) } },
  { method: "get", path: "/api/account-groups", tag: "Accounts", access: "api", bucket: "read", query: workspaceIdQuery,
    summary: "The workspace's account groups", reply: { status: 200, description: "The groups.", schema: z.object({ workspaceId: z.uuid(), groups: z.array(accountGroup) }) } },
  { method: "post", path: "/api/account-groups", tag: "Accounts", access: "api", bucket: "write", body: newGroupInput,
    summary: "Add an account group (editors and up)", reply: { status: 201, description: "The group.", schema: z.object({ group: accountGroup }) } },
  { method: "patch", path: "/api/account-groups/{id}", tag: "Accounts", access: "api", bucket: "write", body: groupChanges,
    summary: "Rename a group and/or set its accounts (the whole list)", reply: { status: 200, description: "The group.", schema: z.object({ group: accountGroup }) } },
  { method: "delete", path: "/api/account-groups/{id}", tag: "Accounts", access: "api", bucket: "write",
    summary: "Delete a group (its accounts stay)", reply: { status: 204, description: "Deleted." } },
  { method: "post", path: "/api/accounts", tag: "Accounts", access: "api", bucket: "write", body: newAccountInput,
    summary: "Add (connect) an account; capped by the plan",
    reply: { status: 201, description: "The account.", schema: z.object({ account }) } },
  { method: "patch", path: "/api/accounts/{id}", tag: "Accounts", access: "api", bucket: "write", body: accountChanges,
    summary: "Rename an account (handle, display name)",
    reply: { status: 200, description: "The account.", schema: z.object({ account }) } },
  { method: "delete", path: "/api/accounts/{id}", tag: "Accounts", access: "api", bucket: "write",
    summary: "Remove an account (admins and owners): it is archived, its waiting posts cancelled, its posted items and history kept",
    reply: { status: 204, description: "Removed." } },
  { method: "post", path: "/api/accounts/{id}/reconnect", tag: "Accounts", access: "api", bucket: "write", body: accountReconnectInput,
    summary: "Reconnect an account with new credentials; it keeps its queue and history",
    reply: { status: 200, description: "The account.", schema: z.object({ account }) } },
  { method: "post", path: "/api/accounts/{id}/pause", tag: "Accounts", access: "api", bucket: "write",
    summary: "Pause an account; its queued posts wait", reply: { status: 200, description: "The account's new state.", schema: accountChange } },
  { method: "post", path: "/api/accounts/{id}/resume", tag: "Accounts", access: "api", bucket: "write",
    summary: "Resume an account; 409 when the plan or a reconnect must do it", reply: { status: 200, description: "The account's new state.", schema: accountChange } },
  { method: "post", path: "/api/accounts/{id}/destinations/release", tag: "Health", access: "api", bucket: "write", body: releaseBody,
    summary: "Release a held destination of the account",
    reply: { status: 200, description: "Whether it was held, and how many items it releases.", schema: z.object({ released: z.boolean(), items: z.int() }) } },
  { method: "get", path: "/api/accounts/platforms", tag: "Accounts", access: "api", bucket: "read",
    summary: "The ways this installation offers to connect an account",
    reply: { status: 200, description: "The offered connections.", schema: z.object({ offered: z.array(z.object({}).loose()) }) } },
  { method: "post", path: "/api/accounts/pause-all", tag: "Health", access: "api", bucket: "write", body: pauseAllBody, bodyOptional: true,
    summary: "Pause the workspace's at-risk accounts (only the listed ones still at risk, with accountIds)",
    reply: { status: 200, description: "What was paused.", schema: z.object({ paused: z.int(), accountIds: z.array(z.uuid()), skipped: z.int() }) } },
  { method: "post", path: "/api/accounts/mastodon/connect", tag: "Accounts", access: "api", bucket: "write", body: mastodonStartInput,
    summary: "Start connecting (or reconnecting) a Mastodon account: the instance's sign-in URL to send the person to",
    reply: { status: 200, description: "Where to send the person.", schema: object("{ url } of the instance's sign-in page.") } },
  { method: "get", path: "/api/accounts/mastodon/callback", tag: "Accounts", access: "browser",
    summary: "Where the Mastodon instance sends the person back after signing in (a browser redirect, not for programs)",
    reply: { status: 303, description: "Back to the accounts page, saying what happened." } },

  // Health
  { method: "get", path: "/api/accounts/health", tag: "Health", access: "api", bucket: "read", query: workspaceQuery,
    summary: "Account health at a glance: settings, score distribution, open alerts, at-risk accounts, the last scan",
    reply: { status: 200, description: "The overview.", schema: object("Settings, distribution, alerts, at-risk accounts, last scan.") } },
  { method: "get", path: "/api/accounts/{id}/health", tag: "Health", access: "api", bucket: "read", query: detailInput,
    summary: "One account's health over ?days= (1–90): series, baseline, score breakdown, alerts, attempts, holds",
    reply: { status: 200, description: "The account's health.", schema: object("Series, baseline, breakdown, alerts, attempts, state changes, holds.") } },
  { method: "post", path: "/api/accounts/health/check-all", tag: "Health", access: "api", bucket: "process", body: workspaceBody, bodyOptional: true,
    summary: "Scan the workspace's accounts now, within about 10 seconds",
    reply: { status: 200, description: "What was scanned.", schema: z.object({ requested: z.int(), scanned: z.object({}).loose() }) } },
  { method: "get", path: "/api/accounts/health/rules", tag: "Health", access: "api", bucket: "read", query: workspaceQuery,
    summary: "The health rules in force (defaults, the workspace's tuning, the bounds)",
    reply: { status: 200, description: "The rules.", schema: object("{ rules: [...] }") } },
  { method: "put", path: "/api/accounts/health/rules/{ruleId}", tag: "Health", access: "api", bucket: "write", body: ruleBody,
    summary: "Tune one rule for the workspace (admins and owners); 409 outside its bounds",
    pathParams: { ruleId: { type: "string", description: "The rule's id, from GET /api/accounts/health/rules." } },
    reply: { status: 200, description: "The rule and the re-evaluation it caused.", schema: object("{ rule, evaluation }") } },
  { method: "delete", path: "/api/accounts/health/rules/{ruleId}", tag: "Health", access: "api", bucket: "write", query: workspaceIdQuery,
    summary: "Put a rule back to its defaults (admins and owners)",
    pathParams: { ruleId: { type: "string", description: "The rule's id, from GET /api/accounts/health/rules." } },
    reply: { status: 204, description: "Reset." } },
  { method: "put", path: "/api/accounts/health/settings", tag: "Health", access: "api", bucket: "write", body: settingsBody,
    summary: "The workspace's auto-pause policy (admins and owners)",
    reply: { status: 200, description: "The settings and the re-evaluation they caused.", schema: object("{ settings, evaluation }") } },
  { method: "post", path: "/api/alerts/{id}/acknowledge", tag: "Health", access: "api", bucket: "write",
    summary: "Acknowledge a health alert (the first acknowledgement stays)",
    pathParams: { id: { type: "string", pattern: "^[0-9]+$", description: "The alert's id." } },
    reply: { status: 200, description: "The alert.", schema: object("The acknowledged alert.") } },

  // History and review
  { method: "get", path: "/api/history", tag: "History", access: "api", bucket: "read", query: historyInput,
    summary: "The posting history, newest first, filtered and paged with nextCursor",
    reply: { status: 200, description: "A page of attempts.", schema: object("{ attempts: [...], nextCursor }") } },
  { method: "get", path: "/api/review", tag: "Review", access: "api", bucket: "read", query: reviewListInput,
    summary: "What needs a person: items needing review, missing and duplicate posts, accounts",
    reply: { status: 200, description: "The review queue.", schema: object("{ items, missing, duplicates, accounts }") } },
  { method: "post", path: "/api/review/retry", tag: "Review", access: "api", bucket: "write", body: retryInput,
    summary: "Failed or needs-review items back to pending, due now", reply: { status: 200, description: "How many.", schema: z.object({ retried: z.int() }) } },
  { method: "post", path: "/api/review/cancel", tag: "Review", access: "api", bucket: "write", body: retryInput,
    summary: "Cancel items by id, needs-review ones included",
    reply: { status: 200, description: "How many.", schema: z.object({ cancelled: z.int(), cancelRequested: z.int() }) } },
  { method: "post", path: "/api/review/mark-posted", tag: "Review", access: "api", bucket: "write", body: markPostedInput,
    summary: "A person saw the post on the platform: record the item as posted",
    reply: { status: 200, description: "The item.", schema: z.object({ id: z.int(), status: z.literal("posted"), externalId: z.string().nullable(), externalUrl: z.string().nullable(), postedAt: iso }) } },
  { method: "post", path: "/api/review/acknowledge", tag: "Review", access: "api", bucket: "write", body: retryInput,
    summary: "Close the missing-post flags of these items", reply: { status: 200, description: "How many.", schema: z.object({ acknowledged: z.int() }) } },
  { method: "post", path: "/api/review/acknowledge-duplicates", tag: "Review", access: "api", bucket: "write", body: retryInput,
    summary: "Close the duplicate-post flags of these items", reply: { status: 200, description: "How many.", schema: z.object({ acknowledged: z.int() }) } },

  // Upload-Post
  { method: "get", path: "/api/upload-post", tag: "Upload-Post", access: "api", bucket: "read", query: workspaceIdQuery,
    summary: "The workspace's Upload-Post key status (last 4 characters) and its profiles",
    reply: { status: 200, description: "Key status and profiles.", schema: object("{ key, profiles }") } },
  { method: "put", path: "/api/upload-post/key", tag: "Upload-Post", access: "session", bucket: "write", body: uploadPostKeyInput,
    summary: "Set or replace the workspace's Upload-Post API key (admins and owners; checked with Upload-Post first)",
    reply: { status: 200, description: "The key's status (never the key).", schema: object("{ key: { last4, setAt } }") } },
  { method: "delete", path: "/api/upload-post/key", tag: "Upload-Post", access: "session", bucket: "write", body: workspaceOnlyInput, bodyOptional: true,
    summary: "Remove the workspace's Upload-Post API key; its accounts wait for a reconnect",
    reply: { status: 200, description: "The accounts that now wait for a reconnect.", schema: object("{ accountsNeedingReconnect }") } },
  { method: "post", path: "/api/upload-post/import", tag: "Upload-Post", access: "api", bucket: "write", body: uploadPostImportInput,
    summary: "Import chosen Upload-Post profile platforms as Pacer accounts",
    reply: { status: 200, description: "Per selection, what happened.", schema: object("{ results: [...] }") } },
  { method: "post", path: "/api/upload-post/connect-link", tag: "Upload-Post", access: "api", bucket: "write", body: connectLinkInput,
    summary: "A single-use link to Upload-Post's page to connect more platforms to a profile",
    reply: { status: 200, description: "The link.", schema: object("{ url }") } },
  { method: "post", path: "/api/upload-post/reconnect", tag: "Upload-Post", access: "api", bucket: "write", body: uploadPostReconnectInput,
    summary: "Reconnect an Upload-Post account in needs_reconnect, or a new connect link for its profile",
    reply: { status: 200, description: "The account, or a link.", schema: object("{ account } or { url }") } },

  // Workspace and billing
  { method: "get", path: "/api/workspace/usage", tag: "Workspace", access: "api", bucket: "read", query: workspaceIdQuery,
    summary: "The workspace's plan, its account limit, and accounts in use per platform",
    reply: { status: 200, description: "Usage.", schema: object("{ workspaceId, workspaceName, plan, accountsUsed, accountsByPlatform, remaining }") } },
  { method: "get", path: "/api/home", tag: "Workspace", access: "api", bucket: "read", query: homeInput,
    summary: "The dashboard home: getting-started steps, upcoming posts, recent failures, review, usage, and banners (failed payment, paused accounts)",
    description: "One read for the home page and the app-wide banners. `attention.payment` is always null for an API key: billing is a person's concern.",
    reply: { status: 200, description: "The home.", schema: object("{ workspaceId, workspaceName, role, canAct, canManage, gettingStarted, upcoming, failures, review, usage, attention }") } },
  { method: "get", path: "/api/billing", tag: "Billing", access: "session", bucket: "read", query: workspaceIdQuery,
    summary: "The workspace's plan, subscription, plans it can move to, and accounts its plan paused",
    reply: { status: 200, description: "The billing overview.", schema: object("The billing overview.") } },
  { method: "post", path: "/api/billing/checkout", tag: "Billing", access: "session", bucket: "billing", body: planChoice,
    summary: "Move the workspace to a plan: a Stripe Checkout or portal page to open (local mode: applied at once)",
    reply: { status: 200, description: "Where to go, or the change made.", schema: object("{ mode: 'stripe', url } or { mode: 'local', subscription }") } },
  { method: "post", path: "/api/billing/portal", tag: "Billing", access: "session", bucket: "billing", body: portalRequest.unwrap(), bodyOptional: true,
    summary: "A Stripe customer portal session for the workspace", reply: { status: 200, description: "The portal.", schema: object("{ url }") } },
  { method: "post", path: "/api/billing/webhook", tag: "Billing", access: "stripe",
    summary: "Stripe's webhook (signed by Stripe, not for programs)", reply: { status: 200, description: "Received." } },

  // Operators and health
  { method: "get", path: "/api/ops/metrics", tag: "Operators", access: "session", bucket: "read", query: metricsInput,
    summary: "Operators only: how well the installation publishes over ?window=, overall, per platform and per workspace",
    reply: { status: 200, description: "The metrics.", schema: object("See docs/operations.md.") } },
  { method: "get", path: "/api/ops/scheduler", tag: "Operators", access: "session", bucket: "read",
    summary: "Operators only: the schedule's state and warnings", reply: { status: 200, description: "The schedule.", schema: object("{ warnings, functions, checked_at }") } },
  { method: "get", path: "/api/health", tag: "Operators", access: "public",
    summary: "For uptime monitors: 200 while the schedule works and posts go out, 503 while a warning stands",
    reply: { status: 200, description: "Healthy.", schema: object("{ status, warnings }") } },

  { method: "get", path: "/api/openapi.json", tag: "Operators", access: "public",
    summary: "This document (OpenAPI 3.1); rendered at /dashboard/api-reference",
    reply: { status: 200, description: "The OpenAPI document.", schema: object("An OpenAPI 3.1 document.") } },

  // API keys
  { method: "get", path: "/api/keys", tag: "API keys", access: "session", bucket: "read", query: listApiKeysQuery,
    summary: "The workspace's API keys (never their secrets)", reply: { status: 200, description: "The keys.", schema: apiKeyListSchema } },
  { method: "post", path: "/api/keys", tag: "API keys", access: "session", bucket: "write", body: createApiKeyInput,
    summary: "Make an API key; the reply carries its secret, the only time it is shown",
    description: "Any member may make a key, with the scopes their role allows (read: viewer; write and process: editor). A key acts as the person who made it, only in its workspace and scopes. The plan must include api_access.",
    reply: { status: 201, description: "The key and its secret.", schema: createdApiKeySchema } },
  { method: "delete", path: "/api/keys/{id}", tag: "API keys", access: "session", bucket: "write",
    summary: "Revoke an API key (its maker, or an admin or owner); it stops working at once",
    reply: { status: 200, description: "The revoked key.", schema: z.object({ key: apiKeySchema }) } },
];

// ------------------------------------------------------------------------------------------------
// The document.
// ------------------------------------------------------------------------------------------------
const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: { type: "string", description: "Machine-readable, e.g. validation_failed, insufficient_scope, rate_limited." },
        message: { type: "string", description: "What was wrong and how to fix it." },
        issues: {
          type: "array",
          description: "For validation_failed: each offending field (dotted path) and what is wrong with it.",
          items: { type: "object", required: ["path", "message"], properties: { path: { type: "string" }, message: { type: "string" } } },
        },
      },
    },
  },
} as const;

const ERROR_REPLIES: Record<string, string> = {
  "400": "The request is not valid: `issues` names each field.",
  "401": "No valid session, access token or API key (or the key is revoked, expired, or its maker left the workspace).",
  "403": "Not allowed: your role, an API key without this route's scope, a people-only route, or the plan.",
  "404": "Not found, or not yours (the same answer either way).",
  "409": "The change conflicts with the current state (the message says which).",
  "429": "Over Pacer's own rate limit; Retry-After says when to try again.",
};

function jsonSchema(schema: z.ZodType): JsonSchema {
  // "input": what a caller sends (defaults optional, transforms not yet applied). Refinements that
  // JSON Schema cannot say (a function) are left out rather than failing the document.
  const json = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" }) as JsonSchema;
  delete json.$schema;
  return json;
}

function queryParameters(query: z.ZodObject) {
  const json = jsonSchema(query) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, schema]) => ({
    name,
    in: "query",
    required: json.required?.includes(name) ?? false,
    ...(typeof schema.description === "string" ? { description: schema.description } : {}),
    schema,
  }));
}

function pathParameters(op: Operation) {
  return [...op.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => {
    const given = op.pathParams?.[name];
    const { description, ...schema } = given ?? { type: "string", format: "uuid", description: "The id (a UUID)." };
    return { name, in: "path", required: true, description, schema };
  });
}

/** The scope an API key needs for an operation; null when no key may call it. */
export function scopeOf(op: Operation): string | null {
  return op.access === "api" && op.bucket ? KEY_SCOPE_OF_BUCKET[op.bucket] : null;
}

function security(op: Operation) {
  if (op.access === "public" || op.access === "stripe") return [];
  if (op.access === "browser") return [{ sessionCookie: [] }];
  const scope = scopeOf(op);
  return [{ sessionCookie: [] }, { accessToken: [] }, ...(scope ? [{ apiKey: [scope] }] : [])];
}

function accessText(op: Operation): string {
  const scope = scopeOf(op);
  if (op.access === "public") return "Public: no authentication.";
  if (op.access === "stripe") return "Signed by Stripe (Stripe-Signature header); not for programs.";
  if (op.access === "browser") return "A browser redirect with the session cookie; not for programs.";
  if (scope) return `A signed-in session, or an API key with the \`${scope}\` scope.`;
  return "Signed-in people only (session cookie or access token): API keys get 403 session_required.";
}

function operationObject(op: Operation) {
  const parameters = [...pathParameters(op), ...(op.query ? queryParameters(op.query) : [])];
  if (op.idempotent) {
    parameters.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description: "Makes a retry safe: the same key and body within 24 hours returns the first reply (Idempotent-Replayed: true).",
      schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,255}$" },
    });
  }
  const limit = op.bucket ? API_LIMITS[op.bucket] : null;
  const responses: Record<string, unknown> = {
    [String(op.reply.status)]: {
      description: op.reply.description,
      ...(op.reply.schema ? { content: { "application/json": { schema: jsonSchema(op.reply.schema) } } } : {}),
    },
  };
  if (op.access === "api" || op.access === "session") {
    for (const [status, description] of Object.entries(ERROR_REPLIES)) {
      responses[status] = { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
    }
  }
  return {
    operationId: `${op.method}${op.path.replace(/\{(\w+)\}/g, "By_$1").replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
    tags: [op.tag],
    summary: op.summary,
    description: [
      op.description,
      accessText(op),
      limit ? `Rate limit: ${limit.limit} requests per ${limit.windowSeconds} seconds (the \`${op.bucket}\` bucket), per person or per API key.` : null,
    ]
      .filter(Boolean)
      .join("\n\n"),
    "x-pacer-access": op.access,
    "x-pacer-scope": scopeOf(op),
    ...(op.bucket ? { "x-pacer-rate-limit": op.bucket } : {}),
    security: security(op),
    ...(parameters.length ? { parameters } : {}),
    ...(op.body
      ? { requestBody: { required: !op.bodyOptional, content: { "application/json": { schema: jsonSchema(op.body) } } } }
      : {}),
    responses,
  };
}

let cached: Record<string, unknown> | undefined;

/** The OpenAPI 3.1 document for every route under app/api. */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operationObject(op);
  cached = {
    openapi: "3.1.0",
    info: {
      title: "Pacer API",
      version: "1",
      description:
        "Pacer's HTTP API: the same routes the web app uses, under row level security per workspace. " +
        "Authenticate with a session (cookie or `Authorization: Bearer <access token>`) or an API key " +
        "(`Authorization: Bearer pk_…`, made on the API keys page). A key acts as the person who made it, " +
        "only in its workspace and only within its scopes: " +
        API_KEY_SCOPES.map((s) => `\`${s}\` — ${SCOPE_DESCRIPTIONS[s]}`).join(" ") +
        " Errors are `{ error: { code, message, issues? } }`. See docs/api.md.",
    },
    servers: [{ url: "/" }],
    tags: [...new Set(OPERATIONS.map((o) => o.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: {
        sessionCookie: { type: "apiKey", in: "cookie", name: "sb-<project-ref>-auth-token", description: "The web app's Supabase session cookie (set by signing in)." },
        accessToken: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "A Supabase Auth access token of a signed-in person." },
        apiKey: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "pk_…",
          description: "A workspace API key. The requirement's list names the scope the operation needs (read, write or process).",
        },
      },
    },
  };
  return cached;
}
