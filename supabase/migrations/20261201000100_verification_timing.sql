-- "Not found" is believed only once an attempt can no longer land. A publish whose outcome is unknown
-- is looked up no earlier than its call's deadline (send time + call timeout) plus the platform's
-- margin, and a first "not found" is confirmed by a second lookup after the platform's read lag,
-- both measured from the call, before the item may be sent again. The timings are data, per platform.

-- How long past a publish call's deadline a request may still land (queued at the platform, or on
-- an overloaded network), and how long after that a second lookup confirms an absence (longer
-- where the platform's reads lag its writes).
alter table public.platforms
  add column verify_margin_ms integer not null default 30000 check (verify_margin_ms between 0 and 3600000),
  add column verify_confirm_ms integer not null default 30000 check (verify_confirm_ms between 0 and 3600000);
comment on column public.platforms.verify_margin_ms is
  'First lookup of an unknown publish: no earlier than its send time + call timeout + this.';
comment on column public.platforms.verify_confirm_ms is
  'A first "not found" is confirmed by a second lookup this much later (measured from the call too).';

-- When the latest publish call's time ran out (its send time + call timeout), and when a lookup
-- first found no post of it: a second lookup must confirm that before anything is sent again.
-- Also how many lookups in a row the platform could not answer: the waits between them (an engine
-- setting) are indexed by it, so confirming lookups and earlier answers never use them up.
alter table public.queue_items
  add column call_deadline_at timestamptz,
  add column absence_seen_at timestamptz,
  add column unanswered_lookups integer not null default 0;

---------------------------------------------------------------------------------------------------
-- Record outcomes (as in 20261124000300_queue.sql, plus verification timed from the call and a
-- confirming lookup). Still the single place where an attempt's outcome becomes the item's next state.
---------------------------------------------------------------------------------------------------
create or replace function private.record_outcomes(p_results jsonb)
returns table (id bigint, applied boolean, status public.queue_status)
language plpgsql security definer set search_path = ''
as $$
begin
  return query
  with r as (
    select x.* from jsonb_to_recordset(p_results) as x(
      id bigint, lease_id uuid, mode text, attempt integer, outcome text, external_id text, external_url text,
      error_message text, retry_at timestamptz, started_at timestamptz, finished_at timestamptz,
      latency_ms integer, worker text, call_deadline_at timestamptz, verify_retry_ms integer[])
  ),
  -- When the latest publish can no longer land (first_lookup_at), and when its absence is confirmed.
  timed as (
    select r.*, q.cancel_requested, q.absence_seen_at, q.unanswered_lookups, q.account_id,
           t.deadline + pf.verify_margin_ms * interval '1 millisecond' as first_lookup_at,
           -- The confirming lookup also waits the confirming delay after the first "not found" itself,
           -- so two reads never land moments apart on the same lagging replica.
           greatest(t.deadline + (pf.verify_margin_ms + pf.verify_confirm_ms) * interval '1 millisecond',
                    coalesce(q.absence_seen_at, r.finished_at) + pf.verify_confirm_ms * interval '1 millisecond') as confirm_at
    from r
    join public.queue_items q on q.id = r.id
    join public.social_accounts a on a.id = q.account_id
    join public.platforms pf on pf.id = a.platform
    -- A publish times from its own call; a lookup from the publish it checks ('-infinity' for items
    -- that were verifying before the deadline was recorded).
    cross join lateral (select case when r.mode = 'publish' then coalesce(r.call_deadline_at, r.finished_at)
                                    else coalesce(q.call_deadline_at, '-infinity') end as deadline) t
  ),
  -- A not_found counts only when its lookup started after the attempt could land; the second
  -- that counts, after the confirming delay, is the one that lets the item be sent again.
  judged as (
    select t.*,
      case
        when t.outcome <> 'not_found' then null
        when t.started_at < t.first_lookup_at then 'early'
        when t.absence_seen_at is null or t.started_at < t.confirm_at then 'first'
        else 'confirmed'
      end as absence
    from timed t
  ),
  decided as (
    select t.*,
      case
        when t.outcome in ('posted', 'found') then 'posted'
        when t.outcome = 'unknown' then 'verifying'
        -- The platform could not be asked: again after the next wait; when none is left, a human decides.
        -- (Without verify_retry_ms, a worker of the first release decided by retry_at.)
        when t.outcome = 'unavailable' then
          case when (t.verify_retry_ms is null and t.retry_at is null)
                 or t.unanswered_lookups >= coalesce(cardinality(t.verify_retry_ms), 2147483647)
               then 'needs_review' else 'verifying' end
        when t.outcome = 'rate_limited' then
          case when t.cancel_requested then 'cancelled' else 'rate_limited' end
        when t.absence in ('early', 'first') then 'verifying'
        when t.outcome in ('retryable', 'not_found') then
          case when t.cancel_requested then 'cancelled' when t.retry_at is null then 'failed' else 'pending' end
        when t.outcome in ('auth_expired', 'restricted') then
          case when t.cancel_requested then 'cancelled' else 'pending' end
        else 'failed'  -- permanent, destination_rejected
      end::public.queue_status as next_status
    from judged t
  ),
  planned as (
    select d.*,
      case
        when d.outcome in ('auth_expired', 'restricted') then 'infinity'::timestamptz
        when d.outcome = 'unknown' then greatest(d.first_lookup_at, d.finished_at)
        when d.outcome = 'unavailable' and d.verify_retry_ms is not null then
          greatest(d.first_lookup_at, d.finished_at + d.verify_retry_ms[d.unanswered_lookups + 1] * interval '1 millisecond')
        when d.absence = 'early' then greatest(d.first_lookup_at, d.finished_at)
        when d.absence = 'first' then greatest(d.confirm_at, d.finished_at)
        else coalesce(d.retry_at, d.finished_at)
      end as next_run_at,
      case
        when d.absence in ('early', 'first') then
          'The platform shows no post from the earlier attempt yet; it is asked again before anything is sent.'
        when d.absence = 'confirmed' then
          'The platform has no post from the earlier attempt (confirmed by a second lookup); it will be sent again.'
        else d.error_message
      end as item_error
    from decided d
  ),
  updated as (
    update public.queue_items q set
      status = d.next_status,
      run_at = case when d.next_status in ('pending', 'rate_limited', 'verifying') then d.next_run_at else q.run_at end,
      lease_id = null, lease_expires_at = null, leased_at = null,
      -- A rate-limit refusal published nothing and spends no retry (the history keeps the row).
      attempts = q.attempts - (d.outcome = 'rate_limited')::integer,
      external_id = coalesce(d.external_id, q.external_id),
      external_url = coalesce(d.external_url, q.external_url),
      posted_at = case when d.next_status = 'posted' then d.finished_at else q.posted_at end,
      error_class = case when d.next_status = 'posted' then null else d.outcome end,
      last_error = case when d.next_status = 'posted' then null else d.item_error end,
      call_deadline_at = case when d.mode = 'publish' then coalesce(d.call_deadline_at, d.finished_at) else q.call_deadline_at end,
      unanswered_lookups = case when d.outcome = 'unavailable' then q.unanswered_lookups + 1 else 0 end,
      absence_seen_at = case
        when d.mode = 'publish' or d.absence = 'confirmed' then null
        when d.absence = 'first' then coalesce(q.absence_seen_at, d.finished_at)
        else q.absence_seen_at end
    from planned d
    where q.id = d.id and q.lease_id = d.lease_id
    returning q.id, q.status, q.account_id, q.workspace_id
  ),
  history as (
    insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, destination,
      kind, attempt, started_at, finished_at, outcome, error_message, latency_ms, external_id, worker, applied)
    select d.id, q.workspace_id, q.account_id, a.platform, q.action, p.destination,
           d.mode, d.attempt, d.started_at, d.finished_at, d.outcome, d.error_message, d.latency_ms,
           d.external_id, d.worker, d.id in (select u.id from updated u)
    from planned d
    join public.queue_items q on q.id = d.id
    join public.posts p on p.id = q.post_id
    join public.social_accounts a on a.id = q.account_id
  ),
  -- What an outcome says about the account itself. Only real changes are written: concurrent
  -- batches then rarely lock the same account rows (and never wait on each other for nothing).
  account_effects as (
    update public.social_accounts a set
      state = e.state, requires_review = e.requires_review, cooldown_until = e.cooldown_until, last_error = e.last_error
    from (
      select x.account_id,
             case x.outcome
               when 'auth_expired' then 'needs_reconnect'::public.account_state
               when 'restricted' then 'restricted'::public.account_state
               when 'posted' then case when acc.state = 'connected' then 'active'::public.account_state else acc.state end
               else acc.state end as state,
             acc.requires_review or x.outcome = 'restricted' as requires_review,
             case when x.outcome = 'rate_limited' then greatest(acc.cooldown_until, x.retry_at) else acc.cooldown_until end
               as cooldown_until,
             case when x.outcome in ('auth_expired', 'restricted', 'rate_limited') then x.error_message else acc.last_error end
               as last_error
      from (
        select distinct on (d.account_id) d.account_id, d.outcome, d.error_message, d.retry_at
        from planned d
        where d.id in (select u.id from updated u)
          and d.outcome in ('auth_expired', 'restricted', 'rate_limited', 'posted')
        order by d.account_id,
                 array_position(array['restricted', 'auth_expired', 'rate_limited', 'posted'], d.outcome), d.retry_at desc
      ) x
      join public.social_accounts acc on acc.id = x.account_id
    ) e
    where a.id = e.account_id
      and (a.state, a.requires_review, a.cooldown_until, a.last_error)
          is distinct from (e.state, e.requires_review, e.cooldown_until, e.last_error)
  )
  -- Semi-joins against `updated` (IN): Postgres estimates a data-modifying CTE at one row, and a
  -- plain join against it would compare every row of a large batch with every other.
  select d.id, d.id in (select u.id from updated u),
         case when d.id in (select u.id from updated u) then d.next_status else q.status end
  from planned d
  join public.queue_items q on q.id = d.id;
end
$$;

---------------------------------------------------------------------------------------------------
-- Recovery (as in 20261124000300_queue.sql): an expired lease sends the item to verification, now
-- timed like any unknown outcome. The dead worker's send time is unknown, but a worker never starts
-- a publish whose call could outlast its lease (runAttempt), so the lease's expiry stands in for the
-- call's deadline.
---------------------------------------------------------------------------------------------------
create or replace function private.recover_expired_leases(p_limit integer default 1000)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_count integer;
begin
  with expired as (
    select q.id, q.status as was, q.lease_id, q.leased_at, q.lease_expires_at, q.worker,
           case when q.status = 'verifying' then q.verify_attempts else q.attempts end as attempt,
           -- A lookup's worker died: the publish it checks keeps its deadline.
           case when q.status = 'verifying' then q.call_deadline_at else q.lease_expires_at end as deadline
    from public.queue_items q
    where q.lease_id is not null and q.lease_expires_at < v_now
    order by q.lease_expires_at
    limit p_limit
    for update skip locked
  ),
  recovered as (
    update public.queue_items q set
      status = 'verifying',
      run_at = greatest(v_now, coalesce(e.deadline, '-infinity') + pf.verify_margin_ms * interval '1 millisecond'),
      call_deadline_at = e.deadline,
      absence_seen_at = case when e.was = 'verifying' then q.absence_seen_at end,
      lease_id = null, lease_expires_at = null, leased_at = null,
      error_class = 'unknown',
      last_error = 'The worker stopped before recording the outcome; asking the platform whether it was published.'
    from expired e, public.social_accounts a, public.platforms pf
    where q.id = e.id and a.id = q.account_id and pf.id = a.platform
    returning q.id
  )
  insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, destination,
    kind, attempt, started_at, finished_at, outcome, error_message, worker)
  select e.id, q.workspace_id, q.account_id, a.platform, q.action, p.destination,
         case when e.was = 'verifying' then 'verify' else 'publish' end, e.attempt, e.leased_at, v_now,
         'lease_expired', 'The worker''s lease expired before it recorded an outcome.', e.worker
  from expired e
  join recovered r on r.id = e.id
  join public.queue_items q on q.id = e.id
  join public.posts p on p.id = q.post_id
  join public.social_accounts a on a.id = q.account_id;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;
