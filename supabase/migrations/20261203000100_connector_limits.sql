-- The three real connectors (Mastodon, Bluesky, Upload-Post) in the data the engine and the composer
-- read: each platform's text limit, the limit table's rows checked against the platforms' and
-- Upload-Post's published limits, the rate-limit budget a platform states on its answers (recorded
-- with the attempt, and an account it says is spent cools down until the reset), refreshed sessions
-- stored through the worker's role, and what an unknown attempt sent, for lookups that need it.

---------------------------------------------------------------------------------------------------
-- 1. What `public.platforms.enabled` means now. Whether an installation offers a platform is the
--    operator's PACER_CONNECTORS alone (lib/connectors/registry.ts, platformEnabled), read by the
--    server wherever an account is connected or a post queued. The database cannot read that
--    setting, so `enabled` now says only that Pacer has a connector for the platform at all: it stays
--    the database's backstop against rows written past the server (supabase-js reaches the tables),
--    refusing platforms no release can publish to. Every platform listed here has a connector now.
---------------------------------------------------------------------------------------------------
comment on column public.platforms.enabled is
  'Pacer has a connector for this platform. Whether this installation offers it is PACER_CONNECTORS (lib/connectors/registry.ts platformEnabled), checked by the server.';
update public.platforms set enabled = true
where id in ('sandbox', 'mastodon', 'bluesky', 'x', 'instagram', 'threads', 'facebook', 'tiktok', 'youtube',
             'linkedin', 'reddit', 'pinterest');

---------------------------------------------------------------------------------------------------
-- 2. Each platform's text limit, for the composer and the queue (one post; a first comment has the
--    same limit). The connectors enforce the same figures before sending (tests/queue/platform-limits
--    checks they agree). Mastodon: the instance's own limit is read by the connector at publish
--    (/api/v2/instance); 500 is Mastodon's default. Counted in graphemes where the platform counts
--    what a reader sees as one character (Mastodon, Bluesky), else in Unicode characters (code
--    points, as Upload-Post's connector counts).
---------------------------------------------------------------------------------------------------
alter table public.platforms
  add column text_limit integer check (text_limit > 0),
  add column text_unit text not null default 'characters' check (text_unit in ('characters', 'graphemes'));
comment on column public.platforms.text_limit is
  'Most characters (text_unit) one post''s text may have; null where Pacer knows no limit.';
comment on column public.platforms.text_unit is
  '''graphemes'': what a reader sees as one character (Intl.Segmenter); ''characters'': Unicode code points.';

update public.platforms p set text_limit = v.text_limit, text_unit = v.text_unit
from (values
  ('sandbox',    10000, 'characters'),  -- posts.text's own cap
  ('mastodon',     500, 'graphemes'),   -- the default max_characters; the instance's own is read at publish
  ('bluesky',      300, 'graphemes'),   -- app.bsky.feed.post (also at most 3,000 bytes)
  ('x',            280, 'characters'),  -- one post; Upload-Post would split a longer one into a thread
  ('threads',      500, 'characters'),
  ('instagram',   2200, 'characters'),
  ('tiktok',      2200, 'characters'),
  ('youtube',     5000, 'characters'),
  ('linkedin',    3000, 'characters'),
  ('facebook',   63206, 'characters'),
  ('pinterest',    500, 'characters'),
  ('reddit',     40000, 'characters')
) as v(id, text_limit, text_unit)
where p.id = v.id;

---------------------------------------------------------------------------------------------------
-- 3. The limit table (public.rate_limit_policies, read by private.effective_limit) against the
--    published limits (shared/platform-limits.md, docs/platforms/*.md). One claim of an item counts
--    once, though a post with a first comment makes two statuses/records.
---------------------------------------------------------------------------------------------------
-- Mastodon: 300 statuses per 3 h per account (instance default). 45 items/h, each with a first
-- comment at worst, is 270 statuses in 3 h; the former 60/h would have been 360. (The 300 requests
-- per 5 min per token is the connector's budget, read from X-RateLimit-* on every answer.)
update public.rate_limit_policies set per_hour = 45, per_day = 600,
  source = 'inside Mastodon''s 300 statuses per 3 h per account, a first comment counted (45/h = at most 270 statuses in 3 h)'
where platform = 'mastodon';
-- Bluesky: 5,000 write points per hour and 35,000 per day per account, a create costs 3, so 1,666
-- posts/h and 11,666/day; with a first comment an item is two creates. Unchanged, sourced.
update public.rate_limit_policies set
  source = 'inside Bluesky''s 1,666 creates/h and 11,666/day (5,000 and 35,000 write points, 3 a create); an item with a first comment is 2 creates'
where platform = 'bluesky';
-- Upload-Post's daily hard caps per connected social account (rolling 24 h, docs.upload-post.com
-- /guides/limit-of-uploads and /guides/rate-limits; docs/platforms/upload-post.md §4.2). Pacer's
-- seed defaults stay where they are tighter (TikTok 10 < 15, Instagram 15 < 50, LinkedIn 50 < 150,
-- Reddit 10 < 40); where Upload-Post's cap is tighter it is the default. Replies are not uploads.
update public.rate_limit_policies p set per_day = v.per_day, per_hour = least(p.per_hour, v.per_day), source = v.source
from (values
  ('youtube',   10, 'Upload-Post''s daily cap: 10 YouTube uploads per account per 24 h (tighter than seed 001''s 20/day)'),
  ('x',         10, 'Upload-Post''s daily cap: 10 X posts per account per 24 h on the Default/Free and Basic plans (20-50 on others; Pacer cannot see the plan); X itself allows 100 per 15 min'),
  ('threads',   50, 'Upload-Post''s daily cap: 50 Threads posts per account per 24 h (Threads allows 250)'),
  ('facebook',  25, 'Upload-Post''s daily cap: 25 Facebook posts per account per 24 h'),
  ('pinterest', 20, 'Upload-Post''s daily cap: 20 Pinterest pins per account per 24 h (another of its pages says 25)')
) as v(platform, per_day, source)
where p.platform = v.platform and p.action = 'post';
update public.rate_limit_policies p set source = p.source || v.note
from (values
  ('tiktok',    '; tighter than Upload-Post''s 15/day cap'),
  ('instagram', '; tighter than Upload-Post''s 50/day cap'),
  ('linkedin',  '; tighter than Upload-Post''s 150/day cap'),
  ('reddit',    '; tighter than Upload-Post''s 40/day cap')
) as v(platform, note)
where p.platform = v.platform and p.action = 'post';

---------------------------------------------------------------------------------------------------
-- 4. The budget a platform states on its answers (Mastodon X-RateLimit-*, Bluesky RateLimit-*,
--    Upload-Post X-RateLimit-*), recorded with the attempt that read it. When the engine judges it
--    spent (lib/engine/budget.ts: remaining at or below a small reserve), it sends `budget_until`
--    (the reset, capped) and the account cools down until then: the claim already holds an account
--    whose cooldown_until is ahead, so nothing more is sent before the platform would say 429.
---------------------------------------------------------------------------------------------------
alter table public.posting_history add column rate_limit jsonb
  check (rate_limit is null or (jsonb_typeof(rate_limit) = 'object' and pg_column_size(rate_limit) <= 512));
comment on column public.posting_history.rate_limit is
  'The rate-limit budget the platform stated on this attempt''s answer: {limit, remaining, reset_at, window_seconds?}.';

-- As in 20261202000800_account_effects.sql, plus: `rate_limit` kept in the history, and `budget_until`
-- (applied or not: a stale result's budget is still the platform's word) moving the account's cooldown.
create or replace function private.record_outcomes(p_results jsonb)
returns table (id bigint, applied boolean, status public.queue_status)
language plpgsql security definer set search_path = ''
as $$
begin
  return query
  with r as (
    select x.* from jsonb_to_recordset(p_results) as x(
      id bigint, lease_id uuid, mode text, attempt integer, outcome text, external_id text, external_url text,
      error_message text, retry_at timestamptz, started_at timestamptz, finished_at timestamptz,
      latency_ms integer, worker text, call_deadline_at timestamptz, verify_retry_ms integer[],
      rate_limit jsonb, budget_until timestamptz)
  ),
  -- When the latest publish can no longer land (first_lookup_at), and when its absence is confirmed.
  timed as (
    select r.*, q.cancel_requested, q.absence_seen_at, q.unanswered_lookups, q.account_id,
           t.deadline + pf.verify_margin_ms * interval '1 millisecond' as first_lookup_at,
           -- The confirming lookup also waits the confirming delay after the first "not found" itself,
           -- so two reads never land moments apart on the same lagging replica.
           greatest(t.deadline + (pf.verify_margin_ms + pf.verify_confirm_ms) * interval '1 millisecond',
                    coalesce(q.absence_seen_at, r.finished_at) + pf.verify_confirm_ms * interval '1 millisecond') as confirm_at
    from r
    join public.queue_items q on q.id = r.id
    join public.social_accounts a on a.id = q.account_id
    join public.platforms pf on pf.id = a.platform
    -- A publish times from its own call; a lookup from the publish it checks ('-infinity' for items
    -- that were verifying before the deadline was recorded).
    cross join lateral (select case when r.mode = 'publish' then coalesce(r.call_deadline_at, r.finished_at)
                                    else coalesce(q.call_deadline_at, '-infinity') end as deadline) t
  ),
  -- A not_found counts only when its lookup started after the attempt could land; the second
  -- that counts, after the confirming delay, is the one that lets the item be sent again.
  judged as (
    select t.*,
      case
        when t.outcome <> 'not_found' then null
        when t.started_at < t.first_lookup_at then 'early'
        when t.absence_seen_at is null or t.started_at < t.confirm_at then 'first'
        else 'confirmed'
      end as absence
    from timed t
  ),
  decided as (
    select t.*,
      case
        when t.outcome in ('posted', 'found') then 'posted'
        when t.outcome = 'unknown' then 'verifying'
        -- The platform could not be asked: again after the next wait; when none is left, a human decides.
        -- (Without verify_retry_ms, a worker of the first release decided by retry_at.)
        when t.outcome = 'unavailable' then
          case when (t.verify_retry_ms is null and t.retry_at is null)
                 or t.unanswered_lookups >= coalesce(cardinality(t.verify_retry_ms), 2147483647)
               then 'needs_review' else 'verifying' end
        when t.outcome = 'rate_limited' then
          case when t.cancel_requested then 'cancelled' else 'rate_limited' end
        when t.absence in ('early', 'first') then 'verifying'
        when t.outcome in ('retryable', 'not_found') then
          case when t.cancel_requested then 'cancelled' when t.retry_at is null then 'failed' else 'pending' end
        when t.outcome in ('auth_expired', 'restricted') then
          case when t.cancel_requested then 'cancelled' else 'pending' end
        else 'failed'  -- permanent, destination_rejected
      end::public.queue_status as next_status
    from judged t
  ),
  planned as (
    select d.*,
      case
        when d.outcome in ('auth_expired', 'restricted') then 'infinity'::timestamptz
        when d.outcome = 'unknown' then greatest(d.first_lookup_at, d.finished_at)
        when d.outcome = 'unavailable' and d.verify_retry_ms is not null then
          greatest(d.first_lookup_at, d.finished_at + d.verify_retry_ms[d.unanswered_lookups + 1] * interval '1 millisecond')
        when d.absence = 'early' then greatest(d.first_lookup_at, d.finished_at)
        when d.absence = 'first' then greatest(d.confirm_at, d.finished_at)
        else coalesce(d.retry_at, d.finished_at)
      end as next_run_at,
      case
        when d.absence in ('early', 'first') then
          'The platform shows no post from the earlier attempt yet; it is asked again before anything is sent.'
        when d.absence = 'confirmed' then
          'The platform has no post from the earlier attempt (confirmed by a second lookup); it will be sent again.'
        else d.error_message
      end as item_error
    from decided d
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
      last_error = case when d.next_status = 'posted' then null else d.item_error end,
      call_deadline_at = case when d.mode = 'publish' then coalesce(d.call_deadline_at, d.finished_at) else q.call_deadline_at end,
      unanswered_lookups = case when d.outcome = 'unavailable' then q.unanswered_lookups + 1 else 0 end,
      absence_seen_at = case
        when d.mode = 'publish' or d.absence = 'confirmed' then null
        when d.absence = 'first' then coalesce(q.absence_seen_at, d.finished_at)
        else q.absence_seen_at end
    from planned d
    where q.id = d.id and q.lease_id = d.lease_id
    returning q.id, q.status, q.account_id, q.workspace_id
  ),
  history as (
    insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, destination,
      kind, attempt, started_at, finished_at, outcome, error_message, latency_ms, external_id, worker, applied, rate_limit)
    select d.id, q.workspace_id, q.account_id, a.platform, q.action, p.destination,
           d.mode, d.attempt, d.started_at, d.finished_at, d.outcome, d.error_message, d.latency_ms,
           d.external_id, d.worker, d.id in (select u.id from updated u),
           case when jsonb_typeof(d.rate_limit) = 'object' and pg_column_size(d.rate_limit) <= 512 then d.rate_limit end
    from planned d
    join public.queue_items q on q.id = d.id
    join public.posts p on p.id = q.post_id
    join public.social_accounts a on a.id = q.account_id
  ),
  -- What an outcome says about the account itself (applied results only).
  effects as (
    select distinct on (d.account_id) d.account_id, d.outcome, d.error_message, d.retry_at
    from planned d
    where d.id in (select u.id from updated u)
      and d.outcome in ('auth_expired', 'restricted', 'rate_limited', 'posted')
    order by d.account_id,
             array_position(array['restricted', 'auth_expired', 'rate_limited', 'posted'], d.outcome), d.retry_at desc
  ),
  -- What the platform said is left of the account's budget: spent until the latest reset stated.
  budgets as (
    select d.account_id, max(d.budget_until) as budget_until
    from planned d
    where d.budget_until is not null
    group by d.account_id
  ),
  account_effects as (
    -- Every new value is computed from the row being updated (a.*), never from a second read of the
    -- table: when a person or the health scan pauses or resumes the account while this statement
    -- waits for its row lock, Postgres re-reads the row and recomputes from the committed version, so
    -- a concurrent pause is kept instead of being written back to 'active' (20261202000800).
    update public.social_accounts a set
      state = case x.outcome
                when 'auth_expired' then 'needs_reconnect'::public.account_state
                when 'restricted' then 'restricted'::public.account_state
                when 'posted' then case when a.state = 'connected' then 'active'::public.account_state else a.state end
                else a.state end,
      requires_review = a.requires_review or coalesce(x.outcome = 'restricted', false),
      cooldown_until = greatest(case when x.outcome = 'rate_limited' then greatest(a.cooldown_until, x.retry_at) else a.cooldown_until end,
                                x.budget_until),
      last_error = case when x.outcome in ('auth_expired', 'restricted', 'rate_limited') then x.error_message else a.last_error end
    from (
      select coalesce(e.account_id, b.account_id) as account_id, e.outcome, e.error_message, e.retry_at, b.budget_until
      from effects e full join budgets b on b.account_id = e.account_id
    ) x
    where a.id = x.account_id
      -- Only real changes are written: concurrent batches then rarely lock the same account rows.
      and (a.state, a.requires_review, a.cooldown_until, a.last_error) is distinct from (
        case x.outcome
          when 'auth_expired' then 'needs_reconnect'::public.account_state
          when 'restricted' then 'restricted'::public.account_state
          when 'posted' then case when a.state = 'connected' then 'active'::public.account_state else a.state end
          else a.state end,
        a.requires_review or coalesce(x.outcome = 'restricted', false),
        greatest(case when x.outcome = 'rate_limited' then greatest(a.cooldown_until, x.retry_at) else a.cooldown_until end,
                 x.budget_until),
        case when x.outcome in ('auth_expired', 'restricted', 'rate_limited') then x.error_message else a.last_error end)
  )
  -- Semi-joins against `updated` (IN): Postgres estimates a data-modifying CTE at one row, and a
  -- plain join against it would compare every row of a large batch with every other.
  select d.id, d.id in (select u.id from updated u),
         case when d.id in (select u.id from updated u) then d.next_status else q.status end
  from planned d
  join public.queue_items q on q.id = d.id;
end
$$;

---------------------------------------------------------------------------------------------------
-- 5. What the publish being verified sent, for platforms whose posts carry no key of ours (Mastodon
--    recognises its status by text, media count and send time): the latest publish attempt's
--    earliest start (a lease recovery's row starts at the lease, before any send) and any id an
--    answer carried. Read by the engine for the items it claimed to verify, as pacer_worker.
---------------------------------------------------------------------------------------------------
create function private.sent_attempts(p_item_ids bigint[])
returns table (queue_item_id bigint, sent_at timestamptz, external_id text)
language sql stable security definer set search_path = ''
as $$
  with latest as (
    select h.queue_item_id, max(h.attempt) as attempt
    from public.posting_history h
    where h.queue_item_id = any (p_item_ids) and h.kind = 'publish'
    group by h.queue_item_id
  )
  select l.queue_item_id, min(h.started_at), max(h.external_id)
  from latest l
  join public.posting_history h on h.queue_item_id = l.queue_item_id and h.kind = 'publish' and h.attempt = l.attempt
  group by l.queue_item_id
$$;

---------------------------------------------------------------------------------------------------
-- 6. A session the connector refreshed (Bluesky rotates its tokens) is stored at once, sealed by the
--    server, through the worker's role: the old refresh token dies two hours after the rotation. Only
--    over credentials the account still has (a disconnected account is not given them back), and
--    without what a reconnect does (store_account_credentials ends a health scan in flight): the
--    account and its identity are the same; only the token's reported expiry is forgotten.
---------------------------------------------------------------------------------------------------
create function private.store_refreshed_credentials(p_account_id uuid, p_sealed text)
returns boolean
language plpgsql security definer set search_path = ''
as $$
begin
  if p_sealed is null or p_sealed !~ '^v1:[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$' then
    raise exception 'Credentials must be sealed by the server (v1:<iv>:<ciphertext>); got something else.'
      using errcode = '22023', hint = 'Seal them with encryptCredentials (lib/accounts/credentials.ts).';
  end if;
  update public.social_accounts set credentials_encrypted = p_sealed
  where id = p_account_id and credentials_encrypted is not null;
  if not found then
    return false;
  end if;
  update private.account_health_state set token_expires_at = null where account_id = p_account_id;
  return true;
end
$$;

revoke all on function private.sent_attempts, private.store_refreshed_credentials from public;
grant execute on function private.sent_attempts, private.store_refreshed_credentials to pacer_worker;

call private.hand_over_to_postgres();
