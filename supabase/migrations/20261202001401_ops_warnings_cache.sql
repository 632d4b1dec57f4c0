-- The publishing alerts (success_rate_low, duplicate_posts) are judged at most once a minute for the
-- whole installation, not on every call.
--
-- private.ops_warnings() read the last hour of finished items and of posting history on every call,
-- and GET /api/health calls it unauthenticated: each app process reuses an answer for 10 s
-- (lib/ops/scheduler.ts), but every process and every cold start paid the full read again, so
-- anyone could make the database rescan an hour of history at will. Measured with 194,000 posted
-- items and attempts in the last hour (EXPLAIN ANALYZE, warm cache): 2.0-2.8 s and 1.37M buffers a
-- judgement; an answer from the cache: 0.1 ms, 3 buffers.
--
-- Now the judgement is kept in private.ops_alerts_cache with the time it was made; a call answers
-- from it while it is under a minute old. When it is older, one caller judges again (the others,
-- meanwhile, answer from the previous judgement rather than queue behind it). The alerts describe
-- the last hour, so a minute's delay changes little: an alert appears, and clears, at most about
-- 70 s late on GET /api/health (60 s here plus the app's 10 s), and at most 60 s late for operators
-- (GET /api/ops/scheduler, GET /api/ops/metrics) and the watchdog, who read the same cache: one list
-- of alerts everywhere. The rules themselves are unchanged, in private.ops_warnings_now().

---------------------------------------------------------------------------------------------------
-- The judgement itself, as private.ops_warnings() was in 20261202000500 (same body).
---------------------------------------------------------------------------------------------------
create function private.ops_warnings_now()
returns table (code text, function_name text, since timestamptz, message text)
language plpgsql stable
security definer -- reads every workspace's items
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
-- The last judgement: one row.
---------------------------------------------------------------------------------------------------
create table private.ops_alerts_cache (
  id boolean primary key default true check (id),
  judged_at timestamptz not null,
  warnings jsonb not null
);
alter table private.ops_alerts_cache enable row level security;

-- Same name and answer as before (callers are unchanged); now volatile, since it may write the cache.
create or replace function private.ops_warnings()
returns table (code text, function_name text, since timestamptz, message text)
language plpgsql volatile
security definer -- reads every workspace's items and writes the cache, for the health check's least-privilege role
set search_path = ''
as $$
declare
  v_max_age constant interval := interval '60 seconds';
  v_cache private.ops_alerts_cache;
  v_warnings jsonb;
begin
  select * into v_cache from private.ops_alerts_cache c where c.id;
  -- Stale or missing: the caller that gets this lock judges again; the others answer from the
  -- previous judgement (or, before the first one exists, judge without storing).
  if v_cache.judged_at is null or v_cache.judged_at <= pg_catalog.now() - v_max_age then
    if pg_try_advisory_xact_lock(pg_catalog.hashtextextended('pacer/ops_warnings', 0)) then
      select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(w)), '[]'::jsonb) into v_warnings
        from private.ops_warnings_now() w;
      insert into private.ops_alerts_cache (id, judged_at, warnings) values (true, pg_catalog.now(), v_warnings)
      on conflict (id) do update set judged_at = excluded.judged_at, warnings = excluded.warnings;
    elsif v_cache.judged_at is null then
      return query select * from private.ops_warnings_now();
      return;
    end if;
  end if;
  return query
  select w.code, w.function_name, w.since, w.message
    from pg_catalog.jsonb_to_recordset(coalesce(v_warnings, v_cache.warnings))
         as w(code text, function_name text, since timestamptz, message text);
end
$$;

-- Their answers now come from a function that may write the cache.
alter function public.scheduler_status() volatile;
alter function public.ops_metrics(interval, uuid) volatile;

revoke all on table private.ops_alerts_cache from public, anon, authenticated, service_role;
revoke all on function private.ops_warnings_now() from public, anon, authenticated, service_role;
revoke all on function private.ops_warnings() from public, anon, authenticated, service_role;
grant execute on function private.ops_warnings() to pacer_worker;

call private.hand_over_to_postgres();
