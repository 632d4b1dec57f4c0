// How the page cuts a file's rows into requests, and names a file's import.
import { describe, expect, it } from "vitest";
import { chunkRows, importIdFor } from "@/lib/import/chunks";
import { IMPORT_CHUNK_ROWS } from "@/lib/import/input";

const row = (n: number, text = "x", accounts = 1) => ({ row: { rowNumber: n, text }, post: { accountIds: Array.from({ length: accounts }, (_, i) => `a${i}`) } });

describe("chunks", () => {
  it("cuts 10,000 rows into five requests of 2,000, in order", () => {
    const chunks = chunkRows(Array.from({ length: 10_000 }, (_, i) => row(i + 2)));
    expect(chunks.map((c) => c.length)).toEqual([2_000, 2_000, 2_000, 2_000, 2_000]);
    expect(chunks[4].at(-1)!.row.rowNumber).toBe(10_001);
    expect(IMPORT_CHUNK_ROWS).toBe(2_000);
  });

  it("cuts earlier when long posts would pass the byte budget or the items would pass 10,000", () => {
    const long = Array.from({ length: 10 }, (_, i) => row(i + 2, "é".repeat(10_000)));
    expect(chunkRows(long, 2_000, 50_000).map((c) => c.length)).toEqual([2, 2, 2, 2, 2]);
    const wide = Array.from({ length: 300 }, (_, i) => row(i + 2, "x", 100));
    expect(chunkRows(wide).map((c) => c.length)).toEqual([100, 100, 100]);
  });
});

describe("the import id", () => {
  it("is the same UUID for the same file in the same workspace, and another for another file or workspace", async () => {
    const file = new TextEncoder().encode("text,accounts\nHello,sandbox:a\n");
    const id = await importIdFor("ws-1", file);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await importIdFor("ws-1", file)).toBe(id);
    expect(await importIdFor("ws-2", file)).not.toBe(id);
    expect(await importIdFor("ws-1", new TextEncoder().encode("text,accounts\nHello!,sandbox:a\n"))).not.toBe(id);
  });
});
