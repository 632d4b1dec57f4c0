// Team page: who is in the workspace and with which role; invitations, leaving and ownership.
import type { Metadata } from "next";
import { TeamPage } from "@/components/team/team-page";
import { requireUser } from "@/lib/auth";

export const metadata: Metadata = { title: "Team" };

export default async function Page({ searchParams }: { searchParams: Promise<{ workspace?: string | string[] }> }) {
  await requireUser();
  const { workspace } = await searchParams;
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Team</h1>
        <p className="text-muted-foreground">Who works in this workspace, and what each of them may do.</p>
      </div>
      <TeamPage workspaceId={typeof workspace === "string" ? workspace : undefined} />
    </div>
  );
}
