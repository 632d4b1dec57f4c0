// Bluesky post text: its length in graphemes and bytes, and the rich-text facets (links, tags,
// mentions) a client must send itself, at UTF-8 byte offsets. Pure functions, no network: mentions
// come back with their handle, which the connector resolves to a DID (or drops).
// Docs: https://docs.bsky.app/docs/advanced-guides/post-richtext, lexicons/app/bsky/richtext/facet.json.
// @atproto/api's RichText does the same, but it is not installed and its current releases need
// Node 22 (docs/platforms/bluesky.md §9), so these few rules are written out here.

/** A post's text limits (lexicons/app/bsky/feed/post.json: maxGraphemes 300, maxLength 3000 bytes). */
export const TEXT_MAX_GRAPHEMES = 300;
export const TEXT_MAX_BYTES = 3000;
/** A tag facet's limit (facet.json#tag: maxGraphemes 64, maxLength 640 bytes). */
const TAG_MAX_GRAPHEMES = 64;

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
const encoder = new TextEncoder();

/** User-perceived characters, as Bluesky counts the 300 (Intl.Segmenter: Node 16+, Deno). */
export function graphemeLength(text: string): number {
  let n = 0;
  for (const _ of segmenter.segment(text)) n++;
  return n;
}

export const byteLength = (text: string) => encoder.encode(text).byteLength;

/** Why this text cannot be a Bluesky post, or null when it fits. */
export function textProblem(text: string): string | null {
  const graphemes = graphemeLength(text);
  if (graphemes > TEXT_MAX_GRAPHEMES) return `the text is ${graphemes} characters; Bluesky takes at most ${TEXT_MAX_GRAPHEMES}`;
  const bytes = byteLength(text);
  if (bytes > TEXT_MAX_BYTES) return `the text is ${bytes} bytes; Bluesky takes at most ${TEXT_MAX_BYTES}`;
  return null;
}

export type FacetFeature =
  | { $type: "app.bsky.richtext.facet#link"; uri: string }
  | { $type: "app.bsky.richtext.facet#tag"; tag: string }
  | { $type: "app.bsky.richtext.facet#mention"; did: string };

export interface Facet {
  index: { byteStart: number; byteEnd: number };
  features: FacetFeature[];
}

/** A facet as detected: a mention still carries the handle it names. */
export type DetectedFacet = Facet | { index: Facet["index"]; mention: string };

// The same shapes @atproto/api's RichText detects (packages/api/src/rich-text/util.ts), links
// limited to explicit http(s) URLs: a bare "pacer.app" stays plain text rather than guess.
const URL_RE = /(^|\s|\()(https?:\/\/[^\s]+)/gi;
const MENTION_RE = /(^|\s|\()@([a-zA-Z0-9.-]+)(\b)/g;
const TAG_RE = /(^|\s)[#＃]((?!\ufe0f)[^\s\u00AD\u2060\u200A\u200B\u200C\u200D\u20e2]*[^\d\s\p{P}\u00AD\u2060\u200A\u200B\u200C\u200D\u20e2]+[^\s\u00AD\u2060\u200A\u200B\u200C\u200D\u20e2]*)?/gu;
/** A handle is a domain name (https://atproto.com/specs/handle). */
const HANDLE_RE = /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/** Links, tags and mentions in the text, in order, none overlapping. */
export function detectFacets(text: string): DetectedFacet[] {
  const found: Array<{ start: number; end: number; make: (index: Facet["index"]) => DetectedFacet }> = [];
  for (const m of text.matchAll(URL_RE)) {
    let uri = m[2];
    // Sentence punctuation after a link is not part of it; nor is a closing parenthesis it did not open.
    uri = uri.replace(/[.,;:!?"']+$/, "");
    if (uri.endsWith(")") && !uri.includes("(")) uri = uri.slice(0, -1);
    const start = m.index + m[1].length;
    found.push({ start, end: start + uri.length, make: (index) => ({ index, features: [{ $type: "app.bsky.richtext.facet#link", uri }] }) });
  }
  for (const m of text.matchAll(MENTION_RE)) {
    const handle = m[2].replace(/\.+$/, "");
    if (!HANDLE_RE.test(handle)) continue;
    const start = m.index + m[1].length;
    found.push({ start, end: start + 1 + handle.length, make: (index) => ({ index, mention: handle.toLowerCase() }) });
  }
  for (const m of text.matchAll(TAG_RE)) {
    if (!m[2]) continue;
    const tag = m[2].trim().replace(/\p{P}+$/u, "");
    if (!tag || graphemeLength(tag) > TAG_MAX_GRAPHEMES) continue;
    const start = m.index + m[1].length;
    found.push({ start, end: start + 1 + tag.length, make: (index) => ({ index, features: [{ $type: "app.bsky.richtext.facet#tag", tag }] }) });
  }
  found.sort((a, b) => a.start - b.start);
  const facets: DetectedFacet[] = [];
  let last = -1;
  for (const f of found) {
    if (f.start < last) continue; // facets must not overlap (facet.json)
    last = f.end;
    facets.push(f.make({ byteStart: byteLength(text.slice(0, f.start)), byteEnd: byteLength(text.slice(0, f.end)) }));
  }
  return facets;
}
