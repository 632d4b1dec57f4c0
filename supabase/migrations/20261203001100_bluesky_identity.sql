-- Review fixes for connecting accounts (lib/accounts/index.ts, lib/accounts/refreshed-credentials.ts):
-- one account per platform identity in a workspace, a reconnect pinned to the identity it was
-- connected as, a refresh that cannot overwrite a reconnect, and no audit row for a worker's token
-- rotation. The identity column itself (social_accounts.platform_identity: Mastodon's
-- instance#account id, a Bluesky DID) came with 20261203000700.

---------------------------------------------------------------------------------------------------
-- 1. Bluesky handles are case-insensitive (https://atproto.com/specs/handle): stored lower case, so
--    `Alice.bsky.social` and `alice.bsky.social` meet the unique (workspace_id, platform, handle).
--    Rows already stored are left as they are (lowering them could collide).
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
-- 2. One account per identity in a workspace (another workspace may connect the same one), and a
--    reconnect must sign in as the identity the account was connected as. Members may read the
--    identity (a DID, an instance and account id: public on the platform): a reconnect compares it
--    as the user.
---------------------------------------------------------------------------------------------------
create unique index social_accounts_platform_identity_key
  on public.social_accounts (workspace_id, platform, platform_identity) where platform_identity is not null;
grant select (platform_identity) on public.social_accounts to authenticated;
comment on column public.social_accounts.platform_identity is
  'The platform identity the stored credentials are for (Mastodon: instance#account id; Bluesky: DID). Written only by the server with the credentials; members may read it.';

-- connect_account (20261203000700) with the pin: an account already connected as another identity
-- is refused (check_violation 23514) and nothing is stored; another account of the workspace with
-- the identity: unique_violation (23505).
create or replace function private.connect_account(p_account_id uuid, p_sealed text, p_identity text default null)
returns public.social_accounts
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.social_accounts;
  v_pinned text;
begin
  select a.platform_identity into v_pinned from public.social_accounts a where a.id = p_account_id for update;
  if not found then
    raise exception 'There is no account %.', p_account_id using errcode = 'P0002';
  end if;
  if v_pinned is not null and p_identity is not null and p_identity <> v_pinned then
    raise exception 'Account % is %, not %.', p_account_id, v_pinned, p_identity using errcode = '23514';
  end if;
  perform private.store_account_credentials(p_account_id, p_sealed);
  update public.social_accounts set platform_identity = p_identity where id = p_account_id and p_identity is not null;
  update public.social_accounts set state = 'connected', last_error = null
  where id = p_account_id and state = 'needs_reconnect';
  select * into v_row from public.social_accounts where id = p_account_id;
  return v_row;
end
$$;

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
-- 4. The audit of account updates (20261203001000's column-by-column comparison, kept cheap for the
--    health scan): credentials changed by a refresh (above) compare as unchanged, so a rotation alone
--    writes no row; a connect or reconnect still does.
---------------------------------------------------------------------------------------------------
drop trigger write_audit_log_update on public.social_accounts;
create trigger write_audit_log_update after update on public.social_accounts
  for each row
  when ((old.id, old.workspace_id, old.platform, old.handle, old.display_name, old.state, old.cooldown_until,
         old.requires_review, old.last_error,
         case when current_setting('pacer.refreshing_credentials', true) = 'on' then null else old.credentials_encrypted end,
         old.created_by, old.created_at, old.paused_reason, old.state_before_pause, old.platform_identity)
        is distinct from
        (new.id, new.workspace_id, new.platform, new.handle, new.display_name, new.state, new.cooldown_until,
         new.requires_review, new.last_error,
         case when current_setting('pacer.refreshing_credentials', true) = 'on' then null else new.credentials_encrypted end,
         new.created_by, new.created_at, new.paused_reason, new.state_before_pause, new.platform_identity))
  execute function private.write_audit_log();

call private.hand_over_to_postgres();
