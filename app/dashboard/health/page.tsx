// Health overview: how every account of the workspace is doing, the ones at risk (pause them in one
// click), the alerts, and the workspace's auto-pause settings and rules.
import type { Metadata } from "next";
import { HealthOverviewPage } from "@/components/health/health-overview";
import { requireUser } from "@/lib/auth";
import { asUser } from "@/lib/db";
import { resolveWorkspaceId } from "@/lib/workspaces";

export const metadata: Metadata = { title: "Health" };

export default async function Page() {
  const user = await requireUser();
  // Only admins and owners tune health (the API refuses anyone else); the page shows others the
  // settings read-only instead of offering changes that would be refused.
  const role = await asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, null);
    const [member] = await tx`
      select role from public.workspace_members where workspace_id = ${workspaceId} and user_id = (select auth.uid())`;
    return member?.role as string | undefined;
  });
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Health</h1>
        <p className="text-muted-foreground">
          Every account&apos;s health score, what took points off it, and the accounts to pause before a platform acts.
        </p>
      </div>
      <HealthOverviewPage canTune={role === "owner" || role === "admin"} />
    </div>
  );
}
