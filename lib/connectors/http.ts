// Shared HTTP classification for every connector: turns a fetch result (status, headers, thrown
// error) into a PublishOutcome, so "timed out" is never mistaken for "failed" on any platform.
import { readCapped } from "./outbound.ts";
import type { PublishFailure } from "./types.ts";

/** The result of sending one request: a response to read, or an outcome already decided. */
export type Sent = { response: Response; outcome?: undefined } | { response?: undefined; outcome: PublishFailure };

/** Sends a request under the engine's per-call signal; any thrown error becomes an outcome. */
export async function send(
  fetchImpl: typeof fetch,
  url: string,
  init: RequestInit,
  signal: AbortSignal,
): Promise<Sent> {
  // Aborted before we called fetch: nothing left this process, so trying again later is safe.
  if (signal.aborted) return { outcome: { kind: "retryable", message: "not sent: the call's time budget ran out before sending" } };
  try {
    return { response: await fetchImpl(url, { ...init, signal }) };
  } catch (error) {
    return { outcome: classifyFetchError(error, signal) };
  }
}

/** Error codes that mean the connection was never made, so the request cannot have reached the platform. */
const NEVER_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND", // DNS: no such host
  "EAI_AGAIN", // DNS: temporary failure
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT", // undici gave up while connecting
]);

/** Classifies an error thrown by fetch. Unknown unless we can tell the request never left. */
export function classifyFetchError(error: unknown, signal?: AbortSignal): PublishFailure {
  const message = describeError(error);
  // Refused by the outbound guard before anything was sent; it will be refused again. The guard's
  // own words (the address a name resolved to, the PACER_ALLOWED_HOSTS hint) go to the server log
  // only: the outcome reaches the account's history, and the server may be one the account's owner
  // named (a DID document, a Mastodon instance), which would make Pacer a map of internal names.
  const blocked = guardSaid(error, "PACER_BLOCKED_DESTINATION");
  if (blocked) {
    console.warn(`connectors: ${blocked}`);
    return { kind: "permanent", message: "Pacer does not send requests to this platform server: it is not on the public internet (the server log says more)" };
  }
  const notSent = guardSaid(error, "PACER_NOT_SENT");
  if (notSent) {
    console.warn(`connectors: not sent: ${notSent}`);
    return { kind: "retryable", message: "not sent: the platform server's address could not be resolved in time" };
  }
  // The engine's deadline fired while the request may already be with the platform.
  if (signal?.aborted || isAbort(error)) return { kind: "unknown", message: `no answer in time: ${message}` };
  if (neverSent(error)) return { kind: "retryable", message: `not sent: ${message}` };
  return { kind: "unknown", message: `connection failed, the platform may have received it: ${message}` };
}

/** The outbound guard's error with this code, thrown directly or (Node's fetch) as the cause of "fetch failed". */
function guardSaid(error: unknown, code: string): string | null {
  for (let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 3; e = e.cause as typeof e, depth++) {
    if (e.code === code) return String(e.message);
  }
  return null;
}

function isAbort(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === "AbortError" || name === "TimeoutError";
}

function neverSent(error: unknown): boolean {
  // Node (undici): TypeError("fetch failed") with the socket error as `cause`; with happy-eyeballs
  // the cause is an AggregateError whose `errors` each carry a code.
  const cause = (error as { cause?: unknown } | null)?.cause as { code?: unknown; errors?: unknown[]; name?: unknown; message?: unknown } | undefined;
  const codes = [cause?.code, ...(Array.isArray(cause?.errors) ? cause.errors.map((e) => (e as { code?: unknown })?.code) : [])];
  if (codes.some((c) => typeof c === "string" && NEVER_SENT_CODES.has(c))) return true;
  if (cause?.name === "ConnectionRefused") return true; // Deno.errors.ConnectionRefused
  // Deno: TypeError("fetch failed") whose cause reads "error sending request …: client error (Connect):
  // tcp connect error: Connection refused" or "… dns error …": the Connect phase never sends the request.
  const text = `${error instanceof Error ? error.message : String(error)} ${typeof cause?.message === "string" ? cause.message : ""}`;
  return /client error \(Connect\)|tcp connect error|dns error|failed to lookup address/i.test(text);
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${error.message} (${detail})` : error.message;
}

/**
 * Classifies a non-2xx status the connector has no better reading of; null for 2xx (the caller
 * decides what success looks like). `detail` is the platform's own error text, for the message.
 */
export function classifyStatus(status: number, headers: Headers, detail = "", now = Date.now()): PublishFailure | null {
  if (status >= 200 && status < 300) return null;
  const message = detail ? `HTTP ${status}: ${detail}` : `HTTP ${status}`;
  // Pacer follows no redirect (a tenant could aim one inward). The platform may have stored the post
  // before redirecting (303 See Other after a create), so it is looked up, never assumed refused.
  if (status >= 300 && status < 400) return { kind: "unknown", message: `${message}: the platform answered with a redirect, which Pacer does not follow` };
  if (status === 429) return { kind: "rate_limited", retryAfterMs: rateLimitDelayMs(headers, now), message };
  if (status === 401) return { kind: "auth_expired", message };
  // The server says it did not process the request (timed out reading it, or too early to try).
  if (status === 408 || status === 425) return { kind: "retryable", message };
  // A gateway or the platform failed while the post may already be stored.
  if (status >= 500) return { kind: "unknown", message };
  return { kind: "permanent", message };
}

/**
 * How long a 429 asks us to wait, in ms, from the first header present:
 * Retry-After (RFC 9110: delay-seconds or an HTTP-date); x-rate-limit-reset (X: epoch seconds);
 * ratelimit-reset / x-ratelimit-reset (IETF draft: delta seconds; Bluesky: epoch seconds;
 * Mastodon: an ISO 8601 time). Null when none is readable.
 */
export function rateLimitDelayMs(headers: Headers, now = Date.now()): number | null {
  const retryAfter = parseRetryAfter(headers.get("retry-after"), now);
  if (retryAfter !== null) return Math.min(retryAfter, MAX_RATE_LIMIT_DELAY_MS);
  for (const name of ["x-rate-limit-reset", "ratelimit-reset", "x-ratelimit-reset"]) {
    const delay = parseResetHeader(headers.get(name), now);
    if (delay !== null) return Math.min(delay, MAX_RATE_LIMIT_DELAY_MS);
  }
  return null;
}

/** The longest wait a platform's rate-limit header can ask for; past it (or past any date) it is capped. */
export const MAX_RATE_LIMIT_DELAY_MS = 7 * 24 * 3600_000;

/** Retry-After as a delay in ms: delay-seconds, or an HTTP-date (a past date means 0). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Anything above this is an epoch-seconds timestamp, not a delay (it is 2001-09-09 as a date). */
const EPOCH_SECONDS_FLOOR = 1_000_000_000;

/** A rate-limit reset header as a delay in ms: epoch seconds, delta seconds, or an ISO/HTTP date. */
export function parseResetHeader(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const seconds = Number(trimmed);
    return seconds >= EPOCH_SECONDS_FLOOR ? Math.max(0, Math.ceil(seconds * 1000 - now)) : Math.ceil(seconds * 1000);
  }
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * A moment in epoch milliseconds as an ISO string, or undefined when no date can be built from it
 * (NaN, Infinity, past year 275760): a platform's reset header is read with this, so a bad one is
 * ignored instead of throwing the RangeError of Date#toISOString out of the connector.
 */
export function isoAt(epochMs: number): string | undefined {
  const date = new Date(epochMs);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The response body as JSON, or undefined when it is empty, not JSON (error pages, cut-off bodies) or over the read cap. */
export async function readJson(response: Response): Promise<unknown> {
  try {
    const text = await readCapped(response);
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
