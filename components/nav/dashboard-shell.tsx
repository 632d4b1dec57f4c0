"use client";
// The signed-in frame. At md and up: Pacer's sidebar with the navigation, and a top bar with who is signed
// in and Sign out. Below md: a top bar with Pacer and a Menu button that opens the same navigation and the
// signed-in email/Sign out as a panel under it. A skip link comes first so keyboard users can jump past both.
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useRef, useState, type KeyboardEvent, type MouseEvent, type ReactNode } from "react";
import { LogOut, Menu, X } from "lucide-react";
import { signOut } from "@/app/auth/actions";
import { Button } from "@/components/ui/button";
import { Banners } from "./banners";
import { cn } from "@/components/ui/cn";
import { NavLinks } from "./nav-links";

export function DashboardShell({ email, children }: { email?: string; children: ReactNode }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  const nav = useRef<HTMLElement>(null);
  const main = useRef<HTMLElement>(null);
  const pathname = usePathname();

  // Back and forward close the menu too (a link in it closes it on click, below).
  const [shownFor, setShownFor] = useState(pathname);
  if (shownFor !== pathname) {
    setShownFor(pathname);
    setMenuOpen(false);
  }

  function openMenu() {
    setMenuOpen(true);
    // Into the list, at the link for the page the user is on (or the first).
    requestAnimationFrame(() => {
      const links = nav.current?.querySelectorAll<HTMLAnchorElement>("a[href]");
      const current = nav.current?.querySelector<HTMLAnchorElement>("a[aria-current=page]");
      (current ?? links?.[0])?.focus();
    });
  }

  function closeMenu() {
    setMenuOpen(false);
    menuButton.current?.focus();
  }

  // Choosing a page closes the menu; the page's content takes the focus the hidden link would drop.
  function onNavClick(event: MouseEvent) {
    if (menuOpen && (event.target as Element).closest("a[href]")) {
      setMenuOpen(false);
      main.current?.focus({ preventScroll: true });
    }
  }

  function onMenuKeyDown(event: KeyboardEvent) {
    if (event.key === "Escape" && menuOpen) {
      event.preventDefault();
      closeMenu();
    }
  }

  return (
    <div className="min-h-svh md:grid md:grid-cols-[14rem_minmax(0,1fr)] md:grid-rows-[auto_1fr]" onKeyDown={onMenuKeyDown}>
      <a
        href="#content"
        className="sr-only z-50 rounded-md bg-background px-3 py-2 text-sm font-medium shadow focus:not-sr-only focus:fixed focus:top-2 focus:left-2"
      >
        Skip to content
      </a>
      <aside className="border-b bg-sidebar md:row-span-2 md:border-r md:border-b-0">
        <div className="flex flex-col md:sticky md:top-0 md:max-h-svh md:overflow-y-auto md:px-3 md:pb-6">
          <div className="flex h-14 items-center justify-between gap-2 px-3 md:px-0">
            <Link href="/dashboard" className="rounded-md px-3 text-lg font-semibold tracking-tight">
              Pacer
            </Link>
            <Button
              ref={menuButton}
              type="button"
              variant="outline"
              size="sm"
              className="md:hidden"
              aria-expanded={menuOpen}
              aria-controls="main-menu account-bar"
              onClick={() => (menuOpen ? closeMenu() : openMenu())}
            >
              {menuOpen ? <X aria-hidden /> : <Menu aria-hidden />}
              Menu
            </Button>
          </div>
          <nav
            ref={nav}
            id="main-menu"
            aria-label="Main"
            className={cn("px-3 pb-4 md:block md:px-0 md:pb-0", menuOpen ? "block" : "hidden")}
            onClick={onNavClick}
          >
            <NavLinks />
          </nav>
        </div>
      </aside>
      {/* On a phone this is the menu panel's last part; at md+ the bar above the page. */}
      <header
        id="account-bar"
        className={cn(
          "min-w-0 flex-wrap items-center justify-between gap-3 border-b px-6 py-3 max-md:bg-sidebar md:flex md:h-14 md:flex-nowrap md:justify-end md:py-0",
          menuOpen ? "flex" : "hidden",
        )}
      >
        {email && (
          <span className="min-w-0 text-sm wrap-anywhere text-muted-foreground md:truncate" data-testid="signed-in-email">
            {email}
          </span>
        )}
        <form action={signOut} className="shrink-0">
          <Button type="submit" variant="outline" size="sm">
            <LogOut aria-hidden />
            Sign out
          </Button>
        </form>
      </header>
      <main id="content" ref={main} tabIndex={-1} className="min-w-0 px-4 py-6 outline-none md:px-6 md:py-8">
        <div className="mx-auto max-w-5xl">
          <Banners />
          {children}
        </div>
      </main>
    </div>
  );
}
