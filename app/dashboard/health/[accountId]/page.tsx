// Account health: one account's metrics against its baseline, its score and what took points off
// it, its alerts, attempts, state changes and held destinations, with pause and resume.
import type { Metadata } from "next";
import { AccountHealthPage } from "@/components/health/account-health";
import { requireUser } from "@/lib/auth";
import { workspaceAccess } from "@/lib/workspaces";

export const metadata: Metadata = { title: "Account health" };

export default async function Page({ params }: { params: Promise<{ accountId: string }> }) {
  const user = await requireUser();
  const { accountId } = await params;
  // The role in the account's own workspace: viewers are not offered pause, resume or release.
  const { canAct } = await workspaceAccess(user, { accountId });
  return <AccountHealthPage accountId={accountId} canAct={canAct} />;
}
