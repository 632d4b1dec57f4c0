// Health overview: how every account of the workspace is doing, the ones at risk (pause them in one
// click), the alerts, and the workspace's auto-pause settings and rules.
import type { Metadata } from "next";
import { HealthOverviewPage } from "@/components/health/health-overview";
import { requireUser } from "@/lib/auth";
import { workspaceAccess } from "@/lib/workspaces";

export const metadata: Metadata = { title: "Health" };

export default async function Page() {
  const user = await requireUser();
  // Editors and up act (pause, acknowledge, check), admins and owners tune (the API refuses anyone
  // else); the page does not offer others what would be refused.
  const { canAct, canTune } = await workspaceAccess(user);
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Health</h1>
        <p className="text-muted-foreground">
          Every account&apos;s health score, what took points off it, and the accounts to pause before a platform acts.
        </p>
      </div>
      <HealthOverviewPage canAct={canAct} canTune={canTune} />
    </div>
  );
}
