"use client";
// The plans a workspace can move to, with upgrade and downgrade buttons. A downgrade below current
// usage asks first and says how many accounts it will pause. With Stripe, the choice opens Checkout or
// the portal; in local mode it is simulated and applied at once.
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { Check, CircleAlert, Minus } from "lucide-react";
import { choosePlanAction, type BillingActionError } from "@/app/dashboard/billing/actions";
import type { BillingOverview } from "@/lib/billing/overview";
import type { Plan } from "@/lib/billing/plans";
import type { Usage } from "@/lib/workspaces";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { cn } from "@/components/ui/cn";
import { featureLabel, features, formatPrice } from "./format";
import { useRefreshBilling } from "./queries";

const unexpected: BillingActionError = { code: "unexpected", message: "Pacer could not change the plan just now. Try again in a moment." };

export function PlanList({ overview, usage }: { overview: BillingOverview; usage: Usage }) {
  const refresh = useRefreshBilling();
  const [confirming, setConfirming] = useState<string | null>(null);
  const [error, setError] = useState<BillingActionError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const choose = useMutation({
    mutationFn: (plan: Plan) => choosePlanAction(plan.id),
    onSuccess: async (result, plan) => {
      setConfirming(null);
      if (!result.ok) {
        setError(result.error);
        await refresh();
        return;
      }
      setError(null);
      if (result.change.mode === "stripe") {
        window.location.assign(result.change.url);
        return;
      }
      await refresh();
      setDone(`This workspace is now on the ${plan.name} plan. Local mode: no payment was taken.`);
    },
    onError: () => setError(unexpected),
  });

  const locked = overview.mode === "off" || !overview.canManage;
  const current = overview.plan;

  function pick(plan: Plan) {
    setDone(null);
    setError(null);
    if (usage.accountsUsed > plan.maxAccounts) setConfirming(plan.id);
    else choose.mutate(plan);
  }

  return (
    <section aria-labelledby="plans-heading" className="grid gap-4">
      <div className="space-y-1">
        <h2 id="plans-heading" className="text-lg font-semibold">
          Plans
        </h2>
        <p className="text-sm text-muted-foreground">
          {overview.canManage
            ? overview.mode === "stripe"
              ? "A first paid plan opens Stripe Checkout; changing or cancelling a running subscription opens the Stripe portal."
              : "Upgrade or downgrade at any time. Moving below your usage pauses the newest accounts; it deletes nothing."
            : "Only the workspace's owners and admins can change the plan."}
        </p>
      </div>
      {error && (
        <Alert variant="destructive">
          <CircleAlert aria-hidden />
          <AlertTitle>The plan was not changed</AlertTitle>
          <AlertDescription>{error.message}</AlertDescription>
        </Alert>
      )}
      {done && (
        <p role="status" className="text-sm font-medium" data-testid="plan-change-done">
          {done}
        </p>
      )}
      <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-label="Plans">
        {overview.plans.map((plan) => {
          const isCurrent = plan.id === current.id;
          const verb = plan.sortOrder > current.sortOrder ? "Upgrade" : "Downgrade";
          const wouldPause = Math.max(0, usage.accountsUsed - plan.maxAccounts);
          return (
            <li key={plan.id}>
              <Card className={cn("h-full gap-4", isCurrent && "border-primary")}>
                <CardHeader>
                  <CardTitle>
                    <h3>{plan.name}</h3>
                  </CardTitle>
                  <CardDescription>
                    <span className="text-base font-semibold text-foreground">{formatPrice(plan.priceCents)}</span> · up
                    to {plan.maxAccounts} accounts
                  </CardDescription>
                </CardHeader>
                <CardContent className="flex-1">
                  {/* Every feature on every card, included or not, so two plans' differences read side by side. */}
                  <ul className="grid gap-1.5 text-sm" aria-label={`What ${plan.name} includes`}>
                    <li className="flex items-start gap-2">
                      <Check className="mt-0.5 size-4 shrink-0 text-primary" aria-hidden />
                      Up to {plan.maxAccounts} social accounts
                    </li>
                    {[...Object.keys(features), ...Object.keys(plan.features).filter((k) => !(k in features))].map((key) =>
                      plan.features[key] ? (
                        <li key={key} className="flex items-start gap-2">
                          <Check className="mt-0.5 size-4 shrink-0 text-primary" aria-hidden />
                          {featureLabel(key)}
                        </li>
                      ) : (
                        <li key={key} className="flex items-start gap-2 text-muted-foreground">
                          <Minus className="mt-0.5 size-4 shrink-0" aria-hidden />
                          <span>
                            <span className="font-medium">Not included:</span> {featureLabel(key)}
                          </span>
                        </li>
                      ),
                    )}
                  </ul>
                </CardContent>
                <CardFooter className="grid gap-2">
                  {isCurrent ? (
                    <Button variant="outline" disabled>
                      Current plan
                    </Button>
                  ) : confirming === plan.id ? (
                    <div className="grid gap-2" role="group" aria-label={`Confirm moving to ${plan.name}`}>
                      <p className="text-sm">
                        Moving to {plan.name} pauses {wouldPause} {wouldPause === 1 ? "account" : "accounts"} (the most
                        recently added). Nothing is deleted; they resume when the plan allows them again.
                      </p>
                      <div className="flex flex-wrap gap-2">
                        <Button variant="destructive" size="sm" disabled={choose.isPending} onClick={() => choose.mutate(plan)}>
                          {choose.isPending ? "Changing…" : `Yes, move to ${plan.name}`}
                        </Button>
                        <Button variant="ghost" size="sm" autoFocus onClick={() => setConfirming(null)}>
                          Keep {current.name}
                        </Button>
                      </div>
                    </div>
                  ) : (
                    <Button
                      variant={verb === "Upgrade" ? "default" : "outline"}
                      disabled={locked || choose.isPending}
                      onClick={() => pick(plan)}
                    >
                      {choose.isPending && choose.variables?.id === plan.id ? "Changing…" : `${verb} to ${plan.name}`}
                    </Button>
                  )}
                </CardFooter>
              </Card>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
