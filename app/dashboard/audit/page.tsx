// Audit log page: who did what in the workspace, filtered, paged and exported as CSV (admins and the owner).
import type { Metadata } from "next";
import { AuditPage } from "@/components/audit/audit-page";
import { requireUser } from "@/lib/auth";
import { workspaceAccess } from "@/lib/workspaces";

export const metadata: Metadata = { title: "Audit log" };

export default async function Page({ searchParams }: { searchParams: Promise<{ workspace?: string | string[] }> }) {
  const user = await requireUser();
  const { workspace } = await searchParams;
  const workspaceId = typeof workspace === "string" ? workspace : undefined;
  const { canTune, role } = await workspaceAccess(user, { workspaceId });
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Audit log</h1>
        <p className="text-muted-foreground">Every change that matters in this workspace: who made it, when, and what it changed.</p>
      </div>
      {canTune ? (
        <AuditPage workspaceId={workspaceId} />
      ) : (
        <p className="rounded-lg border border-dashed p-6 text-sm text-muted-foreground" data-testid="audit-admins-only">
          The audit log is for admins and the owner; your role here is {role ?? "none"}.
        </p>
      )}
    </div>
  );
}
