// What the queue's API accepts, as zod schemas: each message says what was wrong and what to send.
import { z } from "zod";
import { MASTODON_VISIBILITIES } from "@/lib/connectors/types";
import { IF_PAST } from "@/lib/time/schedule";

export const MAX_ACCOUNTS_PER_POST = 100;
/** Rows per bulk request, and queue items (rows × accounts) per bulk request. */
export const MAX_BULK_ROWS = 10_000;
export const MAX_BULK_ITEMS = 10_000;
export const MAX_IDS = 10_000;

// Postgres text holds neither NUL nor lone surrogates; refuse them here, with the field's name.
/** Text Postgres can store: no NUL character, no broken Unicode (one such string fails its whole write). */
export const storable = (s: string) => s.isWellFormed() && !s.includes("\u0000");
const STORABLE = "may not contain NUL characters or broken Unicode.";

const text = z
  .string("Write the post's text.")
  .max(10_000, "A post has at most 10,000 characters.")
  .refine((t) => t.trim().length > 0, "Write the post's text.")
  .refine(storable, `The text ${STORABLE}`);

export const MAX_MEDIA_URLS = 20;
export const MAX_MEDIA_URL_LENGTH = 2048;

// Checked on the string as sent: the URL parser would silently drop tabs and newlines, and read
// `https:host` as a relative URL, so what is stored could differ from what was checked.
const mediaUrl = z
  .string("Each media URL must be text, e.g. https://cdn.example.com/photo.jpg.")
  .max(MAX_MEDIA_URL_LENGTH, `A media URL has at most ${MAX_MEDIA_URL_LENGTH.toLocaleString("en")} characters.`)
  .refine((u) => !/[\p{Cc}\p{Cf}\s]/u.test(u), "A media URL may not contain spaces or control characters; percent-encode them.")
  .refine((u) => /^https:\/\/[^/?#]/i.test(u), "Each media URL must start with https:// (http and other schemes are refused).")
  .pipe(z.url({ protocol: /^https$/, error: "Each media URL must be a valid https:// URL, e.g. https://cdn.example.com/photo.jpg." }));

const mediaUrls = z
  .array(mediaUrl, "mediaUrls must be a list of URLs.")
  .max(MAX_MEDIA_URLS, `A post has at most ${MAX_MEDIA_URLS} media URLs.`);

const firstComment = z
  .string("firstComment must be text.")
  .max(10_000, "A first comment has at most 10,000 characters.")
  .refine(storable, `The first comment ${STORABLE}`);

/** Further posts of a thread, after the post itself (a thread of 25 at most). */
export const MAX_THREAD_PARTS = 24;
export const MAX_CONTENT_WARNING = 500;

const threadPart = z
  .string("Each part of the thread must be text.")
  .max(10_000, "A part of a thread has at most 10,000 characters.")
  .refine((t) => t.trim().length > 0, "Write this part's text, or leave the part out.")
  .refine(storable, `A part of a thread ${STORABLE}`);

const thread = z
  .array(threadPart, "thread must be a list of texts: the posts that follow the first, each replying to the one before.")
  .max(MAX_THREAD_PARTS, `A thread has at most ${MAX_THREAD_PARTS} parts after the post itself; split it into two posts.`);

const platformOptions = z.strictObject(
  {
    mastodon: z
      .strictObject(
        {
          visibility: z.enum(MASTODON_VISIBILITIES, `visibility is one of: ${MASTODON_VISIBILITIES.join(", ")} (leave it out for the account's default).`).optional(),
          contentWarning: z
            .string("contentWarning must be text.")
            .max(MAX_CONTENT_WARNING, `A content warning has at most ${MAX_CONTENT_WARNING} characters.`)
            .refine(storable, `The content warning ${STORABLE}`)
            .optional(),
        },
        "mastodon options are { visibility?, contentWarning? }.",
      )
      .optional(),
  },
  "platformOptions is an object keyed by platform, e.g. { \"mastodon\": { \"visibility\": \"unlisted\" } }; only mastodon has options so far.",
);

const destination = z
  .string("destination must be text, e.g. a subreddit or group.")
  .trim()
  .min(1, "Leave destination out, or name the subreddit, group or channel.")
  .max(200, "A destination has at most 200 characters.")
  .refine(storable, `The destination ${STORABLE}`);

const accountId = z.uuid("Give an account id (a UUID) from GET /api/accounts.");

export const accountIds = z
  .array(accountId, "accountIds must be a list of account ids.")
  .min(1, "Choose at least one account.")
  .max(MAX_ACCOUNTS_PER_POST, `A post goes to at most ${MAX_ACCOUNTS_PER_POST} accounts per request.`)
  .superRefine((ids, ctx) => {
    const seen = new Set<string>();
    ids.forEach((id, i) => {
      if (seen.has(id)) ctx.addIssue({ code: "custom", path: [i], message: "This account is already listed." });
      seen.add(id);
    });
  });

const priority = z
  .int("Priority is a whole number from 1 (lowest) to 10 (highest).")
  .min(1, "Priority is a whole number from 1 (lowest) to 10 (highest).")
  .max(10, "Priority is a whole number from 1 (lowest) to 10 (highest).");

const scheduledFor = z.iso.datetime({
  offset: true,
  error: "scheduledFor must be an ISO 8601 time with a zone, e.g. 2026-12-01T09:30:00Z.",
});

/** What to do when scheduledFor is more than 5 minutes past (lib/time/schedule.ts): refuse (default) or publish now. */
export const ifPast = z.enum(IF_PAST, `ifPast is "refuse" (the default) or "publish_now".`);

const workspaceId = z.uuid("workspaceId must be a workspace id (a UUID).");

/** A post's fields as POST /api/queue/add checks them (also the approvals' edits). */
export const postFields = {
  text,
  mediaUrls: mediaUrls.optional(),
  firstComment: firstComment.nullish(),
  thread: thread.optional(),
  platformOptions: platformOptions.optional(),
  destination: destination.nullish(),
  priority: priority.optional(),
  scheduledFor: scheduledFor.optional(),
  ifPast: ifPast.optional(),
};

export const addInput = z.strictObject({ ...postFields, accountIds, workspaceId: workspaceId.nullish() });

/** One bulk row: a post for one account (accountId) or several (accountIds). */
export const bulkRow = z
  .strictObject({ ...postFields, accountId: accountId.optional(), accountIds: accountIds.optional() })
  .superRefine((row, ctx) => {
    if ((row.accountId === undefined) === (row.accountIds === undefined)) {
      ctx.addIssue({ code: "custom", path: ["accountId"], message: "Give accountId, or accountIds for several accounts (not both)." });
    }
  });

/** The envelope only; rows are checked one by one so every bad row can be reported. */
export const bulkInput = z.strictObject({
  items: z
    .array(z.unknown(), "items must be a list of posts.")
    .min(1, "Send at least one item.")
    .max(MAX_BULK_ROWS, `Send at most ${MAX_BULK_ROWS.toLocaleString("en")} items per request; split larger imports.`),
  dryRun: z.boolean("dryRun must be true or false.").optional(),
  /** For every row that does not say its own. */
  ifPast: ifPast.optional(),
  workspaceId: workspaceId.nullish(),
});


const itemIds = z
  .array(z.int("Queue item ids are whole numbers.").positive("Queue item ids are positive."), "ids must be a list of queue item ids.")
  .min(1, "Send at least one id.")
  .max(MAX_IDS, `Send at most ${MAX_IDS.toLocaleString("en")} ids per request.`);

export const cancelInput = z
  .strictObject({
    ids: itemIds.optional(),
    accountId: accountId.optional(),
    from: scheduledFor.optional(),
    to: scheduledFor.optional(),
    workspaceId: workspaceId.nullish(),
  })
  .superRefine((c, ctx) => {
    const filtered = c.accountId !== undefined || c.from !== undefined || c.to !== undefined;
    if (c.ids && filtered) {
      ctx.addIssue({ code: "custom", path: ["ids"], message: "Send ids, or a filter (accountId, from, to), not both." });
    } else if (!c.ids && !filtered) {
      ctx.addIssue({ code: "custom", path: ["ids"], message: "Send the ids to cancel, or a filter: accountId, from, to." });
    }
    if (c.from && c.to && Date.parse(c.from) >= Date.parse(c.to)) {
      ctx.addIssue({ code: "custom", path: ["to"], message: "to must be later than from." });
    }
  });

export const retryInput = z.strictObject({ ids: itemIds, workspaceId: workspaceId.nullish() });

export const processInput = z.strictObject({ workspaceId: workspaceId.nullish() });

export type BulkRow = z.infer<typeof bulkRow>;

/** What callers send (before defaults); every function still validates at run time. */
export type AddToQueueInput = z.input<typeof addInput>;
export type BulkRowInput = z.input<typeof bulkRow>;
export type BulkAddInput = Omit<z.input<typeof bulkInput>, "items"> & { items: BulkRowInput[] };
export type CancelQueueItemsInput = z.input<typeof cancelInput>;
export type RetryQueueItemsInput = z.input<typeof retryInput>;
