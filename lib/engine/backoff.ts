// When a queue item runs again after an attempt that did not publish: exponential backoff with
// jitter, and never sooner than a platform's rate limit asks. Pure; the engine persists the result.
import { MAX_RATE_LIMIT_DELAY_MS } from "../connectors/http.ts";
import type { PublishOutcome } from "../connectors/types.ts";

export interface RetryPolicy {
  /** Delay before the first retry. */
  baseMs: number;
  /** Each further retry waits this many times longer. */
  factor: number;
  /** Retries after the first attempt; once spent, the item has failed. */
  maxRetries: number;
  /** ± this fraction of the delay, so items that failed together do not retry together. */
  jitter: number;
}

/** The seed's 10, 20, 40 minutes, then failed. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 10 * 60_000, factor: 2, maxRetries: 3, jitter: 0.1 };

/**
 * The wait after failed attempt number `attempt` (1 = the first attempt), or null when no retry is
 * left. `random` returns [0, 1) like Math.random; 0.5 means no jitter.
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY, random: () => number = Math.random): number | null {
  if (attempt < 1 || attempt > policy.maxRetries) return null;
  const delay = policy.baseMs * policy.factor ** (attempt - 1);
  return Math.round(delay * (1 + policy.jitter * (2 * random() - 1)));
}

/**
 * What an attempt decided about running its item again; record_outcomes applies it.
 * - `{ retryAt }`: run it again then (backoff, or a platform's stated rate-limit reset);
 * - "give_up": no retry: the retries are spent, or the platform refused it in a way retrying cannot
 *   fix (permanent, restricted, destination rejected, auth expired — each handled by its own state);
 * - "done": nothing to run again: posted, or a lookup found it;
 * - "verify": whether the post landed is not known yet (unknown, unavailable): record_outcomes times
 *   the lookups (platform margins, verifyRetryMs) and, after the last, a person decides.
 */
export type NextRun = { retryAt: Date } | "give_up" | "done" | "verify";

/** The backoff after failed attempt number `attempt`, from `now`: a time, or "give_up" once no retry is left. */
export function backoff(now: Date, attempt: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY, random: () => number = Math.random): { retryAt: Date } | "give_up" {
  const delay = retryDelayMs(attempt, policy, random);
  return delay === null ? "give_up" : { retryAt: new Date(now.getTime() + delay) };
}

/**
 * Whether and when to run the item again after `outcome` of attempt number `attempt` (a publish that
 * did not post): "give_up" for a final refusal (permanent, restricted, destination rejected, auth
 * expired — each handled by its own state) or once the retries are spent. A rate limit with a known
 * reset is waited out exactly (jitter only adds) and never spends the retries: the platform said when
 * to come back. That wait is never longer than MAX_RATE_LIMIT_DELAY_MS (7 days), whichever connector
 * computed it and from whatever header: this is the one place every rate-limit wait passes before it
 * becomes the item's run_at and the account's cooldown (record_outcomes takes retry_at as it is), so
 * a bogus reset (the year 2100) cannot park an account for decades.
 * An unknown outcome must be verified before this is asked.
 */
export function nextRun(
  now: Date,
  outcome: PublishOutcome,
  attempt: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): { retryAt: Date } | "give_up" {
  if (outcome.kind === "rate_limited") {
    const wait = outcome.retryAfterMs;
    // A wait that is not a number (NaN from a connector's arithmetic) is treated as no reset given.
    if (wait !== null && !Number.isNaN(wait)) {
      const jittered = Math.ceil(Math.max(0, wait) * (1 + policy.jitter * random()));
      return { retryAt: new Date(now.getTime() + Math.min(jittered, MAX_RATE_LIMIT_DELAY_MS)) };
    }
    // No reset given: back off, holding at the longest step rather than failing for being limited.
    return backoff(now, Math.min(Math.max(attempt, 1), policy.maxRetries), policy, random);
  }
  if (outcome.kind !== "retryable" && outcome.kind !== "unknown") return "give_up";
  return backoff(now, attempt, policy, random);
}
