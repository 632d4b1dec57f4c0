-- The engine's claim, cheaper per item and with its budget rule in one place (issue 14).
--
-- 1. One rule, one place: how much an account may publish now, and when it may next publish, were
--    written twice (the claim's CASE computing `room`, and private.next_allowed_at). Both are now
--    private.account_budget, which computes the two from the same gates (publishable, policy,
--    cooldown, minimum gap) and the same windows; next_allowed_at keeps its two forms as wrappers.
--    It is a plain SQL function (no SET, invoker rights), so the planner inlines it into the claim:
--    the ledger probes for `next_at` run only where the claim asks for it.
-- 2. Helpers the claim calls per account or per row are inlined or made cheap: effective_limit and
--    account_can_publish lose their SET search_path (a SET clause makes every call save and restore
--    the setting, and stops the planner from inlining them); the first runs with the rights of its
--    caller (only the claim calls it, as its owner). touch_updated_at, the row trigger every update
--    of a queue item runs, loses its SET too. None of the three names an object without its schema.
-- 3. The claim returns each item's thread and platform options and, for verifications, whether the
--    rest of a thread may still be sent: lib/engine/store.ts no longer reads them in further round
--    trips (private.post_parts and private.finish_parts_allowed stay for other callers).
--
-- private.claim_due_posts is otherwise 20261205080101_thread_counts_each_post.sql's.

-- Gates and windows of one account's budget. `room`: how many posts it may be sent now, after this
-- claim granted `p_granted`; `next_at`: when it has room for `p_need` (p_now if it has now,
-- 'infinity' until an account that cannot publish is resumed).
create function private.account_budget(
  p_account_id uuid, p_action text, p_state public.account_state, p_cooldown_until timestamptz,
  p_per_hour integer, p_per_day integer, p_min_gap_ms integer,
  p_used_hour integer, p_used_day integer, p_last_at timestamptz, p_granted integer, p_need integer, p_now timestamptz
) returns table (room integer, next_at timestamptz)
language sql stable
as $$
  select
    case when g.open_at is null or g.open_at > p_now then 0
         else greatest(0, least(p_per_hour - g.used_hour, p_per_day - g.used_day)) end,
    case when g.open_at is null then 'infinity'::timestamptz
         else greatest(p_now, g.open_at,
           -- A window has room for p_need once enough of its oldest entries age out.
           case when g.used_hour + p_need - 1 - p_per_hour >= 0 then coalesce((
             select l.at from private.rate_limit_ledger l
             where l.account_id = p_account_id and l.action = p_action and l.at > p_now - interval '1 hour'
             order by l.at offset g.used_hour + p_need - 1 - p_per_hour limit 1), p_now) + interval '1 hour' end,
           case when g.used_day + p_need - 1 - p_per_day >= 0 then coalesce((
             select l.at from private.rate_limit_ledger l
             where l.account_id = p_account_id and l.action = p_action and l.at > p_now - interval '1 day'
             order by l.at offset g.used_day + p_need - 1 - p_per_day limit 1), p_now) + interval '1 day' end)
    end
  from (
    select
      -- When the gates open: never (null) for an account that cannot publish or has no policy.
      case when private.account_can_publish(p_state) and p_per_hour is not null then
        -- What this claim granted was sent now, as far as the minimum gap is concerned.
        greatest(p_now, p_cooldown_until,
                 case when p_granted > 0 then p_now else p_last_at end + p_min_gap_ms * interval '1 millisecond')
      end as open_at,
      p_used_hour + p_granted as used_hour,
      p_used_day + p_granted as used_day
  ) g
$$;
comment on function private.account_budget is
  'One account''s budget: posts it may be sent now (room) and when it has room for p_need (next_at). The claim and next_allowed_at both use it.';
revoke all on function private.account_budget from public;

create or replace function private.next_allowed_at(
  p_account_id uuid, p_action text, p_state public.account_state, p_cooldown_until timestamptz,
  p_per_hour integer, p_per_day integer, p_min_gap_ms integer,
  p_used_hour integer, p_used_day integer, p_last_at timestamptz, p_granted integer, p_need integer, p_now timestamptz
) returns timestamptz
language sql stable security definer set search_path = ''
as $$
  select b.next_at from private.account_budget(p_account_id, p_action, p_state, p_cooldown_until, p_per_hour,
    p_per_day, p_min_gap_ms, p_used_hour, p_used_day, p_last_at, p_granted, p_need, p_now) b
$$;

create or replace function private.next_allowed_at(
  p_account_id uuid, p_action text, p_state public.account_state, p_cooldown_until timestamptz,
  p_per_hour integer, p_per_day integer, p_min_gap_ms integer,
  p_used_hour integer, p_used_day integer, p_last_at timestamptz, p_granted integer, p_now timestamptz
) returns timestamptz
language sql stable security definer set search_path = ''
as $$
  select b.next_at from private.account_budget(p_account_id, p_action, p_state, p_cooldown_until, p_per_hour,
    p_per_day, p_min_gap_ms, p_used_hour, p_used_day, p_last_at, p_granted, 1, p_now) b
$$;

-- Inlinable: no SET (each names only pg_catalog operators and schema-qualified tables).
create or replace function private.account_can_publish(p_state public.account_state)
returns boolean language sql immutable
as $$ select p_state in ('connected', 'active') $$;

create or replace function private.effective_limit(p_workspace_id uuid, p_platform text, p_action text)
returns table (per_hour integer, per_day integer, min_gap_ms integer)
language sql stable
as $$
  select least(d.per_hour, w.per_hour), least(d.per_day, w.per_day), greatest(d.min_gap_ms, w.min_gap_ms)
  from public.rate_limit_policies d
  left join public.workspace_rate_limits w
    on w.workspace_id = p_workspace_id and w.platform = d.platform and w.action = d.action
  where d.platform = p_platform and d.action = p_action
$$;
revoke all on function private.effective_limit from public;

alter function private.touch_updated_at() reset search_path;

drop function private.claim_due_posts(text, integer, integer, uuid);
create function private.claim_due_posts(
  p_worker text, p_limit integer, p_lease_seconds integer default 120, p_workspace_id uuid default null
)
returns table (
  id bigint, lease_id uuid, mode text, attempts integer, verify_attempts integer, idempotency_key uuid,
  workspace_id uuid, account_id uuid, platform text, handle text, credentials_encrypted text,
  action text, text text, media_urls text[], first_comment text, destination text,
  thread text[], platform_options jsonb, finish_allowed boolean, finish_reason text
)
language plpgsql security definer set search_path = ''
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_start uuid := gen_random_uuid();
  v_workspaces uuid[];
  v_share integer;
  v_ids bigint[];
  v_more bigint[];
  v_granted bigint[];
  b record;
  v_take bigint[];
  v_too_long bigint[];
  v_spent integer;
  v_need integer;
  v_waiting integer;
begin
  -- 1. Workspaces with due items, in turn from a random point (or only the one asked for). Each step
  --    reads the next workspace's earliest waiting item from queue_items_workspace_due_idx (one index
  --    probe per workspace). The walk is lazy: it stops once 256 workspaces with due items are found,
  --    and after 4,096 probes (workspaces whose waiting items are all for later are stepped over).
  if p_workspace_id is not null then
    v_workspaces := array[p_workspace_id];
  else
    with recursive from_start as (
      (select q.workspace_id, q.run_at, 1 as n from public.queue_items q
       where q.lease_id is null and q.status in ('pending', 'rate_limited', 'verifying') and q.workspace_id >= v_start
       order by q.workspace_id, q.run_at limit 1)
      union all
      select n.workspace_id, n.run_at, s.n + 1 from from_start s
      cross join lateral (
        select q.workspace_id, q.run_at from public.queue_items q
        where q.lease_id is null and q.status in ('pending', 'rate_limited', 'verifying') and q.workspace_id > s.workspace_id
        order by q.workspace_id, q.run_at limit 1) n
      where s.n < 4096
    ),
    before_start as (
      (select q.workspace_id, q.run_at, 1 as n from public.queue_items q
       where q.lease_id is null and q.status in ('pending', 'rate_limited', 'verifying') and q.workspace_id < v_start
       order by q.workspace_id, q.run_at limit 1)
      union all
      select n.workspace_id, n.run_at, s.n + 1 from before_start s
      cross join lateral (
        select q.workspace_id, q.run_at from public.queue_items q
        where q.lease_id is null and q.status in ('pending', 'rate_limited', 'verifying')
          and q.workspace_id > s.workspace_id and q.workspace_id < v_start
        order by q.workspace_id, q.run_at limit 1) n
      where s.n < 4096
    )
    select array_agg(w.workspace_id) into v_workspaces
    from (select x.workspace_id from (select * from from_start union all select * from before_start) x
          where x.run_at <= v_now limit 256) w;
  end if;
  if v_workspaces is null then
    return;
  end if;

  -- 2. An equal share of the batch per workspace, by priority then time within it (one short index
  --    range per priority); SKIP LOCKED makes each claim exclusive. Then the rest of the batch from
  --    workspaces that have more than their share.
  v_share := ceil(p_limit::numeric / cardinality(v_workspaces));
  select array_agg(c.id) into v_ids from (
    select t.id
    from unnest(v_workspaces) as w(workspace_id)
    cross join lateral (
      select q.id
      from generate_series(10, 1, -1) as p(priority)
      cross join lateral (
        select q.id from public.queue_items q
        where q.workspace_id = w.workspace_id and q.priority = p.priority
          and q.lease_expires_at is null and q.status in ('pending', 'rate_limited', 'verifying') and q.run_at <= v_now
        order by q.run_at
        limit v_share
        for update skip locked
      ) q
      limit v_share
    ) t
    limit p_limit
  ) c;
  v_ids := coalesce(v_ids, '{}');
  if cardinality(v_ids) < p_limit and cardinality(v_workspaces) > 1 then
    select array_agg(c.id) into v_more from (
      select t.id
      from unnest(v_workspaces) as w(workspace_id)
      cross join lateral (
        select q.id
        from generate_series(10, 1, -1) as p(priority)
        cross join lateral (
          select q.id from public.queue_items q
          where q.workspace_id = w.workspace_id and q.priority = p.priority
            and q.lease_expires_at is null and q.status in ('pending', 'rate_limited', 'verifying') and q.run_at <= v_now
            and q.id <> all (v_ids)
          order by q.run_at
          limit p_limit - cardinality(v_ids)
          for update skip locked
        ) q
        limit p_limit - cardinality(v_ids)
      ) t
      limit p_limit - cardinality(v_ids)
    ) c;
    v_ids := v_ids || coalesce(v_more, '{}');
  end if;
  if cardinality(v_ids) = 0 then
    return;
  end if;

  -- 3. Budget decisions are serialised per account: another worker may hold other items of it.
  perform pg_advisory_xact_lock(hashtextextended(x.account_id::text || '/' || x.action, 0))
  from (select distinct q.account_id, q.action from public.queue_items q
        where q.id = any (v_ids) and q.status <> 'verifying' order by 1, 2) x;
  -- Budgets are judged, and recorded, as of now: waiting for a lock may have taken a while.
  v_now := clock_timestamp();

  -- 4. Per account and action: how many of its candidates may go now, and when the rest may.
  --    Usage comes from the persisted ledger, so a restart never resets a window. An item costs one
  --    per post it makes on the platform (a thread of N: N); candidates go in order while their costs
  --    fit what is left of the hour and the day, and the first that does not fit waits with all after
  --    it (a later single post never takes the room a thread is waiting for). A thread longer than the
  --    account's hourly or daily limit can never go whole: it fails, saying why, and no longer blocks.
  --    The candidates are grouped per account first, then each group joined once to its account,
  --    limits, usage and budget.
  v_granted := '{}';
  for b in
    with acct as (
      select q.account_id, q.action, q.workspace_id,
             array_agg(q.id order by q.priority desc, q.run_at, q.id) as ids,
             array_agg(1 + cardinality(p.thread) order by q.priority desc, q.run_at, q.id) as costs
      from public.queue_items q
      join public.posts p on p.id = q.post_id
      where q.id = any (v_ids) and q.status <> 'verifying'
      group by 1, 2, 3
    )
    select acct.account_id, acct.action, acct.ids, acct.costs, a.state, a.cooldown_until,
           lim.per_hour, lim.per_day, lim.min_gap_ms, u.used_hour, u.used_day, u.last_at, bud.room
    from acct
    join public.social_accounts a on a.id = acct.account_id
    left join lateral private.effective_limit(acct.workspace_id, a.platform, acct.action) lim on true
    cross join lateral (
      select count(*) filter (where l.at > v_now - interval '1 hour')::integer as used_hour,
             count(*)::integer as used_day, max(l.at) as last_at
      from private.rate_limit_ledger l
      where l.account_id = acct.account_id and l.action = acct.action and l.at > v_now - interval '1 day'
    ) u
    cross join lateral private.account_budget(acct.account_id, acct.action, a.state, a.cooldown_until,
      lim.per_hour, lim.per_day, lim.min_gap_ms, u.used_hour, u.used_day, u.last_at, 0, 1, v_now) bud
  loop
    v_take := '{}';
    v_too_long := '{}';
    v_spent := 0;
    v_need := 1;
    v_waiting := 0;
    for i in 1 .. cardinality(b.ids) loop
      if b.per_hour is not null and b.costs[i] > least(b.per_hour, b.per_day) then
        v_too_long := v_too_long || b.ids[i];
      elsif v_waiting = 0 and v_spent + b.costs[i] <= b.room
            and not (b.min_gap_ms > 0 and cardinality(v_take) > 0) then
        v_take := v_take || b.ids[i];
        v_spent := v_spent + b.costs[i];
      else
        if v_waiting = 0 then
          v_need := b.costs[i];
        end if;
        v_waiting := v_waiting + 1;
      end if;
    end loop;
    if cardinality(v_too_long) > 0 then
      -- Nothing was sent: no attempt, no history row; the item's error says what to change.
      update public.queue_items q set
        status = 'failed', error_class = 'permanent',
        last_error = 'This thread has ' || (1 + cardinality(p.thread)) || ' posts; the account may publish '
                     || b.per_hour || ' an hour and ' || b.per_day || ' a day, so it can never go as one thread. '
                     || 'Shorten it or split it into several posts.'
      from public.posts p
      where p.id = q.post_id and q.id = any (v_too_long);
    end if;
    v_granted := v_granted || v_take;
    if v_waiting > 0 then
      perform private.defer_account_items(b.account_id, b.action, v_take,
        (select x.next_at from private.account_budget(b.account_id, b.action, b.state, b.cooldown_until, b.per_hour,
           b.per_day, b.min_gap_ms, b.used_hour, b.used_day, b.last_at, v_spent, v_need, v_now) x),
        case when not private.account_can_publish(b.state) then 'pending'::public.queue_status
             else 'rate_limited'::public.queue_status end,
        case when b.per_hour is null then 'No rate-limit policy exists for this platform and action.'
             when not private.account_can_publish(b.state) then 'Waiting: the account is ' || replace(b.state::text, '_', ' ') || '.'
             when b.cooldown_until > v_now then 'Waiting: the account is cooling down.'
             else 'Waiting for the account''s rate limit (' || b.per_hour || '/h, ' || b.per_day || '/day, '
                  || b.min_gap_ms || ' ms apart).' end);
    end if;
  end loop;

  -- One ledger row per post the platform will hold: a thread's parts each count.
  insert into private.rate_limit_ledger (account_id, action, at)
  select q.account_id, q.action, v_now
  from public.queue_items q
  join public.posts p on p.id = q.post_id
  cross join lateral generate_series(1, 1 + cardinality(p.thread))
  where q.id = any (v_granted);

  -- 5. Lease what may go: granted publishes, and every verification (a read, not a post). With each
  --    item, what the engine needs to send it: its post's parts and options, and for verifications
  --    whether the rest of a thread may still be sent (private.finish_parts_allowed's rule).
  return query
  with leased as (
    update public.queue_items q set
      status = case when q.status = 'verifying' then 'verifying'::public.queue_status
                    else 'processing'::public.queue_status end,
      attempts = q.attempts + (q.status <> 'verifying')::integer,
      verify_attempts = q.verify_attempts + (q.status = 'verifying')::integer,
      lease_id = gen_random_uuid(),
      lease_expires_at = v_now + p_lease_seconds * interval '1 second',
      leased_at = v_now,
      worker = p_worker
    where q.id = any (v_ids) and (q.status = 'verifying' or q.id = any (v_granted))
    returning q.*
  )
  select l.id, l.lease_id,
         case when l.status = 'verifying' then 'verify' else 'publish' end,
         l.attempts, l.verify_attempts,
         l.idempotency_key, l.workspace_id, l.account_id, a.platform, a.handle, a.credentials_encrypted,
         l.action, p.text, p.media_urls, p.first_comment, p.destination,
         p.thread, p.platform_options,
         private.account_can_publish(a.state) and not l.cancel_requested,
         case when l.cancel_requested then 'cancelled'
              when not private.account_can_publish(a.state) then 'account ' || a.state::text end
  from leased l
  join public.posts p on p.id = l.post_id
  join public.social_accounts a on a.id = l.account_id
  order by l.priority desc, l.run_at, l.id;
end
$$;
revoke all on function private.claim_due_posts from public;
grant execute on function private.claim_due_posts to pacer_worker;

call private.hand_over_to_postgres();
