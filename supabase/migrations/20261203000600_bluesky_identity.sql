-- Review fixes for the Bluesky connect (lib/accounts/index.ts, lib/accounts/refreshed-credentials.ts):
-- one account per Bluesky identity in a workspace, a refresh that cannot overwrite a reconnect, and
-- no audit row for a worker's token rotation.

---------------------------------------------------------------------------------------------------
-- 1. Bluesky handles are case-insensitive (https://atproto.com/specs/handle): stored lower case, so
--    `Alice.bsky.social` and `alice.bsky.social` meet the unique (workspace_id, platform, handle).
--    Rows already stored are left as they are (lowering them could collide); they are lowered on
--    their next handle change.
---------------------------------------------------------------------------------------------------
create function private.lower_bluesky_handle()
returns trigger
language plpgsql set search_path = ''
as $$
begin
  if new.platform = 'bluesky' then
    new.handle := lower(new.handle);
  end if;
  return new;
end
$$;
create trigger lower_bluesky_handle before insert or update of handle, platform on public.social_accounts
  for each row execute function private.lower_bluesky_handle();

---------------------------------------------------------------------------------------------------
-- 2. The identity on the platform an account was connected as (Bluesky: its DID, which a handle
--    change keeps): one account per identity in a workspace, and a reconnect must sign in as the same
--    identity. Set only by the server, with the credentials (connect_account below); null for
--    accounts connected before this, until their next reconnect.
---------------------------------------------------------------------------------------------------
alter table public.social_accounts add column platform_identity text;
create unique index social_accounts_platform_identity_key
  on public.social_accounts (workspace_id, platform, platform_identity) where platform_identity is not null;
-- Members may read it (a DID is public on Bluesky): a reconnect compares it as the user.
grant select (platform_identity) on public.social_accounts to authenticated;

-- connect_account with the identity the platform confirmed: stored in the same statement as the
-- credentials. Another account of the workspace with that identity: unique_violation (23505). An
-- account already pinned to another identity: check_violation (23514), nothing stored.
create function private.connect_account(p_account_id uuid, p_sealed text, p_identity text)
returns public.social_accounts
language plpgsql security definer set search_path = ''
as $$
declare
  v_pinned text;
begin
  select a.platform_identity into v_pinned from public.social_accounts a where a.id = p_account_id for update;
  if not found then
    raise exception 'There is no account %.', p_account_id using errcode = 'P0002';
  end if;
  if v_pinned is not null and p_identity is distinct from v_pinned then
    raise exception 'Account % is %, not %.', p_account_id, v_pinned, p_identity using errcode = '23514';
  end if;
  if v_pinned is null and p_identity is not null then
    update public.social_accounts set platform_identity = p_identity where id = p_account_id;
  end if;
  return private.connect_account(p_account_id, p_sealed);
end
$$;
revoke all on function private.connect_account(uuid, text, text) from public;
grant execute on function private.connect_account(uuid, text, text) to pacer_worker;

---------------------------------------------------------------------------------------------------
-- 3. A refreshed session is stored only over the credentials the refresh started from (compare and
--    set on the sealed value the server read): a reconnect, or another refresh, that stored new
--    credentials meanwhile is kept. Replaces the two-argument function, which wrote unconditionally.
--    The write is not audited (4): a token rotation of the same identity is no one's action.
---------------------------------------------------------------------------------------------------
drop function private.store_refreshed_credentials(uuid, text);

create function private.store_refreshed_credentials(p_account_id uuid, p_sealed text, p_replaced text)
returns boolean
language plpgsql security definer set search_path = ''
as $$
declare
  v_stored boolean;
begin
  if p_sealed is null or p_sealed !~ '^v1:[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$' then
    raise exception 'Credentials must be sealed by the server (v1:<iv>:<ciphertext>); got something else.'
      using errcode = '22023', hint = 'Seal them with encryptCredentials (lib/accounts/credentials.ts).';
  end if;
  -- Read by the audit trigger's WHEN, for this one update only.
  perform pg_catalog.set_config('pacer.refreshing_credentials', 'on', true);
  update public.social_accounts set credentials_encrypted = p_sealed
  where id = p_account_id and credentials_encrypted = p_replaced;
  v_stored := found;
  perform pg_catalog.set_config('pacer.refreshing_credentials', 'off', true);
  if not v_stored then
    return false;
  end if;
  update private.account_health_state set token_expires_at = null where account_id = p_account_id;
  return true;
end
$$;
revoke all on function private.store_refreshed_credentials(uuid, text, text) from public;
grant execute on function private.store_refreshed_credentials(uuid, text, text) to pacer_worker;

---------------------------------------------------------------------------------------------------
-- 4. The audit log: credentials changed by a refresh (above) are left out of the comparison, so a
--    rotation alone writes no row; a connect or reconnect (store_account_credentials) still does.
---------------------------------------------------------------------------------------------------
drop trigger write_audit_log_update on public.social_accounts;
create trigger write_audit_log_update after update on public.social_accounts
  for each row
  when ((to_jsonb(old) - 'health_score' - 'updated_at'
           - (case when current_setting('pacer.refreshing_credentials', true) = 'on' then 'credentials_encrypted' else '' end))
        is distinct from
        (to_jsonb(new) - 'health_score' - 'updated_at'
           - (case when current_setting('pacer.refreshing_credentials', true) = 'on' then 'credentials_encrypted' else '' end)))
  execute function private.write_audit_log();

call private.hand_over_to_postgres();
