"use server";
// Server actions behind the accounts page: authenticate, call lib/accounts, return the outcome as a value.
import { requireUser } from "@/lib/auth";
import { addAccount, renameAccount, removeAccount, type Account } from "@/lib/accounts";
import { PacerError, type FieldIssue } from "@/lib/api/errors";

export type ActionError = { code: string; message: string; issues?: FieldIssue[] };
export type AccountActionResult = { ok: true; account?: Account } | { ok: false; error: ActionError };

/** Turns a PacerError into a result the form can show; anything else is a bug and is rethrown. */
async function outcome(act: () => Promise<Account | void>): Promise<AccountActionResult> {
  try {
    const account = await act();
    return account ? { ok: true, account } : { ok: true };
  } catch (error) {
    if (error instanceof PacerError) return { ok: false, error: error.toJSON() };
    throw error;
  }
}

export async function addAccountAction(input: unknown): Promise<AccountActionResult> {
  const user = await requireUser();
  return outcome(() => addAccount(user, input));
}

export async function renameAccountAction(id: string, input: unknown): Promise<AccountActionResult> {
  const user = await requireUser();
  return outcome(() => renameAccount(user, id, input));
}

export async function removeAccountAction(id: string): Promise<AccountActionResult> {
  const user = await requireUser();
  return outcome(() => removeAccount(user, id));
}
