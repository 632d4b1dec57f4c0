// Operations: how the whole installation publishes, for its operators (anyone else is told why not).
import type { Metadata } from "next";
import { OpsPage } from "@/components/ops/ops-page";
import { requireUser } from "@/lib/auth";

export const metadata: Metadata = { title: "Ops" };

export default async function Page() {
  await requireUser();
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Ops</h1>
        <p className="text-muted-foreground">
          For the installation&apos;s operators: success, time to post, queue lag and the schedule, across every workspace.
        </p>
      </div>
      <OpsPage />
    </div>
  );
}
