// Dashboard overview: the workspace's plan usage and the way to its accounts.
import type { Metadata } from "next";
import Link from "next/link";
import { UsageCard } from "@/components/accounts/usage-card";
import { Button } from "@/components/ui/button";
import { requireUser } from "@/lib/auth";
import { getUsage } from "@/lib/workspaces";

export const metadata: Metadata = { title: "Dashboard" };

export default async function DashboardPage() {
  const user = await requireUser();
  const usage = await getUsage(user);
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Dashboard</h1>
        <p className="text-muted-foreground">
          {usage.workspaceName} on the {usage.plan.name} plan.
        </p>
      </div>
      <UsageCard
        usage={usage}
        action={
          <Button asChild variant="outline" size="sm">
            <Link href="/dashboard/accounts">Manage accounts</Link>
          </Button>
        }
      />
    </div>
  );
}
