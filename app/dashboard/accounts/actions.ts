"use server";
// Server actions behind the accounts page: authenticate, call lib/accounts, return the outcome as a value.
import { requireUser } from "@/lib/auth";
import { addAccount, renameAccount, removeAccount, type Account } from "@/lib/accounts";
import { PacerError, type FieldIssue } from "@/lib/api/errors";
import { enforceApiLimit } from "@/lib/api/limits";
import type { UserClaims } from "@/lib/db";

export type ActionError = { code: string; message: string; issues?: FieldIssue[] };
export type AccountActionResult = { ok: true; account?: Account } | { ok: false; error: ActionError };

/**
 * Counts the call against the same per-user limit as the HTTP API's account routes, then turns a
 * PacerError into a result the form can show; anything else is a bug and is rethrown.
 */
async function outcome(user: UserClaims, act: () => Promise<Account | void>): Promise<AccountActionResult> {
  try {
    await enforceApiLimit(user, "write");
    const account = await act();
    return account ? { ok: true, account } : { ok: true };
  } catch (error) {
    if (error instanceof PacerError) return { ok: false, error: error.toJSON() };
    throw error;
  }
}

export async function addAccountAction(input: unknown): Promise<AccountActionResult> {
  const user = await requireUser();
  return outcome(user, () => addAccount(user, input));
}

export async function renameAccountAction(id: string, input: unknown): Promise<AccountActionResult> {
  const user = await requireUser();
  return outcome(user, () => renameAccount(user, id, input));
}

export async function removeAccountAction(id: string): Promise<AccountActionResult> {
  const user = await requireUser();
  return outcome(user, async () => {
    await removeAccount(user, id);
  });
}
