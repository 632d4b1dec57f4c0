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

export type WorkspaceRole = "viewer" | "editor" | "admin" | "owner";

/** What the user may do in a workspace, as the pages need it: act (editors and up) and tune (admins and up). */
export interface WorkspaceAccess {
  workspaceId: string | null;
  role: WorkspaceRole | null;
  canAct: boolean;
  canTune: boolean;
}

const rank: Record<WorkspaceRole, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

/** The user's role in a workspace (null when not a member); workspace_members is read under RLS. */
export async function roleInWorkspace(tx: Tx, workspaceId: string): Promise<WorkspaceRole | null> {
  const [member] = await tx`
    select role from public.workspace_members where workspace_id = ${workspaceId} and user_id = (select auth.uid())`;
  return (member?.role as WorkspaceRole | undefined) ?? null;
}

/**
 * The user's access in the workspace a page shows: the account's (when a page is about one account
 * the user can see), else the requested or default one. The API still decides; pages use this only
 * so they do not offer actions the API would refuse.
 */
export function workspaceAccess(user: UserClaims, of: { workspaceId?: string | null; accountId?: string } = {}): Promise<WorkspaceAccess> {
  return asUser(user, async (tx) => {
    let ws: string | null = null;
    if (of.accountId !== undefined) {
      if (z.uuid().safeParse(of.accountId).success) {
        const [account] = await tx`select workspace_id from public.social_accounts where id = ${of.accountId}`;
        ws = account?.workspace_id ?? null;
      }
    } else {
      ws = await resolveWorkspaceId(tx, of.workspaceId);
    }
    const role = ws ? await roleInWorkspace(tx, ws) : null;
    return {
      workspaceId: ws,
      role,
      canAct: role !== null && rank[role] >= rank.editor,
      canTune: role !== null && rank[role] >= rank.admin,
    };
  });
}
