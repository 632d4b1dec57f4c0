"use client";
// Local mode only: makes the running subscription's renewal payment fail, or succeed after all, so the
// failed-payment path (banner, grace period) can be tried without Stripe.
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { simulatePaymentAction } from "@/app/dashboard/billing/actions";
import { Button } from "@/components/ui/button";
import { useRefreshBilling } from "./queries";

export function SimulatePaymentButton({ outcome }: { outcome: "failed" | "paid" }) {
  const refresh = useRefreshBilling();
  const [error, setError] = useState<string | null>(null);
  const simulate = useMutation({
    mutationFn: () => simulatePaymentAction(outcome),
    onSuccess: async (result) => {
      setError(result.ok ? null : result.error.message);
      await refresh();
    },
    onError: () => setError("Pacer could not run the simulation just now. Try again in a moment."),
  });
  return (
    <div className="grid gap-1">
      <Button size="sm" variant="outline" disabled={simulate.isPending} onClick={() => simulate.mutate()}>
        {outcome === "failed" ? "Simulate a failed payment" : "Simulate a successful payment"}
      </Button>
      {error && (
        <p role="alert" className="text-sm text-destructive">
          {error}
        </p>
      )}
    </div>
  );
}
