// One CSV row → one post, checked with the bulk-post rules (lib/queue/input.ts's bulkRow): the same
// function runs in the browser (the preview) and on the server (the import), so both say the same.
import { bulkRow, type BulkRow } from "@/lib/queue/input";
import type { ImportColumn } from "./columns";
import { unescapeCell } from "./csv";
import { isTimeZone, readScheduledAt } from "@/lib/time/wall-time";
import { howLongAgo, isPastSchedule, type IfPast } from "@/lib/time/schedule";

/** A row as the browser sends it: its number in the file and its cells by column (absent = empty). */
export type ImportRow = { rowNumber: number } & Partial<Record<ImportColumn, string>>;

/** What is wrong with a row: which column ("row" for the row as a whole) and why. */
export interface RowIssue {
  row: number;
  column: ImportColumn | "row";
  message: string;
}

export type CheckedRow =
  | { ok: true; rowNumber: number; post: BulkRow & { accountIds: string[] } }
  | { ok: false; rowNumber: number; issues: RowIssue[] };

/** An account a row may name, by id or by platform:handle. */
export interface AccountEntry {
  id: string;
  platform: string;
  handle: string;
}

/** The workspace's accounts, indexed the ways a row may name them. */
export interface AccountDirectory {
  ids: Set<string>;
  byHandle: Map<string, string[]>;
}

const handleKey = (platform: string, handle: string) => `${platform.toLowerCase()}:${handle.replace(/^@/, "").toLowerCase()}`;

export function accountDirectory(accounts: AccountEntry[]): AccountDirectory {
  const byHandle = new Map<string, string[]>();
  for (const a of accounts) {
    const key = handleKey(a.platform, a.handle);
    byHandle.set(key, [...(byHandle.get(key) ?? []), a.id]);
  }
  return { ids: new Set(accounts.map((a) => a.id.toLowerCase())), byHandle };
}

export interface RowContext {
  accounts: AccountDirectory;
  /** The zone a local scheduled_at is read in when the row has no timezone (the user's). */
  timeZone: string;
  /** Rows whose time is more than 5 minutes past: bad rows (the default), or published at once. */
  ifPast?: IfPast;
  /** The clock past times are judged by (tests pin it); Date.now() by default. */
  now?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PLATFORM_HANDLE = /^([a-z][a-z0-9_-]*):(.+)$/i;

/** The |-separated parts of a cell, trimmed, empty ones dropped. */
const listOf = (cell: string) => cell.split("|").map((p) => p.trim()).filter((p) => p !== "");

/** The accounts a cell names → ids, or why a name matches no account of the workspace. */
function resolveAccounts(cell: string, directory: AccountDirectory): { ids: string[]; tokens: string[]; problems: string[] } {
  const tokens = listOf(cell);
  const ids: string[] = [];
  const problems: string[] = [];
  if (tokens.length === 0) {
    problems.push("Name at least one account: its id or platform:handle (e.g. sandbox:pacer_app); separate several with |.");
  }
  for (const token of tokens) {
    if (UUID.test(token)) {
      if (directory.ids.has(token.toLowerCase())) ids.push(token.toLowerCase());
      else problems.push(`There is no account with id ${token} in this workspace.`);
      continue;
    }
    const named = PLATFORM_HANDLE.exec(token);
    if (!named) {
      problems.push(`"${token}" is neither an account id nor platform:handle (e.g. sandbox:pacer_app).`);
      continue;
    }
    const [, platform, handle] = named;
    const matches = directory.byHandle.get(handleKey(platform, handle)) ?? [];
    if (matches.length === 1) ids.push(matches[0]);
    else if (matches.length === 0) problems.push(`There is no ${platform.toLowerCase()} account @${handle.replace(/^@/, "")} in this workspace.`);
    else problems.push(`Several ${platform.toLowerCase()} accounts are called @${handle.replace(/^@/, "")}; use the account's id.`);
  }
  return { ids, tokens, problems };
}

/** bulkRow's field names → the file's columns. */
const COLUMN_OF: Record<string, ImportColumn> = {
  text: "text",
  accountId: "accounts",
  accountIds: "accounts",
  mediaUrls: "media_urls",
  firstComment: "first_comment",
  destination: "destination",
  priority: "priority",
  scheduledFor: "scheduled_at",
};

/** Check one row; every problem in it is reported, by column. */
export function checkRow(row: ImportRow, ctx: RowContext): CheckedRow {
  const cell = (c: ImportColumn) => unescapeCell(row[c] ?? "");
  const issues: RowIssue[] = [];
  const report = (column: RowIssue["column"], message: string) => issues.push({ row: row.rowNumber, column, message });

  const accounts = resolveAccounts(cell("accounts"), ctx.accounts);
  accounts.problems.forEach((m) => report("accounts", m));

  const zoneCell = cell("timezone").trim();
  const zoneOk = zoneCell === "" || isTimeZone(zoneCell);
  if (!zoneOk) report("timezone", `"${zoneCell}" is not an IANA time zone; write one like Europe/Paris, America/New_York or UTC.`);
  let scheduledFor: string | undefined;
  const scheduled = readScheduledAt(cell("scheduled_at"), zoneCell !== "" && zoneOk ? zoneCell : ctx.timeZone);
  if (!scheduled.ok) {
    // A local time read in a zone that is itself wrong would only repeat the timezone's problem.
    if (zoneOk) report("scheduled_at", scheduled.message);
  } else if (scheduled.instant && isPastSchedule(scheduled.instant, ctx.now) && ctx.ifPast !== "publish_now") {
    // The rule for a schedule in the past (lib/time/schedule.ts): a bad row unless the import says to publish such rows now.
    report(
      "scheduled_at",
      `${cell("scheduled_at").trim()} is in the past (${howLongAgo(scheduled.instant, ctx.now)}); give a future time, leave the cell empty to publish at once, or import with "Publish rows whose time has passed now".`,
    );
  } else if (scheduled.instant) {
    scheduledFor = scheduled.instant;
  }

  const media = listOf(cell("media_urls"));
  const priorityCell = cell("priority").trim();
  const candidate = {
    text: cell("text"),
    accountIds: accounts.ids,
    ...(media.length ? { mediaUrls: media } : {}),
    ...(cell("first_comment") !== "" ? { firstComment: cell("first_comment") } : {}),
    ...(cell("destination").trim() !== "" ? { destination: cell("destination") } : {}),
    // Whole numbers as numbers; anything else as written, so the rule's own message explains it.
    ...(priorityCell !== "" ? { priority: /^[+-]?\d+$/.test(priorityCell) ? Number(priorityCell) : priorityCell } : {}),
    ...(scheduledFor ? { scheduledFor } : {}),
  };
  const parsed = bulkRow.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [field, index] = issue.path;
      const column = COLUMN_OF[String(field)] ?? "row";
      // An account the row could not name is already reported; "choose at least one" would repeat it.
      if (column === "accounts" && accounts.problems.length) continue;
      const item = column === "accounts" && typeof index === "number" ? accounts.tokens[index] : column === "media_urls" && typeof index === "number" ? media[index] : undefined;
      report(column, item === undefined ? issue.message : `"${item}": ${issue.message}`);
    }
  }
  if (issues.length || !parsed.success) return { ok: false, rowNumber: row.rowNumber, issues };
  return { ok: true, rowNumber: row.rowNumber, post: parsed.data as BulkRow & { accountIds: string[] } };
}
