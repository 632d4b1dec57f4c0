// What the billing page shows for a workspace: its plan and subscription, the plans it can move to,
// whether a payment failed (and until when the plan holds), and which accounts the plan paused.
import { asUser, type UserClaims } from "@/lib/db";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { listPlans, type Plan } from "./plans";
import { billingMode, type BillingMode } from "./stripe";
import { RUNNING_STATUSES } from "./subscriptions";

export interface SubscriptionSummary {
  id: string;
  status: string;
  planId: string | null;
  currentPeriodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  /** Set while past_due: the plan holds until then, then the workspace moves to the default plan. */
  graceEndsAt: string | null;
}

export interface PausedAccount {
  id: string;
  platform: string;
  handle: string;
  displayName: string;
  reason: string;
}

export interface BillingOverview {
  mode: BillingMode;
  workspaceId: string;
  workspaceName: string;
  /** Owners and admins may change the plan and open the portal. */
  canManage: boolean;
  plan: Plan;
  plans: Plan[];
  subscription: SubscriptionSummary | null;
  /** The running subscription's last payment failed (past_due or unpaid). */
  paymentFailed: boolean;
  /** Stripe's customer portal can be opened (real Stripe, and the workspace has a subscription). */
  portalAvailable: boolean;
  /** Accounts the plan does not cover, paused (never deleted) until it does. */
  pausedAccounts: PausedAccount[];
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function getBillingOverview(user: UserClaims, requestedWorkspaceId?: string | null): Promise<BillingOverview> {
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, requestedWorkspaceId);
    const [workspace] = await tx`
      select w.name, w.plan_id, m.role
      from public.workspaces w
      left join public.workspace_members m on m.workspace_id = w.id and m.user_id = (select auth.uid())
      where w.id = ${workspaceId}`;
    const plans = await listPlans(tx);
    // The subscription in force if there is one, else the most recent.
    const [s] = await tx`
      select id, status, plan_id, current_period_end, cancel_at_period_end, grace_ends_at
      from public.subscriptions where workspace_id = ${workspaceId}
      order by status = any(${RUNNING_STATUSES}) desc, updated_at desc
      limit 1`;
    const paused = await tx`
      select id, platform, handle, display_name, last_error
      from public.social_accounts
      where workspace_id = ${workspaceId} and paused_reason = 'plan_limit'
      order by created_at, id`;

    const mode = billingMode();
    const subscription: SubscriptionSummary | null = s
      ? {
          id: s.id,
          status: s.status,
          planId: s.plan_id,
          currentPeriodEnd: iso(s.current_period_end),
          cancelAtPeriodEnd: s.cancel_at_period_end,
          graceEndsAt: s.status === "past_due" ? iso(s.grace_ends_at) : null,
        }
      : null;
    return {
      mode,
      workspaceId,
      workspaceName: workspace.name,
      canManage: workspace.role === "owner" || workspace.role === "admin",
      plan: plans.find((p) => p.id === workspace.plan_id)!,
      plans,
      subscription,
      paymentFailed: subscription?.status === "past_due" || subscription?.status === "unpaid",
      portalAvailable: mode === "stripe" && subscription !== null,
      pausedAccounts: paused.map((a) => ({
        id: a.id,
        platform: a.platform,
        handle: a.handle,
        displayName: a.display_name,
        reason: a.last_error,
      })),
    };
  });
}
