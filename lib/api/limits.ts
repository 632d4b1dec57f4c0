// Pacer's own API limits: a per-user fixed window per bucket, counted in Postgres (so every server
// process shares it and a restart resets nothing). Every route declares its bucket; over the limit
// answers 429 with Retry-After. An API key has windows of its own, the same size as a person's.
import { asUserStatement, asWorker, db, integer, literal, type UserClaims } from "@/lib/db";
import { PacerError } from "./errors";

/**
 * Requests per user per window. Generous for people and for scripts that pace themselves, tight
 * enough that one runaway client cannot crowd out the database for everyone else.
 */
export const API_LIMITS = {
  /** Reading: queue status and items, accounts, usage, billing. A dashboard polling every second stays inside. */
  read: { limit: 600, windowSeconds: 60 },
  /** Changing one thing: add, cancel, retry; add, rename, remove an account. */
  write: { limit: 120, windowSeconds: 60 },
  /** bulk-post: each request may queue 10,000 items, so 100,000 a minute per user. */
  bulk: { limit: 10, windowSeconds: 60 },
  /** process: each run may hold a server process for ~10 s; the cron runs it every minute anyway. */
  process: { limit: 6, windowSeconds: 60 },
  /** checkout and portal: each calls Stripe, whose own limits are per account, not per user. */
  billing: { limit: 20, windowSeconds: 60 },
} as const;

export type ApiBucket = keyof typeof API_LIMITS;

/** Count one request against the user's bucket; says whether it is allowed and when the window reopens. */
export async function hitApiLimit(user: UserClaims, bucket: ApiBucket) {
  const { limit, windowSeconds } = API_LIMITS[bucket];
  // Its own transaction in one round trip: a request that fails later still counts. A key's is
  // counted as the server (its read requests run read-only as the user).
  const [row] = user.api_key
    ? await asWorker(
        db(),
        `select * from private.hit_api_key_rate_limit(${literal(user.api_key.id)}::uuid, ${literal(bucket)}, ${integer(limit)}, ${integer(windowSeconds)})`,
      )
    : await asUserStatement(user, `select * from private.hit_api_rate_limit(${literal(bucket)}, ${integer(limit)}, ${integer(windowSeconds)})`);
  return { allowed: row.allowed as boolean, limit, windowSeconds, retryAfterSeconds: row.retry_after_seconds as number };
}

/** Count one request against `bucket`; past the limit, a 429 PacerError carrying Retry-After. */
export async function enforceApiLimit(user: UserClaims, bucket: ApiBucket): Promise<void> {
  const hit = await hitApiLimit(user, bucket);
  if (hit.allowed) return;
  throw new PacerError(
    429,
    "rate_limited",
    `Too many requests: at most ${hit.limit} ${bucket} requests per ${hit.windowSeconds} seconds${user.api_key ? " for this API key" : ""}. ` +
      `Try again in ${hit.retryAfterSeconds} seconds.`,
    undefined,
    { "retry-after": String(hit.retryAfterSeconds) },
  );
}
