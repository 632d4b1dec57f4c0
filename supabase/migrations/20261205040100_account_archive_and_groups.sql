-- Removing an account keeps its record (issue 12): remove = archive. The account's posted items,
-- posting history and audit rows stay and still name it; its waiting items are cancelled saying why;
-- its plan slot is freed; it never publishes again; its handle can be connected again as a new account.
-- Also: pausing, resuming and removing many accounts at once (per-account outcomes), and account groups.

---------------------------------------------------------------------------------------------------
-- The record of a removal.
---------------------------------------------------------------------------------------------------
alter table public.social_accounts
  add column archived_at timestamptz,
  add column archived_by uuid references auth.users (id) on delete set null;
grant select (archived_at, archived_by) on public.social_accounts to authenticated;
-- Live accounts are what every page, count and claim reads.
create index social_accounts_live_idx on public.social_accounts (workspace_id, created_at, id) where archived_at is null;

-- A removed account is paused with this reason: every path that publishes already skips a paused account.
alter table public.social_accounts drop constraint social_accounts_paused_reason_check;
alter table public.social_accounts add constraint social_accounts_paused_reason_check
  check (paused_reason in ('plan_limit', 'health', 'manual', 'removed'));

-- One live account per handle and per platform identity: a removed one's handle can be added again.
alter table public.social_accounts drop constraint social_accounts_workspace_id_platform_handle_key;
create unique index social_accounts_workspace_id_platform_handle_key
  on public.social_accounts (workspace_id, platform, handle) where archived_at is null;
drop index public.social_accounts_platform_identity_key;
create unique index social_accounts_platform_identity_key
  on public.social_accounts (workspace_id, platform, platform_identity)
  where platform_identity is not null and archived_at is null;

-- No role deletes an account any more (a workspace's deletion still cascades): removal is
-- public.remove_accounts. A removed account cannot be edited through the API.
drop policy "Admins and owners can remove accounts" on public.social_accounts;
revoke delete on public.social_accounts from authenticated;
create policy "Removed accounts are read-only" on public.social_accounts
  as restrictive for update to authenticated
  using (archived_at is null);

-- Once removed, always removed; and a removed account never becomes able to publish, whoever tries
-- (a resume, a reconnect, the plan's limit lifting).
create function private.keep_removed_accounts_removed()
returns trigger
language plpgsql set search_path = ''
as $$
begin
  if old.archived_at is null then
    return new;
  end if;
  if new.archived_at is distinct from old.archived_at or new.archived_by is distinct from old.archived_by then
    raise exception 'A removed account stays removed.' using errcode = 'P0001',
      hint = 'Connect the handle again as a new account.',
      detail = json_build_object('code', 'account_removed')::text;
  end if;
  if new.credentials_encrypted is not null and old.credentials_encrypted is null then
    raise exception 'This account was removed; it cannot be connected again.' using errcode = 'P0001',
      hint = 'Connect the handle again as a new account.',
      detail = json_build_object('code', 'account_removed')::text;
  end if;
  if new.state in ('connected', 'active') then  -- private.account_can_publish
    raise exception 'This account was removed; it cannot publish again.' using errcode = 'P0001',
      hint = 'Connect the handle again as a new account.',
      detail = json_build_object('code', 'account_removed')::text;
  end if;
  return new;
end
$$;
create trigger keep_removed_accounts_removed before update on public.social_accounts
  for each row execute function private.keep_removed_accounts_removed();

-- Nothing is queued for a removed account, nor set waiting again (a retry, a restore). Inserts are
-- checked once per statement (a bulk import of 10,000 rows is one join), status changes per row only
-- when an item starts waiting again.
create function private.refuse_items_of_removed_accounts()
returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_account public.social_accounts;
begin
  if tg_level = 'STATEMENT' then
    select a.* into v_account
    from public.social_accounts a
    where a.archived_at is not null and a.id in (select n.account_id from new_rows n)
    limit 1;
  else
    select a.* into v_account from public.social_accounts a where a.id = new.account_id and a.archived_at is not null;
  end if;
  if v_account.id is not null then
    raise exception '@% on % was removed from this workspace; nothing can be queued for it.', v_account.handle, v_account.platform
      using errcode = 'P0001',
            hint = 'Queue the post for another account, or connect the handle again as a new account.',
            detail = json_build_object('code', 'account_removed', 'account_id', v_account.id)::text;
  end if;
  return case when tg_level = 'STATEMENT' then null else new end;
end
$$;
create trigger refuse_items_of_removed_accounts after insert on public.queue_items
  referencing new table as new_rows
  for each statement execute function private.refuse_items_of_removed_accounts();
create trigger refuse_waiting_items_of_removed_accounts before update of status on public.queue_items
  for each row when (new.status in ('pending', 'rate_limited') and old.status not in ('pending', 'rate_limited'))
  execute function private.refuse_items_of_removed_accounts();

---------------------------------------------------------------------------------------------------
-- The plan covers the first N live accounts: every count and ranking skips removed ones.
---------------------------------------------------------------------------------------------------
create or replace function private.enforce_account_limit()
returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_plan public.plans;
  v_used integer;
begin
  select p.* into v_plan
  from public.workspaces w join public.plans p on p.id = w.plan_id
  where w.id = new.workspace_id
  for no key update of w;

  select count(*) into v_used from public.social_accounts
  where workspace_id = new.workspace_id and archived_at is null;

  if v_used >= v_plan.max_accounts then
    raise exception 'This workspace is on the % plan, which allows % social accounts, and all % are in use.',
      v_plan.name, v_plan.max_accounts, v_used
      using errcode = 'P0001',
            hint = 'Remove an account or upgrade the plan to add more.',
            detail = json_build_object('code', 'plan_limit_reached', 'plan', v_plan.id,
                                       'max_accounts', v_plan.max_accounts, 'used', v_used)::text;
  end if;
  return new;
end
$$;

create or replace function private.apply_plan_limit(p_workspace_id uuid)
returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_plan public.plans;
  v_reason text;
begin
  select p.* into v_plan
  from public.workspaces w join public.plans p on p.id = w.plan_id
  where w.id = p_workspace_id;
  if not found then
    return;  -- the workspace is being deleted
  end if;
  v_reason := private.plan_limit_reason(v_plan.name, v_plan.max_accounts);

  -- Resume what the plan covers again, in the state it had before.
  with ranked as (
    select a.id, row_number() over (order by a.created_at, a.id) as n
    from public.social_accounts a where a.workspace_id = p_workspace_id and a.archived_at is null
  )
  update public.social_accounts a set
    state = coalesce(a.state_before_pause, 'connected'),
    paused_reason = null, state_before_pause = null, last_error = null
  from ranked r
  where a.id = r.id and a.paused_reason = 'plan_limit' and r.n <= v_plan.max_accounts;

  -- Pause the most recently added accounts past the limit; keep the reason naming the current plan.
  with ranked as (
    select a.id, row_number() over (order by a.created_at, a.id) as n
    from public.social_accounts a where a.workspace_id = p_workspace_id and a.archived_at is null
  )
  update public.social_accounts a set
    state = 'paused',
    paused_reason = 'plan_limit',
    state_before_pause = case when a.paused_reason = 'plan_limit' then a.state_before_pause else a.state end,
    last_error = v_reason
  from ranked r
  where a.id = r.id and r.n > v_plan.max_accounts
    and (private.account_can_publish(a.state)
         or (a.paused_reason = 'plan_limit' and a.last_error is distinct from v_reason));
end
$$;

create or replace function private.hold_accounts_over_plan()
returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_plan public.plans;
  v_older integer;
begin
  if new.state <> 'paused' then
    new.paused_reason := null;
    new.state_before_pause := null;
  end if;
  if private.account_can_publish(new.state) and not private.account_can_publish(old.state) then
    select p.* into v_plan
    from public.workspaces w join public.plans p on p.id = w.plan_id
    where w.id = new.workspace_id;
    select count(*) into v_older from public.social_accounts a
    where a.workspace_id = new.workspace_id and a.archived_at is null
      and (a.created_at, a.id) < (new.created_at, new.id);
    if v_older >= v_plan.max_accounts then
      new.state_before_pause := new.state;
      new.state := 'paused';
      new.paused_reason := 'plan_limit';
      new.last_error := private.plan_limit_reason(v_plan.name, v_plan.max_accounts);
    end if;
  end if;
  return new;
end
$$;

create or replace view public.workspace_usage
with (security_invoker = true)
as
select
  w.id as workspace_id,
  w.name as workspace_name,
  p.id as plan_id,
  p.name as plan_name,
  p.max_accounts,
  p.features_enabled,
  coalesce(u.total, 0)::integer as accounts_used,
  coalesce(u.by_platform, '{}'::jsonb) as accounts_by_platform
from public.workspaces w
join public.plans p on p.id = w.plan_id
left join lateral (
  select sum(n)::integer as total, jsonb_object_agg(platform, n) as by_platform
  from (select a.platform, count(*)::integer as n
        from public.social_accounts a where a.workspace_id = w.id and a.archived_at is null group by a.platform) c
) u on true;

---------------------------------------------------------------------------------------------------
-- Removing accounts (admins and owners, as deleting was): one statement per step, whatever the number.
---------------------------------------------------------------------------------------------------
create function public.remove_accounts(p_account_ids uuid[])
returns table (account_id uuid, outcome text, handle text, cancelled integer, cancel_requested integer, posted integer)
language plpgsql security definer set search_path = ''
as $$
begin
  if (select auth.uid()) is null then
    raise exception 'You must be signed in.' using errcode = '42501';
  end if;
  if cardinality(p_account_ids) > 1000 then
    raise exception 'Remove at most 1,000 accounts at a time.' using errcode = '22023';
  end if;

  -- The accounts, locked in id order (as pause does); those the user cannot see are "not_found".
  create temp table if not exists pg_temp.removing (id uuid primary key, workspace_id uuid, handle text, outcome text) on commit drop;
  truncate pg_temp.removing;
  insert into pg_temp.removing (id, workspace_id, handle, outcome)
  select x.id, a.workspace_id, a.handle,
         case when a.id is null or not private.has_role_on_workspace(a.workspace_id, 'viewer') then 'not_found'
              when not private.has_role_on_workspace(a.workspace_id, 'admin') then 'forbidden'
              when a.archived_at is not null then 'already_removed'
              else 'removed' end
  from (select distinct unnest(p_account_ids) as id) x
  left join lateral (select s.* from public.social_accounts s where s.id = x.id) a on true;
  perform 1 from public.social_accounts a
  where a.id in (select r.id from pg_temp.removing r where r.outcome = 'removed')
  order by a.id for update;

  -- Paused with the reason "removed" (so it publishes nothing from now on), its credentials dropped.
  update public.social_accounts a set
    state = 'paused', paused_reason = 'removed',
    state_before_pause = case when a.state = 'paused' then a.state_before_pause else a.state end,
    last_error = 'Removed from this workspace.', credentials_encrypted = null,
    archived_at = now(), archived_by = (select auth.uid())
  from pg_temp.removing r
  where a.id = r.id and r.outcome = 'removed';

  return query
  with waiting as (
    -- Items still waiting end cancelled, saying why; items mid-publish end cancelled unless the
    -- attempt in flight posted (cancel_requested, as a person's cancel does).
    update public.queue_items q set
      status = case when q.lease_id is null and q.status in ('pending', 'rate_limited', 'needs_review')
                    then 'cancelled'::public.queue_status else q.status end,
      cancel_requested = q.cancel_requested or q.lease_id is not null or q.status = 'verifying',
      last_error = 'Account removed.'
    from pg_temp.removing r
    where q.account_id = r.id and r.outcome = 'removed'
      and q.status in ('pending', 'rate_limited', 'needs_review', 'processing', 'verifying')
      and not (q.cancel_requested and q.status in ('processing', 'verifying'))
    returning q.account_id, q.status
  ),
  counted as (
    select w.account_id, count(*) filter (where w.status = 'cancelled')::integer as cancelled,
           count(*) filter (where w.status <> 'cancelled')::integer as cancel_requested
    from waiting w group by w.account_id
  ),
  audited as (
    insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
    select r.workspace_id, (select auth.uid()), 'remove', 'social_accounts', r.id::text,
           jsonb_build_object('handle', r.handle),
           jsonb_build_object('handle', r.handle, 'archived', true,
                              'cancelled', coalesce(c.cancelled, 0), 'cancel_requested', coalesce(c.cancel_requested, 0))
    from pg_temp.removing r left join counted c on c.account_id = r.id
    where r.outcome = 'removed'
  )
  select r.id, r.outcome, case when r.outcome = 'not_found' then null else r.handle end,
         coalesce(c.cancelled, 0), coalesce(c.cancel_requested, 0),
         case when r.outcome = 'not_found' then 0
              else (select count(*)::integer from public.queue_items q where q.account_id = r.id and q.status = 'posted') end
  from pg_temp.removing r left join counted c on c.account_id = r.id
  order by r.id;

  -- A removed account leaves its groups (the audit trigger records each).
  delete from public.account_group_members m
  where m.account_id in (select r.id from pg_temp.removing r where r.outcome = 'removed');

  -- The freed slots: accounts paused because the plan did not cover them resume, oldest first.
  perform private.apply_plan_limit(w.workspace_id)
  from (select distinct r.workspace_id from pg_temp.removing r where r.outcome = 'removed') w;
end
$$;
revoke all on function public.remove_accounts from public, anon;
grant execute on function public.remove_accounts to authenticated;

-- What removing these accounts would do, for the confirmation: counted as the user (RLS).
create function public.account_removal_preview(p_account_ids uuid[])
returns table (accounts integer, waiting integer, in_flight integer, posted integer)
language sql stable security invoker set search_path = ''
as $$
  select (select count(*)::integer from public.social_accounts a where a.id = any (p_account_ids) and a.archived_at is null),
         count(*) filter (where q.status in ('pending', 'rate_limited', 'needs_review'))::integer,
         count(*) filter (where q.status in ('processing', 'verifying'))::integer,
         count(*) filter (where q.status = 'posted')::integer
  from public.queue_items q
  where q.account_id = any (p_account_ids)
    and q.account_id in (select a.id from public.social_accounts a where a.id = any (p_account_ids) and a.archived_at is null)
$$;
revoke all on function public.account_removal_preview from public, anon;
grant execute on function public.account_removal_preview to authenticated;

---------------------------------------------------------------------------------------------------
-- Pausing and resuming many accounts: each account's own outcome, never all-or-nothing.
---------------------------------------------------------------------------------------------------
create function public.pause_accounts(p_account_ids uuid[])
returns table (account_id uuid, outcome text, state public.account_state)
language plpgsql security definer set search_path = ''
as $$
begin
  if (select auth.uid()) is null then
    raise exception 'You must be signed in.' using errcode = '42501';
  end if;
  if cardinality(p_account_ids) > 1000 then
    raise exception 'Pause at most 1,000 accounts at a time.' using errcode = '22023';
  end if;
  return query
  with asked as (
    select x.id, a.workspace_id, a.state, a.archived_at
    from (select distinct unnest(p_account_ids) as id) x
    left join public.social_accounts a on a.id = x.id
  ),
  judged as (
    select k.id,
           case when k.workspace_id is null or not private.has_role_on_workspace(k.workspace_id, 'viewer') then 'not_found'
                when not private.has_role_on_workspace(k.workspace_id, 'editor') then 'forbidden'
                when k.archived_at is not null then 'removed'
                when k.state not in ('connected', 'active') then 'unchanged'
                else 'paused' end as outcome
    from asked k
  ),
  locked as (
    select a.id from public.social_accounts a
    where a.id in (select j.id from judged j where j.outcome = 'paused')
    order by a.id for update
  ),
  changed as (
    update public.social_accounts a set state = 'paused', paused_reason = 'manual', state_before_pause = a.state,
                                        last_error = 'Paused by a person.'
    from locked l
    where a.id = l.id and a.state in ('connected', 'active')
    returning a.id, a.workspace_id
  ),
  audited as (
    insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, new_values)
    select c.workspace_id, (select auth.uid()), 'pause', 'social_accounts', c.id::text,
           jsonb_build_object('by', 'person', 'paused_reason', 'manual')
    from changed c
  )
  select j.id,
         case when j.outcome = 'paused' and not exists (select 1 from changed c where c.id = j.id) then 'unchanged' else j.outcome end,
         case when j.outcome = 'not_found' then null::public.account_state
              when exists (select 1 from changed c where c.id = j.id) then 'paused'::public.account_state
              else (select a.state from public.social_accounts a where a.id = j.id) end
  from judged j order by j.id;
end
$$;
revoke all on function public.pause_accounts from public, anon;
grant execute on function public.pause_accounts to authenticated;

-- Resuming checks each account on its own (the plan's limit, an expired authorisation), so each
-- goes through public.resume_account; an account it refuses says why and the others go on.
create function public.resume_accounts(p_account_ids uuid[])
returns table (account_id uuid, outcome text, state public.account_state, message text)
language plpgsql security definer set search_path = ''
as $$
declare
  v_id uuid;
  v_result jsonb;
  v_code text;
  v_detail text;
begin
  if (select auth.uid()) is null then
    raise exception 'You must be signed in.' using errcode = '42501';
  end if;
  if cardinality(p_account_ids) > 1000 then
    raise exception 'Resume at most 1,000 accounts at a time.' using errcode = '22023';
  end if;
  for v_id in select distinct unnest(p_account_ids) order by 1 loop
    begin
      v_result := public.resume_account(v_id);
      account_id := v_id;
      outcome := case when (v_result ->> 'changed')::boolean then
                   case when v_result ->> 'state' = 'paused' then 'still_paused' else 'resumed' end
                 else 'unchanged' end;
      state := (v_result ->> 'state')::public.account_state;
      message := null;
    exception when others then
      get stacked diagnostics v_code = returned_sqlstate, v_detail = pg_exception_detail;
      account_id := v_id;
      state := null;
      outcome := case v_code when 'P0002' then 'not_found' when '42501' then 'forbidden'
                   else coalesce(case when v_detail like '{%' then v_detail::jsonb ->> 'code' end, 'refused') end;
      message := case when v_code = 'P0002' then null else sqlerrm end;
    end;
    return next;
  end loop;
end
$$;
revoke all on function public.resume_accounts from public, anon;
grant execute on function public.resume_accounts to authenticated;

---------------------------------------------------------------------------------------------------
-- Account groups: named sets of a workspace's accounts the composer can pick at once. Editors and
-- up manage them (as they add and pause accounts); every member reads them.
---------------------------------------------------------------------------------------------------
create table public.account_groups (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 60),
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, workspace_id)
);
create unique index account_groups_workspace_name_key on public.account_groups (workspace_id, lower(btrim(name)));

create table public.account_group_members (
  group_id uuid not null,
  account_id uuid not null,
  workspace_id uuid not null,
  added_at timestamptz not null default now(),
  primary key (group_id, account_id),
  -- Both ends in the same workspace: the keys say so, not only the policies.
  foreign key (group_id, workspace_id) references public.account_groups (id, workspace_id) on delete cascade,
  foreign key (account_id, workspace_id) references public.social_accounts (id, workspace_id) on delete cascade
);
create index account_group_members_account_idx on public.account_group_members (account_id);
create index account_group_members_workspace_idx on public.account_group_members (workspace_id);

alter table public.account_groups enable row level security;
alter table public.account_group_members enable row level security;

create policy "Members can read their workspaces' account groups" on public.account_groups
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));
create policy "Editors and up can add account groups" on public.account_groups
  for insert to authenticated with check (workspace_id in (select private.my_workspace_ids('editor')));
create policy "Editors and up can rename account groups" on public.account_groups
  for update to authenticated
  using (workspace_id in (select private.my_workspace_ids('editor')))
  with check (workspace_id in (select private.my_workspace_ids('editor')));
create policy "Editors and up can delete account groups" on public.account_groups
  for delete to authenticated using (workspace_id in (select private.my_workspace_ids('editor')));

create policy "Members can read their workspaces' group members" on public.account_group_members
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));
-- Only live accounts join a group.
create policy "Editors and up can add live accounts to groups" on public.account_group_members
  for insert to authenticated
  with check (workspace_id in (select private.my_workspace_ids('editor'))
              and exists (select 1 from public.social_accounts a
                          where a.id = account_id and a.workspace_id = account_group_members.workspace_id
                            and a.archived_at is null));
create policy "Editors and up can take accounts out of groups" on public.account_group_members
  for delete to authenticated using (workspace_id in (select private.my_workspace_ids('editor')));

revoke all on public.account_groups, public.account_group_members from anon, authenticated;
grant select, delete on public.account_groups to authenticated;
grant insert (workspace_id, name) on public.account_groups to authenticated;
grant update (name) on public.account_groups to authenticated;
grant select, delete on public.account_group_members to authenticated;
grant insert (group_id, account_id, workspace_id) on public.account_group_members to authenticated;

create trigger touch_updated_at before update on public.account_groups
  for each row execute function private.touch_updated_at();
create trigger set_created_by before insert on public.account_groups
  for each row execute function private.set_created_by();
create trigger write_audit_log after insert or update or delete on public.account_groups
  for each row execute function private.write_audit_log();

-- Membership rows have no id of their own: the audit names the group and the account.
create function private.audit_account_group_members()
returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.account_group_members := case when tg_op = 'DELETE' then old else new end;
begin
  -- A deleted workspace or group takes its memberships with it; nothing to record then.
  if tg_op = 'DELETE' and not exists (select 1 from public.account_groups g where g.id = v_row.group_id) then
    return null;
  end if;
  insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
  values (v_row.workspace_id, (select auth.uid()), case when tg_op = 'DELETE' then 'remove_from_group' else 'add_to_group' end,
          'account_group_members', v_row.group_id || ':' || v_row.account_id,
          case when tg_op = 'DELETE' then to_jsonb(old) end, case when tg_op = 'INSERT' then to_jsonb(new) end);
  return null;
end
$$;
create trigger write_audit_log after insert or delete on public.account_group_members
  for each row execute function private.audit_account_group_members();

-- At most 200 groups a workspace: a list anyone can scan.
create function private.limit_account_groups()
returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  perform 1 from public.workspaces w where w.id = new.workspace_id for no key update;
  if (select count(*) from public.account_groups g where g.workspace_id = new.workspace_id) >= 200 then
    raise exception 'A workspace has at most 200 account groups.' using errcode = 'P0001',
      hint = 'Delete a group you no longer use.', detail = json_build_object('code', 'group_limit_reached')::text;
  end if;
  return new;
end
$$;
create trigger limit_account_groups before insert on public.account_groups
  for each row execute function private.limit_account_groups();

call private.hand_over_to_postgres();
