// API reference page: every /api route, its scope, request and reply, rendered from /api/openapi.json.
import type { Metadata } from "next";
import Link from "next/link";
import { ApiReference } from "@/components/api-keys/api-reference";
import { requireUser } from "@/lib/auth";

export const metadata: Metadata = { title: "API reference" };

export default async function Page() {
  await requireUser();
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">API reference</h1>
        <p className="text-muted-foreground">
          Every route of Pacer&apos;s HTTP API. Programs authenticate with an{" "}
          <Link href="/dashboard/api-keys" className="underline underline-offset-4">
            API key
          </Link>{" "}
          (<code className="rounded bg-muted px-1 text-foreground">Authorization: Bearer pk_…</code>); the document itself is at{" "}
          <a href="/api/openapi.json" className="underline underline-offset-4">
            /api/openapi.json
          </a>
          .
        </p>
      </div>
      <ApiReference />
    </div>
  );
}
