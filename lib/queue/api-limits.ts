// Pacer's own API limits for the queue routes: a per-user fixed window counted in Postgres (so every
// server process shares it and a restart resets nothing), answering 429 with Retry-After; and the
// cap on a request body's size.
import { asUser, type UserClaims } from "@/lib/db";
import { PacerError } from "@/lib/api/errors";
import { withUser } from "@/lib/api/handler";

/**
 * Requests per user per window. Generous for people and for scripts that pace themselves, tight
 * enough that one runaway client cannot crowd out the database for everyone else.
 */
export const API_LIMITS = {
  /** status and items: a dashboard polling both every second stays inside. */
  read: { limit: 600, windowSeconds: 60 },
  /** add, cancel, retry. */
  write: { limit: 120, windowSeconds: 60 },
  /** bulk-post: each request may queue 10,000 items, so 100,000 a minute per user. */
  bulk: { limit: 10, windowSeconds: 60 },
  /** process: each run may hold a server process for ~10 s; the cron runs it every minute anyway. */
  process: { limit: 6, windowSeconds: 60 },
} as const;

export type ApiBucket = keyof typeof API_LIMITS;

/**
 * The largest request body the queue routes read: 5 MB, about 10,000 rows of 300-character posts.
 * Next's proxy buffers bodies up to 10 MB, so this stays well inside what reaches a route intact.
 */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

/** Count one request against the user's bucket; says whether it is allowed and when the window reopens. */
export async function hitApiLimit(user: UserClaims, bucket: ApiBucket) {
  const { limit, windowSeconds } = API_LIMITS[bucket];
  // Its own transaction: a request that fails later still counts.
  const [row] = await asUser(
    user,
    (tx) => tx`select * from private.hit_api_rate_limit(${bucket}, ${limit}, ${windowSeconds})`,
  );
  return { allowed: row.allowed as boolean, limit, windowSeconds, retryAfterSeconds: row.retry_after_seconds as number };
}

/** withUser, counting each request against `bucket` first: over the limit answers 429 with Retry-After. */
export function withApiLimit<Ctx>(
  bucket: ApiBucket,
  handler: (request: Request, user: UserClaims, ctx: Ctx) => Promise<Response>,
) {
  return withUser<Ctx>(async (request, user, ctx) => {
    const hit = await hitApiLimit(user, bucket);
    if (!hit.allowed) {
      const error = new PacerError(
        429,
        "rate_limited",
        `Too many requests: at most ${hit.limit} ${bucket} requests per ${hit.windowSeconds} seconds. ` +
          `Try again in ${hit.retryAfterSeconds} seconds.`,
      );
      return Response.json(
        { error: error.toJSON() },
        { status: 429, headers: { "retry-after": String(hit.retryAfterSeconds) } },
      );
    }
    return handler(request, user, ctx);
  });
}

/**
 * Read a JSON body of at most `maxBytes`: 413 past it (without reading the rest), 400 when not JSON.
 * `Claimed` is only what the body claims to be: the lib/queue function it goes to validates it.
 */
export async function readJsonWithin<Claimed = unknown>(request: Request, maxBytes = MAX_BODY_BYTES): Promise<Claimed> {
  const tooLarge = () =>
    new PacerError(413, "payload_too_large", `The request body is larger than ${maxBytes / 1024 / 1024} MB; split it into smaller requests.`);
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
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
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {} as Claimed;
  try {
    return JSON.parse(text) as Claimed;
  } catch {
    throw new PacerError(400, "invalid_json", "The request body must be valid JSON (Content-Type: application/json).");
  }
}
