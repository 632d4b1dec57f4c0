// Calling Pacer's HTTP API from the browser: a failed call throws an ApiError carrying the API's own
// code and message (a page can explain `operators_only` or `forbidden` instead of failing); changes
// send JSON from this origin.

/** A failed call: the API's code and message, and its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The fields the API named, where it named any (validation and connect refusals). */
    readonly issues?: Array<{ path: string; message: string }>,
  ) {
    super(message);
  }
}

async function answer<T>(response: Response, what: string): Promise<T> {
  if (response.status === 204) return undefined as T;
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(
      response.status,
      body?.error?.code ?? "unexpected",
      body?.error?.message ?? `${what} failed with status ${response.status}.`,
      Array.isArray(body?.error?.issues) ? body.error.issues : undefined,
    );
  }
  return body as T;
}

export async function getJson<T>(url: string): Promise<T> {
  return answer<T>(await fetch(url, { cache: "no-store" }), `Loading ${url}`);
}

/** POST, PUT, PATCH or DELETE with a JSON body; the browser adds the same-origin Origin the API asks for. */
export async function sendJson<T>(method: "POST" | "PUT" | "PATCH" | "DELETE", url: string, body: unknown = {}): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    cache: "no-store",
  });
  return answer<T>(response, `${method} ${url}`);
}

/** What a failed change says to the person who made it. */
export function failureMessage(error: unknown): string {
  return error instanceof Error ? error.message : "Pacer could not do that just now. Try again in a moment.";
}
