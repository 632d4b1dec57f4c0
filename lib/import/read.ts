// Reading an uploaded CSV file into a preview: the file's bytes decoded, parsed with papaparse in
// chunks (the page yields between them, so 10,000 rows never freeze it), the header mapped, and every
// row checked. Pure: the same code runs in the browser and in vitest.
import Papa, { type ParseResult, type Parser } from "papaparse";
import { IMPORT_COLUMNS, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, COLUMN_HELP, PROBLEMS_COLUMN, mapHeader, normalizeHeader, type ImportColumn } from "./columns";
import { decodeCsvBytes, type ImportEncoding } from "./decode";
import { writeCsv } from "./csv";
import type { IfPast } from "@/lib/time/schedule";
import { checkRow, type AccountDirectory, type CheckedRow, type ImportRow, type RowIssue } from "./rows";

export interface GoodRow {
  row: ImportRow;
  post: Extract<CheckedRow, { ok: true }>["post"];
}

export interface BadRow {
  row: ImportRow;
  /** The row's cells as in the file, for the bad-rows download. */
  cells: string[];
  issues: RowIssue[];
}

export interface ImportPreview {
  fileName: string;
  encoding: ImportEncoding | null;
  delimiter: "," | ";" | null;
  /** Worth knowing, not blocking: the encoding guessed, blank rows skipped. */
  notices: string[];
  /** Problems with the file as a whole; while there are any, nothing can be imported. */
  fileIssues: string[];
  /** The header row as written in the file. */
  header: string[];
  /** Rows of posts in the file (blank rows not counted). */
  rowsInFile: number;
  good: GoodRow[];
  bad: BadRow[];
}

export interface ReadOptions {
  fileName: string;
  accounts: AccountDirectory;
  timeZone: string;
  /** Rows scheduled more than 5 minutes ago: bad rows (default) or published at once (lib/time/schedule.ts). */
  ifPast?: IfPast;
  /** The clock past times are judged by; Date.now() by default (tests pin it). */
  now?: number;
  /** Called between chunks so the page can paint (the browser passes a macrotask; tests nothing). */
  pause?: () => Promise<void>;
  onProgress?: (checked: number, total: number) => void;
}

/** Rows checked between pauses. */
const BATCH = 500;

const fmt = (n: number) => n.toLocaleString("en");

/** , or ; — whichever the header row (outside quotes) uses more; a one-column file is comma-separated. */
export function detectDelimiter(text: string): "," | ";" {
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === "\n" || ch === "\r")) break;
    else if (!quoted && ch === ",") commas++;
    else if (!quoted && ch === ";") semicolons++;
  }
  return semicolons > commas ? ";" : ",";
}

const isBlank = (record: string[]) => record.every((c) => c.trim() === "");

/** Parse in chunks; keeps the first `keep` records (the header and the rows up to the limit) and counts the rest. */
function parseRecords(text: string, delimiter: string, keep: number, pause?: () => Promise<void>) {
  return new Promise<{ records: string[][]; blankAfterKeep: number; total: number; quoteProblems: Array<{ index: number; code: string }> }>((resolve) => {
    const records: string[][] = [];
    const quoteProblems: Array<{ index: number; code: string }> = [];
    let total = 0;
    let blankAfterKeep = 0;
    Papa.parse<string[]>(text, {
      delimiter,
      chunkSize: 512 * 1024,
      chunk: (results: ParseResult<string[]>, parser: Parser) => {
        for (const error of results.errors) {
          if (error.type === "Quotes" && error.row !== undefined) quoteProblems.push({ index: total + error.row, code: error.code });
        }
        for (const record of results.data) {
          if (records.length < keep) records.push(record);
          else if (isBlank(record)) blankAfterKeep++;
          total++;
        }
        if (pause) {
          parser.pause();
          void pause().then(() => parser.resume());
        }
      },
      complete: () => resolve({ records, blankAfterKeep, total, quoteProblems }),
    });
  });
}

export async function readImportFile(bytes: Uint8Array, options: ReadOptions): Promise<ImportPreview> {
  const preview: ImportPreview = {
    fileName: options.fileName,
    encoding: null,
    delimiter: null,
    notices: [],
    fileIssues: [],
    header: [],
    rowsInFile: 0,
    good: [],
    bad: [],
  };
  const refuse = (problem: string) => {
    preview.fileIssues.push(problem);
    return preview;
  };
  if (bytes.byteLength > MAX_IMPORT_BYTES) {
    return refuse(`This file is ${fmt(Math.ceil(bytes.byteLength / 1024 / 1024))} MB; Pacer reads files of at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB. Split it into smaller files.`);
  }
  const decoded = decodeCsvBytes(bytes);
  if (!decoded.ok) return refuse(decoded.problem);
  preview.encoding = decoded.encoding;
  if (decoded.notice) preview.notices.push(decoded.notice);
  if (decoded.text.trim() === "") {
    return refuse(`The file is empty. Add a header row (${IMPORT_COLUMNS.join(", ")}) and one row per post; the template shows how.`);
  }

  // A file's last line break ends its last row; it does not start a blank one.
  const text = decoded.text.replace(/[\r\n]+$/, "");
  const delimiter = detectDelimiter(text);
  preview.delimiter = delimiter;
  if (delimiter === ";") preview.notices.push("Cells are separated by semicolons (;), as spreadsheets in many European languages save CSV.");

  // The header, then up to one row past the limit: enough to say the file is too long.
  const parsed = await parseRecords(text, delimiter, MAX_IMPORT_ROWS + 2, options.pause);
  const { records } = parsed;
  preview.header = records[0].map((h) => h.trim());
  const dataRows: Array<{ rowNumber: number; record: string[] }> = [];
  records.forEach((record, i) => {
    if (i > 0 && !isBlank(record)) dataRows.push({ rowNumber: i + 1, record });
  });
  const blank = records.length - 1 - dataRows.length + parsed.blankAfterKeep;
  preview.rowsInFile = parsed.total - 1 - blank;

  if (preview.rowsInFile > MAX_IMPORT_ROWS) {
    return refuse(`This file has ${fmt(preview.rowsInFile)} rows of posts; Pacer imports at most ${fmt(MAX_IMPORT_ROWS)} per file. Split it into files of ${fmt(MAX_IMPORT_ROWS)} rows or fewer.`);
  }
  const unclosed = parsed.quoteProblems.find((p) => p.code === "MissingQuotes");
  if (unclosed) {
    return refuse(`A quoted cell that starts in row ${unclosed.index + 1} is never closed, so the rest of the file would be read into it. Close it with ", and write a " inside a cell as "".`);
  }
  const header = mapHeader(records[0], (i) => dataRows.some((r) => (r.record[i] ?? "").trim() !== ""));
  preview.fileIssues.push(...header.issues);
  if (dataRows.length === 0) {
    preview.fileIssues.push("The file has a header row but no posts; add one row per post below it.");
  }
  if (preview.fileIssues.length) return preview;
  if (blank > 0) preview.notices.push(`${fmt(blank)} blank ${blank === 1 ? "row was" : "rows were"} skipped.`);

  const malformed = new Set(parsed.quoteProblems.filter((p) => p.code === "InvalidQuotes").map((p) => p.index + 1));
  const width = records[0].length;
  for (let start = 0; start < dataRows.length; start += BATCH) {
    for (const { rowNumber, record } of dataRows.slice(start, start + BATCH)) {
      const row: ImportRow = { rowNumber };
      for (const column of IMPORT_COLUMNS) {
        const at = header.positions[column];
        if (at !== undefined) row[column] = record[at] ?? "";
      }
      const checked = checkRow(row, options);
      const issues: RowIssue[] = [];
      if (malformed.has(rowNumber)) {
        issues.push({ row: rowNumber, column: "row", message: 'A quoted cell in this row has text after its closing quote; write a " inside a cell as "".' });
      }
      if (record.slice(width).some((c) => c.trim() !== "")) {
        issues.push({
          row: rowNumber,
          column: "row",
          message: `This row has ${record.length} cells but the header has ${width} columns; put a cell that contains ${delimiter} in double quotes.`,
        });
      }
      if (!checked.ok) issues.push(...checked.issues);
      if (issues.length || !checked.ok) preview.bad.push({ row, cells: record, issues });
      else preview.good.push({ row, post: checked.post });
    }
    options.onProgress?.(Math.min(start + BATCH, dataRows.length), dataRows.length);
    if (options.pause && start + BATCH < dataRows.length) await options.pause();
  }
  return preview;
}

/** One line per problem, e.g. "accounts: There is no sandbox account @bob in this workspace." */
export const describeIssues = (issues: RowIssue[]) => issues.map((i) => `${i.column}: ${i.message}`).join(" ");

/** The bad rows as a CSV to fix and upload: the file's own columns, then a problems column. */
export function badRowsCsv(preview: ImportPreview): string {
  const existing = preview.header.findIndex((h) => normalizeHeader(h) === PROBLEMS_COLUMN);
  const header = existing === -1 ? [...preview.header, PROBLEMS_COLUMN] : preview.header;
  const at = existing === -1 ? preview.header.length : existing;
  const rows = preview.bad.map((b) => {
    // Rows the server refused carry no cells of their own: rebuilt from the row, column by column.
    const source = b.cells.length ? b.cells : preview.header.map((h) => b.row[normalizeHeader(h) as ImportColumn] ?? "");
    const cells = Array.from({ length: header.length }, (_, i) => source[i] ?? "");
    cells[at] = describeIssues(b.issues);
    return cells;
  });
  return writeCsv(header, rows);
}

/**
 * The template: every column, with two example rows for `account` (platform:handle), due tomorrow and
 * the day after (a fixed date would soon be in the past, and a past row is a bad row).
 */
export function templateCsv(account = "sandbox:your_handle", now: number = Date.now()): string {
  const day = (n: number) => new Date(now + n * 86_400_000).toISOString().slice(0, 10);
  const header = [...IMPORT_COLUMNS];
  const example = (values: Partial<Record<ImportColumn, string>>) => header.map((c) => values[c] ?? "");
  return writeCsv(header, [
    example({
      text: "Our autumn sale starts today: -30% on everything",
      accounts: account,
      scheduled_at: `${day(1)} 09:30`,
      timezone: "Europe/Paris",
      priority: "5",
    }),
    example({
      text: "New photos from the shop, one line each:\nthe window\nthe counter",
      accounts: account,
      scheduled_at: `${day(2)}T18:00:00+00:00`,
      media_urls: "https://cdn.example.com/window.jpg|https://cdn.example.com/counter.jpg",
      first_comment: "More on our site.",
      priority: "8",
    }),
  ]);
}

export { COLUMN_HELP };
