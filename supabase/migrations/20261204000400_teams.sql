-- Teams: invitations by email, and who may change whom, enforced here whatever the caller (the
-- API, or supabase-js as `authenticated` straight at the tables).
--
-- The rules (docs/teams.md):
--   * A workspace has exactly one owner. Ownership moves only by transfer, which the owner makes;
--     the old owner stays on as an admin.
--   * The owner manages admins, editors and viewers; an admin manages editors and viewers. "Manage"
--     means invite at that role, change a member from and to such a role, remove such a member, and
--     revoke such an invitation. Nobody changes their own role (leaving is the only change to oneself).
--   * Anyone but the owner may leave.
--   * People join only by accepting an invitation sent to their own (confirmed) email address: the
--     link's token is stored hashed, expires, and works once.

---------------------------------------------------------------------------------------------------
-- Exactly one owner per workspace.
---------------------------------------------------------------------------------------------------
-- Until now an owner could make others owners too. Each workspace keeps one: its creator if they are
-- still an owner, else the longest-standing owner; the others become admins (the audit log says so).
with ranked as (
  select m.workspace_id, m.user_id,
         row_number() over (partition by m.workspace_id
                            order by (m.user_id is not distinct from w.created_by) desc, m.created_at, m.user_id) as n
  from public.workspace_members m join public.workspaces w on w.id = m.workspace_id
  where m.role = 'owner'
)
update public.workspace_members m set role = 'admin'
from ranked r
where r.workspace_id = m.workspace_id and r.user_id = m.user_id and r.n > 1;

-- Checked at the end of each statement, so a transfer can swap two roles in one update (the
-- keep-an-owner trigger, after each row, already sees the statement's end).
alter table public.workspace_members
  add constraint workspace_members_one_owner
  exclude using btree (workspace_id with =) where (role = 'owner')
  deferrable initially immediate;

---------------------------------------------------------------------------------------------------
-- The one rule every member policy and team function reuses.
---------------------------------------------------------------------------------------------------
-- Whether the signed-in user may manage members (and invitations) holding `p_role` in this
-- workspace: the owner those below owner, an admin editors and viewers. Nobody manages an owner.
create function private.can_manage_role(p_workspace_id uuid, p_role public.workspace_role)
returns boolean
language sql stable security definer set search_path = ''
as $$
  select exists (
    select 1 from public.workspace_members m
    where m.workspace_id = p_workspace_id
      and m.user_id = (select auth.uid())
      and ((m.role = 'owner' and p_role < 'owner') or (m.role = 'admin' and p_role < 'admin'))
  )
$$;
revoke all on function private.can_manage_role from public;
grant execute on function private.can_manage_role to authenticated;

-- Members: nobody inserts a membership directly any more (there is no insert policy, so RLS refuses
-- it); people join through public.accept_invitation, and owners through workspace creation.
drop policy "Owners can add members" on public.workspace_members;

drop policy "Owners can change members' roles" on public.workspace_members;
create policy "Owners and admins can change the roles of members below them" on public.workspace_members
  for update to authenticated
  using (user_id <> (select auth.uid()) and private.can_manage_role(workspace_id, role))
  with check (user_id <> (select auth.uid()) and private.can_manage_role(workspace_id, role));

drop policy "Owners can remove members, and members can leave" on public.workspace_members;
create policy "Owners and admins can remove members below them, and members can leave" on public.workspace_members
  for delete to authenticated
  using (user_id = (select auth.uid()) or private.can_manage_role(workspace_id, role));

---------------------------------------------------------------------------------------------------
-- Invitations.
---------------------------------------------------------------------------------------------------
create table public.workspace_invitations (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  -- Lower-cased; acceptance compares it with the accepting user's own address.
  email text not null check (email = lower(btrim(email)) and length(email) <= 320 and email ~ '^[^@\s]+@[^@\s]+$'),
  role public.workspace_role not null check (role <> 'owner'),
  -- sha256 of the link's token, hex: the token itself is shown or mailed once and never stored.
  token_hash text not null unique,
  invited_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  accepted_at timestamptz,
  accepted_by uuid references auth.users (id) on delete set null
);
create index workspace_invitations_workspace_id_idx on public.workspace_invitations (workspace_id, created_at desc);
-- One open invitation per address and workspace: inviting again replaces it.
create unique index workspace_invitations_one_open on public.workspace_invitations (workspace_id, email)
  where accepted_at is null;

alter table public.workspace_invitations enable row level security;
create policy "Owners and admins can see their workspace's invitations" on public.workspace_invitations
  for select to authenticated
  using (workspace_id in (select private.my_workspace_ids('admin')));
create policy "Owners and admins can revoke open invitations at roles they manage" on public.workspace_invitations
  for delete to authenticated
  using (accepted_at is null and private.can_manage_role(workspace_id, role));
-- Made only by public.invite_to_workspace (it makes the token) and used only by public.accept_invitation.
revoke all on public.workspace_invitations from anon, authenticated;
grant select (id, workspace_id, email, role, invited_by, created_at, expires_at, accepted_at, accepted_by)
  on public.workspace_invitations to authenticated;
grant delete on public.workspace_invitations to authenticated;

-- One row per invitation made, revoked (or replaced) and accepted; never the token's hash.
create function private.audit_invitation()
returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_workspace uuid := coalesce(new.workspace_id, old.workspace_id);
begin
  -- A deleted workspace takes its invitations and its log with it.
  if tg_op = 'DELETE' and not exists (select 1 from public.workspaces where id = v_workspace) then
    return null;
  end if;
  insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
  values (v_workspace, (select auth.uid()),
          case tg_op when 'INSERT' then 'invite' when 'DELETE' then 'revoke_invitation' else 'accept_invitation' end,
          'workspace_invitations', coalesce(new.id, old.id)::text,
          case when tg_op <> 'INSERT' then to_jsonb(old) - 'token_hash' end,
          case when tg_op <> 'DELETE' then to_jsonb(new) - 'token_hash' end);
  return null;
end
$$;
revoke all on function private.audit_invitation() from public;
create trigger audit_invitation after insert or update or delete on public.workspace_invitations
  for each row execute function private.audit_invitation();

create function private.invitation_token_hash(p_token text)
returns text
language sql immutable set search_path = ''
as $$ select pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(p_token, 'UTF8')), 'hex') $$;
revoke all on function private.invitation_token_hash from public;

-- Invite `p_email` at `p_role`; answers the link's token, once. Inviting an address with an open
-- invitation replaces it (a fresh link and expiry), if the inviter manages that invitation's role.
create function public.invite_to_workspace(p_workspace_id uuid, p_email text, p_role public.workspace_role)
returns table (invitation_id uuid, token text, expires_at timestamptz)
language plpgsql security definer set search_path = ''
as $$
declare
  v_email text := lower(btrim(p_email));
  -- Two v4 UUIDs: 244 random bits from the server's strong random source.
  v_token text := replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
  v_open public.workspace_role;
  v_id uuid;
  v_expires timestamptz := now() + interval '7 days';
begin
  if not private.has_role_on_workspace(p_workspace_id) then
    raise exception 'Workspace not found, or you do not have access to it.' using errcode = 'P0002';
  end if;
  if not private.can_manage_role(p_workspace_id, p_role) then
    raise exception 'Your role does not allow inviting someone as %: admins invite editors and viewers, and only the owner invites admins. Ownership moves only by transfer.', p_role
      using errcode = 'P0001', detail = json_build_object('code', 'role_not_allowed')::text;
  end if;
  if exists (select 1 from public.workspace_members m join auth.users u on u.id = m.user_id
             where m.workspace_id = p_workspace_id and lower(u.email) = v_email) then
    raise exception '% is already a member of this workspace.', v_email
      using errcode = 'P0001', detail = json_build_object('code', 'already_member')::text,
            hint = 'Change their role on the team page instead.';
  end if;
  select i.role into v_open from public.workspace_invitations i
  where i.workspace_id = p_workspace_id and i.email = v_email and i.accepted_at is null
  for update;
  if found then
    if not private.can_manage_role(p_workspace_id, v_open) then
      raise exception '% already has an open invitation as %, which your role cannot replace.', v_email, v_open
        using errcode = 'P0001', detail = json_build_object('code', 'role_not_allowed')::text;
    end if;
    delete from public.workspace_invitations i
    where i.workspace_id = p_workspace_id and i.email = v_email and i.accepted_at is null;
  end if;
  insert into public.workspace_invitations (workspace_id, email, role, token_hash, invited_by, expires_at)
  values (p_workspace_id, v_email, p_role, private.invitation_token_hash(v_token), (select auth.uid()), v_expires)
  returning id into v_id;
  return query select v_id, v_token, v_expires;
end
$$;
revoke all on function public.invite_to_workspace from public, anon;
grant execute on function public.invite_to_workspace to authenticated;

-- What an invitation link shows before anyone accepts it: the workspace, the role, the address it
-- was sent to, and whether it can still be used. The token is the key: it reads only its own row.
create function public.invitation_preview(p_token text)
returns table (workspace_name text, role public.workspace_role, email text, expires_at timestamptz, status text)
language sql stable security definer set search_path = ''
as $$
  select w.name, i.role, i.email, i.expires_at,
         case when i.accepted_at is not null then 'used' when i.expires_at <= now() then 'expired' else 'open' end
  from public.workspace_invitations i join public.workspaces w on w.id = i.workspace_id
  where i.token_hash = private.invitation_token_hash(p_token)
$$;
revoke all on function public.invitation_preview from public, anon;
grant execute on function public.invitation_preview to authenticated, pacer_worker;

-- Accept an invitation as the signed-in user: only with the address it was sent to (confirmed),
-- before it expires, once.
create function public.accept_invitation(p_token text)
returns table (workspace_id uuid, role public.workspace_role)
language plpgsql security definer set search_path = ''
as $$
declare
  v_invitation public.workspace_invitations;
  v_email text;
  v_confirmed timestamptz;
begin
  if (select auth.uid()) is null then
    raise exception 'Sign in to accept an invitation.' using errcode = '42501';
  end if;
  select * into v_invitation from public.workspace_invitations
  where token_hash = private.invitation_token_hash(p_token)
  for update;
  if not found then
    raise exception 'This invitation link is not valid (it may have been revoked or replaced): ask for a new invitation.'
      using errcode = 'P0002';
  end if;
  if v_invitation.accepted_at is not null then
    raise exception 'This invitation has already been used.'
      using errcode = 'P0001', detail = json_build_object('code', 'invitation_used')::text;
  end if;
  if v_invitation.expires_at <= now() then
    raise exception 'This invitation expired on %: ask for a new one.', to_char(v_invitation.expires_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
      using errcode = 'P0001', detail = json_build_object('code', 'invitation_expired')::text;
  end if;
  select lower(u.email), u.email_confirmed_at into v_email, v_confirmed from auth.users u where u.id = (select auth.uid());
  if v_email is distinct from v_invitation.email or v_confirmed is null then
    raise exception 'This invitation was sent to another email address: sign in with the address it was sent to (confirmed) to accept it.'
      using errcode = 'P0001', detail = json_build_object('code', 'invitation_for_another_email')::text;
  end if;
  if exists (select 1 from public.workspace_members m
             where m.workspace_id = v_invitation.workspace_id and m.user_id = (select auth.uid())) then
    raise exception 'You are already a member of this workspace.'
      using errcode = 'P0001', detail = json_build_object('code', 'already_member')::text;
  end if;
  insert into public.workspace_members (workspace_id, user_id, role)
  values (v_invitation.workspace_id, (select auth.uid()), v_invitation.role);
  update public.workspace_invitations set accepted_at = now(), accepted_by = (select auth.uid())
  where id = v_invitation.id;
  return query select v_invitation.workspace_id, v_invitation.role;
end
$$;
revoke all on function public.accept_invitation from public, anon;
grant execute on function public.accept_invitation to authenticated;

-- The owner hands the workspace to another member, who becomes its owner while the old owner
-- becomes an admin: one statement, so there is exactly one owner before and after.
create function public.transfer_workspace_ownership(p_workspace_id uuid, p_new_owner uuid)
returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_me uuid := (select auth.uid());
begin
  -- Serialise with other role changes in this workspace (the keep-an-owner trigger takes the same lock).
  perform 1 from public.workspaces w where w.id = p_workspace_id for no key update;
  if not private.has_role_on_workspace(p_workspace_id) then
    raise exception 'Workspace not found, or you do not have access to it.' using errcode = 'P0002';
  end if;
  if not private.has_role_on_workspace(p_workspace_id, 'owner') then
    raise exception 'Only the workspace''s owner can transfer ownership.'
      using errcode = 'P0001', detail = json_build_object('code', 'owner_only')::text;
  end if;
  if p_new_owner = v_me then
    raise exception 'You already own this workspace: choose another member.'
      using errcode = 'P0001', detail = json_build_object('code', 'already_owner')::text;
  end if;
  if not exists (select 1 from public.workspace_members m where m.workspace_id = p_workspace_id and m.user_id = p_new_owner) then
    raise exception 'That person is not a member of this workspace: invite them first.' using errcode = 'P0002';
  end if;
  update public.workspace_members m
  set role = case when m.user_id = p_new_owner then 'owner' else 'admin' end::public.workspace_role
  where m.workspace_id = p_workspace_id and m.user_id in (v_me, p_new_owner);
  insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
  values (p_workspace_id, v_me, 'transfer_ownership', 'workspaces', p_workspace_id::text,
          jsonb_build_object('owner', v_me), jsonb_build_object('owner', p_new_owner));
end
$$;
revoke all on function public.transfer_workspace_ownership from public, anon;
grant execute on function public.transfer_workspace_ownership to authenticated;

-- Email addresses of people a member may see named: fellow members (any member), and for admins and
-- up also whoever appears in the workspace's audit log or invitations (people since removed).
create function private.people_in_workspace(p_workspace_id uuid, p_user_ids uuid[])
returns table (user_id uuid, email text)
language sql stable security definer set search_path = ''
as $$
  select u.id, u.email::text from auth.users u
  where u.id = any (p_user_ids)
    and (
      (private.has_role_on_workspace(p_workspace_id)
       and exists (select 1 from public.workspace_members m where m.workspace_id = p_workspace_id and m.user_id = u.id))
      or (private.has_role_on_workspace(p_workspace_id, 'admin')
          and (exists (select 1 from public.audit_log l where l.workspace_id = p_workspace_id and l.actor_id = u.id)
               or exists (select 1 from public.audit_log l where l.workspace_id = p_workspace_id
                          and l.entity = 'workspace_members' and l.entity_id = p_workspace_id::text || ':' || u.id::text)
               or exists (select 1 from public.workspace_invitations i where i.workspace_id = p_workspace_id
                          and (i.invited_by = u.id or i.accepted_by = u.id))))
    )
$$;
revoke all on function private.people_in_workspace from public;
grant execute on function private.people_in_workspace to authenticated;

-- The audit page pages by id (newest first) within a workspace, filtered by actor or not.
create index audit_log_workspace_page_idx on public.audit_log (workspace_id, id desc);
create index audit_log_actor_idx on public.audit_log (workspace_id, actor_id, id desc);
-- people_in_workspace finds removed members by their membership rows in the log.
create index audit_log_member_idx on public.audit_log (entity_id) where entity = 'workspace_members';

call private.hand_over_to_postgres();
