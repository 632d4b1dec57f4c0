// Which workspace a request acts on, and its usage against the plan's limit.
import { z } from "zod";
import { asUser, type Tx, type UserClaims } from "@/lib/db";
import { notFound } from "@/lib/api/errors";

export interface Usage {
  workspaceId: string;
  workspaceName: string;
  plan: { id: string; name: string; maxAccounts: number; priceCents: number; features: Record<string, boolean> };
  accountsUsed: number;
  accountsByPlatform: Record<string, number>;
  remaining: number;
}

const workspaceId = z.uuid();

/**
 * The workspace a request acts on: the one asked for (it must be visible to the user, else 404),
 * or the user's personal workspace, or the oldest one they belong to.
 */
export async function resolveWorkspaceId(tx: Tx, requested?: string | null): Promise<string> {
  if (requested) {
    if (!workspaceId.safeParse(requested).success) throw notFound("Workspace");
    const [row] = await tx`select id from public.workspaces where id = ${requested}`;
    if (!row) throw notFound("Workspace");
    return row.id;
  }
  const [row] = await tx`
    select w.id from public.workspaces w
    join public.workspace_members m on m.workspace_id = w.id and m.user_id = (select auth.uid())
    order by (w.personal and w.created_by = (select auth.uid())) desc, w.created_at
    limit 1`;
  if (!row) throw notFound("A workspace for this user");
  return row.id;
}

export function getUsage(user: UserClaims, requestedWorkspaceId?: string | null): Promise<Usage> {
  return asUser(user, async (tx) => {
    const id = await resolveWorkspaceId(tx, requestedWorkspaceId);
    const [u] = await tx`
      select u.*, p.price_cents_monthly
      from public.workspace_usage u join public.plans p on p.id = u.plan_id
      where u.workspace_id = ${id}`;
    return {
      workspaceId: u.workspace_id,
      workspaceName: u.workspace_name,
      plan: {
        id: u.plan_id,
        name: u.plan_name,
        maxAccounts: u.max_accounts,
        priceCents: u.price_cents_monthly,
        features: u.features_enabled,
      },
      accountsUsed: u.accounts_used,
      accountsByPlatform: u.accounts_by_platform,
      remaining: Math.max(0, u.max_accounts - u.accounts_used),
    };
  });
}
