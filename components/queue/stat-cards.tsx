// The queue at a glance: total, waiting or under way, posted with the success rate, and what needs
// attention. Each status counts in one card only (a rate-limited item is waiting, not an issue).
import type { ReactNode } from "react";
import { CircleCheck, Clock, ListOrdered, TriangleAlert } from "lucide-react";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import type { QueueStatusSummary } from "@/lib/queue/types";
import { ISSUES, WAITING, sum } from "./statuses";

const number = new Intl.NumberFormat("en");
const percent = new Intl.NumberFormat("en", { style: "percent", maximumFractionDigits: 1 });

/** "2 pending · 1 rate limited": the parts a card's figure is made of. */
const breakdown = (parts: Array<[number, string]>) => parts.map(([n, what]) => `${number.format(n)} ${what}`).join(" · ");

export function StatCards({ status }: { status: QueueStatusSummary }) {
  const { counts } = status;
  const successRate = status.successRate === null ? "No results yet" : `${percent.format(status.successRate)} success rate`;
  return (
    <section aria-label="Queue summary" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
      <Stat id="total" title="Total" icon={<ListOrdered aria-hidden />} value={status.total} detail="Every item in the queue" />
      <Stat
        id="waiting"
        title="Pending + processing"
        icon={<Clock aria-hidden />}
        value={sum(counts, WAITING)}
        detail={breakdown([
          [counts.pending, "pending"],
          [counts.rate_limited, "rate limited"],
          [counts.processing + counts.verifying, "publishing"],
        ])}
      />
      <Stat
        id="posted"
        title="Posted"
        icon={<CircleCheck aria-hidden />}
        value={counts.posted}
        detail={<span data-testid="success-rate">{successRate}</span>}
      />
      <Stat
        id="issues"
        title="Issues"
        icon={<TriangleAlert aria-hidden />}
        value={sum(counts, ISSUES)}
        detail={breakdown([
          [counts.failed, "failed"],
          [counts.needs_review, "need review"],
        ])}
      />
    </section>
  );
}

function Stat({ id, title, icon, value, detail }: { id: string; title: string; icon: ReactNode; value: number; detail: ReactNode }) {
  const headingId = `stat-${id}-title`;
  return (
    <Card role="group" aria-labelledby={headingId} data-testid={`stat-${id}`} className="gap-2">
      <CardHeader className="flex flex-row items-center justify-between gap-2">
        <CardTitle className="text-sm font-medium text-muted-foreground">
          <h2 id={headingId}>{title}</h2>
        </CardTitle>
        <span className="text-muted-foreground [&>svg]:size-4">{icon}</span>
      </CardHeader>
      <CardContent className="grid gap-1">
        <p className="text-2xl font-semibold tabular-nums" data-testid={`stat-${id}-value`}>
          {number.format(value)}
        </p>
        <CardDescription>{detail}</CardDescription>
      </CardContent>
    </Card>
  );
}
