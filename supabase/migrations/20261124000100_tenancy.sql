-- Tenancy and tiers: workspaces with members and roles, plans as data, social accounts capped by the
-- workspace's plan (enforced here, not only in the UI), and an audit log written by the database.
--
-- Shape (after Basejump): tables in `public` under RLS, every policy `to authenticated` and built
-- on a few security definer helpers in `private`, a schema the API does not expose.

create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

-- The role background work (workers, webhooks) runs as: no login, no bypassrls, only the grants below.
do $$
begin
  if not exists (select from pg_roles where rolname = 'pacer_worker') then
    create role pacer_worker nologin noinherit;
  end if;
end
$$;
-- The server's connection user switches into it per transaction (`set local role pacer_worker`).
do $$ begin execute format('grant pacer_worker to %I', current_user); end $$;
grant usage on schema public, private to pacer_worker;

---------------------------------------------------------------------------------------------------
-- Plans: the single source of truth for what each tier allows.
---------------------------------------------------------------------------------------------------
create table public.plans (
  id text primary key check (id ~ '^[a-z][a-z0-9_]*$'),
  name text not null,
  price_cents_monthly integer not null check (price_cents_monthly >= 0),
  max_accounts integer not null check (max_accounts > 0),
  features_enabled jsonb not null default '{}'::jsonb,
  sort_order integer not null,
  -- The plan a workspace has without a subscription.
  is_default boolean not null default false
);
create unique index plans_one_default on public.plans (is_default) where is_default;

insert into public.plans (id, name, price_cents_monthly, max_accounts, sort_order, is_default, features_enabled) values
  ('free',       'Free',            0,   10, 0, true,
   '{"bulk_import": false, "api_access": true, "health_auto_pause": true, "priority_support": false}'),
  ('starter',    'Starter',      2999,   10, 1, false,
   '{"bulk_import": true,  "api_access": true, "health_auto_pause": true, "priority_support": false}'),
  ('growth',     'Growth',       7999,   50, 2, false,
   '{"bulk_import": true,  "api_access": true, "health_auto_pause": true, "priority_support": false}'),
  ('pro',        'Pro',         19999,  150, 3, false,
   '{"bulk_import": true,  "api_access": true, "health_auto_pause": true, "priority_support": true}'),
  ('enterprise', 'Enterprise',  49999,  500, 4, false,
   '{"bulk_import": true,  "api_access": true, "health_auto_pause": true, "priority_support": true}'),
  ('ultra',      'Ultra',       99999, 1000, 5, false,
   '{"bulk_import": true,  "api_access": true, "health_auto_pause": true, "priority_support": true}');

---------------------------------------------------------------------------------------------------
-- Platforms a social account can live on (connectors arrive with their own issues).
---------------------------------------------------------------------------------------------------
create table public.platforms (
  id text primary key check (id ~ '^[a-z][a-z0-9_]*$'),
  name text not null,
  -- Whether a subscriber may connect accounts on it now.
  enabled boolean not null default false
);

insert into public.platforms (id, name, enabled) values
  ('sandbox',   'Sandbox',   true),
  ('mastodon',  'Mastodon',  false),
  ('bluesky',   'Bluesky',   false),
  ('x',         'X',         false),
  ('instagram', 'Instagram', false),
  ('threads',   'Threads',   false),
  ('facebook',  'Facebook',  false),
  ('tiktok',    'TikTok',    false),
  ('youtube',   'YouTube',   false),
  ('linkedin',  'LinkedIn',  false),
  ('reddit',    'Reddit',    false),
  ('pinterest', 'Pinterest', false);

---------------------------------------------------------------------------------------------------
-- Workspaces and members.
---------------------------------------------------------------------------------------------------
-- Ordered weakest to strongest so `role >= 'editor'` reads as "editor or more".
create type public.workspace_role as enum ('viewer', 'editor', 'admin', 'owner');

create table public.workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(btrim(name)) between 1 and 100),
  personal boolean not null default false,
  plan_id text not null default 'free' references public.plans (id),
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index workspaces_plan_id_idx on public.workspaces (plan_id);

create table public.workspace_members (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role public.workspace_role not null,
  created_at timestamptz not null default now(),
  primary key (workspace_id, user_id)
);
create index workspace_members_user_id_idx on public.workspace_members (user_id);

---------------------------------------------------------------------------------------------------
-- Social accounts and their lifecycle.
---------------------------------------------------------------------------------------------------
create type public.account_state as enum (
  'connected', 'active', 'paused', 'restricted', 'needs_reconnect', 'needs_review'
);

create table public.social_accounts (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  platform text not null references public.platforms (id),
  handle text not null check (length(btrim(handle)) between 1 and 100),
  display_name text not null check (length(btrim(display_name)) between 1 and 100),
  state public.account_state not null default 'connected',
  cooldown_until timestamptz,
  requires_review boolean not null default false,
  last_error text,
  health_score integer not null default 100 check (health_score between 0 and 100),
  -- AES-GCM ciphertext made by the server (lib/accounts/credentials.ts); no API role can read it.
  credentials_encrypted text,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (workspace_id, platform, handle)
);
create index social_accounts_workspace_id_idx on public.social_accounts (workspace_id, created_at);
create index social_accounts_platform_idx on public.social_accounts (platform);

---------------------------------------------------------------------------------------------------
-- Audit log, written only by triggers.
---------------------------------------------------------------------------------------------------
create table public.audit_log (
  id bigint generated always as identity primary key,
  workspace_id uuid references public.workspaces (id) on delete cascade,
  actor_id uuid,
  action text not null,
  entity text not null,
  entity_id text not null,
  old_values jsonb,
  new_values jsonb,
  at timestamptz not null default now()
);
create index audit_log_workspace_id_idx on public.audit_log (workspace_id, at desc);

---------------------------------------------------------------------------------------------------
-- Helpers every policy reuses.
---------------------------------------------------------------------------------------------------
create function private.has_role_on_workspace(
  p_workspace_id uuid,
  p_min_role public.workspace_role default 'viewer'
) returns boolean
language sql stable security definer set search_path = ''
as $$
  select exists (
    select 1 from public.workspace_members m
    where m.workspace_id = p_workspace_id
      and m.user_id = (select auth.uid())
      and m.role >= p_min_role
  )
$$;
revoke all on function private.has_role_on_workspace from public;
grant execute on function private.has_role_on_workspace to authenticated;

-- Workspace ids the current user belongs to; lets a policy filter with one set lookup per query.
create function private.my_workspace_ids(p_min_role public.workspace_role default 'viewer')
returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select m.workspace_id from public.workspace_members m
  where m.user_id = (select auth.uid()) and m.role >= p_min_role
$$;
revoke all on function private.my_workspace_ids from public;
grant execute on function private.my_workspace_ids to authenticated;

---------------------------------------------------------------------------------------------------
-- Row level security.
---------------------------------------------------------------------------------------------------
alter table public.plans enable row level security;
alter table public.platforms enable row level security;
alter table public.workspaces enable row level security;
alter table public.workspace_members enable row level security;
alter table public.social_accounts enable row level security;
alter table public.audit_log enable row level security;

-- Plans and platforms are public reference data: readable, never writable through the API.
create policy "Anyone signed in can read plans" on public.plans
  for select to authenticated using (true);
create policy "Anyone signed in can read platforms" on public.platforms
  for select to authenticated using (true);
revoke insert, update, delete, truncate on public.plans, public.platforms from anon, authenticated;

create policy "Members can read their workspaces" on public.workspaces
  for select to authenticated
  using (id in (select private.my_workspace_ids()));
create policy "Owners and admins can rename their workspace" on public.workspaces
  for update to authenticated
  using (id in (select private.my_workspace_ids('admin')))
  with check (id in (select private.my_workspace_ids('admin')));
create policy "Owners can delete their workspace" on public.workspaces
  for delete to authenticated
  using (id in (select private.my_workspace_ids('owner')));
-- Workspaces are created through private.create_workspace (sign-up, create_workspace()); the plan
-- changes only through billing, so the API may update the name alone.
revoke insert, update, truncate on public.workspaces from anon, authenticated;
grant update (name) on public.workspaces to authenticated;

create policy "Members can see who else is in their workspaces" on public.workspace_members
  for select to authenticated
  using (workspace_id in (select private.my_workspace_ids()));
create policy "Owners can add members" on public.workspace_members
  for insert to authenticated
  with check (workspace_id in (select private.my_workspace_ids('owner')));
create policy "Owners can change members' roles" on public.workspace_members
  for update to authenticated
  using (workspace_id in (select private.my_workspace_ids('owner')))
  with check (workspace_id in (select private.my_workspace_ids('owner')));
create policy "Owners can remove members, and members can leave" on public.workspace_members
  for delete to authenticated
  using (workspace_id in (select private.my_workspace_ids('owner')) or user_id = (select auth.uid()));
revoke update, truncate on public.workspace_members from anon, authenticated;
grant update (role) on public.workspace_members to authenticated;

create policy "Members can read their workspaces' accounts" on public.social_accounts
  for select to authenticated
  using (workspace_id in (select private.my_workspace_ids()));
create policy "Editors and up can add accounts" on public.social_accounts
  for insert to authenticated
  with check (workspace_id in (select private.my_workspace_ids('editor')));
create policy "Editors and up can update accounts" on public.social_accounts
  for update to authenticated
  using (workspace_id in (select private.my_workspace_ids('editor')))
  with check (workspace_id in (select private.my_workspace_ids('editor')));
create policy "Admins and owners can remove accounts" on public.social_accounts
  for delete to authenticated
  using (workspace_id in (select private.my_workspace_ids('admin')));
-- Credentials are written by the server and never read back through the API; lifecycle columns
-- (state, cooldown, health) change through the engine, not through a user's update.
revoke all on public.social_accounts from anon, authenticated;
grant select (id, workspace_id, platform, handle, display_name, state, cooldown_until, requires_review,
              last_error, health_score, created_by, created_at, updated_at)
  on public.social_accounts to authenticated;
grant insert (workspace_id, platform, handle, display_name, credentials_encrypted)
  on public.social_accounts to authenticated;
grant update (handle, display_name, credentials_encrypted) on public.social_accounts to authenticated;
grant delete on public.social_accounts to authenticated;
grant select, update on public.social_accounts to pacer_worker;
grant select on public.workspaces, public.plans, public.platforms to pacer_worker;

create policy "Owners and admins can read their workspace's audit log" on public.audit_log
  for select to authenticated
  using (workspace_id in (select private.my_workspace_ids('admin')));
revoke insert, update, delete, truncate on public.audit_log from anon, authenticated;

-- Nothing here is for signed-out visitors.
revoke all on public.workspaces, public.workspace_members, public.social_accounts, public.audit_log from anon;
revoke all on public.plans, public.platforms from anon;

---------------------------------------------------------------------------------------------------
-- Creating workspaces: at sign-up (a personal one), or on request.
---------------------------------------------------------------------------------------------------
create function private.create_workspace(p_name text, p_owner uuid, p_personal boolean)
returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_id uuid;
begin
  insert into public.workspaces (name, personal, created_by)
  values (p_name, p_personal, p_owner)
  returning id into v_id;
  insert into public.workspace_members (workspace_id, user_id, role) values (v_id, p_owner, 'owner');
  return v_id;
end
$$;
revoke all on function private.create_workspace from public;

create function public.create_workspace(name text)
returns uuid
language plpgsql security definer set search_path = ''
as $$
begin
  if (select auth.uid()) is null then
    raise exception 'You must be signed in to create a workspace.' using errcode = '42501';
  end if;
  return private.create_workspace(name, (select auth.uid()), false);
end
$$;
revoke all on function public.create_workspace from public, anon;
grant execute on function public.create_workspace to authenticated;

create function private.on_auth_user_created()
returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  perform private.create_workspace(
    coalesce(nullif(btrim(new.raw_user_meta_data ->> 'workspace_name'), ''),
             split_part(coalesce(new.email, 'My'), '@', 1) || '''s workspace'),
    new.id,
    true);
  return new;
end
$$;
create trigger on_auth_user_created
  after insert on auth.users
  for each row execute function private.on_auth_user_created();

---------------------------------------------------------------------------------------------------
-- Tier limit: enforced in the database. Locking the workspace row serialises concurrent inserts,
-- so two inserts racing at limit − 1 let exactly one through.
---------------------------------------------------------------------------------------------------
create function private.enforce_account_limit()
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

  select count(*) into v_used from public.social_accounts where workspace_id = new.workspace_id;

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
create trigger enforce_account_limit
  before insert on public.social_accounts
  for each row execute function private.enforce_account_limit();

---------------------------------------------------------------------------------------------------
-- Bookkeeping triggers: updated_at, created_by, audit log.
---------------------------------------------------------------------------------------------------
create function private.touch_updated_at()
returns trigger
language plpgsql set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;
create trigger touch_updated_at before update on public.workspaces
  for each row execute function private.touch_updated_at();
create trigger touch_updated_at before update on public.social_accounts
  for each row execute function private.touch_updated_at();

create function private.set_created_by()
returns trigger
language plpgsql set search_path = ''
as $$
begin
  new.created_by := coalesce((select auth.uid()), new.created_by);
  return new;
end
$$;
create trigger set_created_by before insert on public.social_accounts
  for each row execute function private.set_created_by();

-- One row per change; secrets never enter the log.
create function private.write_audit_log()
returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_old jsonb := case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) - 'credentials_encrypted' end;
  v_new jsonb := case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) - 'credentials_encrypted' end;
  v_row jsonb := coalesce(v_new, v_old);
  v_workspace uuid := case when tg_table_name = 'workspaces' then (v_row ->> 'id')::uuid
                           else (v_row ->> 'workspace_id')::uuid end;
  v_entity_id text := case when tg_table_name = 'workspace_members'
                           then (v_row ->> 'workspace_id') || ':' || (v_row ->> 'user_id')
                           else v_row ->> 'id' end;
begin
  if tg_op = 'UPDATE' and v_old = v_new then
    return null;
  end if;
  -- A deleted workspace takes its log with it (cascade); skip rows that would point nowhere.
  if tg_op = 'DELETE' and tg_table_name <> 'workspaces'
     and not exists (select 1 from public.workspaces where id = v_workspace) then
    return null;
  end if;
  insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
  values (case when tg_op = 'DELETE' and tg_table_name = 'workspaces' then null else v_workspace end,
          (select auth.uid()), lower(tg_op), tg_table_name, v_entity_id, v_old, v_new);
  return null;
end
$$;
create trigger write_audit_log after insert or update or delete on public.workspaces
  for each row execute function private.write_audit_log();
create trigger write_audit_log after insert or update or delete on public.workspace_members
  for each row execute function private.write_audit_log();
create trigger write_audit_log after insert or update or delete on public.social_accounts
  for each row execute function private.write_audit_log();
create trigger write_audit_log after insert or update or delete on public.plans
  for each row execute function private.write_audit_log();

---------------------------------------------------------------------------------------------------
-- Usage: a workspace's limit and its accounts per platform, derived from plans and accounts.
---------------------------------------------------------------------------------------------------
create view public.workspace_usage
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
        from public.social_accounts a where a.workspace_id = w.id group by a.platform) c
) u on true;
revoke all on public.workspace_usage from anon;
grant select on public.workspace_usage to authenticated;
