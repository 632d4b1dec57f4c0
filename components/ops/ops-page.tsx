"use client";
// The operators' view of the installation: warnings first, then success, time to post, queue lag,
// stuck, orphaned, duplicates and verification, per platform and per workspace, and the schedule.
// Anyone else is told why they cannot see it.
import { WhenOrNone as When } from "@/components/time/optional-when";
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { CircleAlert, ShieldAlert } from "lucide-react";
import { platformName } from "@/components/accounts/platforms";
import { ApiError } from "@/lib/api/client";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Card, CardAction, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { LoadState } from "@/components/ui/load-state";
import { NativeSelect } from "@/components/ui/native-select";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import type { OpsMetrics, ScopeMetrics } from "@/lib/ops/metrics";
import type { SchedulerStatus, SchedulerWarning } from "@/lib/ops/scheduler";
import { opsMetricsQuery, schedulerQuery } from "./queries";

const WINDOWS = { "1h": "Last hour", "24h": "Last 24 hours", "7d": "Last 7 days" } as const;
type Window = keyof typeof WINDOWS;

export function OpsPage() {
  const [period, setPeriod] = useState<Window>("24h");
  const metrics = useQuery(opsMetricsQuery(period));
  const scheduler = useQuery(schedulerQuery);

  const refused = [metrics.error, scheduler.error].find((e) => e instanceof ApiError && e.status === 403) as ApiError | undefined;
  if (refused) return <NotAnOperator message={refused.message} />;

  return (
    <div className="grid grid-cols-1 gap-6">
      {metrics.data || scheduler.data ? (
        <Warnings warnings={metrics.data?.warnings ?? scheduler.data?.warnings ?? []} />
      ) : null}
      <div className="flex flex-wrap items-end gap-3">
        <div className="grid gap-2">
          <Label htmlFor="ops-window">Window</Label>
          <NativeSelect id="ops-window" value={period} onChange={(e) => setPeriod(e.target.value as Window)} className="w-44">
            {(Object.keys(WINDOWS) as Window[]).map((w) => (
              <option key={w} value={w}>
                {WINDOWS[w]}
              </option>
            ))}
          </NativeSelect>
        </div>
        {metrics.data && (
          <p className="text-sm text-muted-foreground">
            Checked <When at={metrics.data.checked_at} />
          </p>
        )}
      </div>
      {metrics.data ? <Metrics metrics={metrics.data} /> : <LoadState what="the installation's metrics" error={metrics.error} />}
      {scheduler.data ? <Schedule status={scheduler.data} /> : <LoadState what="the schedule" error={scheduler.error} />}
    </div>
  );
}

function NotAnOperator({ message }: { message: string }) {
  return (
    <Alert data-testid="operators-only">
      <ShieldAlert aria-hidden />
      <AlertTitle>For the installation&apos;s operators only</AlertTitle>
      <AlertDescription>
        <p>
          This page shows how the whole installation publishes, across every workspace, so only its operators can read it. You
          are not one of them, and your own workspaces are unaffected.
        </p>
        <p>
          Your queue, account health and review queue are on their own pages. Operators are set up by whoever runs Pacer
          (docs/deploying.md, &quot;Operators&quot;).
        </p>
        <p className="text-xs">{message}</p>
      </AlertDescription>
    </Alert>
  );
}

function Warnings({ warnings }: { warnings: SchedulerWarning[] }) {
  if (warnings.length === 0) {
    return (
      <p role="status" className="rounded-lg border p-4 text-sm" data-testid="no-warnings">
        No warnings: the schedule runs and publishing is within its alerts (success at least 95 %, no duplicates).
      </p>
    );
  }
  return (
    <section aria-labelledby="ops-warnings" className="grid gap-3">
      <h2 id="ops-warnings" className="text-lg font-semibold">
        Warnings
      </h2>
      {warnings.map((w, i) => (
        <Alert key={`${w.code}-${w.function_name}-${i}`} variant="destructive">
          <CircleAlert aria-hidden />
          <AlertTitle>
            {w.code.replace(/_/g, " ")} · {w.function_name}
          </AlertTitle>
          <AlertDescription>
            <p className="break-words">{w.message}</p>
            {w.since && (
              <p>
                Since <When at={w.since} />
              </p>
            )}
          </AlertDescription>
        </Alert>
      ))}
    </section>
  );
}

const percent = (rate: number | null | undefined) => (rate == null ? "—" : `${Math.round(rate * 1000) / 10}%`);

function duration(seconds: number | null | undefined): string {
  if (seconds == null) return "—";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 360) / 10} h`;
  return `${Math.round(seconds / 8640) / 10} d`;
}

const stuckOf = (m: ScopeMetrics) => m.stuck.past_lease + m.stuck.verifying_overdue + m.stuck.needs_review_overdue;
const orphanedOf = (m: ScopeMetrics) => m.orphaned.leases_not_recovered + m.orphaned.history_without_item;

function isScope(m: OpsMetrics["overall"]): m is ScopeMetrics {
  return "finished" in m;
}

function Metrics({ metrics }: { metrics: OpsMetrics }) {
  const overall = metrics.overall;
  if (!isScope(overall)) {
    return (
      <Card>
        <CardContent>
          <p className="text-sm text-muted-foreground">Nothing has been published on this installation yet.</p>
        </CardContent>
      </Card>
    );
  }
  const figures: Array<{ id: string; label: string; value: string; detail: string }> = [
    { id: "success-rate", label: "Success rate", value: percent(overall.success_rate), detail: `${overall.posted} posted of ${overall.finished} finished` },
    {
      id: "time-to-post",
      label: "Time to post p50 / p95",
      value: `${duration(overall.time_to_post_seconds.p50)} / ${duration(overall.time_to_post_seconds.p95)}`,
      detail: "from scheduled to posted",
    },
    { id: "queue-lag", label: "Queue lag", value: duration(overall.queue_lag_seconds), detail: "the oldest due item's wait, now" },
    {
      id: "stuck",
      label: "Stuck",
      value: String(stuckOf(overall)),
      detail: `${overall.stuck.past_lease} past lease, ${overall.stuck.verifying_overdue} verifying overdue, ${overall.stuck.needs_review_overdue} review overdue`,
    },
    {
      id: "orphaned",
      label: "Orphaned",
      value: String(orphanedOf(overall)),
      detail: `${overall.orphaned.leases_not_recovered} leases not recovered, ${overall.orphaned.history_without_item} attempts without item`,
    },
    { id: "duplicates", label: "Duplicates", value: String(overall.duplicates), detail: `${percent(overall.duplicate_rate)} of ${overall.published} published` },
    {
      id: "verification",
      label: "Verification",
      value: percent(overall.verification_rate),
      detail: `${overall.verified} verified; ${overall.lookups_unanswered} of ${overall.lookups} lookups unanswered`,
    },
  ];
  return (
    <>
      <section aria-labelledby="ops-overall" className="grid gap-3">
        <h2 id="ops-overall" className="text-lg font-semibold">
          Overall
        </h2>
        <dl className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
          {figures.map((f) => (
            <div key={f.id} className="grid gap-1 rounded-xl border bg-card p-4" role="group" aria-label={f.label}>
              <dt className="text-sm text-muted-foreground">{f.label}</dt>
              <dd className="text-2xl font-semibold tabular-nums" data-testid={`ops-${f.id}`}>
                {f.value}
              </dd>
              <dd className="text-xs text-muted-foreground">{f.detail}</dd>
            </div>
          ))}
        </dl>
      </section>
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Per platform</h2>
          </CardTitle>
        </CardHeader>
        <CardContent>
          <ScopeTable label="Metrics per platform" rows={metrics.platforms.map((p) => ({ key: p.platform, name: platformName(p.platform), m: p }))} />
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Per workspace</h2>
          </CardTitle>
          <CardDescription>At most 100: most failures, duplicates and stuck items first.</CardDescription>
        </CardHeader>
        <CardContent>
          <ScopeTable label="Metrics per workspace" rows={metrics.workspaces.map((w) => ({ key: w.workspace_id, name: w.name, m: w }))} />
        </CardContent>
      </Card>
    </>
  );
}

function ScopeTable({ label, rows }: { label: string; rows: Array<{ key: string; name: string; m: ScopeMetrics }> }) {
  if (rows.length === 0) return <p className="text-sm text-muted-foreground">Nothing in this window.</p>;
  return (
    <Table data-cards aria-label={label}>
      <TableHeader>
        <TableRow>
          <TableHead>Name</TableHead>
          <TableHead className="text-right">Success</TableHead>
          <TableHead className="text-right">Finished</TableHead>
          <TableHead className="text-right">p50 / p95</TableHead>
          <TableHead className="text-right">Lag</TableHead>
          <TableHead className="text-right">Stuck</TableHead>
          <TableHead className="text-right">Orphaned</TableHead>
          <TableHead className="text-right">Duplicates</TableHead>
          <TableHead className="text-right">Verified</TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {rows.map(({ key, name, m }) => (
          <TableRow key={key}>
            <TableCell className="font-medium">{name}</TableCell>
            <TableCell data-label="Success" className="text-right tabular-nums">{percent(m.success_rate)}</TableCell>
            <TableCell data-label="Finished" className="text-right tabular-nums">{m.finished}</TableCell>
            <TableCell data-label="Time to post p50 / p95" className="text-right tabular-nums">
              {duration(m.time_to_post_seconds.p50)} / {duration(m.time_to_post_seconds.p95)}
            </TableCell>
            <TableCell data-label="Lag" className="text-right tabular-nums">{duration(m.queue_lag_seconds)}</TableCell>
            <TableCell data-label="Stuck" className="text-right tabular-nums">{stuckOf(m)}</TableCell>
            <TableCell data-label="Orphaned" className="text-right tabular-nums">{orphanedOf(m)}</TableCell>
            <TableCell data-label="Duplicates" className="text-right tabular-nums">{m.duplicates}</TableCell>
            <TableCell data-label="Verified" className="text-right tabular-nums">{percent(m.verification_rate)}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

function Schedule({ status }: { status: SchedulerStatus }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Scheduled functions</h2>
        </CardTitle>
        <CardDescription>Each scheduled function&apos;s last call and how the last hour went.</CardDescription>
        <CardAction className="text-xs text-muted-foreground">
          <When at={status.checked_at} />
        </CardAction>
      </CardHeader>
      <CardContent>
        {status.functions.length === 0 ? (
          <p className="text-sm text-muted-foreground">No scheduled function is registered.</p>
        ) : (
          <Table data-cards aria-label="Scheduled functions">
            <TableHeader>
              <TableRow>
                <TableHead>Function</TableHead>
                <TableHead>Every</TableHead>
                <TableHead>Last call</TableHead>
                <TableHead>Answer</TableHead>
                <TableHead>Last success</TableHead>
                <TableHead className="text-right">Calls / failures (hour)</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {status.functions.map((f) => (
                <TableRow key={f.function_name}>
                  <TableCell className="font-medium">
                    {f.function_name}
                    {!f.enabled && <span className="text-muted-foreground"> (disabled)</span>}
                  </TableCell>
                  <TableCell data-label="Every">{duration(f.every_seconds)}</TableCell>
                  <TableCell data-label="Last call">
                    <When at={f.last_call_at} />
                  </TableCell>
                  <TableCell data-label="Answer" className="max-w-64 whitespace-normal wrap-anywhere">
                    {f.last_status ?? "—"}
                    {f.last_error ? ` · ${f.last_error}` : ""}
                  </TableCell>
                  <TableCell data-label="Last success">
                    <When at={f.last_success_at} />
                  </TableCell>
                  <TableCell data-label="Calls / failures (hour)" className="text-right tabular-nums">
                    {f.calls_last_hour} / {f.failures_last_hour}
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
