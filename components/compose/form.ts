// The composer's fields and how they become POST /api/queue/add's body: checked by the API's own zod
// schema (lib/queue/input.ts addInput) plus what only the browser knows — the wall time in the
// user's zone, and each chosen platform's text limit counted its way (lib/posts/length.ts) — so the
// form refuses exactly what the server would, field by field.
import { z } from "zod";
import { addInput, type AddToQueueInput } from "@/lib/queue/input";
import { textProblem, type TextRule } from "@/lib/posts/length";
import { instantOfWallTime, wallTimeAt } from "@/lib/time/wall-time";
import type { DraftContent } from "@/lib/drafts/input";

export interface ComposerValues {
  text: string;
  accountIds: string[];
  mediaUrls: Array<{ url: string }>;
  firstComment: string;
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

/** The form field an API issue path names ("mediaUrls.2" → "mediaUrls.2.url"); "root" for fields the form has not. */
export function fieldOf(path: string): string {
  const [head, index] = path.split(".");
  if (head === "mediaUrls" && index !== undefined) return `mediaUrls.${index}.url`;
  if (["text", "accountIds", "mediaUrls", "firstComment", "destination", "priority", "scheduledFor"].includes(head)) return head;
  return "root";
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

/** The API body these fields make, and every issue with them (empty when the API would accept it). */
export function toPostInput(v: ComposerValues, ctx: ComposerContext): { input: AddToQueueInput; issues: Issue[] } {
  const schedule = scheduleOf(v, ctx.timeZone);
  const input: AddToQueueInput = {
    text: v.text,
    accountIds: v.accountIds,
    priority: Number(v.priority),
    ...(v.mediaUrls.length ? { mediaUrls: v.mediaUrls.map((m) => m.url.trim()) } : {}),
    ...(v.firstComment.trim() ? { firstComment: v.firstComment } : {}),
    ...(v.destination.trim() ? { destination: v.destination } : {}),
    ...(schedule.instant ? { scheduledFor: schedule.instant } : {}),
  };
  const issues: Issue[] = schedule.issue ? [schedule.issue] : [];
  const parsed = addInput.safeParse(input);
  if (!parsed.success) {
    for (const i of parsed.error.issues) issues.push({ name: fieldOf(i.path.map(String).join(".")), message: i.message });
  }
  // The same words enqueue uses (lib/queue/enqueue.ts checkTextLengths), one issue per platform.
  for (const rule of rulesOf(v.accountIds, ctx.ruleOf)) {
    for (const [name, text, what] of [["text", v.text, "The text"], ["firstComment", v.firstComment, "The first comment"]] as const) {
      const problem = text ? textProblem(rule, text, what) : null;
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
 * A draft's content from the fields as they are (unfinished is fine): empty media rows left out,
 * with each sent URL's row in `mediaRows` so an issue about `mediaUrls.k` finds its field.
 */
export function toDraftContent(v: ComposerValues, timeZone: string): { content: DraftContent; mediaRows: number[]; issue?: Issue } {
  const schedule = scheduleOf(v, timeZone);
  const mediaRows = v.mediaUrls.flatMap((m, i) => (m.url.trim() ? [i] : []));
  const content: DraftContent = {
    text: v.text,
    accountIds: v.accountIds,
    priority: Number(v.priority),
    ...(mediaRows.length ? { mediaUrls: mediaRows.map((i) => v.mediaUrls[i].url.trim()) } : {}),
    ...(v.firstComment.trim() ? { firstComment: v.firstComment } : {}),
    ...(v.destination.trim() ? { destination: v.destination } : {}),
    ...(schedule.instant ? { scheduledFor: schedule.instant } : {}),
  };
  return { content, mediaRows, issue: schedule.issue };
}

/** The fields a saved draft fills in, its schedule shown as a wall time in `timeZone`. */
export function fromDraftContent(c: DraftContent, timeZone: string): ComposerValues {
  return {
    text: c.text ?? "",
    accountIds: c.accountIds ?? [],
    mediaUrls: (c.mediaUrls ?? []).map((url) => ({ url })),
    firstComment: c.firstComment ?? "",
    destination: c.destination ?? "",
    priority: String(c.priority ?? 5),
    when: c.scheduledFor ? "later" : "now",
    scheduledFor: c.scheduledFor ? wallTimeAt(c.scheduledFor, timeZone) : "",
  };
}
