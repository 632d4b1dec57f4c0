-- private.record_outcomes reads each item once (issue 14). 20261203000100_connector_limits.sql's
-- statement joined every result to its queue item three times (to decide, to write the history row,
-- to answer) and to its account twice; the first read now carries what the other two took (the
-- item's workspace, account, action, post and status, the account's platform), so each result costs
-- one read of its item, its account and its post. Every CTE reads the statement's snapshot, so the
-- values are the ones the later joins read. Otherwise unchanged.

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
      latency_ms integer, worker text, call_deadline_at timestamptz, verify_retry_ms integer[],
      rate_limit jsonb, budget_until timestamptz)
  ),
  -- When the latest publish can no longer land (first_lookup_at), and when its absence is confirmed.
  timed as (
    select r.*, q.cancel_requested, q.absence_seen_at, q.unanswered_lookups, q.account_id,
           q.workspace_id, q.action, q.post_id, q.status as status_before, a.platform,
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
      kind, attempt, started_at, finished_at, outcome, error_message, latency_ms, external_id, worker, applied, rate_limit)
    select d.id, d.workspace_id, d.account_id, d.platform, d.action, p.destination,
           d.mode, d.attempt, d.started_at, d.finished_at, d.outcome, d.error_message, d.latency_ms,
           d.external_id, d.worker, d.id in (select u.id from updated u),
           case when jsonb_typeof(d.rate_limit) = 'object' and pg_column_size(d.rate_limit) <= 512 then d.rate_limit end
    from planned d
    join public.posts p on p.id = d.post_id
  ),
  -- What an outcome says about the account itself (applied results only).
  effects as (
    select distinct on (d.account_id) d.account_id, d.outcome, d.error_message, d.retry_at
    from planned d
    where d.id in (select u.id from updated u)
      and d.outcome in ('auth_expired', 'restricted', 'rate_limited', 'posted')
    order by d.account_id,
             array_position(array['restricted', 'auth_expired', 'rate_limited', 'posted'], d.outcome), d.retry_at desc
  ),
  -- What the platform said is left of the account's budget: spent until the latest reset stated.
  budgets as (
    select d.account_id, max(d.budget_until) as budget_until
    from planned d
    where d.budget_until is not null
    group by d.account_id
  ),
  account_effects as (
    -- Every new value is computed from the row being updated (a.*), never from a second read of the
    -- table: when a person or the health scan pauses or resumes the account while this statement
    -- waits for its row lock, Postgres re-reads the row and recomputes from the committed version, so
    -- a concurrent pause is kept instead of being written back to 'active' (20261202000800).
    update public.social_accounts a set
      state = case x.outcome
                when 'auth_expired' then 'needs_reconnect'::public.account_state
                when 'restricted' then 'restricted'::public.account_state
                when 'posted' then case when a.state = 'connected' then 'active'::public.account_state else a.state end
                else a.state end,
      requires_review = a.requires_review or coalesce(x.outcome = 'restricted', false),
      cooldown_until = greatest(case when x.outcome = 'rate_limited' then greatest(a.cooldown_until, x.retry_at) else a.cooldown_until end,
                                x.budget_until),
      last_error = case when x.outcome in ('auth_expired', 'restricted', 'rate_limited') then x.error_message else a.last_error end
    from (
      select coalesce(e.account_id, b.account_id) as account_id, e.outcome, e.error_message, e.retry_at, b.budget_until
      from effects e full join budgets b on b.account_id = e.account_id
    ) x
    where a.id = x.account_id
      -- Only real changes are written: concurrent batches then rarely lock the same account rows.
      and (a.state, a.requires_review, a.cooldown_until, a.last_error) is distinct from (
        case x.outcome
          when 'auth_expired' then 'needs_reconnect'::public.account_state
          when 'restricted' then 'restricted'::public.account_state
          when 'posted' then case when a.state = 'connected' then 'active'::public.account_state else a.state end
          else a.state end,
        a.requires_review or coalesce(x.outcome = 'restricted', false),
        greatest(case when x.outcome = 'rate_limited' then greatest(a.cooldown_until, x.retry_at) else a.cooldown_until end,
                 x.budget_until),
        case when x.outcome in ('auth_expired', 'restricted', 'rate_limited') then x.error_message else a.last_error end)
  )
  -- Semi-joins against `updated` (IN): Postgres estimates a data-modifying CTE at one row, and a
  -- plain join against it would compare every row of a large batch with every other.
  select d.id, d.id in (select u.id from updated u),
         case when d.id in (select u.id from updated u) then d.next_status else d.status_before end
  from planned d;
end
$$;

call private.hand_over_to_postgres();
