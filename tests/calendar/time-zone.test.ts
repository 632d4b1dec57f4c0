// The calendar's wall-clock conversions: FullCalendar is handed the wall clock in the user's zone and
// hands it back, so every time on the page (and every drop) depends on these being exact, DST included.
import { describe, expect, it } from "vitest";
import { fromLocalInput, fromWallClock, toLocalInput, toWallClock } from "@/components/calendar/time-zone";

const wall = (s: string) => new Date(`${s}Z`);

describe("wall clock in a zone", () => {
  it.each([
    ["2026-12-02T09:30:00.000Z", "America/New_York", "2026-12-02T04:30:00.000Z"],
    ["2026-07-02T09:30:00.000Z", "America/New_York", "2026-07-02T05:30:00.000Z"],
    ["2026-12-02T09:30:00.000Z", "Asia/Kathmandu", "2026-12-02T15:15:00.000Z"],
    ["2026-12-02T23:30:00.000Z", "Pacific/Auckland", "2026-12-03T12:30:00.000Z"],
    ["2026-12-02T09:30:00.000Z", "UTC", "2026-12-02T09:30:00.000Z"],
  ])("shows %s in %s as %s", (instant, zone, expected) => {
    expect(toWallClock(instant, zone).toISOString()).toBe(expected);
  });

  it.each([
    ["America/New_York", "2026-03-07T10:00:00", "2026-03-07T15:00:00.000Z"],
    // The day after clocks go forward (2026-03-08 02:00 → 03:00): same wall time, an hour less offset.
    ["America/New_York", "2026-03-09T10:00:00", "2026-03-09T14:00:00.000Z"],
    ["Europe/Berlin", "2026-10-25T12:00:00", "2026-10-25T11:00:00.000Z"],
    ["Europe/Berlin", "2026-10-24T12:00:00", "2026-10-24T10:00:00.000Z"],
    ["Asia/Kathmandu", "2026-12-02T15:15:00", "2026-12-02T09:30:00.000Z"],
  ])("reads a wall clock in %s (%s) back as the instant %s", (zone, w, instant) => {
    expect(fromWallClock(wall(w), zone).toISOString()).toBe(instant);
    expect(toWallClock(instant, zone).toISOString()).toBe(wall(w).toISOString());
  });

  it("round-trips a datetime-local value", () => {
    expect(toLocalInput("2026-12-02T09:30:00.000Z", "Europe/Berlin")).toBe("2026-12-02T10:30");
    expect(fromLocalInput("2026-12-02T10:30", "Europe/Berlin").toISOString()).toBe("2026-12-02T09:30:00.000Z");
  });
});
