// Dates without a time (billing's "Renews on Dec 2") follow the year rule of every time shown: the
// year only when it is not this year, in the user's zone. And the one wall-time reader (lib/time)
// keeps what CSV import needs: seconds, a space for the T, a cached offset that is still exact at DST.
import { describe, expect, it } from "vitest";
import { shortDate } from "@/lib/time/relative";
import { instantOfWallTime, readScheduledAt } from "@/lib/time/wall-time";

const NOW = Date.parse("2026-12-01T12:00:00Z");

describe("shortDate", () => {
  it("leaves the year out this year and says it otherwise, by the user's zone", () => {
    expect(shortDate("2026-12-02T15:00:00Z", "America/New_York", NOW)).toBe("Dec 2");
    expect(shortDate("2027-01-02T15:00:00Z", "America/New_York", NOW)).toBe("Jan 2, 2027");
    // 03:00 on Jan 1 in UTC is still Dec 31 in New York: this year there.
    expect(shortDate("2027-01-01T03:00:00Z", "America/New_York", NOW)).toBe("Dec 31");
    expect(shortDate("2027-01-01T03:00:00Z", "Asia/Tokyo", NOW)).toBe("Jan 1, 2027");
  });
});

describe("one wall-time reader", () => {
  it("reads seconds and a space in an import, and ignores seconds in a datetime-local value", () => {
    expect(readScheduledAt("2026-12-01 09:30:15", "Europe/Paris")).toEqual({ ok: true, instant: "2026-12-01T08:30:15.000Z" });
    expect(readScheduledAt("2026-12-01T09:30:15", "Europe/Paris")).toEqual({ ok: true, instant: "2026-12-01T08:30:15.000Z" });
    expect(instantOfWallTime("2026-12-01T09:30:15", "Europe/Paris")).toMatchObject({ ok: true, instant: "2026-12-01T08:30:00.000Z" });
    expect(instantOfWallTime("2026-12-01 09:30", "Europe/Paris")).toMatchObject({ ok: true, instant: "2026-12-01T08:30:00.000Z" });
  });

  it("is exact on the day the clocks change, cached or not", () => {
    // Paris, 2026-10-25: 02:30 happens twice (first in CEST); 03:30 after the change is CET.
    for (let i = 0; i < 2; i++) {
      expect(readScheduledAt("2026-10-25 02:30", "Europe/Paris")).toEqual({ ok: true, instant: "2026-10-25T00:30:00.000Z" });
      expect(readScheduledAt("2026-10-25 03:30", "Europe/Paris")).toEqual({ ok: true, instant: "2026-10-25T02:30:00.000Z" });
      expect(readScheduledAt("2026-03-29 02:30", "Europe/Paris")).toMatchObject({ ok: false });
    }
  });

  it("refuses a date that does not exist, with an offset too", () => {
    expect(readScheduledAt("2026-02-30T10:00:00+01:00", "UTC")).toMatchObject({ ok: false });
    expect(readScheduledAt("2026-12-01T09:30:00.5+01:00", "UTC")).toEqual({ ok: true, instant: "2026-12-01T08:30:00.500Z" });
  });
});
