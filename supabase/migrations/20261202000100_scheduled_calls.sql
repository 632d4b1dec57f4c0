-- Scheduled calls leave a record, and a failing schedule is loud.
--
-- Before this, pg_cron reported every run as `succeeded` because the job only *queued* an HTTP
-- request (pg_net sends it later): a function answering 401 every minute, or a job that could not
-- even read its secrets, looked healthy everywhere an operator would look. Now:
--   * every call is a row in private.scheduled_calls: on Supabase the cron job records pg_net's
--     request id and the answer is read from net._http_response; locally the gateway's scheduler
--     records the answer itself;
--   * private.scheduler_warnings() says what is wrong, in words an operator can act on: the last
--     call failed, no call succeeded for a while, or due posts have waited too long;
--   * on Supabase a `pacer-watchdog` cron job raises those warnings as an error every minute, so
--     cron.job_run_details shows `failed` with the reason and Postgres' log carries it;
--   * the app serves them to operators (GET /api/ops/scheduler) and, without details, to monitors
--     (GET /api/health answers 503 while any warning stands).
--
-- The one secret: Vault's `secret_key` holds PACER_CRON_SECRET, the value the functions compare
-- against (`supabase secrets set PACER_CRON_SECRET=…`). It is sent once, as
-- `Authorization: Bearer …`. Not as `apikey`: with verify_jwt = false Supabase's gateway checks
-- neither header (https://supabase.com/docs/guides/functions/auth-headers), and apikey is where a
-- project API key belongs, which this secret is not.

create table private.scheduled_calls (
  id bigint generated always as identity primary key,
  function_name text not null,
  called_at timestamptz not null default now(),
  -- pg_net's request id (Supabase): the answer is read from net._http_response by this id.
  request_id bigint,
  -- The answer, where the caller saw it itself (the local scheduler).
  status_code integer,
  -- No answer: what went wrong (timeout, refused, secrets missing).
  error text,
  duration_ms integer
);
comment on table private.scheduled_calls is
  'One row per scheduled invocation of an edge function, kept 7 days; read through private.scheduled_call_results().';
create index scheduled_calls_function_idx on private.scheduled_calls (function_name, called_at desc);
create index scheduled_calls_called_at_idx on private.scheduled_calls (called_at);
alter table private.scheduled_calls enable row level security;

-- Calls with their answers. On Supabase the answer is pg_net's (kept 6 hours by pg_net); a call
-- with no answer 3 minutes after it was queued (the request times out at 150 s) counts as failed.
create function private.scheduled_call_results(p_since timestamptz)
returns table (function_name text, called_at timestamptz, status_code integer, error text, ok boolean)
language plpgsql stable
set search_path = ''
as $$
begin
  if pg_catalog.to_regclass('net._http_response') is not null then
    return query execute $q$
      select c.function_name, c.called_at,
             coalesce(c.status_code, r.status_code),
             coalesce(c.error, r.error_msg,
                      case when r.timed_out then 'timed out' end,
                      case when r.id is null and c.request_id is not null
                                and c.called_at < pg_catalog.now() - interval '3 minutes'
                           then 'no answer recorded by pg_net' end),
             coalesce(coalesce(c.status_code, r.status_code) between 200 and 299, false)
        from private.scheduled_calls c
        left join net._http_response r on r.id = c.request_id
       where c.called_at >= $1
         -- Still in flight: neither success nor failure yet.
         and not (c.request_id is not null and r.id is null and c.called_at >= pg_catalog.now() - interval '3 minutes')
    $q$ using p_since;
  else
    return query
      select c.function_name, c.called_at, c.status_code, c.error, coalesce(c.status_code between 200 and 299, false)
        from private.scheduled_calls c
       where c.called_at >= p_since
         and (c.status_code is not null or c.error is not null);
  end if;
end
$$;

-- A time as an operator reads it in a message.
create function private.utc_text(p_at timestamptz) returns text
language sql immutable
set search_path = ''
as $$ select pg_catalog.to_char(p_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"') $$;

-- What an operator should do about an answer.
create function private.scheduled_call_advice(p_status integer, p_error text) returns text
language sql immutable
set search_path = ''
as $$
  select case
    when p_error like 'Vault%' then p_error
    when p_status = 401 then
      'The function refused the cron secret: Vault''s secret_key must hold exactly the PACER_CRON_SECRET '
      'set with `supabase secrets set` (docs/deploying.md, step 2).'
    when p_status = 404 then 'The function is not deployed: run `supabase functions deploy`.'
    when p_status = 546 or p_status >= 500 then
      'The function failed: see its logs (Dashboard > Edge Functions > Logs, or the local dev log).'
    when p_error is not null then
      'The call got no answer (' || p_error || '): check Vault''s project_url and that the project is up.'
    else 'Unexpected answer: see the function''s logs.'
  end
$$;

-- The warnings an operator can alert on. Empty when all is well.
--   scheduled_call_failed  the latest answered call of a scheduled function was not 2xx
--   no_successful_call     no call of it succeeded for max(5 minutes, 3 intervals) (nothing calls it, or every call fails)
--   queue_stalled          a due post has waited longer than 5 minutes: nothing is processing, or not fast enough
create function private.scheduler_warnings()
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

  -- The symptom users see: posts due long ago and still waiting. Per priority, as the claim reads them.
  select min(d.run_at) into v_oldest_due
    from generate_series(1, 10) as p(priority)
    cross join lateral (
      select q.run_at from public.queue_items q
       where q.lease_id is null and q.status in ('pending', 'rate_limited', 'verifying')
         and q.priority = p.priority
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

-- Pruning old calls. Called by whoever records one, at most once a minute in effect (the index makes it cheap).
create function private.prune_scheduled_calls() returns void
language sql
set search_path = ''
as $$
  delete from private.scheduled_calls where called_at < pg_catalog.now() - interval '7 days'
$$;

-- The local scheduler's record of one call and its answer (pg_net's job on Supabase).
create function private.record_scheduled_call(p_function_name text, p_status_code integer, p_error text, p_duration_ms integer)
returns void
language plpgsql
set search_path = ''
as $$
begin
  insert into private.scheduled_calls (function_name, called_at, status_code, error, duration_ms)
  values (p_function_name, pg_catalog.now() - pg_catalog.make_interval(secs => coalesce(p_duration_ms, 0) / 1000.0),
          p_status_code, p_error, p_duration_ms);
  perform private.prune_scheduled_calls();
end
$$;

-- What the pg_cron job runs on Supabase: read the secrets, queue the call, record it. Missing
-- secrets become a recorded failure with the fix, not a job error nobody reads.
create function private.invoke_scheduled_function(p_function_name text) returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_url text;
  v_secret text;
  v_request bigint;
begin
  select s.decrypted_secret into v_url from vault.decrypted_secrets s where s.name = 'project_url';
  select s.decrypted_secret into v_secret from vault.decrypted_secrets s where s.name = 'secret_key';
  if coalesce(v_url, '') = '' or coalesce(v_secret, '') = '' then
    insert into private.scheduled_calls (function_name, error)
    values (p_function_name, 'Vault has no project_url and secret_key: store them (the [db.vault] section of '
                             'supabase/config.toml, applied by `supabase db push`; docs/deploying.md, step 3).');
    return null;
  end if;
  select net.http_post(
    url := pg_catalog.rtrim(v_url, '/') || '/functions/v1/' || p_function_name,
    headers := pg_catalog.jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || v_secret),
    body := '{}'::jsonb,
    timeout_milliseconds := 150000
  ) into v_request;
  insert into private.scheduled_calls (function_name, request_id) values (p_function_name, v_request);
  perform private.prune_scheduled_calls();
  return v_request;
end
$$;

-- The pg_cron watchdog's body: any warning fails the job, with the reason in cron.job_run_details.
create function private.raise_scheduler_warnings() returns void
language plpgsql
set search_path = ''
as $$
declare
  v_text text;
begin
  select string_agg(w.code || ': ' || w.message, E'\n') into v_text from private.scheduler_warnings() w;
  if v_text is not null then
    raise exception 'Pacer scheduler warning(s):%', E'\n' || v_text
      using hint = 'docs/deploying.md, "When the cron fails".';
  end if;
end
$$;

-- The same trigger as in 20261124000200, now scheduling the recorded call above.
create or replace function private.sync_scheduled_function() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_schedule text;
begin
  -- Validate even without pg_cron, so an interval that works locally works on Supabase.
  if tg_op <> 'DELETE' then
    v_schedule := private.cron_schedule_for(new.every_seconds);
  end if;

  if not private.database_invokes_scheduled_functions() then
    if tg_op <> 'DELETE' and new.enabled then
      raise notice 'pg_cron/pg_net not installed: the local gateway''s scheduler invokes % every % s',
        new.function_name, new.every_seconds;
    end if;
    return null;
  end if;

  -- The old job goes when the row is deleted, disabled or renamed.
  if tg_op = 'DELETE' or (tg_op = 'UPDATE' and (old.function_name <> new.function_name or not new.enabled)) then
    execute pg_catalog.format(
      'select cron.unschedule(jobid) from cron.job where jobname = %L', 'pacer-' || old.function_name);
  end if;

  if tg_op <> 'DELETE' and new.enabled then
    -- cron.schedule with a job name replaces that job's schedule and command.
    execute pg_catalog.format('select cron.schedule(%L, %L, %L)', 'pacer-' || new.function_name, v_schedule,
      pg_catalog.format('select private.invoke_scheduled_function(%L)', new.function_name));
    -- The watchdog goes wherever the calls go (same owner, same database): scheduled or replaced
    -- with every scheduled function, so re-scheduling them all also restores it.
    execute $w$select cron.schedule('pacer-watchdog', '* * * * *', 'select private.raise_scheduler_warnings()')$w$;
  end if;
  return null;
end
$$;

-- Re-schedule what is already scheduled, so existing jobs take the new command and the watchdog starts.
update private.scheduled_functions set updated_at = now();

---------------------------------------------------------------------------------------------------
-- Operators: the people who run this installation (not a workspace role). Added by SQL only:
--   insert into private.operators (user_id) select id from auth.users where email = '…';
---------------------------------------------------------------------------------------------------
create table private.operators (
  user_id uuid primary key references auth.users (id) on delete cascade,
  added_at timestamptz not null default now()
);
alter table private.operators enable row level security;

-- The schedule's state for an operator: each scheduled function's latest calls and the warnings.
-- The database holds the rule: anyone else gets 42501, whichever client asks.
create function public.scheduler_status() returns jsonb
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
    'warnings', coalesce((select pg_catalog.jsonb_agg(pg_catalog.to_jsonb(w)) from private.scheduler_warnings() w), '[]'::jsonb),
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

revoke all on function private.scheduled_call_results(timestamptz) from public, anon, authenticated, service_role;
revoke all on function private.scheduled_call_advice(integer, text) from public, anon, authenticated, service_role;
revoke all on function private.utc_text(timestamptz) from public, anon, authenticated, service_role;
revoke all on function private.scheduler_warnings() from public, anon, authenticated, service_role;
revoke all on function private.prune_scheduled_calls() from public, anon, authenticated, service_role;
revoke all on function private.record_scheduled_call(text, integer, text, integer) from public, anon, authenticated, service_role;
revoke all on function private.invoke_scheduled_function(text) from public, anon, authenticated, service_role;
revoke all on function private.raise_scheduler_warnings() from public, anon, authenticated, service_role;
revoke all on function public.scheduler_status() from public, anon, service_role;
grant execute on function public.scheduler_status() to authenticated;
-- The app's public health check runs as the least-privilege role: warnings only, no call details.
grant execute on function private.scheduler_warnings() to pacer_worker;
