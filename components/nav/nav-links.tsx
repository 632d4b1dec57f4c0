"use client";
// The dashboard's navigation: links in named groups (a labelled list each); the current page is marked
// with aria-current. The same list is the sidebar at md+ and the Menu's panel on a phone.
import Link from "next/link";
import { usePathname } from "next/navigation";
import { Activity, CalendarDays, ClipboardCheck, Clock, CreditCard, FileUp, Gauge, KeyRound, LayoutDashboard, PenLine, ScrollText, Settings, Stamp, Users, UsersRound, Webhook, type LucideIcon } from "lucide-react";
import { cn } from "@/components/ui/cn";

/** The groups, in the order they are shown; a link names its group. */
const groups = ["Home", "Publish", "Accounts", "Workspace", "Operators"] as const;
type NavGroup = (typeof groups)[number];

interface NavLink {
  href: string;
  label: string;
  icon: LucideIcon;
  group: NavGroup;
}

// One link a line, in the order shown within its group: a new page adds one entry.
const links: NavLink[] = [
  { href: "/dashboard", label: "Dashboard", icon: LayoutDashboard, group: "Home" },
  { href: "/dashboard/compose", label: "Compose", icon: PenLine, group: "Publish" },
  { href: "/dashboard/queue", label: "Queue", icon: Clock, group: "Publish" },
  { href: "/dashboard/calendar", label: "Calendar", icon: CalendarDays, group: "Publish" },
  { href: "/dashboard/import", label: "Import", icon: FileUp, group: "Publish" },
  { href: "/dashboard/approvals", label: "Approvals", icon: Stamp, group: "Publish" },
  { href: "/dashboard/review", label: "Review", icon: ClipboardCheck, group: "Publish" },
  { href: "/dashboard/accounts", label: "Accounts", icon: Users, group: "Accounts" },
  { href: "/dashboard/health", label: "Health", icon: Activity, group: "Accounts" },
  { href: "/dashboard/team", label: "Team", icon: UsersRound, group: "Workspace" },
  { href: "/dashboard/billing", label: "Billing", icon: CreditCard, group: "Workspace" },
  { href: "/dashboard/webhooks", label: "Webhooks", icon: Webhook, group: "Workspace" },
  { href: "/dashboard/api-keys", label: "API keys", icon: KeyRound, group: "Workspace" },
  { href: "/dashboard/audit", label: "Audit log", icon: ScrollText, group: "Workspace" },
  { href: "/dashboard/settings", label: "Settings", icon: Settings, group: "Workspace" },
  // For the installation's operators; the page explains itself to anyone else.
  { href: "/dashboard/ops", label: "Ops", icon: Gauge, group: "Operators" },
];

export function NavLinks() {
  const pathname = usePathname();
  return (
    <div className="flex flex-col gap-4">
      {groups.map((group) => {
        const inGroup = links.filter((link) => link.group === group);
        if (inGroup.length === 0) return null;
        const labelId = `nav-group-${group.toLowerCase()}`;
        return (
          <div key={group}>
            {/* Home needs no heading: it is one link, first. */}
            {group !== "Home" && (
              <p id={labelId} className="px-3 pb-1 text-xs font-medium tracking-wide text-muted-foreground uppercase">
                {group}
              </p>
            )}
            <ul className="flex flex-col gap-0.5" aria-labelledby={group !== "Home" ? labelId : undefined}>
              {inGroup.map(({ href, label, icon: Icon }) => {
                // A section's own pages (an account's health) keep its link current.
                const current = pathname === href || (href !== "/dashboard" && pathname.startsWith(`${href}/`));
                return (
                  <li key={href}>
                    <Link
                      href={href}
                      aria-current={current ? "page" : undefined}
                      className={cn(
                        "flex items-center gap-2 rounded-md px-3 py-2 text-sm font-medium text-sidebar-foreground/80 hover:bg-sidebar-accent hover:text-sidebar-accent-foreground md:py-1.5",
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
          </div>
        );
      })}
    </div>
  );
}
