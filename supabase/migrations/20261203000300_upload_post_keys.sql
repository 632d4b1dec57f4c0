-- Upload-Post connect (lib/accounts/upload-post.ts): one Upload-Post API key per workspace, sealed by
-- the server (lib/accounts/credentials.ts), set by admins and owners only and never readable through
-- the API (members see its last 4 characters and when it was set). Each connected platform of the
-- key's profiles becomes an ordinary social account (platform `tiktok`, `instagram`, …) through the
-- existing add path, so the plan's cap and the connect phases hold as for any account.

-- The social platforms Upload-Post serves may now be connected; which ones an installation offers is
-- the operator's choice (PACER_CONNECTORS, lib/connectors/registry.ts platformEnabled).
update public.platforms set enabled = true
where id in ('tiktok', 'instagram', 'youtube', 'linkedin', 'facebook', 'x', 'threads', 'pinterest', 'reddit');

create table public.upload_post_keys (
  workspace_id uuid primary key references public.workspaces (id) on delete cascade,
  -- AES-GCM ciphertext of the key, made by the server; no API role can read it.
  key_sealed text not null check (key_sealed ~ '^v1:[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$'),
  key_last4 text not null check (length(key_last4) between 1 and 4),
  set_by uuid references auth.users (id) on delete set null,
  set_at timestamptz not null default now()
);
comment on table public.upload_post_keys is
  'The workspace''s Upload-Post API key, sealed. Written only through private.set_upload_post_key / remove_upload_post_key.';

alter table public.upload_post_keys enable row level security;
-- Editors import accounts with the key (never seeing it), so they may see that it is set.
create policy "Editors and up can see their workspace's Upload-Post key status" on public.upload_post_keys
  for select to authenticated
  using (workspace_id in (select private.my_workspace_ids('editor')));
revoke all on public.upload_post_keys from anon, authenticated, pacer_worker;
grant select (workspace_id, key_last4, set_by, set_at) on public.upload_post_keys to authenticated;

-- Every function below first checks the acting user (the request's claims, also under pacer_worker)
-- with private.require_workspace_role (20261202000300_health.sql): a non-member learns nothing (not
-- found), a weaker member is refused (42501).

-- The sealed key, for the server to act with on behalf of an editor or up (list, import, links).
create function private.upload_post_key(p_workspace_id uuid)
returns text
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_sealed text;
begin
  perform private.require_workspace_role(p_workspace_id, 'editor');
  select key_sealed into v_sealed from public.upload_post_keys where workspace_id = p_workspace_id;
  return v_sealed;
end
$$;

-- The workspace's accounts on `p_platforms` (the Upload-Post ones) with their sealed credentials,
-- for the server to re-seal (key replaced or removed) or reconnect; one account when `p_account_id` is given.
create function private.upload_post_accounts(p_workspace_id uuid, p_platforms text[], p_account_id uuid default null)
returns table (id uuid, platform text, handle text, state public.account_state, credentials_sealed text)
language plpgsql stable security definer set search_path = ''
as $$
begin
  perform private.require_workspace_role(p_workspace_id, 'editor');
  return query
    select a.id, a.platform, a.handle, a.state, a.credentials_encrypted
    from public.social_accounts a
    where a.workspace_id = p_workspace_id and a.platform = any (p_platforms)
      and (p_account_id is null or a.id = p_account_id)
    order by a.created_at, a.id;
end
$$;

-- `p_accounts` [{id, sealed}] checked to be sealed by the server.
create function private.check_sealed_accounts(p_accounts jsonb)
returns void
language plpgsql immutable set search_path = ''
as $$
begin
  if exists (select from jsonb_to_recordset(coalesce(p_accounts, '[]')) x(id uuid, sealed text)
             where x.id is null or x.sealed is null or x.sealed !~ '^v1:[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$') then
    raise exception 'Credentials must be sealed by the server (v1:<iv>:<ciphertext>); got something else.'
      using errcode = '22023', hint = 'Seal them with encryptCredentials (lib/accounts/credentials.ts).';
  end if;
end
$$;

-- Set or replace the key (admins and owners), and in the same transaction the workspace's Upload-Post
-- accounts' credentials re-sealed with it (`p_accounts`: [{id, sealed}]), so no account keeps the old key.
create function private.set_upload_post_key(p_workspace_id uuid, p_sealed text, p_last4 text, p_accounts jsonb)
returns table (key_last4 text, set_at timestamptz)
language plpgsql security definer set search_path = ''
as $$
begin
  perform private.require_workspace_role(p_workspace_id, 'admin');
  perform private.check_sealed_accounts(p_accounts);
  insert into public.upload_post_keys as k (workspace_id, key_sealed, key_last4, set_by, set_at)
  values (p_workspace_id, p_sealed, p_last4, (select auth.uid()), now())
  on conflict (workspace_id) do update
    set key_sealed = excluded.key_sealed, key_last4 = excluded.key_last4, set_by = excluded.set_by, set_at = excluded.set_at;
  update public.social_accounts a set credentials_encrypted = x.sealed
  from jsonb_to_recordset(coalesce(p_accounts, '[]')) x(id uuid, sealed text)
  where a.id = x.id and a.workspace_id = p_workspace_id;
  return query select k.key_last4, k.set_at from public.upload_post_keys k where k.workspace_id = p_workspace_id;
end
$$;

-- Remove the key (admins and owners). The accounts that used it keep only which profile and platform
-- they are (`p_accounts`: [{id, sealed}] without the key) and wait in needs_reconnect with `p_reason`
-- until a key is set and they are reconnected. Returns how many accounts were moved.
create function private.remove_upload_post_key(p_workspace_id uuid, p_accounts jsonb, p_reason text)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_moved integer;
begin
  perform private.require_workspace_role(p_workspace_id, 'admin');
  perform private.check_sealed_accounts(p_accounts);
  delete from public.upload_post_keys where workspace_id = p_workspace_id;
  if not found then
    raise exception 'This workspace has no Upload-Post API key to remove.' using errcode = 'P0002';
  end if;
  update public.social_accounts a
     set credentials_encrypted = x.sealed, state = 'needs_reconnect', last_error = p_reason
  from jsonb_to_recordset(coalesce(p_accounts, '[]')) x(id uuid, sealed text)
  where a.id = x.id and a.workspace_id = p_workspace_id;
  get diagnostics v_moved = row_count;
  return v_moved;
end
$$;

revoke all on function private.upload_post_key, private.upload_post_accounts,
  private.check_sealed_accounts, private.set_upload_post_key, private.remove_upload_post_key from public;
-- The server's role only, inside a user's transaction (their claims are what the functions check).
grant execute on function private.upload_post_key, private.upload_post_accounts,
  private.set_upload_post_key, private.remove_upload_post_key to pacer_worker;

call private.hand_over_to_postgres();
