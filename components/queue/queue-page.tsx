"use client";
// The queue page's live content: stat cards, Process now, the compose form, the latest items and how it all works.
import { useQuery } from "@tanstack/react-query";
import { Card, CardAction, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { ComposeForm } from "./compose-form";
import { HowItWorks } from "./how-it-works";
import { ProcessNowButton } from "./process-now-button";
import { LATEST, isBusy, queueItemsQuery, queueStatusQuery } from "./queries";
import { QueueTable } from "./queue-table";
import { StatCards } from "./stat-cards";
import { LoadState } from "@/components/ui/load-state";

export function QueuePage() {
  const status = useQuery(queueStatusQuery);
  const items = useQuery(queueItemsQuery(isBusy(status.data)));

  return (
    <div className="grid grid-cols-1 gap-6">
      {status.data ? <StatCards status={status.data} /> : <LoadState what="queue counts" error={status.error} />}
      <ComposeForm />
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Latest items</h2>
          </CardTitle>
          <CardDescription>The {LATEST} newest queue items, updated live.</CardDescription>
          <CardAction>
            <ProcessNowButton />
          </CardAction>
        </CardHeader>
        <CardContent>
          {items.data ? <QueueTable items={items.data.items} /> : <LoadState what="queue items" error={items.error} />}
        </CardContent>
      </Card>
      <HowItWorks />
    </div>
  );
}

