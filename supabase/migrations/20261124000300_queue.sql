-- The posting queue: posts, one queue item per post × account, the append-only posting history,
-- rate-limit policies (platform defaults a workspace may only tighten) and the ledger they are
-- counted from. Every state transition of a queue item lives in the functions at the end of this file.

---------------------------------------------------------------------------------------------------
-- Posts and queue items.
---------------------------------------------------------------------------------------------------
create table public.posts (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  text text not null check (length(text) between 1 and 10000),
  media_urls text[] not null default '{}',
  first_comment text check (length(first_comment) <= 10000),
  -- A place inside the platform the account posts into without owning it: a subreddit, group, channel.
  destination text check (length(destination) <= 200),
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now()
);
create index posts_workspace_id_idx on public.posts (workspace_id, created_at desc);
-- Lets queue items reference a post of their own workspace only.
alter table public.posts add constraint posts_id_workspace_key unique (id, workspace_id);

create type public.queue_status as enum (
  'pending',       -- waiting for run_at
  'rate_limited',  -- waiting for run_at because a limit (ours or the platform's) said so
  'processing',    -- leased to a worker that is publishing it
  'verifying',     -- outcome unknown: the platform is asked before anything is sent again
  'posted',
  'failed',
  'cancelled',
  'needs_review'   -- automation cannot decide; a human must
);

-- Lets queue items reference an account of their own workspace only.
alter table public.social_accounts add constraint social_accounts_id_workspace_key unique (id, workspace_id);

create table public.queue_items (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  post_id uuid not null,
  account_id uuid not null,
  action text not null default 'post',
  priority smallint not null default 5 check (priority between 1 and 10),
  scheduled_for timestamptz not null default now(),
  -- When it may next be claimed: scheduled_for, a backoff, a rate-limit wait, or 'infinity' while
  -- its account is paused. Moving blocked work here keeps claims flat however large the backlog.
  run_at timestamptz not null default now(),
  status public.queue_status not null default 'pending',
  attempts integer not null default 0,
  verify_attempts integer not null default 0,
  lease_id uuid,
  lease_expires_at timestamptz,
  leased_at timestamptz,
  worker text,
  -- Sent with every attempt (and used to look the post up), so the platform sees one post.
  idempotency_key uuid not null default gen_random_uuid() unique,
  external_id text,
  external_url text,
  last_error text,
  error_class text,
  cancel_requested boolean not null default false,
  posted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (account_id, workspace_id) references public.social_accounts (id, workspace_id) on delete cascade,
  foreign key (post_id, workspace_id) references public.posts (id, workspace_id) on delete cascade,
  check ((lease_id is null) = (lease_expires_at is null)),
  check (status <> 'processing' or lease_id is not null)
);
-- The claim reads one range of this per priority: only unleased, waiting items are in it.
create index queue_items_claimable_idx on public.queue_items (priority, run_at)
  where lease_id is null and status in ('pending', 'rate_limited', 'verifying');
create index queue_items_leases_idx on public.queue_items (lease_expires_at) where lease_id is not null;
create index queue_items_account_waiting_idx on public.queue_items (account_id, run_at)
  where status in ('pending', 'rate_limited');
create index queue_items_workspace_idx on public.queue_items (workspace_id, id desc);
create index queue_items_post_id_idx on public.queue_items (post_id);

---------------------------------------------------------------------------------------------------
-- Posting history: one row per attempt (publish or verify), never updated or deleted.
---------------------------------------------------------------------------------------------------
create table public.posting_history (
  id bigint generated always as identity primary key,
  queue_item_id bigint not null,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  account_id uuid not null,
  platform text not null,
  action text not null,
  destination text,
  kind text not null check (kind in ('publish', 'verify')),
  attempt integer not null,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  outcome text not null,
  error_message text,
  latency_ms integer,
  external_id text,
  worker text,
  -- False when the worker's lease had expired: its result was recorded here but changed nothing.
  applied boolean not null default true
);
create index posting_history_workspace_idx on public.posting_history (workspace_id, finished_at desc);
create index posting_history_item_idx on public.posting_history (queue_item_id);
create index posting_history_account_idx on public.posting_history (account_id, finished_at desc);

create function private.refuse_history_change() returns trigger
language plpgsql set search_path = ''
as $$
begin
  raise exception 'The posting history is append-only.' using errcode = '42501';
end
$$;
create trigger posting_history_append_only before update or delete on public.posting_history
  for each row when (pg_trigger_depth() = 0) execute function private.refuse_history_change();

---------------------------------------------------------------------------------------------------
-- Rate limits: platform defaults as data; a workspace may only make them stricter.
---------------------------------------------------------------------------------------------------
create table public.rate_limit_policies (
  platform text not null references public.platforms (id),
  action text not null check (action in ('post', 'reply')),
  per_hour integer not null check (per_hour > 0),
  per_day integer not null check (per_day > 0),
  min_gap_ms integer not null default 0 check (min_gap_ms >= 0),
  source text not null,
  primary key (platform, action)
);

-- Conservative defaults of seeds/001 (TikTok, Instagram, YouTube, X, Reddit) and well inside the
-- published limits elsewhere (shared/platform-limits.md, gathered 2026-11).
insert into public.rate_limit_policies (platform, action, per_hour, per_day, min_gap_ms, source) values
  ('tiktok',    'post',      3,    10, 600000, 'seed 001: 3/h, 10/day; TikTok publishes 6 inits/min, daily cap unpublished'),
  ('instagram', 'post',      5,    15, 300000, 'seed 001: 5/h, 15/day; Graph API 25-100 per rolling 24 h'),
  ('youtube',   'post',      5,    20, 300000, 'seed 001: 5/h, 20/day; videos.insert 100/day bucket'),
  ('x',         'post',     10,    50,  60000, 'seed 001: 10/h, 50/day; X 100 per 15 min per user'),
  ('x',         'reply',    10,    50,  60000, 'seed 001 post limits applied to replies'),
  ('reddit',    'post',      2,    10, 600000, 'seed 001: 2/h, 10/day; Reddit 100 requests/min per client'),
  ('reddit',    'reply',     5,    30, 120000, 'conservative; Reddit 100 requests/min per client'),
  ('threads',   'post',     10,   100,  60000, 'inside Threads 250 posts per 24 h'),
  ('threads',   'reply',    20,   400,  30000, 'inside Threads 1,000 replies per 24 h'),
  ('facebook',  'post',     10,    50,  60000, 'conservative; Pages have no fixed count, back off above 90% usage'),
  ('linkedin',  'post',      5,    50, 300000, 'inside the secondary source''s 150 posts/day'),
  ('pinterest', 'post',     10,   100,  60000, 'conservative; standard access 100 requests/s'),
  ('bluesky',   'post',    100,  1000,  10000, 'inside 1,666 creates/h and 11,666/day (5,000 and 35,000 points)'),
  ('bluesky',   'reply',   100,  1000,  10000, 'inside 1,666 creates/h and 11,666/day (5,000 and 35,000 points)'),
  ('mastodon',  'post',     60,   600,  10000, 'inside 300 posts per 3 h per account'),
  ('mastodon',  'reply',    60,   600,  10000, 'inside 300 posts per 3 h per account'),
  ('sandbox',   'post',   3600, 50000,      0, 'Pacer''s sandbox platform: generous so tests measure the engine'),
  ('sandbox',   'reply',  3600, 50000,      0, 'Pacer''s sandbox platform');

create table public.workspace_rate_limits (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  platform text not null,
  action text not null,
  per_hour integer check (per_hour > 0),
  per_day integer check (per_day > 0),
  min_gap_ms integer check (min_gap_ms >= 0),
  updated_at timestamptz not null default now(),
  primary key (workspace_id, platform, action),
  foreign key (platform, action) references public.rate_limit_policies (platform, action)
);

create function private.refuse_looser_limits() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  d public.rate_limit_policies;
begin
  select * into d from public.rate_limit_policies where platform = new.platform and action = new.action;
  if new.per_hour > d.per_hour or new.per_day > d.per_day or new.min_gap_ms < d.min_gap_ms then
    raise exception 'A workspace may only make % % limits stricter: at most % per hour, % per day, and at least % ms between actions.',
      new.platform, new.action, d.per_hour, d.per_day, d.min_gap_ms
      using errcode = 'P0001',
            detail = json_build_object('code', 'limit_too_loose', 'per_hour', d.per_hour, 'per_day', d.per_day,
                                       'min_gap_ms', d.min_gap_ms)::text;
  end if;
  new.updated_at := now();
  return new;
end
$$;
create trigger refuse_looser_limits before insert or update on public.workspace_rate_limits
  for each row execute function private.refuse_looser_limits();

-- One row per publish attempt started, counted by the claim: a restart never resets a window.
create table private.rate_limit_ledger (
  account_id uuid not null,
  action text not null,
  at timestamptz not null
);
create index rate_limit_ledger_idx on private.rate_limit_ledger (account_id, action, at);
alter table private.rate_limit_ledger enable row level security;

---------------------------------------------------------------------------------------------------
-- Queue counters: per-statement deltas, summed on read and compacted by the processor, so the
-- status endpoint never counts millions of rows and workers never contend on one counter row.
---------------------------------------------------------------------------------------------------
create table private.queue_counters (
  workspace_id uuid not null,
  platform text not null,
  status public.queue_status not null,
  n bigint not null
);
create index queue_counters_idx on private.queue_counters (workspace_id, platform, status);
alter table private.queue_counters enable row level security;

create function private.count_queue_changes() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if tg_op in ('INSERT', 'UPDATE') then
    insert into private.queue_counters (workspace_id, platform, status, n)
    select n.workspace_id, a.platform, n.status, count(*)
    from new_rows n join public.social_accounts a on a.id = n.account_id
    group by 1, 2, 3;
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    insert into private.queue_counters (workspace_id, platform, status, n)
    select o.workspace_id, coalesce(a.platform, '?'), o.status, -count(*)
    from old_rows o left join public.social_accounts a on a.id = o.account_id
    group by 1, 2, 3;
  end if;
  return null;
end
$$;
create trigger count_inserts after insert on public.queue_items
  referencing new table as new_rows for each statement execute function private.count_queue_changes();
create trigger count_updates after update on public.queue_items
  referencing old table as old_rows new table as new_rows for each statement execute function private.count_queue_changes();
create trigger count_deletes after delete on public.queue_items
  referencing old table as old_rows for each statement execute function private.count_queue_changes();

-- An account's items go before the account itself, so their counters are taken off under its
-- platform (a cascade would run after the account row is gone).
create function private.delete_account_items() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  delete from public.queue_items where account_id = old.id;
  return old;
end
$$;
create trigger delete_account_items before delete on public.social_accounts
  for each row execute function private.delete_account_items();

create function private.compact_queue_counters() returns void
language sql security definer set search_path = ''
as $$
  with gone as (delete from private.queue_counters returning *)
  insert into private.queue_counters (workspace_id, platform, status, n)
  select workspace_id, platform, status, sum(n) from gone group by 1, 2, 3 having sum(n) <> 0
$$;

create trigger touch_updated_at before update on public.queue_items
  for each row execute function private.touch_updated_at();

---------------------------------------------------------------------------------------------------
-- Effective limits: the platform's default, tightened by the workspace where it chose to.
---------------------------------------------------------------------------------------------------
create function private.effective_limit(p_workspace_id uuid, p_platform text, p_action text)
returns table (per_hour integer, per_day integer, min_gap_ms integer)
language sql stable security definer set search_path = ''
as $$
  select least(d.per_hour, w.per_hour), least(d.per_day, w.per_day), greatest(d.min_gap_ms, w.min_gap_ms)
  from public.rate_limit_policies d
  left join public.workspace_rate_limits w
    on w.workspace_id = p_workspace_id and w.platform = d.platform and w.action = d.action
  where d.platform = p_platform and d.action = p_action
$$;

-- Accounts Pacer may publish for. Everything else waits (paused, restricted, needs_reconnect, needs_review).
create function private.account_can_publish(p_state public.account_state)
returns boolean language sql immutable set search_path = ''
as $$ select p_state in ('connected', 'active') $$;

---------------------------------------------------------------------------------------------------
-- Claim: lease due items to a worker, inside every limit.
---------------------------------------------------------------------------------------------------
create function private.claim_due_posts(p_worker text, p_limit integer, p_lease_seconds integer default 120)
returns table (
  id bigint, lease_id uuid, mode text, attempts integer, verify_attempts integer, idempotency_key uuid,
  workspace_id uuid, account_id uuid, platform text, handle text, credentials_encrypted text,
  action text, text text, media_urls text[], first_comment text, destination text
)
language plpgsql security definer set search_path = ''
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_ids bigint[];
  v_granted bigint[];
  b record;
begin
  -- 1. Due, unleased items by priority then time. One short index range per priority keeps the
  --    cost flat however many items wait for later; SKIP LOCKED makes each claim exclusive.
  select array_agg(c.id) into v_ids from (
    select q.id
    from generate_series(10, 1, -1) as p(priority)
    cross join lateral (
      select q.id from public.queue_items q
      where q.lease_id is null and q.status in ('pending', 'rate_limited', 'verifying')
        and q.priority = p.priority and q.run_at <= v_now
      order by q.run_at
      limit p_limit
      for update skip locked
    ) q
    limit p_limit
  ) c;
  if v_ids is null then
    return;
  end if;

  -- 2. Budget decisions are serialised per account: another worker may hold other items of it.
  perform pg_advisory_xact_lock(hashtextextended(x.account_id::text || '/' || x.action, 0))
  from (select distinct q.account_id, q.action from public.queue_items q
        where q.id = any (v_ids) and q.status <> 'verifying' order by 1, 2) x;
  -- Budgets are judged, and recorded, as of now: waiting for a lock may have taken a while.
  v_now := clock_timestamp();

  -- 3. Per account and action: how many of its candidates may go now, and when the rest may.
  --    Usage comes from the persisted ledger, so a restart never resets a window.
  v_granted := '{}';
  for b in
    with cand as (
      select q.id, q.account_id, q.action, q.workspace_id,
             row_number() over (partition by q.account_id, q.action order by q.priority desc, q.run_at, q.id) as k
      from public.queue_items q where q.id = any (v_ids) and q.status <> 'verifying'
    ),
    acct as (
      select c.account_id, c.action, c.workspace_id, a.state, a.cooldown_until,
             lim.per_hour, lim.per_day, lim.min_gap_ms, u.used_hour, u.used_day, u.last_at,
             array_agg(c.id order by c.k) as ids
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
        else greatest(0, least(acct.per_hour - acct.used_hour, acct.per_day - acct.used_day,
                               case when acct.min_gap_ms > 0 then 1 else cardinality(acct.ids) end))
      end as allowed
    from acct
  loop
    v_granted := v_granted || b.ids[1:b.allowed];
    if b.allowed < cardinality(b.ids) then
      perform private.defer_account_items(b.account_id, b.action, b.ids[1:b.allowed],
        private.next_allowed_at(b.account_id, b.action, b.state, b.cooldown_until, b.per_hour, b.per_day,
                                b.min_gap_ms, b.used_hour, b.used_day, b.last_at, b.allowed, v_now),
        case when not private.account_can_publish(b.state) then 'pending'::public.queue_status
             else 'rate_limited'::public.queue_status end,
        case when b.per_hour is null then 'No rate-limit policy exists for this platform and action.'
             when not private.account_can_publish(b.state) then 'Waiting: the account is ' || replace(b.state::text, '_', ' ') || '.'
             when b.cooldown_until > v_now then 'Waiting: the account is cooling down.'
             else 'Waiting for the account''s rate limit (' || b.per_hour || '/h, ' || b.per_day || '/day, '
                  || b.min_gap_ms || ' ms apart).' end);
    end if;
  end loop;

  insert into private.rate_limit_ledger (account_id, action, at)
  select q.account_id, q.action, v_now from public.queue_items q where q.id = any (v_granted);

  -- 4. Lease what may go: granted publishes, and every verification (a read, not a post).
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

-- When an account may next act, given its usage after this claim granted `p_granted` more.
create function private.next_allowed_at(
  p_account_id uuid, p_action text, p_state public.account_state, p_cooldown_until timestamptz,
  p_per_hour integer, p_per_day integer, p_min_gap_ms integer,
  p_used_hour integer, p_used_day integer, p_last_at timestamptz, p_granted integer, p_now timestamptz
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
  -- A full window opens when enough of its oldest entries age out.
  v_over := p_used_hour + p_granted - p_per_hour;
  if v_over >= 0 then
    v_at := greatest(v_at, coalesce((
      select l.at from private.rate_limit_ledger l
      where l.account_id = p_account_id and l.action = p_action and l.at > p_now - interval '1 hour'
      order by l.at offset v_over limit 1), p_now) + interval '1 hour');
  end if;
  v_over := p_used_day + p_granted - p_per_day;
  if v_over >= 0 then
    v_at := greatest(v_at, coalesce((
      select l.at from private.rate_limit_ledger l
      where l.account_id = p_account_id and l.action = p_action and l.at > p_now - interval '1 day'
      order by l.at offset v_over limit 1), p_now) + interval '1 day');
  end if;
  return v_at;
end
$$;

-- Move an account's waiting items (except those just granted) to when they may next run.
-- SKIP LOCKED: items another worker is claiming right now are that worker's to decide.
create function private.defer_account_items(
  p_account_id uuid, p_action text, p_keep bigint[], p_until timestamptz,
  p_status public.queue_status, p_reason text
) returns void
language sql security definer set search_path = ''
as $$
  update public.queue_items q set run_at = p_until, status = p_status, last_error = p_reason
  where q.id in (
    select w.id from public.queue_items w
    where w.account_id = p_account_id and w.action = p_action
      and w.status in ('pending', 'rate_limited') and w.lease_id is null
      and w.run_at < p_until and w.id <> all (p_keep)
    for update skip locked)
$$;

---------------------------------------------------------------------------------------------------
-- Record outcomes: one statement for a whole batch of attempts. Every write is fenced by the
-- lease, so a worker whose lease expired changes nothing (its attempt is still in the history).
---------------------------------------------------------------------------------------------------
create function private.record_outcomes(p_results jsonb)
returns table (id bigint, applied boolean, status public.queue_status)
language plpgsql security definer set search_path = ''
as $$
begin
  return query
  with r as (
    select x.* from jsonb_to_recordset(p_results) as x(
      id bigint, lease_id uuid, mode text, attempt integer, outcome text, external_id text, external_url text,
      error_message text, retry_at timestamptz, started_at timestamptz, finished_at timestamptz,
      latency_ms integer, worker text)
  ),
  -- The single place where an attempt's outcome becomes the item's next state.
  decided as (
    select r.*, q.account_id,
      case
        when r.outcome in ('posted', 'found') then 'posted'
        when r.outcome = 'unknown' then 'verifying'
        when r.outcome = 'unavailable' then case when r.retry_at is null then 'needs_review' else 'verifying' end
        when r.outcome = 'rate_limited' then
          case when q.cancel_requested then 'cancelled' else 'rate_limited' end
        when r.outcome in ('retryable', 'not_found') then
          case when q.cancel_requested then 'cancelled' when r.retry_at is null then 'failed' else 'pending' end
        when r.outcome in ('auth_expired', 'restricted') then
          case when q.cancel_requested then 'cancelled' else 'pending' end
        else 'failed'  -- permanent, destination_rejected
      end::public.queue_status as next_status,
      case
        when r.outcome in ('auth_expired', 'restricted') then 'infinity'::timestamptz
        else coalesce(r.retry_at, r.finished_at)
      end as next_run_at
    from r join public.queue_items q on q.id = r.id
  ),
  updated as (
    update public.queue_items q set
      status = d.next_status,
      run_at = case when d.next_status in ('pending', 'rate_limited', 'verifying') then d.next_run_at else q.run_at end,
      lease_id = null, lease_expires_at = null, leased_at = null,
      -- A rate-limit refusal published nothing and spends no retry (the history keeps the row).
      attempts = q.attempts - (d.outcome = 'rate_limited')::integer,
      external_id = coalesce(d.external_id, q.external_id),
      external_url = coalesce(d.external_url, q.external_url),
      posted_at = case when d.next_status = 'posted' then d.finished_at else q.posted_at end,
      error_class = case when d.next_status = 'posted' then null else d.outcome end,
      last_error = case when d.next_status = 'posted' then null else d.error_message end
    from decided d
    where q.id = d.id and q.lease_id = d.lease_id
    returning q.id, q.status, q.account_id, q.workspace_id
  ),
  history as (
    insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, destination,
      kind, attempt, started_at, finished_at, outcome, error_message, latency_ms, external_id, worker, applied)
    select d.id, q.workspace_id, q.account_id, a.platform, q.action, p.destination,
           d.mode, d.attempt, d.started_at, d.finished_at, d.outcome, d.error_message, d.latency_ms,
           d.external_id, d.worker, d.id in (select u.id from updated u)
    from decided d
    join public.queue_items q on q.id = d.id
    join public.posts p on p.id = q.post_id
    join public.social_accounts a on a.id = q.account_id
  ),
  -- What an outcome says about the account itself. Only real changes are written: concurrent
  -- batches then rarely lock the same account rows (and never wait on each other for nothing).
  account_effects as (
    update public.social_accounts a set
      state = e.state, requires_review = e.requires_review, cooldown_until = e.cooldown_until, last_error = e.last_error
    from (
      select x.account_id,
             case x.outcome
               when 'auth_expired' then 'needs_reconnect'::public.account_state
               when 'restricted' then 'restricted'::public.account_state
               when 'posted' then case when acc.state = 'connected' then 'active'::public.account_state else acc.state end
               else acc.state end as state,
             acc.requires_review or x.outcome = 'restricted' as requires_review,
             case when x.outcome = 'rate_limited' then greatest(acc.cooldown_until, x.retry_at) else acc.cooldown_until end
               as cooldown_until,
             case when x.outcome in ('auth_expired', 'restricted', 'rate_limited') then x.error_message else acc.last_error end
               as last_error
      from (
        select distinct on (d.account_id) d.account_id, d.outcome, d.error_message, d.retry_at
        from decided d
        where d.id in (select u.id from updated u)
          and d.outcome in ('auth_expired', 'restricted', 'rate_limited', 'posted')
        order by d.account_id,
                 array_position(array['restricted', 'auth_expired', 'rate_limited', 'posted'], d.outcome), d.retry_at desc
      ) x
      join public.social_accounts acc on acc.id = x.account_id
    ) e
    where a.id = e.account_id
      and (a.state, a.requires_review, a.cooldown_until, a.last_error)
          is distinct from (e.state, e.requires_review, e.cooldown_until, e.last_error)
  )
  -- Semi-joins against `updated` (IN): Postgres estimates a data-modifying CTE at one row, and a
  -- plain join against it would compare every row of a large batch with every other.
  select d.id, d.id in (select u.id from updated u),
         case when d.id in (select u.id from updated u) then d.next_status else q.status end
  from decided d
  join public.queue_items q on q.id = d.id;
end
$$;

---------------------------------------------------------------------------------------------------
-- Recovery: an expired lease means a worker stopped mid-attempt. Its publish may have landed, so
-- the item goes to verification, never straight back to publishing.
---------------------------------------------------------------------------------------------------
create function private.recover_expired_leases(p_limit integer default 1000)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_count integer;
begin
  with expired as (
    select q.id, q.status as was, q.lease_id, q.leased_at, q.worker,
           case when q.status = 'verifying' then q.verify_attempts else q.attempts end as attempt
    from public.queue_items q
    where q.lease_id is not null and q.lease_expires_at < v_now
    order by q.lease_expires_at
    limit p_limit
    for update skip locked
  ),
  recovered as (
    update public.queue_items q set
      status = 'verifying', run_at = v_now, lease_id = null, lease_expires_at = null, leased_at = null,
      error_class = 'unknown',
      last_error = 'The worker stopped before recording the outcome; asking the platform whether it was published.'
    from expired e where q.id = e.id
    returning q.id
  )
  insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, destination,
    kind, attempt, started_at, finished_at, outcome, error_message, worker)
  select e.id, q.workspace_id, q.account_id, a.platform, q.action, p.destination,
         case when e.was = 'verifying' then 'verify' else 'publish' end, e.attempt, e.leased_at, v_now,
         'lease_expired', 'The worker''s lease expired before it recorded an outcome.', e.worker
  from expired e
  join recovered r on r.id = e.id
  join public.queue_items q on q.id = e.id
  join public.posts p on p.id = q.post_id
  join public.social_accounts a on a.id = q.account_id;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

-- A resumed account's waiting items come back from 'infinity'.
create function private.release_resumed_account() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  -- The claim's per-account locks, in the claim's order: a claim that read the account as paused
  -- commits its parking first, so this sees (and releases) every item it parked.
  perform pg_advisory_xact_lock(hashtextextended(new.id::text || '/' || p.action, 0))
  from (select distinct action from public.rate_limit_policies order by 1) p;
  update public.queue_items q set run_at = greatest(q.scheduled_for, now()), last_error = null
  where q.account_id = new.id and q.status in ('pending', 'rate_limited') and q.run_at = 'infinity';
  return null;
end
$$;
create trigger release_resumed_account after update of state on public.social_accounts
  for each row when (private.account_can_publish(new.state) and not private.account_can_publish(old.state))
  execute function private.release_resumed_account();

-- Prune what no window needs any more (the posting history keeps the record).
create function private.prune_rate_limit_ledger() returns integer
language sql security definer set search_path = ''
as $$
  with gone as (delete from private.rate_limit_ledger where at < now() - interval '25 hours' returning 1)
  select count(*)::integer from gone
$$;

---------------------------------------------------------------------------------------------------
-- Row level security and grants.
---------------------------------------------------------------------------------------------------
alter table public.posts enable row level security;
alter table public.queue_items enable row level security;
alter table public.posting_history enable row level security;
alter table public.rate_limit_policies enable row level security;
alter table public.workspace_rate_limits enable row level security;

create policy "Members can read their workspaces' posts" on public.posts
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));
create policy "Editors and up can write posts" on public.posts
  for insert to authenticated with check (workspace_id in (select private.my_workspace_ids('editor')));

create policy "Members can read their workspaces' queue" on public.queue_items
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));
create policy "Editors and up can queue posts" on public.queue_items
  for insert to authenticated with check (workspace_id in (select private.my_workspace_ids('editor')));

create policy "Members can read their workspaces' posting history" on public.posting_history
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));

create policy "Anyone signed in can read the platform limits" on public.rate_limit_policies
  for select to authenticated using (true);

create policy "Members can read their workspace's limits" on public.workspace_rate_limits
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));
create policy "Admins and owners can tighten limits" on public.workspace_rate_limits
  for insert to authenticated with check (workspace_id in (select private.my_workspace_ids('admin')));
create policy "Admins and owners can change limits" on public.workspace_rate_limits
  for update to authenticated
  using (workspace_id in (select private.my_workspace_ids('admin')))
  with check (workspace_id in (select private.my_workspace_ids('admin')));
create policy "Admins and owners can remove limits" on public.workspace_rate_limits
  for delete to authenticated using (workspace_id in (select private.my_workspace_ids('admin')));

revoke all on public.posts, public.queue_items, public.posting_history, public.rate_limit_policies,
              public.workspace_rate_limits from anon, authenticated;
grant select on public.posts, public.queue_items, public.posting_history, public.rate_limit_policies,
                public.workspace_rate_limits to authenticated;
-- The id too: a bulk request makes its posts' ids first, to reference them from their queue items.
grant insert (id, workspace_id, text, media_urls, first_comment, destination) on public.posts to authenticated;
-- Queue items enter as pending; every later state change goes through the functions above.
grant insert (workspace_id, post_id, account_id, priority, scheduled_for, run_at) on public.queue_items to authenticated;
grant update (per_hour, per_day, min_gap_ms), delete on public.workspace_rate_limits to authenticated;
grant insert (workspace_id, platform, action, per_hour, per_day, min_gap_ms) on public.workspace_rate_limits to authenticated;

create trigger set_created_by before insert on public.posts
  for each row execute function private.set_created_by();

-- The engine's role reaches the queue only through these functions.
revoke all on function private.claim_due_posts, private.record_outcomes, private.recover_expired_leases,
  private.compact_queue_counters, private.prune_rate_limit_ledger, private.next_allowed_at,
  private.defer_account_items, private.effective_limit from public;
grant execute on function private.claim_due_posts, private.record_outcomes, private.recover_expired_leases,
  private.compact_queue_counters, private.prune_rate_limit_ledger to pacer_worker;
