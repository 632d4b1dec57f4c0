-- What a Mastodon lookup is given (private.sent_attempts, 20261203000100_connector_limits.sql §5), made
-- safe for two cases that let it answer wrongly:
--
-- 1. The send time came from every row of the latest publish attempt, including a rate-limit refusal:
--    record_outcomes hands a rate_limited attempt's number back (attempts - 1), so the real send that
--    follows records the same number, and min(started_at) went back to the refusal, hours before it
--    at worst, widening the statuses a lookup reads. Only rows that may have sent count now: every
--    PublishOutcome kind but "posted" and "unknown" means the platform did NOT publish it
--    (lib/connectors/types.ts); a lease_expired row (recovery) stays, its start being the lease's,
--    before any send.
-- 2. Mastodon keeps no key on a status: two items of one account with the same text look alike, and
--    one's lookup could answer with the other's status (marked posted, never published). Each item
--    now also gets the ids already recorded for the account's OTHER items since an hour before its
--    send (a day and an hour without one, the lookup's own window and clocks' margin); the lookup
--    skips them (SentAttempt.excludeExternalIds). Every way an id is recorded writes the history
--    (record_outcomes, review, reconciliation), read by posting_history_account_idx; the newest 1,000
--    are more than a lookup reads (10 pages of 40).
--
-- A row for every item asked about now, not only those with a send recorded.
drop function private.sent_attempts(bigint[]);

create function private.sent_attempts(p_item_ids bigint[])
returns table (queue_item_id bigint, sent_at timestamptz, external_id text, other_external_ids text[])
language sql stable security definer set search_path = ''
as $$
  with sends as (
    select h.queue_item_id, h.attempt, h.started_at, h.external_id
    from public.posting_history h
    where h.queue_item_id = any (p_item_ids) and h.kind = 'publish'
      and h.outcome not in ('rate_limited', 'retryable', 'auth_expired', 'restricted', 'destination_rejected', 'permanent')
  ),
  latest as (
    select s.queue_item_id, min(s.started_at) as sent_at, max(s.external_id) as external_id
    from sends s
    where s.attempt = (select max(s2.attempt) from sends s2 where s2.queue_item_id = s.queue_item_id)
    group by s.queue_item_id
  )
  select q.id, l.sent_at, l.external_id,
         coalesce((
           select array_agg(o.external_id order by o.at desc)
           from (
             select h.external_id, max(h.finished_at) as at
             from public.posting_history h
             where h.account_id = q.account_id and h.queue_item_id <> q.id and h.external_id is not null
               and h.finished_at >= coalesce(l.sent_at, now() - interval '1 day') - interval '1 hour'
             group by h.external_id
             order by max(h.finished_at) desc
             limit 1000
           ) o
         ), '{}')
  from public.queue_items q
  left join latest l on l.queue_item_id = q.id
  where q.id = any (p_item_ids)
$$;

revoke all on function private.sent_attempts from public;
grant execute on function private.sent_attempts to pacer_worker;

call private.hand_over_to_postgres();
