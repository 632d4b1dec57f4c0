// Calendar page: the workspace's posts by week or month; drag a waiting post to move it, open one to edit or cancel it.
import type { Metadata } from "next";
import { CalendarPage } from "@/components/calendar/calendar-page";
import { requireUser } from "@/lib/auth";

export const metadata: Metadata = { title: "Calendar" };

export default async function Page() {
  await requireUser();
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Calendar</h1>
        <p className="text-muted-foreground">Your posts by week or month: drag one that is still waiting to move it, or open it to edit or cancel it.</p>
      </div>
      <CalendarPage />
    </div>
  );
}
