// Approvals page: editors' posts waiting for an admin's approval, and the setting that makes them wait.
import type { Metadata } from "next";
import { ApprovalsPage } from "@/components/approvals/approvals-page";
import { requireUser } from "@/lib/auth";

export const metadata: Metadata = { title: "Approvals" };

export default async function Page({ searchParams }: { searchParams: Promise<{ workspace?: string | string[] }> }) {
  await requireUser();
  const { workspace } = await searchParams;
  const workspaceId = typeof workspace === "string" ? workspace : undefined;
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Approvals</h1>
        <p className="text-muted-foreground">Posts editors queued that wait for an admin or the owner to approve them.</p>
      </div>
      <ApprovalsPage workspaceId={workspaceId} />
    </div>
  );
}
