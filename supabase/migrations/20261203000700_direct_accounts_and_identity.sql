-- Accounts written past the connect flows (supabase-js reaches public.social_accounts with the
-- user's own role), and which platform identity an account's credentials are for.

---------------------------------------------------------------------------------------------------
-- 1. An account a signed-in user inserts holds no credentials (the column is the server's). On a
--    real platform it cannot publish without them, so it starts in needs_reconnect and stays there
--    until the server stores credentials (private.connect_account): a user's role cannot set state,
--    and pausing or the plan's limit only ever give back the state it had. The server's own add path
--    (lib/accounts/index.ts addConnectedAccount) inserts as the user and holds the row in
--    needs_reconnect anyway, so it is unchanged. The sandbox connects by handle alone.
---------------------------------------------------------------------------------------------------
create function private.hold_accounts_without_credentials()
returns trigger
language plpgsql set search_path = ''
as $$
begin
  if private.is_api_role() and new.platform <> 'sandbox' and new.credentials_encrypted is null then
    new.state := 'needs_reconnect';
    new.last_error := 'Not connected yet: connect this account from the accounts page (its sign-in or the Upload-Post import).';
  end if;
  return new;
end
$$;
create trigger hold_accounts_without_credentials before insert on public.social_accounts
  for each row execute function private.hold_accounts_without_credentials();

---------------------------------------------------------------------------------------------------
-- 2. The handle of an account on a real platform is the platform's (username@instance on Mastodon,
--    the Bluesky handle, the name Upload-Post reports), set when it is connected and shown as is: a
--    user may rename the display name, not the handle. Only the sandbox's handles are Pacer's own.
---------------------------------------------------------------------------------------------------
create function private.keep_platform_handles()
returns trigger
language plpgsql set search_path = ''
as $$
begin
  if private.is_api_role() and new.handle is distinct from old.handle and old.platform <> 'sandbox' then
    perform private.refuse_input('social_accounts', 'handle', format('the handle of a %s account is the platform''s and cannot be changed.', old.platform),
                                 'Change its displayName instead; to use another account, connect that one.');
  end if;
  return new;
end
$$;
create trigger keep_platform_handles before update of handle on public.social_accounts
  for each row execute function private.keep_platform_handles();

---------------------------------------------------------------------------------------------------
-- 3. Which identity on the platform an account's credentials are for, stored by the server with them
--    (it alone can read them, lib/accounts/identity.ts): Mastodon's instance and account id, a
--    Bluesky DID. Disconnect keeps a Mastodon token another Pacer account holds too (Mastodon may
--    hand the same token to each sign-in): "another account" is now one holding credentials for the
--    same identity, not one that names the same handle (any workspace could name anyone's). Rows
--    connected before this have no identity stored and count as no one's until reconnected.
---------------------------------------------------------------------------------------------------
alter table public.social_accounts
  add column platform_identity text check (length(platform_identity) between 1 and 600);
comment on column public.social_accounts.platform_identity is
  'The platform identity the stored credentials are for (Mastodon: instance#account id; Bluesky: DID). Written by the server with the credentials; no user role reads or writes it.';
create index social_accounts_platform_identity_idx on public.social_accounts (platform, platform_identity)
  where platform_identity is not null;

-- The server's connect, now also storing the identity (null where the platform has none Pacer compares).
drop function private.connect_account(uuid, text);
create function private.connect_account(p_account_id uuid, p_sealed text, p_identity text default null)
returns public.social_accounts
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.social_accounts;
begin
  perform private.store_account_credentials(p_account_id, p_sealed);
  update public.social_accounts set platform_identity = p_identity where id = p_account_id and p_identity is not null;
  update public.social_accounts set state = 'connected', last_error = null
  where id = p_account_id and state = 'needs_reconnect';
  select * into v_row from public.social_accounts where id = p_account_id;
  return v_row;
end
$$;
revoke all on function private.connect_account from public;
grant execute on function private.connect_account to pacer_worker;

drop function private.account_credentials(uuid);
drop function private.identity_in_use(text, text, uuid);
create function private.identity_in_use(p_platform text, p_identity text, p_except uuid)
returns boolean
language sql stable security definer set search_path = ''
as $$
  select p_identity is not null and exists (
    select from public.social_accounts
    where platform = p_platform and platform_identity = p_identity
      and credentials_encrypted is not null and id is distinct from p_except
  )
$$;

create function private.account_credentials(p_account_id uuid)
returns table (platform text, handle text, credentials_encrypted text, shared boolean)
language sql stable security definer set search_path = ''
as $$
  select a.platform, a.handle, a.credentials_encrypted, private.identity_in_use(a.platform, a.platform_identity, a.id)
  from public.social_accounts a where a.id = p_account_id
$$;

revoke all on function private.identity_in_use, private.account_credentials from public;
grant execute on function private.identity_in_use, private.account_credentials to pacer_worker;

---------------------------------------------------------------------------------------------------
-- 4. Replacing the workspace's Upload-Post key (lib/accounts/upload-post.ts setUploadPostKey)
--    re-seals its accounts' credentials with the new key. An account whose credentials the server
--    cannot read (sealed with a key it no longer holds) cannot be re-sealed: it is given credentials
--    that name only its platform and waits in needs_reconnect with `p_reason`, in the same
--    transaction, so a leaked key can always be replaced. Admins and owners, as set_upload_post_key.
---------------------------------------------------------------------------------------------------
create function private.hold_upload_post_accounts(p_workspace_id uuid, p_accounts jsonb, p_reason text)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_held integer;
begin
  perform private.require_workspace_role(p_workspace_id, 'admin');
  perform private.check_sealed_accounts(p_accounts);
  update public.social_accounts a
     set credentials_encrypted = x.sealed, state = 'needs_reconnect', last_error = p_reason
  from jsonb_to_recordset(coalesce(p_accounts, '[]')) x(id uuid, sealed text)
  where a.id = x.id and a.workspace_id = p_workspace_id and a.platform <> 'sandbox';
  get diagnostics v_held = row_count;
  return v_held;
end
$$;
revoke all on function private.hold_upload_post_accounts from public;
grant execute on function private.hold_upload_post_accounts to pacer_worker;

call private.hand_over_to_postgres();
