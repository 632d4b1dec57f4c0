// The past-schedule rule (lib/time/schedule.ts) and how a CSV row meets it (lib/import/rows.ts):
// pure, judged by a pinned clock.
import { describe, expect, it } from "vitest";
import { PAST_TOLERANCE_MS, hasPassed, isPastSchedule, pastScheduleMessage } from "@/lib/time/schedule";
import { accountDirectory, checkRow } from "@/lib/import/rows";

const NOW = Date.parse("2026-12-01T12:00:00Z");
const ago = (ms: number) => new Date(NOW - ms).toISOString();

describe("a schedule in the past", () => {
  it("is refused past 5 minutes; within them it is clock skew", () => {
    expect(PAST_TOLERANCE_MS).toBe(5 * 60_000);
    expect(isPastSchedule(ago(4 * 60_000), NOW)).toBe(false);
    expect(isPastSchedule(ago(5 * 60_000), NOW)).toBe(false);
    expect(isPastSchedule(ago(5 * 60_000 + 1), NOW)).toBe(true);
    expect(isPastSchedule(ago(6 * 60_000), NOW)).toBe(true);
    expect(isPastSchedule(ago(-60_000), NOW)).toBe(false);
    expect(isPastSchedule(null, NOW)).toBe(false);
    expect(isPastSchedule(undefined, NOW)).toBe(false);
  });

  it("has passed the moment it is before now (what the composer asks about)", () => {
    expect(hasPassed(ago(1000), NOW)).toBe(true);
    expect(hasPassed(ago(-1000), NOW)).toBe(false);
    expect(hasPassed(null, NOW)).toBe(false);
  });

  it("is explained with how long ago and every way out", () => {
    expect(pastScheduleMessage(ago(3 * 3600_000), NOW)).toBe(
      `${ago(3 * 3600_000)} is in the past (3 h ago); send a future time, or leave scheduledFor out to publish now, or set ifPast: "publish_now".`,
    );
    // A reschedule must name a time: no "leave it out".
    expect(pastScheduleMessage(ago(3 * 3600_000), NOW, false)).toMatch(/; send a future time, or set ifPast: "publish_now" to publish now\.$/);
  });
});

describe("a CSV row whose time has passed", () => {
  const ctx = { accounts: accountDirectory([{ id: "aaaaaaaa-0000-4000-8000-000000000001", platform: "sandbox", handle: "alice" }]), timeZone: "UTC", now: NOW };
  const row = (scheduled_at: string) => ({ rowNumber: 7, text: "Hello", accounts: "sandbox:alice", scheduled_at });

  it("is a bad row naming its row, column and reason", () => {
    const checked = checkRow(row("2026-12-01 10:00"), ctx);
    expect(checked).toEqual({
      ok: false,
      rowNumber: 7,
      issues: [
        {
          row: 7,
          column: "scheduled_at",
          message: '2026-12-01 10:00 is in the past (2 h ago); give a future time, leave the cell empty to publish at once, or import with "Publish rows whose time has passed now".',
        },
      ],
    });
  });

  it("is taken as it is within 5 minutes, and imported when the import says to publish such rows now", () => {
    expect(checkRow(row("2026-12-01 11:56"), ctx)).toMatchObject({ ok: true, post: { scheduledFor: "2026-12-01T11:56:00.000Z" } });
    expect(checkRow(row("2026-12-01 10:00"), { ...ctx, ifPast: "publish_now" })).toMatchObject({ ok: true, post: { scheduledFor: "2026-12-01T10:00:00.000Z" } });
    expect(checkRow(row("2026-12-01 13:00"), ctx)).toMatchObject({ ok: true });
  });
});
