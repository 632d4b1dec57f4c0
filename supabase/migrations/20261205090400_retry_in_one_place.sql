-- One rule, one place: what a retry does to an item was written in two functions
-- (private.retry_queue_items, 20261205080100, and private.bulk_retry_queue_items, 20261205090100).
-- It is now private.requeue_for_retry, which both call; each keeps its own checks and answers (the
-- single retry refuses the whole request, the bulk one reports per item).
--
-- The rule (20261205080100): a needs_review item was never confirmed unpublished, and the engine never
-- re-sends one on its own; a person who has looked may. An item whose post Pacer has on record
-- (external_id: a thread that broke part-way) is live, so it is verified — the lookup finds it and the
-- engine sends only the missing parts — never published again. Anything else goes back to `pending`,
-- due now, keeping its idempotency key and its attempt count (the posting history's numbering).

create function private.requeue_for_retry(p_ids bigint[])
returns table (id bigint, status public.queue_status)
language sql security definer set search_path = ''
as $$
  update public.queue_items q set
    status = case when q.external_id is not null then 'verifying'::public.queue_status else 'pending'::public.queue_status end,
    run_at = now(), cancel_requested = false, last_error = null, error_class = null,
    unanswered_lookups = case when q.external_id is not null then 0 else q.unanswered_lookups end,
    absence_seen_at = case when q.external_id is not null then null else q.absence_seen_at end
  where q.id = any (p_ids)
  returning q.id, q.status
$$;
-- Only the two retry functions (security definer, owned like it) call it: no grant to anyone.
revoke all on function private.requeue_for_retry from public;

create or replace function private.retry_queue_items(p_workspace_id uuid, p_ids bigint[])
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
  -- Every id is this workspace's (checked above).
  select count(*) into v_count from private.requeue_for_retry(p_ids);
  return v_count;
end
$$;

create or replace function private.bulk_retry_queue_items(p_workspace_id uuid, p_ids bigint[])
returns table (id bigint, done boolean, status public.queue_status, was public.queue_status, reason text)
language plpgsql security definer set search_path = ''
as $$
#variable_conflict use_column
begin
  perform private.require_queue_role(p_workspace_id, 'retry posts');
  perform 1 from public.queue_items q where q.id = any (p_ids) and q.workspace_id = p_workspace_id order by q.id for update;
  return query
  with asked as (select distinct x.id from unnest(p_ids) as x(id)),
  was as (
    select q.id, q.status, q.last_error, a.archived_at is not null as account_removed
    from public.queue_items q join public.social_accounts a on a.id = q.account_id
    where q.id in (select a.id from asked a) and q.workspace_id = p_workspace_id
  ),
  changed as (
    select r.id, r.status from private.requeue_for_retry(array(
      select w.id from was w where w.status in ('failed', 'needs_review') and not w.account_removed)) r
  ),
  audited as (
    insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
    select p_workspace_id, (select auth.uid()), 'retry', 'queue_items', c.id::text,
           jsonb_build_object('status', w.status, 'last_error', w.last_error), jsonb_build_object('status', c.status)
    from changed c join was w on w.id = c.id
  )
  select a.id, c.id is not null, coalesce(c.status, w.status), w.status,
         case when w.id is null then 'not_found'
              when c.id is null and w.account_removed and w.status in ('failed', 'needs_review') then 'account_removed'
         end
  from asked a left join was w on w.id = a.id left join changed c on c.id = a.id
  order by a.id;
end
$$;

call private.hand_over_to_postgres();
