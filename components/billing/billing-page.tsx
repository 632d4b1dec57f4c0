"use client";
// The billing page's live content: notices (local mode, checkout outcome, failed payment), the current
// plan with usage, the accounts a downgrade paused, and the plans to move to.
import { useQuery } from "@tanstack/react-query";
import { CircleAlert, FlaskConical, Info } from "lucide-react";
import type { BillingOverview } from "@/lib/billing/overview";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { CurrentPlanCard } from "./current-plan-card";
import { useTimeZone } from "@/components/time/time-zone";
import { formatDay } from "./format";
import { PausedAccountsCard } from "./paused-accounts-card";
import { PlanList } from "./plan-list";
import { PortalButton } from "./portal-button";
import { billingQuery, usageQuery } from "./queries";
import { SimulatePaymentButton } from "./simulate-payment-button";

export function BillingPage({ checkout }: { checkout: "success" | "canceled" | null }) {
  const billing = useQuery({
    ...billingQuery,
    // Back from a paid checkout, the plan changes when Stripe's webhook arrives: look again until it has.
    refetchInterval: (query) =>
      checkout === "success" && query.state.data?.plan.isDefault !== false && query.state.dataUpdateCount < 30 ? 2000 : false,
  });
  const usage = useQuery(usageQuery);

  if (!billing.data || !usage.data) {
    const error = billing.error ?? usage.error;
    return error ? (
      <Alert variant="destructive">
        <CircleAlert aria-hidden />
        <AlertTitle>Could not load billing</AlertTitle>
        <AlertDescription>{error.message}</AlertDescription>
      </Alert>
    ) : (
      <p className="text-sm text-muted-foreground" role="status">
        Loading billing…
      </p>
    );
  }
  const overview = billing.data;

  return (
    <div className="grid grid-cols-1 gap-6">
      <ModeNotice overview={overview} />
      {checkout === "canceled" && (
        <Alert>
          <Info aria-hidden />
          <AlertTitle>Checkout did not finish</AlertTitle>
          <AlertDescription>
            The checkout was canceled or has expired, so nothing was charged and your plan is unchanged. Choose a plan
            below to start again.
          </AlertDescription>
        </Alert>
      )}
      {checkout === "success" && (
        <Alert>
          <Info aria-hidden />
          <AlertTitle>Payment received</AlertTitle>
          <AlertDescription>
            {overview.subscription
              ? `You are on the ${overview.plan.name} plan.`
              : "Your plan changes as soon as Stripe's confirmation reaches Pacer, usually within seconds."}
          </AlertDescription>
        </Alert>
      )}
      {overview.paymentFailed && <PaymentFailedBanner overview={overview} />}
      <CurrentPlanCard overview={overview} usage={usage.data} />
      {overview.pausedAccounts.length > 0 && <PausedAccountsCard overview={overview} />}
      <PlanList overview={overview} usage={usage.data} />
    </div>
  );
}

function ModeNotice({ overview }: { overview: BillingOverview }) {
  if (overview.mode === "local") {
    return (
      <Alert data-testid="local-mode-notice">
        <FlaskConical aria-hidden />
        <AlertTitle>Local mode: no payment is taken</AlertTitle>
        <AlertDescription>
          <p>
            This copy of Pacer takes no payments, so every plan is free to try. Choosing a plan moves this workspace to
            it at once, with its account limit and features, exactly as paying would. No card is asked for and nothing is
            charged. The buttons that simulate a payment show what happens when a real one fails or goes through.
          </p>
          {overview.canManage && !overview.plan.isDefault && !overview.paymentFailed && (
            <SimulatePaymentButton outcome="failed" />
          )}
        </AlertDescription>
      </Alert>
    );
  }
  if (overview.mode === "off") {
    return (
      <Alert>
        <Info aria-hidden />
        <AlertTitle>Billing is not set up on this server</AlertTitle>
        <AlertDescription>
          The plan cannot be changed on this server yet: ask the person who runs it to set up billing. (For them:
          connect Stripe with STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, or set PACER_BILLING_MODE=local.)
        </AlertDescription>
      </Alert>
    );
  }
  return null;
}

function PaymentFailedBanner({ overview }: { overview: BillingOverview }) {
  const s = overview.subscription!;
  const fallback = overview.plans.find((p) => p.isDefault)!;
  const { timeZone } = useTimeZone();
  const fix = overview.portalAvailable
    ? "Update your payment method in the billing portal"
    : "Update the payment method";
  return (
    <Alert variant="destructive" data-testid="payment-failed">
      <CircleAlert aria-hidden />
      <AlertTitle>Your last payment failed</AlertTitle>
      <AlertDescription>
        <p>
          {s.status === "past_due" && s.graceEndsAt
            ? `${fix} by ${formatDay(s.graceEndsAt, timeZone)} to keep the ${overview.plan.name} plan. After that this workspace moves to the ${fallback.name} plan (${fallback.maxAccounts} accounts) and the accounts beyond it are paused.`
            : `${fix}: until the payment goes through, this workspace is on the ${overview.plan.name} plan.`}
        </p>
        {overview.canManage && overview.portalAvailable && <PortalButton label="Update payment method" />}
        {overview.canManage && overview.mode === "local" && <SimulatePaymentButton outcome="paid" />}
      </AlertDescription>
    </Alert>
  );
}
