// Sends due webhook deliveries from the worker (never from a request): fans the outbox's new events
// out to the subscribed endpoints, claims due deliveries with leases,
// signs each, sends it through the same outbound guard as the connectors (public addresses only,
// checked again at send time; no redirects), and records the answer, which sets the next attempt or
// gives up (private.record_webhook_attempts). Runtime-agnostic: Node (worker, tests) and Deno (Edge Function).
import type postgres from "postgres";
import { asWorker, integer, literal } from "../db/worker.ts";
import { decryptCredentials } from "../accounts/credentials.ts";
import { BlockedDestination, guardedFetch, parseAllowedHosts, type AllowedHosts } from "../connectors/outbound.ts";
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signatureHeader } from "./signature.ts";

export interface DeliverOptions {
  sql: postgres.Sql;
  /** Stop claiming after this long; deliveries in flight finish (each within timeoutMs). */
  budgetMs: number;
  /** The runtime's fetch (or a test's); it is wrapped in the outbound guard here. */
  fetch?: typeof fetch;
  /** PACER_ALLOWED_HOSTS: hosts the operator allows although internal (and over plain http). */
  allowedHosts?: AllowedHosts | string;
  /** How long a receiver has to answer. */
  timeoutMs?: number;
  /** Deliveries claimed per round, and sent at once. */
  batchSize?: number;
  /** How long a claimed delivery is this worker's (default LEASE_SECONDS); then another may send it. */
  leaseSeconds?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface DeliverSummary {
  claimed: number;
  delivered: number;
  /** Failed attempts that will be tried again. */
  retrying: number;
  /** Failed attempts past their 24 hours: given up. */
  gaveUp: number;
  ms: number;
}

export const WEBHOOK_TIMEOUT_MS = 10_000;
/** A lease outlives any attempt in flight (timeout plus signing and recording). */
const LEASE_SECONDS = 60;
/**
 * Room kept between an attempt's deadline and its lease's end. Once a lease ends another worker may
 * send the delivery again, and then the post's next event: a request of this worker leaving after
 * that would reach the receiver out of order, so none leaves later than this before the lease ends.
 */
const LEASE_SAFETY_MS = 1_000;
/** Outbox events turned into deliveries per round at most. */
const FAN_OUT_BATCH = 1000;
/** Events older than 30 days removed per run at most. */
const PRUNE_BATCH = 1000;
/** Of a receiver's reply only the status matters; its body is read no further than this. */
const MAX_REPLY_BYTES = 4096;

interface Claimed {
  id: string;
  lease_id: string;
  attempt: number;
  endpoint_id: string;
  url: string;
  secret_sealed: string;
  event_id: string;
  event_type: string;
  event_created_at: Date;
  workspace_id: string;
  data: unknown;
}

interface AttemptResult {
  id: string;
  lease_id: string;
  ok: boolean;
  response_status: number | null;
  response_ms: number;
  error: string | null;
}

/** The body a receiver gets: the same bytes on every attempt of an event. */
export function webhookBody(event: { id: string; type: string; createdAt: Date; workspaceId: string; data: unknown }): string {
  return JSON.stringify({ id: event.id, type: event.type, created_at: event.createdAt.toISOString(), workspace_id: event.workspaceId, data: event.data });
}

export async function deliverWebhooks(opts: DeliverOptions): Promise<DeliverSummary> {
  const started = Date.now();
  const allowed = typeof opts.allowedHosts === "string" || opts.allowedHosts === undefined ? parseAllowedHosts(opts.allowedHosts) : opts.allowedHosts;
  const runtimeFetch = opts.fetch ?? fetch;
  // Per attempt: the outbound guard (which may wait on DNS), then a last look at the wall clock.
  const sendBefore = (sendBy: number) =>
    guardedFetch(((input, init) => (Date.now() >= sendBy ? Promise.reject(new LeaseSpent()) : runtimeFetch(input, init))) as typeof fetch, allowed);
  const timeoutMs = opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const batchSize = opts.batchSize ?? 20;
  const summary: DeliverSummary = { claimed: 0, delivered: 0, retrying: 0, gaveUp: 0, ms: 0 };

  while (Date.now() - started < opts.budgetMs && !opts.signal?.aborted) {
    // The outbox's new events become deliveries first (the engine's transactions only write the events).
    await asWorker(opts.sql, `select private.fan_out_webhook_events(${integer(FAN_OUT_BATCH)})`);
    // Measured before asking: the database starts the lease later than this, never earlier.
    const leaseEndsAt = Date.now() + (opts.leaseSeconds ?? LEASE_SECONDS) * 1000;
    const claimed = (await asWorker(
      opts.sql,
      `select * from private.claim_webhook_deliveries(${integer(batchSize)}, ${integer(opts.leaseSeconds ?? LEASE_SECONDS)})`,
    )) as unknown as Claimed[];
    if (claimed.length === 0) break;
    summary.claimed += claimed.length;
    const sendBy = leaseEndsAt - LEASE_SAFETY_MS;
    const attempts = await Promise.all(claimed.map((d) => attempt(d, sendBefore(sendBy), timeoutMs, sendBy)));
    // A delivery not sent because its lease ran out is not recorded: nothing reached the receiver, so
    // it is no failure of the endpoint's; its lease lapses and it is sent in its turn.
    const results = attempts.filter((r): r is AttemptResult => r !== null);
    const lapsed = attempts.length - results.length;
    if (lapsed > 0) opts.log?.(`${lapsed} webhook deliveries not sent: this worker fell behind and their leases ran out first`);
    if (results.length === 0) continue;
    const recorded = await asWorker(opts.sql, `select * from private.record_webhook_attempts(${literal(JSON.stringify(results))}::jsonb)`);
    for (const row of recorded) {
      if (row.status === "delivered") summary.delivered++;
      else if (row.status === "failed") summary.gaveUp++;
      else summary.retrying++;
    }
    for (const r of results.filter((r) => !r.ok)) opts.log?.(`webhook delivery ${r.id} failed: ${r.error}`);
  }
  // The log keeps 30 days; a bounded batch per run keeps this cheap however much is due.
  await asWorker(opts.sql, `select private.prune_webhook_log(${integer(PRUNE_BATCH)})`);
  summary.ms = Date.now() - started;
  return summary;
}

/** Thrown instead of sending once the attempt's time inside its lease has run out: nothing left. */
class LeaseSpent extends Error {}

/**
 * One attempt: sign, send, and say what happened. Never throws: every failure is a result. Null when
 * nothing was sent because the attempt's lease ran out first (`sendBy`, epoch ms): the request must
 * be over by then, so it starts only with its time left, and is checked on the wall clock again just
 * before it leaves (a stalled process's timers fire late, the clock does not).
 */
async function attempt(d: Claimed, send: typeof fetch, timeoutMs: number, sendBy: number): Promise<AttemptResult | null> {
  const begun = Date.now();
  const result = (ok: boolean, responseStatus: number | null, error: string | null): AttemptResult => ({
    id: String(d.id),
    lease_id: d.lease_id,
    ok,
    response_status: responseStatus,
    response_ms: Date.now() - begun,
    error,
  });
  let secret: string;
  try {
    secret = (await decryptCredentials(d.secret_sealed)).secret;
  } catch {
    return result(false, null, "The endpoint's secret cannot be read with this server's PACER_CREDENTIALS_KEY; rotate the secret.");
  }
  const body = webhookBody({ id: d.event_id, type: d.event_type, createdAt: new Date(d.event_created_at), workspaceId: d.workspace_id, data: d.data });
  const timestamp = Math.floor(Date.now() / 1000);
  const callMs = Math.min(timeoutMs, sendBy - Date.now());
  if (callMs <= 0) return null;
  try {
    const response = await send(d.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "Pacer-Webhooks/1",
        [EVENT_ID_HEADER]: d.event_id,
        [EVENT_TYPE_HEADER]: d.event_type,
        "Pacer-Delivery-Attempt": String(d.attempt),
        [SIGNATURE_HEADER]: await signatureHeader(secret, timestamp, body),
      },
      body,
      signal: AbortSignal.timeout(callMs),
    });
    await drain(response);
    if (response.status >= 200 && response.status < 300) return result(true, response.status, null);
    const why = response.status >= 300 && response.status < 400 ? "a redirect, which Pacer does not follow: give the final URL" : "not a 2xx answer";
    return result(false, response.status, `HTTP ${response.status}: ${why}.`);
  } catch (error) {
    const e = error as Error;
    if (error instanceof LeaseSpent) return null;
    if (error instanceof BlockedDestination) {
      // Where a name resolved to is not said: admins read this log, and it would map internal names.
      return result(false, null, error.resolved ? "Refused: the endpoint's name resolves to an address that is not on the public internet." : `Refused: ${e.message}`);
    }
    if (e.name === "TimeoutError" || e.name === "AbortError") return result(false, null, `No answer within ${Math.round(callMs) / 1000} s.`);
    return result(false, null, `Could not send: ${e.message}`.slice(0, 500));
  }
}

/** Reads at most MAX_REPLY_BYTES of the reply and lets the rest go, so the connection is freed. */
async function drain(response: Response) {
  if (!response.body) return;
  const reader = response.body.getReader();
  let size = 0;
  try {
    while (size <= MAX_REPLY_BYTES) {
      const { done, value } = await reader.read();
      if (done) return;
      size += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // A reply cut short changes nothing: the status has been read.
  }
}
