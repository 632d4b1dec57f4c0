"use client";
// The dashboard home: getting started (until done), the next posts, what failed or needs a person,
// and the plan's usage, all from one read (GET /api/home).
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import type { Home } from "@/lib/home";
import { UsageCard } from "@/components/accounts/usage-card";
import { Button } from "@/components/ui/button";
import { Card, CardAction, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { LoadState } from "@/components/ui/load-state";
import { GettingStarted } from "./getting-started";
import { ItemList, ItemTime } from "./item-list";
import { homeQuery } from "./queries";

export function HomePage() {
  const home = useQuery(homeQuery);
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Dashboard</h1>
        {home.data && (
          <p className="text-muted-foreground">
            {home.data.workspaceName} on the {home.data.usage.plan.name} plan.
          </p>
        )}
      </div>
      {home.data ? <Sections home={home.data} /> : <LoadState what="the dashboard" error={home.error} />}
    </div>
  );
}

function Sections({ home }: { home: Home }) {
  return (
    <>
      <GettingStarted steps={home.gettingStarted} canAct={home.canAct} />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <Upcoming home={home} />
        <NeedsAttention home={home} />
      </div>
      <UsageCard
        usage={home.usage}
        action={
          <Button asChild variant="outline" size="sm">
            <Link href="/dashboard/accounts">Manage accounts</Link>
          </Button>
        }
      />
    </>
  );
}

function Upcoming({ home }: { home: Home }) {
  return (
    <Card className="min-w-0">
      <CardHeader>
        <CardTitle>
          <h2>Upcoming posts</h2>
        </CardTitle>
        <CardDescription>The next posts waiting to go out, soonest first.</CardDescription>
        <CardAction>
          <Button asChild variant="outline" size="sm">
            <Link href="/dashboard/calendar">Calendar</Link>
          </Button>
        </CardAction>
      </CardHeader>
      <CardContent>
        {home.upcoming.length ? (
          <ItemList items={home.upcoming} label="Upcoming posts" detail={(item) => <ItemTime label="Scheduled for" at={item.scheduledFor} />} />
        ) : (
          <p className="text-sm text-muted-foreground">
            Nothing is scheduled.{" "}
            {home.canAct && (
              <Link href="/dashboard/compose" className="font-medium text-primary underline underline-offset-4">
                Compose a post
              </Link>
            )}
          </p>
        )}
      </CardContent>
    </Card>
  );
}

function NeedsAttention({ home }: { home: Home }) {
  const { failures, review } = home;
  const reviewTotal = review.items + review.accounts;
  return (
    <Card className="min-w-0">
      <CardHeader>
        <CardTitle>
          <h2>Needs attention</h2>
        </CardTitle>
        <CardDescription>Posts that failed, and what waits on a person&apos;s decision.</CardDescription>
      </CardHeader>
      <CardContent className="grid gap-6">
        {failures.total === 0 && reviewTotal === 0 && (
          <p className="text-sm text-muted-foreground">Nothing failed and nothing needs review.</p>
        )}
        {failures.total > 0 && (
          <section aria-labelledby="home-failures" className="grid gap-3">
            <div className="flex flex-wrap items-baseline justify-between gap-2">
              <h3 id="home-failures" className="font-medium" data-testid="home-failures-total">
                {failures.total} failed {failures.total === 1 ? "post" : "posts"}
              </h3>
              <Link href="/dashboard/queue?status=failed" className="text-sm font-medium text-primary underline underline-offset-4">
                See them in the queue
              </Link>
            </div>
            <ItemList
              items={failures.items}
              label="Recent failures"
              detail={(item) => (
                <>
                  {item.lastError && <p className="break-words text-destructive">{item.lastError}</p>}
                  <ItemTime label="Failed" at={item.updatedAt} />
                </>
              )}
            />
          </section>
        )}
        {reviewTotal > 0 && (
          <section aria-labelledby="home-review" className="grid gap-3">
            <div className="flex flex-wrap items-baseline justify-between gap-2">
              <h3 id="home-review" className="font-medium" data-testid="home-review-total">
                {[
                  review.items > 0 && `${review.items} ${review.items === 1 ? "post" : "posts"}`,
                  review.accounts > 0 && `${review.accounts} ${review.accounts === 1 ? "account" : "accounts"}`,
                ]
                  .filter(Boolean)
                  .join(" and ")}{" "}
                {reviewTotal === 1 ? "needs" : "need"} review
              </h3>
              <Link href="/dashboard/review" className="text-sm font-medium text-primary underline underline-offset-4">
                Open review
              </Link>
            </div>
            {review.latest.length > 0 && (
              <ItemList
                items={review.latest}
                label="Posts needing review"
                detail={(item) => (item.lastError ? <p className="break-words text-muted-foreground">{item.lastError}</p> : null)}
              />
            )}
          </section>
        )}
      </CardContent>
    </Card>
  );
}
