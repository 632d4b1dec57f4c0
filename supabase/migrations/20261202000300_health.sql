-- Account health: metric snapshots over time, health rules as data (tunable per workspace within
-- bounds), alerts with hysteresis, an explainable 0–100 score, set-based evaluation, auto-pause,
-- destination holds, and the scan's lease-based claim and record. docs/health.md explains it all.
--
-- Storage: snapshots and scores are range-partitioned by month (raw rows kept 90 days, then their
-- partitions are dropped whole); a daily rollup per account is kept two years. An hourly scan of
-- 10,000 accounts writes 87.6M snapshot rows a year; only three months of them are ever on disk.

---------------------------------------------------------------------------------------------------
-- Pauses now have three reasons: the plan (billing), health (a rule or a person pausing at-risk
-- accounts) and manual (a person). The billing triggers already clear the reason on leaving 'paused'.
---------------------------------------------------------------------------------------------------
alter table public.social_accounts drop constraint social_accounts_paused_reason_check;
alter table public.social_accounts add constraint social_accounts_paused_reason_check
  check (paused_reason in ('plan_limit', 'health', 'manual'));

-- Writing health_score every scan must not log 10,000 audit rows an hour: score-only changes are
-- kept in the score series instead. Every other change of an account is logged as before.
drop trigger write_audit_log on public.social_accounts;
create trigger write_audit_log after insert or delete on public.social_accounts
  for each row execute function private.write_audit_log();
create trigger write_audit_log_update after update on public.social_accounts
  for each row
  when ((to_jsonb(old) - 'health_score' - 'updated_at') is distinct from (to_jsonb(new) - 'health_score' - 'updated_at'))
  execute function private.write_audit_log();

---------------------------------------------------------------------------------------------------
-- Health rules as data. direction 'above': fires when observed >= threshold, clears when observed
-- <= clear_threshold; 'below' the other way round. Between the two nothing changes (hysteresis).
---------------------------------------------------------------------------------------------------
create table public.health_rules (
  id text primary key check (id ~ '^[a-z][a-z_]*$'),
  name text not null,
  description text not null,
  unit text not null,
  direction text not null default 'above' check (direction in ('above', 'below')),
  severity text not null check (severity in ('info', 'warning', 'critical')),
  threshold numeric not null,
  clear_threshold numeric not null,
  -- What a workspace may set the threshold to.
  min_threshold numeric not null,
  max_threshold numeric not null,
  -- Points an open alert of this rule takes from the account's score of 100.
  points integer not null check (points between 0 and 100),
  advice text not null,
  enabled boolean not null default true,
  -- Rules that report a state the engine already holds the account in cannot be switched off.
  can_disable boolean not null default true,
  sort_order integer not null,
  check (min_threshold <= threshold and threshold <= max_threshold),
  check (case direction when 'above' then clear_threshold < threshold else clear_threshold > threshold end)
);

insert into public.health_rules (id, name, description, unit, direction, severity, threshold, clear_threshold,
                                 min_threshold, max_threshold, points, advice, can_disable, sort_order) values
  ('reach_decline', 'Reach decline',
   'Reach fell by this percentage or more against the median of the account''s snapshots of the previous 7 days (a possible shadowban).',
   '%', 'above', 'warning', 50, 40, 20, 90, 30,
   'Post less for a few days, avoid repeated text, links and hashtags, and check the platform for warnings on the account.', true, 1),
  ('engagement_drop', 'Engagement drop',
   'Engagement fell by this percentage or more against the median of the previous 7 days.',
   '%', 'above', 'warning', 50, 40, 20, 90, 20,
   'Review recent posts: change the format or timing, and avoid posting the same content across accounts.', true, 2),
  ('follower_loss', 'Follower loss',
   'Followers fell by this percentage or more against the median of the previous 7 days.',
   '%', 'above', 'warning', 5, 3, 1, 50, 15,
   'Check for a purge of inactive followers or a backlash to a recent post; slow posting down while it settles.', true, 3),
  ('publish_failures_consecutive', 'Repeated publish failures',
   'This many publish attempts in a row failed (in the last 7 days, since the last successful post).',
   'failures', 'above', 'warning', 3, 0, 2, 20, 20,
   'Open the posting history for the errors; reconnect the account if they are about authorisation.', true, 4),
  ('publish_failure_rate', 'Publish failure rate',
   'This percentage of publish attempts failed in the last 24 hours (evaluated from 5 attempts on).',
   '%', 'above', 'warning', 50, 25, 10, 90, 15,
   'Open the posting history for the errors; check the destinations and the content the platform refuses.', true, 5),
  ('inactive', 'Inactive',
   'No post and no activity for this many days (accounts that may publish only).',
   'days', 'above', 'info', 7, 1, 1, 90, 10,
   'Schedule a post, or pause the account if it is no longer used.', true, 6),
  ('token_expired', 'Authorisation expired',
   'The platform no longer accepts the account''s credentials (state needs reconnect).',
   'state', 'above', 'critical', 1, 0, 1, 1, 50,
   'Reconnect the account; its queued posts wait and go once it is reconnected.', false, 7),
  ('token_expiring', 'Authorisation expiring',
   'The account''s credentials expire within this many days (when the platform says when).',
   'days', 'below', 'warning', 3, 7, 1, 14, 10,
   'Reconnect the account before its authorisation runs out.', true, 8),
  ('restricted', 'Restricted',
   'The platform restricted the account (state restricted): nothing is posted until a person resumes it.',
   'state', 'above', 'critical', 1, 0, 1, 1, 60,
   'Check the account on the platform, resolve the restriction there, then resume it in Pacer. Its posts never move to another account.', false, 9),
  ('destination_rejections', 'Destination rejections',
   'One destination (a subreddit, group, channel) rejected this many posts in the last 24 hours; it is held for this account.',
   'rejections', 'above', 'info', 3, 0, 1, 20, 5,
   'Check the destination''s rules, then release it; the account''s other posts keep going.', true, 10);

create table public.workspace_health_rules (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  rule_id text not null references public.health_rules (id),
  enabled boolean,
  threshold numeric,
  clear_threshold numeric,
  updated_by uuid references auth.users (id) on delete set null,
  updated_at timestamptz not null default now(),
  primary key (workspace_id, rule_id)
);

-- A workspace tunes within the rule's bounds; the clear threshold stays on the safe side of it.
create function private.check_health_rule_override() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  r public.health_rules;
  v_threshold numeric;
  v_clear numeric;
begin
  select * into r from public.health_rules where id = new.rule_id;
  v_threshold := coalesce(new.threshold, r.threshold);
  v_clear := private.effective_clear_threshold(r.threshold, r.clear_threshold, new.threshold, new.clear_threshold);
  if v_threshold < r.min_threshold or v_threshold > r.max_threshold then
    raise exception 'The % threshold may be set between % and % %.', r.name, r.min_threshold, r.max_threshold, r.unit
      using errcode = 'P0001',
            detail = json_build_object('code', 'threshold_out_of_bounds', 'rule', r.id,
                                       'min', r.min_threshold, 'max', r.max_threshold)::text;
  end if;
  if (r.direction = 'above' and v_clear >= v_threshold) or (r.direction = 'below' and v_clear <= v_threshold)
     or v_clear < 0 then
    raise exception 'The % clear threshold must be % the threshold (%).', r.name,
      case r.direction when 'above' then 'below' else 'above' end, v_threshold
      using errcode = 'P0001',
            detail = json_build_object('code', 'clear_threshold_invalid', 'rule', r.id)::text;
  end if;
  if new.enabled is false and not r.can_disable then
    raise exception 'The % rule reports a state the account is already held in and cannot be switched off.', r.name
      using errcode = 'P0001', detail = json_build_object('code', 'rule_required', 'rule', r.id)::text;
  end if;
  new.updated_by := coalesce((select auth.uid()), new.updated_by);
  new.updated_at := now();
  return new;
end
$$;

-- The clear threshold in force: the workspace's own, or the default moved with its threshold.
create function private.effective_clear_threshold(
  p_threshold numeric, p_clear numeric, p_override_threshold numeric, p_override_clear numeric
) returns numeric
language sql immutable set search_path = ''
as $$
  select coalesce(p_override_clear,
                  case when p_override_threshold is null or p_threshold = 0 then p_clear
                       else p_clear * p_override_threshold / p_threshold end)
$$;

create trigger check_health_rule_override before insert or update on public.workspace_health_rules
  for each row execute function private.check_health_rule_override();

create table public.workspace_health_settings (
  workspace_id uuid primary key references public.workspaces (id) on delete cascade,
  -- off: alerts and score only; warn: also an audited warning when an account becomes at risk;
  -- pause: at-risk accounts are paused (score below pause_below_score, or a critical alert).
  auto_pause text not null default 'pause' check (auto_pause in ('off', 'warn', 'pause')),
  pause_below_score integer not null default 40 check (pause_below_score between 0 and 100),
  updated_by uuid references auth.users (id) on delete set null,
  updated_at timestamptz not null default now()
);

create function private.stamp_health_settings() returns trigger
language plpgsql set search_path = ''
as $$
begin
  new.updated_by := coalesce((select auth.uid()), new.updated_by);
  new.updated_at := now();
  return new;
end
$$;
create trigger stamp_health_settings before insert or update on public.workspace_health_settings
  for each row execute function private.stamp_health_settings();

-- Settings in force for a workspace (defaults when it chose none).
create function private.health_settings_of(p_workspace_id uuid)
returns table (auto_pause text, pause_below_score integer)
language sql stable security definer set search_path = ''
as $$
  select coalesce(s.auto_pause, 'pause'), coalesce(s.pause_below_score, 40)
  from (select 1) one left join public.workspace_health_settings s on s.workspace_id = p_workspace_id
$$;

---------------------------------------------------------------------------------------------------
-- Snapshots and scores: monthly range partitions, 90 days of raw rows, daily rollups for 2 years.
---------------------------------------------------------------------------------------------------
create table public.account_health_snapshots (
  account_id uuid not null,
  workspace_id uuid not null,
  taken_at timestamptz not null,
  -- Null when the read failed (read_error says why).
  reach bigint,
  engagement bigint,
  followers bigint,
  -- From the posting history since the previous snapshot.
  posts_published integer not null default 0,
  publish_failures integer not null default 0,
  last_activity_at timestamptz,
  read_error text,
  primary key (account_id, taken_at),
  foreign key (account_id, workspace_id) references public.social_accounts (id, workspace_id) on delete cascade
) partition by range (taken_at);

create table public.account_health_scores (
  account_id uuid not null,
  workspace_id uuid not null,
  scored_at timestamptz not null,
  score smallint not null check (score between 0 and 100),
  -- [{rule, name, severity, points, observed, threshold}], the points the score lost and why.
  breakdown jsonb not null default '[]',
  primary key (account_id, scored_at),
  foreign key (account_id, workspace_id) references public.social_accounts (id, workspace_id) on delete cascade
) partition by range (scored_at);

create table public.account_health_daily (
  account_id uuid not null,
  day date not null,
  workspace_id uuid not null,
  samples integer not null,
  reach_median numeric,
  engagement_median numeric,
  followers_last bigint,
  posts_published integer not null,
  publish_failures integer not null,
  last_activity_at timestamptz,
  -- The score in force at the end of the day (the score series is a step series).
  score_last smallint,
  primary key (account_id, day),
  foreign key (account_id, workspace_id) references public.social_accounts (id, workspace_id) on delete cascade
);
create index account_health_daily_workspace_idx on public.account_health_daily (workspace_id, day);

-- Creates the monthly partitions of both series from p_from's month for p_months months (idempotent).
-- Partitions live in private (not exposed), with RLS on and no grants: readers go through the parent.
create function private.ensure_health_partitions(p_from date, p_months integer)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_month date;
  v_table text;
  v_parent text;
  v_created integer := 0;
begin
  for v_month in select generate_series(date_trunc('month', p_from)::date,
                                        (date_trunc('month', p_from) + (p_months - 1) * interval '1 month')::date,
                                        interval '1 month')::date
  loop
    foreach v_parent in array array['account_health_snapshots', 'account_health_scores'] loop
      v_table := v_parent || '_p' || to_char(v_month, 'YYYYMM');
      if not exists (select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                     where n.nspname = 'private' and c.relname = v_table) then
        execute format('create table private.%I partition of public.%I for values from (%L) to (%L)',
                       v_table, v_parent, v_month::timestamptz, (v_month + interval '1 month')::timestamptz);
        execute format('alter table private.%I enable row level security', v_table);
        execute format('revoke all on private.%I from public, anon, authenticated', v_table);
        v_created := v_created + 1;
      end if;
    end loop;
  end loop;
  return v_created;
end
$$;

-- A row outside every month (a clock far off) still lands; maintenance keeps it from being needed.
create table private.account_health_snapshots_default partition of public.account_health_snapshots default;
create table private.account_health_scores_default partition of public.account_health_scores default;
alter table private.account_health_snapshots_default enable row level security;
alter table private.account_health_scores_default enable row level security;
select private.ensure_health_partitions((now() - interval '1 month')::date, 4);

-- Daily upkeep (the lead schedules it): partitions two months ahead, rollups of the last days,
-- raw partitions past retention dropped whole (cheap: no row-by-row delete, no bloat).
create function private.maintain_health_storage(
  p_raw_retention interval default interval '90 days',
  p_daily_retention interval default interval '2 years'
) returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_created integer;
  v_rolled integer;
  v_dropped text[] := '{}';
  v_part record;
  v_daily_deleted integer;
begin
  v_created := private.ensure_health_partitions(now()::date, 3);

  -- Days not finished yet are rolled up again on the next run; finished ones are final.
  insert into public.account_health_daily as d (account_id, day, workspace_id, samples, reach_median,
    engagement_median, followers_last, posts_published, publish_failures, last_activity_at, score_last)
  select g.*, sc.score
  from (
    select s.account_id, s.taken_at::date as day, s.workspace_id, count(*)::integer,
           percentile_cont(0.5) within group (order by s.reach),
           percentile_cont(0.5) within group (order by s.engagement),
           (array_agg(s.followers order by s.taken_at desc) filter (where s.followers is not null))[1],
           sum(s.posts_published)::integer, sum(s.publish_failures)::integer, max(s.last_activity_at)
    from public.account_health_snapshots s
    where s.taken_at >= current_date - 2
    group by s.account_id, s.taken_at::date, s.workspace_id
  ) g
  left join lateral (
    select x.score from public.account_health_scores x
    where x.account_id = g.account_id and x.scored_at < g.day + 1
    order by x.scored_at desc limit 1
  ) sc on true
  on conflict (account_id, day) do update set
    samples = excluded.samples, reach_median = excluded.reach_median, engagement_median = excluded.engagement_median,
    followers_last = excluded.followers_last, posts_published = excluded.posts_published,
    publish_failures = excluded.publish_failures, last_activity_at = excluded.last_activity_at,
    score_last = excluded.score_last;
  get diagnostics v_rolled = row_count;

  for v_part in
    select c.relname, pc.relname as parent
    from pg_catalog.pg_inherits i
    join pg_catalog.pg_class c on c.oid = i.inhrelid
    join pg_catalog.pg_class pc on pc.oid = i.inhparent
    join pg_catalog.pg_namespace pn on pn.oid = pc.relnamespace
    where pn.nspname = 'public' and pc.relname in ('account_health_snapshots', 'account_health_scores')
      and c.relname ~ '_p[0-9]{6}$'
      -- The partition's whole month (its upper bound) is older than the retention.
      and (to_date(right(c.relname, 6), 'YYYYMM') + interval '1 month') < now() - p_raw_retention
  loop
    execute format('alter table public.%I detach partition private.%I', v_part.parent, v_part.relname);
    execute format('drop table private.%I', v_part.relname);
    v_dropped := v_dropped || v_part.relname::text;
  end loop;

  delete from public.account_health_daily where day < (now() - p_daily_retention)::date;
  get diagnostics v_daily_deleted = row_count;

  return jsonb_build_object('partitions_created', v_created, 'days_rolled_up', v_rolled,
                            'partitions_dropped', to_jsonb(v_dropped), 'daily_rows_deleted', v_daily_deleted);
end
$$;

---------------------------------------------------------------------------------------------------
-- Alerts: one open alert per account and rule.
---------------------------------------------------------------------------------------------------
create table public.health_alerts (
  id bigint generated always as identity primary key,
  workspace_id uuid not null,
  account_id uuid not null,
  rule_id text not null references public.health_rules (id),
  severity text not null check (severity in ('info', 'warning', 'critical')),
  observed numeric,
  baseline numeric,
  threshold numeric not null,
  clear_threshold numeric not null,
  message text not null,
  advice text not null,
  opened_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  resolved_at timestamptz,
  resolution text,
  acknowledged_at timestamptz,
  acknowledged_by uuid references auth.users (id) on delete set null,
  foreign key (account_id, workspace_id) references public.social_accounts (id, workspace_id) on delete cascade
);
create unique index health_alerts_one_open on public.health_alerts (account_id, rule_id) where resolved_at is null;
create index health_alerts_workspace_idx on public.health_alerts (workspace_id, opened_at desc);
create index health_alerts_open_idx on public.health_alerts (workspace_id, severity) where resolved_at is null;

---------------------------------------------------------------------------------------------------
-- Destination holds: one destination held for one account; only posts to it wait.
---------------------------------------------------------------------------------------------------
create table public.destination_holds (
  id bigint generated always as identity primary key,
  workspace_id uuid not null,
  account_id uuid not null,
  destination text not null,
  rejections integer not null,
  reason text not null,
  held_at timestamptz not null default now(),
  released_at timestamptz,
  released_by uuid references auth.users (id) on delete set null,
  foreign key (account_id, workspace_id) references public.social_accounts (id, workspace_id) on delete cascade
);
create unique index destination_holds_one_active on public.destination_holds (account_id, destination)
  where released_at is null;
create index destination_holds_workspace_idx on public.destination_holds (workspace_id, held_at desc);

-- Items to a held destination never leave 'infinity': not when they are queued, not when their
-- account resumes, not when a retry is scheduled. The claim itself is untouched.
create function private.destination_hold_message(p_destination text)
returns text language sql immutable set search_path = ''
as $$ select 'Held: ' || p_destination || ' keeps rejecting this account''s posts; release the destination to send it.' $$;

create function private.keep_held_destination_items() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if exists (select 1 from public.destination_holds h
             join public.posts p on p.id = new.post_id and p.destination = h.destination
             where h.account_id = new.account_id and h.released_at is null) then
    new.run_at := 'infinity';
    new.last_error := private.destination_hold_message((select p.destination from public.posts p where p.id = new.post_id));
  end if;
  return new;
end
$$;
create trigger keep_held_destination_items before update on public.queue_items
  for each row
  when (new.status in ('pending', 'rate_limited') and new.run_at <> 'infinity'
        and (old.run_at = 'infinity' or old.status not in ('pending', 'rate_limited')))
  execute function private.keep_held_destination_items();

-- New items: one set-based statement per insert, nothing when the accounts have no hold.
create function private.hold_new_items_for_held_destinations() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  -- Almost always: no destination is held anywhere, and one index probe says so.
  if not exists (select 1 from public.destination_holds h where h.released_at is null) then
    return null;
  end if;
  update public.queue_items q set run_at = 'infinity', last_error = private.destination_hold_message(h.destination)
  from new_rows n
  join public.destination_holds h on h.account_id = n.account_id and h.released_at is null
  join public.posts p on p.id = n.post_id and p.destination = h.destination
  where q.id = n.id and n.status in ('pending', 'rate_limited') and q.run_at <> 'infinity';
  return null;
end
$$;
create trigger hold_new_items_for_held_destinations after insert on public.queue_items
  referencing new table as new_rows
  for each statement execute function private.hold_new_items_for_held_destinations();

---------------------------------------------------------------------------------------------------
-- Scan state per account: when it is due, its lease, what the last read said. Not exposed.
---------------------------------------------------------------------------------------------------
create table private.account_health_state (
  account_id uuid primary key references public.social_accounts (id) on delete cascade,
  workspace_id uuid not null,
  due_at timestamptz not null default now(),
  lease_id uuid,
  lease_expires_at timestamptz,
  worker text,
  last_scanned_at timestamptz,
  last_snapshot_at timestamptz,
  last_read_error text,
  token_expires_at timestamptz,
  -- A person resumed it: auto-pause then waits for an alert opened after this.
  resumed_at timestamptz,
  resumed_by uuid,
  -- The latest snapshot's figures (kept by a trigger on the snapshots), so evaluating an account
  -- reads no snapshot at all unless its baseline is due.
  latest_taken_at timestamptz,
  latest_reach float8,
  latest_engagement float8,
  latest_followers float8,
  latest_activity_at timestamptz,
  -- The median of the previous 7 days' snapshots, and when it was computed (evaluation keeps it).
  baseline_reach float8,
  baseline_engagement float8,
  baseline_followers float8,
  baseline_samples integer,
  baseline_at timestamptz
);
create index account_health_state_due_idx on private.account_health_state (due_at);
create index account_health_state_workspace_idx on private.account_health_state (workspace_id);
alter table private.account_health_state enable row level security;

insert into private.account_health_state (account_id, workspace_id)
select id, workspace_id from public.social_accounts
on conflict do nothing;

create function private.start_account_health() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into private.account_health_state (account_id, workspace_id)
  select n.id, n.workspace_id from new_rows n
  on conflict do nothing;
  return null;
end
$$;
create trigger start_account_health after insert on public.social_accounts
  referencing new table as new_rows
  for each statement execute function private.start_account_health();

-- Every snapshot insert statement brings its accounts' latest figures into the scan state: one
-- set-based update per statement (the scan writes a batch in one statement).
create function private.keep_latest_snapshot() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  update private.account_health_state st set
    latest_taken_at = n.taken_at, latest_reach = n.reach, latest_engagement = n.engagement,
    latest_followers = n.followers, latest_activity_at = n.last_activity_at
  from (select distinct on (r.account_id) r.* from new_rows r order by r.account_id, r.taken_at desc) n
  where st.account_id = n.account_id and (st.latest_taken_at is null or st.latest_taken_at <= n.taken_at);
  return null;
end
$$;
create trigger keep_latest_snapshot after insert on public.account_health_snapshots
  referencing new table as new_rows
  for each statement execute function private.keep_latest_snapshot();

-- How often each account is read. Just under an hour, so an hourly scan never skips one.
create function private.health_scan_interval()
returns interval language sql immutable set search_path = ''
as $$ select interval '55 minutes' $$;

---------------------------------------------------------------------------------------------------
-- Audit: who (a person) or which rule (actor null, the rule in new_values) paused, resumed, decided.
---------------------------------------------------------------------------------------------------
create function private.audit_health(p_workspace_id uuid, p_actor uuid, p_action text, p_entity text,
                                     p_entity_id text, p_values jsonb)
returns void
language sql security definer set search_path = ''
as $$
  insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, new_values)
  values (p_workspace_id, p_actor, p_action, p_entity, p_entity_id, p_values)
$$;

---------------------------------------------------------------------------------------------------
-- Evaluation: every rule for every given account in a few set-based statements.
---------------------------------------------------------------------------------------------------
create function private.evaluate_account_health(p_account_ids uuid[])
returns table (accounts_evaluated integer, alerts_opened integer, alerts_resolved integer, scores_written integer,
               accounts_paused integer, accounts_warned integer, destinations_held integer)
language plpgsql security definer set search_path = ''
as $$
declare
  v_now timestamptz := now();
  v_failures constant text[] := array['retryable', 'permanent', 'destination_rejected', 'auth_expired', 'restricted'];
  v_evaluated integer;
  v_opened integer;
  v_resolved integer;
  v_scores integer;
  v_paused integer;
  v_warned integer;
  v_held integer;
begin
  drop table if exists pg_temp.health_observations;
  drop table if exists pg_temp.health_opened;
  drop table if exists pg_temp.health_touched;

  -- 1. Baselines: the median of the previous 7 days' snapshots (not counting the latest), kept per
  --    account and refreshed when a day old (a 7-day median moves slowly; recomputing it on every
  --    scan was most of an evaluation's cost), and on every evaluation while an account has fewer
  --    than a day of snapshots, so a new account's first snapshot starts it at once.
  update private.account_health_state st set
    baseline_reach = b.reach, baseline_engagement = b.engagement, baseline_followers = b.followers,
    baseline_samples = b.samples, baseline_at = v_now
  from (
    select s.account_id, m.reach, m.engagement, m.followers, m.samples
    from private.account_health_state s
    cross join lateral (
      select percentile_cont(0.5) within group (order by x.reach) as reach,
             percentile_cont(0.5) within group (order by x.engagement) as engagement,
             percentile_cont(0.5) within group (order by x.followers) as followers,
             count(*)::integer as samples
      from public.account_health_snapshots x
      where x.account_id = s.account_id
        and x.taken_at >= s.latest_taken_at - interval '7 days' and x.taken_at < s.latest_taken_at
    ) m
    where s.account_id = any (p_account_ids) and s.latest_taken_at is not null
      and (s.baseline_at is null or s.baseline_at < v_now - interval '1 day' or s.baseline_samples < 24)
  ) b
  where st.account_id = b.account_id;

  -- 2. What each rule sees for each account, with the workspace's thresholds. Arithmetic in float8.
  create temp table health_observations on commit drop as
  with acc as (
    select a.id, a.workspace_id, a.state, a.created_at, st.token_expires_at,
           st.baseline_reach, st.baseline_engagement, st.baseline_followers,
           st.latest_reach as reach, st.latest_engagement as engagement, st.latest_followers as followers,
           st.latest_activity_at as last_activity_at
    from public.social_accounts a
    left join private.account_health_state st on st.account_id = a.id
    where a.id = any (p_account_ids)
  ),
  facts as materialized (
    select acc.*,
           p.attempts, p.failures, p.last_posted,
           -- Only accounts with failures (or rejections) this week pay for the second look.
           case when p.failures_week = 0 then 0 else (
             select count(*) from public.posting_history h
             where h.account_id = acc.id and h.kind = 'publish' and h.outcome = any (v_failures)
               and h.finished_at > greatest(v_now - interval '7 days', p.last_posted)) end as consecutive,
           case when p.rejections = 0 then 0 else (
             select max(g.n) from (
               select count(*) as n from public.posting_history h
               where h.account_id = acc.id and h.outcome = 'destination_rejected' and h.destination is not null
                 and h.finished_at > v_now - interval '24 hours'
                 -- A released destination starts counting again from its release.
                 and h.finished_at > coalesce((select max(dh.released_at) from public.destination_holds dh
                                               where dh.account_id = acc.id and dh.destination = h.destination), '-infinity')
               group by h.destination) g) end as max_rejections,
           -- No post this week: the last one ever (looked up only then).
           coalesce(p.last_posted, case when acc.state in ('connected', 'active') then (
             select max(h.finished_at) from public.posting_history h
             where h.account_id = acc.id and h.outcome in ('posted', 'found')) end) as last_posted_ever
    from acc
    cross join lateral (
      select count(*) filter (where h.finished_at > v_now - interval '24 hours' and h.kind = 'publish'
                              and (h.outcome = 'posted' or h.outcome = any (v_failures))) as attempts,
             count(*) filter (where h.finished_at > v_now - interval '24 hours' and h.kind = 'publish'
                              and h.outcome = any (v_failures)) as failures,
             count(*) filter (where h.kind = 'publish' and h.outcome = any (v_failures)) as failures_week,
             count(*) filter (where h.finished_at > v_now - interval '24 hours' and h.outcome = 'destination_rejected'
                              and h.destination is not null) as rejections,
             max(h.finished_at) filter (where h.outcome in ('posted', 'found')) as last_posted
      from public.posting_history h
      where h.account_id = acc.id and h.finished_at > v_now - interval '7 days'
    ) p
  ),
  -- Materialized: per workspace and rule once, not per account (functions with a pinned
  -- search_path are never inlined, and each call costs microseconds).
  rules as materialized (
    select w.workspace_id, r.id as rule_id, r.name, r.description, r.unit, r.direction, r.severity, r.points, r.advice,
           r.enabled and coalesce(o.enabled, true) as enabled,
           coalesce(o.threshold, r.threshold) as threshold,
           private.effective_clear_threshold(r.threshold, r.clear_threshold, o.threshold, o.clear_threshold) as clear_threshold
    from (select distinct acc.workspace_id from acc) w
    cross join public.health_rules r
    left join public.workspace_health_rules o on o.workspace_id = w.workspace_id and o.rule_id = r.id
  ),
  observed as materialized (
    select f.id, f.workspace_id, f.state, v.rule_id, v.observed, v.baseline
    from facts f
    cross join lateral (values
      ('reach_decline', case when f.baseline_reach > 0 then 100 * (1 - f.reach / f.baseline_reach) end, f.baseline_reach),
      ('engagement_drop', case when f.baseline_engagement > 0 then 100 * (1 - f.engagement / f.baseline_engagement) end,
       f.baseline_engagement),
      ('follower_loss', case when f.baseline_followers > 0 then 100 * (1 - f.followers / f.baseline_followers) end,
       f.baseline_followers),
      ('publish_failures_consecutive', f.consecutive::float8, null),
      ('publish_failure_rate', case when f.attempts >= 5 then 100.0 * f.failures / f.attempts end, null),
      -- private.account_can_publish, written out: a function with a pinned search_path is not inlined.
      ('inactive', case when f.state in ('connected', 'active') then
         date_part('epoch', v_now - greatest(f.last_activity_at, f.last_posted_ever, f.created_at)) / 86400 end, null),
      ('token_expired', (f.state = 'needs_reconnect')::integer::float8, null),
      ('token_expiring', date_part('epoch', f.token_expires_at - v_now) / 86400, null),
      ('restricted', (f.state = 'restricted')::integer::float8, null),
      ('destination_rejections', coalesce(f.max_rejections, 0)::float8, null::float8)
    ) as v (rule_id, observed, baseline)
  )
  select f.id as account_id, f.workspace_id, f.state, f.rule_id, round(f.observed::numeric, 2) as observed,
         round(f.baseline::numeric, 2) as baseline,
         ru.severity, ru.points, ru.enabled, ru.threshold, ru.clear_threshold,
         case when f.observed is null then null
              when ru.direction = 'above' then f.observed >= ru.threshold::float8
              else f.observed <= ru.threshold::float8 end as fires,
         case when f.observed is null then null
              when ru.direction = 'above' then f.observed <= ru.clear_threshold::float8
              else f.observed >= ru.clear_threshold::float8 end as clears
  from observed f
  join rules ru on ru.workspace_id = f.workspace_id and ru.rule_id = f.rule_id;
  get diagnostics v_evaluated = row_count;
  create index on pg_temp.health_observations (account_id, rule_id);
  -- Accounts whose alerts changed in this evaluation (their breakdown changes).
  create temp table health_touched (account_id uuid) on commit drop;

  -- 3. Resolve what cleared past its clear threshold, or whose rule the workspace switched off.
  --    Missing data (a failed read, no baseline) leaves an open alert open.
  with resolved as (
    update public.health_alerts al set
      resolved_at = v_now, observed = coalesce(o.observed, al.observed),
      resolution = case when not o.enabled then 'rule disabled' else 'cleared' end
    from pg_temp.health_observations o
    where al.account_id = o.account_id and al.rule_id = o.rule_id and al.resolved_at is null
      and (not o.enabled or o.clears)
    returning al.account_id
  ),
  touched as (insert into pg_temp.health_touched select r.account_id from resolved r)
  select count(*) into v_resolved from resolved;

  -- 4. Open alerts still firing or in the band between thresholds: refresh what was seen.
  with refreshed as (
    update public.health_alerts al set observed = o.observed, baseline = coalesce(o.baseline, al.baseline),
           last_seen_at = v_now
    from pg_temp.health_observations o
    where al.account_id = o.account_id and al.rule_id = o.rule_id and al.resolved_at is null and o.observed is not null
      and al.observed is distinct from o.observed
    returning al.account_id
  )
  insert into pg_temp.health_touched select r.account_id from refreshed r;

  -- 5. Open what crossed its threshold and has no open alert.
  create temp table health_opened on commit drop as
  with opened as (
    insert into public.health_alerts (workspace_id, account_id, rule_id, severity, observed, baseline, threshold,
                                      clear_threshold, message, advice, opened_at, last_seen_at)
    select o.workspace_id, o.account_id, o.rule_id, o.severity, o.observed, o.baseline, o.threshold, o.clear_threshold,
           case when r.unit = 'state' then r.name || ': ' || r.description
                else r.name || ': ' || trim_scale(o.observed) || ' ' || r.unit
                     || case when o.baseline is not null then ' against a baseline of ' || trim_scale(o.baseline) else '' end
                     || ' (threshold ' || trim_scale(o.threshold) || ' ' || r.unit || ').' end,
           r.advice, v_now, v_now
    from pg_temp.health_observations o
    join public.health_rules r on r.id = o.rule_id
    where o.enabled and o.fires
    on conflict (account_id, rule_id) where resolved_at is null do nothing
    returning account_id, rule_id, severity
  )
  select * from opened;
  select count(*) into v_opened from pg_temp.health_opened;

  -- 6. The score: 100 minus the points of every open alert, with the breakdown that explains it.
  --    A row joins the series when an account's score or its alerts change (a step series: an
  --    account without rows has been at 100 all along).
  with lost as (
    select o.account_id,
           sum(o.points) as points,
           jsonb_agg(jsonb_build_object('rule', o.rule_id, 'name', r.name, 'severity', o.severity,
                                        'points', o.points, 'observed', al.observed, 'threshold', o.threshold)
                     order by o.points desc, o.rule_id) as breakdown
    from public.health_alerts al
    join pg_temp.health_observations o on o.account_id = al.account_id and o.rule_id = al.rule_id and o.enabled
    join public.health_rules r on r.id = o.rule_id
    where al.account_id = any (p_account_ids) and al.resolved_at is null
    group by o.account_id
  ),
  scored as (
    select a.id as account_id, a.workspace_id, a.health_score as previous,
           greatest(0, 100 - coalesce(l.points, 0))::smallint as score, coalesce(l.breakdown, '[]') as breakdown
    from public.social_accounts a
    left join lost l on l.account_id = a.id
    where a.id = any (p_account_ids)
  ),
  series as (
    insert into public.account_health_scores (account_id, workspace_id, scored_at, score, breakdown)
    select s.account_id, s.workspace_id, v_now, s.score, s.breakdown
    from scored s
    where s.previous is distinct from s.score
       or s.account_id in (select t.account_id from pg_temp.health_touched t)
       or s.account_id in (select op.account_id from pg_temp.health_opened op)
    on conflict (account_id, scored_at) do update set score = excluded.score, breakdown = excluded.breakdown
  ),
  written as (
    update public.social_accounts a set health_score = s.score
    from scored s where a.id = s.account_id and a.health_score is distinct from s.score
  )
  select count(*) into v_scores from scored;

  -- 7. Destination holds: one destination rejecting again and again holds only its posts.
  with due as (
    select h.account_id, h.workspace_id, h.destination, count(*)::integer as rejections
    from pg_temp.health_observations o
    join public.posting_history h on h.account_id = o.account_id
    where o.rule_id = 'destination_rejections' and o.enabled and o.fires
      and h.outcome = 'destination_rejected' and h.destination is not null
      and h.finished_at > v_now - interval '24 hours'
      and h.finished_at > coalesce((select max(dh.released_at) from public.destination_holds dh
                                    where dh.account_id = h.account_id and dh.destination = h.destination), '-infinity')
    group by h.account_id, h.workspace_id, h.destination, o.threshold
    having count(*) >= o.threshold
  ),
  held as (
    insert into public.destination_holds (workspace_id, account_id, destination, rejections, reason)
    select d.workspace_id, d.account_id, d.destination, d.rejections,
           d.destination || ' rejected ' || d.rejections || ' posts in 24 hours.'
    from due d
    on conflict (account_id, destination) where released_at is null do nothing
    returning id, workspace_id, account_id, destination, rejections
  ),
  parked as (
    update public.queue_items q set run_at = 'infinity', last_error = private.destination_hold_message(h.destination)
    from held h, public.posts p
    where q.account_id = h.account_id and p.id = q.post_id and p.destination = h.destination
      and q.status in ('pending', 'rate_limited') and q.lease_id is null and q.run_at <> 'infinity'
  ),
  audited as (
    insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, new_values)
    select h.workspace_id, null, 'destination_hold', 'social_accounts', h.account_id::text,
           jsonb_build_object('rule', 'destination_rejections', 'destination', h.destination,
                              'rejections', h.rejections, 'hold_id', h.id)
    from held h
  )
  select count(*) into v_held from held;

  -- 8. Auto-pause. At risk: a score below the workspace's threshold, or an open critical alert.
  --    After a person resumed an account, only an alert opened since then pauses it again.
  with at_risk as (
    select a.id, a.workspace_id, a.health_score, coalesce(cfg.auto_pause, 'pause') as auto_pause,
           (select jsonb_agg(al.rule_id order by al.rule_id) from public.health_alerts al
            where al.account_id = a.id and al.resolved_at is null) as rules
    from public.social_accounts a
    left join private.account_health_state st on st.account_id = a.id
    -- Defaults as in private.health_settings_of (joined, not called per account).
    left join public.workspace_health_settings cfg on cfg.workspace_id = a.workspace_id
    where a.id = any (p_account_ids)
      and a.state in ('connected', 'active')  -- private.account_can_publish
      and coalesce(cfg.auto_pause, 'pause') <> 'off'
      and (a.health_score < coalesce(cfg.pause_below_score, 40)
           or exists (select 1 from public.health_alerts al where al.account_id = a.id and al.resolved_at is null
                      and al.severity = 'critical'))
      and exists (select 1 from public.health_alerts al where al.account_id = a.id and al.resolved_at is null
                  and al.opened_at > coalesce(st.resumed_at, '-infinity'))
  ),
  paused as (
    update public.social_accounts a set
      state = 'paused', paused_reason = 'health', state_before_pause = a.state,
      last_error = 'Paused by account health (score ' || r.health_score || '); resume it when the alerts are dealt with.'
    from at_risk r
    where a.id = r.id and r.auto_pause = 'pause'
    returning a.id, a.workspace_id
  ),
  audited as (
    insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, new_values)
    select r.workspace_id, null,
           case when r.auto_pause = 'pause' then 'health_pause' else 'health_warning' end,
           'social_accounts', r.id::text,
           jsonb_build_object('by', 'rule', 'rules', r.rules, 'score', r.health_score, 'auto_pause', r.auto_pause)
    from at_risk r
    -- A warning is written once per episode: when this evaluation opened one of its alerts.
    where r.auto_pause = 'pause' or r.id in (select op.account_id from pg_temp.health_opened op)
    returning new_values ->> 'auto_pause' as mode
  )
  select (select count(*) from paused), (select count(*) from audited where mode = 'warn')
  into v_paused, v_warned;

  -- One observation per rule for each account evaluated.
  return query select (v_evaluated / (select count(*) from public.health_rules))::integer,
                      v_opened, v_resolved, v_scores, v_paused, v_warned, v_held;
end
$$;

---------------------------------------------------------------------------------------------------
-- The scan: claim accounts due for a read (lease-based, SKIP LOCKED, oldest due first), then record
-- what was read and evaluate those accounts in the same call.
---------------------------------------------------------------------------------------------------
create function private.claim_accounts_for_scan(p_worker text, p_limit integer, p_lease_seconds integer default 120)
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
    where s.due_at <= v_now
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

-- p_results: [{account_id, lease_id, reach, engagement, followers, last_activity_at?, token_expires_at?, error?}]
-- A result whose lease is no longer the account's (expired and claimed again) changes nothing.
create function private.record_health_scan(p_results jsonb)
returns table (recorded integer, ignored integer, accounts_evaluated integer, alerts_opened integer,
               alerts_resolved integer, scores_written integer, accounts_paused integer, accounts_warned integer,
               destinations_held integer)
language plpgsql security definer set search_path = ''
as $$
declare
  v_now timestamptz := now();
  v_ids uuid[];
  v_total integer;
begin
  v_total := jsonb_array_length(p_results);
  -- Cheap when they exist (two catalog lookups); keeps rows out of the default partition even if
  -- the daily upkeep has not run.
  perform private.ensure_health_partitions(v_now::date, 2);
  with r as (
    select x.* from jsonb_to_recordset(p_results) as x(
      account_id uuid, lease_id uuid, reach bigint, engagement bigint, followers bigint,
      last_activity_at timestamptz, token_expires_at timestamptz, error text)
  ),
  prev as (
    select s.account_id, s.workspace_id, s.last_snapshot_at
    from private.account_health_state s join r on r.account_id = s.account_id and r.lease_id = s.lease_id
    for update of s
  ),
  released as (
    update private.account_health_state s set
      lease_id = null, lease_expires_at = null, worker = null,
      due_at = v_now + private.health_scan_interval(), last_scanned_at = v_now, last_snapshot_at = v_now,
      last_read_error = r.error, token_expires_at = coalesce(r.token_expires_at, s.token_expires_at)
    from prev p join r on r.account_id = p.account_id
    where s.account_id = p.account_id
  ),
  snap as (
    insert into public.account_health_snapshots (account_id, workspace_id, taken_at, reach, engagement, followers,
      posts_published, publish_failures, last_activity_at, read_error)
    select p.account_id, p.workspace_id, v_now,
           case when r.error is null then r.reach end, case when r.error is null then r.engagement end,
           case when r.error is null then r.followers end,
           h.published, h.failures, greatest(r.last_activity_at, h.last_posted), r.error
    from prev p join r on r.account_id = p.account_id
    cross join lateral (
      select count(*) filter (where x.outcome in ('posted', 'found'))::integer as published,
             count(*) filter (where x.kind = 'publish' and x.outcome in
                              ('retryable', 'permanent', 'destination_rejected', 'auth_expired', 'restricted'))::integer as failures,
             max(x.finished_at) filter (where x.outcome in ('posted', 'found')) as last_posted
      from public.posting_history x
      where x.account_id = p.account_id
        and x.finished_at > coalesce(p.last_snapshot_at, v_now - private.health_scan_interval()) and x.finished_at <= v_now
    ) h
    on conflict (account_id, taken_at) do nothing
    returning account_id
  )
  select array_agg(s.account_id) into v_ids from snap s;

  if v_ids is null then
    return query select 0, v_total, 0, 0, 0, 0, 0, 0, 0;
    return;
  end if;
  return query
  select cardinality(v_ids), v_total - cardinality(v_ids), e.*
  from private.evaluate_account_health(v_ids) e;
end
$$;

---------------------------------------------------------------------------------------------------
-- What people call (supabase-js can call them directly, so every rule is checked here).
-- Unknown or invisible account → P0002; a member below editor → 42501.
---------------------------------------------------------------------------------------------------
create function private.account_for_person(p_account_id uuid, p_min_role public.workspace_role)
returns public.social_accounts
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.social_accounts;
begin
  if (select auth.uid()) is null then
    raise exception 'You must be signed in.' using errcode = '42501';
  end if;
  select * into v_row from public.social_accounts a where a.id = p_account_id for update;
  if not found or not private.has_role_on_workspace(v_row.workspace_id, 'viewer') then
    raise exception 'No such account.' using errcode = 'P0002';
  end if;
  if not private.has_role_on_workspace(v_row.workspace_id, p_min_role) then
    raise exception 'Only a workspace % or above may do that.', p_min_role using errcode = '42501';
  end if;
  return v_row;
end
$$;

create function private.require_workspace_role(p_workspace_id uuid, p_min_role public.workspace_role)
returns void
language plpgsql stable security definer set search_path = ''
as $$
begin
  if (select auth.uid()) is null then
    raise exception 'You must be signed in.' using errcode = '42501';
  end if;
  if not private.has_role_on_workspace(p_workspace_id, 'viewer') then
    raise exception 'No such workspace.' using errcode = 'P0002';
  end if;
  if not private.has_role_on_workspace(p_workspace_id, p_min_role) then
    raise exception 'Only a workspace % or above may do that.', p_min_role using errcode = '42501';
  end if;
end
$$;

-- Pause one account (editors and up). An account that cannot publish anyway is left as it is.
create function public.pause_account(p_account_id uuid)
returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.social_accounts := private.account_for_person(p_account_id, 'editor');
  v_changed boolean := private.account_can_publish(v_row.state);
begin
  if v_changed then
    update public.social_accounts set state = 'paused', paused_reason = 'manual', state_before_pause = v_row.state,
                                      last_error = 'Paused by a person.'
    where id = p_account_id
    returning * into v_row;
    perform private.audit_health(v_row.workspace_id, (select auth.uid()), 'pause', 'social_accounts', v_row.id::text,
                                 jsonb_build_object('by', 'person', 'paused_reason', 'manual'));
  end if;
  return jsonb_build_object('account_id', v_row.id, 'state', v_row.state, 'paused_reason', v_row.paused_reason,
                            'changed', v_changed);
end
$$;

-- Resume one account (editors and up): from a health or manual pause, a restriction or a review.
-- Its waiting posts come back (the queue's resume trigger) and the claim sends them inside the limits.
create function public.resume_account(p_account_id uuid)
returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.social_accounts := private.account_for_person(p_account_id, 'editor');
  v_from public.account_state := v_row.state;
begin
  if v_row.state = 'paused' and v_row.paused_reason = 'plan_limit' then
    raise exception 'This account is paused because the plan does not cover it.' using errcode = 'P0001',
      hint = 'Upgrade the plan or remove accounts to resume it.',
      detail = json_build_object('code', 'plan_limit')::text;
  end if;
  if v_row.state = 'needs_reconnect' then
    raise exception 'This account''s authorisation expired.' using errcode = 'P0001',
      hint = 'Reconnect the account to resume it.', detail = json_build_object('code', 'needs_reconnect')::text;
  end if;
  if private.account_can_publish(v_row.state) then
    return jsonb_build_object('account_id', v_row.id, 'state', v_row.state, 'changed', false);
  end if;
  update public.social_accounts set
    state = case when v_row.state = 'paused' and private.account_can_publish(v_row.state_before_pause)
                 then v_row.state_before_pause else 'active' end,
    requires_review = false, last_error = null
  where id = p_account_id
  returning * into v_row;
  update private.account_health_state set resumed_at = now(), resumed_by = (select auth.uid())
  where account_id = p_account_id;
  perform private.audit_health(v_row.workspace_id, (select auth.uid()), 'resume', 'social_accounts', v_row.id::text,
                               jsonb_build_object('by', 'person', 'from', v_from, 'to', v_row.state));
  -- The plan may still not cover it (then it stays paused, with that reason).
  return jsonb_build_object('account_id', v_row.id, 'state', v_row.state, 'paused_reason', v_row.paused_reason,
                            'changed', true);
end
$$;

-- Pause every at-risk account of a workspace (editors and up): an open warning or critical alert, or
-- a score below the workspace's threshold. Healthy accounts are not touched.
create function public.pause_at_risk_accounts(p_workspace_id uuid)
returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  perform private.require_workspace_role(p_workspace_id, 'editor');
  with at_risk as (
    select a.id from public.social_accounts a
    cross join private.health_settings_of(p_workspace_id) cfg
    where a.workspace_id = p_workspace_id and private.account_can_publish(a.state)
      and (a.health_score < cfg.pause_below_score
           or exists (select 1 from public.health_alerts al where al.account_id = a.id and al.resolved_at is null
                      and al.severity in ('warning', 'critical')))
    for update of a
  ),
  paused as (
    update public.social_accounts a set state = 'paused', paused_reason = 'health', state_before_pause = a.state,
           last_error = 'Paused with the workspace''s other at-risk accounts.'
    from at_risk r where a.id = r.id
    returning a.id
  )
  select coalesce(array_agg(p.id order by p.id), '{}') into v_ids from paused p;
  perform private.audit_health(p_workspace_id, (select auth.uid()), 'pause', 'social_accounts', id::text,
                               jsonb_build_object('by', 'person', 'paused_reason', 'health', 'at_risk', true))
  from unnest(v_ids) as id;
  return jsonb_build_object('paused', cardinality(v_ids), 'account_ids', to_jsonb(v_ids));
end
$$;

-- Acknowledge an alert (editors and up: acknowledging says "a person is on it", which viewers, who
-- only read, cannot promise). Acknowledging again keeps the first who and when.
create function public.acknowledge_health_alert(p_alert_id bigint)
returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_alert public.health_alerts;
begin
  select * into v_alert from public.health_alerts where id = p_alert_id for update;
  if not found then
    raise exception 'No such alert.' using errcode = 'P0002';
  end if;
  perform private.require_workspace_role(v_alert.workspace_id, 'editor');
  if v_alert.acknowledged_at is null then
    update public.health_alerts set acknowledged_at = now(), acknowledged_by = (select auth.uid())
    where id = p_alert_id returning * into v_alert;
    perform private.audit_health(v_alert.workspace_id, (select auth.uid()), 'acknowledge', 'health_alerts',
                                 v_alert.id::text, jsonb_build_object('rule', v_alert.rule_id, 'account_id', v_alert.account_id));
  end if;
  return jsonb_build_object('id', v_alert.id, 'acknowledged_at', v_alert.acknowledged_at,
                            'acknowledged_by', v_alert.acknowledged_by);
end
$$;

-- Release a held destination (editors and up): its waiting posts come back if the account may publish.
create function public.release_destination(p_account_id uuid, p_destination text)
returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.social_accounts := private.account_for_person(p_account_id, 'editor');
  v_hold bigint;
  v_items integer := 0;
begin
  update public.destination_holds set released_at = now(), released_by = (select auth.uid())
  where account_id = p_account_id and destination = p_destination and released_at is null
  returning id into v_hold;
  if v_hold is null then
    return jsonb_build_object('released', false, 'items', 0);
  end if;
  if private.account_can_publish(v_row.state) then
    update public.queue_items q set run_at = greatest(q.scheduled_for, now()), last_error = null
    from public.posts p
    where q.account_id = p_account_id and p.id = q.post_id and p.destination = p_destination
      and q.status in ('pending', 'rate_limited') and q.run_at = 'infinity';
    get diagnostics v_items = row_count;
  end if;
  perform private.audit_health(v_row.workspace_id, (select auth.uid()), 'destination_release', 'social_accounts',
                               p_account_id::text, jsonb_build_object('by', 'person', 'destination', p_destination,
                                                                      'hold_id', v_hold, 'items', v_items));
  return jsonb_build_object('released', true, 'items', v_items);
end
$$;

-- Scan a workspace's accounts now (editors and up; the API rate-limits it): they become due.
create function public.request_health_scan(p_workspace_id uuid)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_count integer;
begin
  perform private.require_workspace_role(p_workspace_id, 'editor');
  update private.account_health_state set due_at = now()
  where workspace_id = p_workspace_id and due_at > now() and (lease_id is null or lease_expires_at < now());
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

---------------------------------------------------------------------------------------------------
-- Row level security and grants.
---------------------------------------------------------------------------------------------------
alter table public.health_rules enable row level security;
alter table public.workspace_health_rules enable row level security;
alter table public.workspace_health_settings enable row level security;
alter table public.account_health_snapshots enable row level security;
alter table public.account_health_scores enable row level security;
alter table public.account_health_daily enable row level security;
alter table public.health_alerts enable row level security;
alter table public.destination_holds enable row level security;

create policy "Anyone signed in can read the health rules" on public.health_rules
  for select to authenticated using (true);

create policy "Members can read their workspace's rule settings" on public.workspace_health_rules
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));
create policy "Admins and owners can tune rules" on public.workspace_health_rules
  for insert to authenticated with check (workspace_id in (select private.my_workspace_ids('admin')));
create policy "Admins and owners can change tuned rules" on public.workspace_health_rules
  for update to authenticated
  using (workspace_id in (select private.my_workspace_ids('admin')))
  with check (workspace_id in (select private.my_workspace_ids('admin')));
create policy "Admins and owners can reset tuned rules" on public.workspace_health_rules
  for delete to authenticated using (workspace_id in (select private.my_workspace_ids('admin')));

create policy "Members can read their workspace's health settings" on public.workspace_health_settings
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));
create policy "Admins and owners can set health settings" on public.workspace_health_settings
  for insert to authenticated with check (workspace_id in (select private.my_workspace_ids('admin')));
create policy "Admins and owners can change health settings" on public.workspace_health_settings
  for update to authenticated
  using (workspace_id in (select private.my_workspace_ids('admin')))
  with check (workspace_id in (select private.my_workspace_ids('admin')));

create policy "Members can read their accounts' snapshots" on public.account_health_snapshots
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));
create policy "Members can read their accounts' scores" on public.account_health_scores
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));
create policy "Members can read their accounts' daily health" on public.account_health_daily
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));
create policy "Members can read their workspace's alerts" on public.health_alerts
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));
create policy "Members can read their workspace's held destinations" on public.destination_holds
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));

revoke all on public.health_rules, public.workspace_health_rules, public.workspace_health_settings,
  public.account_health_snapshots, public.account_health_scores, public.account_health_daily,
  public.health_alerts, public.destination_holds from anon, authenticated, pacer_worker;
revoke all on private.account_health_state from public, anon, authenticated, pacer_worker;
grant select on public.health_rules, public.workspace_health_rules, public.workspace_health_settings,
  public.account_health_snapshots, public.account_health_scores, public.account_health_daily,
  public.health_alerts, public.destination_holds to authenticated;
grant insert (workspace_id, rule_id, enabled, threshold, clear_threshold), update (enabled, threshold, clear_threshold),
  delete on public.workspace_health_rules to authenticated;
grant insert (workspace_id, auto_pause, pause_below_score), update (auto_pause, pause_below_score)
  on public.workspace_health_settings to authenticated;

revoke all on function private.check_health_rule_override, private.effective_clear_threshold,
  private.stamp_health_settings, private.health_settings_of, private.ensure_health_partitions,
  private.maintain_health_storage, private.destination_hold_message, private.keep_held_destination_items,
  private.hold_new_items_for_held_destinations, private.start_account_health, private.health_scan_interval,
  private.audit_health, private.evaluate_account_health, private.claim_accounts_for_scan,
  private.record_health_scan, private.account_for_person, private.require_workspace_role from public;
revoke all on function public.pause_account, public.resume_account, public.pause_at_risk_accounts,
  public.acknowledge_health_alert, public.release_destination, public.request_health_scan from public, anon;
grant execute on function public.pause_account, public.resume_account, public.pause_at_risk_accounts,
  public.acknowledge_health_alert, public.release_destination, public.request_health_scan to authenticated;
-- The scan's role: claim, record, evaluate, upkeep; nothing else here.
grant execute on function private.claim_accounts_for_scan, private.record_health_scan,
  private.evaluate_account_health, private.maintain_health_storage to pacer_worker;

call private.hand_over_to_postgres();
