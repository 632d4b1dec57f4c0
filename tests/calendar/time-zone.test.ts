// The calendar's wall-clock conversions, now lib/time/wall-time.ts (shared with the composer):
// FullCalendar is handed the wall clock in the user's zone and hands it back, so every time on the
// page (and every drop) depends on these being exact, DST and 45-minute offsets included.
import { describe, expect, it } from "vitest";
import { instantOfWallClock, instantOfWallTime, wallClockAt, wallTimeAt } from "@/lib/time/wall-time";

const wall = (s: string) => new Date(`${s}Z`);

describe("wall clock in a zone", () => {
  it.each([
    ["2026-12-02T09:30:00.000Z", "America/New_York", "2026-12-02T04:30:00.000Z"],
    ["2026-07-02T09:30:00.000Z", "America/New_York", "2026-07-02T05:30:00.000Z"],
    ["2026-12-02T09:30:00.000Z", "Asia/Kathmandu", "2026-12-02T15:15:00.000Z"],
    ["2026-12-02T23:30:00.000Z", "Pacific/Auckland", "2026-12-03T12:30:00.000Z"],
    ["2026-12-02T09:30:00.000Z", "UTC", "2026-12-02T09:30:00.000Z"],
    // Seconds survive: the now-indicator and a dragged post keep them.
    ["2026-12-02T09:30:45.250Z", "Asia/Tokyo", "2026-12-02T18:30:45.250Z"],
  ])("shows %s in %s as %s", (instant, zone, expected) => {
    expect(wallClockAt(instant, zone).toISOString()).toBe(expected);
  });

  it.each([
    ["America/New_York", "2026-03-07T10:00:00", "2026-03-07T15:00:00.000Z"],
    // The day after clocks go forward (2026-03-08 02:00 → 03:00): same wall time, an hour less offset.
    ["America/New_York", "2026-03-09T10:00:00", "2026-03-09T14:00:00.000Z"],
    // The day clocks go back in Berlin (03:00 → 02:00), after the change, and the day before.
    ["Europe/Berlin", "2026-10-25T12:00:00", "2026-10-25T11:00:00.000Z"],
    ["Europe/Berlin", "2026-10-24T12:00:00", "2026-10-24T10:00:00.000Z"],
    ["Asia/Kathmandu", "2026-12-02T15:15:00", "2026-12-02T09:30:00.000Z"],
    // A week view's edge: midnight on the day New York's clocks go forward (the change is at 02:00).
    ["America/New_York", "2026-03-08T00:00:00", "2026-03-08T05:00:00.000Z"],
  ])("reads a wall clock in %s (%s) back as the instant %s", (zone, w, instant) => {
    expect(instantOfWallClock(wall(w), zone).toISOString()).toBe(instant);
    expect(wallClockAt(instant, zone).toISOString()).toBe(wall(w).toISOString());
  });

  it("reads a time the clocks skip as just past the gap, and a repeated time as its first", () => {
    // New York skips 02:00–03:00 on 2026-03-08: 02:30 is read with the offset before it (EST), i.e. 03:30 EDT.
    expect(instantOfWallClock(wall("2026-03-08T02:30:00"), "America/New_York").toISOString()).toBe("2026-03-08T07:30:00.000Z");
    expect(wallTimeAt("2026-03-08T07:30:00.000Z", "America/New_York")).toBe("2026-03-08T03:30");
    // Berlin shows 02:30 twice on 2026-10-25: first at CEST (00:30Z), then at CET (01:30Z).
    expect(instantOfWallClock(wall("2026-10-25T02:30:00"), "Europe/Berlin").toISOString()).toBe("2026-10-25T00:30:00.000Z");
  });

  it("round-trips a datetime-local value, a 45-minute offset included", () => {
    expect(wallTimeAt("2026-12-02T09:30:00.000Z", "Europe/Berlin")).toBe("2026-12-02T10:30");
    expect(instantOfWallTime("2026-12-02T10:30", "Europe/Berlin")).toEqual({ ok: true, instant: "2026-12-02T09:30:00.000Z", ambiguous: false });
    expect(wallTimeAt("2026-12-02T09:30:00.000Z", "Asia/Kathmandu")).toBe("2026-12-02T15:15");
    expect(instantOfWallTime("2026-12-02T15:15", "Asia/Kathmandu")).toMatchObject({ instant: "2026-12-02T09:30:00.000Z" });
  });
});
