-- Operator metrics: how well this installation publishes, for the people who run it (private.operators),
-- and the two alerts an operator can act on (success below 95 %, any duplicate post) beside the
-- scheduler's warnings. Every figure is defined in docs/operations.md; the SQL below is that definition.
--
-- Cost: everything is read set-based, through an index, and proportional to what happened in the
-- window (or to what is open now), never to the size of the queue or the history:
--   * items that finished in the window: the two partial indexes below (posted by posted_at, failed by
--     updated_at), so a 24 h read touches a day's items, not the millions before them;
--   * attempts in the window (lookups, duplicates, history whose item is gone): posting_history by
--     finished_at (below); each published item's own records through posting_history_item_idx;
--   * open items (verifying, needs_review): one probe per workspace in queue_items_workspace_status_idx;
--   * expired leases: queue_items_leases_idx; counts by status: the counter deltas (private.queue_counters);
--   * queue lag: one probe per account in queue_items_account_waiting_idx (account_id, run_at), which
--     gives each account's oldest waiting item, hence each platform's. (queue_items_claimable_idx
--     (priority, run_at) was dropped by 20261201000300 and has no platform in it anyway.)

---------------------------------------------------------------------------------------------------
-- Indexes. The two on queue_items hold only finished items: an item enters each once, when it
-- finishes (an append at the right edge: times only grow), and the engine's hot path (claim, the
-- waiting set) never reads or rewrites them. posting_history is append-only, so its time index is an
-- append too. Without them a window is a scan of every item and attempt ever recorded.
---------------------------------------------------------------------------------------------------
create index queue_items_posted_at_idx on public.queue_items (posted_at) where status = 'posted';
-- A failed item is not updated again until someone retries it (it then leaves this index), so its
-- updated_at is when it failed.
create index queue_items_failed_at_idx on public.queue_items (updated_at) where status = 'failed';
create index posting_history_finished_at_idx on public.posting_history (finished_at);

---------------------------------------------------------------------------------------------------
-- Items that finished in [p_from, p_to): posted (by posted_at) or failed (by updated_at), with their
-- platform, whether they went through verification, and how long after scheduled_for they posted.
-- Cancelled items are not counted: nobody asked Pacer to publish them any more.
---------------------------------------------------------------------------------------------------
create function private.ops_finished_items(p_from timestamptz, p_to timestamptz, p_workspace_id uuid)
returns table (id bigint, workspace_id uuid, platform text, posted boolean, verified boolean, to_post_seconds double precision)
language sql stable
set search_path = ''
as $$
  select q.id, q.workspace_id, a.platform, q.status = 'posted', q.verify_attempts > 0,
         case when q.status = 'posted' then extract(epoch from q.posted_at - q.scheduled_for)::double precision end
  from (
    select q.* from public.queue_items q
     where q.status = 'posted' and q.posted_at >= p_from and q.posted_at < p_to
    union all
    select q.* from public.queue_items q
     where q.status = 'failed' and q.updated_at >= p_from and q.updated_at < p_to
  ) q
  join public.social_accounts a on a.id = q.account_id
  where p_workspace_id is null or q.workspace_id = p_workspace_id
$$;

---------------------------------------------------------------------------------------------------
-- Items with a success on record in [p_from, p_to) (a publish that answered `posted`, or a lookup that
-- `found` it), and whether Pacer's own records show it published more than once: its successes,
-- over its whole history, name more than one distinct external id. (A platform that honours the
-- idempotency key answers a repeated publish with the same id: one post, not a duplicate.)
-- What this cannot see: a post that landed without Pacer learning of it (a timed-out call, then a
-- lookup that missed it and a new publish) until reconciliation records it; the same text queued
-- twice on purpose (two items are two posts).
---------------------------------------------------------------------------------------------------
create function private.ops_published_items(p_from timestamptz, p_to timestamptz, p_workspace_id uuid)
returns table (queue_item_id bigint, workspace_id uuid, platform text, duplicate boolean, last_success_at timestamptz)
language sql stable
set search_path = ''
as $$
  select p.queue_item_id, p.workspace_id, p.platform, r.external_ids > 1, p.last_success_at
  from (
    select h.queue_item_id, h.workspace_id, h.platform, max(h.finished_at) as last_success_at
    from public.posting_history h
    where h.finished_at >= p_from and h.finished_at < p_to and h.outcome in ('posted', 'found')
      and (p_workspace_id is null or h.workspace_id = p_workspace_id)
    group by 1, 2, 3
  ) p
  cross join lateral (
    select count(distinct h.external_id) as external_ids
    from public.posting_history h
    where h.queue_item_id = p.queue_item_id and h.outcome in ('posted', 'found')
  ) r
$$;

---------------------------------------------------------------------------------------------------
-- The alerts, judged on the last hour (what a 503 should describe: now, clearing within the hour of
-- the fix). Same shape as private.scheduler_warnings(), so the health check reads both as one list.
--   success_rate_low  fewer than 95 % of the items that finished in the last hour were posted, overall
--                     or on one platform, counted only from 20 finished items (2 failures of 20 page;
--                     1 of 2 does not)
--   duplicate_posts   an item published in the last hour has more than one post on record
---------------------------------------------------------------------------------------------------
create function private.ops_warnings()
returns table (code text, function_name text, since timestamptz, message text)
language plpgsql stable
security definer -- reads every workspace's items, for the health check's least-privilege role
set search_path = ''
as $$
declare
  v_to constant timestamptz := pg_catalog.now();
  v_from constant timestamptz := pg_catalog.now() - interval '1 hour';
  v_min_sample constant integer := 20;
  v_low text;
  v_dups bigint;
  v_first timestamptz;
  v_items text;
begin
  select pg_catalog.string_agg(pg_catalog.format('%s %s%% (%s of %s posted)',
           coalesce(s.platform, 'overall'), pg_catalog.round(100.0 * s.posted / s.finished, 1), s.posted, s.finished),
           ', ' order by s.platform nulls first)
    into v_low
    from (select f.platform, count(*) as finished, count(*) filter (where f.posted) as posted
            from private.ops_finished_items(v_from, v_to, null) f
           group by grouping sets ((), (f.platform))) s
   where s.finished >= v_min_sample and s.posted < 0.95 * s.finished;
  if v_low is not null then
    code := 'success_rate_low';
    function_name := 'process-queue';
    since := v_from;
    message := pg_catalog.format(
      'Below 95 %% of finished items posted in the last hour: %s. Read why in GET /api/ops/metrics and the '
      'posting history (error classes per platform); docs/operations.md, "Alerts".', v_low);
    return next;
  end if;

  select count(*), min(p.last_success_at),
         pg_catalog.string_agg(p.queue_item_id::text, ', ' order by p.queue_item_id) filter (where p.rn <= 10)
    into v_dups, v_first, v_items
    from (select d.*, pg_catalog.row_number() over (order by d.queue_item_id) as rn
            from private.ops_published_items(v_from, v_to, null) d where d.duplicate) p;
  if v_dups > 0 then
    code := 'duplicate_posts';
    function_name := 'process-queue';
    since := v_first;
    message := pg_catalog.format(
      '%s item(s) published in the last hour have more than one post on record (queue items %s%s). Remove the '
      'extra posts on the platform and find the cause in their posting history; docs/operations.md, "Alerts".',
      v_dups, v_items, case when v_dups > 10 then ', …' else '' end);
    return next;
  end if;
end
$$;

---------------------------------------------------------------------------------------------------
-- The metrics for an operator: over a window ending now (5 minutes to 7 days), overall, per platform
-- and per workspace (the 100 with most failures, duplicates and stuck items; or only p_workspace_id).
-- The database holds the rule: anyone but an operator gets 42501, whichever client asks.
---------------------------------------------------------------------------------------------------
create function public.ops_metrics(p_window interval default interval '24 hours', p_workspace_id uuid default null)
returns jsonb
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  v_to constant timestamptz := pg_catalog.now();
  v_from timestamptz;
  v_result jsonb;
begin
  if not exists (select from private.operators o where o.user_id = auth.uid()) then
    raise exception 'Only operators of this installation can read its metrics.'
      using errcode = '42501', hint = 'An operator is added with SQL: docs/deploying.md, "Operators".';
  end if;
  if p_window is null or p_window < interval '5 minutes' or p_window > interval '7 days' then
    raise exception 'The window must be between 5 minutes and 7 days (got %).', p_window
      using errcode = '22023';
  end if;
  v_from := v_to - p_window;

  with workspaces as (
    select w.id from public.workspaces w where p_workspace_id is null or w.id = p_workspace_id
  ),
  -- One row per fact, each with its platform and workspace; summed per scope below.
  facts as (
    select f.platform, f.workspace_id, f.posted::integer as posted, (not f.posted)::integer as failed,
           f.verified::integer as verified, f.to_post_seconds,
           0 as lookups, 0 as unanswered, 0 as published, 0 as duplicates,
           0 as past_lease, 0 as leases_not_recovered, 0 as verifying_overdue, 0 as needs_review_overdue,
           0 as history_without_item, null::timestamptz as oldest_due_at, null::public.queue_status as status, 0::bigint as n
      from private.ops_finished_items(v_from, v_to, p_workspace_id) f
    union all
    select p.platform, p.workspace_id, 0, 0, 0, null, 0, 0, 1, p.duplicate::integer, 0, 0, 0, 0, 0, null, null, 0
      from private.ops_published_items(v_from, v_to, p_workspace_id) p
    -- Lookups (verify attempts) in the window, and those the platform could not answer.
    union all
    select h.platform, h.workspace_id, 0, 0, 0, null, 1, (h.outcome = 'unavailable')::integer, 0, 0, 0, 0, 0, 0, 0, null, null, 0
      from public.posting_history h
     where h.finished_at >= v_from and h.finished_at < v_to and h.kind = 'verify'
       and (p_workspace_id is null or h.workspace_id = p_workspace_id)
    -- Items with attempts in the window whose queue item is gone (its account or post was deleted).
    union all
    select g.platform, g.workspace_id, 0, 0, 0, null, 0, 0, 0, 0, 0, 0, 0, 0, 1, null, null, 0
      from (select distinct h.queue_item_id, h.platform, h.workspace_id
              from public.posting_history h
             where h.finished_at >= v_from and h.finished_at < v_to
               and (p_workspace_id is null or h.workspace_id = p_workspace_id)) g
     where not exists (select from public.queue_items q where q.id = g.queue_item_id)
    -- Leases past their expiry (now): any, and those recovery should long have taken back.
    union all
    select a.platform, q.workspace_id, 0, 0, 0, null, 0, 0, 0, 0, 1,
           (q.lease_expires_at < v_to - interval '2 minutes')::integer, 0, 0, 0, null, null, 0
      from public.queue_items q
      join public.social_accounts a on a.id = q.account_id
     where q.lease_id is not null and q.lease_expires_at < v_to
       and (p_workspace_id is null or q.workspace_id = p_workspace_id)
    -- Open items a machine or a person should have settled by now.
    union all
    select a.platform, o.workspace_id, 0, 0, 0, null, 0, 0, 0, 0, 0, 0,
           (o.status = 'verifying' and coalesce(o.call_deadline_at, o.updated_at) < v_to - interval '1 hour')::integer,
           (o.status = 'needs_review' and o.updated_at < v_to - interval '24 hours')::integer, 0, null, null, 0
      from workspaces w
      cross join lateral (
        select q.workspace_id, q.account_id, q.status, q.call_deadline_at, q.updated_at
          from public.queue_items q
         where q.workspace_id = w.id and q.status in ('verifying', 'needs_review')) o
      join public.social_accounts a on a.id = o.account_id
    -- Queue lag: each account's oldest due waiting item, and due lookups (verifying, unleased).
    union all
    select a.platform, a.workspace_id, 0, 0, 0, null, 0, 0, 0, 0, 0, 0, 0, 0, 0, d.run_at, null, 0
      from public.social_accounts a
      cross join lateral (
        select q.run_at from public.queue_items q
         where q.account_id = a.id and q.status in ('pending', 'rate_limited') and q.run_at <= v_to
         order by q.run_at limit 1) d
     where p_workspace_id is null or a.workspace_id = p_workspace_id
    union all
    select a.platform, o.workspace_id, 0, 0, 0, null, 0, 0, 0, 0, 0, 0, 0, 0, 0, o.run_at, null, 0
      from workspaces w
      cross join lateral (
        select q.workspace_id, q.account_id, q.run_at from public.queue_items q
         where q.workspace_id = w.id and q.status = 'verifying' and q.lease_id is null and q.run_at <= v_to) o
      join public.social_accounts a on a.id = o.account_id
    -- Counts by status, now (the counter deltas the queue's status endpoint reads).
    union all
    select c.platform, c.workspace_id, 0, 0, 0, null, 0, 0, 0, 0, 0, 0, 0, 0, 0, null, c.status, c.n
      from private.queue_counters c
     where p_workspace_id is null or c.workspace_id = p_workspace_id
  ),
  scopes as (
    select grouping(f.platform, f.workspace_id) as scope, f.platform, f.workspace_id,
           sum(f.posted) as posted, sum(f.failed) as failed, sum(f.verified) as verified,
           percentile_cont(0.5) within group (order by f.to_post_seconds) as p50,
           percentile_cont(0.95) within group (order by f.to_post_seconds) as p95,
           sum(f.lookups) as lookups, sum(f.unanswered) as unanswered,
           sum(f.published) as published, sum(f.duplicates) as duplicates,
           sum(f.past_lease) as past_lease, sum(f.leases_not_recovered) as leases_not_recovered,
           sum(f.verifying_overdue) as verifying_overdue, sum(f.needs_review_overdue) as needs_review_overdue,
           sum(f.history_without_item) as history_without_item,
           min(f.oldest_due_at) as oldest_due_at,
           pg_catalog.jsonb_build_object(
             'pending', sum(f.n) filter (where f.status = 'pending'),
             'rate_limited', sum(f.n) filter (where f.status = 'rate_limited'),
             'processing', sum(f.n) filter (where f.status = 'processing'),
             'verifying', sum(f.n) filter (where f.status = 'verifying'),
             'posted', sum(f.n) filter (where f.status = 'posted'),
             'failed', sum(f.n) filter (where f.status = 'failed'),
             'cancelled', sum(f.n) filter (where f.status = 'cancelled'),
             'needs_review', sum(f.n) filter (where f.status = 'needs_review')) as counts
      from facts f
     group by grouping sets ((), (f.platform), (f.workspace_id))
  ),
  shaped as (
    select s.scope, s.platform, s.workspace_id, s.failed, s.duplicates,
           s.past_lease + s.verifying_overdue + s.needs_review_overdue as stuck, s.posted + s.failed as finished,
           pg_catalog.jsonb_build_object(
             'finished', s.posted + s.failed,
             'posted', s.posted,
             'failed', s.failed,
             'success_rate', case when s.posted + s.failed > 0 then pg_catalog.round(s.posted::numeric / (s.posted + s.failed), 4) end,
             'time_to_post_seconds', pg_catalog.jsonb_build_object('p50', pg_catalog.round(s.p50::numeric, 3),
                                                                   'p95', pg_catalog.round(s.p95::numeric, 3)),
             'verified', s.verified,
             'verification_rate', case when s.posted + s.failed > 0 then pg_catalog.round(s.verified::numeric / (s.posted + s.failed), 4) end,
             'lookups', s.lookups,
             'lookups_unanswered', s.unanswered,
             'published', s.published,
             'duplicates', s.duplicates,
             'duplicate_rate', case when s.published > 0 then pg_catalog.round(s.duplicates::numeric / s.published, 4) end,
             'stuck', pg_catalog.jsonb_build_object('past_lease', s.past_lease, 'verifying_overdue', s.verifying_overdue,
                                                    'needs_review_overdue', s.needs_review_overdue),
             'orphaned', pg_catalog.jsonb_build_object('leases_not_recovered', s.leases_not_recovered,
                                                       'history_without_item', s.history_without_item),
             'oldest_due_at', s.oldest_due_at,
             'queue_lag_seconds', coalesce(pg_catalog.round(extract(epoch from v_to - s.oldest_due_at), 3), 0),
             -- jsonb_strip_nulls drops statuses with no items; zeros are written back below.
             'counts', '{"pending":0,"rate_limited":0,"processing":0,"verifying":0,"posted":0,"failed":0,"cancelled":0,"needs_review":0}'::jsonb
                       || pg_catalog.jsonb_strip_nulls(s.counts)) as metrics
      from scopes s
  )
  select pg_catalog.jsonb_build_object(
    'window', pg_catalog.jsonb_build_object('from', v_from, 'to', v_to, 'seconds', extract(epoch from p_window)::integer),
    'workspace_id', p_workspace_id,
    'overall', coalesce((select s.metrics from shaped s where s.scope = 3), '{}'::jsonb),
    'platforms', coalesce((
      select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('platform', s.platform) || s.metrics order by s.platform)
        from shaped s where s.scope = 1), '[]'::jsonb),
    'workspaces', coalesce((
      select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('workspace_id', t.workspace_id, 'name', w.name) || t.metrics
                                  order by t.failed desc, t.duplicates desc, t.stuck desc, t.finished desc, t.workspace_id)
        from (select s.* from shaped s where s.scope = 2
               order by s.failed desc, s.duplicates desc, s.stuck desc, s.finished desc, s.workspace_id limit 100) t
        join public.workspaces w on w.id = t.workspace_id), '[]'::jsonb),
    'warnings', coalesce((
      select pg_catalog.jsonb_agg(pg_catalog.to_jsonb(w))
        from (select * from private.scheduler_warnings() union all select * from private.ops_warnings()) w), '[]'::jsonb),
    'checked_at', v_to)
  into v_result;
  return v_result;
end
$$;

---------------------------------------------------------------------------------------------------
-- The operator's view of the schedule (as in 20261202000100) now carries the metrics' alerts too, so
-- GET /api/ops/scheduler lists every warning GET /api/health answers 503 for.
---------------------------------------------------------------------------------------------------
create or replace function public.scheduler_status() returns jsonb
language plpgsql stable
security definer
set search_path = ''
as $$
begin
  if not exists (select from private.operators o where o.user_id = auth.uid()) then
    raise exception 'Only operators of this installation can read the scheduler''s state.'
      using errcode = '42501', hint = 'An operator is added with SQL: docs/deploying.md, "Operators".';
  end if;
  return pg_catalog.jsonb_build_object(
    'warnings', coalesce((select pg_catalog.jsonb_agg(pg_catalog.to_jsonb(w))
                            from (select * from private.scheduler_warnings() union all select * from private.ops_warnings()) w),
                         '[]'::jsonb),
    'functions', coalesce((
      select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
        'function_name', s.function_name,
        'every_seconds', s.every_seconds,
        'enabled', s.enabled,
        'last_call_at', r.last_call_at,
        'last_status', r.last_status,
        'last_error', r.last_error,
        'last_success_at', r.last_success_at,
        'calls_last_hour', r.calls,
        'failures_last_hour', r.failures) order by s.function_name)
      from private.scheduled_functions s
      left join lateral (
        select max(c.called_at) as last_call_at,
               (array_agg(c.status_code order by c.called_at desc))[1] as last_status,
               (array_agg(c.error order by c.called_at desc))[1] as last_error,
               max(c.called_at) filter (where c.ok) as last_success_at,
               count(*) as calls,
               count(*) filter (where not c.ok) as failures
          from private.scheduled_call_results(pg_catalog.now() - interval '1 hour') c
         where c.function_name = s.function_name) r on true), '[]'::jsonb),
    'checked_at', pg_catalog.now());
end
$$;

---------------------------------------------------------------------------------------------------
-- The scheduler's warnings (as in 20261202000100), with queue_stalled read through an index that
-- exists: it runs on every health check and, on Supabase, every minute in the watchdog, and without
-- queue_items_claimable_idx it read every waiting item ten times (once per priority) and sorted them.
---------------------------------------------------------------------------------------------------
create or replace function private.scheduler_warnings()
returns table (code text, function_name text, since timestamptz, message text)
language plpgsql stable
security definer -- reads the queue across workspaces, for the health check's least-privilege role
set search_path = ''
as $$
declare
  f record;
  v_window interval;
  v_last record;
  v_last_ok timestamptz;
  v_failed integer;
  v_oldest_due timestamptz;
begin
  for f in select s.function_name, s.every_seconds, s.updated_at
             from private.scheduled_functions s where s.enabled order by s.function_name loop
    v_window := greatest(interval '5 minutes', pg_catalog.make_interval(secs => 3 * f.every_seconds));

    select r.called_at, r.status_code, r.error, r.ok into v_last
      from private.scheduled_call_results(pg_catalog.now() - v_window) r
     where r.function_name = f.function_name
     order by r.called_at desc limit 1;
    select max(c.called_at) filter (where c.ok), count(*) filter (where not c.ok)
      into v_last_ok, v_failed
      from private.scheduled_call_results(pg_catalog.now() - v_window) c
     where c.function_name = f.function_name;

    if v_last.called_at is not null and not v_last.ok then
      code := 'scheduled_call_failed';
      function_name := f.function_name;
      since := v_last.called_at;
      message := pg_catalog.format('%s answered %s at %s (%s failed call(s) in the last %s min). %s',
        f.function_name, coalesce(v_last.status_code::text, 'nothing'), private.utc_text(v_last.called_at), v_failed,
        extract(epoch from v_window)::integer / 60,
        private.scheduled_call_advice(v_last.status_code, v_last.error));
      return next;
    end if;

    -- Only once the function has been scheduled for a whole window: a new schedule starts quiet.
    if v_last_ok is null and f.updated_at < pg_catalog.now() - v_window then
      code := 'no_successful_call';
      function_name := f.function_name;
      select max(c.called_at) into since
        from private.scheduled_call_results(pg_catalog.now() - interval '7 days') c
       where c.function_name = f.function_name and c.ok;
      message := pg_catalog.format('No call of %s succeeded in the last %s min. %s', f.function_name,
        extract(epoch from v_window)::integer / 60,
        case when v_last.called_at is null
             then 'Nothing called it: on Supabase check `select * from cron.job` for pacer-' || f.function_name ||
                  ' and that migrations ran; locally, that `npm run dev` (its scheduler) is running.'
             else 'Every call failed (see scheduled_call_failed).' end);
      return next;
    end if;
  end loop;

  -- The symptom users see: posts due long ago and still waiting. One probe per workspace into
  -- queue_items_workspace_due_idx (workspace_id, run_at), whose predicate this repeats: the
  -- per-priority index the first version read was dropped in 20261201000300.
  select min(d.run_at) into v_oldest_due
    from public.workspaces w
    cross join lateral (
      select q.run_at from public.queue_items q
       where q.workspace_id = w.id and q.lease_id is null and q.status in ('pending', 'rate_limited', 'verifying')
       order by q.run_at limit 1) d;
  if v_oldest_due < pg_catalog.now() - interval '5 minutes' then
    code := 'queue_stalled';
    function_name := 'process-queue';
    since := v_oldest_due;
    message := pg_catalog.format(
      'The oldest due post has waited since %s: nothing is processing the queue (see the other warnings), '
      'or processing cannot keep up (run `npm run worker` processes beside the cron, docs/deploying.md).',
      private.utc_text(v_oldest_due));
    return next;
  end if;
end
$$;

revoke all on function private.ops_finished_items(timestamptz, timestamptz, uuid) from public, anon, authenticated, service_role;
revoke all on function private.ops_published_items(timestamptz, timestamptz, uuid) from public, anon, authenticated, service_role;
revoke all on function private.ops_warnings() from public, anon, authenticated, service_role;
revoke all on function public.ops_metrics(interval, uuid) from public, anon, service_role;
grant execute on function public.ops_metrics(interval, uuid) to authenticated;
-- The app's public health check runs as the least-privilege role: the alerts' codes, no details.
grant execute on function private.ops_warnings() to pacer_worker;

call private.hand_over_to_postgres();
