-- Adding an account in phases (lib/accounts/index.ts): the row is committed before the platform is
-- called and waits in 'needs_reconnect' (account_can_publish is false) until its credentials are
-- stored, so no transaction stays open across the remote call. The server's role (pacer_worker) sees
-- no account rows itself: these functions are its only way to move one through the connect.

-- The account waits, unpublishable, with `p_reason` shown as its last error. Only an account that
-- has never had credentials stored: a connected one is never put back by this.
create function private.hold_unconnected_account(p_account_id uuid, p_reason text)
returns void
language plpgsql security definer set search_path = ''
as $$
begin
  update public.social_accounts set state = 'needs_reconnect', last_error = p_reason
  where id = p_account_id and credentials_encrypted is null;
  if not found then
    raise exception 'There is no account % waiting to be connected.', p_account_id using errcode = 'P0002';
  end if;
end
$$;

-- Credentials stored and the account connected in one statement; returns the row. The plan's
-- trigger (hold_accounts_over_plan) may still pause it, as for any account that becomes publishable.
create function private.connect_account(p_account_id uuid, p_sealed text)
returns public.social_accounts
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.social_accounts;
begin
  perform private.store_account_credentials(p_account_id, p_sealed);
  update public.social_accounts set state = 'connected', last_error = null
  where id = p_account_id and state = 'needs_reconnect';
  select * into v_row from public.social_accounts where id = p_account_id;
  return v_row;
end
$$;

-- Connecting failed: the row goes, but only while it never had credentials (true is returned when
-- it went). Through the server's role so an editor, who may add but not remove accounts, leaves nothing.
create function private.discard_unconnected_account(p_account_id uuid)
returns boolean
language sql security definer set search_path = ''
as $$
  with gone as (
    delete from public.social_accounts
    where id = p_account_id and credentials_encrypted is null and state = 'needs_reconnect'
    returning 1
  )
  select exists (select from gone)
$$;

revoke all on function private.hold_unconnected_account, private.connect_account, private.discard_unconnected_account from public;
grant execute on function private.hold_unconnected_account, private.connect_account, private.discard_unconnected_account to pacer_worker;
