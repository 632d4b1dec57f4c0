// A workspace's team: members and roles, invitations by email (mailed over SMTP, or shown as a link in
// local mode), leaving, and transferring ownership. The database decides who may do what
// (supabase/migrations/20261204000400_teams.sql, explained in docs/teams.md): these functions act as
// the user, and turn a refusal into a reply that says why.
import type { z } from "zod";
import { asUser, asWorker, db, literal, type Row, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, fromDatabaseError, notFound, validationFailed } from "@/lib/api/errors";
import { appUrl, configuredAppOrigin } from "@/lib/api/app-url";
import { resolveWorkspaceId, roleInWorkspace, type WorkspaceRole } from "@/lib/workspaces";
import {
  acceptInput,
  changeRoleInput,
  invitationId,
  inviteInput,
  leaveInput,
  memberId,
  transferInput,
  withArticle,
  type AssignableRole,
} from "./input";
import { mailSettings, sendInvitationMail } from "./mail";

export interface Member {
  userId: string;
  email: string | null;
  role: WorkspaceRole;
  joinedAt: string;
  you: boolean;
}

export interface Team {
  workspaceId: string;
  workspaceName: string;
  yourRole: WorkspaceRole;
  /** The roles you may give, take away and invite at here, as the database's rule says. */
  manageableRoles: AssignableRole[];
  members: Member[];
  /** Every workspace you belong to, to switch between. */
  workspaces: Array<{ id: string; name: string; role: WorkspaceRole }>;
}

export interface Invitation {
  id: string;
  email: string;
  role: AssignableRole;
  invitedBy: string | null;
  createdAt: string;
  expiresAt: string;
  status: "open" | "expired";
}

export interface InvitationPreview {
  workspaceName: string;
  role: AssignableRole;
  email: string;
  expiresAt: string;
  status: "open" | "expired" | "used";
}

export type InviteResult =
  | { invitation: Invitation; delivery: "email" }
  | { invitation: Invitation; delivery: "link"; link: string };

function parse<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw validationFailed(parsed.error, what);
  return parsed.data;
}

// The HTTP status of each refusal the team functions raise (their codes are in the migration).
const STATUS: Record<string, number> = {
  role_not_allowed: 403,
  owner_only: 403,
  invitation_for_another_email: 403,
  invitation_expired: 410,
  invitation_used: 409,
  already_member: 409,
  already_owner: 409,
  last_owner: 409,
};

/** The `code` a Pacer function put in a raised error's detail, if any. */
function detailCode(error: unknown): string | undefined {
  const e = error as { code?: string; detail?: string };
  if (e?.code !== "P0001" || !e.detail?.startsWith("{")) return undefined;
  return (JSON.parse(e.detail) as { code?: string }).code;
}

function teamError(error: unknown): never {
  const e = error as { message?: string; hint?: string };
  const code = detailCode(error);
  if (code && code in STATUS) throw new PacerError(STATUS[code], code, [e.message, e.hint].filter(Boolean).join(" "));
  return fromDatabaseError(error);
}

const RULE = "Admins manage editors and viewers, the owner manages everyone below owner, and ownership moves only by transfer.";

function refused(yourRole: WorkspaceRole | null, what: string): PacerError {
  return new PacerError(403, "role_not_allowed", `Your role (${yourRole ?? "none"}) does not allow ${what}. ${RULE}`);
}

const iso = (d: Date) => d.toISOString();

/** Email addresses of the given users, as far as this member may see them named. */
async function emailsOf(tx: Tx, workspaceId: string, userIds: Array<string | null>): Promise<Map<string, string>> {
  const ids = [...new Set(userIds.filter((id): id is string => !!id))];
  if (ids.length === 0) return new Map();
  const rows = await tx`select user_id, email from private.people_in_workspace(${workspaceId}, ${ids}::uuid[])`;
  return new Map(rows.map((r) => [r.user_id as string, r.email as string]));
}

export function getTeam(user: UserClaims, requestedWorkspaceId?: string | null): Promise<Team> {
  return asUser(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, requestedWorkspaceId);
    const [workspace] = await tx`select name from public.workspaces where id = ${ws}`;
    const rows = await tx`select user_id, role, created_at from public.workspace_members where workspace_id = ${ws}`;
    const emails = await emailsOf(tx, ws, rows.map((r) => r.user_id));
    const members: Member[] = rows
      .map((r) => ({ userId: r.user_id, email: emails.get(r.user_id) ?? null, role: r.role, joinedAt: iso(r.created_at), you: r.user_id === user.sub }))
      .sort((a, b) => RANK[b.role as WorkspaceRole] - RANK[a.role as WorkspaceRole] || (a.email ?? "").localeCompare(b.email ?? ""));
    const manageable = await tx`
      select r::text as role from unnest(enum_range(null::public.workspace_role)) r
      where private.can_manage_role(${ws}, r) order by r`;
    const workspaces = await tx`
      select w.id, w.name, m.role from public.workspaces w
      join public.workspace_members m on m.workspace_id = w.id and m.user_id = (select auth.uid())
      order by w.personal desc, w.name, w.id`;
    return {
      workspaceId: ws,
      workspaceName: workspace.name,
      yourRole: members.find((m) => m.you)!.role,
      manageableRoles: manageable.map((r) => r.role as AssignableRole),
      members,
      workspaces: workspaces.map((w) => ({ id: w.id, name: w.name, role: w.role })),
    };
  });
}

const RANK: Record<WorkspaceRole, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

async function requireAdmin(tx: Tx, workspaceId: string, what: string): Promise<WorkspaceRole> {
  const role = await roleInWorkspace(tx, workspaceId);
  if (role === null) throw notFound("Workspace");
  if (RANK[role] < RANK.admin) throw refused(role, what);
  return role;
}

export function listInvitations(user: UserClaims, requestedWorkspaceId?: string | null): Promise<{ invitations: Invitation[] }> {
  return asUser(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, requestedWorkspaceId);
    await requireAdmin(tx, ws, "seeing invitations");
    const rows = await tx`
      select id, email, role, invited_by, created_at, expires_at from public.workspace_invitations
      where workspace_id = ${ws} and accepted_at is null order by created_at desc`;
    const emails = await emailsOf(tx, ws, rows.map((r) => r.invited_by));
    return { invitations: rows.map((r) => toInvitation(r, emails)) };
  });
}

function toInvitation(r: Row, emails: Map<string, string>): Invitation {
  return {
    id: r.id,
    email: r.email,
    role: r.role,
    invitedBy: r.invited_by ? (emails.get(r.invited_by) ?? null) : null,
    createdAt: iso(r.created_at),
    expiresAt: iso(r.expires_at),
    status: r.expires_at.getTime() <= Date.now() ? "expired" : "open",
  };
}

/** The invitation's link: absolute where the app's address is configured, else a path on this app. */
function invitationPath(token: string) {
  return `/invite/${token}`;
}

/**
 * Invite an address at a role. With SMTP configured the link goes only to that mailbox; in local
 * mode it is returned for the inviter to pass on. A mail that cannot be sent withdraws the invitation.
 */
export async function inviteMember(user: UserClaims, body: unknown): Promise<InviteResult> {
  const input = parse(inviteInput, body, "The invitation");
  // Checked before anything is made, so a misconfigured server creates nothing.
  const mail = mailSettings();
  if (mail) appUrl("/", "An invitation email");

  const made = await asUser(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, input.workspaceId);
    const [row] = await tx.savepoint((sp) => sp`select * from public.invite_to_workspace(${ws}, ${input.email}, ${input.role}::public.workspace_role)`).catch(teamError);
    const [invitation] = await tx`
      select id, email, role, invited_by, created_at, expires_at from public.workspace_invitations where id = ${row.invitation_id}`;
    const [workspace] = await tx`select name from public.workspaces where id = ${ws}`;
    const emails = await emailsOf(tx, ws, [user.sub]);
    return { token: row.token as string, invitation: toInvitation(invitation, emails), workspaceName: workspace.name as string };
  });

  if (!mail) {
    const origin = configuredAppOrigin();
    const path = invitationPath(made.token);
    return { invitation: made.invitation, delivery: "link", link: origin ? new URL(path, origin).href : path };
  }
  try {
    await sendInvitationMail(mail, {
      to: made.invitation.email,
      link: appUrl(invitationPath(made.token), "An invitation email"),
      workspaceName: made.workspaceName,
      role: made.invitation.role,
      inviter: made.invitation.invitedBy,
      expiresAt: new Date(made.invitation.expiresAt),
    });
  } catch (error) {
    await asUser(user, (tx) => tx`delete from public.workspace_invitations where id = ${made.invitation.id}`);
    throw new PacerError(
      502,
      "invitation_not_sent",
      `Pacer could not send the invitation to ${made.invitation.email} (${(error as Error).message}), so it was withdrawn. Try again, or ask the operator to check PACER_SMTP_URL.`,
    );
  }
  return { invitation: made.invitation, delivery: "email" };
}

export function revokeInvitation(user: UserClaims, id: string): Promise<void> {
  if (!invitationId.safeParse(id).success) throw notFound("The invitation");
  return asUser(user, async (tx) => {
    const [gone] = await tx`delete from public.workspace_invitations where id = ${id} returning id`;
    if (gone) return;
    const [seen] = await tx`select workspace_id, role, accepted_at from public.workspace_invitations where id = ${id}`;
    if (!seen) throw notFound("The invitation");
    if (seen.accepted_at) {
      throw new PacerError(409, "invitation_used", "This invitation was already accepted: remove the member instead.");
    }
    throw refused(await roleInWorkspace(tx, seen.workspace_id), `revoking an invitation as ${seen.role}`);
  });
}

/** What an invitation link shows before it is accepted, to anyone holding it; null for an unknown link. */
export async function previewInvitation(token: string): Promise<InvitationPreview | null> {
  if (!acceptInput.safeParse({ token }).success) return null;
  const [row] = await asWorker(db(), `select * from public.invitation_preview(${literal(token)})`);
  if (!row) return null;
  return { workspaceName: row.workspace_name, role: row.role, email: row.email, expiresAt: iso(row.expires_at), status: row.status };
}

export function acceptInvitation(user: UserClaims, body: unknown): Promise<{ workspaceId: string; role: AssignableRole }> {
  const { token } = parse(acceptInput, body, "The acceptance");
  return asUser(user, async (tx) => {
    const [row] = await tx`select * from public.accept_invitation(${token})`.catch(teamError);
    return { workspaceId: row.workspace_id, role: row.role };
  });
}

/** Why a change to a member was refused, once the database has refused it. */
async function explainMemberRefusal(tx: Tx, ws: string, userId: string, what: (targetRole: WorkspaceRole) => string): Promise<never> {
  const [target] = await tx`select role from public.workspace_members where workspace_id = ${ws} and user_id = ${userId}`;
  if (!target) throw notFound("That member");
  throw refused(await roleInWorkspace(tx, ws), what(target.role));
}

export function changeMemberRole(user: UserClaims, userId: string, body: unknown): Promise<Member> {
  if (!memberId.safeParse(userId).success) throw notFound("That member");
  const input = parse(changeRoleInput, body, "The role change");
  return asUser(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, input.workspaceId);
    if (userId === user.sub) {
      throw new PacerError(403, "own_role", `Nobody changes their own role: ask someone above you, or leave the workspace. ${RULE}`);
    }
    const describe = (from: WorkspaceRole) => `changing ${withArticle(from)} to ${input.role}`;
    let changed;
    try {
      [changed] = await tx.savepoint((sp) => sp`
        update public.workspace_members set role = ${input.role}::public.workspace_role
        where workspace_id = ${ws} and user_id = ${userId} returning user_id, role, created_at`);
    } catch (error) {
      // The policy's check on the new role: the member is below you, the role you chose is not.
      if ((error as { code?: string }).code !== "42501") throw error;
    }
    if (!changed) return explainMemberRefusal(tx, ws, userId, describe);
    const emails = await emailsOf(tx, ws, [userId]);
    return { userId, email: emails.get(userId) ?? null, role: changed.role, joinedAt: iso(changed.created_at), you: false };
  });
}

export async function removeMember(user: UserClaims, userId: string, requestedWorkspaceId?: string | null): Promise<void> {
  if (!memberId.safeParse(userId).success) throw notFound("That member");
  if (userId === user.sub) {
    await leaveWorkspace(user, { workspaceId: requestedWorkspaceId ?? undefined });
    return;
  }
  await asUser(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, requestedWorkspaceId);
    const [gone] = await tx`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${userId} returning user_id`;
    if (!gone) await explainMemberRefusal(tx, ws, userId, (role) => `removing ${withArticle(role)}`);
  });
}

export function leaveWorkspace(user: UserClaims, body: unknown): Promise<{ workspaceId: string }> {
  const input = parse(leaveInput, body, "Leaving");
  return asUser(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, input.workspaceId);
    const [gone] = await tx
      .savepoint((sp) => sp`delete from public.workspace_members where workspace_id = ${ws} and user_id = (select auth.uid()) returning user_id`)
      .catch((error) => {
        if (detailCode(error) === "last_owner") {
          throw new PacerError(409, "last_owner", "You own this workspace: transfer ownership to another member first, then leave (or delete the workspace).");
        }
        return teamError(error);
      });
    if (!gone) throw notFound("Workspace");
    return { workspaceId: ws };
  });
}

export function transferOwnership(user: UserClaims, body: unknown): Promise<{ workspaceId: string; ownerId: string }> {
  const input = parse(transferInput, body, "The transfer");
  return asUser(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, input.workspaceId);
    await tx`select public.transfer_workspace_ownership(${ws}, ${input.userId})`.catch(teamError);
    return { workspaceId: ws, ownerId: input.userId };
  });
}
