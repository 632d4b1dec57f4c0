// What the accounts page and the API send about many accounts at once: the list's search, filters and
// pages; bulk pause, resume and remove; account groups. The browser's forms and the routes parse the same.
import { z } from "zod";

export const ACCOUNT_STATE_FILTERS = ["connected", "active", "paused", "restricted", "needs_reconnect", "needs_review", "removed"] as const;

/**
 * Health bands of the 0–100 score (lib/health): "good" 80 and up, "fair" 50–79, "poor" below 50.
 * The accounts page explains the figure with the same numbers.
 */
export const HEALTH_BANDS = {
  good: { min: 80, max: 100 },
  fair: { min: 50, max: 79 },
  poor: { min: 0, max: 49 },
} as const;
export type HealthBand = keyof typeof HEALTH_BANDS;

/** A page of the list holds at most this many accounts. */
export const MAX_PAGE = 200;
/** Bulk actions take at most this many accounts (Ultra's limit). */
export const MAX_BULK = 1000;

const emptyAsUndefined = (v: unknown) => (v === "" || v === null ? undefined : v);

export const accountListQuery = z.object({
  workspaceId: z.preprocess(emptyAsUndefined, z.uuid("workspaceId must be a workspace id (a UUID).").optional()),
  q: z.preprocess(emptyAsUndefined, z.string().trim().max(100, "Search for at most 100 characters.").optional()),
  platform: z.preprocess(emptyAsUndefined, z.string().trim().toLowerCase().max(40).optional()),
  state: z.preprocess(emptyAsUndefined, z.enum(ACCOUNT_STATE_FILTERS, `state is one of ${ACCOUNT_STATE_FILTERS.join(", ")}.`).optional()),
  health: z.preprocess(emptyAsUndefined, z.enum(["good", "fair", "poor"], "health is one of good, fair, poor.").optional()),
  groupId: z.preprocess(emptyAsUndefined, z.uuid("groupId must be an account group's id.").optional()),
  cursor: z.preprocess(emptyAsUndefined, z.string().max(200).optional()),
  // Without a limit the list is every matching account (what callers before paging read).
  limit: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(MAX_PAGE, `A page holds at most ${MAX_PAGE} accounts.`).optional()),
});
export type AccountListQuery = z.input<typeof accountListQuery>;

const accountIds = z
  .array(z.uuid("Each account id is a UUID."))
  .min(1, "Choose at least one account.")
  .max(MAX_BULK, `Choose at most ${MAX_BULK} accounts at a time.`);

export const BULK_ACTIONS = ["pause", "resume", "remove"] as const;

export const bulkAccountsInput = z
  .object({ action: z.enum(BULK_ACTIONS, "action is pause, resume or remove."), accountIds })
  .strict();
export type BulkAccountsInput = z.input<typeof bulkAccountsInput>;

export const removalPreviewInput = z.object({ accountIds }).strict();

const groupName = z.string().trim().min(1, "Name the group.").max(60, "A group's name has at most 60 characters.");

export const newGroupInput = z
  .object({
    name: groupName,
    accountIds: z.array(z.uuid("Each account id is a UUID.")).max(MAX_BULK).optional(),
    workspaceId: z.uuid("workspaceId must be a workspace id (a UUID).").optional(),
  })
  .strict();
export type NewGroupInput = z.input<typeof newGroupInput>;

export const groupChanges = z
  .object({ name: groupName.optional(), accountIds: z.array(z.uuid("Each account id is a UUID.")).max(MAX_BULK).optional() })
  .strict()
  .refine((c) => c.name !== undefined || c.accountIds !== undefined, "Send a new name or the group's accountIds.");
export type GroupChanges = z.input<typeof groupChanges>;
