// What the queue accepts as media: https URLs only, of bounded length and count, with nothing a URL
// parser would silently drop or a reader could be fooled by. The same schema serves add and bulk-post.
import { describe, expect, it } from "vitest";
import { MAX_MEDIA_URL_LENGTH, MAX_MEDIA_URLS, addInput, bulkRow } from "@/lib/queue/input";

const post = (mediaUrls: unknown) => ({ text: "hello", accountIds: [crypto.randomUUID()], mediaUrls });
const problems = (mediaUrls: unknown) => {
  const r = addInput.safeParse(post(mediaUrls));
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("media URLs", () => {
  it("accepts https URLs, as sent", () => {
    const urls = ["https://cdn.example.com/a.png", "https://example.com/p?x=1&y=%20#frag", `https://example.com/${"a".repeat(2000)}`];
    expect(addInput.parse(post(urls)).mediaUrls).toEqual(urls);
  });

  it.each([
    ["http", "http://cdn.example.com/a.png", "https://"],
    ["ftp", "ftp://cdn.example.com/a.png", "https://"],
    ["javascript", "javascript:alert(1)", "https://"],
    ["data", "data:image/png;base64,AAAA", "https://"],
    ["file", "file:///etc/passwd", "https://"],
    ["no slashes", "https:cdn.example.com/a.png", "https://"],
    ["no host", "https:///a.png", "https://"],
    ["a tab", "https://cdn.example.com/\ta.png", "control characters"],
    ["a newline", "https://cdn.example.com/a.png\n", "control characters"],
    ["a carriage return in the host", "https://cdn.\rexample.com/a.png", "control characters"],
    ["NUL", "https://cdn.example.com/a\u0000.png", "control characters"],
    ["DEL", "https://cdn.example.com/a\u007f.png", "control characters"],
    ["a right-to-left override", "https://cdn.example.com/\u202egnp.exe", "control characters"],
    ["a zero-width space", "https://cdn.exam\u200bple.com/a.png", "control characters"],
    ["a space", "https://cdn.example.com/a b.png", "spaces"],
    ["leading whitespace", " https://cdn.example.com/a.png", "spaces"],
    ["too long", `https://example.com/${"a".repeat(MAX_MEDIA_URL_LENGTH)}`, "at most 2,048 characters"],
    ["not text", 42, "must be text"],
  ])("refuses %s, saying why", (_what, url, why) => {
    const found = problems([url]);
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((p) => p.startsWith("mediaUrls.0:"))).toBe(true);
    expect(found.join(" ")).toContain(why);
  });

  it(`refuses more than ${MAX_MEDIA_URLS} per post`, () => {
    const urls = Array.from({ length: MAX_MEDIA_URLS + 1 }, (_, i) => `https://cdn.example.com/${i}.png`);
    expect(problems(urls)).toEqual([`mediaUrls: A post has at most ${MAX_MEDIA_URLS} media URLs.`]);
    expect(problems(urls.slice(1))).toEqual([]);
  });

  it("holds for bulk rows too", () => {
    const r = bulkRow.safeParse({ text: "x", accountId: crypto.randomUUID(), mediaUrls: ["http://cdn.example.com/a.png"] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].path).toEqual(["mediaUrls", 0]);
  });
});
