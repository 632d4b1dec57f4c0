"use client";
// Health alerts, open ones first: what was seen against the baseline, what to do, and Acknowledge.
import { WhenOrNone as When } from "@/components/time/optional-when";
import Link from "next/link";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { AcknowledgeButton } from "./account-actions";
import { SeverityBadge, formatNumber } from "./labels";
import type { HealthAlert } from "./types";

/** `canAct`: the person may acknowledge (editors and up); others see the alert as open. */
export function AlertsTable({
  alerts,
  label,
  showAccount,
  canAct,
}: {
  alerts: HealthAlert[];
  label: string;
  showAccount: boolean;
  canAct: boolean;
}) {
  if (alerts.length === 0) {
    return (
      <p className="rounded-lg border border-dashed p-6 text-center text-sm text-muted-foreground">
        No alerts. Each scan checks every rule; when one fires, it shows up here with what to do.
      </p>
    );
  }
  return (
    <Table data-cards aria-label={label}>
      <TableHeader>
        <TableRow>
          <TableHead>Severity</TableHead>
          {showAccount && <TableHead>Account</TableHead>}
          <TableHead>Alert</TableHead>
          <TableHead>Seen / baseline</TableHead>
          <TableHead>Opened</TableHead>
          <TableHead>Status</TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {alerts.map((alert) => (
          <TableRow key={alert.id}>
            <TableCell data-label="Severity">
              <SeverityBadge severity={alert.severity} />
            </TableCell>
            {showAccount && (
              <TableCell data-label="Account">
                {alert.accountId ? (
                  <Link className="underline underline-offset-4" href={`/dashboard/health/${alert.accountId}`}>
                    @{alert.handle}
                  </Link>
                ) : (
                  `@${alert.handle}`
                )}
              </TableCell>
            )}
            <TableCell data-label="Alert" className="min-w-56 whitespace-normal">
              <div className="font-medium">{alert.ruleName}</div>
              <div>{alert.message}</div>
              {alert.advice && <div className="text-muted-foreground">{alert.advice}</div>}
            </TableCell>
            <TableCell data-label="Seen / baseline" className="tabular-nums">
              {formatNumber(alert.observed)} / {formatNumber(alert.baseline)}
            </TableCell>
            <TableCell data-label="Opened">
              <When at={alert.openedAt} />
            </TableCell>
            <TableCell data-label="Status">
              {alert.resolvedAt ? (
                <span>
                  Resolved <When at={alert.resolvedAt} />
                </span>
              ) : alert.acknowledgedAt ? (
                <span>
                  Acknowledged <When at={alert.acknowledgedAt} />
                </span>
              ) : !canAct ? (
                <span>Open</span>
              ) : (
                <AcknowledgeButton alertId={alert.id} label={`Acknowledge ${alert.ruleName}${alert.handle ? ` on @${alert.handle}` : ""}`} />
              )}
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
