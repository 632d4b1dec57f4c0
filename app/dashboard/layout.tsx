// Dashboard layout: only for signed-in users, framed by the navigation shell.
import type { ReactNode } from "react";
import { DashboardShell } from "@/components/nav/dashboard-shell";
import { Providers } from "@/components/providers";
import { requireUser } from "@/lib/auth";

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const user = await requireUser();
  // The query cache lives as long as this layout: signing out (leaving it) drops one user's data before the next signs in.
  return (
    <Providers>
      <DashboardShell email={user.email}>{children}</DashboardShell>
    </Providers>
  );
}
