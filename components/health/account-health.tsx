"use client";
// One account's health: its metrics over time against the baseline, its score series and what took
// points off it, its alerts, attempts, state changes and held destinations, with pause and resume.
import { WhenOrNone as When } from "@/components/time/optional-when";
import { useState } from "react";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { CartesianGrid, Line, LineChart, ReferenceLine, XAxis, YAxis } from "recharts";
import { ArrowLeft } from "lucide-react";
import { platformName } from "@/components/accounts/platforms";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { ChartContainer, ChartTooltip, ChartTooltipContent, type ChartConfig } from "@/components/ui/chart";
import { Label } from "@/components/ui/label";
import { LoadState } from "@/components/ui/load-state";
import { NativeSelect } from "@/components/ui/native-select";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { PauseResumeButton, ReleaseDestinationButton, ViewerNote } from "./account-actions";
import { AlertsTable } from "./alerts-table";
import { ApiError } from "@/lib/api/client";
import { useTimeZone } from "@/components/time/time-zone";
import { StateLegend } from "./state-legend";
import { ScoreBadge, SeverityBadge, StateBadge, formatNumber, shortTime, stateLabel } from "./labels";
import { accountHealthQuery } from "./queries";
import type { AccountHealth } from "./types";

const PERIODS = [1, 7, 30, 90] as const;

/** `canAct`: the person may pause, resume and release (editors and up in the account's workspace). */
export function AccountHealthPage({ accountId, canAct }: { accountId: string; canAct: boolean }) {
  const [days, setDays] = useState(7);
  const health = useQuery(accountHealthQuery(accountId, days));
  const back = (
    <Link href="/dashboard/health" className="inline-flex items-center gap-1 text-sm underline underline-offset-4">
      <ArrowLeft className="size-4" aria-hidden />
      All accounts&apos; health
    </Link>
  );
  if (!health.data) {
    const missing = health.error instanceof ApiError && health.error.status === 404;
    return (
      <div className="grid grid-cols-1 gap-6">
        {back}
        <h1 className="text-2xl font-semibold tracking-tight">Account health</h1>
        {missing ? (
          <p role="alert">This account does not exist in your workspace (it may have been removed).</p>
        ) : (
          <LoadState what="this account's health" error={health.error} />
        )}
      </div>
    );
  }
  const data = health.data;
  const { account } = data;
  return (
    <div className="grid grid-cols-1 gap-6">
      {back}
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="space-y-2">
          <h1 className="text-2xl font-semibold tracking-tight break-all">@{account.handle}</h1>
          <div className="flex flex-wrap items-center gap-2 text-sm text-muted-foreground">
            <span>{platformName(account.platform)}</span>
            <StateBadge state={account.state} />
            <ScoreBadge score={account.healthScore} />
          </div>
          {account.state === "paused" && (
            <p className="text-sm" data-testid="paused-note">
              Paused{account.pausedReason ? ` (${account.pausedReason.replace(/_/g, " ")})` : ""}: its queued posts wait until you resume it.
            </p>
          )}
          {account.lastError && <p className="text-sm text-destructive">{account.lastError}</p>}
          <StateLegend />
        </div>
        <div className="flex flex-wrap items-end gap-3">
          <div className="grid gap-2">
            <Label htmlFor="health-days">Period</Label>
            <NativeSelect id="health-days" value={days} onChange={(e) => setDays(Number(e.target.value))} className="w-36">
              {PERIODS.map((d) => (
                <option key={d} value={d}>
                  Last {d === 1 ? "day" : `${d} days`}
                </option>
              ))}
            </NativeSelect>
          </div>
          {canAct && <PauseResumeButton accountId={account.id} handle={account.handle} state={account.state} />}
        </div>
      </div>
      {!canAct && <ViewerNote />}
      <MetricsCard data={data} days={days} />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <ScoreSeriesCard data={data} asOf={health.dataUpdatedAt} />
        <BreakdownCard data={data} />
      </div>
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Alerts</h2>
          </CardTitle>
          <CardDescription>Open first. An alert resolves by itself once its condition clears with margin.</CardDescription>
        </CardHeader>
        <CardContent>
          <AlertsTable alerts={data.alerts} label={`Alerts of @${account.handle}`} showAccount={false} canAct={canAct} />
        </CardContent>
      </Card>
      <DestinationsCard data={data} canAct={canAct} />
      <AttemptsCard data={data} />
      <StateChangesCard data={data} />
    </div>
  );
}

const metrics = {
  reach: { label: "Reach", color: "var(--chart-1)" },
  engagement: { label: "Engagement", color: "var(--chart-2)" },
  followers: { label: "Followers", color: "var(--chart-3)" },
} satisfies ChartConfig;
type Metric = keyof typeof metrics;

function MetricsCard({ data, days }: { data: AccountHealth; days: number }) {
  const points = data.snapshots.map((s) => ({ ...s, at: new Date(s.takenAt).getTime() }));
  const { timeZone } = useTimeZone();
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Metrics over time</h2>
        </CardTitle>
        <CardDescription>
          {points.length} {points.length === 1 ? "snapshot" : "snapshots"} in the last {days === 1 ? "day" : `${days} days`}. The
          dashed line is the baseline: the median of the previous 7 days
          {data.baseline ? ` (${data.baseline.samples} samples)` : "; it starts with the account's first snapshot"}. Times in {timeZone}.
        </CardDescription>
      </CardHeader>
      <CardContent>
        {points.length === 0 ? (
          <p className="rounded-lg border border-dashed p-6 text-center text-sm text-muted-foreground">
            No snapshots yet. The next scan reads this account&apos;s metrics; Check all now on the health page reads them at once.
          </p>
        ) : (
          <div className="grid grid-cols-1 gap-6 md:grid-cols-3">
            {(Object.keys(metrics) as Metric[]).map((metric) => (
              <MetricChart key={metric} metric={metric} points={points} baseline={data.baseline?.[metric] ?? null} />
            ))}
          </div>
        )}
      </CardContent>
    </Card>
  );
}

function MetricChart({
  metric,
  points,
  baseline,
}: {
  metric: Metric;
  points: Array<AccountHealth["snapshots"][number] & { at: number }>;
  baseline: number | null;
}) {
  const { timeZone } = useTimeZone();
  const name = metrics[metric].label;
  const latest = [...points].reverse().find((p) => p[metric] != null)?.[metric] ?? null;
  const summary = `${name}: latest ${formatNumber(latest)}, baseline ${formatNumber(baseline)}.`;
  return (
    <section aria-label={name} className="grid gap-2">
      <h3 className="text-sm font-medium">
        {name}{" "}
        <span className="font-normal text-muted-foreground" data-testid={`${metric}-summary`}>
          latest {formatNumber(latest)} · baseline {formatNumber(baseline)}
        </span>
      </h3>
      <ChartContainer config={{ [metric]: metrics[metric] }} className="aspect-auto h-44 w-full" role="img" aria-label={summary} data-testid={`${metric}-chart`}>
        <LineChart data={points} margin={{ left: 4, right: 8, top: 8 }}>
          <CartesianGrid vertical={false} />
          <XAxis
            dataKey="at"
            type="number"
            scale="time"
            domain={["dataMin", "dataMax"]}
            tickFormatter={(at: number) => shortTime(new Date(at).toISOString(), timeZone)}
            tickLine={false}
            axisLine={false}
            minTickGap={40}
          />
          <YAxis tickLine={false} axisLine={false} width={44} tickFormatter={(v: number) => formatNumber(v)} />
          <ChartTooltip content={<ChartTooltipContent labelFormatter={(_, payload) => (payload[0]?.payload?.takenAt ? shortTime(String(payload[0].payload.takenAt), timeZone) : null)} />} />
          {baseline != null && (
            <ReferenceLine y={baseline} stroke="var(--muted-foreground)" strokeDasharray="4 4" ifOverflow="extendDomain" label={{ value: "baseline", position: "insideTopRight", fontSize: 10 }} />
          )}
          <Line dataKey={metric} type="monotone" stroke={`var(--color-${metric})`} strokeWidth={2} dot={points.length < 30} connectNulls isAnimationActive={false} />
        </LineChart>
      </ChartContainer>
    </section>
  );
}

const scoreConfig = { score: { label: "Score", color: "var(--chart-4)" } } satisfies ChartConfig;

function ScoreSeriesCard({ data, asOf }: { data: AccountHealth; asOf: number }) {
  const { timeZone } = useTimeZone();
  const points = data.scores.map((s) => ({ ...s, at: new Date(s.scoredAt).getTime() }));
  // A step series: carry the current score to when it was read, so the line reaches the present.
  if (points.length && asOf > points[points.length - 1].at) points.push({ ...points[points.length - 1], at: asOf });
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Score over time</h2>
        </CardTitle>
        <CardDescription>The score after each scan: 100 minus the points each firing rule takes. Times in {timeZone}.</CardDescription>
      </CardHeader>
      <CardContent>
        {points.length === 0 ? (
          <p className="text-sm text-muted-foreground">No score yet: the first scan scores this account.</p>
        ) : (
          <ChartContainer config={scoreConfig} className="aspect-auto h-48 w-full" role="img" aria-label={`Health score over time, now ${data.account.healthScore}.`} data-testid="score-chart">
            <LineChart data={points} margin={{ left: 4, right: 8, top: 8 }}>
              <CartesianGrid vertical={false} />
              <XAxis dataKey="at" type="number" scale="time" domain={["dataMin", "dataMax"]} tickFormatter={(at: number) => shortTime(new Date(at).toISOString(), timeZone)} tickLine={false} axisLine={false} minTickGap={40} />
              <YAxis domain={[0, 100]} tickLine={false} axisLine={false} width={32} />
              <ChartTooltip content={<ChartTooltipContent labelFormatter={(_, payload) => (payload[0]?.payload?.at ? shortTime(new Date(Number(payload[0].payload.at)).toISOString(), timeZone) : null)} />} />
              <Line dataKey="score" type="stepAfter" stroke="var(--color-score)" strokeWidth={2} dot={false} isAnimationActive={false} />
            </LineChart>
          </ChartContainer>
        )}
      </CardContent>
    </Card>
  );
}

function BreakdownCard({ data }: { data: AccountHealth }) {
  const taken = data.breakdown.reduce((sum, b) => sum + b.points, 0);
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Score breakdown</h2>
        </CardTitle>
        <CardDescription data-testid="breakdown-sum">
          100 − {taken} = {Math.max(0, 100 - taken)}
          {Math.max(0, 100 - taken) !== data.account.healthScore ? ` (stored score ${data.account.healthScore})` : ""}
        </CardDescription>
      </CardHeader>
      <CardContent>
        {data.breakdown.length === 0 ? (
          <p className="text-sm text-muted-foreground">No rule takes points off this account: it scores 100.</p>
        ) : (
          <Table data-cards aria-label="Score breakdown">
            <TableHeader>
              <TableRow>
                <TableHead>Rule</TableHead>
                <TableHead>Severity</TableHead>
                <TableHead className="text-right">Points</TableHead>
                <TableHead>Seen / threshold</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {data.breakdown.map((b) => (
                <TableRow key={b.rule}>
                  <TableCell className="whitespace-normal">{b.name}</TableCell>
                  <TableCell data-label="Severity">
                    <SeverityBadge severity={b.severity} />
                  </TableCell>
                  <TableCell data-label="Points" className="text-right tabular-nums">−{b.points}</TableCell>
                  <TableCell data-label="Seen / threshold" className="tabular-nums">
                    {formatNumber(b.observed)} / {formatNumber(b.threshold)}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  );
}

function DestinationsCard({ data, canAct }: { data: AccountHealth; canAct: boolean }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Destinations</h2>
        </CardTitle>
        <CardDescription>
          A destination (a subreddit, group or channel) that keeps rejecting posts is held: only posts to it wait, the account keeps posting elsewhere.
        </CardDescription>
      </CardHeader>
      <CardContent>
        {data.destinations.length === 0 ? (
          <p className="text-sm text-muted-foreground">No destination has rejected this account&apos;s posts.</p>
        ) : (
          <Table data-cards aria-label="Destinations">
            <TableHeader>
              <TableRow>
                <TableHead>Destination</TableHead>
                <TableHead>Rejections</TableHead>
                <TableHead>Reason</TableHead>
                <TableHead>Held</TableHead>
                <TableHead>
                  <span className="sr-only">Actions</span>
                </TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {data.destinations.map((d) => {
                const held = d.heldAt && !d.releasedAt;
                return (
                  <TableRow key={d.destination}>
                    <TableCell className="font-medium">{d.destination}</TableCell>
                    <TableCell data-label="Rejections" className="tabular-nums">{d.rejections}</TableCell>
                    <TableCell data-label="Reason" className="min-w-40 whitespace-normal">{d.reason ?? "—"}</TableCell>
                    <TableCell data-label="Held">{held ? <When at={d.heldAt} /> : d.releasedAt ? <span>Released <When at={d.releasedAt} /></span> : "Not held"}</TableCell>
                    <TableCell>{held && canAct && <ReleaseDestinationButton accountId={data.account.id} destination={d.destination} />}</TableCell>
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  );
}

function AttemptsCard({ data }: { data: AccountHealth }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Recent attempts</h2>
        </CardTitle>
        <CardDescription>The latest publish and verify attempts on this account, newest first.</CardDescription>
      </CardHeader>
      <CardContent>
        {data.attempts.length === 0 ? (
          <p className="text-sm text-muted-foreground">No attempts yet.</p>
        ) : (
          <Table data-cards aria-label="Recent attempts">
            <TableHeader>
              <TableRow>
                <TableHead>Finished</TableHead>
                <TableHead>Kind</TableHead>
                <TableHead>Outcome</TableHead>
                <TableHead>Destination</TableHead>
                <TableHead>Post id / error</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {data.attempts.map((a, i) => (
                <TableRow key={`${a.finishedAt}-${i}`}>
                  <TableCell data-label="Finished">
                    <When at={a.finishedAt} />
                  </TableCell>
                  <TableCell data-label="Kind">{a.kind}</TableCell>
                  <TableCell data-label="Outcome">{a.outcome.replace(/_/g, " ")}</TableCell>
                  <TableCell data-label="Destination">{a.destination ?? "—"}</TableCell>
                  <TableCell data-label="Post id / error" className="min-w-40 whitespace-normal break-all">{a.errorMessage ?? a.externalId ?? "—"}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  );
}

function StateChangesCard({ data }: { data: AccountHealth }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>State changes</h2>
        </CardTitle>
        <CardDescription>Every pause and resume, by whom or by which rule.</CardDescription>
      </CardHeader>
      <CardContent>
        {data.stateChanges.length === 0 ? (
          <p className="text-sm text-muted-foreground">No state changes recorded.</p>
        ) : (
          <Table data-cards aria-label="State changes">
            <TableHeader>
              <TableRow>
                <TableHead>When</TableHead>
                <TableHead>Change</TableHead>
                <TableHead>By</TableHead>
                <TableHead>Reason</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {data.stateChanges.map((c, i) => (
                <TableRow key={`${c.at}-${i}`}>
                  <TableCell data-label="When">
                    <When at={c.at} />
                  </TableCell>
                  <TableCell data-label="Change">
                    {stateLabel(c.from)} → {stateLabel(c.to)}
                  </TableCell>
                  <TableCell data-label="By">{c.by ?? (c.actorId ? "a person" : "Pacer")}</TableCell>
                  <TableCell data-label="Reason" className="min-w-40 whitespace-normal">{c.reason ?? c.action}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  );
}

