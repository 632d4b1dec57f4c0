// API keys page: make, see and revoke the workspace's keys for programs calling Pacer's API.
import type { Metadata } from "next";
import { ApiKeysPage } from "@/components/api-keys/api-keys-page";
import { requireUser } from "@/lib/auth";

export const metadata: Metadata = { title: "API keys" };

export default async function Page() {
  await requireUser();
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">API keys</h1>
        <p className="text-muted-foreground">Let your own programs queue and read posts through Pacer&apos;s API.</p>
      </div>
      <ApiKeysPage />
    </div>
  );
}
