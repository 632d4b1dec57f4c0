// Sending a previewed file's good rows to POST /api/queue/import in chunks, one after another: a
// chunk the server refuses rows of is sent again without them, a 429 waits its Retry-After, a
// failure of the network or the server is retried (the import id makes every retry safe).
import type { IfPast } from "@/lib/time/schedule";
import { chunkRows } from "@/lib/import/chunks";
import type { ImportChunkResult } from "@/lib/import/input";
import type { BadRow, GoodRow, ImportPreview } from "@/lib/import/read";
import type { RowIssue } from "@/lib/import/rows";

export interface ImportProgress {
  /** Rows settled (imported, already imported or refused) so far. */
  done: number;
  total: number;
  /** Seconds until the next try, while waiting on Pacer's request limit or after a failure. */
  waitingSeconds: number | null;
}

export interface ImportSummary {
  imported: number;
  /** Rows sent for approval instead of queued (an editor's, while the workspace's posts need approval). */
  awaitingApproval: number;
  alreadyImported: number;
  posts: number;
  items: number;
  /** Rows the server refused although the preview found them good (an account removed meanwhile). */
  refused: BadRow[];
  /** Rows not imported because they changed since an earlier upload of this file queued them. */
  changed: BadRow[];
  /** Why the import stopped before the end, when it did. */
  stoppedBy: string | null;
}

const MAX_FAILURES = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function sendImport(
  preview: ImportPreview,
  options: { importId: string; timeZone: string; ifPast?: IfPast; onProgress: (p: ImportProgress) => void },
): Promise<ImportSummary> {
  const summary: ImportSummary = { imported: 0, awaitingApproval: 0, alreadyImported: 0, posts: 0, items: 0, refused: [], changed: [], stoppedBy: null };
  const total = preview.good.length;
  let done = 0;
  const report = (waitingSeconds: number | null = null) => options.onProgress({ done, total, waitingSeconds });
  const wait = async (seconds: number) => {
    for (let left = seconds; left > 0; left--) {
      report(left);
      await sleep(1000);
    }
  };
  report();

  const chunks = chunkRows(preview.good);
  for (let chunkIndex = 0; chunkIndex < chunks.length; chunkIndex++) {
    let rows: GoodRow[] = chunks[chunkIndex];
    let failures = 0;
    while (rows.length) {
      let response: Response | null = null;
      try {
        response = await fetch("/api/queue/import", {
          method: "POST",
          headers: { "content-type": "application/json" },
          cache: "no-store",
          body: JSON.stringify({
            importId: options.importId,
            chunkIndex,
            fileName: preview.fileName,
            rowsInFile: preview.rowsInFile,
            rowsBad: preview.bad.length + summary.refused.length,
            timeZone: options.timeZone,
            ...(options.ifPast ? { ifPast: options.ifPast } : {}),
            rows: rows.map((r) => r.row),
          }),
        });
      } catch {
        response = null;
      }
      if (response?.ok) {
        const result = (await response.json()) as ImportChunkResult;
        summary.imported += result.imported;
        summary.awaitingApproval += result.awaitingApproval ?? 0;
        summary.alreadyImported += result.alreadyImported;
        summary.posts += result.posts;
        summary.items += result.items;
        for (const c of result.changed ?? []) {
          const row = rows.find((r) => r.row.rowNumber === c.rowNumber);
          if (row) summary.changed.push({ row: row.row, cells: [], issues: [{ row: c.rowNumber, column: "row", message: c.message }] });
        }
        done += rows.length;
        report();
        break;
      }
      const body = response ? await response.json().catch(() => null) : null;
      const error = body?.error as { code?: string; message?: string; issues?: Array<{ path: string; message: string }> } | undefined;
      if (response?.status === 429) {
        await wait(Number(response.headers.get("retry-after")) || 10);
        continue;
      }
      const byIndex = new Map<number, RowIssue[]>();
      for (const issue of error?.issues ?? []) {
        const [, index, column] = issue.path.split(".");
        const row = rows[Number(index)];
        if (issue.path.startsWith("rows.") && row) {
          byIndex.set(Number(index), [...(byIndex.get(Number(index)) ?? []), { row: row.row.rowNumber, column: (column ?? "row") as RowIssue["column"], message: issue.message }]);
        }
      }
      if (response?.status === 400 && byIndex.size > 0) {
        // The other rows are good: send them again without the refused ones.
        for (const [index, issues] of byIndex) {
          const row = rows[index];
          summary.refused.push({ row: row.row, cells: [], issues });
        }
        done += byIndex.size;
        rows = rows.filter((_, i) => !byIndex.has(i));
        report();
        continue;
      }
      const retryable = response === null || response.status >= 500;
      if (retryable && ++failures < MAX_FAILURES) {
        await wait(2 ** failures);
        continue;
      }
      summary.stoppedBy = error?.message ?? "Pacer could not be reached. Check your connection and import the file again: rows already imported are not queued twice.";
      return summary;
    }
  }
  return summary;
}
