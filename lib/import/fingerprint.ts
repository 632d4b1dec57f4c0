// A row's fingerprint: the SHA-256 of the post it makes (text, accounts, time, media, first comment,
// destination, priority), not of how the file spells it. Together with the file's name and the row's
// number it says whether a row was imported before (lib/import/index.ts); the page computes the same
// for its preview's check. Pure and isomorphic (Web Crypto).
import type { BulkRow } from "@/lib/queue/input";

export type FingerprintedPost = Pick<BulkRow, "text" | "mediaUrls" | "firstComment" | "destination" | "priority" | "scheduledFor"> & {
  accountIds: string[];
};

export async function rowFingerprint(post: FingerprintedPost): Promise<string> {
  const canonical = JSON.stringify([
    post.text,
    // One post per account, whatever the order they are listed in or how they are named.
    [...post.accountIds].map((id) => id.toLowerCase()).sort(),
    post.scheduledFor ? new Date(post.scheduledFor).toISOString() : null,
    post.mediaUrls ?? [],
    post.firstComment ?? null,
    post.destination ?? null,
    post.priority ?? 5,
  ]);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical)));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}
