"use client";
// The dashboard's navigation links; the current page is marked with aria-current. They wrap on a phone.
import Link from "next/link";
import { usePathname } from "next/navigation";
import { Activity, CalendarDays, ClipboardCheck, Clock, CreditCard, FileUp, Gauge, KeyRound, LayoutDashboard, PenLine, ScrollText, Stamp, Users, UsersRound, Webhook } from "lucide-react";
import { cn } from "@/components/ui/cn";

const links = [
  { href: "/dashboard", label: "Dashboard", icon: LayoutDashboard },
  { href: "/dashboard/compose", label: "Compose", icon: PenLine },
  { href: "/dashboard/queue", label: "Queue", icon: Clock },
  { href: "/dashboard/calendar", label: "Calendar", icon: CalendarDays },
  { href: "/dashboard/import", label: "Import", icon: FileUp },
  { href: "/dashboard/accounts", label: "Accounts", icon: Users },
  { href: "/dashboard/health", label: "Health", icon: Activity },
  { href: "/dashboard/review", label: "Review", icon: ClipboardCheck },
  { href: "/dashboard/approvals", label: "Approvals", icon: Stamp },
  { href: "/dashboard/billing", label: "Billing", icon: CreditCard },
  { href: "/dashboard/webhooks", label: "Webhooks", icon: Webhook },
  { href: "/dashboard/team", label: "Team", icon: UsersRound },
  { href: "/dashboard/audit", label: "Audit log", icon: ScrollText },
  { href: "/dashboard/api-keys", label: "API keys", icon: KeyRound },
  { href: "/dashboard/settings", label: "Settings", icon: Clock },
  // For the installation's operators; the page explains itself to anyone else.
  { href: "/dashboard/ops", label: "Ops", icon: Gauge },
] as const;

export function NavLinks() {
  const pathname = usePathname();
  return (
    <ul className="flex flex-wrap gap-1 md:flex-col">
      {links.map(({ href, label, icon: Icon }) => {
        // A section's own pages (an account's health) keep its link current.
        const current = pathname === href || (href !== "/dashboard" && pathname.startsWith(`${href}/`));
        return (
          <li key={href}>
            <Link
              href={href}
              aria-current={current ? "page" : undefined}
              className={cn(
                "flex items-center gap-2 rounded-md px-3 py-2 text-sm font-medium text-sidebar-foreground/80 hover:bg-sidebar-accent hover:text-sidebar-accent-foreground",
                current && "bg-sidebar-accent text-sidebar-accent-foreground",
              )}
            >
              <Icon className="size-4" aria-hidden />
              {label}
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
