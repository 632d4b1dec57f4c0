// Reading a request's JSON body without trusting its size: every route reads through here, with a cap.
import { PacerError } from "./errors";

/**
 * Caps by what a route accepts. Next's proxy buffers bodies up to 10 MB, so each stays well inside
 * what reaches a route intact.
 */
export const BODY_LIMITS = {
  /** Accounts, billing, cancel, retry, process: a few fields (cancel and retry: up to 10,000 ids). */
  default: 256 * 1024,
  /** bulk-post: about 10,000 rows of 300-character posts. */
  bulk: 5 * 1024 * 1024,
} as const;

const describe = (bytes: number) => (bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MB` : `${bytes / 1024} KB`);

/** The body as text, at most `maxBytes`: 413 past it, without reading the rest. */
export async function readText(request: Request, maxBytes: number = BODY_LIMITS.default): Promise<string> {
  const tooLarge = () =>
    new PacerError(413, "payload_too_large", `The request body is larger than ${describe(maxBytes)}; send less per request.`);
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) throw tooLarge();
  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Read a JSON body of at most `maxBytes`: 413 past it, 400 when not JSON; an empty body is `{}`.
 * `Claimed` is only what the body claims to be: the lib/ function it goes to validates it.
 */
export async function readJson<Claimed = unknown>(request: Request, maxBytes: number = BODY_LIMITS.default): Promise<Claimed> {
  const text = await readText(request, maxBytes);
  if (text.trim() === "") return {} as Claimed;
  try {
    return JSON.parse(text) as Claimed;
  } catch {
    throw new PacerError(400, "invalid_json", "The request body must be valid JSON (Content-Type: application/json).");
  }
}
