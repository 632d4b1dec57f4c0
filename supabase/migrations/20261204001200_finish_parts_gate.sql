-- Finishing a thread (or first comment) during a verification sends statuses, so it must hold what
-- a publish holds (invariant 5 of engine.md: nothing goes to an account that may not publish). A
-- verification is leased whatever the account's state (a lookup is only a read), so the engine asks,
-- for the items it would finish, whether the rest may still be sent: the account publishable and the
-- item not cancelled. lib/engine/attempt.ts then settles a cancelled item as the post it is, and
-- waits on a paused or restricted account instead of sending.
create function private.finish_parts_allowed(p_item_ids bigint[])
returns table (queue_item_id bigint, allowed boolean, reason text)
language sql stable security definer set search_path = ''
as $$
  select q.id,
         private.account_can_publish(a.state) and not q.cancel_requested,
         case when q.cancel_requested then 'cancelled'
              when not private.account_can_publish(a.state) then 'account ' || a.state::text end
  from public.queue_items q
  join public.social_accounts a on a.id = q.account_id
  where q.id = any (p_item_ids)
$$;
revoke all on function private.finish_parts_allowed from public;
grant execute on function private.finish_parts_allowed to pacer_worker;

call private.hand_over_to_postgres();
