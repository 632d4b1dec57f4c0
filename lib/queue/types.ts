// The queue's shapes as the API and the dashboard see them; no server imports, so client code can use them.
import type { PlatformOptions } from "@/lib/connectors/types";
import type { EditRefusal } from "@/lib/posts/edit-refusal";

/** Every state of a queue item, in the order a dashboard shows them. */
export const QUEUE_STATUSES = [
  "pending",
  "rate_limited",
  "processing",
  "verifying",
  "posted",
  "failed",
  "cancelled",
  "needs_review",
] as const;

export type QueueStatus = (typeof QUEUE_STATUSES)[number];

export type WaitingFor = "account" | "destination";

/** One post × account in the queue. */
export interface QueueItem {
  id: number;
  postId: string;
  text: string;
  /** The post's further parts, each a reply to the one before; [] for a single post. */
  thread: string[];
  platformOptions: PlatformOptions;
  accountId: string;
  handle: string;
  platform: string;
  /** The account was removed (archived): its posted items stay, its waiting ones were cancelled. */
  accountRemoved: boolean;
  /** The account's state (connected, active, paused, restricted, needs_reconnect, needs_review). */
  accountState: string;
  status: QueueStatus;
  /** What a waiting item waits for besides its time: its account (paused or otherwise unable to
   *  publish) or a held destination; null when nothing holds it. */
  waitingFor: WaitingFor | null;
  priority: number;
  scheduledFor: string;
  /** When a waiting item is next tried (a backoff, a rate-limit wait); null when it is not waiting on
   *  a time (finished, in flight, or held until its account is resumed). */
  nextAttemptAt: string | null;
  postedAt: string | null;
  attempts: number;
  lastError: string | null;
  errorClass: string | null;
  externalUrl: string | null;
  /** A cancel arrived while the item was being published; it ends cancelled unless the post landed. */
  cancelRequested: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Post {
  id: string;
  workspaceId: string;
  text: string;
  mediaUrls: string[];
  firstComment: string | null;
  /** Further posts of a thread, each a reply to the one before (the first to the post); [] for none. */
  thread: string[];
  /** What only one platform understands, keyed by platform: { mastodon: { visibility, contentWarning } }. */
  platformOptions: PlatformOptions;
  destination: string | null;
  createdAt: string;
}

export type StatusCounts = Record<QueueStatus, number>;

export interface QueueStatusSummary {
  workspaceId: string;
  total: number;
  counts: StatusCounts;
  /** posted / (posted + failed); null until something has posted or failed. */
  successRate: number | null;
  /** When the next waiting item may run (null when none waits, or all wait for a paused account). */
  nextDueAt: string | null;
  /** The earliest scheduled time among items not yet published: how far behind the queue is. */
  oldestPendingAt: string | null;
  byPlatform: Record<string, StatusCounts>;
  /** The processing schedule: every how many seconds it runs, and when it next should (null when unknown). */
  schedule: QueueSchedule;
}

export interface QueueSchedule {
  /** Seconds between scheduled runs; null when no schedule is set up. */
  everySeconds: number | null;
  /** The last scheduled run's start, as recorded (null: none recorded yet, e.g. no scheduler running locally). */
  lastRunAt: string | null;
  /** lastRunAt + everySeconds, or null when there is no recent run to count from. */
  nextRunAt: string | null;
}

export interface BulkResult {
  dryRun: boolean;
  /** Rows accepted (every row, or the request was refused). */
  accepted: number;
  posts: number;
  items: number;
}

export interface CancelResult {
  /** Waiting items now cancelled. */
  cancelled: number;
  /** Items mid-publish, marked to end cancelled once the attempt in flight settles (unless it posted). */
  cancelRequested: number;
}

export const emptyCounts = (): StatusCounts =>
  Object.fromEntries(QUEUE_STATUSES.map((s) => [s, 0])) as StatusCounts;

/** One page of the queue, in scheduled order; `nextCursor` fetches the page after it (null: the last). */
export interface QueuePage {
  workspaceId: string;
  items: QueueItem[];
  nextCursor: string | null;
  /** How many items match the filters (first page only; capped: `matchingCapped` says there are more). */
  matching: number | null;
  matchingCapped: boolean;
}

export const BULK_ACTIONS = ["cancel", "retry", "reschedule"] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

/** Why an item was skipped: its status (already posted, failed, …) or a reason of its own. */
export type SkipReason =
  | "not_found"
  | "already_posted"
  | "already_failed"
  | "already_cancelled"
  | "cancel_already_requested"
  | "not_failed"
  | "not_waiting"
  | "in_flight"
  | "account_not_publishable"
  | "plan_limit"
  | "not_cancelled"
  | "time_passed"
  | "was_tried"
  | "account_removed";

export interface ItemOutcome {
  id: number;
  /** Changed by this request. */
  done: boolean;
  /** What was done: cancelled, cancel_requested, retried, rescheduled, restored; or skipped. */
  outcome: "cancelled" | "cancel_requested" | "retried" | "rescheduled" | "restored" | "skipped";
  /** The item's status now (null: not in this workspace). */
  status: QueueStatus | null;
  reason: SkipReason | null;
  /** Why it was skipped, in words; null when done. */
  message: string | null;
}

export interface BulkOutcome {
  workspaceId: string;
  action: BulkAction | "restore";
  /** Items asked for (ids given, or items matching the filter). */
  matched: number;
  done: number;
  skipped: number;
  /** Skips by reason, for a one-line summary. */
  skippedBy: Partial<Record<SkipReason, number>>;
  items: ItemOutcome[];
}

/** One attempt from the posting history. */
export interface Attempt {
  id: number;
  kind: string;
  attempt: number;
  startedAt: string;
  finishedAt: string;
  outcome: string;
  errorMessage: string | null;
  latencyMs: number | null;
  externalId: string | null;
}

export interface QueueItemDetail {
  item: QueueItem;
  post: Post;
  /** Every attempt, oldest first. */
  attempts: Attempt[];
  /** The caller may still change the post's text, thread, media, comment and destination (editRefusal is null). */
  editable: boolean;
  /** Why not: an item of the post was claimed or sent, or editors' changes need approval here. */
  editRefusal: EditRefusal | null;
  /** A cancelled item that can go back to waiting (its time has not passed, it was never tried). */
  restorable: boolean;
}

/** What one "Process now" run did in the workspace. */
export interface RunReport {
  /** Items this run took up (0: nothing was due). */
  claimed: number;
  published: number;
  failed: number;
  /** Back to waiting for a later attempt (a temporary error, a rate limit, a check still to make). */
  retrying: number;
  needsReview: number;
}
