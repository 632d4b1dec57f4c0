"use client";
// The accounts page's live content: plan usage, the add-account form and the accounts table, kept fresh by TanStack Query.
import { useQuery } from "@tanstack/react-query";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { AccountsTable } from "./accounts-table";
import { AddAccountForm } from "./add-account-form";
import { ConnectUploadPost } from "./connect-upload-post";
import { accountsQuery, usageQuery } from "./queries";
import { UsageCard } from "./usage-card";
import { LoadState } from "@/components/ui/load-state";

export function AccountsPage() {
  const accounts = useQuery(accountsQuery);
  const usage = useQuery(usageQuery);

  return (
    <div className="grid grid-cols-1 gap-6">
      {usage.data ? (
        <UsageCard usage={usage.data} />
      ) : (
        <LoadState what="plan usage" error={usage.error} />
      )}
      <AddAccountForm limitReached={usage.data?.remaining === 0} />
      <ConnectUploadPost />
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Connected accounts</h2>
          </CardTitle>
          <CardDescription>Every account Pacer can publish to in this workspace, with its state and health.</CardDescription>
        </CardHeader>
        <CardContent>
          {accounts.data ? (
            <AccountsTable accounts={accounts.data.accounts} />
          ) : (
            <LoadState what="accounts" error={accounts.error} />
          )}
        </CardContent>
      </Card>
    </div>
  );
}

