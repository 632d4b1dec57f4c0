// Splitting a file's good rows into requests, and naming a file's import: pure, shared by the page
// and the tests.
import { MAX_BULK_ITEMS } from "@/lib/queue/input";
import { IMPORT_CHUNK_BYTES, IMPORT_CHUNK_ROWS } from "./input";
import type { ImportRow } from "./rows";

/**
 * Rows in order, cut into requests of at most `maxRows` rows, `maxBytes` of JSON and MAX_BULK_ITEMS
 * queue items (a row's item count is its number of accounts).
 */
export function chunkRows<T extends { row: ImportRow; post: { accountIds: string[] } }>(
  rows: T[],
  maxRows = IMPORT_CHUNK_ROWS,
  maxBytes = IMPORT_CHUNK_BYTES,
): T[][] {
  const encoder = new TextEncoder();
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  let items = 0;
  for (const r of rows) {
    const size = encoder.encode(JSON.stringify(r.row)).byteLength + 1;
    const count = r.post.accountIds.length;
    if (current.length > 0 && (current.length >= maxRows || bytes + size > maxBytes || items + count > MAX_BULK_ITEMS)) {
      chunks.push(current);
      current = [];
      bytes = 0;
      items = 0;
    }
    current.push(r);
    bytes += size;
    items += count;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/**
 * A file's import id: a UUID made from the workspace and the file's bytes (SHA-256), so uploading the
 * same file again — after a reload, a crash, a second click — names the same import and queues
 * nothing twice, while the same file in another workspace is an import of its own.
 */
export async function importIdFor(workspaceId: string, bytes: Uint8Array): Promise<string> {
  const prefix = new TextEncoder().encode(`pacer-import:${workspaceId}:`);
  const input = new Uint8Array(prefix.byteLength + bytes.byteLength);
  input.set(prefix);
  input.set(bytes, prefix.byteLength);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", input));
  // RFC 9562 version 8 (custom) and the RFC variant, so it is a well-formed UUID.
  hash[6] = (hash[6] & 0x0f) | 0x80;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = Array.from(hash.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
