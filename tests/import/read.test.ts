// The import's reading core (lib/import), run on a corpus of files as they come out of real
// spreadsheets and hands: encodings, delimiters, quoted newlines, bad headers, bad cells, the row
// limit and formula cells. Each expectation is the exact message the page shows.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import Papa from "papaparse";
import { readImportFile, badRowsCsv, templateCsv, type ImportPreview } from "@/lib/import/read";
import { accountDirectory } from "@/lib/import/rows";
import { escapeCell, unescapeCell } from "@/lib/import/csv";
import { readScheduledAt } from "@/lib/time/wall-time";

const ALICE = "aaaaaaaa-0000-4000-8000-000000000001";
const BOB = "bbbbbbbb-0000-4000-8000-000000000002";
const accounts = accountDirectory([
  { id: ALICE, platform: "sandbox", handle: "alice" },
  { id: BOB, platform: "sandbox", handle: "bob" },
]);

// The fixtures' times are in 2026: judged by a clock before them, so none is "in the past".
const NOW = Date.parse("2026-01-01T00:00:00Z");

const read = (name: string, timeZone = "America/New_York") =>
  readImportFile(new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url))), { fileName: name, accounts, timeZone, now: NOW });

/** Each bad row's issues as "row|column|message". */
const problems = (p: ImportPreview) => p.bad.flatMap((b) => b.issues.map((i) => `${i.row}|${i.column}|${i.message}`));
const COLUMNS = "text, accounts, scheduled_at, timezone, media_urls, first_comment, destination, priority";
const SAVE_AS = "In your spreadsheet choose Save As (or Download) › CSV UTF-8, and upload that file.";

describe("encodings", () => {
  const expected = [
    { text: "Café crème ☕", accountIds: [ALICE], scheduledFor: "2026-12-01T08:30:00.000Z" },
    { text: "Second post", accountIds: [BOB] },
  ];
  it.each([
    ["utf8-bom.csv", "utf-8"],
    ["utf8-no-bom.csv", "utf-8"],
    ["utf16le-bom.csv", "utf-16le"],
    ["utf16be-bom.csv", "utf-16be"],
  ])("reads %s as %s, byte order mark removed, without a notice", async (name, encoding) => {
    const p = await read(name);
    expect(p.encoding).toBe(encoding);
    expect(p.notices).toEqual([]);
    expect(p.fileIssues).toEqual([]);
    expect(p.header).toEqual(["text", "accounts", "scheduled_at", "timezone"]);
    expect(p.good.map((g) => g.post)).toEqual(expected);
  });

  it("falls back to Windows-1252 with a notice, € and – included", async () => {
    const p = await read("windows-1252.csv");
    expect(p.encoding).toBe("windows-1252");
    expect(p.notices).toEqual([
      `This file is not UTF-8, so Pacer read it as Windows-1252 (Western European). If accented letters or emoji look wrong below, in your spreadsheet choose Save As (or Download) › CSV UTF-8, and upload that file.`,
    ]);
    expect(p.good.map((g) => g.post.text)).toEqual(["Café crème – 5 €"]);
  });

  it("refuses UTF-16 without a byte order mark, and workbooks", async () => {
    expect((await read("utf16le-no-bom.csv")).fileIssues).toEqual([
      `This file contains NUL bytes, so it is not a UTF-8 or Windows-1252 CSV (UTF-16 without a byte order mark, or not text). ${SAVE_AS}`,
    ]);
    expect((await read("workbook.xlsx.csv")).fileIssues).toEqual([`This is a spreadsheet workbook (.xlsx or .ods), not a CSV file. ${SAVE_AS}`]);
  });
});

describe("delimiters, quoting and blank files", () => {
  it("detects ; and keeps a quoted ; and , inside a cell", async () => {
    const p = await read("semicolon.csv");
    expect(p.delimiter).toBe(";");
    expect(p.notices).toEqual(["Cells are separated by semicolons (;), as spreadsheets in many European languages save CSV."]);
    expect(p.good.map((g) => g.post)).toEqual([{ text: "Prices: 1,50 €; 2,00 €", accountIds: [ALICE], priority: 7 }]);
  });

  it("keeps newlines and doubled quotes inside a quoted cell, and numbers rows as a spreadsheet does", async () => {
    const p = await read("quoted-newlines.csv");
    expect(p.good.map((g) => [g.row.rowNumber, g.post.text])).toEqual([
      [2, 'Line one\r\nline two, with a comma\r\n"quoted" line three'],
      [3, "Next row"],
    ]);
  });

  it.each(["empty.csv", "blank-lines.csv"])("says %s is empty and what to put in it", async (name) => {
    expect((await read(name)).fileIssues).toEqual([
      `The file is empty. Add a header row (${COLUMNS}) and one row per post; the template shows how.`,
    ]);
  });

  it("says a header without rows has no posts", async () => {
    expect((await read("header-only.csv")).fileIssues).toEqual(["The file has a header row but no posts; add one row per post below it."]);
  });

  it("refuses a quoted cell that is never closed, naming the row it starts in", async () => {
    expect((await read("unclosed-quote.csv")).fileIssues).toEqual([
      'A quoted cell that starts in row 3 is never closed, so the rest of the file would be read into it. Close it with ", and write a " inside a cell as "".',
    ]);
  });

  it("reports a row with more cells than the header", async () => {
    expect(problems(await read("too-many-cells.csv"))).toEqual([
      "2|row|This row has 3 cells but the header has 2 columns; put a cell that contains , in double quotes.",
      '2|accounts|"world" is neither an account id nor platform:handle (e.g. sandbox:pacer_app).',
    ]);
  });
});

describe("the header row", () => {
  it("names a missing required column and what to put in it", async () => {
    expect((await read("missing-columns.csv")).fileIssues).toEqual([
      "The header row has no accounts column; add one with the accounts to post to: account ids or platform:handle (e.g. sandbox:pacer_app), separated by | (required).",
    ]);
  });

  it("reports unknown columns (suggesting a near name) instead of ignoring them; an empty trailing column is no problem", async () => {
    expect((await read("extra-columns.csv")).fileIssues).toEqual([
      `Column C "sheduled_at" is not a column Pacer knows (did you mean scheduled_at?); rename or remove it. Columns: ${COLUMNS}.`,
      `Column D "notes" is not a column Pacer knows; rename or remove it. Columns: ${COLUMNS}.`,
    ]);
  });

  it("reports a column given twice, whatever its case", async () => {
    expect((await read("repeated-column.csv")).fileIssues).toEqual(["Column C repeats text (already column A); keep one of them."]);
  });

  it("refuses 10,001 rows, naming the limit", async () => {
    const p = await read("too-many-rows.csv");
    expect(p.rowsInFile).toBe(10_001);
    expect(p.fileIssues).toEqual(["This file has 10,001 rows of posts; Pacer imports at most 10,000 per file. Split it into files of 10,000 rows or fewer."]);
    expect(p.good).toEqual([]);
  });
});

describe("dates and zones", () => {
  it("reports each bad date or zone and reads the good ones in the right zone", async () => {
    const p = await read("bad-dates.csv");
    const examples = "e.g. 2026-12-01 09:30 (read in the row's timezone, or yours) or 2026-12-01T09:30:00+01:00";
    expect(problems(p)).toEqual([
      `2|scheduled_at|"2026-12-01" has no time of day; add one, ${examples}.`,
      `3|scheduled_at|"12/01/2026 09:30" is not a time Pacer can read; write it as year-month-day hour:minute, ${examples}.`,
      '4|scheduled_at|"2026-02-30 10:00" is not a real date and time; write one like 2026-12-01 09:30 or 2026-12-01T09:30:00+01:00.',
      '5|scheduled_at|"2026-13-01T09:30:00Z" is not a real date and time; write one like 2026-12-01 09:30 or 2026-12-01T09:30:00+01:00.',
      '6|timezone|"Mars/Olympus_Mons" is not an IANA time zone; write one like Europe/Paris, America/New_York or UTC.',
      '7|timezone|"+01:00" is not an IANA time zone; write one like Europe/Paris, America/New_York or UTC.',
      "8|scheduled_at|2026-03-29 02:30 does not exist in Europe/Paris (the clocks skip that hour); choose another time or give an offset.",
    ]);
    expect(p.good.map((g) => [g.row.rowNumber, g.post.scheduledFor])).toEqual([
      [9, "2026-11-01T05:30:00.000Z"], // 01:30 happens twice in New York that night: the first (EDT)
      [10, "2026-12-01T04:00:00.000Z"], // the offset wins over the timezone column
      [11, "2026-07-01T16:00:00.000Z"], // no timezone: the user's (New York, EDT in July)
    ]);
  });

  it("reads a local time in the user's zone when the row has none", () => {
    expect(readScheduledAt("2026-12-01 09:30", "Asia/Tokyo")).toEqual({ ok: true, instant: "2026-12-01T00:30:00.000Z" });
    expect(readScheduledAt("", "Asia/Tokyo")).toEqual({ ok: true, instant: null });
  });
});

describe("accounts and the bulk-post rules", () => {
  it("resolves ids and platform:handle in the workspace and reports each unknown one per row", async () => {
    const p = await read("unknown-accounts.csv");
    expect(problems(p)).toEqual([
      "2|accounts|There is no sandbox account @nobody in this workspace.",
      "3|accounts|There is no mastodon account @alice in this workspace.",
      '4|accounts|"alice" is neither an account id nor platform:handle (e.g. sandbox:pacer_app).',
      "5|accounts|There is no account with id 00000000-0000-4000-8000-000000000000 in this workspace.",
      "6|accounts|Name at least one account: its id or platform:handle (e.g. sandbox:pacer_app); separate several with |.",
      '7|accounts|"SANDBOX:@Alice": This account is already listed.',
    ]);
    expect(p.good.map((g) => [g.row.rowNumber, g.post.accountIds])).toEqual([[8, [ALICE, BOB]]]);
  });

  it("applies bulk-post's rules with its messages, by column", async () => {
    const p = await read("rules.csv");
    expect(problems(p)).toEqual([
      "2|text|Write the post's text.",
      "3|priority|Priority is a whole number from 1 (lowest) to 10 (highest).",
      "4|priority|Priority is a whole number from 1 (lowest) to 10 (highest).",
      "5|priority|Priority is a whole number from 1 (lowest) to 10 (highest).",
    ]);
    expect(p.good.map((g) => g.post)).toEqual([
      {
        text: "All good",
        accountIds: [ALICE, BOB],
        priority: 10,
        mediaUrls: ["https://cdn.example.com/a.jpg"],
        destination: "r/pacer",
        firstComment: "First!",
      },
    ]);
  });
});

describe("formula cells", () => {
  it("imports cells beginning with = + - @ as text, and takes off the ' Pacer puts before them (only there)", async () => {
    const p = await read("formula-cells.csv");
    expect(p.good.map((g) => g.post.text)).toEqual([
      '=HYPERLINK("https://evil.example")',
      "+1 for the team",
      "-30% today",
      "@everyone hello",
      "-30% escaped by Pacer",
      "'Tis the season",
    ]);
    expect(problems(p)).toEqual([
      '8|media_urls|"http://cdn.example.com/a.jpg": Each media URL must start with https:// (http and other schemes are refused).',
    ]);
  });

  it("escapes every cell of the bad-rows file that a spreadsheet could run, and a fixed file reads back the same", async () => {
    const p = await read("formula-cells.csv");
    const bad = badRowsCsv(p);
    expect(bad.startsWith("\uFEFF")).toBe(true);
    const rows = Papa.parse<string[]>(bad.slice(1), { skipEmptyLines: true }).data;
    expect(rows).toEqual([
      ["text", "accounts", "media_urls", "problems"],
      [
        "Photo",
        "sandbox:alice",
        "http://cdn.example.com/a.jpg|https://cdn.example.com/b.jpg",
        'media_urls: "http://cdn.example.com/a.jpg": Each media URL must start with https:// (http and other schemes are refused).',
      ],
    ]);
    // Uploaded as it is, the problems column is Pacer's own and ignored; the row is checked again.
    const again = await readImportFile(new TextEncoder().encode(bad), { fileName: "bad.csv", accounts, timeZone: "UTC", now: NOW });
    expect(again.fileIssues).toEqual([]);
    expect(problems(again)).toEqual([
      '2|media_urls|"http://cdn.example.com/a.jpg": Each media URL must start with https:// (http and other schemes are refused).',
    ]);
    for (const cell of ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"]) {
      expect(escapeCell(cell)).toBe(`'${cell}`);
      expect(unescapeCell(escapeCell(cell))).toBe(cell);
    }
    expect(escapeCell("Hello")).toBe("Hello");
    expect(unescapeCell("'Hello")).toBe("'Hello");
  });

  it("writes a template every spreadsheet opens as text, which imports as it is", async () => {
    const template = templateCsv("sandbox:alice", Date.parse("2026-11-30T12:00:00Z"));
    const p = await readImportFile(new TextEncoder().encode(template), { fileName: "template.csv", accounts, timeZone: "UTC", now: Date.parse("2026-11-30T12:00:00Z") });
    expect(p.fileIssues).toEqual([]);
    expect(p.bad).toEqual([]);
    expect(p.good.map((g) => g.post.scheduledFor)).toEqual(["2026-12-01T08:30:00.000Z", "2026-12-02T18:00:00.000Z"]);
    expect(p.header).toEqual(["text", "accounts", "scheduled_at", "timezone", "media_urls", "first_comment", "destination", "priority"]);
  });
});

describe("a large file", () => {
  it("reads 10,000 rows, pausing between chunks and reporting progress", async () => {
    const text = "text,accounts\n" + Array.from({ length: 10_000 }, (_, i) => `Post ${i},sandbox:bob`).join("\n");
    let pauses = 0;
    const progress: number[] = [];
    const p = await readImportFile(new TextEncoder().encode(text), {
      fileName: "big.csv",
      accounts,
      timeZone: "UTC",
      pause: async () => {
        pauses++;
      },
      onProgress: (done) => progress.push(done),
    });
    expect(p.good).toHaveLength(10_000);
    expect(p.good[9_999].row.rowNumber).toBe(10_001);
    expect(pauses).toBeGreaterThanOrEqual(19);
    expect(progress.at(-1)).toBe(10_000);
  });
});
