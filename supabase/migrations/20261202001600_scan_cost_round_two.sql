-- The health scan's database cost, second round (issue 9: under 2 s of database time per 10,000
-- accounts, with margin). After 20261202001200_scan_cost. Found with bench/health-scan-profile.ts
-- (auto_explain of the steady-state batches, and `perf` on the scan's server process) and measured
-- with its --ab mode against the 20261202001200 functions in the same database; docs/health.md,
-- "How the scan stays cheap", has the figures.
-- 1. keep_latest_snapshot reaches the inserted accounts' scan states by primary key: the planner read
--    the whole table (every account, and the dead versions the scan's updates leave) for each batch.
-- 2. evaluate_account_health:
--    - what each rule sees is picked by rule id from the account joined to its workspace's rules, not
--      a lateral VALUES list of ten rows (Postgres compiles a VALUES row's expressions again for every
--      row it produces: 5,000 compilations per batch, a quarter of the observations' cost);
--    - the week's posting history of the batch in one grouped index scan, not a bitmap scan per account;
--    - the batch's open alerts read once through the open-alert index and joined (before, one lookup
--      per kept observation plus all open alerts of all accounts hashed), and opening an alert checks
--      only this batch's open alerts;
--    - the scan states joined by primary key; private.effective_clear_threshold written out;
--    - the destination-hold step runs only when a destination_rejections rule fires (otherwise its
--      empty insert still ran the statement trigger of destination_holds, with its queries).
-- 3. record_health_scan no longer locks each scan state before updating it: the update checks the
--    lease on the row it writes (a claim that took an expired lease meanwhile still wins), and the
--    snapshots are written for the rows it updated.
-- 4. The audit trigger's WHEN on account updates compares the columns it audits directly instead of
--    two to_jsonb() per updated row (a third of the cost of the scan's score write); every column
--    but health_score and updated_at is listed, and tests/health/scan-cost.test.ts fails when a column
--    is added to social_accounts without being added here.
-- Behaviour is unchanged (tests/health, tests/engine, tests/history, tests/review); functions are
-- redefined whole; claim_accounts_for_scan and record_outcomes are not touched.

---------------------------------------------------------------------------------------------------
-- 1. keep_latest_snapshot: the inserted accounts' rows by primary key.
---------------------------------------------------------------------------------------------------
create or replace function private.keep_latest_snapshot() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  update private.account_health_state st set
    latest_taken_at = n.taken_at, latest_reach = n.reach, latest_engagement = n.engagement,
    -- fix 3 (20261202000900): activity only moves forward; a failed read keeps what was known.
    latest_followers = n.followers, latest_activity_at = greatest(st.latest_activity_at, n.last_activity_at)
  from (select distinct on (r.account_id) r.* from new_rows r order by r.account_id, r.taken_at desc) n
  where st.account_id = n.account_id and (st.latest_taken_at is null or st.latest_taken_at <= n.taken_at)
    -- cost: the scan has already written these figures (record_health_scan); nothing would change.
    and (st.latest_taken_at is distinct from n.taken_at or st.latest_reach is distinct from n.reach::float8
         or st.latest_engagement is distinct from n.engagement::float8
         or st.latest_followers is distinct from n.followers::float8
         or st.latest_activity_at is distinct from greatest(st.latest_activity_at, n.last_activity_at))
    -- cost2: the inserted accounts' rows by primary key (the planner read the whole scan state, dead
    -- row versions included, for every batch of 500).
    and st.account_id = any (array(select r.account_id from new_rows r));
  return null;
end
$$;

---------------------------------------------------------------------------------------------------
-- 2. evaluate_account_health (only "cost2" lines change)
---------------------------------------------------------------------------------------------------
create or replace function private.evaluate_account_health(p_account_ids uuid[])
returns table (accounts_evaluated integer, alerts_opened integer, alerts_resolved integer, scores_written integer,
               accounts_paused integer, accounts_warned integer, destinations_held integer)
language plpgsql security definer set search_path = ''
-- cost: its statements are estimated far above jit_above_cost (nested loops over estimated rows) and
-- take milliseconds; where Postgres has JIT (LLVM), compiling them would cost more than running them.
set jit = off
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
  -- cost: plain arrays instead of two more temporary tables (each created and dropped per call);
  -- read back with `in (select unnest(...))`, which Postgres hashes.
  -- Accounts whose alerts changed in this evaluation (their breakdown changes), and alerts opened.
  v_touched uuid[];
  v_opened_accounts uuid[];
  v_alert_ids bigint[];
begin
  drop table if exists pg_temp.health_observations;

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
    -- cost2: the scan states by primary key too (the planner hashed all of them for each batch).
    left join private.account_health_state st on st.account_id = a.id and st.account_id = any (p_account_ids)
    where a.id = any (p_account_ids)
  ),
  -- cost2: the week's posting history of all these accounts in one index scan, grouped (before: a
  -- bitmap scan set up and torn down per account). An account without history counts zeros.
  week as materialized (
    select h.account_id,
           count(*) filter (where h.finished_at > v_now - interval '24 hours' and h.kind = 'publish'
                            and (h.outcome = 'posted' or h.outcome = any (v_failures))) as attempts,
           count(*) filter (where h.finished_at > v_now - interval '24 hours' and h.kind = 'publish'
                            and h.outcome = any (v_failures)) as failures,
           count(*) filter (where h.kind = 'publish' and h.outcome = any (v_failures)) as failures_week,
           count(*) filter (where h.finished_at > v_now - interval '24 hours' and h.outcome = 'destination_rejected'
                            and h.destination is not null) as rejections,
           max(h.finished_at) filter (where h.outcome in ('posted', 'found')) as last_posted
    from public.posting_history h
    where h.account_id = any (p_account_ids) and h.finished_at > v_now - interval '7 days'
    group by h.account_id
  ),
  facts as materialized (
    select acc.*,
           coalesce(p.attempts, 0) as attempts, coalesce(p.failures, 0) as failures, p.last_posted,
           -- Only accounts with failures (or rejections) this week pay for the second look.
           case when coalesce(p.failures_week, 0) = 0 then 0 else (
             select count(*) from public.posting_history h
             where h.account_id = acc.id and h.kind = 'publish' and h.outcome = any (v_failures)
               and h.finished_at > greatest(v_now - interval '7 days', p.last_posted)) end as consecutive,
           case when coalesce(p.rejections, 0) = 0 then 0 else (
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
    left join week p on p.account_id = acc.id
  ),
  -- Materialized: per workspace and rule once, not per account (functions with a pinned
  -- search_path are never inlined, and each call costs microseconds).
  rules as materialized (
    select w.workspace_id, r.id as rule_id, r.name, r.description, r.unit, r.direction, r.severity, r.points, r.advice,
           r.enabled and coalesce(o.enabled, true) as enabled,
           coalesce(o.threshold, r.threshold) as threshold,
           -- cost2: private.effective_clear_threshold written out (a function with a pinned search_path
           -- is never inlined; a call per workspace and rule of every batch).
           coalesce(o.clear_threshold, case when o.threshold is null or r.threshold = 0 then r.clear_threshold
                                            else r.clear_threshold * o.threshold / r.threshold end) as clear_threshold
    from (select distinct acc.workspace_id from acc) w
    cross join public.health_rules r
    left join public.workspace_health_rules o on o.workspace_id = w.workspace_id and o.rule_id = r.id
  ),
  -- cost2: the open alerts of these accounts, read once through the open-alert index (before: one
  -- lookup per kept observation, plus every open alert of every account hashed for each batch).
  open_alerts as materialized (
    select al.id, al.account_id, al.rule_id from public.health_alerts al
    where al.account_id = any (p_account_ids) and al.resolved_at is null
  ),
  -- cost2: each account joined to its workspace's rules, and what each rule sees picked by the rule's
  -- id (before: a VALUES list of ten rows per account, whose expressions Postgres compiles again for
  -- every row of every account). Only the ten rules this evaluation knows, as the VALUES list joined.
  observed as materialized (
    select f.id, f.workspace_id, f.state, ru.rule_id, ru.direction, ru.severity, ru.points, ru.enabled,
           ru.threshold, ru.clear_threshold,
           case ru.rule_id
             when 'reach_decline' then case when f.baseline_reach > 0 then 100 * (1 - f.reach / f.baseline_reach) end
             when 'engagement_drop' then
               case when f.baseline_engagement > 0 then 100 * (1 - f.engagement / f.baseline_engagement) end
             when 'follower_loss' then
               case when f.baseline_followers > 0 then 100 * (1 - f.followers / f.baseline_followers) end
             when 'publish_failures_consecutive' then f.consecutive::float8
             -- fix 2: fewer than 5 attempts is not judged, and counts as cleared (see `settled` below).
             when 'publish_failure_rate' then case when f.attempts >= 5 then 100.0 * f.failures / f.attempts end
             -- private.account_can_publish, written out: a function with a pinned search_path is not inlined.
             -- fix 1: the clock starts no earlier than a person's resume (a pause kept the account quiet).
             when 'inactive' then case when f.state in ('connected', 'active') then
               date_part('epoch', v_now - greatest(f.last_activity_at, f.last_posted_ever, f.created_at, f.resumed_at)) / 86400
             end
             when 'token_expired' then (f.state = 'needs_reconnect')::integer::float8
             when 'token_expiring' then date_part('epoch', f.token_expires_at - v_now) / 86400
             when 'restricted' then (f.state = 'restricted')::integer::float8
             when 'destination_rejections' then coalesce(f.max_rejections, 0)::float8
           end as observed,
           case ru.rule_id
             when 'reach_decline' then f.baseline_reach
             when 'engagement_drop' then f.baseline_engagement
             when 'follower_loss' then f.baseline_followers
           end as baseline,
           -- fix 2 and 6: "nothing to judge" that is itself a recovery, not missing data: too few attempts
           -- to give a rate, and no expiry known for the current credentials (new credentials forget it).
           (ru.rule_id = 'publish_failure_rate' and f.attempts < 5)
             or (ru.rule_id = 'token_expiring' and f.token_expires_at is null) as settled
    from facts f
    join rules ru on ru.workspace_id = f.workspace_id
    where ru.rule_id in ('reach_decline', 'engagement_drop', 'follower_loss', 'publish_failures_consecutive',
                         'publish_failure_rate', 'inactive', 'token_expired', 'token_expiring', 'restricted',
                         'destination_rejections')
  )
  -- cost: only the observations a later step reads: a rule that fires, or one with an alert open
  -- (resolve, refresh, score). Before, all ten per account were written and indexed, most of them
  -- "nothing to see", on every scan.
  select o.account_id, o.workspace_id, o.state, o.rule_id, round(o.observed::numeric, 2) as observed,
         round(o.baseline::numeric, 2) as baseline, o.severity, o.points, o.enabled, o.threshold, o.clear_threshold,
         o.fires, o.clears,
         -- The account's open alert for the rule, if any: steps 3, 4 and 6 reach it by primary key.
         oa.id as alert_id
  from (
  select f.id as account_id, f.workspace_id, f.state, f.rule_id, f.observed, f.baseline,
         f.severity, f.points, f.enabled, f.threshold, f.clear_threshold,
         case when f.settled then false
              when f.observed is null then null
              when f.direction = 'above' then f.observed >= f.threshold::float8
              else f.observed <= f.threshold::float8 end as fires,
         case when f.settled then true
              when f.observed is null then null
              when f.direction = 'above' then f.observed <= f.clear_threshold::float8
              else f.observed >= f.clear_threshold::float8 end as clears
  from observed f
  ) o
  left join open_alerts oa on oa.account_id = o.account_id and oa.rule_id = o.rule_id
  where (o.enabled and o.fires) or oa.id is not null;
  -- Every account found is evaluated against every rule (as before: rows / rules).
  select count(*) into v_evaluated from public.social_accounts a where a.id = any (p_account_ids);
  select coalesce(array_agg(o.alert_id), '{}') into v_alert_ids from pg_temp.health_observations o where o.alert_id is not null;

  -- 3. Resolve what cleared past its clear threshold, or whose rule the workspace switched off.
  --    Missing data (a failed read, no baseline) leaves an open alert open.
  with resolved as (
    update public.health_alerts al set
      resolved_at = v_now, observed = coalesce(o.observed, al.observed),
      resolution = case when not o.enabled then 'rule disabled' else 'cleared' end
    from pg_temp.health_observations o
    where al.id = o.alert_id and al.resolved_at is null
      and (not o.enabled or o.clears)
    returning al.account_id
  )
  select count(*), array_agg(r.account_id) into v_resolved, v_touched from resolved r;

  -- 4. Open alerts still firing or in the band between thresholds: refresh what was seen.
  with refreshed as (
    update public.health_alerts al set observed = o.observed, baseline = coalesce(o.baseline, al.baseline),
           last_seen_at = v_now
    from pg_temp.health_observations o
    where al.id = o.alert_id and al.resolved_at is null and o.observed is not null
      and al.observed is distinct from o.observed
    returning al.account_id
  )
  select coalesce(v_touched, '{}') || coalesce(array_agg(r.account_id), '{}') into v_touched from refreshed r;

  -- 5. Open what crossed its threshold and has no open alert.
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
      -- cost: an alert already open is skipped here, not by a conflicting insert (each of which
      -- took a speculative insertion and its foreign-key checks, on every scan while it stays open).
      and not exists (select from public.health_alerts al
                      where al.account_id = o.account_id and al.rule_id = o.rule_id and al.resolved_at is null
                        -- cost2: the same rows, named so that only this batch's open alerts are read.
                        and al.account_id = any (p_account_ids))
    on conflict (account_id, rule_id) where resolved_at is null do nothing
    returning id, account_id
  )
  select count(*), coalesce(array_agg(op.account_id), '{}'), v_alert_ids || coalesce(array_agg(op.id), '{}')
  into v_opened, v_opened_accounts, v_alert_ids from opened op;

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
    -- cost: the accounts' open alerts are those open when observed (less the resolved) and those
    -- just opened, reached by primary key.
    where al.id = any (v_alert_ids) and al.resolved_at is null
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
       or s.account_id in (select unnest(v_touched))
       or s.account_id in (select unnest(v_opened_accounts))
    on conflict (account_id, scored_at) do update set score = excluded.score, breakdown = excluded.breakdown
  ),
  written as (
    update public.social_accounts a set health_score = s.score
    from scored s where a.id = s.account_id and a.health_score is distinct from s.score
      -- cost: lets the planner reach the accounts by primary key instead of reading all of them.
      and a.id = any (p_account_ids)
  )
  select count(*) into v_scores from scored;

  -- 7. Destination holds: one destination rejecting again and again holds only its posts.
  -- cost2: most batches have no destination rejecting; without one firing nothing is held, and the
  -- insert's statement trigger (hold_items_of_new_destination_holds) would still run its queries.
  v_held := 0;
  if exists (select from pg_temp.health_observations o
             where o.rule_id = 'destination_rejections' and o.enabled and o.fires) then
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
  end if;

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
       or (r.auto_pause = 'warn' and r.id in (select unnest(v_opened_accounts)))
    returning new_values ->> 'auto_pause' as mode
  )
  select (select count(*) from paused), (select count(*) from audited where mode = 'warn')
  into v_paused, v_warned;

  -- Every account found, each evaluated against every rule.
  return query select v_evaluated,
                      v_opened, v_resolved, v_scores, v_paused, v_warned, v_held;
end
$$;


---------------------------------------------------------------------------------------------------
-- 3. record_health_scan (only "cost2" lines change)
---------------------------------------------------------------------------------------------------
create or replace function private.record_health_scan(p_results jsonb)
returns table (recorded integer, ignored integer, accounts_evaluated integer, alerts_opened integer,
               alerts_resolved integer, scores_written integer, accounts_paused integer, accounts_warned integer,
               destinations_held integer)
language plpgsql security definer set search_path = ''
set jit = off  -- cost: as evaluate_account_health
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
  -- cost2: not locked here (a lock per row, then the update of the same row): the update below
  -- checks the lease again on the row it writes, and only the rows it wrote get a snapshot.
  -- Materialized, as the lock made it before: inlined, the planner joined the batch to itself.
  prev as materialized (
    select s.account_id, s.workspace_id, s.last_snapshot_at, s.latest_taken_at
    from private.account_health_state s join r on r.account_id = s.account_id and r.lease_id = s.lease_id
  ),
  -- Each account's snapshot: its read, and the posting history since its previous snapshot.
  seen as materialized (
    select p.account_id, p.workspace_id, r.lease_id, r.error, r.token_expires_at,
           case when r.error is null then r.reach end as reach, case when r.error is null then r.engagement end as engagement,
           case when r.error is null then r.followers end as followers,
           h.published, h.failures, greatest(r.last_activity_at, h.last_posted) as last_activity_at,
           -- What keep_latest_snapshot would decide: a snapshot older than the latest known changes
           -- nothing. One at this very instant is left to the insert below (it conflicts, or its trigger decides).
           p.latest_taken_at is null or p.latest_taken_at < v_now as newest
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
  ),
  -- cost: one update of each account's scan state, which also takes the snapshot's figures (before,
  -- keep_latest_snapshot updated the same rows a second time; it now finds them current and skips them).
  released as (
    update private.account_health_state s set
      lease_id = null, lease_expires_at = null, worker = null,
      due_at = v_now + private.health_scan_interval(), last_scanned_at = v_now, last_snapshot_at = v_now,
      -- fix 6 (20261202000900): kept only while the credentials stay the same.
      last_read_error = x.error, token_expires_at = coalesce(x.token_expires_at, s.token_expires_at),
      latest_taken_at = case when x.newest then v_now else s.latest_taken_at end,
      latest_reach = case when x.newest then x.reach else s.latest_reach end,
      latest_engagement = case when x.newest then x.engagement else s.latest_engagement end,
      latest_followers = case when x.newest then x.followers else s.latest_followers end,
      latest_activity_at = case when x.newest then greatest(s.latest_activity_at, x.last_activity_at)
                                else s.latest_activity_at end
    from seen x
    -- cost2: the lease, re-checked on the row being written (a claim that took the account after an
    -- expired lease wins, as when prev locked the row and then read it again).
    where s.account_id = x.account_id and s.lease_id = x.lease_id
    returning x.account_id, x.workspace_id, x.reach, x.engagement, x.followers, x.published, x.failures,
              x.last_activity_at, x.error
  ),
  snap as (
    insert into public.account_health_snapshots (account_id, workspace_id, taken_at, reach, engagement, followers,
      posts_published, publish_failures, last_activity_at, read_error)
    select x.account_id, x.workspace_id, v_now, x.reach, x.engagement, x.followers,
           x.published, x.failures, x.last_activity_at, x.error
    from released x
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
-- 4. The audit of account updates: the same condition as 20261202000300 (any column but health_score
--    and updated_at changed), without turning both rows into jsonb for every update. Row comparison
--    with IS DISTINCT FROM uses each type's equality, as the jsonb comparison did (uuid, text, enum,
--    timestamptz, boolean: equal values render equal jsonb and the other way round).
---------------------------------------------------------------------------------------------------
drop trigger write_audit_log_update on public.social_accounts;
create trigger write_audit_log_update after update on public.social_accounts
  for each row
  when ((old.id, old.workspace_id, old.platform, old.handle, old.display_name, old.state, old.cooldown_until,
         old.requires_review, old.last_error, old.credentials_encrypted, old.created_by, old.created_at,
         old.paused_reason, old.state_before_pause)
        is distinct from
        (new.id, new.workspace_id, new.platform, new.handle, new.display_name, new.state, new.cooldown_until,
         new.requires_review, new.last_error, new.credentials_encrypted, new.created_by, new.created_at,
         new.paused_reason, new.state_before_pause))
  execute function private.write_audit_log();

call private.hand_over_to_postgres();
