// The queue's shapes as the API and the dashboard see them; no server imports, so client code can use them.
import type { PlatformOptions } from "@/lib/connectors/types";

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
  status: QueueStatus;
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
