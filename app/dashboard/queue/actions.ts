"use server";
// Server actions behind the queue page: authenticate, count against the API's limits, call lib/queue, return the outcome as a value.
import { requireUser } from "@/lib/auth";
import type { UserClaims } from "@/lib/db";
import { PacerError } from "@/lib/api/errors";
import {
  addToQueue,
  cancelQueueItems,
  processQueueNow,
  retryQueueItems,
  type AddToQueueInput,
  type QueueStatusSummary,
} from "@/lib/queue";
import { enforceApiLimit, type ApiBucket } from "@/lib/api/limits";
import type { ActionError } from "@/app/dashboard/accounts/actions";

export type { ActionError };
export type QueueActionResult<T> = { ok: true; value: T } | { ok: false; error: ActionError };

/**
 * Counts the call against the same per-user limits as the HTTP API, then turns a PacerError into a
 * result the page can show; anything else is a bug and is rethrown.
 */
async function outcome<T>(user: UserClaims, bucket: ApiBucket, act: () => Promise<T>): Promise<QueueActionResult<T>> {
  try {
    await enforceApiLimit(user, bucket);
    return { ok: true, value: await act() };
  } catch (error) {
    if (error instanceof PacerError) return { ok: false, error: error.toJSON() };
    throw error;
  }
}

/** Queues one post for each chosen account; lib/queue validates the input field by field. */
export async function addToQueueAction(input: AddToQueueInput): Promise<QueueActionResult<{ queued: number }>> {
  const user = await requireUser();
  // Only the count crosses back to the browser: the page refetches the list itself.
  return outcome(user, "write", async () => ({ queued: (await addToQueue(user, input)).items.length }));
}

export async function cancelQueueItemsAction(ids: number[]) {
  const user = await requireUser();
  return outcome(user, "write", () => cancelQueueItems(user, { ids }));
}

export async function retryQueueItemsAction(ids: number[]) {
  const user = await requireUser();
  return outcome(user, "write", () => retryQueueItems(user, { ids }));
}

/** Runs the engine now rather than at the next minute's run; owners and admins only (403 otherwise). */
export async function processQueueNowAction(): Promise<QueueActionResult<QueueStatusSummary>> {
  const user = await requireUser();
  return outcome(user, "process", async () => (await processQueueNow(user)).status);
}
