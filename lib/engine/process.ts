// A processing run: recover expired leases, then keep up to `concurrency` attempts in flight —
// claiming in batches, recording outcomes in batches — until the queue is drained or the time
// budget is spent. The same code runs in the Edge Function (Deno), `npm run worker` and tests.
import type { Connector } from "../connectors/types.ts";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./backoff.ts";
import { attemptFailed, runAttempt } from "./attempt.ts";
import {
  claimDuePosts,
  recordOutcomes,
  recoverExpiredLeases,
  tidyUp,
  type AttemptResult,
  type ClaimedItem,
  type Sql,
} from "./store.ts";

export interface ProcessOptions {
  sql: Sql;
  worker: string;
  connectorFor: (platform: string) => Connector;
  /** Claim only this workspace's items ("process now"); housekeeping is then left to the scheduled runs. */
  workspaceId?: string;
  /** Stop claiming after this long; attempts in flight are finished and recorded. */
  budgetMs: number;
  /**
   * CPU milliseconds the run may spend, for runtimes that end a request at a CPU limit (Supabase Edge
   * Functions: 2 s). A claim takes only as many items as fit: the CPU spent so far plus a whole item's
   * cost (cpuPerItemMs) for each one claimed and not yet recorded, so finishing and recording what is
   * in flight stays inside the budget and the run ends cleanly, not killed mid-write.
   */
  cpuBudgetMs?: number;
  /** CPU milliseconds this process has spent, from the runner (the engine stays runtime-agnostic). Without one, each claimed item counts as cpuPerItemMs. */
  cpuClock?: () => number;
  /** One item's CPU in the runner's process, claim to recorded outcome (bench: "CPU ms per post under Deno"). */
  cpuPerItemMs?: number;
  /** Attempts in flight at once. */
  concurrency?: number;
  /** Items per claim. */
  batchSize?: number;
  /** A lease outlives the platform call's timeout by a wide margin, so it never expires mid-call. */
  leaseSeconds?: number;
  callTimeoutMs?: number;
  /** Waits before asking again after lookups the platform could not answer (the n-th wait after n in a row); after the last, a human decides. */
  verifyRetryMs?: number[];
  retry?: RetryPolicy;
  /** Outcomes are written when this many are waiting, or after flushMs. */
  flushSize?: number;
  flushMs?: number;
  /**
   * The runner's housekeeping after a scheduled run (not a workspace's "process now"), beside the
   * engine's own: e.g. billing's grace sweep (lib/billing/grace.ts). The engine knows nothing of it;
   * a failure is logged, never the run's.
   */
  housekeeping?: (sql: Sql) => Promise<unknown>;
  /** Keep polling an empty queue until the budget is spent (long-lived workers), instead of returning. */
  poll?: { idleMs: number };
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface RunSummary {
  recovered: number;
  claimed: number;
  recorded: number;
  /** Outcomes whose lease had expired: kept in the history, changed nothing. */
  stale: number;
  byOutcome: Record<string, number>;
  ms: number;
  /** With a CPU budget: the CPU the run spent (counted per claimed item when the runner has no CPU clock). */
  cpuMs?: number;
  /** With a CPU budget: the run ended because of it, not because the queue was drained (due items may be left for the next run). */
  cpuBudgetReached?: boolean;
}

export const ENGINE_DEFAULTS = {
  concurrency: 50,
  batchSize: 100,
  leaseSeconds: 120,
  callTimeoutMs: 30_000,
  verifyRetryMs: [60_000, 5 * 60_000, 15 * 60_000],
  flushSize: 100,
  flushMs: 50,
  // Where a runtime has no CPU clock (Supabase's edge runtime): about 1.3 ms per post measured under
  // Deno against the plain-HTTP sandbox (bench: "Edge Function capacity"), plus about 0.6 ms for the TLS
  // handshake every single-send publish makes to a real platform, with room for a slower host.
  cpuPerItemMs: 3,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function processQueue(opts: ProcessOptions): Promise<RunSummary> {
  const o = { ...ENGINE_DEFAULTS, retry: DEFAULT_RETRY_POLICY, ...opts };
  const log = o.log ?? (() => {});
  // Lease recovery times verification from the lease's expiry, which must be past any call's deadline.
  if (o.leaseSeconds * 1000 <= o.callTimeoutMs) {
    throw new Error(`leaseSeconds (${o.leaseSeconds} s) must outlive callTimeoutMs (${o.callTimeoutMs} ms): raise PACER_LEASE_SECONDS or lower PACER_CALL_TIMEOUT_MS.`);
  }
  if (o.cpuBudgetMs !== undefined && !(o.cpuPerItemMs > 0)) throw new Error(`cpuPerItemMs must be positive with a CPU budget, got ${o.cpuPerItemMs}.`);
  const started = Date.now();
  const deadline = started + o.budgetMs;
  const summary: RunSummary = { recovered: 0, claimed: 0, recorded: 0, stale: 0, byOutcome: {}, ms: 0 };
  if (o.cpuBudgetMs !== undefined) Object.assign(summary, { cpuMs: 0, cpuBudgetReached: false });
  const cpuAtStart = o.cpuClock?.() ?? 0;
  const cpuSpent = () => (o.cpuClock ? o.cpuClock() - cpuAtStart : summary.claimed * o.cpuPerItemMs);

  if (!o.workspaceId) summary.recovered = await recoverExpiredLeases(o.sql);
  if (summary.recovered) log(`recovered ${summary.recovered} expired lease(s) into verification`);

  const inFlight = new Set<Promise<void>>();
  const waiting: AttemptResult[] = [];
  let lastFlush = Date.now();

  const flush = async () => {
    // At most flushSize per write: one statement's cost grows with its batch.
    const batch = waiting.splice(0, o.flushSize);
    lastFlush = Date.now();
    if (batch.length === 0) return;
    const { applied, unwritten } = await writeOutcomes(o.sql, batch, log);
    for (const r of batch) {
      summary.byOutcome[r.outcome] = (summary.byOutcome[r.outcome] ?? 0) + 1;
      if (applied.get(r.id) === false) summary.stale++;
    }
    summary.recorded += batch.length - unwritten.length;
    if (summary.cpuMs !== undefined) summary.cpuMs = Math.round(cpuSpent());
  };

  // Items the CPU budget still has room for. A measured clock has not yet seen the rest of the cost
  // of what is claimed and unrecorded, so a whole item is reserved for each; a count per claimed item
  // already includes them.
  const cpuRoom = () => {
    if (o.cpuBudgetMs === undefined) return Infinity;
    const unrecorded = o.cpuClock ? inFlight.size + waiting.length : 0;
    return Math.floor((o.cpuBudgetMs - cpuSpent()) / o.cpuPerItemMs) - unrecorded;
  };

  const attemptOptions = {
    worker: o.worker,
    connectorFor: o.connectorFor,
    retry: o.retry,
    callTimeoutMs: o.callTimeoutMs,
    verifyRetryMs: o.verifyRetryMs,
  };
  const start = (item: ClaimedItem) => {
    const startedAt = new Date();
    // One item's failure is that item's outcome: a rejection here would reject the Promise.race and
    // Promise.all below, and with them the whole run (and every other item's recorded outcome).
    const p = runAttempt(item, attemptOptions)
      .catch((error: unknown) => {
        log(`item ${item.id}'s attempt failed: ${error instanceof Error ? error.message : String(error)}`);
        return attemptFailed(item, attemptOptions, startedAt, error);
      })
      .then((result) => {
        waiting.push(result);
        inFlight.delete(p);
      });
    inFlight.add(p);
  };

  // Claim when at least a batch (or half the pool) has room, so claims stay batched.
  const claimAt = Math.min(o.batchSize, Math.ceil(o.concurrency / 2));
  let stopClaiming = false; // an empty claim ends a one-off run
  let idleUntil = 0; // an empty claim makes a polling worker wait before asking again
  while (!o.signal?.aborted) {
    const now = Date.now();
    const mayClaim = !stopClaiming && now < deadline && now >= idleUntil && o.concurrency - inFlight.size >= claimAt;
    const room = mayClaim ? cpuRoom() : 0;
    if (mayClaim && room >= 1) {
      const limit = Math.min(o.concurrency - inFlight.size, o.batchSize, room);
      try {
        const items = await claimDuePosts(o.sql, { worker: o.worker, limit, leaseSeconds: o.leaseSeconds, workspaceId: o.workspaceId });
        summary.claimed += items.length;
        items.forEach(start);
        if (items.length === 0) {
          if (o.poll) idleUntil = Date.now() + o.poll.idleMs;
          else stopClaiming = true;
        }
      } catch (error) {
        // The database is away: finish what is in flight, and ask again shortly.
        log(`claim failed: ${(error as Error).message}`);
        idleUntil = Date.now() + 500;
      }
    }
    if (waiting.length >= o.flushSize || (waiting.length > 0 && Date.now() - lastFlush >= o.flushMs)) await flush();
    if (inFlight.size === 0) {
      if (stopClaiming || Date.now() >= deadline) break;
      if (cpuRoom() < 1) {
        summary.cpuBudgetReached = true; // the run ends for its CPU budget: due items may be left
        break;
      }
      if (idleUntil > Date.now()) await sleep(Math.min(idleUntil, deadline) - Date.now());
      continue;
    }
    // Wake on the next finished attempt, or in time for a flush.
    await Promise.race([...inFlight, sleep(o.flushMs)]);
  }
  if (summary.cpuMs !== undefined) summary.cpuMs = Math.round(cpuSpent()); // recording, below, updates it
  await Promise.all(inFlight);
  while (waiting.length > 0) await flush();
  if (!o.workspaceId) {
    await tidyUp(o.sql).catch((e) => log(`housekeeping failed: ${(e as Error).message}`));
    if (o.housekeeping) await o.housekeeping(o.sql).catch((e) => log(`the runner's housekeeping failed: ${(e as Error).message}`));
  }
  summary.ms = Date.now() - started;
  return summary;
}

/** What a write of outcomes achieved: which were applied (lease still held), and which could not be written. */
export interface Written {
  applied: Map<number, boolean>;
  unwritten: number[];
}

/**
 * Write a batch of outcomes. While the database is away the write is retried; if it stays away,
 * leases expire and recovery verifies the items with the platform, never re-posting them blindly.
 * If the database refuses the batch's data, the outcomes are written one by one, so one bad result
 * never holds the others: an item whose write still fails alone is left to lease recovery, logged.
 */
export async function writeOutcomes(sql: Sql, batch: AttemptResult[], log: (l: string) => void): Promise<Written> {
  const whole = await writeRetrying(sql, batch);
  if (whole.applied) return { applied: whole.applied, unwritten: [] };
  if (batch.length === 1 || whole.away) {
    log(`could not record ${batch.length} outcome(s) (item ${batch.map((r) => r.id).join(", ")}), leaving them to lease recovery: ${whole.message}`);
    return { applied: new Map(), unwritten: batch.map((r) => r.id) };
  }
  log(`the database refused a batch of ${batch.length} outcomes (${whole.message}); recording them one by one`);
  const written: Written = { applied: new Map(), unwritten: [] };
  for (const [i, result] of batch.entries()) {
    const one = await writeRetrying(sql, [result]);
    if (one.applied) for (const [id, applied] of one.applied) written.applied.set(id, applied);
    else if (one.away) {
      // The database went away meanwhile: the rest wait for lease recovery, not for a retry each.
      const rest = batch.slice(i).map((r) => r.id);
      written.unwritten.push(...rest);
      log(`could not record ${rest.length} outcome(s), the database went away; leaving them to lease recovery: ${one.message}`);
      break;
    } else {
      written.unwritten.push(result.id);
      log(`could not record item ${result.id}'s ${result.outcome} outcome, leaving it to lease recovery: ${one.message}`);
    }
  }
  return written;
}

type Attempted = { applied: Map<number, boolean>; away?: undefined; message?: undefined } | { applied?: undefined; away: boolean; message: string };

/** One write, retried with backoff only while the database is away (it may come back). */
async function writeRetrying(sql: Sql, batch: AttemptResult[]): Promise<Attempted> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { applied: await recordOutcomes(sql, batch) };
    } catch (error) {
      const away = databaseAway(error);
      if (!away || attempt >= 6) return { away, message: (error as Error).message };
      await sleep(100 * 2 ** attempt);
    }
  }
}

/**
 * Whether an error says the database is away (connection lost or refused, shutting down, out of
 * resources) rather than that it refused this data: postgres.js' connection codes, socket errors,
 * and SQLSTATE classes 08, 40, 53, 57 and 58.
 */
function databaseAway(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  return /^CONNECT|^E[A-Z]+$/.test(code) || /^(08|40|53|57|58)[0-9A-Z]{3}$/.test(code);
}
