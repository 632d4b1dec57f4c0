// The signed-in frame: Pacer's sidebar with navigation, a top bar with who is signed in and Sign out.
import Link from "next/link";
import type { ReactNode } from "react";
import { LogOut } from "lucide-react";
import { signOut } from "@/app/auth/actions";
import { Button } from "@/components/ui/button";
import { Banners } from "./banners";
import { NavLinks } from "./nav-links";

export function DashboardShell({ email, children }: { email?: string; children: ReactNode }) {
  return (
    <div className="flex min-h-svh flex-col md:flex-row">
      <aside className="flex items-center gap-4 border-b bg-sidebar px-3 md:w-56 md:flex-col md:items-stretch md:border-r md:border-b-0">
        <Link href="/dashboard" className="flex h-14 items-center px-3 text-lg font-semibold tracking-tight">
          Pacer
        </Link>
        <nav aria-label="Main">
          <NavLinks />
        </nav>
      </aside>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex h-14 items-center justify-end gap-3 border-b px-6">
          {email && (
            <span className="truncate text-sm text-muted-foreground" data-testid="signed-in-email">
              {email}
            </span>
          )}
          <form action={signOut}>
            <Button type="submit" variant="outline" size="sm">
              <LogOut aria-hidden />
              Sign out
            </Button>
          </form>
        </header>
        <main className="flex-1 px-6 py-8">
          <div className="mx-auto max-w-5xl"><Banners />{children}</div>
        </main>
      </div>
    </div>
  );
}
