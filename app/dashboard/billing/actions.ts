"use server";
// Server actions behind the billing page: authenticate, call lib/billing, return the outcome as a value.
import { headers } from "next/headers";
import { requireUser } from "@/lib/auth";
import { PacerError, type FieldIssue } from "@/lib/api/errors";
import { enforceApiLimit } from "@/lib/api/limits";
import { changePlan, openPortal, type PlanChange } from "@/lib/billing/checkout";
import { simulatePaymentOutcome } from "@/lib/billing/local";

export type BillingActionError = { code: string; message: string; issues?: FieldIssue[] };
export type ChoosePlanResult = { ok: true; change: PlanChange } | { ok: false; error: BillingActionError };
export type OpenPortalResult = { ok: true; url: string } | { ok: false; error: BillingActionError };

/** Where Stripe should send the subscriber back: the origin the browser called us on. */
async function requestOrigin(): Promise<string> {
  const h = await headers();
  const origin = h.get("origin");
  if (origin) return origin;
  const host = h.get("x-forwarded-host") ?? h.get("host") ?? "127.0.0.1:3000";
  return `${h.get("x-forwarded-proto") ?? "http"}://${host}`;
}

/** Turns a PacerError into a result the page can show; anything else is a bug and is rethrown. */
async function asResult<T>(act: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: BillingActionError }> {
  try {
    return { ok: true, value: await act() };
  } catch (error) {
    if (error instanceof PacerError) return { ok: false, error: error.toJSON() };
    throw error;
  }
}

export async function choosePlanAction(planId: string): Promise<ChoosePlanResult> {
  const user = await requireUser();
  const origin = await requestOrigin();
  const result = await asResult(async () => {
    await enforceApiLimit(user, "billing");
    return changePlan(user, { planId }, { origin });
  });
  return result.ok ? { ok: true, change: result.value } : result;
}

export async function openPortalAction(): Promise<OpenPortalResult> {
  const user = await requireUser();
  const origin = await requestOrigin();
  const result = await asResult(async () => {
    await enforceApiLimit(user, "billing");
    return openPortal(user, undefined, { origin });
  });
  return result.ok ? { ok: true, url: result.value.url } : result;
}

/** Local mode: pretend the renewal payment failed, or went through after all. */
export async function simulatePaymentAction(outcome: "failed" | "paid"): Promise<{ ok: true } | { ok: false; error: BillingActionError }> {
  const user = await requireUser();
  const result = await asResult(async () => {
    await enforceApiLimit(user, "billing");
    return simulatePaymentOutcome(user, { outcome });
  });
  return result.ok ? { ok: true } : result;
}
