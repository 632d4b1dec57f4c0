-- A hole the role tests (tests/database/roles.test.ts) found: the last owner could demote themselves
-- or leave, leaving a workspace nobody can manage, bill or delete. (They also found that any editor
-- could overwrite an account's stored credentials; 20261201000300_tenant_limits.sql closes that:
-- only the server's role writes them, through private.store_account_credentials.)

-- A workspace always keeps an owner, except when it is being deleted or its owner's user is.
create function private.keep_an_owner() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  -- Serialise role changes per workspace, so two owners cannot each demote the other at once.
  perform 1 from public.workspaces w where w.id = old.workspace_id for no key update;
  if not found or not exists (select 1 from auth.users u where u.id = old.user_id) then
    return null;
  end if;
  if not exists (select 1 from public.workspace_members m where m.workspace_id = old.workspace_id and m.role = 'owner') then
    raise exception 'A workspace needs an owner: make another member owner first, or delete the workspace.'
      using errcode = 'P0001', detail = json_build_object('code', 'last_owner')::text;
  end if;
  return null;
end
$$;
revoke all on function private.keep_an_owner() from public;
create trigger keep_an_owner after update of role or delete on public.workspace_members
  for each row when (old.role = 'owner') execute function private.keep_an_owner();
