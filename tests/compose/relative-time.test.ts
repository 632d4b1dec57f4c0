// How the dashboard words a time: relative phrases and the year shown only when it is not this year.
import { describe, expect, it } from "vitest";
import { exactTime, relativeTime, shortTime } from "@/lib/time/relative";

const now = Date.parse("2026-12-01T12:00:00Z");

describe("relativeTime", () => {
  it.each([
    ["2026-12-01T12:00:00Z", "just now"],
    ["2026-12-01T12:00:30Z", "in under a minute"],
    ["2026-12-01T11:58:00Z", "2 min ago"],
    ["2026-12-02T02:00:00Z", "in 14 h"],
    ["2026-12-04T12:00:00Z", "in 3 days"],
    ["2026-11-30T12:00:00Z", "1 day ago"],
    ["2026-07-01T12:00:00Z", "5 months ago"],
    ["2020-01-01T14:00:00Z", "7 years ago"],
  ])("%s is %s", (at, words) => {
    expect(relativeTime(at, now)).toBe(words);
  });
});

describe("shortTime", () => {
  it("leaves out this year and keeps the zone", () => {
    expect(shortTime("2026-12-02T14:00:00Z", "America/New_York", now)).toBe("Dec 2, 9:00 AM EST");
  });
  it("shows the year of any other year", () => {
    expect(shortTime("2020-01-01T14:00:00Z", "America/New_York", now)).toBe("Jan 1, 2020, 9:00 AM EST");
  });
  it("decides the year in the viewer's zone (New Year's Eve in New York is already next year in UTC)", () => {
    const eve = Date.parse("2026-12-31T23:00:00-05:00");
    expect(shortTime("2027-01-01T03:00:00Z", "America/New_York", eve)).toBe("Dec 31, 10:00 PM EST");
  });
});

it("exactTime says everything, the zone's name included", () => {
  expect(exactTime("2026-12-02T14:00:05Z", "America/New_York")).toBe(
    "Wednesday, December 2, 2026 at 9:00:05 AM EST (America/New_York)",
  );
});
