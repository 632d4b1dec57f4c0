-- The health scan runs on a schedule, inside each platform's read pace, and the watchdog reports
-- every alert an operator should act on.

-- How fast Pacer may read account metrics on each platform (reads per minute, spread evenly by
-- lib/health/scan.ts). A scan reads each account about once an hour, far inside per-account limits
-- (e.g. Mastodon's 300 requests per 5 minutes per token, shared/platform-limits.md); this caps what
-- one run sends a platform as a whole after many accounts become due at once. Connectors for real
-- platforms set their own value with their migration.
alter table public.platforms
  add column scan_reads_per_minute integer not null default 300 check (scan_reads_per_minute between 1 and 60000);
update public.platforms set scan_reads_per_minute = 6000 where id = 'sandbox';

-- Every 5 minutes: each run takes the accounts due (hourly per account) oldest first, within its budget.
select private.schedule_function('scan-health', 300);

-- A scan may be limited to one workspace: "check all my accounts now" (POST /api/accounts/health/check-all)
-- scans that workspace's due accounts at once instead of waiting for the next scheduled run.
drop function private.claim_accounts_for_scan(text, integer, integer);
create function private.claim_accounts_for_scan(p_worker text, p_limit integer, p_lease_seconds integer default 120,
                                                p_workspace_id uuid default null)
returns table (account_id uuid, workspace_id uuid, platform text, handle text, credentials_encrypted text,
               lease_id uuid, lease_expires_at timestamptz)
language plpgsql security definer set search_path = ''
as $$
declare
  v_now timestamptz := clock_timestamp();
begin
  return query
  with due as (
    select s.account_id from private.account_health_state s
    where s.due_at <= v_now and (p_workspace_id is null or s.workspace_id = p_workspace_id)
    order by s.due_at
    limit p_limit
    for update skip locked
  ),
  -- due_at moves to the lease's end: a worker that dies leaves the account due again then.
  leased as (
    update private.account_health_state s set
      lease_id = gen_random_uuid(), lease_expires_at = v_now + p_lease_seconds * interval '1 second',
      due_at = v_now + p_lease_seconds * interval '1 second', worker = p_worker
    from due d where s.account_id = d.account_id
    returning s.account_id, s.lease_id, s.lease_expires_at
  )
  select l.account_id, a.workspace_id, a.platform, a.handle, a.credentials_encrypted, l.lease_id, l.lease_expires_at
  from leased l join public.social_accounts a on a.id = l.account_id
  order by l.account_id;
end
$$;
revoke all on function private.claim_accounts_for_scan(text, integer, integer, uuid) from public, anon, authenticated, service_role;
grant execute on function private.claim_accounts_for_scan(text, integer, integer, uuid) to pacer_worker;

-- Health storage upkeep (partitions ahead, daily rollups, retention) once a day, by whichever scan
-- run comes first after a day has passed: the scans run everywhere Pacer does (Edge Function, worker),
-- so no SQL-only cron job is needed, and one conditional update decides which run does it.
create table private.health_upkeep (
  id boolean primary key default true check (id),
  last_at timestamptz not null default '-infinity'
);
insert into private.health_upkeep default values;
alter table private.health_upkeep enable row level security;

create function private.maintain_health_storage_if_due() returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_due boolean;
begin
  update private.health_upkeep set last_at = pg_catalog.now()
   where id and last_at < pg_catalog.now() - interval '1 day'
  returning true into v_due;
  if v_due then
    return private.maintain_health_storage();
  end if;
  return null;
end
$$;
revoke all on function private.maintain_health_storage_if_due() from public, anon, authenticated, service_role;
grant execute on function private.maintain_health_storage_if_due() to pacer_worker;
-- The scan's role needs only the daily form: the argument form's retention could drop this month's
-- partitions. It stays with the owner (migrations, operators, benches).
revoke execute on function private.maintain_health_storage(interval, interval) from pacer_worker;

-- The watchdog fails on the publishing alerts too (success below 95 %, duplicates; 20261202000500),
-- not only on the schedule's warnings.
create or replace function private.raise_scheduler_warnings() returns void
language plpgsql
set search_path = ''
as $$
declare
  v_text text;
begin
  select string_agg(w.code || ': ' || w.message, E'\n') into v_text
    from (select * from private.scheduler_warnings() union all select * from private.ops_warnings()) w;
  if v_text is not null then
    raise exception 'Pacer scheduler warning(s):%', E'\n' || v_text
      using hint = 'docs/deploying.md, "When the cron fails"; docs/operations.md for the publishing alerts.';
  end if;
end
$$;
revoke all on function private.raise_scheduler_warnings() from public, anon, authenticated, service_role;

call private.hand_over_to_postgres();
