-- A removed account's handle can be connected again as a new account (20261205040100), but the
-- platform still counts what the old one posted. The rate-limit ledger and a cool-down are keyed by
-- the account's row, so without this a remove-and-reconnect would start from empty windows and could
-- post twice the platform's limit within the hour. The new account inherits the last day's ledger
-- and any cool-down of the removed accounts it matches (same workspace and platform; the same
-- handle, or the same platform identity once it is known).

create function private.match_removed_account_pace()
returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if tg_op = 'INSERT' and tg_when = 'BEFORE' then
    select greatest(new.cooldown_until, max(a.cooldown_until)) into new.cooldown_until
    from public.social_accounts a
    where a.workspace_id = new.workspace_id and a.platform = new.platform and a.archived_at is not null
      and (a.handle = new.handle or (new.platform_identity is not null and a.platform_identity = new.platform_identity));
    return new;
  end if;
  -- AFTER INSERT: every match; AFTER UPDATE of the identity: the matches the handle did not find.
  insert into private.rate_limit_ledger (account_id, action, at)
  select new.id, l.action, l.at
  from public.social_accounts a
  join private.rate_limit_ledger l on l.account_id = a.id and l.at > now() - interval '1 day'
  where a.workspace_id = new.workspace_id and a.platform = new.platform and a.archived_at is not null
    and a.id <> new.id
    and case when tg_op = 'INSERT'
             then a.handle = new.handle or (new.platform_identity is not null and a.platform_identity = new.platform_identity)
             else a.platform_identity = new.platform_identity and a.handle <> new.handle end;
  return null;
end
$$;

create trigger match_removed_account_cooldown before insert on public.social_accounts
  for each row execute function private.match_removed_account_pace();
create trigger match_removed_account_ledger after insert on public.social_accounts
  for each row execute function private.match_removed_account_pace();
create trigger match_removed_account_ledger_by_identity after update of platform_identity on public.social_accounts
  for each row when (new.platform_identity is not null and old.platform_identity is distinct from new.platform_identity
                     and new.archived_at is null)
  execute function private.match_removed_account_pace();

call private.hand_over_to_postgres();
