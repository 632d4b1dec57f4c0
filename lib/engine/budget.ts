// Slowing an account down before the platform says 429. Publish outcomes may carry the budget the
// platform's answer stated (RateLimitBudget: Mastodon's and Upload-Post's X-RateLimit-*, Bluesky's
// RateLimit-*). When what is left is down to a small reserve, nothing more is sent to the account
// until the window resets: record_outcomes moves its cooldown_until there, which the claim honours.
import type { RateLimitBudget } from "../connectors/types.ts";

/**
 * Share of a window's budget held back. The figure read is from the last answer: by the next send,
 * calls this engine does not count have spent from the same budget (the health scan's and
 * reconciliation's reads on the same token, another worker's publish in flight), and one publish
 * spends several units (Bluesky: 3 points a record, 6 with a first comment; Mastodon: media uploads
 * and their polls count as requests). 2% is 6 of Mastodon's 300 requests per 5 minutes and 100 of
 * Bluesky's 5,000 points per hour: enough for those, and little of the window left unused.
 */
export const BUDGET_RESERVE_SHARE = 0.02;
/** Never longer than this, whatever a platform states: a reset days away is a platform's mistake, not a reason to stop an account for days. */
export const MAX_BUDGET_PAUSE_MS = 24 * 3_600_000;

/** Units held back from a window of `limit`: at least 1, so a budget is never spent to its last unit. */
export function budgetReserve(limit: number): number {
  return Math.max(1, Math.ceil(limit * BUDGET_RESERVE_SHARE));
}

/**
 * Until when the account must not be sent anything, by this budget; null while enough is left (or
 * the budget is unreadable, or its reset has passed). Capped at the window's length where the
 * platform stated it, and at MAX_BUDGET_PAUSE_MS.
 */
export function budgetSpentUntil(budget: RateLimitBudget | undefined, now: Date = new Date()): Date | null {
  if (!budget) return null;
  const { limit, remaining } = budget;
  const resetAt = Date.parse(budget.resetAt);
  if (![limit, remaining, resetAt].every(Number.isFinite) || limit <= 0 || remaining < 0) return null;
  if (remaining > budgetReserve(limit)) return null;
  if (resetAt <= now.getTime()) return null;
  const windowMs = budget.windowSeconds && budget.windowSeconds > 0 ? budget.windowSeconds * 1000 : MAX_BUDGET_PAUSE_MS;
  return new Date(Math.min(resetAt, now.getTime() + Math.min(windowMs, MAX_BUDGET_PAUSE_MS)));
}
