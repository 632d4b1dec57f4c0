-- Reconciliation on platforms that keep no marker but derive a post's id from Pacer's key (Bluesky:
-- the record key is rkeyFor(idempotency key), lib/connectors/bluesky/tid.ts). The connector can only
-- recognise a post as an item's by trying the keys that could be on the platform, so a run asks for
-- them: the keys of these accounts' items with a publish attempt recorded since the window began
-- (an item never sent cannot be there). Read through posting_history's (account_id, finished_at)
-- index, so the cost follows the accounts' recent sends, not the size of their queues.
create function private.reconciliation_keys(p_account_ids uuid[], p_since timestamptz)
returns table (account_id uuid, idempotency_key uuid)
language sql stable security definer set search_path = ''
as $$
  select distinct h.account_id, q.idempotency_key
  from public.posting_history h
  join public.queue_items q on q.id = h.queue_item_id
  where h.account_id = any (p_account_ids)
    and h.kind = 'publish'
    and h.finished_at >= p_since
$$;
revoke all on function private.reconciliation_keys from public;
grant execute on function private.reconciliation_keys to pacer_worker;

call private.hand_over_to_postgres();
