// How Mastodon counts a status against the instance's `max_characters` (StatusLengthValidator,
// docs/platforms/mastodon.md §6): grapheme clusters of the content warning plus the text, where every
// URL counts as `characters_reserved_per_url` (23) whatever its length and a `@user@domain` mention
// counts as `@user`. Shared by the connector (refuse before sending) and the local fake (refuse as
// the server does), and tested against the documented examples.

/** http(s) URLs as Mastodon's extractor finds them (with a protocol; trailing punctuation left out). */
const URL_PATTERN = /https?:\/\/[^\s<>"]+[^\s<>".,:;!?'")\]]/giu;
/** A remote mention: `@user@domain` (Mastodon counts only `@user`). */
const MENTION_PATTERN = /(^|[^\p{L}\p{N}_/@])@([\p{L}\p{N}_]+(?:[.-]+[\p{L}\p{N}_]+)*)@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;

export const DEFAULT_CHARACTERS_RESERVED_PER_URL = 23;
export const DEFAULT_MAX_CHARACTERS = 500;

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** Grapheme clusters (what a reader sees as one character), not UTF-16 units. */
export function graphemeCount(text: string): number {
  let n = 0;
  for (const _ of segmenter.segment(text)) n++;
  return n;
}

/** The length Mastodon checks against `max_characters` for a status with this text and content warning. */
export function statusLength(text: string, spoilerText = "", charactersPerUrl = DEFAULT_CHARACTERS_RESERVED_PER_URL): number {
  const placeholder = "x".repeat(charactersPerUrl);
  const countable = text.replace(URL_PATTERN, placeholder).replace(MENTION_PATTERN, (_m, before: string, user: string) => `${before}@${user}`);
  return graphemeCount(spoilerText) + graphemeCount(countable);
}
