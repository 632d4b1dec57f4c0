// Import page: queue up to 10,000 posts from a CSV file, checked in the browser before anything is sent.
import type { Metadata } from "next";
import { ImportPage } from "@/components/import/import-page";
import { requireUser } from "@/lib/auth";

export const metadata: Metadata = { title: "Import" };

export default async function Page() {
  await requireUser();
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Import</h1>
        <p className="text-muted-foreground">Queue many posts at once from a CSV file: check it here, fix what is wrong, then import.</p>
      </div>
      <ImportPage />
    </div>
  );
}
