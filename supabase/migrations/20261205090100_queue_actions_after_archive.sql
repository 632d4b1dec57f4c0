-- Where the queue's bulk actions (20261205030100), account removal (20261205040100) and the retry of
-- a live thread (20261205080100) meet:
--   * a bulk retry follows retry_queue_items' rule: an item whose post Pacer has on record is
--     verified (finishing a thread or first comment), never published again;
--   * a retry or restore of an item whose account was removed is skipped with its reason
--     (`account_removed`) instead of failing the whole request on the removed-account trigger;
--   * the plan-limit message says "12 are in use" when more are in use than the plan allows.

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
    -- As retry_queue_items: a post on record (external_id) is verified, not sent again.
    update public.queue_items q set
      status = case when q.external_id is not null then 'verifying'::public.queue_status else 'pending'::public.queue_status end,
      run_at = now(), cancel_requested = false, last_error = null, error_class = null,
      unanswered_lookups = case when q.external_id is not null then 0 else q.unanswered_lookups end,
      absence_seen_at = case when q.external_id is not null then null else q.absence_seen_at end
    from was w
    where q.id = w.id and w.status in ('failed', 'needs_review') and not w.account_removed
    returning q.id, q.status
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

create or replace function private.restore_queue_items(p_workspace_id uuid, p_ids bigint[])
returns table (id bigint, done boolean, status public.queue_status, was public.queue_status, reason text)
language plpgsql security definer set search_path = ''
as $$
#variable_conflict use_column
begin
  perform private.require_queue_role(p_workspace_id, 'restore posts');
  perform 1 from public.queue_items q where q.id = any (p_ids) and q.workspace_id = p_workspace_id order by q.id for update;
  return query
  with asked as (select distinct x.id from unnest(p_ids) as x(id)),
  was as (
    select q.id, q.status, q.scheduled_for, q.attempts, q.verify_attempts, a.archived_at is not null as account_removed
    from public.queue_items q join public.social_accounts a on a.id = q.account_id
    where q.id in (select a.id from asked a) and q.workspace_id = p_workspace_id
  ),
  changed as (
    update public.queue_items q set
      status = 'pending', run_at = w.scheduled_for, cancel_requested = false, last_error = null, error_class = null
    from was w
    where q.id = w.id and w.status = 'cancelled' and w.scheduled_for > now() and w.attempts = 0 and w.verify_attempts = 0
      and not w.account_removed
    returning q.id, q.status
  ),
  audited as (
    insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
    select p_workspace_id, (select auth.uid()), 'restore', 'queue_items', c.id::text,
           jsonb_build_object('status', w.status), jsonb_build_object('status', c.status)
    from changed c join was w on w.id = c.id
  )
  select a.id, c.id is not null, coalesce(c.status, w.status), w.status,
         case when w.id is null then 'not_found'
              when c.id is null and w.status = 'cancelled' and w.account_removed then 'account_removed'
              when c.id is null and w.status = 'cancelled' and (w.attempts > 0 or w.verify_attempts > 0) then 'was_tried'
              when c.id is null and w.status = 'cancelled' then 'time_passed'
         end
  from asked a left join was w on w.id = a.id left join changed c on c.id = a.id
  order by a.id;
end
$$;

create or replace function private.enforce_account_limit()
returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_plan public.plans;
  v_used integer;
begin
  select p.* into v_plan
  from public.workspaces w join public.plans p on p.id = w.plan_id
  where w.id = new.workspace_id
  for no key update of w;

  select count(*) into v_used from public.social_accounts
  where workspace_id = new.workspace_id and archived_at is null;

  if v_used >= v_plan.max_accounts then
    -- More can be in use than the plan allows (a downgrade pauses the extra ones): say the real count.
    raise exception 'This workspace is on the % plan, which allows % social accounts, and %.',
      v_plan.name, v_plan.max_accounts,
      case when v_used = v_plan.max_accounts then 'all ' || v_used || ' are in use'
           else v_used || ' are in use (' || (v_used - v_plan.max_accounts) || ' paused over the limit)' end
      using errcode = 'P0001',
            hint = 'Remove an account or upgrade the plan to add more.',
            detail = json_build_object('code', 'plan_limit_reached', 'plan', v_plan.id,
                                       'max_accounts', v_plan.max_accounts, 'used', v_used)::text;
  end if;
  return new;
end
$$;

call private.hand_over_to_postgres();
