-- What the queue's HTTP API needs beyond the engine: a caller's cancel and retry as named functions
-- (the API roles cannot update queue items), the status counts summed from the counter deltas,
-- indexes that keep the status and list reads flat with millions of items, and a per-user
-- fixed-window limiter for Pacer's own API, persisted so every server process shares it.

---------------------------------------------------------------------------------------------------
-- Indexes for the API's reads. The two partial ones hold only waiting items, so the engine's
-- claim and completion updates (which leave that set) add no entries to them.
---------------------------------------------------------------------------------------------------
-- nextDueAt: min(run_at) of a workspace's waiting items.
create index queue_items_workspace_due_idx on public.queue_items (workspace_id, run_at)
  where lease_id is null and status in ('pending', 'rate_limited', 'verifying');
-- oldestPendingAt: min(scheduled_for) of a workspace's items not yet published.
create index queue_items_workspace_waiting_idx on public.queue_items (workspace_id, scheduled_for)
  where status in ('pending', 'rate_limited');
-- The latest items with a given status. Posted items, the bulk of any mature workspace, stay out:
-- they are dense enough among the newest that queue_items_workspace_idx finds 50 of them at once.
create index queue_items_workspace_status_idx on public.queue_items (workspace_id, status, id desc)
  where status <> 'posted';

---------------------------------------------------------------------------------------------------
-- Status counts: the sum of the counter deltas for one workspace, for its members only.
---------------------------------------------------------------------------------------------------
create function private.queue_counts(p_workspace_id uuid)
returns table (platform text, status public.queue_status, n bigint)
language plpgsql stable security definer set search_path = ''
as $$
begin
  if not private.has_role_on_workspace(p_workspace_id, 'viewer') then
    raise exception 'You are not a member of this workspace.' using errcode = '42501';
  end if;
  return query
  select c.platform, c.status, sum(c.n)::bigint
  from private.queue_counters c
  where c.workspace_id = p_workspace_id
  group by c.platform, c.status;
end
$$;

---------------------------------------------------------------------------------------------------
-- The latest items' ids, optionally of one status. A function because under RLS the enum `=` (not
-- leakproof) cannot be an index condition, and the planner would walk the whole workspace instead.
-- The caller reads the rows themselves under RLS.
---------------------------------------------------------------------------------------------------
create function private.latest_queue_item_ids(p_workspace_id uuid, p_status public.queue_status, p_limit integer)
returns setof bigint
language plpgsql stable security definer set search_path = ''
as $$
begin
  if not private.has_role_on_workspace(p_workspace_id, 'viewer') then
    raise exception 'You are not a member of this workspace.' using errcode = '42501';
  end if;
  if p_status is null then
    return query
      select q.id from public.queue_items q where q.workspace_id = p_workspace_id order by q.id desc limit p_limit;
  else
    -- Planned with the status known, so the partial index (which leaves posted items out) applies.
    return query execute
      'select q.id from public.queue_items q where q.workspace_id = $1 and q.status = $2 order by q.id desc limit $3'
      using p_workspace_id, p_status, p_limit;
  end if;
end
$$;

---------------------------------------------------------------------------------------------------
-- Cancel: waiting items become cancelled at once; an item mid-publish (leased, or verifying, whose
-- post may already be live) is never torn: it is marked cancel_requested, and record_outcomes turns
-- its retry into cancelled once the attempt in flight has settled.
---------------------------------------------------------------------------------------------------
create function private.cancel_queue_items(
  p_workspace_id uuid,
  p_ids bigint[] default null,
  p_account_id uuid default null,
  p_from timestamptz default null,
  p_to timestamptz default null
) returns table (cancelled integer, cancel_requested integer)
language plpgsql security definer set search_path = ''
as $$
declare
  v_missing integer;
  v_conflicts jsonb;
begin
  if not private.has_role_on_workspace(p_workspace_id, 'editor') then
    raise exception 'Your role in this workspace does not allow cancelling posts; editors and up can.'
      using errcode = '42501';
  end if;

  if p_ids is not null then
    -- Lock the named items so a claim cannot lease one between the check and the change.
    perform 1 from public.queue_items q
    where q.id = any (p_ids) and q.workspace_id = p_workspace_id
    order by q.id
    for update;
    select count(*) into v_missing
    from (select distinct unnest(p_ids) as id) x
    where not exists (select 1 from public.queue_items q where q.id = x.id and q.workspace_id = p_workspace_id);
    if v_missing > 0 then
      -- Never say which: an id of another workspace and an id that does not exist look the same.
      raise exception '% of the % queue items to cancel were not found in this workspace; nothing was cancelled.',
        v_missing, cardinality(array(select distinct unnest(p_ids)))
        using errcode = 'P0002', detail = json_build_object('code', 'not_found')::text;
    end if;
    select jsonb_agg(jsonb_build_object('id', q.id, 'status', q.status) order by q.id) into v_conflicts
    from public.queue_items q
    where q.id = any (p_ids) and q.status in ('posted', 'failed');
    if v_conflicts is not null then
      raise exception 'Some of these queue items are already posted or failed and cannot be cancelled; nothing was cancelled.'
        using errcode = 'P0001',
              hint = 'Leave them out and send the request again.',
              detail = json_build_object('code', 'queue_item_conflict', 'items', v_conflicts)::text;
    end if;
  elsif p_account_id is null and p_from is null and p_to is null then
    raise exception 'Name the queue items to cancel, or a filter.' using errcode = '22023';
  end if;

  return query
  with candidates as (
    -- Each filter reads the index made for it, never the workspace's posted history.
    select unnest(p_ids) as id where p_ids is not null
    union all
    select w.id from public.queue_items w
    where p_ids is null and p_account_id is not null
      and w.account_id = p_account_id and w.status in ('pending', 'rate_limited')
    union all
    select w.id from public.queue_items w
    where p_ids is null and p_account_id is null
      and w.workspace_id = p_workspace_id and w.status in ('pending', 'rate_limited')
      and w.scheduled_for >= coalesce(p_from, '-infinity') and w.scheduled_for < coalesce(p_to, 'infinity')
    union all
    select w.id from public.queue_items w
    where p_ids is null and w.workspace_id = p_workspace_id and w.status in ('processing', 'verifying')
  ),
  changed as (
    update public.queue_items q set
      status = case when q.lease_id is null and q.status in ('pending', 'rate_limited', 'needs_review')
                    then 'cancelled'::public.queue_status else q.status end,
      cancel_requested = q.cancel_requested or q.lease_id is not null or q.status = 'verifying'
    where q.id in (select c.id from candidates c)
      and q.workspace_id = p_workspace_id
      and (p_account_id is null or q.account_id = p_account_id)
      and (p_from is null or q.scheduled_for >= p_from)
      and (p_to is null or q.scheduled_for < p_to)
      -- needs_review is cancelled only by id: each of those is a human's decision.
      and (q.status in ('pending', 'rate_limited', 'processing', 'verifying')
           or (p_ids is not null and q.status = 'needs_review'))
      and not (q.cancel_requested and q.status in ('processing', 'verifying'))
    returning q.status
  )
  select (count(*) filter (where c.status = 'cancelled'))::integer,
         (count(*) filter (where c.status <> 'cancelled'))::integer
  from changed c;
end
$$;

---------------------------------------------------------------------------------------------------
-- Retry: a human sends failed or needs_review items back to pending, due now.
---------------------------------------------------------------------------------------------------
create function private.retry_queue_items(p_workspace_id uuid, p_ids bigint[])
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_missing integer;
  v_conflicts jsonb;
  v_count integer;
begin
  if not private.has_role_on_workspace(p_workspace_id, 'editor') then
    raise exception 'Your role in this workspace does not allow retrying posts; editors and up can.'
      using errcode = '42501';
  end if;
  perform 1 from public.queue_items q
  where q.id = any (p_ids) and q.workspace_id = p_workspace_id
  order by q.id
  for update;
  select count(*) into v_missing
  from (select distinct unnest(p_ids) as id) x
  where not exists (select 1 from public.queue_items q where q.id = x.id and q.workspace_id = p_workspace_id);
  if v_missing > 0 then
    raise exception '% of the % queue items to retry were not found in this workspace; nothing was retried.',
      v_missing, cardinality(array(select distinct unnest(p_ids)))
      using errcode = 'P0002', detail = json_build_object('code', 'not_found')::text;
  end if;
  select jsonb_agg(jsonb_build_object('id', q.id, 'status', q.status) order by q.id) into v_conflicts
  from public.queue_items q
  where q.id = any (p_ids) and q.status not in ('failed', 'needs_review');
  if v_conflicts is not null then
    raise exception 'Only failed items and items needing review can be retried; nothing was retried.'
      using errcode = 'P0001',
            hint = 'Leave out the items that are waiting, in flight, posted or cancelled, and send the request again.',
            detail = json_build_object('code', 'queue_item_conflict', 'items', v_conflicts)::text;
  end if;

  -- A needs_review item was never confirmed unpublished: the platform could not be asked whether
  -- the earlier attempt landed. The engine never re-sends such an item on its own; a person who has
  -- looked at the account and found no post may. That is why this is the human's call, and only theirs.
  -- The item keeps its idempotency key, so a platform that honours one still refuses a duplicate.
  -- Attempt counters are kept (they number the posting history), so this is one more attempt.
  update public.queue_items q set
    status = 'pending', run_at = now(), cancel_requested = false, last_error = null, error_class = null
  where q.id = any (p_ids) and q.workspace_id = p_workspace_id;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

---------------------------------------------------------------------------------------------------
-- Pacer's own API limits: one row per user and bucket, counted in a fixed window that opens at the
-- first request after the previous one closed. One upsert per request; no clean-up needed.
---------------------------------------------------------------------------------------------------
create table private.api_rate_limits (
  user_id uuid not null references auth.users (id) on delete cascade,
  bucket text not null,
  window_start timestamptz not null,
  count integer not null,
  primary key (user_id, bucket)
);
alter table private.api_rate_limits enable row level security;

create function private.hit_api_rate_limit(p_bucket text, p_limit integer, p_window_seconds integer)
returns table (allowed boolean, used integer, retry_after_seconds integer)
language sql volatile security definer set search_path = ''
as $$
  insert into private.api_rate_limits as r (user_id, bucket, window_start, count)
  values ((select auth.uid()), p_bucket, now(), 1)
  on conflict (user_id, bucket) do update set
    count = case when r.window_start > now() - p_window_seconds * interval '1 second' then r.count + 1 else 1 end,
    window_start = case when r.window_start > now() - p_window_seconds * interval '1 second' then r.window_start else now() end
  returning r.count <= p_limit,
            r.count,
            greatest(1, ceil(extract(epoch from r.window_start + p_window_seconds * interval '1 second' - now())))::integer
$$;

revoke all on function private.queue_counts, private.latest_queue_item_ids, private.cancel_queue_items, private.retry_queue_items,
  private.hit_api_rate_limit from public;
grant execute on function private.queue_counts, private.latest_queue_item_ids, private.cancel_queue_items, private.retry_queue_items,
  private.hit_api_rate_limit to authenticated;
