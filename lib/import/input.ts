// What POST /api/queue/import accepts, as zod schemas the route and the page share. The rows carry
// the file's cells as text; lib/import/rows.ts turns each into a post with the bulk-post rules.
import { z } from "zod";
import { ifPast, storable } from "@/lib/queue/input";
import { IMPORT_COLUMNS, MAX_IMPORT_ROWS } from "./columns";
import { isTimeZone } from "@/lib/time/wall-time";

/**
 * Rows per request. Five requests carry a full 10,000-row file, half the `bulk` limit of 10 a minute
 * (lib/api/limits.ts), leaving room for retries; the page also keeps each request under
 * IMPORT_CHUNK_BYTES, inside bulk's 5 MB body limit (lib/api/body.ts), however long the posts.
 */
export const IMPORT_CHUNK_ROWS = 2_000;
export const IMPORT_CHUNK_BYTES = 4 * 1024 * 1024;

const cell = z.string("Each cell must be text.");

export const importRowInput = z.strictObject({
  rowNumber: z
    .int("rowNumber is the row's number in the file (the header is row 1).")
    .min(2, "rowNumber is at least 2: the header is row 1.")
    .max(MAX_IMPORT_ROWS + 1, `rowNumber is at most ${MAX_IMPORT_ROWS + 1}: a file holds at most ${MAX_IMPORT_ROWS.toLocaleString("en")} posts.`),
  ...(Object.fromEntries(IMPORT_COLUMNS.map((c) => [c, cell.optional()])) as Record<(typeof IMPORT_COLUMNS)[number], z.ZodOptional<z.ZodString>>),
});

export const importInput = z.strictObject({
  importId: z.uuid("importId must be a UUID, the same for every request of one file."),
  chunkIndex: z.int("chunkIndex must be a whole number (0 for the first request).").min(0, "chunkIndex is 0 or more."),
  fileName: z
    .string("fileName must be the file's name.")
    .trim()
    .min(1, "fileName must be the file's name.")
    .max(255, "fileName has at most 255 characters.")
    .refine(storable, "fileName may not contain NUL characters or broken Unicode."),
  rowsInFile: z.int("rowsInFile must be the number of posts in the file.").min(1, "rowsInFile is at least 1.").max(MAX_IMPORT_ROWS, `A file holds at most ${MAX_IMPORT_ROWS.toLocaleString("en")} posts.`),
  rowsBad: z.int("rowsBad must be the number of rows left out as bad.").min(0, "rowsBad is 0 or more.").max(MAX_IMPORT_ROWS, `rowsBad is at most ${MAX_IMPORT_ROWS.toLocaleString("en")}.`).default(0),
  timeZone: z
    .string("timeZone must be an IANA time zone, e.g. Europe/Paris.")
    .refine(isTimeZone, "timeZone must be an IANA time zone, e.g. Europe/Paris or UTC.")
    .default("UTC"),
  /** Rows scheduled more than 5 minutes ago: bad rows ("refuse", the default) or published at once. */
  ifPast: ifPast.optional(),
  rows: z
    .array(importRowInput, "rows must be a list of rows.")
    .min(1, "Send at least one row.")
    .max(IMPORT_CHUNK_ROWS, `Send at most ${IMPORT_CHUNK_ROWS.toLocaleString("en")} rows per request; split the file into chunks.`)
    .superRefine((rows, ctx) => {
      const seen = new Set<number>();
      rows.forEach((r, i) => {
        if (seen.has(r.rowNumber)) ctx.addIssue({ code: "custom", path: [i, "rowNumber"], message: `Row ${r.rowNumber} is sent twice in this request.` });
        seen.add(r.rowNumber);
      });
    }),
  workspaceId: z.uuid("workspaceId must be a workspace id (a UUID).").nullish(),
});

/** The preview's question: which of these rows of a file (number and fingerprint) are queued already? */
export const importCheckInput = z.strictObject({
  fileName: importInput.shape.fileName,
  rows: z
    .array(
      z.strictObject({
        rowNumber: importRowInput.shape.rowNumber,
        fingerprint: z.string().regex(/^[0-9a-f]{64}$/, "fingerprint is the row's SHA-256 in hex (lib/import/fingerprint.ts)."),
      }),
      "rows must be a list of { rowNumber, fingerprint }.",
    )
    .min(1, "Send at least one row.")
    .max(MAX_IMPORT_ROWS, `A file holds at most ${MAX_IMPORT_ROWS.toLocaleString("en")} posts.`),
  timeZone: importInput.shape.timeZone,
  workspaceId: z.uuid("workspaceId must be a workspace id (a UUID).").nullish(),
});

export const importListInput = z.object({
  workspaceId: z.uuid("workspaceId must be a workspace id (a UUID).").nullish(),
  importId: z.uuid("importId must be a UUID.").optional(),
});

export type ImportChunkInput = z.input<typeof importInput>;
export type ImportCheckInput = z.input<typeof importCheckInput>;

/** What one request did. */
export interface ImportChunkResult {
  importId: string;
  chunkIndex: number;
  /** Rows of this request queued now. */
  imported: number;
  /**
   * Rows of this request queued before: by an earlier request of this import (a retry), or the same
   * row, unchanged, of a file of the same name (the file uploaded again, corrected or not).
   */
  alreadyImported: number;
  /** Rows not queued because they changed since an earlier upload of this file queued them. */
  changed: ChangedRow[];
  /**
   * Rows of this request sent for approval instead of queued: an editor's import while the
   * workspace's posts need approval (one submission per row, on the Approvals page). Not counted in `imported`.
   */
  awaitingApproval: number;
  posts: number;
  items: number;
  import: ImportRecord;
}

/** A row whose earlier version, at the same row of a file of the same name, is queued already. */
export interface ChangedRow {
  rowNumber: number;
  /** When its earlier version was imported. */
  importedAt: string;
  message: string;
}

/** What the preview's check found: rows of the file queued already, and rows changed since. */
export interface ImportCheckResult {
  alreadyImported: number;
  /** When the first of those rows was imported (null when none was). */
  importedAt: string | null;
  changed: ChangedRow[];
}

/** An import as the app shows it. */
export interface ImportRecord {
  id: string;
  workspaceId: string;
  fileName: string;
  rowsInFile: number;
  rowsImported: number;
  rowsBad: number;
  rowsRepeated: number;
  /** Rows not imported because they changed since an earlier upload of the file (counted each time sent). */
  rowsChanged: number;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Whether this workspace may import, and the plan that would let it. */
export interface ImportAccess {
  workspaceId: string;
  planName: string;
  /** The cheapest plan that includes bulk import ("Starter"). */
  includedFrom: string;
  planIncludesImport: boolean;
  /** The user's role allows queueing posts (editors and up). */
  canImport: boolean;
  /** The user's rows wait for approval, one submission per row (an editor, while the workspace asks for it). */
  rowsWaitForApproval: boolean;
  imports: ImportRecord[];
}
