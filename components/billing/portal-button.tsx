"use client";
// Opens Stripe's customer portal (payment methods, invoices, plan changes, cancellation) in this tab.
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { ExternalLink } from "lucide-react";
import { openPortalAction } from "@/app/dashboard/billing/actions";
import { Button } from "@/components/ui/button";

export function PortalButton({ label = "Manage billing", variant = "outline" }: { label?: string; variant?: "outline" | "default" }) {
  const [error, setError] = useState<string | null>(null);
  const open = useMutation({
    mutationFn: () => openPortalAction(),
    onSuccess: (result) => {
      if (result.ok) window.location.assign(result.url);
      else setError(result.error.message);
    },
    onError: () => setError("Pacer could not reach Stripe just now. Try again in a moment."),
  });
  return (
    <div className="grid gap-1">
      <Button size="sm" variant={variant} disabled={open.isPending || open.isSuccess} onClick={() => open.mutate()}>
        <ExternalLink aria-hidden />
        {open.isPending ? "Opening…" : label}
      </Button>
      {error && (
        <p role="alert" className="text-sm text-destructive">
          {error}
        </p>
      )}
    </div>
  );
}
