// Webhooks page: the workspace's endpoints, the events they hear, and each one's delivery log (admins and owners).
import type { Metadata } from "next";
import { WebhooksPage } from "@/components/webhooks/webhooks-page";
import { requireUser } from "@/lib/auth";

export const metadata: Metadata = { title: "Webhooks" };

export default async function Page() {
  await requireUser();
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Webhooks</h1>
        <p className="text-muted-foreground">Tell your own systems when posts go live or fail and when accounts pause, resume or raise an alert.</p>
      </div>
      <WebhooksPage />
    </div>
  );
}
