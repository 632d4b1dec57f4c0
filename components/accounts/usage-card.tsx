// How many social accounts the workspace uses out of its plan's limit, overall and per platform.
import type { ReactNode } from "react";
import type { Usage } from "@/lib/workspaces";
import { Card, CardAction, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Meter } from "@/components/ui/meter";
import { platformName } from "./platforms";

export function UsageCard({ usage, action }: { usage: Usage; action?: ReactNode }) {
  const { accountsUsed, plan, remaining } = usage;
  const summary = `${accountsUsed} of ${plan.maxAccounts} accounts used · ${plan.name} plan`;
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
        {remaining === 0 ? (
          <p className="text-sm text-destructive">
            All {plan.maxAccounts} accounts on the {plan.name} plan are in use. Remove an account or upgrade the plan to
            add more.
          </p>
        ) : (
          <p className="text-sm text-muted-foreground">
            {remaining} more {remaining === 1 ? "account" : "accounts"} can be added on this plan.
          </p>
        )}
        {platforms.length > 0 && (
          <ul aria-label="Accounts per platform" className="flex flex-wrap gap-x-4 gap-y-1 text-sm text-muted-foreground">
            {platforms.map(([platform, count]) => (
              <li key={platform}>
                {platformName(platform)}: <span className="font-medium text-foreground">{count}</span>
              </li>
            ))}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}
