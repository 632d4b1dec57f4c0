// Review queue: what Pacer could not decide by itself, with the decisions a person makes.
import type { Metadata } from "next";
import { ReviewPage } from "@/components/review/review-page";
import { requireUser } from "@/lib/auth";
import { workspaceAccess } from "@/lib/workspaces";

export const metadata: Metadata = { title: "Review" };

export default async function Page() {
  const user = await requireUser();
  // Decisions are for editors and up (the API refuses viewers); viewers see the queue without them.
  const { canAct } = await workspaceAccess(user);
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Review</h1>
        <p className="text-muted-foreground">Posts and accounts that need a person: every decision is recorded with who made it.</p>
      </div>
      <ReviewPage canAct={canAct} />
    </div>
  );
}
