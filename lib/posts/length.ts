// How long a post's text is the way its platform counts it, against the platform's limit
// (public.platforms.text_limit and text_unit, read by lib/queue/platform-limits.ts). Pure and
// browser-safe: the composer shows it live, and enqueue refuses with the same figures, so the browser
// and the server never disagree about what fits.
import { DEFAULT_CHARACTERS_RESERVED_PER_URL, graphemeCount, statusLength } from "../connectors/mastodon/text.ts";
import { TEXT_MAX_BYTES, byteLength } from "../connectors/bluesky/richtext.ts";

/** A platform's text limit as public.platforms states it; a null limit means Pacer knows none. */
export interface TextRule {
  platform: string;
  /** The platform's name for messages, e.g. "Bluesky". */
  name: string;
  limit: number | null;
  unit: "characters" | "graphemes";
}

export interface TextMeasure {
  /** The length the platform checks against `limit`. */
  length: number;
  limit: number | null;
  /** True when the platform would refuse this text. */
  over: boolean;
  /**
   * True when `limit` is a default the account may exceed: a Mastodon instance sets its own
   * (500 is Mastodon's default; the connector reads the instance's at publish), so Pacer warns
   * instead of refusing.
   */
  soft: boolean;
  /** What the figure means or why it is over, in the user's words; null when there is nothing to add. */
  note: string | null;
}

// http(s) links as X shortens them (t.co): every link counts as 23 characters, whatever its length.
// https://docs.x.com/resources/fundamentals/counting-characters
const X_URL = /https?:\/\/[^\s<>"]+/giu;

/** What else counts toward a text's length on some platforms. */
export interface MeasureOptions {
  /** Mastodon's content warning (spoiler_text), counted with the text of every status it is on. */
  contentWarning?: string;
}

/** How many characters `text` is on `rule.platform`, counted the platform's way. */
export function measureText(rule: TextRule, text: string, opts: MeasureOptions = {}): TextMeasure {
  const { limit } = rule;
  switch (rule.platform) {
    case "mastodon": {
      // Links count 23 and @user@domain counts as @user, plus the content warning (docs/platforms/mastodon.md §6).
      const length = statusLength(text, opts.contentWarning ?? "");
      const over = limit !== null && length > limit;
      return {
        length,
        limit,
        over,
        soft: true,
        note: over ? `Over Mastodon's default of ${limit}; the account's server may allow more (checked when it is sent).` : null,
      };
    }
    case "bluesky": {
      // 300 graphemes and at most 3,000 bytes (app.bsky.feed.post); the bytes matter for scripts
      // whose characters take 3–4 bytes each.
      const length = graphemeCount(text);
      const bytes = byteLength(text);
      if (bytes > TEXT_MAX_BYTES) {
        return { length, limit, over: true, soft: false, note: `${bytes.toLocaleString("en")} bytes; Bluesky takes at most ${TEXT_MAX_BYTES.toLocaleString("en")}.` };
      }
      return { length, limit, over: limit !== null && length > limit, soft: false, note: null };
    }
    case "x": {
      const length = [...text.replace(X_URL, "x".repeat(DEFAULT_CHARACTERS_RESERVED_PER_URL))].length;
      return { length, limit, over: limit !== null && length > limit, soft: false, note: "Links count as 23 characters." };
    }
    default: {
      const length = rule.unit === "graphemes" ? graphemeCount(text) : [...text].length;
      return { length, limit, over: limit !== null && length > limit, soft: false, note: null };
    }
  }
}

/**
 * Why `text` cannot be sent to `rule.platform` — what and how to fix — or null when it fits (or
 * when only a default that the account may exceed is passed: see TextMeasure.soft).
 */
export function textProblem(rule: TextRule, text: string, what = "The text", opts: MeasureOptions = {}): string | null {
  const m = measureText(rule, text, opts);
  if (!m.over || m.soft) return null;
  if (m.note && m.length <= (m.limit ?? Infinity)) return `${what} is ${m.note} Shorten it.`;
  return `${what} is ${m.length.toLocaleString("en")} characters as ${rule.name} counts them; ${rule.name} allows ${m.limit!.toLocaleString("en")}. Shorten it, or leave the ${rule.name} accounts out.`;
}
