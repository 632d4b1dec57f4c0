-- One rule, one place: what a cancel does to an item was written in two functions
-- (private.cancel_queue_items, 20261124000500, and private.bulk_cancel_queue_items, 20261205030100).
-- It is now private.apply_cancel, which both call, as retry's rule is private.requeue_for_retry
-- (20261205090400); each keeps its own checks and answers (the single cancel refuses the whole
-- request or takes a filter and counts, the bulk one reports and audits per item).
--
-- The rule (20261124000500): a waiting item (and an item needing review, when named by id) becomes
-- cancelled at once; an item mid-publish (leased, or verifying, whose post may already be live) is
-- never torn: it is marked cancel_requested, and record_outcomes turns its retry into cancelled once
-- the attempt in flight has settled. An item in flight already marked is left as it is; posted,
-- failed and cancelled items are not touched.

-- p_by_id: the items were named one by one. Only then are items needing review cancelled: each of
-- those is a person's decision, never a filter's.
create function private.apply_cancel(p_ids bigint[], p_by_id boolean)
returns table (id bigint, status public.queue_status, cancel_requested boolean)
language sql security definer set search_path = ''
as $$
  update public.queue_items q set
    status = case when q.lease_id is null and q.status in ('pending', 'rate_limited', 'needs_review')
                  then 'cancelled'::public.queue_status else q.status end,
    cancel_requested = q.cancel_requested or q.lease_id is not null or q.status = 'verifying'
  where q.id = any (p_ids)
    and (q.status in ('pending', 'rate_limited', 'processing', 'verifying')
         or (p_by_id and q.status = 'needs_review'))
    and not (q.cancel_requested and (q.lease_id is not null or q.status in ('processing', 'verifying')))
  returning q.id, q.status, q.cancel_requested
$$;
-- Only the two cancel functions (security definer, owned like it) call it: no grant to anyone.
revoke all on function private.apply_cancel from public;

create or replace function private.cancel_queue_items(
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
  chosen as (
    -- This workspace's, within the filter (the in-flight candidates above are the workspace's all).
    select q.id from public.queue_items q
    where q.id in (select c.id from candidates c)
      and q.workspace_id = p_workspace_id
      and (p_account_id is null or q.account_id = p_account_id)
      and (p_from is null or q.scheduled_for >= p_from)
      and (p_to is null or q.scheduled_for < p_to)
  ),
  changed as (
    select c.status from private.apply_cancel(array(select c.id from chosen c), p_ids is not null) c
  )
  select (count(*) filter (where c.status = 'cancelled'))::integer,
         (count(*) filter (where c.status <> 'cancelled'))::integer
  from changed c;
end
$$;

create or replace function private.bulk_cancel_queue_items(p_workspace_id uuid, p_ids bigint[])
returns table (id bigint, done boolean, status public.queue_status, was public.queue_status, reason text)
language plpgsql security definer set search_path = ''
as $$
#variable_conflict use_column
begin
  perform private.require_queue_role(p_workspace_id, 'cancel posts');
  perform 1 from public.queue_items q where q.id = any (p_ids) and q.workspace_id = p_workspace_id order by q.id for update;
  return query
  with asked as (select distinct x.id from unnest(p_ids) as x(id)),
  was as (
    select q.id, q.status, q.lease_id, q.cancel_requested from public.queue_items q
    where q.id in (select a.id from asked a) and q.workspace_id = p_workspace_id
  ),
  changed as (
    -- Every id is this workspace's (was), and named one by one.
    select c.id, c.status, c.cancel_requested from private.apply_cancel(array(select w.id from was w), true) c
  ),
  audited as (
    insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
    select p_workspace_id, (select auth.uid()), 'cancel', 'queue_items', c.id::text,
           jsonb_build_object('status', w.status, 'cancel_requested', w.cancel_requested),
           jsonb_build_object('status', c.status, 'cancel_requested', c.cancel_requested)
    from changed c join was w on w.id = c.id
  )
  select a.id, c.id is not null, coalesce(c.status, w.status), w.status,
         case when w.id is null then 'not_found'
              when c.id is not null and c.status <> 'cancelled' then 'cancel_requested'
              when c.id is null and w.status in ('processing', 'verifying', 'pending', 'rate_limited') then 'cancel_already_requested'
         end
  from asked a left join was w on w.id = a.id left join changed c on c.id = a.id
  order by a.id;
end
$$;

call private.hand_over_to_postgres();
