// Billing page: the workspace's plan and subscription, usage against the plan, plan changes and the Stripe portal.
import type { Metadata } from "next";
import { BillingPage } from "@/components/billing/billing-page";
import { requireUser } from "@/lib/auth";

export const metadata: Metadata = { title: "Billing" };

type SearchParams = Promise<{ checkout?: string | string[]; portal?: string | string[] }>;

export default async function Page({ searchParams }: { searchParams: SearchParams }) {
  await requireUser();
  const { checkout } = await searchParams;
  // Stripe Checkout sends the subscriber back with ?checkout=success or ?checkout=canceled.
  const returnedFrom = checkout === "success" || checkout === "canceled" ? checkout : null;
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Billing</h1>
        <p className="text-muted-foreground">Your plan sets how many social accounts this workspace can connect.</p>
      </div>
      <BillingPage checkout={returnedFrom} />
    </div>
  );
}
