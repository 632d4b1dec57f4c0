-- Connecting Mastodon and Bluesky accounts (lib/accounts/mastodon.ts, lib/accounts/index.ts).
-- Whether an installation offers a platform is the operator's PACER_CONNECTORS (checked by the app,
-- lib/connectors/registry.ts platformEnabled); `platforms.enabled` says Pacer has a connector for it.
update public.platforms set enabled = true where id in ('mastodon', 'bluesky');

---------------------------------------------------------------------------------------------------
-- Pacer's OAuth app on each Mastodon instance: registered once per instance and redirect URI
-- (POST /api/v1/apps), its client secret sealed by the server (lib/accounts/credentials.ts). Server
-- only: no user role can read or write it, the server's role reaches it through its policy.
---------------------------------------------------------------------------------------------------
create table private.mastodon_apps (
  instance text not null check (instance ~ '^https?://[^/?#@]+$'),
  redirect_uri text not null check (redirect_uri ~ '^https?://'),
  client_id text not null check (length(client_id) between 1 and 512),
  client_secret_encrypted text not null check (client_secret_encrypted ~ '^v1:[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$'),
  scopes text not null,
  created_at timestamptz not null default now(),
  primary key (instance, redirect_uri)
);
alter table private.mastodon_apps enable row level security;
revoke all on private.mastodon_apps from public, anon, authenticated;
grant select, insert, delete on private.mastodon_apps to pacer_worker;
create policy "The server keeps Pacer's Mastodon apps" on private.mastodon_apps
  for all to pacer_worker using (true) with check (true);

---------------------------------------------------------------------------------------------------
-- One OAuth sign-in in flight: the state sent to the instance (kept only as its SHA-256), the PKCE
-- verifier (sealed), bound to the user and workspace that started it, good for 10 minutes and once.
-- Reached only through the two functions below, as the signed-in user.
---------------------------------------------------------------------------------------------------
create table private.connect_states (
  state_hash text primary key check (state_hash ~ '^[0-9a-f]{64}$'),
  user_id uuid not null references auth.users (id) on delete cascade,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  platform text not null references public.platforms (id),
  instance text not null,
  redirect_uri text not null,
  code_verifier_encrypted text,
  -- Set when the sign-in reconnects this account instead of adding one.
  account_id uuid references public.social_accounts (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '10 minutes'
);
create index connect_states_user_id_idx on private.connect_states (user_id, expires_at);
alter table private.connect_states enable row level security;
revoke all on private.connect_states from public, anon, authenticated, pacer_worker;

-- Starts a sign-in for the current user: editors and up of the workspace only (and, to reconnect, an
-- account of that workspace on that platform). At most 20 in flight per user.
create function private.begin_connect(
  p_workspace_id uuid, p_platform text, p_instance text, p_redirect_uri text,
  p_state_hash text, p_verifier_sealed text, p_account_id uuid
) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  if auth.uid() is null or not private.has_role_on_workspace(p_workspace_id, 'editor') then
    raise exception 'Your role in this workspace does not allow you to connect accounts.' using errcode = '42501';
  end if;
  if p_account_id is not null and not exists (
    select from public.social_accounts where id = p_account_id and workspace_id = p_workspace_id and platform = p_platform
  ) then
    raise exception 'There is no % account % in this workspace.', p_platform, p_account_id using errcode = 'P0002';
  end if;
  delete from private.connect_states where expires_at < pg_catalog.now() - interval '1 day';
  if (select count(*) from private.connect_states where user_id = auth.uid() and expires_at > pg_catalog.now()) >= 20 then
    raise exception 'Too many sign-ins in progress; finish one or wait 10 minutes.' using errcode = '54000';
  end if;
  insert into private.connect_states (state_hash, user_id, workspace_id, platform, instance, redirect_uri, code_verifier_encrypted, account_id)
  values (p_state_hash, auth.uid(), p_workspace_id, p_platform, p_instance, p_redirect_uri, p_verifier_sealed, p_account_id);
end
$$;

-- Takes (deletes) the current user's sign-in with this state: nothing for another user's state or
-- one already taken; `expired` when its 10 minutes are over.
create function private.take_connect_state(p_state_hash text)
returns table (workspace_id uuid, platform text, instance text, redirect_uri text, code_verifier_encrypted text,
               account_id uuid, expired boolean)
language sql security definer set search_path = ''
as $$
  delete from private.connect_states s
  where s.state_hash = p_state_hash and s.user_id = auth.uid()
  returning s.workspace_id, s.platform, s.instance, s.redirect_uri, s.code_verifier_encrypted, s.account_id,
            s.expires_at <= pg_catalog.now()
$$;

revoke all on function private.begin_connect, private.take_connect_state from public;
grant execute on function private.begin_connect, private.take_connect_state to authenticated;

---------------------------------------------------------------------------------------------------
-- Disconnect: the server reads an account's sealed credentials to end its session on the platform
-- (after the user's own delete succeeded). `shared`: another Pacer account is the same identity on
-- the platform (Mastodon may hand the same token to each, so revoking one would end the other's).
---------------------------------------------------------------------------------------------------
create function private.identity_in_use(p_platform text, p_handle text, p_except uuid)
returns boolean
language sql stable security definer set search_path = ''
as $$
  select exists (
    select from public.social_accounts
    where platform = p_platform and lower(handle) = lower(p_handle) and id is distinct from p_except
  )
$$;

create function private.account_credentials(p_account_id uuid)
returns table (platform text, handle text, credentials_encrypted text, shared boolean)
language sql stable security definer set search_path = ''
as $$
  select a.platform, a.handle, a.credentials_encrypted, private.identity_in_use(a.platform, a.handle, a.id)
  from public.social_accounts a where a.id = p_account_id
$$;

revoke all on function private.identity_in_use, private.account_credentials from public;
grant execute on function private.identity_in_use, private.account_credentials to pacer_worker;
