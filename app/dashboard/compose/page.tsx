// Compose page: write one post for many accounts, see each platform's version and count, schedule it
// in your time zone, queue it or keep it as a draft.
import type { Metadata } from "next";
import { Composer } from "@/components/compose/composer";
import { requireUser } from "@/lib/auth";

export const metadata: Metadata = { title: "Compose" };

export default async function Page() {
  await requireUser();
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Compose</h1>
        <p className="text-muted-foreground">Write once, see how each platform will take it, and schedule it in your time zone.</p>
      </div>
      <Composer />
    </div>
  );
}
