// Settings page: the user's own preferences (for now the time zone every page shows and reads times in).
import type { Metadata } from "next";
import { SettingsPage } from "@/components/settings/settings-page";
import { requireUser } from "@/lib/auth";

export const metadata: Metadata = { title: "Settings" };

export default async function Page() {
  await requireUser();
  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Settings</h1>
        <p className="text-muted-foreground">Your own preferences, the same in every workspace you belong to.</p>
      </div>
      <SettingsPage />
    </div>
  );
}
