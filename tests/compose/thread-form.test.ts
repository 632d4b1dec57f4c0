// The composer's thread and Mastodon options, without a browser: what the form sends, every issue
// it finds at the field the server's path names, in the server's own words, and what a draft keeps.
import { describe, expect, it } from "vitest";
import {
  choosesMastodon,
  contentWarningOf,
  emptyComposer,
  fieldOf,
  fromDraftContent,
  threadProblems,
  toDraftContent,
  toPostInput,
  type ComposerValues,
} from "@/components/compose/form";
import { draftContent } from "@/lib/drafts/input";
import { measureText, type TextRule } from "@/lib/posts/length";

const bluesky: TextRule = { platform: "bluesky", name: "Bluesky", limit: 300, unit: "graphemes" };
const mastodon: TextRule = { platform: "mastodon", name: "Mastodon", limit: 500, unit: "graphemes" };
const sandbox: TextRule = { platform: "sandbox", name: "Sandbox", limit: 5000, unit: "characters" };
const B = "b0000000-0000-4000-8000-000000000001";
const M = "d0000000-0000-4000-8000-000000000001";
const S = "e0000000-0000-4000-8000-000000000001";
const platforms: Record<string, TextRule> = { [B]: bluesky, [M]: mastodon, [S]: sandbox };
const ctx = { timeZone: "UTC", ruleOf: (id: string) => platforms[id] };
const post = (v: Partial<ComposerValues>): ComposerValues => ({ ...emptyComposer, text: "1/3", ...v });
const parts = (...texts: string[]) => texts.map((text) => ({ text }));

const SANDBOX_REFUSED =
  "Pacer cannot post a thread to Sandbox: only to Mastodon and Bluesky accounts. Queue the Sandbox accounts as a separate post without the thread, or join the parts into one text.";
const BOTH = "A post has a thread or a first comment, not both: put the comment in the thread as its first part, or leave the thread out.";

describe("a thread in the composer", () => {
  it("sends the parts in order as the API's thread", () => {
    const { input, issues } = toPostInput(post({ accountIds: [B], thread: parts("2/3", "3/3") }), ctx);
    expect(issues).toEqual([]);
    expect(input).toMatchObject({ text: "1/3", thread: ["2/3", "3/3"] });
    expect(toPostInput(post({ accountIds: [B] }), ctx).input).not.toHaveProperty("thread");
  });

  it("checks each part against each platform, at that part's field, with enqueue's words", () => {
    const { issues } = toPostInput(post({ accountIds: [B, M], thread: parts("2/3", "z".repeat(301)) }), ctx);
    expect(issues).toEqual([
      {
        name: "thread.1.text",
        message: "Part 3 of the thread is 301 characters as Bluesky counts them; Bluesky allows 300. Shorten it, or leave the Bluesky accounts out.",
      },
    ]);
  });

  it("refuses a blank part at its field", () => {
    const { issues } = toPostInput(post({ accountIds: [B], thread: parts(" ", "3/3") }), ctx);
    expect(issues).toEqual([{ name: "thread.0.text", message: "Write this part's text, or leave the part out." }]);
  });

  it("says at once which chosen platforms cannot post a thread, once per platform", () => {
    const v = post({ accountIds: [B, S], thread: parts("2/3") });
    expect(threadProblems(v, ctx.ruleOf)).toEqual([SANDBOX_REFUSED]);
    expect(toPostInput(v, ctx).issues).toEqual([{ name: "thread.root", message: SANDBOX_REFUSED }]);
    expect(threadProblems({ ...v, accountIds: [B, M] }, ctx.ruleOf)).toEqual([]);
    // No thread, nothing to refuse.
    expect(threadProblems({ ...v, thread: [] }, ctx.ruleOf)).toEqual([]);
  });

  it("refuses a thread beside a first comment", () => {
    const v = post({ accountIds: [B], thread: parts("2/3"), firstComment: "a comment" });
    expect(toPostInput(v, ctx).issues).toEqual([{ name: "thread.root", message: BOTH }]);
  });

  it("refuses a 25th part with the API's message", () => {
    const v = post({ accountIds: [B], thread: parts(...Array.from({ length: 25 }, (_, i) => `${i + 2}`)) });
    expect(toPostInput(v, ctx).issues).toEqual([{ name: "thread.root", message: "A thread has at most 24 parts after the post itself; split it into two posts." }]);
  });
});

describe("Mastodon's options in the composer", () => {
  it("are sent only when a Mastodon account is chosen, public by default", () => {
    expect(choosesMastodon([B], ctx.ruleOf)).toBe(false);
    expect(toPostInput(post({ accountIds: [B], contentWarning: "spoilers" }), ctx).input).not.toHaveProperty("platformOptions");
    expect(toPostInput(post({ accountIds: [B, M] }), ctx).input.platformOptions).toEqual({ mastodon: { visibility: "public" } });
    const chosen = post({ accountIds: [M], visibility: "unlisted", contentWarning: "spoilers" });
    expect(toPostInput(chosen, ctx).input.platformOptions).toEqual({ mastodon: { visibility: "unlisted", contentWarning: "spoilers" } });
    // A blank warning is no warning.
    expect(toPostInput({ ...chosen, contentWarning: "  " }, ctx).input.platformOptions).toEqual({ mastodon: { visibility: "unlisted" } });
  });

  it("count the content warning toward Mastodon's length", () => {
    const v = post({ accountIds: [M], text: "x".repeat(490), contentWarning: "twenty characters!!!" });
    expect(measureText(mastodon, v.text, { contentWarning: contentWarningOf(v, ctx.ruleOf) }).length).toBe(510);
    expect(contentWarningOf({ ...v, accountIds: [B] }, ctx.ruleOf)).toBeUndefined();
  });

  it("refuse an over-long content warning at its field", () => {
    const { issues } = toPostInput(post({ accountIds: [M], contentWarning: "w".repeat(501) }), ctx);
    expect(issues).toEqual([{ name: "contentWarning", message: "A content warning has at most 500 characters." }]);
  });
});

describe("server issue paths", () => {
  it("land on the field they name", () => {
    expect(fieldOf("thread.3")).toBe("thread.3.text");
    expect(fieldOf("thread")).toBe("thread.root");
    expect(fieldOf("platformOptions.mastodon.contentWarning")).toBe("contentWarning");
    expect(fieldOf("platformOptions.mastodon.visibility")).toBe("visibility");
    expect(fieldOf("platformOptions")).toBe("root");
  });
});

describe("a draft with a thread and Mastodon options", () => {
  it("keeps them, leaving blank parts out and saying which row each sent part came from", () => {
    const v = post({ accountIds: [M], thread: parts("2/3", "", "3/3"), visibility: "private", contentWarning: "cw" });
    const { content, threadRows } = toDraftContent(v, "UTC");
    expect(content).toMatchObject({ thread: ["2/3", "3/3"], platformOptions: { mastodon: { visibility: "private", contentWarning: "cw" } } });
    expect(threadRows).toEqual([0, 2]);
    // What the drafts API takes, and what reopening it fills in.
    expect(draftContent.safeParse(content).success).toBe(true);
    expect(fromDraftContent(draftContent.parse(content), "UTC")).toMatchObject({ thread: parts("2/3", "3/3"), visibility: "private", contentWarning: "cw" });
  });

  it("opens an older draft without them as no thread, public, no warning", () => {
    expect(fromDraftContent({ text: "x" }, "UTC")).toMatchObject({ thread: [], visibility: "public", contentWarning: "" });
  });
});
