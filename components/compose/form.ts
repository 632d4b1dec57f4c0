// The composer's fields and how they become POST /api/queue/add's body: checked by the API's own zod
// schema (lib/queue/input.ts addInput) plus what only the browser knows — the wall time in the
// user's zone, and each chosen platform's text limit counted its way (lib/posts/length.ts) — so the
// form refuses exactly what the server would, field by field.
import { z } from "zod";
import { postsThreads } from "@/lib/connectors/capabilities";
import { MASTODON_VISIBILITIES, type MastodonVisibility } from "@/lib/connectors/types";
import { addInput, type AddToQueueInput } from "@/lib/queue/input";
import { textProblem, type TextRule } from "@/lib/posts/length";
import { instantOfWallTime, wallTimeAt } from "@/lib/time/wall-time";
import type { DraftContent } from "@/lib/drafts/input";

export interface ComposerValues {
  text: string;
  accountIds: string[];
  mediaUrls: Array<{ url: string }>;
  firstComment: string;
  /** The posts after the first, each a reply to the one before (an object each, for useFieldArray). */
  thread: Array<{ text: string }>;
  /** Mastodon's options, sent only when a Mastodon account is chosen. */
  visibility: MastodonVisibility;
  contentWarning: string;
  destination: string;
  priority: string;
  when: "now" | "later";
  /** A datetime-local value, a wall time in the user's zone. */
  scheduledFor: string;
}

export const emptyComposer: ComposerValues = {
  text: "",
  accountIds: [],
  mediaUrls: [],
  firstComment: "",
  thread: [],
  visibility: "public",
  contentWarning: "",
  destination: "",
  priority: "5",
  when: "now",
  scheduledFor: "",
};

export interface ComposerContext {
  timeZone: string;
  /** The text rule of the platform an account is on, where Pacer knows one. */
  ruleOf: (accountId: string) => TextRule | undefined;
}

export interface Issue {
  /** A form field's name, e.g. "text", "mediaUrls.2.url", "accountIds"; "root" for the rest. */
  name: string;
  message: string;
}

/**
 * The form field an API issue path names ("mediaUrls.2" → "mediaUrls.2.url", "thread.3" →
 * "thread.3.text", "platformOptions.mastodon.contentWarning" → "contentWarning"; "thread" itself →
 * "thread.root", the thread as a whole); "root" for fields the form has not.
 */
export function fieldOf(path: string): string {
  const [head, index, option] = path.split(".");
  if (head === "mediaUrls" && index !== undefined) return `mediaUrls.${index}.url`;
  if (head === "thread") return index !== undefined && /^\d+$/.test(index) ? `thread.${index}.text` : "thread.root";
  if (head === "platformOptions" && index === "mastodon" && (option === "visibility" || option === "contentWarning")) return option;
  if (["text", "accountIds", "mediaUrls", "firstComment", "destination", "priority", "scheduledFor"].includes(head)) return head;
  return "root";
}

/** Whether a Mastodon account is among the chosen ones (its options are shown and sent only then). */
export function choosesMastodon(accountIds: string[], ruleOf: ComposerContext["ruleOf"]): boolean {
  return accountIds.some((id) => ruleOf(id)?.platform === "mastodon");
}

/** The content warning as sent: only for Mastodon accounts, and only when it says something. */
export function contentWarningOf(v: Pick<ComposerValues, "accountIds" | "contentWarning">, ruleOf: ComposerContext["ruleOf"]): string | undefined {
  return choosesMastodon(v.accountIds, ruleOf) && v.contentWarning.trim() ? v.contentWarning : undefined;
}

/**
 * Why the thread cannot be sent as it stands, in the words enqueue uses (lib/queue/enqueue.ts
 * checkThreads): beside a first comment, or to platforms whose connector posts no threads
 * (postsThreads, lib/connectors/capabilities.ts), one message per platform. Empty without a thread.
 */
export function threadProblems(v: Pick<ComposerValues, "thread" | "firstComment" | "accountIds">, ruleOf: ComposerContext["ruleOf"]): string[] {
  if (v.thread.length === 0) return [];
  const problems: string[] = [];
  if (v.firstComment.trim()) {
    problems.push("A post has a thread or a first comment, not both: put the comment in the thread as its first part, or leave the thread out.");
  }
  const refused = new Map<string, string>();
  for (const id of v.accountIds) {
    const rule = ruleOf(id);
    if (rule && !postsThreads(rule.platform)) refused.set(rule.platform, rule.name);
  }
  for (const name of refused.values()) {
    problems.push(`Pacer cannot post a thread to ${name}: only to Mastodon and Bluesky accounts. Queue the ${name} accounts as a separate post without the thread, or join the parts into one text.`);
  }
  return problems;
}

/** Every text of the post as it will be sent, with its form field and its name in messages. */
export function textsOf(v: Pick<ComposerValues, "text" | "firstComment" | "thread">): Array<{ name: string; text: string; what: string }> {
  return [
    { name: "text", text: v.text, what: "The text" },
    { name: "firstComment", text: v.firstComment, what: "The first comment" },
    ...v.thread.map((part, i) => ({ name: `thread.${i}.text`, text: part.text, what: `Part ${i + 2} of the thread` })),
  ];
}

/** The scheduled instant: undefined for "now", or the issue with the entered wall time. */
function scheduleOf(v: ComposerValues, timeZone: string): { instant?: string; issue?: Issue } {
  if (v.when !== "later") return {};
  if (!v.scheduledFor) return { issue: { name: "scheduledFor", message: "Choose the date and time, or choose Now." } };
  const r = instantOfWallTime(v.scheduledFor, timeZone);
  return r.ok ? { instant: r.instant } : { issue: { name: "scheduledFor", message: r.message } };
}

/** The distinct text rules of the chosen accounts' platforms. */
export function rulesOf(accountIds: string[], ruleOf: ComposerContext["ruleOf"]): TextRule[] {
  const rules = new Map<string, TextRule>();
  for (const id of accountIds) {
    const rule = ruleOf(id);
    if (rule) rules.set(rule.platform, rule);
  }
  return [...rules.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Mastodon's options as the API takes them, when a Mastodon account is chosen. */
function platformOptionsOf(v: ComposerValues, ruleOf: ComposerContext["ruleOf"]): Pick<AddToQueueInput, "platformOptions"> {
  if (!choosesMastodon(v.accountIds, ruleOf)) return {};
  const contentWarning = contentWarningOf(v, ruleOf);
  const visibility = (MASTODON_VISIBILITIES as readonly string[]).includes(v.visibility) ? v.visibility : "public";
  return { platformOptions: { mastodon: { visibility, ...(contentWarning ? { contentWarning } : {}) } } };
}

/** The API body these fields make, and every issue with them (empty when the API would accept it). */
export function toPostInput(v: ComposerValues, ctx: ComposerContext): { input: AddToQueueInput; issues: Issue[] } {
  const schedule = scheduleOf(v, ctx.timeZone);
  const input: AddToQueueInput = {
    text: v.text,
    accountIds: v.accountIds,
    priority: Number(v.priority),
    ...(v.mediaUrls.length ? { mediaUrls: v.mediaUrls.map((m) => m.url.trim()) } : {}),
    ...(v.firstComment.trim() ? { firstComment: v.firstComment } : {}),
    ...(v.thread.length ? { thread: v.thread.map((p) => p.text) } : {}),
    ...platformOptionsOf(v, ctx.ruleOf),
    ...(v.destination.trim() ? { destination: v.destination } : {}),
    ...(schedule.instant ? { scheduledFor: schedule.instant } : {}),
  };
  const issues: Issue[] = schedule.issue ? [schedule.issue] : [];
  const parsed = addInput.safeParse(input);
  if (!parsed.success) {
    for (const i of parsed.error.issues) issues.push({ name: fieldOf(i.path.map(String).join(".")), message: i.message });
  }
  for (const message of threadProblems(v, ctx.ruleOf)) issues.push({ name: "thread.root", message });
  // The same words enqueue uses (lib/queue/enqueue.ts checkTextLengths), one issue per platform.
  const contentWarning = contentWarningOf(v, ctx.ruleOf);
  for (const rule of rulesOf(v.accountIds, ctx.ruleOf)) {
    for (const { name, text, what } of textsOf(v)) {
      const problem = text ? textProblem(rule, text, what, { contentWarning }) : null;
      if (problem) issues.push({ name, message: problem });
    }
  }
  return { input, issues };
}

/** The form's resolver schema: the values pass through unchanged, with every issue toPostInput finds. */
export function composerSchema(ctx: ComposerContext) {
  return z.custom<ComposerValues>().superRefine((v, zctx) => {
    for (const issue of toPostInput(v, ctx).issues) {
      zctx.addIssue({ code: "custom", path: issue.name === "root" ? [] : issue.name.split("."), message: issue.message });
    }
  });
}

/**
 * A draft's content from the fields as they are (unfinished is fine): empty media rows and thread
 * parts left out, with each sent one's row in `mediaRows` / `threadRows` so an issue about
 * `mediaUrls.k` or `thread.k` finds its field.
 */
export function toDraftContent(v: ComposerValues, timeZone: string): { content: DraftContent; mediaRows: number[]; threadRows: number[]; issue?: Issue } {
  const schedule = scheduleOf(v, timeZone);
  const mediaRows = v.mediaUrls.flatMap((m, i) => (m.url.trim() ? [i] : []));
  // Blank parts are left out as the API refuses them (a draft is unfinished, not wrong).
  const threadRows = v.thread.flatMap((p, i) => (p.text.trim() ? [i] : []));
  const content: DraftContent = {
    text: v.text,
    accountIds: v.accountIds,
    priority: Number(v.priority),
    ...(mediaRows.length ? { mediaUrls: mediaRows.map((i) => v.mediaUrls[i].url.trim()) } : {}),
    ...(v.firstComment.trim() ? { firstComment: v.firstComment } : {}),
    ...(threadRows.length ? { thread: threadRows.map((i) => v.thread[i].text) } : {}),
    // Kept whatever accounts are chosen yet: a draft may gain its Mastodon account later.
    ...(v.visibility !== "public" || v.contentWarning ? { platformOptions: { mastodon: { visibility: v.visibility, ...(v.contentWarning ? { contentWarning: v.contentWarning } : {}) } } } : {}),
    ...(v.destination.trim() ? { destination: v.destination } : {}),
    ...(schedule.instant ? { scheduledFor: schedule.instant } : {}),
  };
  return { content, mediaRows, threadRows, issue: schedule.issue };
}

/** The fields a saved draft fills in, its schedule shown as a wall time in `timeZone`. */
export function fromDraftContent(c: DraftContent, timeZone: string): ComposerValues {
  return {
    text: c.text ?? "",
    accountIds: c.accountIds ?? [],
    mediaUrls: (c.mediaUrls ?? []).map((url) => ({ url })),
    firstComment: c.firstComment ?? "",
    thread: (c.thread ?? []).map((text) => ({ text })),
    visibility: c.platformOptions?.mastodon?.visibility ?? "public",
    contentWarning: c.platformOptions?.mastodon?.contentWarning ?? "",
    destination: c.destination ?? "",
    priority: String(c.priority ?? 5),
    when: c.scheduledFor ? "later" : "now",
    scheduledFor: c.scheduledFor ? wallTimeAt(c.scheduledFor, timeZone) : "",
  };
}
