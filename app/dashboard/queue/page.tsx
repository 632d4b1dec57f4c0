// Queue page: watch the queue drain live; filter, search and page through it; cancel, retry, reschedule or restore many items at once; open an item to see its attempts, edit or duplicate it; run processing now.
import type { Metadata } from "next";
import { QueuePage } from "@/components/queue/queue-page";
import { requireUser } from "@/lib/auth";

export const metadata: Metadata = { title: "Queue" };

export default async function Page() {
  await requireUser();
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Queue</h1>
        <p className="text-muted-foreground">Every post on its way to your accounts: waiting, publishing, posted or in trouble.</p>
      </div>
      <QueuePage />
    </div>
  );
}
