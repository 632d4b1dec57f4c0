// Importing a CSV file's rows into the queue, one chunk per request, as the user (RLS decides). Each
// chunk is one transaction: rows already imported under this import id are skipped, the rest are
// checked with the bulk-post rules (lib/import/rows.ts over lib/queue/input.ts) and queued with the
// set-based enqueue, and import_rows' primary key makes a second write of a row impossible.
import { asUser, type Row, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, validationFailed, type FieldIssue } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { toPostToQueue } from "@/lib/queue";
import { checkAccounts, insertPosts, type AccountReference } from "@/lib/queue/enqueue";
import { refuseWhileApprovalNeeded } from "@/lib/approvals";
import { MAX_BULK_ITEMS } from "@/lib/queue/input";
import { importInput, importListInput, type ImportAccess, type ImportChunkResult, type ImportRecord } from "./input";
import { accountDirectory, checkRow } from "./rows";

export type { ImportAccess, ImportChunkInput, ImportChunkResult, ImportRecord } from "./input";

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

/** The import this id names, made for this workspace if it is new; 409 when the id is another import's. */
async function openImport(tx: Tx, workspaceId: string, c: { importId: string; fileName: string; rowsInFile: number; rowsBad: number }) {
  // Chunks of one import wait for each other: a retry sent while the first try still runs sees its rows.
  await tx`select pg_advisory_xact_lock(hashtextextended(${`pacer:import:${c.importId}`}, 0))`;
  const [made] = await tx`
    insert into public.imports (id, workspace_id, file_name, rows_in_file, rows_bad)
    values (${c.importId}, ${workspaceId}, ${c.fileName}, ${c.rowsInFile}, ${c.rowsBad})
    on conflict (id) do nothing
    returning id`;
  if (made) return;
  // Taken: by this workspace (carry on), or by one this user cannot see or is not acting on.
  const [existing] = await tx`select workspace_id from public.imports where id = ${c.importId}`;
  if (existing?.workspace_id !== workspaceId) {
    throw new PacerError(409, "import_id_taken", "This importId belongs to another import; choose a new UUID for this file.");
  }
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
    await refuseWhileApprovalNeeded(tx, workspaceId, "a CSV import");
    await openImport(tx, workspaceId, c);

    const done = await tx`
      select row_number from public.import_rows
      where workspace_id = ${workspaceId} and import_id = ${c.importId} and row_number = any (${c.rows.map((r) => r.rowNumber)}::integer[])`;
    const imported = new Set(done.map((r) => r.row_number as number));
    const fresh = c.rows.map((row, index) => ({ row, index })).filter(({ row }) => !imported.has(row.rowNumber));

    // The same checks as the preview, against the workspace's accounts as they are now.
    const accounts = await tx`select id, platform, handle from public.social_accounts where workspace_id = ${workspaceId}`;
    const ctx = { accounts: accountDirectory(accounts.map((a) => ({ id: a.id, platform: a.platform, handle: a.handle }))), timeZone: c.timeZone };
    const issues: FieldIssue[] = [];
    const good: Array<{ index: number; rowNumber: number; post: Parameters<typeof toPostToQueue>[0] & { accountIds: string[] } }> = [];
    for (const { row, index } of fresh) {
      const checked = checkRow(row, ctx);
      if (checked.ok) good.push({ index, rowNumber: row.rowNumber, post: checked.post });
      else checked.issues.forEach((i) => issues.push({ path: `rows.${index}.${i.column}`, message: i.message }));
    }
    // Bulk-post's own account check: the account is this workspace's, on a platform Pacer publishes to.
    const refs: AccountReference[] = good.flatMap((g) => g.post.accountIds.map((id) => ({ path: `rows.${g.index}.accounts`, id })));
    issues.push(...(await checkAccounts(tx, workspaceId, refs)));
    const items = good.reduce((n, g) => n + g.post.accountIds.length, 0);
    if (items > MAX_BULK_ITEMS) {
      issues.push({ path: "rows", message: `These rows would queue ${items.toLocaleString("en")} posts; send at most ${MAX_BULK_ITEMS.toLocaleString("en")} (rows × accounts) per request.` });
    }
    if (issues.length) throw rowsInvalid(issues, c.rows.length);

    let posts = 0;
    if (good.length) {
      const written = await insertPosts(tx, workspaceId, good.map((g) => toPostToQueue(g.post, g.post.accountIds)));
      posts = written.postIds.length;
      await tx`
        insert into public.import_rows (workspace_id, import_id, row_number, post_id)
        select ${workspaceId}, ${c.importId}, r.row_number, r.post_id
        from unnest(${good.map((g) => g.rowNumber)}::integer[], ${written.postIds}::uuid[]) as r(row_number, post_id)`;
    }
    const [record] = await tx`select * from private.record_import_chunk(${c.importId}, ${c.rowsBad}, ${imported.size})`;
    return {
      importId: c.importId,
      chunkIndex: c.chunkIndex,
      imported: good.length,
      alreadyImported: imported.size,
      posts,
      items,
      import: toImportRecord(record),
    };
  });
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
