// How billing amounts, dates, statuses and plan features read on screen.
import { shortDate } from "@/lib/time/relative";
import type { SubscriptionSummary } from "@/lib/billing/overview";

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

export const formatPrice = (cents: number) => (cents === 0 ? "$0" : `${usd.format(cents / 100)}/month`);

/** The day an instant falls on in the user's zone (useTimeZone()), e.g. "Dec 2" (the year when not this year). */
export const formatDay = (iso: string, timeZone: string) => shortDate(iso, timeZone);

const statuses: Record<string, string> = {
  active: "Active",
  trialing: "Trial",
  past_due: "Payment failed",
  unpaid: "Unpaid",
  canceled: "Canceled",
  incomplete: "Awaiting payment",
  incomplete_expired: "Checkout expired",
  paused: "Paused",
};

export const statusLabel = (status: string) => statuses[status] ?? status;

/** The sentence under the plan name: when it renews, ends, or what happened to it. */
export function subscriptionLine(s: SubscriptionSummary | null, planIsDefault: boolean, timeZone: string): string {
  if (!s || (planIsDefault && !["active", "trialing", "past_due", "unpaid"].includes(s.status))) {
    return "No subscription: the default plan, free of charge.";
  }
  if (s.status === "past_due" && s.graceEndsAt) return `Payment failed: the plan holds until ${formatDay(s.graceEndsAt, timeZone)}.`;
  if (s.cancelAtPeriodEnd && s.currentPeriodEnd) return `Cancels on ${formatDay(s.currentPeriodEnd, timeZone)}.`;
  if (s.currentPeriodEnd && (s.status === "active" || s.status === "trialing")) return `Renews on ${formatDay(s.currentPeriodEnd, timeZone)}.`;
  return statusLabel(s.status);
}

/** What a subscription's status means for the workspace, said after the status badge. */
const meanings: Record<string, string> = {
  active: "Active means the subscription is paid up and the plan's limits and features apply.",
  trialing: "Trial means the plan applies now and the first payment is taken when the trial ends.",
  past_due: "Payment failed means the plan still applies for a few days while the payment is retried.",
  unpaid: "Unpaid means the payment could not be taken; the plan's extras stop until it is.",
  canceled: "Canceled means the subscription ended.",
  incomplete: "Awaiting payment means Checkout has not finished yet.",
  incomplete_expired: "Checkout expired before it was paid; nothing was charged.",
  paused: "Paused means the subscription is on hold.",
};

export const statusMeaning = (status: string) => meanings[status] ?? "";

/** Plan features in product words, in the order the plan list shows them. */
export const features: Record<string, string> = {
  bulk_import: "Import posts from a CSV file, and queue many posts in one go",
  api_access: "HTTP API and API keys, for your own tools",
  health_auto_pause: "Health checks that pause an account at risk before the platform does",
  priority_support: "Priority support",
};

export const featureLabel = (key: string) => features[key] ?? key.replaceAll("_", " ");
