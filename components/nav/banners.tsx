"use client";
// Banners across the signed-in app for what stops posts going out: a failed payment (the plan holds
// for a grace period, then drops) and paused accounts. Each says what to do, or, for a role that
// cannot do it, whom to ask. They disappear when the cause does: the home read is refreshed on every
// page change, on focus and every half minute.
import { useEffect, useRef, type ReactNode } from "react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useQuery } from "@tanstack/react-query";
import { CircleAlert, PauseCircle } from "lucide-react";
import type { Home } from "@/lib/home";
import { homeQuery } from "@/components/home/queries";
import { When } from "@/components/time/when";

const REFRESH_MS = 30_000;
const linkClass = "font-medium underline underline-offset-4";

export function Banners() {
  const pathname = usePathname();
  const { data, refetch } = useQuery({ ...homeQuery, refetchInterval: REFRESH_MS });
  // On a page change, not on the first render (the query is fetching then anyway).
  const shownOn = useRef(pathname);
  useEffect(() => {
    if (shownOn.current === pathname) return;
    shownOn.current = pathname;
    void refetch();
  }, [pathname, refetch]);
  if (!data) return null;
  // The billing page says it itself, with the buttons to fix it.
  const payment = data.attention.payment && pathname !== "/dashboard/billing";
  const paused = data.attention.pausedAccounts.total > 0;
  if (!payment && !paused) return null;
  return (
    <div className="mb-6 grid gap-3" role="region" aria-label="Warnings">
      {payment && <PaymentBanner home={data} />}
      {paused && <PausedBanner home={data} />}
    </div>
  );
}

function Banner({ icon, children, testId }: { icon: ReactNode; children: ReactNode; testId: string }) {
  return (
    <div
      className="flex min-w-0 gap-3 rounded-lg border border-destructive/40 bg-destructive/5 px-4 py-3 text-sm [&>svg]:mt-0.5 [&>svg]:size-4 [&>svg]:shrink-0"
      data-testid={testId}
    >
      {icon}
      <div className="grid min-w-0 gap-1 break-words">{children}</div>
    </div>
  );
}

function PaymentBanner({ home }: { home: Home }) {
  const payment = home.attention.payment!;
  return (
    <Banner icon={<CircleAlert aria-hidden className="text-destructive" />} testId="banner-payment">
      <p className="font-medium">The last payment for {home.workspaceName} failed.</p>
      <p>
        {payment.graceEndsAt ? (
          <>
            The {home.usage.plan.name} plan holds until <When at={payment.graceEndsAt} />; after that the workspace moves to
            the free plan and accounts over its limit are paused.
          </>
        ) : (
          <>Accounts over the free plan&apos;s limit may be paused until it is paid.</>
        )}{" "}
        {home.canManage ? (
          <Link href="/dashboard/billing" className={linkClass}>
            Update the payment on Billing
          </Link>
        ) : (
          "Ask a workspace owner or admin to update the payment."
        )}
      </p>
    </Banner>
  );
}

function PausedBanner({ home }: { home: Home }) {
  const { total, byReason } = home.attention.pausedAccounts;
  const byPeople = byReason.health + byReason.manual;
  return (
    <Banner icon={<PauseCircle aria-hidden className="text-destructive" />} testId="banner-paused">
      <p className="font-medium">
        {total} {total === 1 ? "account is" : "accounts are"} paused: {total === 1 ? "it publishes" : "they publish"} nothing,
        and {total === 1 ? "its" : "their"} posts wait.
      </p>
      {byReason.plan_limit > 0 && (
        <p>
          {byReason.plan_limit} {byReason.plan_limit === 1 ? "is" : "are"} over the {home.usage.plan.name} plan&apos;s limit.{" "}
          {home.canManage ? (
            <Link href="/dashboard/billing" className={linkClass}>
              Upgrade on Billing
            </Link>
          ) : (
            "Ask a workspace owner or admin to upgrade the plan."
          )}
        </p>
      )}
      {byPeople > 0 && (
        <p>
          {byPeople} {byPeople === 1 ? "was" : "were"} paused by a person or the health rules.{" "}
          {home.canAct ? (
            <Link href="/dashboard/health" className={linkClass}>
              Review and resume on Health
            </Link>
          ) : (
            <>
              <Link href="/dashboard/health" className={linkClass}>
                See them on Health
              </Link>
              ; ask a workspace editor or admin to resume them.
            </>
          )}
        </p>
      )}
    </Banner>
  );
}
