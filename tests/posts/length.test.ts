// Text length as each platform counts it: the figures the composer shows and enqueue refuses with.
import { describe, expect, it } from "vitest";
import { measureText, textProblem, type TextRule } from "@/lib/posts/length";

const rule = (platform: string, name: string, limit: number | null, unit: TextRule["unit"] = "characters"): TextRule => ({ platform, name, limit, unit });
const bluesky = rule("bluesky", "Bluesky", 300, "graphemes");
const mastodon = rule("mastodon", "Mastodon", 500, "graphemes");
const x = rule("x", "X", 280);
const linkedin = rule("linkedin", "LinkedIn", 3000);

describe("measureText", () => {
  it("counts a family emoji as one grapheme on Bluesky, and refuses 301", () => {
    const family = "👨‍👩‍👧‍👦"; // 7 code points, 25 UTF-8 bytes, one grapheme
    expect(measureText(bluesky, family.repeat(300))).toMatchObject({ length: 300, over: true });
    // 300 families are 7,500 bytes: over Bluesky's 3,000-byte cap though only 300 graphemes.
    expect(textProblem(bluesky, family.repeat(300))).toBe("The text is 7,500 bytes; Bluesky takes at most 3,000. Shorten it.");
    expect(measureText(bluesky, "é".repeat(300))).toMatchObject({ length: 300, over: false });
    expect(textProblem(bluesky, "a".repeat(301))).toBe(
      "The text is 301 characters as Bluesky counts them; Bluesky allows 300. Shorten it, or leave the Bluesky accounts out.",
    );
  });

  it("counts a Mastodon link as 23 and a remote mention without its domain, and only warns over the default", () => {
    const text = `hello @alice@example.social https://example.com/${"x".repeat(200)}`;
    // "hello " 6 + "@alice" 6 + " " 1 + 23 = 36
    expect(measureText(mastodon, text).length).toBe(36);
    const long = measureText(mastodon, "a".repeat(501));
    expect(long).toMatchObject({ length: 501, over: true, soft: true });
    expect(long.note).toContain("server may allow more");
    // The instance's own limit is checked at publish; enqueue does not refuse on the default.
    expect(textProblem(mastodon, "a".repeat(501))).toBeNull();
  });

  it("counts every X link as 23 characters", () => {
    const text = `${"a".repeat(250)} https://example.com/${"p".repeat(100)}`;
    expect(measureText(x, text)).toMatchObject({ length: 274, over: false });
    expect(measureText(x, "a".repeat(281)).over).toBe(true);
  });

  it("counts code points elsewhere, and knows no limit where the platform states none", () => {
    expect(measureText(linkedin, "😀".repeat(3000))).toMatchObject({ length: 3000, over: false });
    expect(measureText(linkedin, "😀".repeat(3001)).over).toBe(true);
    expect(measureText(rule("sandbox", "Sandbox", null), "a".repeat(10_000))).toMatchObject({ over: false, limit: null });
  });

  it("names the first comment when that is what is too long", () => {
    expect(textProblem(x, "a".repeat(300), "The first comment")).toMatch(/^The first comment is 300 characters as X counts them/);
  });
});
