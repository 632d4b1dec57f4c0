-- API keys (issue 11): programs call the HTTP API with `Authorization: Bearer pk_…`, a key a person
-- made for one workspace, with scopes (read, write, process).
--
-- The rules live here, not only in the server:
-- * Only a SHA-256 of the key is stored; the key itself is shown once and never reaches the database.
-- * A request made with a key acts as the person who made it (so every policy applies as to them),
--   and its claims carry `api_key: {id, scope}` (lib/api/handler.ts). The two helpers every policy
--   uses, private.my_workspace_ids and private.has_role_on_workspace, then answer only for the key's
--   workspace, only while the key is live (not revoked, not expired, the plan has api_access), only
--   while its maker is still a member holding the role the scope needs; a read request has more than
--   viewer only inside a READ ONLY transaction (lib/db asUser runs them so). So a key cannot reach
--   another workspace of its maker's, nor write with read scope, whatever the TypeScript above does.
--   The claim can only narrow what the signed-in user may do.
-- * Keys are made and revoked by signed-in people (private.create_api_key, private.revoke_api_key),
--   never by a request made with a key.

---------------------------------------------------------------------------------------------------
-- 1. The keys.
---------------------------------------------------------------------------------------------------
create table public.api_keys (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 100),
  -- What people see to tell keys apart: `pk_` and the secret's first 8 characters.
  prefix text not null check (prefix ~ '^pk_[A-Za-z0-9_-]{8}$'),
  -- SHA-256 of the whole key (lib/api-keys/secret.ts). Never granted to the API roles.
  secret_hash bytea not null unique check (length(secret_hash) = 32),
  scopes text[] not null check (cardinality(scopes) between 1 and 3 and scopes <@ array['read', 'write', 'process']),
  -- The person the key acts as; a key does not outlive its maker's user.
  created_by uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  -- Written at most once a minute (private.authenticate_api_key), not on every request.
  last_used_at timestamptz,
  revoked_at timestamptz,
  revoked_by uuid references auth.users (id) on delete set null
);
create index api_keys_workspace_id_idx on public.api_keys (workspace_id, created_at);
create index api_keys_created_by_idx on public.api_keys (created_by);

-- The role a key's maker must hold for a request of each scope.
create function private.api_scope_role(p_scope text)
returns public.workspace_role
language sql immutable set search_path = ''
as $$
  select case p_scope when 'read' then 'viewer'::public.workspace_role
                      when 'write' then 'editor'::public.workspace_role
                      when 'process' then 'editor'::public.workspace_role end
$$;

-- The key the current request acts through, `{id, scope}`, or null for a person's own session.
create function private.request_api_key()
returns jsonb
language sql stable set search_path = ''
as $$
  select nullif(nullif(current_setting('request.jwt.claims', true), '')::jsonb -> 'api_key', 'null'::jsonb)
$$;

-- The workspace the current request's key may act in at `p_min_role`, or null when it may not act at
-- all: revoked, expired, another person's key, a plan without api_access, a maker who left or lost the
-- role the request's scope needs, a scope the key lacks, or more than viewing on a read request
-- outside a READ ONLY transaction.
create function private.api_key_workspace(p_min_role public.workspace_role)
returns uuid
language sql stable security definer set search_path = ''
as $$
  with claim as (
    select case when c ->> 'id' ~ '^[0-9a-fA-F-]{36}$' then (c ->> 'id')::uuid end as id, c ->> 'scope' as scope
    from (select private.request_api_key() as c) x
  )
  select k.workspace_id
  from claim c
  join public.api_keys k on k.id = c.id
  join public.workspace_members m on m.workspace_id = k.workspace_id and m.user_id = k.created_by
  join public.workspaces w on w.id = k.workspace_id
  join public.plans p on p.id = w.plan_id
  where k.created_by = (select auth.uid())
    and k.revoked_at is null
    and (k.expires_at is null or k.expires_at > now())
    and coalesce((p.features_enabled ->> 'api_access')::boolean, false)
    and c.scope = any (k.scopes)
    and m.role >= private.api_scope_role(c.scope)
    -- A read request has its maker's role only in a READ ONLY transaction (as the server runs them),
    -- so it may read what an admin reads; anywhere else it is a viewer, and no write policy admits it.
    and (p_min_role = 'viewer' or c.scope <> 'read' or current_setting('transaction_read_only')::boolean)
$$;

---------------------------------------------------------------------------------------------------
-- 2. The helpers every policy uses, now honouring a key. Without a key in the claims they answer
--    exactly as before (one extra claim read per statement).
---------------------------------------------------------------------------------------------------
create or replace function private.has_role_on_workspace(
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
  -- Never null: callers write `if not private.has_role_on_workspace(...)`, which a null would pass.
  ) and (private.request_api_key() is null or coalesce(p_workspace_id = private.api_key_workspace(p_min_role), false))
$$;

create or replace function private.my_workspace_ids(p_min_role public.workspace_role default 'viewer')
returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select m.workspace_id from public.workspace_members m
  where m.user_id = (select auth.uid()) and m.role >= p_min_role
    and ((select private.request_api_key()) is null
         or m.workspace_id = (select private.api_key_workspace(p_min_role)))
$$;

---------------------------------------------------------------------------------------------------
-- 3. Who sees keys: the workspace's members, through their own session (a key does not list keys).
--    The hash is never readable; keys change only through the functions below.
---------------------------------------------------------------------------------------------------
alter table public.api_keys enable row level security;
create policy "Members can see their workspace's API keys" on public.api_keys
  for select to authenticated
  using (workspace_id in (select private.my_workspace_ids()) and (select private.request_api_key()) is null);
revoke all on public.api_keys from anon, authenticated;
grant select (id, workspace_id, name, prefix, scopes, created_by, created_at, expires_at, last_used_at, revoked_at, revoked_by)
  on public.api_keys to authenticated;

-- At most this many live keys per workspace: enough for every program, bounded for the lookups.
create function private.api_key_limit() returns integer language sql immutable set search_path = '' as $$ select 50 $$;

-- Refuses anything done with a key that only a person may do (making and revoking keys).
create function private.require_person(p_what text)
returns void
language plpgsql stable set search_path = ''
as $$
begin
  if private.request_api_key() is not null then
    raise exception 'An API key cannot %: sign in to the app (or use a session) to manage API keys.', p_what
      using errcode = '42501';
  end if;
  if (select auth.uid()) is null then
    raise exception 'You must be signed in.' using errcode = '42501';
  end if;
end
$$;

-- Make a key (any member, with the scopes their role allows). `p_secret_hash` is the SHA-256 of a
-- key the server generated; returns the new key's id.
create function private.create_api_key(
  p_workspace_id uuid, p_name text, p_scopes text[], p_expires_at timestamptz, p_prefix text, p_secret_hash bytea
) returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_role public.workspace_role;
  v_scope text;
  v_plan public.plans;
  v_id uuid;
  v_live integer;
begin
  perform private.require_person('create API keys');
  select m.role into v_role from public.workspace_members m
  where m.workspace_id = p_workspace_id and m.user_id = (select auth.uid());
  if v_role is null then
    raise exception 'No such workspace.' using errcode = 'P0002';
  end if;
  foreach v_scope in array coalesce(p_scopes, '{}') loop
    if v_role < private.api_scope_role(v_scope) then
      raise exception 'Your role (%) cannot give a key the % scope: that needs % or above.',
        v_role, v_scope, private.api_scope_role(v_scope) using errcode = '42501';
    end if;
  end loop;
  -- Locks the workspace so two keys made at once both count against the limit.
  select p.* into v_plan from public.workspaces w join public.plans p on p.id = w.plan_id
  where w.id = p_workspace_id for no key update of w;
  if not coalesce((v_plan.features_enabled ->> 'api_access')::boolean, false) then
    raise exception 'API access is not part of the % plan.', v_plan.name
      using errcode = 'P0001',
            hint = 'Upgrade to ' || coalesce(private.plan_with_feature('api_access'), 'a plan with API access') || ' or above to use API keys.',
            detail = json_build_object('code', 'plan_feature_unavailable', 'feature', 'api_access')::text;
  end if;
  if p_expires_at is not null and p_expires_at <= now() then
    raise exception 'The expiry must be in the future.' using errcode = '22023';
  end if;
  select count(*) into v_live from public.api_keys k
  where k.workspace_id = p_workspace_id and k.revoked_at is null and (k.expires_at is null or k.expires_at > now());
  if v_live >= private.api_key_limit() then
    raise exception 'This workspace already has % live API keys, the most it may have.', v_live
      using errcode = 'P0001', hint = 'Revoke a key you no longer use, then make the new one.',
            detail = json_build_object('code', 'api_key_limit_reached', 'limit', private.api_key_limit())::text;
  end if;
  insert into public.api_keys (workspace_id, name, prefix, secret_hash, scopes, created_by, expires_at)
  values (p_workspace_id, btrim(p_name), p_prefix, p_secret_hash,
          (select array_agg(distinct s order by s) from unnest(p_scopes) s), (select auth.uid()), p_expires_at)
  returning id into v_id;
  insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, new_values)
  select k.workspace_id, k.created_by, 'api_key.create', 'api_keys', k.id::text,
         jsonb_build_object('name', k.name, 'prefix', k.prefix, 'scopes', k.scopes, 'expires_at', k.expires_at)
  from public.api_keys k where k.id = v_id;
  return v_id;
end
$$;

-- Revoke a key: its maker, or the workspace's admins and owners. Revoking a revoked key changes nothing.
create function private.revoke_api_key(p_key_id uuid)
returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_key public.api_keys;
begin
  perform private.require_person('revoke API keys');
  select k.* into v_key from public.api_keys k
  where k.id = p_key_id and private.has_role_on_workspace(k.workspace_id, 'viewer');
  if not found then
    raise exception 'No such API key in your workspaces.' using errcode = 'P0002';
  end if;
  if v_key.created_by <> (select auth.uid()) and not private.has_role_on_workspace(v_key.workspace_id, 'admin') then
    raise exception 'Only the person who made this key, or an admin or owner, may revoke it.' using errcode = '42501';
  end if;
  if v_key.revoked_at is not null then
    return;
  end if;
  update public.api_keys set revoked_at = now(), revoked_by = (select auth.uid()) where id = p_key_id;
  insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
  values (v_key.workspace_id, (select auth.uid()), 'api_key.revoke', 'api_keys', v_key.id::text,
          jsonb_build_object('name', v_key.name, 'prefix', v_key.prefix, 'scopes', v_key.scopes),
          jsonb_build_object('revoked_at', now()));
end
$$;

---------------------------------------------------------------------------------------------------
-- 4. Authentication, as pacer_worker before anyone is known: the key by its hash, and why it is
--    refused if it is. A key in use gets last_used_at at most once a minute, so a busy program costs
--    one write a minute, not one per request.
---------------------------------------------------------------------------------------------------
create function private.authenticate_api_key(p_secret_hash bytea)
returns table (key_id uuid, workspace_id uuid, user_id uuid, scopes text[], role public.workspace_role, refused text)
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_key public.api_keys;
  v_role public.workspace_role;
  v_has_access boolean;
begin
  select k.* into v_key from public.api_keys k where k.secret_hash = p_secret_hash;
  if not found then
    return;
  end if;
  select m.role into v_role from public.workspace_members m
  where m.workspace_id = v_key.workspace_id and m.user_id = v_key.created_by;
  select coalesce((p.features_enabled ->> 'api_access')::boolean, false) into v_has_access
  from public.workspaces w join public.plans p on p.id = w.plan_id where w.id = v_key.workspace_id;
  refused := case when v_key.revoked_at is not null then 'revoked'
                  when v_key.expires_at is not null and v_key.expires_at <= now() then 'expired'
                  when v_role is null then 'maker_left'
                  when not v_has_access then 'no_api_access' end;
  if refused is null and (v_key.last_used_at is null or v_key.last_used_at < now() - interval '1 minute') then
    update public.api_keys k set last_used_at = now() where k.id = v_key.id;
  end if;
  key_id := v_key.id;
  workspace_id := v_key.workspace_id;
  user_id := v_key.created_by;
  scopes := v_key.scopes;
  role := v_role;
  return next;
end
$$;

-- Pacer's own API limits per key, as private.api_rate_limits counts them per user: a key is limited
-- like a person, on its own, whoever made it.
create table private.api_key_rate_limits (
  key_id uuid not null references public.api_keys (id) on delete cascade,
  bucket text not null,
  window_start timestamptz not null,
  count integer not null,
  primary key (key_id, bucket)
);
alter table private.api_key_rate_limits enable row level security;

create function private.hit_api_key_rate_limit(p_key_id uuid, p_bucket text, p_limit integer, p_window_seconds integer)
returns table (allowed boolean, used integer, retry_after_seconds integer)
language sql volatile security definer set search_path = ''
as $$
  insert into private.api_key_rate_limits as r (key_id, bucket, window_start, count)
  values (p_key_id, p_bucket, now(), 1)
  on conflict (key_id, bucket) do update set
    count = case when r.window_start > now() - p_window_seconds * interval '1 second' then r.count + 1 else 1 end,
    window_start = case when r.window_start > now() - p_window_seconds * interval '1 second' then r.window_start else now() end
  returning r.count <= p_limit,
            r.count,
            greatest(1, ceil(extract(epoch from r.window_start + p_window_seconds * interval '1 second' - now())))::integer
$$;

revoke all on function private.api_scope_role, private.request_api_key, private.api_key_workspace, private.api_key_limit,
  private.require_person, private.create_api_key, private.revoke_api_key, private.authenticate_api_key,
  private.hit_api_key_rate_limit from public;
grant execute on function private.api_scope_role, private.request_api_key, private.api_key_workspace, private.api_key_limit,
  private.create_api_key, private.revoke_api_key to authenticated;
grant execute on function private.authenticate_api_key, private.hit_api_key_rate_limit to pacer_worker;

call private.hand_over_to_postgres();
