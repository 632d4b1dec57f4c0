// The calendar's shapes as the API and the page see them; no server imports, so client code can use them.
import type { EditRefusal } from "@/lib/posts/edit-refusal";
import type { QueueStatus } from "@/lib/queue/types";

/** One queue item (a post × account) placed on the calendar. */
export interface CalendarItem {
  id: number;
  postId: string;
  text: string;
  mediaUrls: string[];
  firstComment: string | null;
  destination: string | null;
  accountId: string;
  handle: string;
  platform: string;
  status: QueueStatus;
  scheduledFor: string;
  postedAt: string | null;
  /** Where the calendar places it: postedAt for posted items, scheduledFor for the rest. */
  at: string;
  /** When a waiting item will next be tried, if that is later than its scheduled time (a limit, a backoff); null otherwise. */
  nextAttemptAt: string | null;
  lastError: string | null;
  externalUrl: string | null;
  cancelRequested: boolean;
  /** Still waiting (pending or rate limited, not claimed): it may be moved to another time. */
  reschedulable: boolean;
  /** The caller may change its post's text, media, first comment and destination (editRefusal is null). */
  editable: boolean;
  /** Why not: an item of the post was claimed or sent, or editors' changes need approval here. */
  editRefusal: EditRefusal | null;
}

export interface CalendarRange {
  workspaceId: string;
  from: string;
  to: string;
  items: CalendarItem[];
  /** True when the range holds more than `limit` items: only the earliest `limit` are listed. */
  truncated: boolean;
  limit: number;
  /** Says what was left out and how to see it, when truncated. */
  notice: string | null;
}

export interface RescheduledItem {
  id: number;
  status: QueueStatus;
  scheduledFor: string;
  /** When it will next be tried: the new time, or later when a limit or backoff still holds it; null while held (a paused account). */
  nextAttemptAt: string | null;
}
