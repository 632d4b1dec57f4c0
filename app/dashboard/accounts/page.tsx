// Accounts page: connect, rename and remove the workspace's social accounts within the plan's limit.
import type { Metadata } from "next";
import { AccountsPage } from "@/components/accounts/accounts-page";
import { requireUser } from "@/lib/auth";
import { offeredConnections } from "@/lib/accounts/offered";

export const metadata: Metadata = { title: "Accounts" };

export default async function Page() {
  await requireUser();
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Accounts</h1>
        <p className="text-muted-foreground">The social accounts Pacer publishes to for this workspace.</p>
      </div>
      <AccountsPage offered={offeredConnections()} />
    </div>
  );
}
