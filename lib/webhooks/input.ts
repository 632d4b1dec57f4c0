// What the webhooks API accepts, as zod schemas shared by the browser form and the routes. Whether an
// http:// URL is allowed depends on the server (PACER_ALLOWED_HOSTS), so lib/webhooks checks that part.
import { z } from "zod";
import { WEBHOOK_EVENTS } from "./events";

export const MAX_WEBHOOK_URL_LENGTH = 2000;

// Checked on the string as sent: the URL parser would silently drop tabs and newlines.
export const webhookUrl = z
  .string("Give the endpoint's URL, e.g. https://example.com/pacer-webhooks.")
  .trim()
  .min(1, "Give the endpoint's URL, e.g. https://example.com/pacer-webhooks.")
  .max(MAX_WEBHOOK_URL_LENGTH, `A webhook URL has at most ${MAX_WEBHOOK_URL_LENGTH.toLocaleString("en")} characters.`)
  .refine((u) => !/[\p{Cc}\p{Cf}\s]/u.test(u), "A webhook URL may not contain spaces or control characters.")
  .refine((u) => /^https?:\/\/[^/?#]/i.test(u), "A webhook URL must start with https://.")
  .pipe(z.url({ protocol: /^https?$/, error: "Give a valid https:// URL, e.g. https://example.com/pacer-webhooks." }))
  .refine((u) => !new URL(u).username && !new URL(u).password, "Leave credentials out of the URL; verify the signature instead.");

const description = z
  .string("description must be text.")
  .trim()
  .max(200, "A description has at most 200 characters.")
  .refine((s) => s.isWellFormed() && !s.includes("\u0000"), "The description may not contain NUL characters or broken Unicode.");

const events = z
  .array(z.enum(WEBHOOK_EVENTS, { error: `Each event is one of ${WEBHOOK_EVENTS.join(", ")}.` }), "events must be a list of event names.")
  .min(1, "Choose at least one event.")
  .transform((list) => [...new Set(list)]);

const workspaceId = z.uuid("workspaceId must be a workspace id (a UUID).");

export const createEndpointInput = z.strictObject({
  workspaceId: workspaceId.nullish(),
  url: webhookUrl,
  description: description.optional(),
  events,
});
export type CreateEndpointInput = z.input<typeof createEndpointInput>;

export const updateEndpointInput = z
  .strictObject({
    url: webhookUrl.optional(),
    description: description.optional(),
    events: events.optional(),
    enabled: z.boolean("enabled is true or false.").optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), "Send at least one of url, description, events, enabled.");
export type UpdateEndpointInput = z.input<typeof updateEndpointInput>;

/** Ids in paths: endpoint ids are UUIDs, delivery ids whole numbers. */
export const endpointId = z.uuid();
export const deliveryId = z.string().regex(/^[1-9][0-9]{0,17}$/);
