-- The rate limit counts posts on the platform, not queue items: a thread of N parts is N statuses
-- (Mastodon) or records (Bluesky), each counted by the platform's own limit. The claim counted it as
-- one, so an account with 5 an hour left could be sent a 3-part thread and 3 single posts: 6.
--
-- 1. private.claim_due_posts (20261201000300_tenant_limits.sql, only step 4 and the ledger insert
--    changed): an item costs 1 + cardinality(posts.thread); an account's candidates go in order while
--    their costs fit what is left of its hour and day; the first that does not fit waits, with
--    everything after it; the ledger gets one row per post. A thread longer than the hourly or daily
--    limit itself can never fit: it is failed with a message saying so (it would otherwise wait forever
--    and hold back every post queued after it).
-- 2. private.next_allowed_at gains what the next waiting item needs (p_need, a new form; the old one
--    is room for one): the window must free that many, not one, before it is due (a thread would
--    otherwise be claimed, and put back, every time a single slot freed).
--
-- A first comment stays one: on most platforms it is a comment, not a post counted as one. Finishing
-- a thread's missing parts during a verification spends what its publish's claim already counted.

-- When an account may next act, given its usage after this claim granted `p_granted` more posts, for an
-- item that needs `p_need` posts of room.
create function private.next_allowed_at(
  p_account_id uuid, p_action text, p_state public.account_state, p_cooldown_until timestamptz,
  p_per_hour integer, p_per_day integer, p_min_gap_ms integer,
  p_used_hour integer, p_used_day integer, p_last_at timestamptz, p_granted integer, p_need integer, p_now timestamptz
) returns timestamptz
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_last timestamptz := case when p_granted > 0 then p_now else p_last_at end;
  v_at timestamptz := p_now;
  v_over integer;
begin
  if not private.account_can_publish(p_state) or p_per_hour is null then
    return 'infinity';  -- until the account is resumed (a trigger brings its items back)
  end if;
  v_at := greatest(v_at, p_cooldown_until, v_last + p_min_gap_ms * interval '1 millisecond');
  -- A window has room for p_need once enough of its oldest entries age out.
  v_over := p_used_hour + p_granted + p_need - 1 - p_per_hour;
  if v_over >= 0 then
    v_at := greatest(v_at, coalesce((
      select l.at from private.rate_limit_ledger l
      where l.account_id = p_account_id and l.action = p_action and l.at > p_now - interval '1 hour'
      order by l.at offset v_over limit 1), p_now) + interval '1 hour');
  end if;
  v_over := p_used_day + p_granted + p_need - 1 - p_per_day;
  if v_over >= 0 then
    v_at := greatest(v_at, coalesce((
      select l.at from private.rate_limit_ledger l
      where l.account_id = p_account_id and l.action = p_action and l.at > p_now - interval '1 day'
      order by l.at offset v_over limit 1), p_now) + interval '1 day');
  end if;
  return v_at;
end
$$;

-- The one-post form, kept for its callers (tests, tools): room for one.
create or replace function private.next_allowed_at(
  p_account_id uuid, p_action text, p_state public.account_state, p_cooldown_until timestamptz,
  p_per_hour integer, p_per_day integer, p_min_gap_ms integer,
  p_used_hour integer, p_used_day integer, p_last_at timestamptz, p_granted integer, p_now timestamptz
) returns timestamptz
language sql stable security definer set search_path = ''
as $$
  select private.next_allowed_at(p_account_id, p_action, p_state, p_cooldown_until, p_per_hour, p_per_day,
                                 p_min_gap_ms, p_used_hour, p_used_day, p_last_at, p_granted, 1, p_now)
$$;
revoke all on function private.next_allowed_at(uuid, text, public.account_state, timestamptz, integer, integer, integer,
                                               integer, integer, timestamptz, integer, integer, timestamptz) from public;

create or replace function private.claim_due_posts(
  p_worker text, p_limit integer, p_lease_seconds integer default 120, p_workspace_id uuid default null
)
returns table (
  id bigint, lease_id uuid, mode text, attempts integer, verify_attempts integer, idempotency_key uuid,
  workspace_id uuid, account_id uuid, platform text, handle text, credentials_encrypted text,
  action text, text text, media_urls text[], first_comment text, destination text
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
  v_granted := '{}';
  for b in
    with cand as (
      select q.id, q.account_id, q.action, q.workspace_id, 1 + cardinality(p.thread) as cost,
             row_number() over (partition by q.account_id, q.action order by q.priority desc, q.run_at, q.id) as k
      from public.queue_items q
      join public.posts p on p.id = q.post_id
      where q.id = any (v_ids) and q.status <> 'verifying'
    ),
    acct as (
      select c.account_id, c.action, c.workspace_id, a.state, a.cooldown_until,
             lim.per_hour, lim.per_day, lim.min_gap_ms, u.used_hour, u.used_day, u.last_at,
             array_agg(c.id order by c.k) as ids, array_agg(c.cost order by c.k) as costs
      from cand c
      join public.social_accounts a on a.id = c.account_id
      left join lateral private.effective_limit(c.workspace_id, a.platform, c.action) lim on true
      cross join lateral (
        select count(*) filter (where l.at > v_now - interval '1 hour')::integer as used_hour,
               count(*)::integer as used_day, max(l.at) as last_at
        from private.rate_limit_ledger l
        where l.account_id = c.account_id and l.action = c.action and l.at > v_now - interval '1 day'
      ) u
      group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
    )
    select acct.*,
      case
        when not private.account_can_publish(acct.state) or acct.per_hour is null then 0
        when acct.cooldown_until > v_now then 0
        when acct.last_at + acct.min_gap_ms * interval '1 millisecond' > v_now then 0
        else greatest(0, least(acct.per_hour - acct.used_hour, acct.per_day - acct.used_day))
      end as room
    from acct
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
        private.next_allowed_at(b.account_id, b.action, b.state, b.cooldown_until, b.per_hour, b.per_day,
                                b.min_gap_ms, b.used_hour, b.used_day, b.last_at, v_spent, v_need, v_now),
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

  -- 5. Lease what may go: granted publishes, and every verification (a read, not a post).
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
         l.action, p.text, p.media_urls, p.first_comment, p.destination
  from leased l
  join public.posts p on p.id = l.post_id
  join public.social_accounts a on a.id = l.account_id
  order by l.priority desc, l.run_at, l.id;
end
$$;
revoke all on function private.claim_due_posts from public;
grant execute on function private.claim_due_posts to pacer_worker;

call private.hand_over_to_postgres();
