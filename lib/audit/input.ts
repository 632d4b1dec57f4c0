// What the audit log's API accepts (GET /api/audit and its CSV export), shared with the audit page's filters.
import { z } from "zod";

export const MAX_PAGE = 200;
/** Rows in one CSV export; narrow the filters for more. */
export const MAX_EXPORT_ROWS = 50_000;

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === "" || v === null ? undefined : v), schema.optional());

const when = (field: string) =>
  z.iso.datetime({ offset: true, error: `${field} must be a date and time with its zone, e.g. 2026-12-01T09:00:00Z.` });

export const auditQuery = z
  .object({
    workspaceId: optional(z.uuid("workspaceId must be a workspace id (a UUID).")),
    actor: optional(z.uuid("actor must be a user id (a UUID), as the log's entries give it.")),
    action: optional(z.string().trim().max(100, "action has at most 100 characters.")),
    entity: optional(z.string().trim().max(100, "entity has at most 100 characters.")),
    from: optional(when("from")),
    to: optional(when("to")),
    cursor: optional(z.string().regex(/^\d{1,19}$/, "cursor must be the nextCursor of the page before.")),
    limit: optional(z.coerce.number().int("limit must be a whole number.").min(1, "limit is at least 1.").max(MAX_PAGE, `limit is at most ${MAX_PAGE}.`)),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { path: ["to"], message: "to must not be before from." });

export type AuditQuery = z.output<typeof auditQuery>;

/** The query string's values as the schema reads them. */
export function auditQueryFrom(params: URLSearchParams): Record<string, string> {
  return Object.fromEntries(params.entries());
}
