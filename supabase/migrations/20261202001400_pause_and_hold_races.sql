-- Two races a reviewer found in account health (issue 9), closed with triggers so that every path
-- that pauses an account or holds a destination gets the fix, whoever wrote the function.
--
-- 1. A pause waits for the claims in flight for its account.
--    private.claim_due_posts takes one advisory lock per (account, action) of its candidates, ordered
--    by (account_id, action), and only then, in a new statement, reads the account's state to decide
--    what may go. A pause that committed after that read but before the claim committed returned to
--    its caller while a publish for the account was being handed out. Now any UPDATE that takes an
--    account from a state that can publish to one that cannot (a person's pause, pause-all, the scan's
--    auto-pause, the engine's restriction, an expired authorisation, billing's plan limit) takes the
--    same locks before it commits: it waits for a claim already past its read, and a claim that
--    starts meanwhile waits for the pause and then reads the account as paused. Once the pause has
--    returned, no claim hands out a publish for that account.
--
--    One statement-level trigger (not a row trigger) so that a statement pausing many accounts takes
--    all their locks in the claim's order: two lockers in one order never deadlock. A claim holds
--    queue rows (SKIP LOCKED) while it waits for these locks, so nothing that pauses may update that
--    account's waiting queue items after the pause in the same transaction; no pause path does (the
--    scan parks held destinations before it pauses; billing resumes accounts before it pauses others;
--    record_outcomes writes its items and accounts in one statement, and this runs at its end).
--    Postgres allows no column list with transition tables, so it runs for every UPDATE of accounts;
--    without a pause among the rows it locks nothing (measured: 14-21 ms on a 10,000-row score write
--    that takes 1.3-2.2 s with the other triggers).
--
-- 2. A new destination hold and a new item for it never miss each other.
--    Items are held when queued (hold_new_items_for_held_destinations) and when a hold is created
--    (the scan's own UPDATE); an item queued while the hold was being created, each transaction
--    blind to the other's uncommitted row, stayed claimable. Now creating a hold locks its account's
--    row FOR UPDATE, which conflicts with the FOR KEY SHARE lock that queueing an item for that
--    account already takes (the queue_items foreign key): the hold waits for items being queued and
--    then holds them; an item queued meanwhile waits for the hold's transaction, then its trigger
--    sees the hold. Queueing pays nothing new (no lock per item; a 10,000-item request would
--    otherwise take 10,000 advisory locks).

---------------------------------------------------------------------------------------------------
-- 1. Pauses take the claim's per-account locks.
---------------------------------------------------------------------------------------------------
create function private.wait_for_claims_of_paused_accounts() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  -- Every action of every account this statement paused, in the claim's order (account_id, action);
  -- the actions as release_resumed_account lists them. The states are private.account_can_publish
  -- spelled out: a function with SET search_path is not inlined, and a call per row of a 10,000-row
  -- score write cost 50 ms.
  perform pg_advisory_xact_lock(hashtextextended(x.account_id::text || '/' || x.action, 0))
  from (select n.id as account_id, p.action
        from new_rows n
        join old_rows o on o.id = n.id and o.state in ('connected', 'active')
        cross join (select distinct r.action from public.rate_limit_policies r) p
        where n.state not in ('connected', 'active')
        order by 1, 2) x;
  return null;
end
$$;
create trigger wait_for_claims_of_paused_accounts after update on public.social_accounts
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.wait_for_claims_of_paused_accounts();

---------------------------------------------------------------------------------------------------
-- 2. A new hold waits for items being queued to its account, then holds them.
---------------------------------------------------------------------------------------------------
create function private.hold_items_of_new_destination_holds() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  -- FOR UPDATE (not NO KEY UPDATE): the only row lock that conflicts with the foreign key's
  -- KEY SHARE. In id order, so two scans holding destinations of the same accounts never deadlock.
  perform 1 from public.social_accounts a
  where a.id in (select h.account_id from new_holds h where h.released_at is null)
  order by a.id
  for update;
  -- A new statement, so a new snapshot: it sees the items whose queueing it waited for.
  update public.queue_items q set run_at = 'infinity', last_error = private.destination_hold_message(h.destination)
  from new_holds h, public.posts p
  where h.released_at is null and q.account_id = h.account_id and p.id = q.post_id and p.destination = h.destination
    and q.status in ('pending', 'rate_limited') and q.lease_id is null and q.run_at <> 'infinity';
  return null;
end
$$;
create trigger hold_items_of_new_destination_holds after insert on public.destination_holds
  referencing new table as new_holds
  for each statement execute function private.hold_items_of_new_destination_holds();

revoke all on function private.wait_for_claims_of_paused_accounts() from public, anon, authenticated, service_role;
revoke all on function private.hold_items_of_new_destination_holds() from public, anon, authenticated, service_role;

call private.hand_over_to_postgres();
