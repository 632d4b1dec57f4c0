-- Account health fixes (docs/health.md):
-- 1. After a person resumes a health-paused account, the inactivity clock starts at the resume (the
--    pause itself kept it quiet), and only a warning or critical alert opened since then pauses it
--    again: an info alert alone never does.
-- 2. publish_failure_rate with fewer than 5 attempts in 24 hours counts as cleared, so its alert
--    resolves once an account posts little (or is paused) instead of staying open for ever. Likewise
--    token_expiring with no known expiry (none reported for the current credentials).
-- 3. A failed read never forgets the latest activity the scan state knows (missing data evaluates nothing).
-- 4. Auto-pause re-checks the account's state in its own UPDATE: a restriction or a plan pause
--    committed while evaluation waited for the row is kept.
-- 5. resume_account locks the account's scan state before the account, in the scan's order
--    (record_health_scan: scan state, alerts, account), so the two never deadlock.
-- 6. New credentials forget the expiry the platform reported for the old ones, and end a scan in
--    flight (its read used the old credentials): the account is scanned again at once.
-- Functions are redefined whole (create or replace); only the lines marked "fix N" change.

---------------------------------------------------------------------------------------------------
-- 3. keep_latest_snapshot
---------------------------------------------------------------------------------------------------
create or replace function private.keep_latest_snapshot() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  update private.account_health_state st set
    latest_taken_at = n.taken_at, latest_reach = n.reach, latest_engagement = n.engagement,
    -- fix 3: activity only moves forward; a read that says nothing (a failed read) keeps what was known.
    latest_followers = n.followers, latest_activity_at = greatest(st.latest_activity_at, n.last_activity_at)
  from (select distinct on (r.account_id) r.* from new_rows r order by r.account_id, r.taken_at desc) n
  where st.account_id = n.account_id and (st.latest_taken_at is null or st.latest_taken_at <= n.taken_at);
  return null;
end
$$;

create or replace function private.evaluate_account_health(p_account_ids uuid[])
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
           st.latest_activity_at as last_activity_at, st.resumed_at
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
    select f.id, f.workspace_id, f.state, v.rule_id, v.observed, v.baseline, z.settled
    from facts f
    cross join lateral (values
      ('reach_decline', case when f.baseline_reach > 0 then 100 * (1 - f.reach / f.baseline_reach) end, f.baseline_reach),
      ('engagement_drop', case when f.baseline_engagement > 0 then 100 * (1 - f.engagement / f.baseline_engagement) end,
       f.baseline_engagement),
      ('follower_loss', case when f.baseline_followers > 0 then 100 * (1 - f.followers / f.baseline_followers) end,
       f.baseline_followers),
      ('publish_failures_consecutive', f.consecutive::float8, null),
      -- fix 2: fewer than 5 attempts is not judged, and counts as cleared (see `settled` below).
      ('publish_failure_rate', case when f.attempts >= 5 then 100.0 * f.failures / f.attempts end, null),
      -- private.account_can_publish, written out: a function with a pinned search_path is not inlined.
      -- fix 1: the clock starts no earlier than a person's resume (a pause kept the account quiet).
      ('inactive', case when f.state in ('connected', 'active') then
         date_part('epoch', v_now - greatest(f.last_activity_at, f.last_posted_ever, f.created_at, f.resumed_at)) / 86400
       end, null),
      ('token_expired', (f.state = 'needs_reconnect')::integer::float8, null),
      ('token_expiring', date_part('epoch', f.token_expires_at - v_now) / 86400, null),
      ('restricted', (f.state = 'restricted')::integer::float8, null),
      ('destination_rejections', coalesce(f.max_rejections, 0)::float8, null::float8)
    ) as v (rule_id, observed, baseline)
    -- fix 2 and 6: "nothing to judge" that is itself a recovery, not missing data: too few attempts
    -- to give a rate, and no expiry known for the current credentials (new credentials forget it).
    cross join lateral (select (v.rule_id = 'publish_failure_rate' and f.attempts < 5)
                               or (v.rule_id = 'token_expiring' and f.token_expires_at is null) as settled) z
  )
  select f.id as account_id, f.workspace_id, f.state, f.rule_id, round(f.observed::numeric, 2) as observed,
         round(f.baseline::numeric, 2) as baseline,
         ru.severity, ru.points, ru.enabled, ru.threshold, ru.clear_threshold,
         case when f.settled then false
              when f.observed is null then null
              when ru.direction = 'above' then f.observed >= ru.threshold::float8
              else f.observed <= ru.threshold::float8 end as fires,
         case when f.settled then true
              when f.observed is null then null
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
      -- fix 1: after a resume, only a warning or critical alert opened since then (an info alert,
      -- such as the inactivity the pause itself caused, never pauses an account a person resumed).
      and exists (select 1 from public.health_alerts al where al.account_id = a.id and al.resolved_at is null
                  and al.opened_at > coalesce(st.resumed_at, '-infinity')
                  and (st.resumed_at is null or al.severity in ('warning', 'critical')))
  ),
  paused as (
    update public.social_accounts a set
      state = 'paused', paused_reason = 'health', state_before_pause = a.state,
      last_error = 'Paused by account health (score ' || r.health_score || '); resume it when the alerts are dealt with.'
    from at_risk r
    -- fix 4: re-checked on the row it updates: a restriction or plan pause committed meanwhile stays.
    where a.id = r.id and r.auto_pause = 'pause' and a.state in ('connected', 'active')
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
    -- fix 4: a pause is audited only when the account was paused.
    where (r.auto_pause = 'pause' and r.id in (select p.id from paused p))
       or (r.auto_pause = 'warn' and r.id in (select op.account_id from pg_temp.health_opened op))
    returning new_values ->> 'auto_pause' as mode
  )
  select (select count(*) from paused), (select count(*) from audited where mode = 'warn')
  into v_paused, v_warned;

  -- One observation per rule for each account evaluated.
  return query select (v_evaluated / (select count(*) from public.health_rules))::integer,
                      v_opened, v_resolved, v_scores, v_paused, v_warned, v_held;
end
$$;

create or replace function private.record_health_scan(p_results jsonb)
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
      -- fix 6: kept only while the credentials stay the same: store_account_credentials forgets it.
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

create or replace function public.resume_account(p_account_id uuid)
returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.social_accounts;
  v_from public.account_state;
begin
  -- fix 5: the scan state first, then the account (account_for_person locks it), in the scan's order.
  perform from private.account_health_state where account_id = p_account_id for update;
  v_row := private.account_for_person(p_account_id, 'editor');
  v_from := v_row.state;
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

---------------------------------------------------------------------------------------------------
-- 6. New credentials (connect, reconnect: the only writer of credentials_encrypted) forget the
--    expiry reported for the old ones and end a scan in flight, whose read used the old ones (its
--    result is then ignored, as for any lease that is no longer the account's); the account is due
--    at once. The scan state is locked before the account, in the scan's order (fix 5).
---------------------------------------------------------------------------------------------------
create or replace function private.store_account_credentials(p_account_id uuid, p_sealed text)
returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_changed boolean;
begin
  if p_sealed is not null and p_sealed !~ '^v1:[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$' then
    raise exception 'Credentials must be sealed by the server (v1:<iv>:<ciphertext>); got something else.'
      using errcode = '22023', hint = 'Seal them with encryptCredentials (lib/accounts/credentials.ts).';
  end if;
  perform from private.account_health_state where account_id = p_account_id for update;
  select a.credentials_encrypted is distinct from p_sealed into v_changed
  from public.social_accounts a where a.id = p_account_id for update;
  if not found then
    raise exception 'There is no account %.', p_account_id using errcode = 'P0002';
  end if;
  update public.social_accounts set credentials_encrypted = p_sealed where id = p_account_id;
  if v_changed then
    update private.account_health_state set
      token_expires_at = null, lease_id = null, lease_expires_at = null, worker = null, due_at = pg_catalog.now()
    where account_id = p_account_id;
  end if;
end
$$;

call private.hand_over_to_postgres();
