// Idempotency-Key on requests that create things, with Stripe's semantics: the first request with a
// key runs and its response is stored in the same transaction as what it created; a retry with the
// same key and body gets that response again (Idempotent-Replayed: true); the same key with another
// body is refused (422); while the first is still running, a retry is told so (409). Keys are per user
// and kept 24 hours (`private.idempotency_keys`, supabase/migrations/20261201000400_api_hardening.sql).
import { asUser, type Tx, type UserClaims } from "@/lib/db";
import { PacerError } from "./errors";

export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";
export const REPLAYED_HEADER = "idempotent-replayed";

/** What a request created, as its reply. */
export interface CreatedReply {
  status: number;
  body: unknown;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** JSON with object keys sorted at every level: the same body however its keys were ordered. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The request's Idempotency-Key, or null without one; 400 for one that cannot be a key. */
function idempotencyKeyOf(request: Request): string | null {
  const key = request.headers.get(IDEMPOTENCY_KEY_HEADER);
  if (key === null) return null;
  if (!KEY_PATTERN.test(key)) {
    throw new PacerError(
      400,
      "invalid_idempotency_key",
      "The Idempotency-Key header must be 1 to 255 visible ASCII characters (no spaces), e.g. a UUID.",
    );
  }
  return key;
}

/**
 * Reply to a request that creates things. Without an Idempotency-Key, `create` runs in its own
 * transaction. With one, `create` runs inside the transaction that records the key and its reply
 * (`create` must do all its writes in the `tx` it is given), at most once per user and key.
 * `name` says which request this is (e.g. "POST /api/queue/add"): a key is for one request only.
 */
export async function replyIdempotently(
  request: Request,
  user: UserClaims,
  name: string,
  body: unknown,
  create: (tx?: Tx) => Promise<CreatedReply>,
): Promise<Response> {
  const key = idempotencyKeyOf(request);
  if (key === null) {
    const created = await create();
    return Response.json(created.body, { status: created.status });
  }
  const hash = await sha256Hex(canonicalJson(body));
  // An API key acts as its maker but in one workspace only: its keys are its own, so it never replays
  // a response its maker's session (or another key) stored, maybe for another workspace.
  if (user.api_key) name = `${name} (API key ${user.api_key.id})`;

  const reply = await asUser(user, async (tx) => {
    // Held until this transaction ends: a retry arriving meanwhile is told, not queued behind it.
    const [lock] = await tx`
      select pg_try_advisory_xact_lock(hashtextextended(${`pacer:idempotency:${user.sub}:${key}`}, 0)) as got`;
    if (!lock.got) {
      throw new PacerError(
        409,
        "idempotency_key_in_use",
        "A request with this Idempotency-Key is still being processed. Retry in a moment to get its response.",
        undefined,
        { "retry-after": "1" },
      );
    }
    // A key older than 24 hours is forgotten, and may be used afresh.
    await tx`delete from private.idempotency_keys
             where user_id = (select auth.uid()) and key = ${key} and created_at < now() - interval '24 hours'`;
    const [stored] = await tx`
      select request, request_hash, response_status, response_body from private.idempotency_keys
      where user_id = (select auth.uid()) and key = ${key}`;
    if (stored) {
      if (stored.request !== name || stored.request_hash !== hash) {
        throw new PacerError(
          422,
          "idempotency_key_reused",
          `This Idempotency-Key was already used with ${stored.request === name ? "a different body" : `another request (${stored.request})`} ` +
            "in the last 24 hours. Send the same body to get the first response again, or use a new key for a new request.",
        );
      }
      return { status: stored.response_status as number, text: stored.response_body as string, replayed: true };
    }

    const created = await create(tx);
    const text = JSON.stringify(created.body);
    // Only what succeeded is kept: an error rolls back its writes and this row alike, so a retry runs afresh.
    await tx`insert into private.idempotency_keys (key, request, request_hash, response_status, response_body)
             values (${key}, ${name}, ${hash}, ${created.status}, ${text})`;
    await tx`select private.prune_idempotency_keys(100)`;
    return { status: created.status, text, replayed: false };
  });

  const headers: Record<string, string> = { "content-type": "application/json" };
  if (reply.replayed) headers[REPLAYED_HEADER] = "true";
  return new Response(reply.text, { status: reply.status, headers });
}
