// The composer's arithmetic, without a browser: wall times in the user's zone → UTC (DST gaps refused,
// repeated hours taken at their first), and the form refusing over-limit text exactly as enqueue does.
import { describe, expect, it } from "vitest";
import { instantOfWallTime, wallTimeAt } from "@/lib/time/wall-time";
import { emptyComposer, fieldOf, fromDraftContent, toPostInput } from "@/components/compose/form";
import type { TextRule } from "@/lib/posts/length";

describe("instantOfWallTime", () => {
  it("reads 09:00 in the named zone, not the machine's", () => {
    expect(instantOfWallTime("2026-12-02T09:00", "Asia/Tokyo")).toEqual({ ok: true, instant: "2026-12-02T00:00:00.000Z", ambiguous: false });
    expect(instantOfWallTime("2026-07-02T09:00", "America/New_York")).toMatchObject({ instant: "2026-07-02T13:00:00.000Z" });
    expect(instantOfWallTime("2026-12-02T09:00", "America/New_York")).toMatchObject({ instant: "2026-12-02T14:00:00.000Z" });
    expect(instantOfWallTime("2026-12-02T09:00", "Asia/Kolkata")).toMatchObject({ instant: "2026-12-02T03:30:00.000Z" });
  });

  it("refuses a time the clocks skip, saying so", () => {
    expect(instantOfWallTime("2026-03-29T02:30", "Europe/Paris")).toEqual({
      ok: false,
      reason: "nonexistent",
      message: "2026-03-29 02:30 does not exist in Europe/Paris: the clocks skip that hour (daylight saving time). Choose a time outside it.",
    });
    expect(instantOfWallTime("2026-03-08T02:15", "America/New_York")).toMatchObject({ ok: false, reason: "nonexistent" });
  });

  it("takes the first of a repeated hour, and flags it", () => {
    expect(instantOfWallTime("2026-10-25T02:30", "Europe/Paris")).toEqual({ ok: true, instant: "2026-10-25T00:30:00.000Z", ambiguous: true });
  });

  it("refuses dates that do not exist and text that is no date", () => {
    expect(instantOfWallTime("2026-02-30T09:00", "UTC")).toMatchObject({ ok: false, reason: "invalid" });
    expect(instantOfWallTime("tomorrow", "UTC")).toMatchObject({ ok: false, reason: "invalid" });
  });

  it("round-trips with wallTimeAt", () => {
    expect(wallTimeAt("2026-12-02T00:00:00Z", "Asia/Tokyo")).toBe("2026-12-02T09:00");
  });
});

describe("the composer's form", () => {
  const bluesky: TextRule = { platform: "bluesky", name: "Bluesky", limit: 300, unit: "graphemes" };
  const mastodon: TextRule = { platform: "mastodon", name: "Mastodon", limit: 500, unit: "graphemes" };
  const platforms: Record<string, TextRule> = { b: bluesky, m: mastodon };
  const ctx = { timeZone: "Asia/Tokyo", ruleOf: (id: string) => platforms[id[0]] };
  const B = "b0000000-0000-4000-8000-000000000001";
  const M = "d0000000-0000-4000-8000-000000000001";
  platforms.d = mastodon;

  it("refuses text over Bluesky's limit with enqueue's own words, and only warns for Mastodon's default", () => {
    const v = { ...emptyComposer, text: "z".repeat(501), accountIds: [B, M] };
    expect(toPostInput(v, ctx).issues).toEqual([
      { name: "text", message: "The text is 501 characters as Bluesky counts them; Bluesky allows 300. Shorten it, or leave the Bluesky accounts out." },
    ]);
    expect(toPostInput({ ...v, accountIds: [M] }, ctx).issues).toEqual([]);
  });

  it("sends the schedule as the UTC instant of the wall time in the user's zone, and names the field for a skipped hour", () => {
    const v = { ...emptyComposer, text: "hi", accountIds: [B], when: "later" as const, scheduledFor: "2026-12-02T09:00" };
    expect(toPostInput(v, ctx).input).toMatchObject({ scheduledFor: "2026-12-02T00:00:00.000Z", priority: 5 });
    const gap = toPostInput({ ...v, scheduledFor: "2026-03-29T02:30" }, { ...ctx, timeZone: "Europe/Paris" });
    expect(gap.issues.map((i) => i.name)).toEqual(["scheduledFor"]);
  });

  it("puts the API's issue paths on the form's fields", () => {
    const v = { ...emptyComposer, text: "", mediaUrls: [{ url: "https://ok.example/a.jpg" }, { url: "http://plain.example/b.jpg" }] };
    expect(toPostInput(v, ctx).issues.map((i) => i.name).sort()).toEqual(["accountIds", "mediaUrls.1.url", "text"]);
    expect(fieldOf("accountIds.3")).toBe("accountIds");
    expect(fieldOf("workspaceId")).toBe("root");
  });

  it("reopens a draft's schedule as the wall time in the user's zone", () => {
    expect(fromDraftContent({ text: "x", scheduledFor: "2026-12-02T00:00:00.000Z" }, "Asia/Tokyo")).toMatchObject({ when: "later", scheduledFor: "2026-12-02T09:00" });
  });
});
