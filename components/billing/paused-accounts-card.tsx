// The accounts a plan no longer covers: which ones, and why they are paused (nothing was deleted).
import type { BillingOverview } from "@/lib/billing/overview";
import { platformName } from "@/components/accounts/platforms";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";

export function PausedAccountsCard({ overview }: { overview: BillingOverview }) {
  const { plan, pausedAccounts } = overview;
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Paused by the plan</h2>
        </CardTitle>
        <CardDescription>
          The {plan.name} plan covers {plan.maxAccounts} accounts, so the {pausedAccounts.length} most recently added{" "}
          {pausedAccounts.length === 1 ? "is" : "are"} paused and publish nothing. Nothing was deleted: upgrade, or
          remove other accounts, and they resume with their queued posts.
        </CardDescription>
      </CardHeader>
      <CardContent>
        <Table data-cards aria-label="Accounts paused by the plan">
          <TableHeader>
            <TableRow>
              <TableHead>Account</TableHead>
              <TableHead>Platform</TableHead>
              <TableHead>Why</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {pausedAccounts.map((account) => (
              <TableRow key={account.id}>
                <TableCell data-label="Account">
                  <div className="grid">
                    <span className="font-medium">{account.displayName}</span>
                    <span className="text-muted-foreground">@{account.handle}</span>
                  </div>
                </TableCell>
                <TableCell data-label="Platform">{platformName(account.platform)}</TableCell>
                <TableCell data-label="Why" className="whitespace-normal">{account.reason}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </CardContent>
    </Card>
  );
}
