// The workspace's plan: price, subscription status, and accounts in use against the plan's limit,
// overall and per platform.
import type { BillingOverview } from "@/lib/billing/overview";
import type { Usage } from "@/lib/workspaces";
import { platformName } from "@/components/accounts/platforms";
import { Badge } from "@/components/ui/badge";
import { Card, CardAction, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Meter } from "@/components/ui/meter";
import { useTimeZone } from "@/components/time/time-zone";
import { formatPrice, statusLabel, subscriptionLine } from "./format";
import { PortalButton } from "./portal-button";

export function CurrentPlanCard({ overview, usage }: { overview: BillingOverview; usage: Usage }) {
  const { plan, subscription } = overview;
  const { timeZone } = useTimeZone();
  const summary = `${usage.accountsUsed} of ${plan.maxAccounts} accounts used · ${plan.name} plan`;
  const platforms = Object.entries(usage.accountsByPlatform).sort(([a], [b]) => a.localeCompare(b));
  const over = usage.accountsUsed - plan.maxAccounts;

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
        {over > 0 && (
          <p className="text-sm text-destructive">
            {over} {over === 1 ? "account is" : "accounts are"} over the {plan.name} plan&apos;s limit and{" "}
            {over === 1 ? "publishes" : "publish"} nothing. Upgrade, or remove accounts, to resume{" "}
            {over === 1 ? "it" : "them"}; new accounts can be added once the workspace is under the limit.
          </p>
        )}
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
