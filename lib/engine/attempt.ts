// One attempt at one claimed item: publish it, or ask the platform whether an earlier attempt
// landed. Returns what happened; it never writes to the database (the processor batches that).
import type { Connector, ConnectorAccount, Lookup, PublishOutcome, PublishRequest, SentAttempt } from "../connectors/types.ts";
import { decryptCredentials } from "../accounts/credentials.ts";
import { backoff, nextRun, type RetryPolicy } from "./backoff.ts";
import { budgetSpentUntil } from "./budget.ts";
import type { AttemptResult, ClaimedItem } from "./store.ts";

export interface AttemptOptions {
  worker: string;
  connectorFor: (platform: string) => Connector;
  retry: RetryPolicy;
  /** Abort a platform call after this long; must stay well inside the lease. */
  callTimeoutMs: number;
  /** Waits between verifications the platform could not answer; after the last, a human decides. */
  verifyRetryMs: number[];
  random?: () => number;
}

/** Room left between a publish's deadline and its lease's end, for clocks and scheduling. */
const LEASE_SAFETY_MS = 1_000;
/** Checks of an item posted in parts before a person decides (the lookup waits, the last repeated). */
const FINISH_TRIES = 12;
/** How long past the call's deadline a connector may take to report its own timeout, before we stop waiting. */
const SETTLE_GRACE_MS = 500;

export async function runAttempt(item: ClaimedItem, opts: AttemptOptions): Promise<AttemptResult> {
  const startedAt = new Date();
  const attempt = item.mode === "verify" ? item.verifyAttempts : item.attempts;
  const base = { id: item.id, leaseId: item.leaseId, mode: item.mode, attempt, worker: opts.worker, startedAt };
  const done = (r: Pick<AttemptResult, "outcome" | "next"> & Partial<AttemptResult>): AttemptResult => {
    const finishedAt = new Date();
    return { ...base, ...r, finishedAt, latencyMs: finishedAt.getTime() - startedAt.getTime() };
  };

  let connector: Connector;
  let account: ConnectorAccount;
  try {
    connector = opts.connectorFor(item.platform);
    account = {
      id: item.accountId,
      platform: item.platform,
      handle: item.handle,
      credentials: item.credentialsEncrypted ? await decryptCredentials(item.credentialsEncrypted) : {},
    };
  } catch (error) {
    // Nothing was sent: a configuration problem, not a platform outcome. A lookup that cannot be made
    // settles nothing, though: the earlier publish may be live, so it is "could not ask", never failed.
    if (item.mode === "verify") {
      return done({ outcome: "unavailable", next: "verify", verifyRetryMs: opts.verifyRetryMs, errorMessage: `Could not ask the platform whether the post exists: ${messageOf(error)}` });
    }
    return done({ outcome: "permanent", next: "give_up", errorMessage: messageOf(error) });
  }
  // A publish must end inside its lease: recovery times verification from the lease's expiry, so a
  // worker that stalled after its claim must not send now (another may already be verifying it).
  if (item.mode === "publish" && Date.now() + opts.callTimeoutMs > item.leaseEndsAt - LEASE_SAFETY_MS) {
    return done({
      outcome: "retryable",
      next: nextRun(new Date(), { kind: "retryable", message: "" }, item.attempts, opts.retry, opts.random),
      errorMessage: "Not sent: this worker fell behind and its lease would have ended during the call; it will be sent later.",
    });
  }
  // The call's clock starts here: nothing of it can leave after callDeadlineAt, and verification is
  // timed from that (plus the platform's margins, in record_outcomes), not from when we gave up.
  const signal = AbortSignal.timeout(opts.callTimeoutMs);
  const callDeadlineAt = new Date(Date.now() + opts.callTimeoutMs);

  if (item.mode === "verify") {
    // Finishing a thread sends, like a publish, so it too must end inside the lease (it shares the
    // call's signal, so checking the call's whole length now is enough).
    const finishInLease = Date.now() + opts.callTimeoutMs <= item.leaseEndsAt - LEASE_SAFETY_MS;
    // An item whose thread or first comment the connector posts part by part may need several checks
    // to finish (each part can meet a fault), and record_outcomes counts every check that settles
    // nothing in a row, whether the lookup went unanswered or the rest was not sent yet: such an item
    // gets the lookup waits with the last repeated, FINISH_TRIES checks in all, before a person decides.
    const inParts = !!connector.postsInParts && !!(item.thread?.length || item.firstComment);
    const waits = [...opts.verifyRetryMs];
    while (inParts && waits.length > 0 && waits.length < FINISH_TRIES) waits.push(waits[waits.length - 1]);
    // A connector that throws (or never answers) could not ask the platform: that is this item's
    // outcome, not the run's.
    const found: Lookup = await settled(() => connector.lookup(account, item.idempotencyKey, { signal, sent: sentAttempt(item) }), signal).catch((error) => ({
      kind: "unavailable",
      message: `the ${item.platform} connector failed: ${messageOf(error)}`,
    }));
    if (found.kind === "found") {
      // The post is live; a thread or first comment may not all be. A connector that posts them one
      // by one finishes them now, sending only what is missing (completeParts), so the item is
      // posted only once every part is there.
      // Whatever happens to the rest, the post is live: its id is recorded with every outcome below,
      // so a person's retry (private.retry_queue_items) verifies and finishes it, never re-posts it
      // (Mastodon's Idempotency-Key is kept only an hour).
      const live = { externalId: found.externalId, externalUrl: found.url ?? null };
      if (inParts && !finishInLease) {
        return done({
          ...live,
          outcome: "unavailable",
          next: "verify",
          verifyRetryMs: waits,
          errorMessage: `The post is live as ${found.externalId}; the rest of its thread or first comment was not sent: this worker fell behind and its lease would have ended during the call.`,
        });
      }
      if (inParts && item.finish && !item.finish.allowed) {
        // The rest would be sent to an account that may not publish now, or for an item its owner
        // cancelled: a cancelled item is settled as the post that is live; otherwise it waits.
        if (item.finish.reason === "cancelled") {
          return done({ outcome: "found", next: "done", externalId: found.externalId, externalUrl: found.url ?? null });
        }
        return done({
          ...live,
          outcome: "unavailable",
          next: "verify",
          verifyRetryMs: waits,
          errorMessage: `The post is live as ${found.externalId}, but the rest of its thread or first comment is not sent while the ${item.finish.reason ?? "account cannot publish"}.`,
        });
      }
      if (inParts) {
        const rest = await completeParts(connector, publishRequest(item, account), found, signal, item.platform);
        const budget = { rateLimit: rest.rateLimit, budgetUntil: budgetSpentUntil(rest.rateLimit) };
        if (rest.kind !== "posted") {
          // Asked again after the waits above, never before a rate limit's stated reset.
          const wait = rest.kind === "rate_limited" ? (rest.retryAfterMs ?? 0) : 0;
          return done({
            ...budget,
            ...live,
            outcome: "unavailable",
            next: "verify",
            verifyRetryMs: waits.map((ms) => Math.max(ms, wait)),
            errorMessage: `Not all of the thread or first comment is posted yet (${rest.kind}: ${rest.message}); the post itself is live as ${found.externalId}, and the rest is sent at the next check.`,
          });
        }
        return done({ ...budget, outcome: "found", next: "done", externalId: found.externalId, externalUrl: found.url ?? null });
      }
      return done({ outcome: "found", next: "done", externalId: found.externalId, externalUrl: found.url ?? null });
    }
    if (found.kind === "not_found") {
      // Believed only once confirmed by a later lookup (record_outcomes decides); then the earlier
      // attempt counts as failed, and the backoff applies.
      return done({
        outcome: "not_found",
        next: backoff(new Date(), item.attempts, opts.retry, opts.random),
        errorMessage: "The platform has no post carrying this item's key.",
      });
    }
    // record_outcomes picks the wait by how many lookups in a row went unanswered; none left → a human decides.
    return done({
      outcome: "unavailable",
      next: "verify",
      verifyRetryMs: waits,
      errorMessage: `Could not ask the platform whether the post exists: ${found.message}`,
    });
  }

  const request = publishRequest(item, account);
  // A connector that throws instead of returning an outcome is this item's outcome, and it is
  // unknown: the throw may come after the request left (a bug reading the answer), and nothing here
  // can tell "before" from "after" (a connector that knows nothing was sent returns "retryable").
  // So the item is verified before anything is sent again, never blindly re-sent; a throw that did
  // come before sending costs a lookup or two. The same for a connector that never answers: it was
  // given the call's signal, so nothing of this attempt leaves after callDeadlineAt.
  const outcome: PublishOutcome = await settled(() => connector.publish(request, { signal }), signal).catch((error) => ({
    kind: "unknown",
    message: `the ${item.platform} connector failed; the post may have reached the platform: ${messageOf(error)}`,
  }));
  // What the platform said is left of the account's budget, whatever the outcome: at the reserve,
  // the account is sent nothing more until the window resets (record_outcomes sets its cooldown).
  const budget = { rateLimit: outcome.rateLimit, budgetUntil: budgetSpentUntil(outcome.rateLimit) };
  if (outcome.kind === "posted") {
    return done({ ...budget, outcome: "posted", next: "done", externalId: outcome.externalId, externalUrl: outcome.url ?? null, callDeadlineAt });
  }
  if (outcome.kind === "unknown") {
    // Never re-send before asking: verification, timed by record_outcomes from the call's deadline.
    // A post that is live with only later parts in doubt keeps its id on record (see types.ts).
    const live = outcome.externalId ? { externalId: outcome.externalId, externalUrl: outcome.url ?? null } : {};
    return done({ ...budget, ...live, outcome: "unknown", next: "verify", errorMessage: outcome.message, callDeadlineAt });
  }
  return done({
    ...budget,
    callDeadlineAt,
    outcome: outcome.kind,
    next: nextRun(new Date(), outcome, item.attempts, opts.retry, opts.random),
    errorMessage: outcome.message,
  });
}

function publishRequest(item: ClaimedItem, account: ConnectorAccount): PublishRequest {
  return {
    account,
    idempotencyKey: item.idempotencyKey,
    text: item.text,
    mediaUrls: item.mediaUrls,
    firstComment: item.firstComment,
    ...(item.thread?.length ? { thread: item.thread } : {}),
    ...(item.options && Object.keys(item.options).length ? { options: item.options } : {}),
    destination: item.destination,
  };
}

/**
 * The rest of a post whose first part a lookup found: published again with `landed`, so the
 * connector sends only the parts not there yet (never the post itself). Runs inside a verification,
 * which comes after the publish's deadline and margin, so a part's absence is believed. Anything but
 * "posted" leaves the item verifying (runAttempt): the post is live, so it is never failed and never
 * sent again whole; after the lookup waits a human decides, with what failed in its history.
 */
function completeParts(connector: Connector, request: PublishRequest, found: { externalId: string }, signal: AbortSignal, platform: string): Promise<PublishOutcome> {
  return settled(() => connector.publish({ ...request, landed: { externalId: found.externalId } }, { signal }), signal).catch((error) => ({
    kind: "unknown",
    message: `the ${platform} connector failed: ${messageOf(error)}`,
  }));
}

/**
 * What the publish being verified sent, for platforms that recognise their post by it (Mastodon):
 * the item's text and media, and from the history its send time, any id an answer carried and the
 * ids recorded for the account's other items. Nothing when the history could not be read: a lookup
 * without it must say it cannot tell, not guess over a day of posts (attachSentAttempts).
 */
function sentAttempt(item: ClaimedItem): SentAttempt | undefined {
  if (!item.sent) return undefined;
  return {
    text: item.text,
    mediaCount: item.mediaUrls.length,
    ...(item.sent.sentAt ? { sentAt: item.sent.sentAt } : {}),
    ...(item.sent.externalId ? { externalId: item.sent.externalId } : {}),
    ...(item.sent.otherExternalIds.length ? { excludeExternalIds: item.sent.otherExternalIds } : {}),
    ...(item.options && Object.keys(item.options).length ? { options: item.options } : {}),
  };
}

/**
 * The connector's answer; a rejection if it throws (even before returning a promise), or once the
 * call's signal has fired and it still has not answered (one that ignores the signal must not hold the run).
 */
function settled<T>(connectorCall: () => Promise<T>, signal: AbortSignal): Promise<T> {
  const call = new Promise<T>((resolve) => resolve(connectorCall()));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort = () => {};
  const giveUp = new Promise<never>((_, reject) => {
    onAbort = () => {
      timer = setTimeout(() => reject(new Error("no answer by the call's deadline")), SETTLE_GRACE_MS);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([call, giveUp]).finally(() => {
    signal.removeEventListener("abort", onAbort);
    clearTimeout(timer);
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The outcome of an attempt that failed in a way runAttempt did not foresee (a bug): a publish may
 * have been sent, so it is unknown and verified (its deadline taken late, so no lookup comes too
 * early); a lookup could not ask. Either way the item, not the run, carries it.
 */
export function attemptFailed(item: ClaimedItem, opts: AttemptOptions, startedAt: Date, error: unknown): AttemptResult {
  const finishedAt = new Date();
  const attempt = item.mode === "verify" ? item.verifyAttempts : item.attempts;
  const base = { id: item.id, leaseId: item.leaseId, mode: item.mode, attempt, worker: opts.worker, startedAt, finishedAt, latencyMs: finishedAt.getTime() - startedAt.getTime(), next: "verify" as const };
  const message = `the attempt failed: ${messageOf(error)}`;
  return item.mode === "verify"
    ? { ...base, outcome: "unavailable", verifyRetryMs: opts.verifyRetryMs, errorMessage: `Could not ask the platform whether the post exists: ${message}` }
    : { ...base, outcome: "unknown", errorMessage: `${message}; the post may have reached the platform`, callDeadlineAt: new Date(finishedAt.getTime() + opts.callTimeoutMs) };
}
