// The page's sender (components/import/send.ts) against a scripted server: chunks in order, a 429
// waited out, rows the server refuses moved to the bad ones and the rest sent again, a network
// failure retried with the same import id and rows, so nothing is lost and nothing queued twice.
import { afterEach, describe, expect, it, vi } from "vitest";
import { sendImport, type ImportProgress } from "@/components/import/send";
import { readImportFile } from "@/lib/import/read";
import { accountDirectory } from "@/lib/import/rows";

const ALICE = "aaaaaaaa-0000-4000-8000-000000000001";
afterEach(() => vi.unstubAllGlobals());

async function previewOf(rows: number) {
  const text = "text,accounts\n" + Array.from({ length: rows }, (_, i) => `Post ${i},sandbox:alice`).join("\n");
  return readImportFile(new TextEncoder().encode(text), {
    fileName: "posts.csv",
    accounts: accountDirectory([{ id: ALICE, platform: "sandbox", handle: "alice" }]),
    timeZone: "UTC",
  });
}

const reply = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const ok = (rows: number) => reply(201, { imported: rows, alreadyImported: 0, changed: [], posts: rows, items: rows });

describe("sending an import", () => {
  it("waits out a 429, resends a chunk without the rows the server refused, and retries a network failure", async () => {
    const preview = await previewOf(2_003);
    const sent: Array<{ chunkIndex: number; rows: number[]; importId: string; rowsBad: number }> = [];
    const script: Array<(rows: number) => Response | Error> = [
      () => reply(429, { error: { code: "rate_limited", message: "Too many requests" } }, { "retry-after": "1" }),
      (n) => ok(n),
      () => reply(400, { error: { code: "validation_failed", message: "1 of 3 rows…", issues: [{ path: "rows.1.accounts", message: "There is no account with id x in this workspace." }] } }),
      () => new Error("connection reset"),
      (n) => ok(n),
    ];
    vi.stubGlobal("fetch", async (_url: string, init: RequestInit) => {
      const body = JSON.parse(String(init.body));
      sent.push({ chunkIndex: body.chunkIndex, rows: body.rows.map((r: { rowNumber: number }) => r.rowNumber), importId: body.importId, rowsBad: body.rowsBad });
      const next = script.shift()!(body.rows.length);
      if (next instanceof Error) throw next;
      return next;
    });
    const progress: ImportProgress[] = [];
    const summary = await sendImport(preview, { importId: "11111111-1111-4111-8111-111111111111", timeZone: "UTC", onProgress: (p) => progress.push(p) });

    expect(sent.map((s) => [s.chunkIndex, s.rows.length, s.rows[0]])).toEqual([
      [0, 2_000, 2],
      [0, 2_000, 2],
      [1, 3, 2_002],
      [1, 2, 2_002],
      [1, 2, 2_002],
    ]);
    expect(sent[3].rows).toEqual([2_002, 2_004]);
    expect(new Set(sent.map((s) => s.importId))).toEqual(new Set(["11111111-1111-4111-8111-111111111111"]));
    expect(sent[3].rowsBad).toBe(1);
    expect(summary).toMatchObject({ imported: 2_002, alreadyImported: 0, posts: 2_002, items: 2_002, stoppedBy: null });
    expect(summary.refused.map((r) => [r.row.rowNumber, r.issues])).toEqual([
      [2_003, [{ row: 2_003, column: "accounts", message: "There is no account with id x in this workspace." }]],
    ]);
    expect(progress.at(-1)).toEqual({ done: 2_003, total: 2_003, waitingSeconds: null });
    expect(progress.some((p) => p.waitingSeconds === 1)).toBe(true);
  });

  it("keeps the rows the server did not import because they changed since an earlier upload, with why", async () => {
    const preview = await previewOf(3);
    const message = "Row 3 changed since it was imported on 2026-12-01 10:40 UTC; it was not imported again.";
    vi.stubGlobal("fetch", async () =>
      reply(200, { imported: 0, alreadyImported: 2, changed: [{ rowNumber: 3, importedAt: "2026-12-01T10:40:00.000Z", message }], posts: 0, items: 0 }),
    );
    const summary = await sendImport(preview, { importId: "11111111-1111-4111-8111-111111111111", timeZone: "UTC", onProgress: () => {} });
    expect(summary).toMatchObject({ imported: 0, alreadyImported: 2, refused: [], stoppedBy: null });
    expect(summary.changed.map((r) => [r.row.rowNumber, r.row.text, r.issues])).toEqual([[3, "Post 1", [{ row: 3, column: "row", message }]]]);
  });

  it("stops on a refusal it cannot work around, saying why", async () => {
    const preview = await previewOf(2);
    vi.stubGlobal("fetch", async () => reply(403, { error: { code: "plan_feature_unavailable", message: "Bulk import is not part of the Free plan." } }));
    const summary = await sendImport(preview, { importId: "11111111-1111-4111-8111-111111111111", timeZone: "UTC", onProgress: () => {} });
    expect(summary).toMatchObject({ imported: 0, stoppedBy: "Bulk import is not part of the Free plan." });
  });
});
