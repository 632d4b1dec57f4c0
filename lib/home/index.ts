// The dashboard home in one read: how far a new workspace has got (connect → compose → publish), the
// next posts, what failed or needs a person, plan usage, and what the app-wide banners warn about
// (a failed payment, paused accounts). Everything is read as the user (RLS), so a member of another
// workspace, or a key without access, sees nothing of this one.
import { z } from "zod";
import { asUser, type Row, type UserClaims } from "@/lib/db";
import { validationFailed } from "@/lib/api/errors";
import { getUsage, roleInWorkspace, type Usage, type WorkspaceRole } from "@/lib/workspaces";
import { RUNNING_STATUSES } from "@/lib/billing/subscriptions";

/** How many upcoming posts, failures and review items the home lists (the pages linked show the rest). */
export const HOME_LIST_LIMIT = 5;

export const homeInput = z.strictObject({
  workspaceId: z.uuid("workspaceId must be a workspace id (a UUID).").nullish(),
});

/** One queue item as the home lists it. */
export interface HomeItem {
  id: number;
  postId: string;
  text: string;
  accountId: string;
  handle: string;
  platform: string;
  status: string;
  scheduledFor: string;
  lastError: string | null;
  updatedAt: string;
}

export interface GettingStarted {
  /** The workspace has a social account. */
  accountConnected: boolean;
  /** A post was queued (composed and sent to the queue). */
  postComposed: boolean;
  /** A post went out. */
  postPublished: boolean;
}

/** Why accounts are paused: the plan does not cover them, the health rules paused them, or a person did. */
export type PauseReason = "plan_limit" | "health" | "manual";

export interface Attention {
  /** The running subscription's last payment failed; null when it did not (or for an API key: billing is a person's concern). */
  payment: { status: "past_due" | "unpaid"; graceEndsAt: string | null } | null;
  /** Accounts that publish nothing until resumed (or, for plan_limit, until the plan covers them). */
  pausedAccounts: { total: number; byReason: Record<PauseReason, number> };
}

export interface Home {
  workspaceId: string;
  workspaceName: string;
  role: WorkspaceRole | null;
  /** Editors and up: connect accounts, compose, retry. */
  canAct: boolean;
  /** Owners and admins: the plan and payment. */
  canManage: boolean;
  gettingStarted: GettingStarted;
  /** The next waiting posts, soonest first. */
  upcoming: HomeItem[];
  /** The most recently failed items, and how many failed in all. */
  failures: { total: number; items: HomeItem[] };
  /** Items and accounts waiting on a person's decision (the review page). */
  review: { items: number; accounts: number; latest: HomeItem[] };
  usage: Usage;
  attention: Attention;
}

const rank: Record<WorkspaceRole, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

const ITEM_SELECT = `
  select q.id, q.post_id, p.text, q.account_id, a.handle, a.platform, q.status, q.scheduled_for, q.last_error, q.updated_at
  from public.queue_items q
  join public.posts p on p.id = q.post_id
  join public.social_accounts a on a.id = q.account_id`;

function toItem(r: Row): HomeItem {
  return {
    id: Number(r.id),
    postId: r.post_id,
    text: r.text,
    accountId: r.account_id,
    handle: r.handle,
    platform: r.platform,
    status: r.status,
    scheduledFor: r.scheduled_for.toISOString(),
    lastError: r.last_error,
    updatedAt: r.updated_at.toISOString(),
  };
}

export async function getHome(user: UserClaims, input: z.input<typeof homeInput> = {}): Promise<Home> {
  const parsed = homeInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The home query");
  // Usage resolves the workspace (404 for one the user cannot see) and is the card the home keeps.
  const usage = await getUsage(user, parsed.data.workspaceId);
  const ws = usage.workspaceId;
  return asUser(user, async (tx) => {
    const role = await roleInWorkspace(tx, ws);
    const counts = await tx`select status, sum(n)::int as n from private.queue_counts(${ws}) group by status`;
    const count = (status: string) => counts.find((c) => c.status === status)?.n ?? 0;
    const [started] = await tx`
      select exists (select from public.social_accounts where workspace_id = ${ws} and archived_at is null) as account_connected,
             exists (select from public.posts where workspace_id = ${ws}) as post_composed`;
    // The ids come from the queue's own functions: under RLS a status filter cannot use the indexes.
    const latestOf = (status: string) =>
      tx.unsafe(`${ITEM_SELECT} where q.id = any (array(select private.latest_queue_item_ids($1, $2, $3))) order by q.updated_at desc, q.id desc`, [
        ws,
        status,
        HOME_LIST_LIMIT,
      ]);
    const failed = await latestOf("failed");
    const reviewItems = await tx.unsafe(
      `${ITEM_SELECT} where q.id = any (array(select private.review_item_ids($1, $2))) order by q.id desc`,
      [ws, HOME_LIST_LIMIT],
    );
    const upcoming = await tx.unsafe(
      `${ITEM_SELECT}
       where q.workspace_id = $1 and q.status in ('pending', 'rate_limited')
       order by q.scheduled_for, q.id
       limit $2`,
      [ws, HOME_LIST_LIMIT],
    );
    const [review] = await tx`
      select count(*)::int as accounts from public.social_accounts
      where workspace_id = ${ws} and archived_at is null and (state in ('needs_review', 'restricted') or requires_review)`;
    const paused = await tx`
      select paused_reason, count(*)::int as n from public.social_accounts
      where workspace_id = ${ws} and state = 'paused' and archived_at is null
      group by paused_reason`;
    // (A removed account is paused too, for good: it is no longer the workspace's to resume.)
    // The subscription in force, as the billing page picks it.
    const [subscription] = user.api_key
      ? []
      : await tx`
          select status, grace_ends_at from public.subscriptions where workspace_id = ${ws}
          order by status = any(${RUNNING_STATUSES}) desc, updated_at desc
          limit 1`;

    const byReason: Record<PauseReason, number> = { plan_limit: 0, health: 0, manual: 0 };
    // A pause without a recorded reason predates the reasons: a person's, as far as anyone can tell.
    for (const p of paused) byReason[(p.paused_reason as PauseReason | null) ?? "manual"] += p.n;
    const paymentFailed = subscription?.status === "past_due" || subscription?.status === "unpaid";
    return {
      workspaceId: ws,
      workspaceName: usage.workspaceName,
      role,
      canAct: role !== null && rank[role] >= rank.editor,
      canManage: role !== null && rank[role] >= rank.admin,
      gettingStarted: {
        accountConnected: started.account_connected,
        postComposed: started.post_composed,
        postPublished: count("posted") > 0,
      },
      upcoming: upcoming.map(toItem),
      failures: { total: count("failed"), items: failed.map(toItem) },
      review: { items: count("needs_review"), accounts: review.accounts, latest: reviewItems.map(toItem) },
      usage,
      attention: {
        payment: paymentFailed
          ? { status: subscription.status, graceEndsAt: subscription.status === "past_due" ? (subscription.grace_ends_at?.toISOString() ?? null) : null }
          : null,
        pausedAccounts: { total: paused.reduce((sum, p) => sum + p.n, 0), byReason },
      },
    };
  });
}
