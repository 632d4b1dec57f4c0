"use client";
// The health overview: score distribution, open alerts by severity, at-risk accounts with one-click
// pause and "pause all at-risk", Check all now, the alerts, and the workspace's health settings and rules.
import { WhenOrNone as When } from "@/components/time/optional-when";
import { useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { Bar, BarChart, CartesianGrid, XAxis, YAxis } from "recharts";
import { RefreshCw } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Card, CardAction, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { ChartContainer, ChartTooltip, ChartTooltipContent, type ChartConfig } from "@/components/ui/chart";
import { LoadState } from "@/components/ui/load-state";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { ActionError, PauseResumeButton, ViewerNote } from "./account-actions";
import { AlertsTable } from "./alerts-table";
import { failureMessage, sendJson } from "@/lib/api/client";
import { AccountCell, ScoreBadge, SeverityBadge, StateBadge } from "./labels";
import { healthOverviewQuery, useRefreshHealth } from "./queries";
import { HealthSettingsCard } from "./settings-card";
import { StateLegend } from "./state-legend";
import type { AtRiskAccount, HealthOverview, Severity } from "./types";

/** `canAct`: editors and up (pause, acknowledge, check); `canTune`: admins and owners (settings, rules). */
export function HealthOverviewPage({ canAct, canTune }: { canAct: boolean; canTune: boolean }) {
  const overview = useQuery(healthOverviewQuery);
  if (!overview.data) return <LoadState what="account health" error={overview.error} />;
  const data = overview.data;
  return (
    <div className="grid grid-cols-1 gap-6">
      {!canAct && <ViewerNote />}
      <SummaryCards overview={data} canAct={canAct} />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <ScoreDistributionCard overview={data} />
        <OpenAlertsCard overview={data} />
      </div>
      <AtRiskCard atRisk={data.atRisk} total={data.atRiskTotal} canAct={canAct} />
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Alerts</h2>
          </CardTitle>
          <CardDescription>Open alerts first, then the latest resolved. Acknowledge one to say a person has seen it.</CardDescription>
        </CardHeader>
        <CardContent>
          <AlertsTable alerts={data.alerts} label="Health alerts" showAccount canAct={canAct} />
        </CardContent>
      </Card>
      <HealthSettingsCard settings={data.settings} canTune={canTune} />
    </div>
  );
}

function SummaryCards({ overview, canAct }: { overview: HealthOverview; canAct: boolean }) {
  const refresh = useRefreshHealth();
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const checkAll = useMutation({
    mutationFn: () =>
      sendJson<{ requested: number; scanned: { recorded: number; alertsOpened: number; accountsPaused: number } }>(
        "POST",
        "/api/accounts/health/check-all",
      ),
    onSuccess: async ({ scanned }) => {
      setError(null);
      const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
      setResult(
        `Checked ${plural(scanned.recorded, "account", "accounts")} just now: ${plural(scanned.alertsOpened, "alert", "alerts")} opened, ${plural(scanned.accountsPaused, "account", "accounts")} paused.`,
      );
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Workspace health</h2>
        </CardTitle>
        <CardDescription>
          {overview.accounts} {overview.accounts === 1 ? "account" : "accounts"} watched · last scan{" "}
          <span data-testid="last-scan">
            <When at={overview.lastScanAt} />
          </span>
          . Scans run every few minutes; Check all now reads every account&apos;s metrics at once.
        </CardDescription>
        {canAct && (
          <CardAction>
            <Button onClick={() => checkAll.mutate()} disabled={checkAll.isPending}>
              <RefreshCw aria-hidden className={checkAll.isPending ? "animate-spin" : undefined} />
              Check all now
            </Button>
          </CardAction>
        )}
      </CardHeader>
      <CardContent className="grid gap-3">
        {result && (
          <p role="status" className="text-sm">
            {result}
          </p>
        )}
        <ActionError message={error} />
        <StateLegend />
      </CardContent>
    </Card>
  );
}

const distributionConfig = { accounts: { label: "Accounts", color: "var(--chart-2)" } } satisfies ChartConfig;

function ScoreDistributionCard({ overview }: { overview: HealthOverview }) {
  const data = overview.scoreDistribution.map((band) => ({ band: `${band.from}–${band.to}`, accounts: band.accounts }));
  const summary = data.map((d) => `${d.accounts} scored ${d.band}`).join(", ");
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Score distribution</h2>
        </CardTitle>
        <CardDescription>How many accounts score in each band (100 is healthy).</CardDescription>
      </CardHeader>
      <CardContent>
        <figure>
          <ChartContainer config={distributionConfig} className="aspect-auto h-56 w-full" role="img" aria-label={`Accounts by health score: ${summary}.`}>
            <BarChart data={data}>
              <CartesianGrid vertical={false} />
              <XAxis dataKey="band" tickLine={false} axisLine={false} tickMargin={8} />
              <YAxis allowDecimals={false} tickLine={false} axisLine={false} width={28} />
              <ChartTooltip cursor={false} content={<ChartTooltipContent />} />
              <Bar dataKey="accounts" fill="var(--color-accounts)" radius={4} />
            </BarChart>
          </ChartContainer>
          <figcaption className="sr-only">{summary}</figcaption>
        </figure>
        <ul className="sr-only" data-testid="score-distribution">
          {data.map((d) => (
            <li key={d.band}>
              {d.band}: {d.accounts}
            </li>
          ))}
        </ul>
      </CardContent>
    </Card>
  );
}

const severities: Severity[] = ["critical", "warning", "info"];

function OpenAlertsCard({ overview }: { overview: HealthOverview }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Open alerts</h2>
        </CardTitle>
        <CardDescription>By severity: critical needs action now, warning soon, info is worth knowing.</CardDescription>
      </CardHeader>
      <CardContent>
        {/* A plain dl: a role on its div groups would break the term/definition pairs for screen readers (axe: definition-list). */}
        <dl className="grid grid-cols-3 gap-3">
          {severities.map((severity) => (
            <div key={severity} className="grid gap-2 rounded-lg border p-3">
              <dt>
                <SeverityBadge severity={severity} />
              </dt>
              <dd className="text-2xl font-semibold tabular-nums" data-testid={`open-${severity}`}>
                {overview.openAlerts[severity] ?? 0}
              </dd>
            </div>
          ))}
        </dl>
      </CardContent>
    </Card>
  );
}

type AtRiskTotal = HealthOverview["atRiskTotal"];

function AtRiskCard({ atRisk, total, canAct }: { atRisk: AtRiskAccount[]; total: AtRiskTotal; canAct: boolean }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Accounts at risk</h2>
        </CardTitle>
        <CardDescription>
          An open warning or critical alert, or a score under the workspace&apos;s pause threshold. Worst first.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {atRisk.length === 0 ? (
          <p className="rounded-lg border border-dashed p-6 text-center text-sm text-muted-foreground">
            No account is at risk. Healthy accounts are not listed here.
          </p>
        ) : (
          <>
            {total.accounts > atRisk.length && (
              <p data-testid="at-risk-total" className="text-sm">
                {accounts(total.accounts)} at risk in all; the {atRisk.length} worst are listed.
              </p>
            )}
            {canAct && <PauseAllAtRisk atRisk={atRisk} total={total} />}
            <Table data-cards aria-label="Accounts at risk">
              <TableHeader>
                <TableRow>
                  <TableHead>Account</TableHead>
                  <TableHead>Score</TableHead>
                  <TableHead>State</TableHead>
                  <TableHead>Alerts</TableHead>
                  {canAct && (
                    <TableHead>
                      <span className="sr-only">Actions</span>
                    </TableHead>
                  )}
                </TableRow>
              </TableHeader>
              <TableBody>
                {atRisk.map((account) => (
                  <TableRow key={account.accountId}>
                    <TableCell data-label="Account">
                      <AccountCell id={account.accountId} handle={account.handle} platform={account.platform} />
                    </TableCell>
                    <TableCell data-label="Score">
                      <ScoreBadge score={account.healthScore} />
                    </TableCell>
                    <TableCell data-label="State">
                      <StateBadge state={account.state} />
                    </TableCell>
                    <TableCell data-label="Alerts" className="min-w-48 whitespace-normal">
                      <ul className="grid gap-1">
                        {account.alerts.map((alert) => (
                          <li key={alert.id} className="flex flex-wrap items-center gap-2">
                            <SeverityBadge severity={alert.severity} />
                            <span>{alert.ruleName}</span>
                          </li>
                        ))}
                      </ul>
                    </TableCell>
                    {canAct && (
                      <TableCell>
                        <PauseResumeButton accountId={account.accountId} handle={account.handle} state={account.state} />
                      </TableCell>
                    )}
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </>
        )}
      </CardContent>
    </Card>
  );
}

// The confirmation names this many handles, then says how many more.
const NAMED_IN_CONFIRMATION = 10;

const accounts = (n: number) => `${n} ${n === 1 ? "account" : "accounts"}`;

/** What the person confirms: the listed accounts, and (when not all are listed) how many at-risk accounts may publish in all. */
interface Confirming {
  listed: AtRiskAccount[];
  allMayPublish: number | null;
}

/**
 * Pause the at-risk accounts that can still publish, after saying exactly which. When all of them
 * are listed, the request sends the accounts confirmed: one that fell at risk since is not paused and
 * one that recovered is skipped. When some are not listed (the overview lists the 100 worst), the
 * confirmation says how many in all, and the request pauses every account at risk when it arrives.
 */
function PauseAllAtRisk({ atRisk, total }: { atRisk: AtRiskAccount[]; total: AtRiskTotal }) {
  const refresh = useRefreshHealth();
  // What was confirmed when the person asked: the page keeps polling, but the confirmation stays.
  const [confirming, setConfirming] = useState<Confirming | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const canPause = atRisk.filter((a) => a.state === "active" || a.state === "connected");
  const pauseAll = useMutation({
    mutationFn: (accountIds: string[] | undefined) =>
      sendJson<{ paused: number; accountIds: string[]; skipped: number }>("POST", "/api/accounts/pause-all", { accountIds }),
    onSuccess: async (answer) => {
      setError(null);
      setConfirming(null);
      const skipped = answer.skipped
        ? ` ${accounts(answer.skipped)} skipped: no longer at risk or already paused.`
        : "";
      setResult(`Paused ${accounts(answer.paused)}. Their queued posts wait until you resume them.${skipped}`);
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  const ask = () => {
    setResult(null);
    setConfirming({ listed: canPause, allMayPublish: total.mayPublish > canPause.length ? total.mayPublish : null });
  };
  const listed = confirming?.listed ?? canPause;
  const named = listed.slice(0, NAMED_IN_CONFIRMATION).map((a) => `@${a.handle}`).join(", ");
  const more = listed.length - NAMED_IN_CONFIRMATION;
  const handles = more > 0 ? `${named} and ${more} more` : named;
  const all = confirming?.allMayPublish ?? null;
  return (
    <div className="grid gap-2">
      {confirming === null ? (
        <div>
          <Button variant="destructive" disabled={total.mayPublish === 0} onClick={ask}>
            Pause all at-risk
          </Button>
        </div>
      ) : (
        <div role="group" aria-label="Confirm pausing all at-risk accounts" className="grid gap-3 rounded-lg border border-destructive/40 p-4">
          {all === null ? (
            <p className="text-sm">
              Pausing {accounts(listed.length)}: {handles}. Only these are paused, and only if still at risk.
            </p>
          ) : (
            <p className="text-sm">
              Pausing all {all} at-risk accounts that can still publish: the {listed.length} listed here
              {listed.length > 0 ? ` (${handles})` : ""} and {accounts(all - listed.length)} not listed. Every account at
              risk when you confirm is paused, including any that fell at risk since this page loaded.
            </p>
          )}
          <p className="text-sm">
            Nothing is posted from them while paused: their queued posts wait in the queue, are not lost and never move to
            another account. Healthy accounts are untouched. Resume each one later from its health page and its posts go out
            again within the platform&apos;s limits.
          </p>
          <div className="flex flex-wrap gap-2">
            <Button
              variant="destructive"
              onClick={() => pauseAll.mutate(all === null ? listed.map((a) => a.accountId) : undefined)}
              disabled={pauseAll.isPending}
            >
              {all === null ? `Yes, pause ${accounts(listed.length)}` : `Yes, pause all ${all}`}
            </Button>
            <Button variant="outline" onClick={() => setConfirming(null)}>
              Keep them running
            </Button>
          </div>
        </div>
      )}
      {result && (
        <p role="status" className="text-sm">
          {result}
        </p>
      )}
      <ActionError message={error} />
    </div>
  );
}
