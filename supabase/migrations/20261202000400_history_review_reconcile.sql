-- Posting history as a product surface (filters, keyset pages at 10M rows), the review queue's
-- decisions (mark posted, retry, cancel, acknowledge a missing post; each audited with who), and
-- reconciliation: Pacer's records held against the posts each account really has on its platform.

---------------------------------------------------------------------------------------------------
-- Posting history: who settled an item besides the engine, and the indexes GET /api/history reads.
---------------------------------------------------------------------------------------------------
-- Besides publish and verify attempts, two rows that are not attempts: a person who marked the item
-- posted from the review queue ('review', with actor_id), and reconciliation finding the item's post
-- on the platform with no posted record ('reconcile'). NOT VALID then VALIDATE: the history is large,
-- and validating under a weaker lock lets the engine keep writing meanwhile.
alter table public.posting_history drop constraint posting_history_kind_check;
alter table public.posting_history add constraint posting_history_kind_check
  check (kind in ('publish', 'verify', 'review', 'reconcile')) not valid;
alter table public.posting_history validate constraint posting_history_kind_check;
-- Who decided, for rows a person made (kind 'review'); null for the engine and reconciliation.
alter table public.posting_history add column actor_id uuid;

-- Every history read is one workspace's (or one account's) newest first, keyset-paged on
-- (finished_at, id): each filter GET /api/history offers gets an index in that order, so a page is a
-- short forward range scan whatever the table's size. The two older indexes are replaced by the same
-- columns plus the id tie-breaker (a page boundary inside one millisecond must not rescan).
-- Filters combined beyond these (platform + outcome, destination + outcome) read the narrower
-- index and filter the rest; docs/api.md says so and bench/history.ts measures it.
drop index public.posting_history_workspace_idx;
drop index public.posting_history_account_idx;
create index posting_history_workspace_idx on public.posting_history (workspace_id, finished_at desc, id desc);
create index posting_history_account_idx on public.posting_history (account_id, finished_at desc, id desc);
-- Outcomes are skewed (most rows are posted): the rare ones (failures, "why did this fail") would
-- otherwise walk thousands of posted rows per page.
create index posting_history_outcome_idx on public.posting_history (workspace_id, outcome, finished_at desc, id desc);
create index posting_history_account_outcome_idx on public.posting_history (account_id, outcome, finished_at desc, id desc);
-- A platform that is a small share of a workspace's posts.
create index posting_history_platform_idx on public.posting_history (workspace_id, platform, finished_at desc, id desc);
-- Destinations (subreddits, groups, channels): only rows that have one.
create index posting_history_destination_idx on public.posting_history (workspace_id, destination, finished_at desc, id desc)
  where destination is not null;

---------------------------------------------------------------------------------------------------
-- Missing posts: a posted record whose post reconciliation no longer finds on the platform. One row
-- per item (a second run adds nothing), open until the post reappears or a person acknowledges it.
---------------------------------------------------------------------------------------------------
create table public.missing_posts (
  queue_item_id bigint primary key references public.queue_items (id) on delete cascade,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  account_id uuid not null,
  external_id text,
  external_url text,
  noticed_at timestamptz not null default now(),
  resolved_at timestamptz,
  resolution text check (resolution in ('reappeared', 'acknowledged')),
  resolved_by uuid,
  check ((resolved_at is null) = (resolution is null))
);
create index missing_posts_open_idx on public.missing_posts (workspace_id, noticed_at desc) where resolved_at is null;
create index missing_posts_account_idx on public.missing_posts (account_id) where resolved_at is null;
alter table public.missing_posts enable row level security;
create policy "Members can read their workspaces' missing posts" on public.missing_posts
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));
revoke all on public.missing_posts from anon, authenticated;
grant select on public.missing_posts to authenticated;

-- Reconciliation reads one account's posted items in a time window: without this it would walk the
-- account's whole queue (no other index leads with account_id for posted items).
create index queue_items_account_posted_idx on public.queue_items (account_id, posted_at) where status = 'posted';

-- When each account was last reconciled, and the lease of a run reading it now (runs may overlap).
create table private.account_reconciliations (
  account_id uuid primary key references public.social_accounts (id) on delete cascade,
  reconciled_at timestamptz,
  leased_until timestamptz,
  last_error text
);
create index account_reconciliations_due_idx on private.account_reconciliations (reconciled_at nulls first);
alter table private.account_reconciliations enable row level security;

---------------------------------------------------------------------------------------------------
-- Review: the ids of a workspace's items needing review (a function for the same reason as
-- private.latest_queue_item_ids: under RLS the enum `=` cannot be an index condition).
---------------------------------------------------------------------------------------------------
create function private.review_item_ids(p_workspace_id uuid, p_limit integer)
returns setof bigint
language plpgsql stable security definer set search_path = ''
as $$
begin
  if not private.has_role_on_workspace(p_workspace_id, 'viewer') then
    raise exception 'You are not a member of this workspace.' using errcode = '42501';
  end if;
  return query
    select q.id from public.queue_items q
    where q.workspace_id = p_workspace_id and q.status = 'needs_review'
    order by q.id desc limit p_limit;
end
$$;

-- One audit row per decided item: who, what, and the item before and after.
create function private.audit_review(p_workspace_id uuid, p_action text, p_before jsonb, p_note jsonb default null)
returns void
language sql security definer set search_path = ''
as $$
  insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
  select p_workspace_id, (select auth.uid()), p_action, 'queue_items', b ->> 'id', b,
         coalesce(p_note, '{}'::jsonb) || jsonb_build_object('status', q.status, 'cancel_requested', q.cancel_requested)
  from jsonb_array_elements(p_before) b
  join public.queue_items q on q.id = (b ->> 'id')::bigint
$$;

-- The review queue's retry and cancel: the queue's own functions (same rules, same errors), audited.
create function private.review_retry(p_workspace_id uuid, p_ids bigint[])
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_before jsonb;
  v_count integer;
begin
  select jsonb_agg(jsonb_build_object('id', q.id, 'status', q.status, 'last_error', q.last_error)) into v_before
  from public.queue_items q where q.id = any (p_ids) and q.workspace_id = p_workspace_id;
  v_count := private.retry_queue_items(p_workspace_id, p_ids);
  perform private.audit_review(p_workspace_id, 'review.retry', coalesce(v_before, '[]'));
  return v_count;
end
$$;

create function private.review_cancel(p_workspace_id uuid, p_ids bigint[])
returns table (cancelled integer, cancel_requested integer)
language plpgsql security definer set search_path = ''
as $$
#variable_conflict use_column
declare
  v_before jsonb;
begin
  if p_ids is null or cardinality(p_ids) = 0 then
    raise exception 'Name the queue items to cancel.' using errcode = '22023';
  end if;
  select jsonb_agg(jsonb_build_object('id', q.id, 'status', q.status, 'last_error', q.last_error)) into v_before
  from public.queue_items q where q.id = any (p_ids) and q.workspace_id = p_workspace_id;
  return query select * from private.cancel_queue_items(p_workspace_id, p_ids);
  perform private.audit_review(p_workspace_id, 'review.cancel', coalesce(v_before, '[]'));
end
$$;

---------------------------------------------------------------------------------------------------
-- Mark posted: a person has seen the post on the platform and says so, with its id or link.
-- Allowed for items whose publish may have landed or that a person may have posted themselves, and
-- that no attempt is in flight for:
--   needs_review            the platform could not be asked; this is the decision the state waits for;
--   verifying (not leased)  an unknown outcome; a person who sees the post settles it sooner, and
--                           marking it posted can only stop a send, never cause one;
--   failed                  the platform refused or the retries ran out, and a person posted it by hand.
-- Refused: processing and leased verifying (an attempt is in flight: its outcome decides; wait),
-- pending and rate_limited (never or not yet sent: cancel it instead), posted (already recorded) and
-- cancelled (a person's earlier decision; it was never confirmed published).
-- The exactly-once contract (../shared/engine.md) only forbids sending again without asking first;
-- every allowed case here ends sending, so none can make a duplicate.
---------------------------------------------------------------------------------------------------
create function private.mark_posted(
  p_workspace_id uuid, p_id bigint, p_external_id text, p_external_url text
) returns table (id bigint, status public.queue_status, external_id text, external_url text, posted_at timestamptz)
language plpgsql security definer set search_path = ''
as $$
#variable_conflict use_column
declare
  v_item public.queue_items;
  v_posted_at timestamptz;
begin
  if not private.has_role_on_workspace(p_workspace_id, 'editor') then
    raise exception 'Your role in this workspace does not allow marking posts as posted; editors and up can.'
      using errcode = '42501';
  end if;
  if nullif(btrim(p_external_id), '') is null and nullif(btrim(p_external_url), '') is null then
    raise exception 'Give the post''s id on the platform or its link.' using errcode = '22023';
  end if;
  select * into v_item from public.queue_items q
  where q.id = p_id and q.workspace_id = p_workspace_id
  for update;
  if not found then
    raise exception 'Queue item % was not found in this workspace.', p_id
      using errcode = 'P0002', detail = json_build_object('code', 'not_found')::text;
  end if;
  if not (v_item.status in ('needs_review', 'failed') or (v_item.status = 'verifying' and v_item.lease_id is null)) then
    raise exception 'Queue item % is %: only items needing review, failed, or waiting to be verified can be marked posted.',
      p_id, case when v_item.lease_id is not null then 'being published or checked right now' else replace(v_item.status::text, '_', ' ') end
      using errcode = 'P0001',
            hint = case when v_item.lease_id is not null then 'Wait for the attempt in flight to finish, then look again.'
                        when v_item.status in ('pending', 'rate_limited') then 'It has not been published: cancel it instead.'
                        else 'Nothing needs deciding for it.' end,
            detail = json_build_object('code', 'queue_item_conflict', 'items',
                                       json_build_array(json_build_object('id', v_item.id, 'status', v_item.status)))::text;
  end if;

  -- When the post most likely went live: the latest publish attempt's start (it landed during that
  -- attempt, or a person posted it after); reconciliation compares posts by this time.
  select h.started_at into v_posted_at from public.posting_history h
  where h.queue_item_id = p_id and h.kind = 'publish' order by h.started_at desc limit 1;
  v_posted_at := coalesce(v_posted_at, now());

  update public.queue_items q set
    status = 'posted', external_id = coalesce(nullif(btrim(p_external_id), ''), q.external_id),
    external_url = coalesce(nullif(btrim(p_external_url), ''), q.external_url),
    posted_at = v_posted_at, last_error = null, error_class = null, cancel_requested = false,
    absence_seen_at = null, unanswered_lookups = 0
  where q.id = p_id;

  insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, destination,
    kind, attempt, started_at, finished_at, outcome, error_message, external_id, worker, actor_id)
  select q.id, q.workspace_id, q.account_id, a.platform, q.action, p.destination,
         'review', q.attempts, now(), now(), 'posted', 'Marked posted by a person from the review queue.',
         q.external_id, null, (select auth.uid())
  from public.queue_items q
  join public.posts p on p.id = q.post_id
  join public.social_accounts a on a.id = q.account_id
  where q.id = p_id;

  perform private.audit_review(p_workspace_id, 'review.mark_posted',
    jsonb_build_array(jsonb_build_object('id', v_item.id, 'status', v_item.status, 'last_error', v_item.last_error,
                                         'external_id', v_item.external_id, 'external_url', v_item.external_url)),
    jsonb_build_object('external_id', p_external_id, 'external_url', p_external_url));

  return query select q.id, q.status, q.external_id, q.external_url, q.posted_at from public.queue_items q where q.id = p_id;
end
$$;

-- A person has looked at a missing post (deleted by the account's owner, removed by the platform)
-- and closes the flag; reconciliation never reopens it.
create function private.acknowledge_missing_posts(p_workspace_id uuid, p_ids bigint[])
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_count integer;
begin
  if not private.has_role_on_workspace(p_workspace_id, 'editor') then
    raise exception 'Your role in this workspace does not allow acknowledging missing posts; editors and up can.'
      using errcode = '42501';
  end if;
  with acked as (
    update public.missing_posts m set resolved_at = now(), resolution = 'acknowledged', resolved_by = (select auth.uid())
    where m.queue_item_id = any (p_ids) and m.workspace_id = p_workspace_id and m.resolved_at is null
    returning m.queue_item_id, m.external_id
  ), audited as (
    insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
    select p_workspace_id, (select auth.uid()), 'review.acknowledge_missing', 'queue_items', a.queue_item_id::text,
           jsonb_build_object('missing', true, 'external_id', a.external_id), jsonb_build_object('resolution', 'acknowledged')
    from acked a
    returning 1
  )
  select count(*) into v_count from audited;
  return v_count;
end
$$;

---------------------------------------------------------------------------------------------------
-- Reconciliation. Claim: lease the accounts reconciled longest ago (never first), skipping those
-- another run holds, so overlapping runs split the work. Accounts Pacer publishes for are read
-- (private.account_can_publish); the others wait for a person anyway.
---------------------------------------------------------------------------------------------------
create function private.claim_reconciliation(
  p_limit integer, p_lease_seconds integer, p_min_age_seconds integer, p_run_started_at timestamptz,
  p_workspace_id uuid default null
) returns table (account_id uuid, workspace_id uuid, platform text, handle text, credentials_encrypted text)
language plpgsql security definer set search_path = ''
as $$
#variable_conflict use_column
begin
  insert into private.account_reconciliations (account_id)
  select a.id from public.social_accounts a
  where private.account_can_publish(a.state) and a.credentials_encrypted is not null
    and (p_workspace_id is null or a.workspace_id = p_workspace_id)
    and not exists (select 1 from private.account_reconciliations r where r.account_id = a.id)
  on conflict do nothing;

  return query
  with picked as (
    select r.account_id from private.account_reconciliations r
    join public.social_accounts a on a.id = r.account_id
    where private.account_can_publish(a.state) and a.credentials_encrypted is not null
      and (p_workspace_id is null or a.workspace_id = p_workspace_id)
      and (r.leased_until is null or r.leased_until < now())
      -- Never twice in one run, whatever the minimum age.
      and (r.reconciled_at is null
           or r.reconciled_at <= least(now() - p_min_age_seconds * interval '1 second', p_run_started_at))
    order by r.reconciled_at nulls first, r.account_id
    limit p_limit
    for update of r skip locked
  ), leased as (
    update private.account_reconciliations r set leased_until = now() + p_lease_seconds * interval '1 second'
    from picked where r.account_id = picked.account_id
    returning r.account_id
  )
  select a.id, a.workspace_id, a.platform, a.handle, a.credentials_encrypted
  from leased l join public.social_accounts a on a.id = l.account_id;
end
$$;

-- Record what a run read, set-based for the whole batch. p_results: one element per account:
--   { account_id, since, read_at, complete, error, posts: [{ external_id, url, created_at, marker }] }
-- `complete` says every post since `since` was read (only then can a post be called gone).
-- Returns one row per change: 'recorded' (a post with Pacer's marker had no posted record: the item
-- is settled posted), 'flagged' (a posted record's post is gone), 'reappeared' (a flagged post is back).
-- Run twice with the same posts, the second changes nothing.
create function private.record_reconciliation(p_results jsonb)
returns table (change text, account_id uuid, workspace_id uuid, queue_item_id bigint, external_id text)
language plpgsql security definer set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
  with accounts as (
    select x.account_id, x.since, x.read_at, coalesce(x.complete, false) as complete, x.error, x.posts
    from jsonb_to_recordset(p_results) as x(account_id uuid, since timestamptz, read_at timestamptz,
                                            complete boolean, error text, posts jsonb)
  ),
  posts as (
    select ac.account_id, p.external_id, p.url, p.created_at,
           case when p.marker ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then p.marker::uuid end as marker
    from accounts ac
    cross join lateral jsonb_to_recordset(coalesce(ac.posts, '[]')) as p(external_id text, url text, created_at timestamptz, marker text)
    where ac.error is null
  ),
  -- A post carrying the key of one of this account's items that has no posted record. With two posts
  -- of one key (a duplicate), the first is the item's. Items in flight (leased) settle themselves.
  found as (
    select distinct on (q.id) q.id, q.workspace_id, q.account_id, p.external_id, p.url, p.created_at
    from posts p
    join public.queue_items q on q.idempotency_key = p.marker and q.account_id = p.account_id
    where p.marker is not null and q.status <> 'posted' and q.lease_id is null
    order by q.id, p.created_at, p.external_id
  ),
  recorded as (
    update public.queue_items q set
      status = 'posted', external_id = f.external_id, external_url = coalesce(f.url, q.external_url),
      posted_at = coalesce(f.created_at, now()), last_error = null, error_class = null, cancel_requested = false,
      absence_seen_at = null, unanswered_lookups = 0
    from found f
    where q.id = f.id and q.status <> 'posted' and q.lease_id is null
    returning q.id, q.workspace_id, q.account_id, q.external_id, q.attempts, q.action, q.post_id
  ),
  recorded_history as (
    insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, destination,
      kind, attempt, started_at, finished_at, outcome, error_message, external_id, worker)
    select r.id, r.workspace_id, r.account_id, a.platform, r.action, p.destination,
           'reconcile', r.attempts, now(), now(), 'found',
           'Reconciliation found this post on the platform with no posted record, and recorded it.', r.external_id, 'reconcile'
    from recorded r
    join public.posts p on p.id = r.post_id
    join public.social_accounts a on a.id = r.account_id
    returning 1
  ),
  -- Posted records the read covered: posted after `since` by more than the longest a verification or
  -- a person usually takes to settle a post (so a post made just before `since` is not taken for gone),
  -- and before the platform's reads can be trusted to show it (its verify margins).
  covered as (
    select q.id, q.workspace_id, q.account_id, q.external_id, q.external_url, q.idempotency_key
    from accounts ac
    join public.social_accounts a on a.id = ac.account_id
    join public.platforms pf on pf.id = a.platform
    join public.queue_items q on q.account_id = ac.account_id and q.status = 'posted'
    where ac.error is null and ac.complete
      and q.posted_at >= ac.since + interval '1 hour'
      and q.posted_at <= ac.read_at - (pf.verify_margin_ms + pf.verify_confirm_ms) * interval '1 millisecond'
  ),
  gone as (
    select c.* from covered c
    where not exists (select 1 from posts p where p.account_id = c.account_id
                        and (p.external_id = c.external_id or p.marker = c.idempotency_key))
  ),
  flagged as (
    insert into public.missing_posts (queue_item_id, workspace_id, account_id, external_id, external_url)
    select g.id, g.workspace_id, g.account_id, g.external_id, g.external_url from gone g
    on conflict (queue_item_id) do nothing
    returning missing_posts.queue_item_id, missing_posts.workspace_id, missing_posts.account_id, missing_posts.external_id
  ),
  reappeared as (
    update public.missing_posts m set resolved_at = now(), resolution = 'reappeared'
    from covered c
    where m.queue_item_id = c.id and m.resolved_at is null and c.id not in (select g.id from gone g)
    returning m.queue_item_id, m.workspace_id, m.account_id, m.external_id
  ),
  released as (
    update private.account_reconciliations r set
      -- A failed read is retried first by a later run (not by this one, which holds it a while longer).
      leased_until = case when ac.error is null then null else now() + interval '5 minutes' end,
      reconciled_at = case when ac.error is null then now() else r.reconciled_at end,
      last_error = ac.error
    from accounts ac where r.account_id = ac.account_id
    returning 1
  )
  select 'recorded', r.account_id, r.workspace_id, r.id, r.external_id from recorded r
  union all
  select 'flagged', f.account_id, f.workspace_id, f.queue_item_id, f.external_id from flagged f
  union all
  select 'reappeared', m.account_id, m.workspace_id, m.queue_item_id, m.external_id from reappeared m;
end
$$;

---------------------------------------------------------------------------------------------------
-- Grants: the people's functions to authenticated (each checks the role itself), the job's to the
-- worker role.
---------------------------------------------------------------------------------------------------
revoke all on function private.review_item_ids, private.audit_review, private.review_retry, private.review_cancel,
  private.mark_posted, private.acknowledge_missing_posts, private.claim_reconciliation, private.record_reconciliation
  from public, anon;
grant execute on function private.review_item_ids, private.review_retry, private.review_cancel,
  private.mark_posted, private.acknowledge_missing_posts to authenticated;
grant execute on function private.claim_reconciliation, private.record_reconciliation to pacer_worker;

-- Hourly: platforms' read limits are precious, and a missing record is no emergency once verification
-- has settled every unknown outcome.
select private.schedule_function('reconcile', 3600);

call private.hand_over_to_postgres();
