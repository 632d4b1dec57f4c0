-- Reconciliation, two findings (docs/reconciliation.md):
--   1. A duplicate publish was invisible: with two platform posts carrying one item's marker, the
--      second was ignored, so the operator's duplicate figure and alert (private.ops_published_items:
--      an item whose successes name more than one external id) never saw it. Now each extra post is
--      a row of public.duplicate_posts (one per item and post: a second run adds nothing), a history
--      row the duplicate figure counts, a change in the run's report, and a line in the review queue.
--   2. A record a person marked posted with only a link (no external id) was flagged missing on every
--      run that read its post: it was looked for by id and marker only. Now a post is also found by
--      its link.

---------------------------------------------------------------------------------------------------
-- Duplicate posts: a post on the platform carrying the marker of an item that already has a post
-- there. One row per item and extra post, open until a person acknowledges it (after removing the
-- extra post on the platform, or deciding to keep it). Written only by reconciliation.
---------------------------------------------------------------------------------------------------
create table public.duplicate_posts (
  queue_item_id bigint not null references public.queue_items (id) on delete cascade,
  -- The extra post.
  external_id text not null,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  account_id uuid not null,
  external_url text,
  created_on_platform_at timestamptz,
  -- The post Pacer keeps as the item's (its recorded post, or the earliest).
  kept_external_id text,
  noticed_at timestamptz not null default now(),
  resolved_at timestamptz,
  resolution text check (resolution in ('acknowledged')),
  resolved_by uuid,
  primary key (queue_item_id, external_id),
  check ((resolved_at is null) = (resolution is null))
);
create index duplicate_posts_open_idx on public.duplicate_posts (workspace_id, noticed_at desc) where resolved_at is null;
alter table public.duplicate_posts enable row level security;
create policy "Members can read their workspaces' duplicate posts" on public.duplicate_posts
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));
revoke all on public.duplicate_posts from anon, authenticated;
grant select on public.duplicate_posts to authenticated;

-- A person has dealt with an item's extra posts (removed them on the platform, or chose to keep
-- them) and closes the flags; reconciliation never reopens them.
create function private.acknowledge_duplicate_posts(p_workspace_id uuid, p_ids bigint[])
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_count integer;
begin
  if not private.has_role_on_workspace(p_workspace_id, 'editor') then
    raise exception 'Your role in this workspace does not allow acknowledging duplicate posts; editors and up can.'
      using errcode = '42501';
  end if;
  with acked as (
    update public.duplicate_posts d set resolved_at = now(), resolution = 'acknowledged', resolved_by = (select auth.uid())
    where d.queue_item_id = any (p_ids) and d.workspace_id = p_workspace_id and d.resolved_at is null
    returning d.queue_item_id, d.external_id
  ), audited as (
    insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
    select p_workspace_id, (select auth.uid()), 'review.acknowledge_duplicate', 'queue_items', a.queue_item_id::text,
           jsonb_build_object('duplicate', true, 'external_id', a.external_id), jsonb_build_object('resolution', 'acknowledged')
    from acked a
    returning 1
  )
  select count(*) into v_count from audited;
  return v_count;
end
$$;

---------------------------------------------------------------------------------------------------
-- Record what a run read (as in 20261202000400), plus:
--   'duplicate'  a post carrying the marker of an item that is posted (or recorded by this run) and
--                is not the item's own post. The item's own post is the one with its recorded
--                external id, else the one at its recorded link, else the earliest (as when
--                recording). Each extra post is a duplicate_posts row and a history row
--                (kind 'reconcile', outcome 'found', the extra post's id): the item's successes then
--                name two ids, which is what the duplicate figure and alert count. When the item's
--                own post is on no history row yet (a record a person made with a link only), it
--                gets one too, or the item would still name a single id.
--   A posted record is present when a post has its external id, its link, or its marker.
---------------------------------------------------------------------------------------------------
create or replace function private.record_reconciliation(p_results jsonb)
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
  -- Every post carrying the marker of a posted item (or one recorded just now), ranked: 1 is the
  -- item's own post, every other is a duplicate. A post listed twice (pages that overlap) counts once.
  marked as (
    select q.id, q.workspace_id, q.account_id, q.action, q.post_id, q.attempts, f.id is not null as recorded_now,
           p.external_id, p.url, p.created_at,
           row_number() over (partition by q.id order by
             (p.external_id = coalesce(f.external_id, q.external_id)) is true desc,
             (p.url = coalesce(f.url, q.external_url)) is true desc,
             p.created_at, p.external_id) as rank
    from (select distinct on (p.account_id, p.external_id) p.* from posts p
          where p.marker is not null and p.external_id <> '') p
    join public.queue_items q on q.idempotency_key = p.marker and q.account_id = p.account_id
    left join found f on f.id = q.id
    where q.status = 'posted' or f.id is not null
  ),
  duplicated as (
    insert into public.duplicate_posts (queue_item_id, external_id, workspace_id, account_id, external_url,
                                        created_on_platform_at, kept_external_id)
    select m.id, m.external_id, m.workspace_id, m.account_id, m.url, m.created_at, k.external_id
    from marked m
    join marked k on k.id = m.id and k.rank = 1
    where m.rank > 1
    on conflict (queue_item_id, external_id) do nothing
    returning duplicate_posts.queue_item_id, duplicate_posts.external_id, duplicate_posts.workspace_id,
              duplicate_posts.account_id, duplicate_posts.kept_external_id
  ),
  duplicate_history as (
    insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, destination,
      kind, attempt, started_at, finished_at, outcome, error_message, external_id, worker)
    -- The extra posts.
    select d.queue_item_id, d.workspace_id, d.account_id, a.platform, q.action, p.destination,
           'reconcile', q.attempts, now(), now(), 'found',
           format('Reconciliation found another post of this item on the platform: a duplicate of %s. Remove it there, then acknowledge it in the review queue.',
                  coalesce(d.kept_external_id, 'its post')),
           d.external_id, 'reconcile'
    from duplicated d
    join public.queue_items q on q.id = d.queue_item_id
    join public.posts p on p.id = q.post_id
    join public.social_accounts a on a.id = d.account_id
    union all
    -- The item's own post, when no history row names it yet (and this run did not just record it).
    select k.id, k.workspace_id, k.account_id, a.platform, k.action, p.destination,
           'reconcile', k.attempts, now(), now(), 'found',
           'Reconciliation found this item''s post on the platform, beside a duplicate.', k.external_id, 'reconcile'
    from marked k
    join public.posts p on p.id = k.post_id
    join public.social_accounts a on a.id = k.account_id
    where k.rank = 1 and not k.recorded_now
      and k.id in (select d.queue_item_id from duplicated d)
      and not exists (select 1 from public.posting_history h
                      where h.queue_item_id = k.id and h.external_id = k.external_id and h.outcome in ('posted', 'found'))
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
  -- Present: a post with the record's external id, its link (a person may have given only the link)
  -- or its marker.
  gone as (
    select c.* from covered c
    where not exists (select 1 from posts p where p.account_id = c.account_id
                        and (p.external_id = c.external_id or p.url = c.external_url or p.marker = c.idempotency_key))
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
  select 'reappeared', m.account_id, m.workspace_id, m.queue_item_id, m.external_id from reappeared m
  union all
  select 'duplicate', d.account_id, d.workspace_id, d.queue_item_id, d.external_id from duplicated d;
end
$$;

revoke all on function private.acknowledge_duplicate_posts(uuid, bigint[]) from public, anon;
grant execute on function private.acknowledge_duplicate_posts(uuid, bigint[]) to authenticated;
-- create or replace keeps record_reconciliation's grants (the worker's only).

call private.hand_over_to_postgres();
