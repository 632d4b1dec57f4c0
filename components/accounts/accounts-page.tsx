"use client";
// The accounts page's live content: plan usage, the add-account form and the accounts list (search,
// filters, pages, bulk actions, groups), kept fresh by TanStack Query.
import { Suspense } from "react";
import { useQuery } from "@tanstack/react-query";
import type { ConnectionKind } from "@/lib/accounts/offered";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { AccountsList } from "./accounts-list";
import { AddAccountForm } from "./add-account-form";
import { ConnectBluesky } from "./connect-bluesky";
import { ConnectMastodon } from "./connect-mastodon";
import { ConnectNotice } from "./connect-notice";
import { ConnectUploadPost } from "./connect-upload-post";
import { usageQuery } from "./queries";
import { UsageCard } from "./usage-card";
import { LoadState } from "@/components/ui/load-state";

/** `offered`: the ways to connect this installation offers (lib/accounts/offered.ts), read on the server. */
export function AccountsPage({ offered }: { offered: ConnectionKind[] }) {
  const usage = useQuery(usageQuery);
  const limitReached = usage.data?.remaining === 0;

  return (
    <div className="grid grid-cols-1 gap-6">
      <Suspense>
        <ConnectNotice />
      </Suspense>
      {usage.data ? (
        <UsageCard usage={usage.data} />
      ) : (
        <LoadState what="plan usage" error={usage.error} />
      )}
      {/* One card per way to connect that this installation offers: another platform is one more line. */}
      <div className="grid grid-cols-1 gap-6 md:grid-cols-2">
        {offered.includes("mastodon") && <ConnectMastodon limitReached={limitReached} />}
        {offered.includes("bluesky") && <ConnectBluesky limitReached={limitReached} />}
      </div>
      {/* Full width: it lists the key's profiles and their platforms. */}
      {offered.includes("upload-post") && <ConnectUploadPost />}
      <AddAccountForm limitReached={limitReached} />
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Connected accounts</h2>
          </CardTitle>
          <CardDescription>Every account Pacer can publish to in this workspace, with its state and health.</CardDescription>
        </CardHeader>
        <CardContent className="min-w-0">
          <AccountsList />
        </CardContent>
      </Card>
    </div>
  );
}

