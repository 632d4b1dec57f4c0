// The CSV files Pacer writes (the template, the bad rows) made safe to open in a spreadsheet, and the
// matching rule for cells read back: OWASP's CSV-injection advice, one place for both directions.
import Papa from "papaparse";

/** Cells a spreadsheet could read as a formula (or that hide one behind a tab or carriage return). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell for a file Pacer writes: one that could start a formula gets a leading ' so it stays text. */
export function escapeCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/**
 * A cell as read from an uploaded file: the ' Pacer (or a spreadsheet) put before a would-be formula
 * is taken off, so a post that begins with "-" or "@" says so again. Any other leading ' is the text's.
 */
export function unescapeCell(value: string): string {
  return value.startsWith("'") && FORMULA_START.test(value.slice(1)) ? value.slice(1) : value;
}

/**
 * A CSV file Pacer offers for download: a byte order mark (so Excel reads UTF-8), every cell escaped
 * and quoted, CRLF line ends.
 */
export function writeCsv(header: string[], rows: string[][]): string {
  return "\uFEFF" + Papa.unparse({ fields: header.map(escapeCell), data: rows.map((r) => r.map(escapeCell)) }, { quotes: true, newline: "\r\n" });
}
