"use client";
// The queue page's live content: stat cards, Process now with when the next scheduled run is, the
// queue itself (filters, paging, bulk actions, row detail) and how it all works. Posts are written
// on the Compose page.
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { PenLine } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Card, CardAction, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { LoadState } from "@/components/ui/load-state";
import { useNow } from "@/components/time/when";
import { HowItWorks } from "./how-it-works";
import { nextRunSentence } from "./describe";
import { ProcessNowButton } from "./process-now-button";
import { isBusy, queueStatusQuery } from "./queries";
import { QueueList } from "./queue-list";
import { StatCards } from "./stat-cards";

export function QueuePage() {
  const status = useQuery(queueStatusQuery);
  const now = useNow(15_000);

  return (
    <div className="grid grid-cols-1 gap-6">
      {status.data ? <StatCards status={status.data} /> : <LoadState what="queue counts" error={status.error} />}
      <Card className="min-w-0">
        <CardHeader>
          <CardTitle>
            <h2>Queue</h2>
          </CardTitle>
          <CardDescription data-testid="next-run">
            {status.data ? nextRunSentence(status.data.schedule, now) : "Every post on its way, latest scheduled first."}
          </CardDescription>
          <CardAction className="flex flex-wrap justify-end gap-2 max-sm:col-span-2 max-sm:row-start-3 max-sm:justify-start">
            <Button asChild variant="outline">
              <Link href="/dashboard/compose">
                <PenLine aria-hidden />
                Compose
              </Link>
            </Button>
            <ProcessNowButton />
          </CardAction>
        </CardHeader>
        <CardContent className="min-w-0">
          <QueueList busy={isBusy(status.data)} />
        </CardContent>
      </Card>
      <HowItWorks />
    </div>
  );
}
