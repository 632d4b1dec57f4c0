// Turning a CSV file's bytes into text: UTF-8 with or without a byte order mark, UTF-16 with one,
// else Windows-1252 (what Excel on Windows writes for "CSV"), said in a notice.

export type ImportEncoding = "utf-8" | "utf-16le" | "utf-16be" | "windows-1252";

export type Decoded =
  | { ok: true; text: string; encoding: ImportEncoding; notice: string | null }
  | { ok: false; problem: string };

const SAVE_AS = "In your spreadsheet choose Save As (or Download) › CSV UTF-8, and upload that file.";

// Windows-1252's 0x80–0x9F (the rest is Latin-1). Written out because Node's TextDecoder reads that
// range as control characters, unlike browsers; both must read a file the same way.
const CP1252_HIGH = "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ";

function decodeWindows1252(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    const codes = Array.from(bytes.subarray(i, i + 8192), (b) => (b >= 0x80 && b <= 0x9f ? CP1252_HIGH.charCodeAt(b - 0x80) : b));
    text += String.fromCharCode(...codes);
  }
  return text;
}

export function decodeCsvBytes(bytes: Uint8Array): Decoded {
  const starts = (...prefix: number[]) => prefix.every((b, i) => bytes[i] === b);
  if (starts(0x50, 0x4b, 0x03, 0x04)) {
    return { ok: false, problem: `This is a spreadsheet workbook (.xlsx or .ods), not a CSV file. ${SAVE_AS}` };
  }
  let decoded: { text: string; encoding: ImportEncoding; notice: string | null };
  if (starts(0xef, 0xbb, 0xbf)) {
    decoded = { text: new TextDecoder("utf-8").decode(bytes.subarray(3)), encoding: "utf-8", notice: null };
  } else if (starts(0xff, 0xfe)) {
    decoded = { text: new TextDecoder("utf-16le").decode(bytes.subarray(2)), encoding: "utf-16le", notice: null };
  } else if (starts(0xfe, 0xff)) {
    decoded = { text: new TextDecoder("utf-16be").decode(bytes.subarray(2)), encoding: "utf-16be", notice: null };
  } else if (bytes.includes(0)) {
    // UTF-16 without a byte order mark, or a binary file: either way not something to guess at.
    return { ok: false, problem: `This file contains NUL bytes, so it is not a UTF-8 or Windows-1252 CSV (UTF-16 without a byte order mark, or not text). ${SAVE_AS}` };
  } else {
    try {
      decoded = { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), encoding: "utf-8", notice: null };
    } catch {
      decoded = {
        text: decodeWindows1252(bytes),
        encoding: "windows-1252",
        notice: `This file is not UTF-8, so Pacer read it as Windows-1252 (Western European). If accented letters or emoji look wrong below, ${SAVE_AS[0].toLowerCase()}${SAVE_AS.slice(1)}`,
      };
    }
  }
  if (decoded.text.includes("\u0000")) {
    return { ok: false, problem: `This file contains NUL characters, which a post cannot hold. ${SAVE_AS}` };
  }
  return { ok: true, ...decoded };
}
