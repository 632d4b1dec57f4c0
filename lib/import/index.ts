// Importing a CSV file's rows into the queue, one chunk per request, as the user (RLS decides). Each
// chunk is one transaction: rows already imported under this import id are skipped, the rest are
// checked with the bulk-post rules (lib/import/rows.ts over lib/queue/input.ts); a row imported
// before from a file of the same name (same row, same content: a corrected file uploaded again) is
// skipped too, one changed since is reported, and the others are queued with the set-based enqueue.
// import_rows' keys make a second write of a row impossible, by import id or by file and content.
// An editor's rows while the workspace's posts need approval are not queued: each waits as a
// submission of its own (lib/approvals), and its import_rows row names the submission instead.
import { asUser, type Row, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, validationFailed, type FieldIssue } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { toPostToQueue } from "@/lib/queue";
import { checkAccounts, insertPosts, type AccountReference } from "@/lib/queue/enqueue";
import { mustWait, submitPosts } from "@/lib/approvals";
import { MAX_BULK_ITEMS, type AddToQueueInput } from "@/lib/queue/input";
import { rowFingerprint } from "./fingerprint";
import {
  importCheckInput,
  importInput,
  importListInput,
  type ChangedRow,
  type ImportAccess,
  type ImportCheckResult,
  type ImportChunkResult,
  type ImportRecord,
} from "./input";
import { accountDirectory, checkRow } from "./rows";

export type { ChangedRow, ImportAccess, ImportCheckInput, ImportCheckResult, ImportChunkInput, ImportChunkResult, ImportRecord } from "./input";

/** How many of the latest imports the page lists. */
const RECENT_IMPORTS = 20;

function toImportRecord(r: Row): ImportRecord {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    fileName: r.file_name,
    rowsInFile: r.rows_in_file,
    rowsImported: r.rows_imported,
    rowsBad: r.rows_bad,
    rowsRepeated: r.rows_repeated,
    rowsChanged: r.rows_changed,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

/** The workspace's plan and whether it includes bulk import, with the cheapest plan that does. */
async function planOf(tx: Tx, workspaceId: string) {
  const [plan] = await tx`
    select p.name, coalesce((p.features_enabled ->> 'bulk_import')::boolean, false) as allowed,
           private.plan_with_feature('bulk_import') as cheapest
    from public.workspaces w join public.plans p on p.id = w.plan_id
    where w.id = ${workspaceId}`;
  return { name: plan.name as string, allowed: plan.allowed as boolean, includedFrom: plan.cheapest as string };
}

/** 403 unless the user may queue posts here (editors and up) and the plan includes bulk import. */
async function requireImportAccess(tx: Tx, workspaceId: string) {
  const [role] = await tx`select private.has_role_on_workspace(${workspaceId}, 'editor') as ok`;
  if (!role.ok) {
    throw new PacerError(403, "forbidden", "Your role in this workspace does not allow you to import posts; editors, admins and owners can.");
  }
  const plan = await planOf(tx, workspaceId);
  if (!plan.allowed) {
    throw new PacerError(
      403,
      "plan_feature_unavailable",
      `Bulk import is not part of the ${plan.name} plan; ${plan.includedFrom} and above include it. Upgrade in Billing, or add posts one at a time on the Queue page.`,
    );
  }
}

/**
 * The import this id names, made for this workspace if it is new; 409 when the id is another import's.
 * Its file name (the one it was started with), by which its rows are known.
 */
async function openImport(tx: Tx, workspaceId: string, c: { importId: string; fileName: string; rowsInFile: number; rowsBad: number }) {
  // Chunks of one import wait for each other: a retry sent while the first try still runs sees its rows.
  await tx`select pg_advisory_xact_lock(hashtextextended(${`pacer:import:${c.importId}`}, 0))`;
  const [made] = await tx`
    insert into public.imports (id, workspace_id, file_name, rows_in_file, rows_bad)
    values (${c.importId}, ${workspaceId}, ${c.fileName}, ${c.rowsInFile}, ${c.rowsBad})
    on conflict (id) do nothing
    returning workspace_id, file_name`;
  // Taken: by this workspace (carry on), or by one this user cannot see or is not acting on.
  const [existing] = made ? [made] : await tx`select workspace_id, file_name from public.imports where id = ${c.importId}`;
  if (existing?.workspace_id !== workspaceId) {
    throw new PacerError(409, "import_id_taken", "This importId belongs to another import; choose a new UUID for this file.");
  }
  // Imports of one file wait for each other too (the corrected file sent from two tabs), so each
  // sees the rows the other queued. Always after the import's own lock, so two never deadlock.
  await tx`select pg_advisory_xact_lock(hashtextextended(${`pacer:import-file:${workspaceId}:`} || private.import_file_key(${existing.file_name}), 0))`;
  return existing.file_name as string;
}

interface FingerprintedRow {
  rowNumber: number;
  fingerprint: string;
}

interface EarlierRows {
  /** Rows imported before, unchanged: row number → when. */
  identical: Map<number, Date>;
  changed: ChangedRow[];
}

const minuteUtc = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;

/**
 * Which of these rows of a file were imported before. A row with the same number and content in a
 * file of the same name is the same row: skipped. A row whose number was imported, with other
 * content, by an import this upload repeats rows of, changed since: Pacer does not guess whether it
 * replaces the queued post or is another one, it reports it. An upload that changes more of those
 * rows than it repeats is another file under an old name (this week's posts.csv): its rows import.
 */
async function earlierRows(tx: Tx, workspaceId: string, fileName: string, rows: FingerprintedRow[]): Promise<EarlierRows> {
  if (rows.length === 0) return { identical: new Map(), changed: [] };
  const same = await tx`
    select r.row_number, r.import_id, r.created_at
    from unnest(${rows.map((r) => r.rowNumber)}::integer[], ${rows.map((r) => r.fingerprint)}::text[]) as f(row_number, fingerprint)
    join public.import_rows r on r.row_number = f.row_number and r.fingerprint = f.fingerprint
    where r.workspace_id = ${workspaceId} and r.file_key = private.import_file_key(${fileName})`;
  const identical = new Map(same.map((r) => [r.row_number as number, r.created_at as Date]));
  const sources = [...new Set(same.map((r) => r.import_id as string))];
  const others = rows.filter((r) => !identical.has(r.rowNumber)).map((r) => r.rowNumber);
  if (sources.length === 0 || others.length === 0) return { identical, changed: [] };
  const before = await tx`
    select row_number, min(created_at) as created_at from public.import_rows
    where workspace_id = ${workspaceId} and import_id = any (${sources}::uuid[]) and row_number = any (${others}::integer[])
    group by row_number order by row_number`;
  if (before.length > identical.size) return { identical, changed: [] };
  const changed = before.map((r) => ({
    rowNumber: r.row_number as number,
    importedAt: (r.created_at as Date).toISOString(),
    message: `Row ${r.row_number} changed since it was imported on ${minuteUtc(r.created_at)}; it was not imported again. If it replaces the queued post, cancel that post; then import this row in a file of its own.`,
  }));
  return { identical, changed };
}

/**
 * The preview's check: how many of a file's good rows (numbers and fingerprints, as the page
 * computed them) are queued already, and which changed since; the import itself decides the same.
 */
export async function checkImportedRows(user: UserClaims, input: unknown): Promise<ImportCheckResult> {
  const parsed = importCheckInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The check");
  const c = parsed.data;
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, c.workspaceId);
    const earlier = await earlierRows(tx, workspaceId, c.fileName, c.rows);
    const first = [...earlier.identical.values()].sort((a, b) => a.getTime() - b.getTime())[0];
    return { alreadyImported: earlier.identical.size, importedAt: first ? first.toISOString() : null, changed: earlier.changed };
  });
}

/**
 * One chunk of an import. Rows already imported under the import id are counted, not queued again;
 * if any other row breaks a rule, the answer is 400 with every such row in `issues`
 * (`rows.<index>.<column>`) and nothing from this request is written.
 */
export async function importChunk(user: UserClaims, input: unknown): Promise<ImportChunkResult> {
  const parsed = importInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The import request");
  const c = parsed.data;

  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, c.workspaceId);
    await requireImportAccess(tx, workspaceId);
    // An editor's rows while the workspace's posts need approval wait, one submission per row.
    const hold = await mustWait(tx, workspaceId);
    const fileName = await openImport(tx, workspaceId, c);

    const done = await tx`
      select row_number from public.import_rows
      where workspace_id = ${workspaceId} and import_id = ${c.importId} and row_number = any (${c.rows.map((r) => r.rowNumber)}::integer[])`;
    const imported = new Set(done.map((r) => r.row_number as number));
    const fresh = c.rows.map((row, index) => ({ row, index })).filter(({ row }) => !imported.has(row.rowNumber));

    // The same checks as the preview, against the workspace's accounts as they are now.
    const accounts = await tx`select id, platform, handle from public.social_accounts where workspace_id = ${workspaceId} and archived_at is null`;
    const ctx = { accounts: accountDirectory(accounts.map((a) => ({ id: a.id, platform: a.platform, handle: a.handle }))), timeZone: c.timeZone, ifPast: c.ifPast };
    const issues: FieldIssue[] = [];
    const good: Array<{ index: number; rowNumber: number; fingerprint: string; post: Parameters<typeof toPostToQueue>[0] & { accountIds: string[] } }> = [];
    for (const { row, index } of fresh) {
      const checked = checkRow(row, ctx);
      if (checked.ok) good.push({ index, rowNumber: row.rowNumber, fingerprint: await rowFingerprint(checked.post), post: checked.post });
      else checked.issues.forEach((i) => issues.push({ path: `rows.${index}.${i.column}`, message: i.message }));
    }
    // Bulk-post's own account check: the account is this workspace's, on a platform Pacer publishes to.
    const refs: AccountReference[] = good.flatMap((g) => g.post.accountIds.map((id) => ({ path: `rows.${g.index}.accounts`, id })));
    issues.push(...(await checkAccounts(tx, workspaceId, refs)));
    const size = good.reduce((n, g) => n + g.post.accountIds.length, 0);
    if (size > MAX_BULK_ITEMS) {
      issues.push({ path: "rows", message: `These rows would queue ${size.toLocaleString("en")} posts; send at most ${MAX_BULK_ITEMS.toLocaleString("en")} (rows × accounts) per request.` });
    }
    if (issues.length) throw rowsInvalid(issues, c.rows.length);

    // The same rows of this file imported before (the file uploaded again, corrected): skipped or reported.
    const earlier = await earlierRows(tx, workspaceId, fileName, good);
    const changed = new Set(earlier.changed.map((r) => r.rowNumber));
    const queue = good.filter((g) => !earlier.identical.has(g.rowNumber) && !changed.has(g.rowNumber));
    const items = queue.reduce((n, g) => n + g.post.accountIds.length, 0);

    let posts = 0;
    if (queue.length && hold) {
      const submissionIds = await submitPosts(tx, workspaceId, queue.map((g) => toAddRequest(g.post, workspaceId)));
      await tx`
        insert into public.import_rows (workspace_id, import_id, row_number, submission_id, fingerprint)
        select ${workspaceId}, ${c.importId}, r.row_number, r.submission_id, r.fingerprint
        from unnest(${queue.map((g) => g.rowNumber)}::integer[], ${submissionIds}::uuid[], ${queue.map((g) => g.fingerprint)}::text[])
          as r(row_number, submission_id, fingerprint)`;
    } else if (queue.length) {
      const written = await insertPosts(tx, workspaceId, queue.map((g) => toPostToQueue(g.post, g.post.accountIds)));
      posts = written.postIds.length;
      await tx`
        insert into public.import_rows (workspace_id, import_id, row_number, post_id, fingerprint)
        select ${workspaceId}, ${c.importId}, r.row_number, r.post_id, r.fingerprint
        from unnest(${queue.map((g) => g.rowNumber)}::integer[], ${written.postIds}::uuid[], ${queue.map((g) => g.fingerprint)}::text[])
          as r(row_number, post_id, fingerprint)`;
    }
    const alreadyImported = imported.size + earlier.identical.size;
    const [record] = await tx`select * from private.record_import_chunk(${c.importId}, ${c.rowsBad}, ${alreadyImported}, ${changed.size})`;
    return {
      importId: c.importId,
      chunkIndex: c.chunkIndex,
      imported: hold ? 0 : queue.length,
      alreadyImported,
      changed: earlier.changed,
      awaitingApproval: hold ? queue.length : 0,
      posts,
      items: hold ? 0 : items,
      import: toImportRecord(record),
    };
  });
}

/** A checked row as POST /api/queue/add's body: what its submission stores and an approval queues. */
function toAddRequest(post: Parameters<typeof toPostToQueue>[0] & { accountIds: string[] }, workspaceId: string): AddToQueueInput {
  return {
    text: post.text,
    accountIds: post.accountIds,
    workspaceId,
    ...(post.mediaUrls?.length ? { mediaUrls: post.mediaUrls } : {}),
    ...(post.firstComment ? { firstComment: post.firstComment } : {}),
    ...(post.destination ? { destination: post.destination } : {}),
    ...(post.priority !== undefined ? { priority: post.priority } : {}),
    ...(post.scheduledFor ? { scheduledFor: post.scheduledFor } : {}),
  };
}

function rowsInvalid(issues: FieldIssue[], rows: number): PacerError {
  const bad = new Set(issues.map((i) => i.path.split(".")[1])).size;
  const head = issues.slice(0, 3).map((i) => `${i.path}: ${i.message}`).join("; ");
  const more = issues.length > 3 ? `; and ${issues.length - 3} more (see issues)` : "";
  return new PacerError(
    400,
    "validation_failed",
    `${bad} of ${rows} rows in this request have problems; nothing from it was imported. Send the other rows again without them. ${head}${more}.`,
    issues,
  );
}

/** What the import page needs: may this user import here, which plan includes it, and the latest imports. */
export async function importOverview(user: UserClaims, input: { workspaceId?: string | null } = {}): Promise<ImportAccess> {
  const parsed = importListInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The query");
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, parsed.data.workspaceId);
    const [role] = await tx`select private.has_role_on_workspace(${workspaceId}, 'editor') as ok`;
    const plan = await planOf(tx, workspaceId);
    const imports = await tx`
      select * from public.imports where workspace_id = ${workspaceId} order by created_at desc limit ${RECENT_IMPORTS}`;
    return {
      workspaceId,
      planName: plan.name,
      includedFrom: plan.includedFrom,
      planIncludesImport: plan.allowed,
      canImport: role.ok as boolean,
      rowsWaitForApproval: await mustWait(tx, workspaceId),
      imports: imports.map(toImportRecord),
    };
  });
}

/** One import by id (404 when it is not visible to the user). */
export async function getImport(user: UserClaims, importId: string): Promise<ImportRecord> {
  const parsed = importListInput.safeParse({ importId });
  if (!parsed.success) throw validationFailed(parsed.error, "The query");
  return asUser(user, async (tx) => {
    const [row] = await tx`select * from public.imports where id = ${importId}`;
    if (!row) throw new PacerError(404, "not_found", "Import was not found, or you do not have access to it.");
    return toImportRecord(row);
  });
}
