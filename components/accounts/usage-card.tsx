// How many social accounts the workspace uses out of its plan's limit, overall and per platform.
import type { ReactNode } from "react";
import Link from "next/link";
import type { Usage } from "@/lib/workspaces";
import { usageWords } from "@/lib/billing/usage-words";
import { StateLegend } from "@/components/health/state-legend";
import { Card, CardAction, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Meter } from "@/components/ui/meter";
import { platformName } from "./platforms";

export function UsageCard({ usage, action }: { usage: Usage; action?: ReactNode }) {
  const { accountsUsed, plan } = usage;
  const words = usageWords({ used: accountsUsed, max: plan.maxAccounts, planName: plan.name });
  const summary = words.summary;
  const platforms = Object.entries(usage.accountsByPlatform).sort(([a], [b]) => a.localeCompare(b));

  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Plan usage</h2>
        </CardTitle>
        <CardDescription>{usage.workspaceName}</CardDescription>
        {action && <CardAction>{action}</CardAction>}
      </CardHeader>
      <CardContent className="grid gap-3">
        <p className="text-sm font-medium" data-testid="usage-summary">
          {summary}
        </p>
        <Meter value={accountsUsed} max={plan.maxAccounts} aria-label="Social accounts used" aria-valuetext={summary} />
        <p className={words.state === "room" ? "text-sm text-muted-foreground" : "text-sm text-destructive"} data-testid="usage-detail">
          {words.detail}
          {words.state === "over" && (
            <>
              {" "}
              <Link href="/dashboard/billing" className="font-medium underline underline-offset-4">
                See which accounts are paused
              </Link>
            </>
          )}
        </p>
        {platforms.length > 0 && (
          <ul aria-label="Accounts per platform" className="flex flex-wrap gap-x-4 gap-y-1 text-sm text-muted-foreground">
            {platforms.map(([platform, count]) => (
              <li key={platform}>
                {platformName(platform)}: <span className="font-medium text-foreground">{count}</span>
              </li>
            ))}
          </ul>
        )}
        <StateLegend />
      </CardContent>
    </Card>
  );
}
