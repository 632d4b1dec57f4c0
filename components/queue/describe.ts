// What the queue page says after an action, in words: a Process now run, a bulk action's outcome,
// when the next scheduled run is. Pure, so tests can hold the wording.
import { relativeTime } from "@/lib/time/relative";
import type { BulkOutcome, QueueSchedule, RunReport, SkipReason } from "@/lib/queue/types";

export const posts = (n: number) => `${n.toLocaleString("en")} post${n === 1 ? "" : "s"}`;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "Published 2, failed 1." or "Nothing was due. The next scheduled run is in 40 s." */
export function describeRun(run: RunReport, schedule: QueueSchedule, now = Date.now()): string {
  if (run.claimed === 0) return `Nothing was due. ${nextRunSentence(schedule, now)}`;
  const parts = [`published ${run.published}`, `failed ${run.failed}`];
  if (run.retrying) parts.push(`${plural(run.retrying, "post")} will be tried again`);
  if (run.needsReview) parts.push(`${run.needsReview} need${run.needsReview === 1 ? "s" : ""} review`);
  const sentence = parts.join(", ");
  return `${sentence[0].toUpperCase()}${sentence.slice(1)}.`;
}

/** When the queue is next processed by itself. */
export function nextRunSentence(schedule: QueueSchedule, now = Date.now()): string {
  if (schedule.nextRunAt) {
    return Date.parse(schedule.nextRunAt) <= now + 1000
      ? "The next scheduled run is due now."
      : `The next scheduled run is ${relativeTime(schedule.nextRunAt, now)}.`;
  }
  if (schedule.everySeconds) {
    const every = schedule.everySeconds === 60 ? "every minute" : `every ${plural(Math.round(schedule.everySeconds / 60), "minute")}`;
    return `Scheduled runs come ${every}, but none has run recently: is the scheduler running?`;
  }
  return "No scheduled run is set up; use Process now.";
}

const SKIPPED_AS: Record<SkipReason, string> = {
  not_found: "no longer in this workspace",
  already_posted: "already posted",
  already_failed: "already failed",
  already_cancelled: "already cancelled",
  cancel_already_requested: "cancel already requested",
  not_failed: "not failed",
  not_waiting: "no longer waiting",
  in_flight: "being published",
  account_not_publishable: "platform not available",
  plan_limit: "account outside the plan",
  not_cancelled: "not cancelled",
  time_passed: "time has passed",
  was_tried: "tried before it was cancelled",
  account_removed: "account removed",
};

/** "Cancelled 3 posts. Skipped 2: 1 already posted, 1 already failed." */
export function describeOutcome(verb: string, o: BulkOutcome): string {
  const done = `${verb} ${posts(o.done)}.`;
  if (!o.skipped) return done;
  const why = Object.entries(o.skippedBy).map(([reason, n]) => `${n} ${SKIPPED_AS[reason as SkipReason] ?? reason}`);
  return `${done} Skipped ${o.skipped}: ${why.join(", ")}.`;
}

