-- Which edge functions run on a schedule, and how often: the single source of truth for both
-- pg_cron + pg_net on Supabase and the local gateway's scheduler (local/gateway/scheduler.ts).
--
-- On Supabase the cron jobs read two Vault secrets: `project_url` and `secret_key`, which holds
-- PACER_CRON_SECRET (never the project's sb_secret_… key). `supabase db push` stores both from
-- [db.vault] in supabase/config.toml; docs/deploying.md gives the order. (Comment corrected in
-- place; 20261202000100_scheduled_calls.sql replaces the job's command and records every call.)
-- Locally there is no pg_cron: the gateway reads private.scheduled_functions and invokes the
-- functions itself, so everything below that touches cron, net or vault is dynamic SQL behind checks.

-- The tenancy migration creates it too; either may run first.
create schema if not exists private;
-- Never exposed through the API (it is not among the Data API's schemas). Usage stays with the
-- roles the tenancy migration grants it to, for its RLS helpers; nothing below is granted to them.
revoke all on schema private from public, anon;

-- Only on Supabase (where both extensions ship): a plain Postgres has neither and skips this.
do $$
begin
  if exists (select from pg_roles where rolname = 'supabase_admin')
     and exists (select from pg_available_extensions where name = 'pg_cron')
     and exists (select from pg_available_extensions where name = 'pg_net') then
    create extension if not exists pg_cron;
    create extension if not exists pg_net with schema extensions;
  end if;
end
$$;

create table private.scheduled_functions (
  function_name text primary key check (function_name ~ '^[a-z0-9][a-z0-9-]*$'),
  every_seconds int not null check (every_seconds between 1 and 86400),
  enabled boolean not null default true,
  updated_at timestamptz not null default now()
);
comment on table private.scheduled_functions is
  'Edge functions invoked on an interval: by pg_cron + pg_net on Supabase, by the local gateway otherwise. '
  'Change it through private.schedule_function / private.unschedule_function (or update enabled); a trigger keeps pg_cron in step.';
-- No policies: only the owner (and superusers) read it.
alter table private.scheduled_functions enable row level security;

-- True where the database itself invokes scheduled functions (pg_cron, pg_net and Vault are all
-- present). The local scheduler stands down when this is true, so nothing runs twice.
create function private.database_invokes_scheduled_functions() returns boolean
language sql stable
set search_path = ''
as $$
  select exists (select from pg_catalog.pg_extension where extname = 'pg_cron')
     and exists (select from pg_catalog.pg_extension where extname = 'pg_net')
     and pg_catalog.to_regclass('vault.decrypted_secrets') is not null
$$;

-- The pg_cron schedule for an interval. pg_cron takes '[1-59] seconds' or a cron expression, and
-- a cron expression only repeats evenly for steps that divide the hour or the day; other intervals
-- are refused here, on every database alike, rather than silently run at a different rate on Supabase.
create function private.cron_schedule_for(p_every_seconds int) returns text
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_every_seconds between 1 and 59 then
    return p_every_seconds || ' seconds';
  elsif p_every_seconds % 60 = 0 and p_every_seconds < 3600 and 60 % (p_every_seconds / 60) = 0 then
    return '*/' || (p_every_seconds / 60) || ' * * * *';
  elsif p_every_seconds = 86400 then
    return '0 0 * * *';
  elsif p_every_seconds % 3600 = 0 and 24 % (p_every_seconds / 3600) = 0 then
    return '0 */' || (p_every_seconds / 3600) || ' * * *';
  end if;
  raise exception 'every_seconds % cannot be a pg_cron schedule', p_every_seconds
    using hint = 'Use 1-59 seconds, a number of minutes dividing 60, or of hours dividing 24.';
end
$$;

-- Keeps the pg_cron job 'pacer-<name>' in step with each row, where pg_cron exists.
create function private.sync_scheduled_function() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_schedule text;
  v_command text;
  v_has_secrets boolean;
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
    execute 'select count(*) = 2 from vault.decrypted_secrets where name in (''project_url'', ''secret_key'')'
      into v_has_secrets;
    if not v_has_secrets then
      raise warning 'Vault has no project_url / secret_key yet: the cron job for % will fail until they are stored',
        new.function_name;
    end if;
    -- Runs as its own statement in pg_cron: everything schema-qualified. The secret key goes in
    -- both headers: the API gateway reads apikey, the function may read Authorization.
    v_command := pg_catalog.format(
      $cmd$select net.http_post(
  url := (select decrypted_secret from vault.decrypted_secrets where name = 'project_url') || %L,
  headers := pg_catalog.jsonb_build_object(
    'Content-Type', 'application/json',
    'Authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets where name = 'secret_key'),
    'apikey', (select decrypted_secret from vault.decrypted_secrets where name = 'secret_key')),
  body := '{}'::jsonb,
  timeout_milliseconds := 150000
)$cmd$,
      '/functions/v1/' || new.function_name);
    -- cron.schedule with a job name replaces that job's schedule and command.
    execute pg_catalog.format('select cron.schedule(%L, %L, %L)', 'pacer-' || new.function_name, v_schedule, v_command);
  end if;
  return null;
end
$$;

create trigger sync_cron
after insert or update or delete on private.scheduled_functions
for each row execute function private.sync_scheduled_function();

-- Run edge function p_function_name every p_every_seconds (and enable it). Called from migrations.
create function private.schedule_function(p_function_name text, p_every_seconds int) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into private.scheduled_functions (function_name, every_seconds, enabled, updated_at)
  values (p_function_name, p_every_seconds, true, pg_catalog.now())
  on conflict (function_name) do update
    set every_seconds = excluded.every_seconds, enabled = true, updated_at = excluded.updated_at;
end
$$;

-- Stop running p_function_name on a schedule (a no-op if it wasn't scheduled).
create function private.unschedule_function(p_function_name text) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from private.scheduled_functions where function_name = p_function_name;
end
$$;

-- Functions are executable by PUBLIC by default; these are for migrations (the owner) only.
revoke all on function private.database_invokes_scheduled_functions() from public, anon, authenticated, service_role;
revoke all on function private.cron_schedule_for(int) from public, anon, authenticated, service_role;
revoke all on function private.sync_scheduled_function() from public, anon, authenticated, service_role;
revoke all on function private.schedule_function(text, int) from public, anon, authenticated, service_role;
revoke all on function private.unschedule_function(text) from public, anon, authenticated, service_role;
