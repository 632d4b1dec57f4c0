// A row's fingerprint is the post it makes, not the way the file spells it: the same post written
// differently has one fingerprint, any change to what would be published gives another.
import { describe, expect, it } from "vitest";
import { rowFingerprint } from "@/lib/import/fingerprint";
import { accountDirectory, checkRow, type ImportRow } from "@/lib/import/rows";

const A = "aaaaaaaa-0000-4000-8000-000000000001";
const B = "bbbbbbbb-0000-4000-8000-000000000002";
const ctx = {
  accounts: accountDirectory([
    { id: A, platform: "sandbox", handle: "alice" },
    { id: B, platform: "sandbox", handle: "bob" },
  ]),
  timeZone: "Europe/Paris",
};
const base: ImportRow = { rowNumber: 2, text: "Hello", accounts: "sandbox:alice|sandbox:bob", scheduled_at: "2030-07-01 09:30" };

async function fingerprint(row: ImportRow) {
  const checked = checkRow(row, ctx);
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
  return rowFingerprint(checked.post);
}

describe("a row's fingerprint", () => {
  it("is the same for the same post written another way", async () => {
    const f = await fingerprint(base);
    expect(f).toMatch(/^[0-9a-f]{64}$/);
    expect(await fingerprint({ ...base, accounts: `${B.toUpperCase()} | @Alice`.replace("@Alice", "sandbox:@Alice") })).toBe(f);
    expect(await fingerprint({ ...base, scheduled_at: "2030-07-01T07:30:00Z" })).toBe(f);
    expect(await fingerprint({ ...base, priority: "5" })).toBe(f);
    expect(await fingerprint({ ...base, rowNumber: 3 })).toBe(f);
  });

  it("changes with anything that would be published differently", async () => {
    const f = await fingerprint(base);
    const variants: Partial<ImportRow>[] = [
      { text: "Hello!" },
      { accounts: "sandbox:alice" },
      { scheduled_at: "2030-07-01 09:31" },
      { scheduled_at: "" },
      { media_urls: "https://cdn.example.com/a.jpg" },
      { first_comment: "More soon" },
      { destination: "r/pacer" },
      { priority: "6" },
    ];
    const others = await Promise.all(variants.map((v) => fingerprint({ ...base, ...v })));
    expect(new Set([f, ...others]).size).toBe(variants.length + 1);
  });
});
