// The columns a Pacer import file may have: their names, what each holds, and how a header row is
// read (case-insensitive; unknown, repeated and missing columns are reported, never ignored).

/** At most this many posts (data rows) per file. */
export const MAX_IMPORT_ROWS = 10_000;
/** Files larger than this are refused before they are read (10,000 long posts fit well inside). */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

export const IMPORT_COLUMNS = [
  "text",
  "accounts",
  "scheduled_at",
  "timezone",
  "media_urls",
  "first_comment",
  "destination",
  "priority",
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

export const REQUIRED_COLUMNS: readonly ImportColumn[] = ["text", "accounts"];

/** The column Pacer adds to its "bad rows" file; read back without complaint, and ignored. */
export const PROBLEMS_COLUMN = "problems";

/** What each column holds, for the docs, the page and the missing-column message. */
export const COLUMN_HELP: Record<ImportColumn, string> = {
  text: "the post's text (required)",
  accounts: "the accounts to post to: account ids or platform:handle (e.g. sandbox:pacer_app), separated by | (required)",
  scheduled_at:
    "when to publish: an ISO 8601 time with an offset (2026-12-01T09:30:00+01:00), or a local time 2026-12-01 09:30 read in the row's timezone (or yours); empty publishes as soon as possible",
  timezone: "the IANA time zone a local scheduled_at is read in, e.g. Europe/Paris (optional)",
  media_urls: "https:// URLs of images or videos, separated by | (optional)",
  first_comment: "a comment to add under the post (optional)",
  destination: "a subreddit, group or channel the account posts into (optional)",
  priority: "1 (last) to 10 (first); empty means 5",
};

/** A header cell as Pacer compares it: case and surrounding spaces ignored, spaces and hyphens read as _. */
export const normalizeHeader = (cell: string) => cell.trim().toLowerCase().replace(/[\s-]+/g, "_");

/** The spreadsheet letter of a 0-based column index: A, B, …, Z, AA. */
export function columnLetter(index: number): string {
  let n = index + 1;
  let letters = "";
  while (n > 0) {
    letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

/** Where each known column is in the file, or the header's problems (each one sentence). */
export interface HeaderMap {
  positions: Partial<Record<ImportColumn, number>>;
  issues: string[];
}

/** Edit distance, for "did you mean" on a misspelt column. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function suggestion(name: string): string {
  const near = IMPORT_COLUMNS.find((c) => distance(name, c) <= 2);
  return near ? ` (did you mean ${near}?)` : "";
}

/**
 * Reads the header row. `hasData(i)`: whether any row has a value in column i (an unnamed column
 * with nothing in it is a trailing delimiter, not a problem).
 */
export function mapHeader(header: string[], hasData: (index: number) => boolean): HeaderMap {
  const positions: Partial<Record<ImportColumn, number>> = {};
  const issues: string[] = [];
  header.forEach((cell, i) => {
    const name = normalizeHeader(cell);
    const at = `Column ${columnLetter(i)}`;
    if (name === "") {
      if (hasData(i)) issues.push(`${at} has values but no name in the header row; name it (${IMPORT_COLUMNS.join(", ")}) or remove it.`);
      return;
    }
    if (name === PROBLEMS_COLUMN) return;
    if (!(IMPORT_COLUMNS as readonly string[]).includes(name)) {
      issues.push(`${at} "${cell.trim()}" is not a column Pacer knows${suggestion(name)}; rename or remove it. Columns: ${IMPORT_COLUMNS.join(", ")}.`);
      return;
    }
    const column = name as ImportColumn;
    const first = positions[column];
    if (first !== undefined) {
      issues.push(`${at} repeats ${column} (already column ${columnLetter(first)}); keep one of them.`);
      return;
    }
    positions[column] = i;
  });
  for (const column of REQUIRED_COLUMNS) {
    if (positions[column] === undefined) {
      issues.push(`The header row has no ${column} column; add one with ${COLUMN_HELP[column]}.`);
    }
  }
  return { positions, issues };
}
