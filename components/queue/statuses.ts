// Queue statuses and error classes as subscribers read them, and which statuses each card and action covers.
import type { QueueItem, QueueStatus } from "@/lib/queue/types";

/** Waiting or under way: the "Pending + processing" card. */
export const WAITING: readonly QueueStatus[] = ["pending", "rate_limited", "processing", "verifying"];
/**
 * What needs attention: the "Issues" card. Not rate_limited: a rate-limited item is waiting (it is in
 * the "Pending + processing" card) and goes out by itself once the limit allows; counting it here too
 * made the cards add up to more than the total.
 */
export const ISSUES: readonly QueueStatus[] = ["failed", "needs_review"];
/** What Cancel applies to: anything waiting or under way, and an item a person decided to leave unpublished. */
export const CANCELLABLE: readonly QueueStatus[] = [...WAITING, "needs_review"];
/** A worker holds these: cancelling only asks it to stop, so nothing is torn mid-publish. */
export const MID_PUBLISH: readonly QueueStatus[] = ["processing", "verifying"];
/** Finished without publishing, for a reason a person may have fixed since. */
export const RETRYABLE: readonly QueueStatus[] = ["failed", "needs_review"];

export const statusStyles: Record<QueueStatus, { label: string; className: string; description: string }> = {
  pending: {
    label: "Pending",
    className: "border-slate-300 bg-slate-100 text-slate-800 dark:border-slate-700 dark:bg-slate-800 dark:text-slate-100",
    description: "Waiting for its scheduled time.",
  },
  rate_limited: {
    label: "Rate limited",
    className: "border-amber-300 bg-amber-100 text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100",
    description: "Waiting until the account's limit allows another post.",
  },
  processing: {
    label: "Processing",
    className: "border-sky-300 bg-sky-100 text-sky-900 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-100",
    description: "Being published now.",
  },
  verifying: {
    label: "Verifying",
    className: "border-violet-300 bg-violet-100 text-violet-900 dark:border-violet-800 dark:bg-violet-950 dark:text-violet-100",
    description: "The outcome is unknown: Pacer is asking the platform whether it was published before trying again.",
  },
  posted: {
    label: "Posted",
    className: "border-emerald-300 bg-emerald-100 text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-100",
    description: "Published.",
  },
  failed: {
    label: "Failed",
    className: "border-red-300 bg-red-100 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100",
    description: "Not published; retries are spent or the platform refused it.",
  },
  cancelled: {
    label: "Cancelled",
    className: "border-zinc-200 bg-transparent text-zinc-500 line-through decoration-zinc-400 dark:border-zinc-700 dark:text-zinc-400",
    description: "Cancelled before it was published.",
  },
  needs_review: {
    label: "Needs review",
    className: "border-orange-400 bg-orange-100 text-orange-900 dark:border-orange-700 dark:bg-orange-950 dark:text-orange-100",
    description: "Pacer could not tell whether it was published; check the account, then retry it or cancel it.",
  },
};

const waitingStyle = {
  className: "border-amber-300 bg-amber-50 text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100",
};

const ACCOUNT_WAITS: Record<string, { label: string; description: string }> = {
  paused: { label: "Waiting: account paused", description: "Its account is paused; it goes out when the account is resumed (Accounts)." },
  needs_reconnect: { label: "Waiting: account needs reconnecting", description: "Its account must be reconnected (Accounts); then it goes out." },
  restricted: { label: "Waiting: account restricted", description: "The platform restricted its account; it waits until the account can post again." },
  needs_review: { label: "Waiting: account needs review", description: "Its account needs a look (Health); it waits until the account is cleared." },
};

/**
 * How an item's status reads on the page: a waiting item held by its account or destination says
 * so ("Waiting: account paused") instead of a plain "Pending" with the reason under an error.
 */
export function itemStatus(item: Pick<QueueItem, "status" | "waitingFor" | "accountState" | "lastError">) {
  if (item.waitingFor === "account") {
    const wait = ACCOUNT_WAITS[item.accountState] ?? { label: "Waiting: account unavailable", description: "Its account cannot post right now; it waits until it can." };
    return { ...waitingStyle, ...wait };
  }
  if (item.waitingFor === "destination") {
    return { ...waitingStyle, label: "Waiting: destination held", description: item.lastError ?? "Its destination is held for this account; it waits until the hold is released." };
  }
  return statusStyle(item.status);
}

export function statusStyle(status: string) {
  return statusStyles[status as QueueStatus] ?? { label: status, className: "", description: "" };
}

const errorClasses: Record<string, string> = {
  rate_limited: "Rate limited",
  retryable: "Temporary error",
  auth_expired: "Sign-in expired",
  restricted: "Account restricted",
  destination_rejected: "Destination rejected",
  permanent: "Rejected",
  unknown: "Outcome unknown",
  outcome_unknown: "Outcome unknown",
};

export function errorClassName(errorClass: string): string {
  return errorClasses[errorClass] ?? errorClass.replaceAll("_", " ");
}

export function sum(counts: Partial<Record<QueueStatus, number>>, statuses: readonly QueueStatus[]): number {
  return statuses.reduce((n, s) => n + (counts[s] ?? 0), 0);
}
