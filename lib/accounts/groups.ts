// Account groups: named sets of a workspace's live accounts ("Brand A", "EU stores") that the composer
// picks at once. Editors and up manage them; RLS and the tables' keys decide (see the archive migration).
import { asUser, type Row, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, fromDatabaseError, notFound, validationFailed } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { z } from "zod";
import { groupChanges, newGroupInput } from "./input";

export interface AccountGroup {
  id: string;
  workspaceId: string;
  name: string;
  /** The group's live accounts (a removed account leaves its groups). */
  accountIds: string[];
  createdAt: string;
  updatedAt: string;
}

const GROUP_SELECT = `
  select g.id, g.workspace_id, g.name, g.created_at, g.updated_at,
         coalesce(array_agg(m.account_id order by m.added_at, m.account_id) filter (where m.account_id is not null), '{}') as account_ids
  from public.account_groups g
  left join public.account_group_members m on m.group_id = g.id`;

function toGroup(r: Row): AccountGroup {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    name: r.name,
    accountIds: r.account_ids ?? [],
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

const groupId = z.uuid();

export function listGroups(user: UserClaims, requestedWorkspaceId?: string | null) {
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, requestedWorkspaceId);
    const rows = await tx.unsafe(`${GROUP_SELECT} where g.workspace_id = $1 group by g.id order by lower(g.name), g.id`, [workspaceId]);
    return { workspaceId, groups: rows.map(toGroup) };
  });
}

export async function createGroup(user: UserClaims, input: unknown): Promise<AccountGroup> {
  const parsed = newGroupInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The group");
  const { name, accountIds, workspaceId: requested } = parsed.data;
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, requested);
    let id: string;
    try {
      [{ id }] = (await tx`insert into public.account_groups (workspace_id, name) values (${workspaceId}, ${name}) returning id`) as unknown as Array<{ id: string }>;
    } catch (error) {
      return refused(error, name);
    }
    if (accountIds?.length) await setMembers(tx, id, workspaceId, accountIds);
    return readGroup(tx, id);
  });
}

/** Renames a group and/or sets its accounts (the whole list: those left out leave the group). */
export async function changeGroup(user: UserClaims, id: string, input: unknown): Promise<AccountGroup> {
  if (!groupId.safeParse(id).success) throw notFound("Account group");
  const parsed = groupChanges.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The change");
  const { name, accountIds } = parsed.data;
  return asUser(user, async (tx) => {
    const group = await editableGroup(tx, id);
    if (name !== undefined) {
      try {
        await tx`update public.account_groups set name = ${name} where id = ${id}`;
      } catch (error) {
        return refused(error, name);
      }
    }
    if (accountIds !== undefined) await setMembers(tx, id, group.workspace_id, accountIds);
    return readGroup(tx, id);
  });
}

export async function deleteGroup(user: UserClaims, id: string): Promise<void> {
  if (!groupId.safeParse(id).success) throw notFound("Account group");
  await asUser(user, async (tx) => {
    await editableGroup(tx, id);
    await tx`delete from public.account_groups where id = ${id}`;
  });
}

/** The group, if the user sees it (404) and may change it (403: editors and up). */
async function editableGroup(tx: Tx, id: string) {
  const [group] = await tx`select id, workspace_id, private.has_role_on_workspace(workspace_id, 'editor') as may
                           from public.account_groups where id = ${id}`;
  if (!group) throw notFound("Account group");
  if (!group.may) throw new PacerError(403, "forbidden", "Your role in this workspace does not allow you to change account groups; editors and up can.");
  return group;
}

/** Sets the group's accounts to exactly these: each must be a live account of the group's workspace. */
async function setMembers(tx: Tx, id: string, workspaceId: string, accountIds: string[]) {
  const wanted = [...new Set(accountIds)];
  const live = await tx`select id from public.social_accounts
                        where workspace_id = ${workspaceId} and archived_at is null and id = any (${wanted}::uuid[])`;
  const known = new Set(live.map((r) => r.id as string));
  const issues = accountIds.flatMap((a, i) => (known.has(a) ? [] : [{ path: `accountIds.${i}`, message: "There is no account with this id in this workspace (or it was removed)." }]));
  if (issues.length) throw new PacerError(400, "validation_failed", `${issues.length} of the accounts cannot join this group: ${issues[0].message}`, issues);
  await tx`delete from public.account_group_members where group_id = ${id} and not (account_id = any (${wanted}::uuid[]))`;
  await tx`insert into public.account_group_members (group_id, account_id, workspace_id)
           select ${id}, a, ${workspaceId} from unnest(${wanted}::uuid[]) a
           on conflict (group_id, account_id) do nothing`.catch(fromDatabaseError);
}

async function readGroup(tx: Tx, id: string): Promise<AccountGroup> {
  const [row] = await tx.unsafe(`${GROUP_SELECT} where g.id = $1 group by g.id`, [id]);
  if (!row) throw notFound("Account group");
  return toGroup(row);
}

function refused(error: unknown, name: string): never {
  if ((error as { code?: string }).code === "23505") {
    throw new PacerError(409, "group_exists", `There is already a group called "${name}" in this workspace.`, [{ path: "name", message: "Choose another name." }]);
  }
  if ((error as { code?: string }).code === "42501" || /row-level security/.test(String((error as Error).message))) {
    throw new PacerError(403, "forbidden", "Your role in this workspace does not allow you to change account groups; editors and up can.");
  }
  return fromDatabaseError(error);
}
