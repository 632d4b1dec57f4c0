// The workspace's plan: price, subscription status, and accounts in use against the plan's limit,
// overall and per platform.
import type { BillingOverview } from "@/lib/billing/overview";
import type { Usage } from "@/lib/workspaces";
import { platformName } from "@/components/accounts/platforms";
import { Badge } from "@/components/ui/badge";
import { Card, CardAction, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Meter } from "@/components/ui/meter";
import { useTimeZone } from "@/components/time/time-zone";
import { usageWords } from "@/lib/billing/usage-words";
import { formatPrice, statusLabel, statusMeaning, subscriptionLine } from "./format";
import { PortalButton } from "./portal-button";

export function CurrentPlanCard({ overview, usage }: { overview: BillingOverview; usage: Usage }) {
  const { plan, subscription } = overview;
  const { timeZone } = useTimeZone();
  const words = usageWords({ used: usage.accountsUsed, max: plan.maxAccounts, planName: plan.name });
  const summary = words.summary;
  const platforms = Object.entries(usage.accountsByPlatform).sort(([a], [b]) => a.localeCompare(b));

  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2 className="flex items-center gap-2">
            <span data-testid="current-plan">{plan.name} plan</span>
            {subscription && !plan.isDefault && (
              <Badge variant={overview.paymentFailed ? "destructive" : "secondary"} data-testid="subscription-status">
                {statusLabel(subscription.status)}
              </Badge>
            )}
          </h2>
        </CardTitle>
        <CardDescription>
          {formatPrice(plan.priceCents)} · up to {plan.maxAccounts} social accounts.{" "}
          {subscriptionLine(subscription, plan.isDefault, timeZone)}
          {subscription && !plan.isDefault && <> {statusMeaning(subscription.status)}</>}
        </CardDescription>
        {overview.portalAvailable && overview.canManage && (
          <CardAction>
            <PortalButton />
          </CardAction>
        )}
      </CardHeader>
      <CardContent className="grid gap-3">
        <p className="text-sm font-medium" data-testid="billing-usage-summary">
          {summary}
        </p>
        <Meter value={usage.accountsUsed} max={plan.maxAccounts} aria-label="Social accounts used" aria-valuetext={summary} />
        <p className={words.state === "room" ? "text-sm text-muted-foreground" : "text-sm text-destructive"} data-testid="billing-usage-detail">
          {words.detail}
          {words.state === "over" && overview.pausedAccounts.length > 0 && " They are listed under Paused by the plan, below."}
        </p>
        {platforms.length > 0 && (
          <ul aria-label="Accounts per platform" className="grid gap-3 sm:grid-cols-2">
            {platforms.map(([platform, count]) => {
              const line = `${platformName(platform)}: ${count} of ${plan.maxAccounts}`;
              return (
                <li key={platform} className="grid gap-1.5 text-sm">
                  <span className="text-muted-foreground">{line}</span>
                  <Meter value={count} max={plan.maxAccounts} aria-label={`${platformName(platform)} accounts used`} aria-valuetext={line} />
                </li>
              );
            })}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}
