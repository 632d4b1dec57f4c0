// The audit log as people read it: who did what, to what, when, old values to new, filtered and paged
// newest first, and exported as CSV. Admins and the owner read it (the table's policy says so too).
import Papa from "papaparse";
import { asUser, type Row, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, validationFailed } from "@/lib/api/errors";
import { resolveWorkspaceId, roleInWorkspace } from "@/lib/workspaces";
import { MAX_EXPORT_ROWS, auditQuery, type AuditQuery } from "./input";

export interface AuditChange {
  field: string;
  from: unknown;
  to: unknown;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: { id: string; email: string | null } | null;
  action: string;
  entity: string;
  entityId: string;
  /** Who or what the entry is about, in words: a member's email, an account's handle. */
  subject: string | null;
  /** The fields that changed (an update), or the row's fields as added or removed. */
  changes: AuditChange[];
  oldValues: Record<string, unknown> | null;
  newValues: Record<string, unknown> | null;
}

export interface AuditPage {
  workspaceId: string;
  entries: AuditEntry[];
  /** Pass as `cursor` for the next (older) page; null at the end. */
  nextCursor: string | null;
  /** What the filters can choose from, among the latest 10,000 entries (first page only). */
  facets?: { actions: string[]; entities: string[]; actors: Array<{ id: string; email: string | null }> };
}

/** How many of the latest entries the filters' choices are read from. */
const FACET_WINDOW = 10_000;

// Bookkeeping columns that change with everything and say nothing on their own.
const QUIET = new Set(["updated_at", "created_at", "workspace_id", "id"]);

function changesOf(oldValues: Record<string, unknown> | null, newValues: Record<string, unknown> | null): AuditChange[] {
  const fields = new Set([...Object.keys(oldValues ?? {}), ...Object.keys(newValues ?? {})]);
  const changes: AuditChange[] = [];
  for (const field of fields) {
    if (QUIET.has(field)) continue;
    const from = oldValues?.[field] ?? null;
    const to = newValues?.[field] ?? null;
    if (oldValues && newValues && JSON.stringify(from) === JSON.stringify(to)) continue;
    if (from === null && to === null) continue;
    changes.push({ field, from, to });
  }
  return changes;
}

function subjectOf(entity: string, values: Record<string, unknown> | null, emails: Map<string, string>): string | null {
  if (!values) return null;
  if (entity === "workspace_members" && typeof values.user_id === "string") return emails.get(values.user_id) ?? values.user_id;
  if (entity === "workspace_invitations" && typeof values.email === "string") return values.email;
  if (entity === "social_accounts" && typeof values.handle === "string") return `@${values.handle}`;
  if (entity === "workspaces" && typeof values.name === "string") return values.name;
  return null;
}

function parseQuery(input: unknown): AuditQuery {
  const parsed = auditQuery.safeParse(input ?? {});
  if (!parsed.success) throw validationFailed(parsed.error, "The audit log query");
  return parsed.data;
}

async function auditWorkspace(tx: Tx, requested: string | undefined): Promise<string> {
  const ws = await resolveWorkspaceId(tx, requested);
  const role = await roleInWorkspace(tx, ws);
  if (role !== "admin" && role !== "owner") {
    throw new PacerError(403, "role_not_allowed", `The audit log is for admins and the owner; your role here is ${role}.`);
  }
  return ws;
}

function selectEntries(tx: Tx, ws: string, q: AuditQuery, limit: number) {
  return tx`
    select id, at, actor_id, action, entity, entity_id, old_values, new_values from public.audit_log
    where workspace_id = ${ws}
      and (${q.actor ?? null}::uuid is null or actor_id = ${q.actor ?? null}::uuid)
      and (${q.action ?? null}::text is null or action = ${q.action ?? null}::text)
      and (${q.entity ?? null}::text is null or entity = ${q.entity ?? null}::text)
      and (${q.from ?? null}::timestamptz is null or at >= ${q.from ?? null}::timestamptz)
      and (${q.to ?? null}::timestamptz is null or at <= ${q.to ?? null}::timestamptz)
      and (${q.cursor ?? null}::bigint is null or id < ${q.cursor ?? null}::bigint)
    order by id desc
    limit ${limit}`;
}

async function toEntries(tx: Tx, ws: string, rows: Row[]): Promise<AuditEntry[]> {
  const ids = new Set<string>();
  for (const r of rows) {
    if (r.actor_id) ids.add(r.actor_id);
    const member = (r.new_values ?? r.old_values)?.user_id;
    if (r.entity === "workspace_members" && typeof member === "string") ids.add(member);
  }
  const people = ids.size
    ? await tx`select user_id, email from private.people_in_workspace(${ws}, ${[...ids]}::uuid[])`
    : [];
  const emails = new Map(people.map((p) => [p.user_id as string, p.email as string]));
  return rows.map((r) => ({
    id: String(r.id),
    at: r.at.toISOString(),
    actor: r.actor_id ? { id: r.actor_id, email: emails.get(r.actor_id) ?? null } : null,
    action: r.action,
    entity: r.entity,
    entityId: r.entity_id,
    subject: subjectOf(r.entity, r.new_values ?? r.old_values, emails),
    changes: changesOf(r.old_values, r.new_values),
    oldValues: r.old_values,
    newValues: r.new_values,
  }));
}

export function listAudit(user: UserClaims, input: unknown): Promise<AuditPage> {
  const q = parseQuery(input);
  const limit = q.limit ?? 50;
  return asUser(user, async (tx) => {
    const ws = await auditWorkspace(tx, q.workspaceId);
    const rows = await selectEntries(tx, ws, q, limit + 1);
    const entries = await toEntries(tx, ws, rows.slice(0, limit));
    const page: AuditPage = { workspaceId: ws, entries, nextCursor: rows.length > limit ? entries[entries.length - 1].id : null };
    if (!q.cursor) {
      // From the latest entries only, so a long log costs the same; the filters accept any value.
      const [facets] = await tx`
        with recent as materialized (
          select action, entity, actor_id from public.audit_log where workspace_id = ${ws} order by id desc limit ${FACET_WINDOW}
        )
        select array(select distinct action from recent order by 1) as actions,
               array(select distinct entity from recent order by 1) as entities,
               array(select distinct actor_id from recent where actor_id is not null) as actors`;
      const people = facets.actors.length
        ? await tx`select user_id, email from private.people_in_workspace(${ws}, ${facets.actors}::uuid[])`
        : [];
      const emails = new Map(people.map((p) => [p.user_id as string, p.email as string]));
      page.facets = {
        actions: facets.actions,
        entities: facets.entities,
        actors: (facets.actors as string[])
          .map((id) => ({ id, email: emails.get(id) ?? null }))
          .sort((a, b) => (a.email ?? "~").localeCompare(b.email ?? "~")),
      };
    }
    return page;
  });
}

// Cells a spreadsheet would run as a formula (or that start with a tab or carriage return) get a
// leading apostrophe. papaparse's own default pattern misses values with a line break in them.
const FORMULA = /^[=+\-@\t\r]/;

const csvValue = (v: unknown) => (v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));

export function auditCsv(entries: AuditEntry[]): string {
  return Papa.unparse(
    {
      fields: ["at", "actor_email", "actor_id", "action", "entity", "entity_id", "subject", "changes", "old_values", "new_values"],
      data: entries.map((e) => [
        e.at,
        e.actor?.email ?? "",
        e.actor?.id ?? "",
        e.action,
        e.entity,
        e.entityId,
        e.subject ?? "",
        e.changes.map((c) => `${c.field}: ${csvValue(c.from) || "—"} → ${csvValue(c.to) || "—"}`).join("; "),
        csvValue(e.oldValues),
        csvValue(e.newValues),
      ]),
    },
    { escapeFormulae: FORMULA, newline: "\r\n" },
  );
}

/** The filtered log as CSV (newest first, at most MAX_EXPORT_ROWS rows), and whether rows were left out. */
export function exportAudit(user: UserClaims, input: unknown): Promise<{ workspaceId: string; csv: string; truncated: boolean }> {
  const q = { ...parseQuery(input), cursor: undefined };
  return asUser(user, async (tx) => {
    const ws = await auditWorkspace(tx, q.workspaceId);
    const rows = await selectEntries(tx, ws, q, MAX_EXPORT_ROWS + 1);
    const entries = await toEntries(tx, ws, rows.slice(0, MAX_EXPORT_ROWS));
    return { workspaceId: ws, csv: auditCsv(entries), truncated: rows.length > MAX_EXPORT_ROWS };
  });
}

