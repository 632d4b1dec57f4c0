// What the API-keys routes accept and answer, as zod schemas shared by the page's form and the routes.
import { z } from "zod";
import type { ApiKeyScope } from "@/lib/db";

export type { ApiKeyScope };
export const API_KEY_SCOPES = ["read", "write", "process"] as const satisfies readonly ApiKeyScope[];

/** What each scope lets a key do, in the words the page and docs use. */
export const SCOPE_DESCRIPTIONS: Record<ApiKeyScope, string> = {
  read: "Read the queue, accounts, health, history and usage (GET routes).",
  write: "Queue, cancel and retry posts, add and change accounts, acknowledge alerts and reviews.",
  process: "Run the queue or a health check now (POST /api/queue/process, /api/accounts/health/check-all).",
};

export const MAX_KEY_NAME_LENGTH = 100;
/** Keys may be made to expire at most this far ahead (or never). */
export const MAX_EXPIRY_DAYS = 366;

const workspaceId = z.uuid("workspaceId must be a workspace id (a UUID).").nullish();

export const createApiKeyInput = z.strictObject({
  workspaceId,
  name: z
    .string("Name the key, e.g. the program that will use it.")
    .trim()
    .min(1, "Name the key, e.g. the program that will use it.")
    .max(MAX_KEY_NAME_LENGTH, `A key's name has at most ${MAX_KEY_NAME_LENGTH} characters.`)
    .refine((s) => s.isWellFormed() && !s.includes("\u0000"), "The name may not contain NUL characters or broken Unicode."),
  scopes: z
    .array(z.enum(API_KEY_SCOPES, "Each scope is read, write or process."), "scopes must be a list, e.g. [\"read\"].")
    .min(1, "Give the key at least one scope: read, write or process.")
    .refine((s) => new Set(s).size === s.length, "List each scope once."),
  expiresAt: z
    .iso.datetime({ offset: true, error: "expiresAt must be an ISO 8601 time with a zone, e.g. 2027-01-31T00:00:00Z, or null for never." })
    .nullish()
    .refine((t) => t == null || Date.parse(t) > Date.now(), "expiresAt must be in the future.")
    .refine(
      (t) => t == null || Date.parse(t) <= Date.now() + MAX_EXPIRY_DAYS * 86_400_000,
      `expiresAt is at most ${MAX_EXPIRY_DAYS} days ahead; leave it out (or null) for a key that does not expire.`,
    ),
});
export type CreateApiKeyInput = z.input<typeof createApiKeyInput>;

/** GET /api/keys?workspaceId= */
export const listApiKeysQuery = z.object({ workspaceId });

/** A key as the API shows it: never its secret, which only the create reply carries, once. */
export const apiKeySchema = z.object({
  id: z.uuid(),
  workspaceId: z.uuid(),
  name: z.string(),
  /** `pk_` and the key's first 8 characters, to tell keys apart. */
  prefix: z.string(),
  scopes: z.array(z.enum(API_KEY_SCOPES)),
  /** The person the key acts as. */
  createdBy: z.uuid(),
  createdByYou: z.boolean(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime().nullable(),
  lastUsedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
  status: z.enum(["active", "expired", "revoked"]),
});
export type ApiKey = z.infer<typeof apiKeySchema>;

export const apiKeyListSchema = z.object({ workspaceId: z.uuid(), keys: z.array(apiKeySchema) });
export const createdApiKeySchema = z.object({
  key: apiKeySchema,
  /** The whole key: shown this once, stored nowhere. */
  secret: z.string(),
});
