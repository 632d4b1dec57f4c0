// What the calendar's API accepts, as zod schemas shared by the route and the page. The pieces a post
// and a queue item are made of come from the queue's own schemas, so both say the same thing.
import { z } from "zod";
import { addInput, ifPast } from "@/lib/queue/input";

/** The longest range one read may cover: a month view with its leading and trailing weeks. */
export const MAX_RANGE_DAYS = 62;
/** The most items one read returns; past it the reply says it was cut short. */
export const MAX_CALENDAR_ITEMS = 2_000;

const DAY_MS = 24 * 3600_000;
const time = (field: string) =>
  z.iso.datetime({ offset: true, error: `${field} must be an ISO 8601 time with a zone, e.g. 2026-12-01T00:00:00Z.` });
const workspaceId = z.uuid("workspaceId must be a workspace id (a UUID).");

// Lenient about other query parameters (FullCalendar adds its own, e.g. a cache buster).
export const calendarInput = z
  .object({
    from: time("from"),
    to: time("to"),
    accountId: z.uuid("accountId must be an account id (a UUID) from GET /api/accounts.").optional(),
    platform: z
      .string()
      .regex(/^[a-z0-9-]{1,40}$/, "platform must be a platform id, e.g. sandbox or mastodon.")
      .optional(),
    workspaceId: workspaceId.nullish(),
  })
  .superRefine((c, ctx) => {
    const span = Date.parse(c.to) - Date.parse(c.from);
    if (span <= 0) ctx.addIssue({ code: "custom", path: ["to"], message: "to must be later than from." });
    else if (span > MAX_RANGE_DAYS * DAY_MS) {
      ctx.addIssue({ code: "custom", path: ["to"], message: `A range covers at most ${MAX_RANGE_DAYS} days; ask for a shorter one.` });
    }
  });

/** Queue items one reschedule may move: the calendar moves one at a time, a script a post's worth. */
export const MAX_RESCHEDULE_ITEMS = 1_000;

export const rescheduleInput = z.strictObject({
  itemIds: z
    .array(z.int("Queue item ids are whole numbers.").positive("Queue item ids are positive."), "itemIds must be a list of queue item ids.")
    .min(1, "Send at least one queue item id.")
    .max(MAX_RESCHEDULE_ITEMS, `Send at most ${MAX_RESCHEDULE_ITEMS.toLocaleString("en")} queue item ids per request.`),
  scheduledFor: addInput.shape.scheduledFor.unwrap(),
  /** A time more than 5 minutes past is refused unless this says to post now (lib/time/schedule.ts). */
  ifPast: ifPast.optional(),
  workspaceId: workspaceId.nullish(),
});

/** A post's content, any of it (the same pieces as POST /api/queue/add); null clears a first comment or a destination, [] a thread. */
export const editPostInput = z
  .strictObject({
    text: addInput.shape.text.optional(),
    mediaUrls: addInput.shape.mediaUrls,
    firstComment: addInput.shape.firstComment,
    destination: addInput.shape.destination,
    thread: addInput.shape.thread,
    platformOptions: addInput.shape.platformOptions,
    workspaceId: workspaceId.nullish(),
  })
  .refine((e) => Object.entries(e).some(([field, value]) => field !== "workspaceId" && value !== undefined), {
    message: "Send at least one of text, mediaUrls, firstComment, destination, thread or platformOptions.",
    path: ["text"],
  });

export type CalendarQuery = { from?: string; to?: string; accountId?: string; platform?: string; workspaceId?: string | null };
export type RescheduleInput = z.input<typeof rescheduleInput>;
export type EditPostInput = z.input<typeof editPostInput>;
