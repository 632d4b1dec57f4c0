// Errors users can act on: what was wrong, where (field paths), and the HTTP status that says so.
import { ZodError } from "zod";

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. "handle" or "accounts.3.platform". */
  path: string;
  message: string;
}

export class PacerError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly issues?: FieldIssue[],
    /** Headers the reply carries with it, e.g. Retry-After on a 429. */
    public readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "PacerError";
  }

  toJSON() {
    return { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}) };
  }
}

export const notFound = (what: string) =>
  new PacerError(404, "not_found", `${what} was not found, or you do not have access to it.`);

export const unauthorized = () =>
  new PacerError(401, "unauthorized", "Sign in, or send a valid access token as `Authorization: Bearer <token>`.");

export function validationFailed(error: ZodError, what = "The request"): PacerError {
  const issues = error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(body)", message: i.message }));
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  return new PacerError(400, "validation_failed", `${what} is not valid: ${summary}.`, issues);
}

/** Postgres errors that carry a user-facing meaning, turned into PacerErrors; anything else is rethrown. */
export function fromDatabaseError(error: unknown): never {
  const e = error as { code?: string; message?: string; detail?: string; hint?: string; constraint_name?: string };
  if (e?.code === "P0001" && e.detail?.startsWith("{")) {
    const detail = JSON.parse(e.detail) as { code?: string };
    if (detail.code) {
      throw new PacerError(409, detail.code, [e.message, e.hint].filter(Boolean).join(" "));
    }
  }
  // The database's "not found, or not yours": the same answer either way, so nothing leaks.
  if (e?.code === "P0002") {
    throw new PacerError(404, "not_found", e.message ?? "Not found, or you do not have access to it.");
  }
  if (e?.code === "42501") {
    throw new PacerError(403, "forbidden", "Your role in this workspace does not allow that.");
  }
  throw error;
}
