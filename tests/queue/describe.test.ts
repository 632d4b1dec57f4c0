// The queue page's words: the stat cards count each status once (a rate-limited item is waiting,
// not also an issue), a waiting item held by its account says so, and Process now and bulk actions
// are described by what they did. Pure functions: no database.
import { describe, expect, it } from "vitest";
import { ISSUES, WAITING, itemStatus, sum } from "@/components/queue/statuses";
import { describeOutcome, describeRun, nextRunSentence } from "@/components/queue/describe";
import { QUEUE_STATUSES, emptyCounts, type BulkOutcome } from "@/lib/queue/types";

describe("the stat cards", () => {
  it("count every status in one card at most, so the cards never add up to more than the total", () => {
    for (const s of QUEUE_STATUSES) {
      expect(WAITING.includes(s) && ISSUES.includes(s), s).toBe(false);
    }
    const counts = { ...emptyCounts(), pending: 2, rate_limited: 3, failed: 1, needs_review: 1, posted: 4 };
    expect(sum(counts, WAITING)).toBe(5);
    expect(sum(counts, ISSUES)).toBe(2);
    expect(sum(counts, WAITING) + sum(counts, ISSUES) + counts.posted).toBe(11);
  });
});

describe("an item's status", () => {
  const base = { status: "pending" as const, waitingFor: null, accountState: "active", lastError: null };
  it("reads 'Waiting: account paused' for a post held by its paused account, not 'Pending'", () => {
    expect(itemStatus({ ...base, waitingFor: "account", accountState: "paused", lastError: "Account paused by its owner" }).label).toBe("Waiting: account paused");
    expect(itemStatus({ ...base, waitingFor: "account", accountState: "needs_reconnect" }).label).toBe("Waiting: account needs reconnecting");
    expect(itemStatus({ ...base, waitingFor: "destination", lastError: "r/pics is held" })).toMatchObject({ label: "Waiting: destination held", description: "r/pics is held" });
    expect(itemStatus(base).label).toBe("Pending");
  });
});

describe("what a run and a bulk action say", () => {
  const none = { claimed: 0, published: 0, failed: 0, retrying: 0, needsReview: 0 };
  const now = Date.parse("2026-12-01T12:00:00Z");
  it("says what Process now did, or that nothing was due and when the next run is", () => {
    expect(describeRun({ ...none, claimed: 3, published: 2, failed: 1 }, { everySeconds: 60, lastRunAt: null, nextRunAt: null }, now)).toBe("Published 2, failed 1.");
    expect(describeRun({ ...none, claimed: 2, published: 1, retrying: 1 }, { everySeconds: 60, lastRunAt: null, nextRunAt: null }, now)).toBe(
      "Published 1, failed 0, 1 post will be tried again.",
    );
    const schedule = { everySeconds: 60, lastRunAt: "2026-12-01T11:59:30Z", nextRunAt: "2026-12-01T12:00:30Z" };
    expect(describeRun(none, schedule, now)).toBe("Nothing was due. The next scheduled run is in under a minute.");
    expect(nextRunSentence({ everySeconds: 60, lastRunAt: null, nextRunAt: null }, now)).toBe(
      "Scheduled runs come every minute, but none has run recently: is the scheduler running?",
    );
  });

  it("says how many were done and why the others were skipped", () => {
    const o: BulkOutcome = { workspaceId: "w", action: "cancel", matched: 4, done: 2, skipped: 2, skippedBy: { already_posted: 1, not_found: 1 }, items: [] };
    expect(describeOutcome("Cancelled", o)).toBe("Cancelled 2 posts. Skipped 2: 1 already posted, 1 no longer in this workspace.");
    expect(describeOutcome("Restored", { ...o, done: 1, skipped: 0, skippedBy: {} })).toBe("Restored 1 post.");
  });
});
