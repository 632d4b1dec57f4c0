-- Queue management (issue 12): the queue page's list (filters, text search, keyset pages through
-- any number of items), bulk cancel / retry / reschedule on a selection with an outcome for every
-- item (what was done, what was skipped and why), restoring a cancelled item whose time has not
-- passed, editing a post's thread and platform options, and the processing schedule's cadence so
-- the page can say when the next run is.
--
-- As before, queue items change only through named functions (the API roles have no UPDATE on
-- them); each function checks the caller's role, locks the items in id order (as cancel, retry and
-- reschedule do, so two of them never wait on each other in a cycle, and a claim either leased an
-- item before or skips it until this commits), and changes them with ONE set-based statement that
-- also writes the audit rows. Ids of another workspace come back as `not_found`, exactly like ids
-- that do not exist, so a reply never says which ids exist elsewhere.

---------------------------------------------------------------------------------------------------
-- 1. Pages: every item of a workspace in scheduled order, keyset-paged on (scheduled_for, id).
---------------------------------------------------------------------------------------------------
create index queue_items_workspace_scheduled_idx on public.queue_items (workspace_id, scheduled_for, id);

-- The ids of one page, after (p_after_at, p_after_id) in the order asked for, at most p_limit. A
-- function for the reason latest_queue_item_ids is one (under RLS the enum `=` and ILIKE are not
-- leakproof, so the planner could not use them inside the index walk); the SQL is built with only the
-- filters given, so each is planned with what it needs. The caller reads the rows under RLS.
create function private.queue_page_ids(
  p_workspace_id uuid,
  p_statuses public.queue_status[],
  p_account_id uuid,
  p_platform text,
  p_from timestamptz,
  p_to timestamptz,
  p_search text,
  p_after_at timestamptz,
  p_after_id bigint,
  p_newest_first boolean,
  p_limit integer
) returns setof bigint
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_sql text := 'select q.id from public.queue_items q where q.workspace_id = $1';
  v_dir text := case when p_newest_first then 'desc' else 'asc' end;
begin
  if not private.has_role_on_workspace(p_workspace_id, 'viewer') then
    raise exception 'You are not a member of this workspace.' using errcode = '42501';
  end if;
  if p_statuses is not null then v_sql := v_sql || ' and q.status = any ($2)'; end if;
  if p_account_id is not null then v_sql := v_sql || ' and q.account_id = $3'; end if;
  if p_platform is not null then
    v_sql := v_sql || ' and q.account_id in (select a.id from public.social_accounts a where a.workspace_id = $1 and a.platform = $4)';
  end if;
  if p_from is not null then v_sql := v_sql || ' and q.scheduled_for >= $5'; end if;
  if p_to is not null then v_sql := v_sql || ' and q.scheduled_for < $6'; end if;
  -- The text, any part of its thread, or the account's handle (p_search is an ILIKE pattern).
  if p_search is not null then
    v_sql := v_sql || ' and (exists (select 1 from public.posts p where p.id = q.post_id'
                   || '                and (p.text ilike $7 or array_to_string(p.thread, chr(10)) ilike $7))'
                   || '     or q.account_id in (select a.id from public.social_accounts a where a.workspace_id = $1 and a.handle ilike $7))';
  end if;
  if p_after_at is not null then
    v_sql := v_sql || case when p_newest_first then ' and (q.scheduled_for, q.id) < ($8, $9)' else ' and (q.scheduled_for, q.id) > ($8, $9)' end;
  end if;
  v_sql := v_sql || format(' order by q.scheduled_for %s, q.id %s limit $10', v_dir, v_dir);
  return query execute v_sql
    using p_workspace_id, p_statuses, p_account_id, p_platform, p_from, p_to, p_search, p_after_at, p_after_id, p_limit;
end
$$;

---------------------------------------------------------------------------------------------------
-- 2. Bulk actions with an outcome per item. Each returns one row per distinct id asked for:
--    done (changed by this call), the item's status now, its status before (null: not found in
--    this workspace) and, for skips the status alone does not explain, a reason code.
---------------------------------------------------------------------------------------------------
create function private.require_queue_role(p_workspace_id uuid, p_verb text)
returns void
language plpgsql stable security definer set search_path = ''
as $$
begin
  if not private.has_role_on_workspace(p_workspace_id, 'editor') then
    raise exception 'Your role in this workspace does not allow you to %; editors, admins and owners can.', p_verb
      using errcode = '42501';
  end if;
end
$$;

-- Cancel: waiting items (and items needing review) become cancelled at once; an item mid-publish is
-- marked cancel_requested and ends cancelled unless the attempt in flight posted (as
-- cancel_queue_items does). Posted, failed and cancelled items are skipped with their status.
create function private.bulk_cancel_queue_items(p_workspace_id uuid, p_ids bigint[])
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
    update public.queue_items q set
      status = case when q.lease_id is null and q.status in ('pending', 'rate_limited', 'needs_review')
                    then 'cancelled'::public.queue_status else q.status end,
      cancel_requested = q.cancel_requested or q.lease_id is not null or q.status = 'verifying'
    from was w
    where q.id = w.id
      and w.status in ('pending', 'rate_limited', 'needs_review', 'processing', 'verifying')
      and not (w.cancel_requested and (w.lease_id is not null or w.status in ('processing', 'verifying')))
    returning q.id, q.status, q.cancel_requested
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

-- Retry: failed items and items needing review go back to pending, due now (a person decided; see
-- retry_queue_items for why that is theirs to decide). Anything else is skipped with its status.
create function private.bulk_retry_queue_items(p_workspace_id uuid, p_ids bigint[])
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
    select q.id, q.status, q.last_error from public.queue_items q
    where q.id in (select a.id from asked a) and q.workspace_id = p_workspace_id
  ),
  changed as (
    update public.queue_items q set
      status = 'pending', run_at = now(), cancel_requested = false, last_error = null, error_class = null
    from was w
    where q.id = w.id and w.status in ('failed', 'needs_review')
    returning q.id, q.status
  ),
  audited as (
    insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
    select p_workspace_id, (select auth.uid()), 'retry', 'queue_items', c.id::text,
           jsonb_build_object('status', w.status, 'last_error', w.last_error), jsonb_build_object('status', c.status)
    from changed c join was w on w.id = c.id
  )
  select a.id, c.id is not null, coalesce(c.status, w.status), w.status,
         case when w.id is null then 'not_found' end
  from asked a left join was w on w.id = a.id left join changed c on c.id = a.id
  order by a.id;
end
$$;

-- Reschedule: waiting items not claimed move to p_at, with reschedule_queue_items' rule for waits
-- the engine set. Skipped: items in flight or finished, and items whose account Pacer cannot
-- publish to or the plan does not cover. A time in the past refuses the whole request.
create function private.bulk_reschedule_queue_items(p_workspace_id uuid, p_ids bigint[], p_at timestamptz)
returns table (id bigint, done boolean, status public.queue_status, was public.queue_status, reason text)
language plpgsql security definer set search_path = ''
as $$
#variable_conflict use_column
begin
  perform private.require_queue_role(p_workspace_id, 'reschedule posts');
  if p_at is null or not isfinite(p_at) then
    raise exception '% is not a time a post can be scheduled for.', coalesce(p_at::text, 'null')
      using errcode = '22023', hint = 'Send an ISO 8601 time with a zone, e.g. 2026-12-01T09:30:00Z.',
            detail = json_build_object('code', 'invalid_input', 'column', 'scheduled_for')::text;
  end if;
  if p_at < now() then
    raise exception 'The new time (%) is in the past; nothing was rescheduled.', p_at
      using errcode = '22023', hint = 'Choose a time from now on.',
            detail = json_build_object('code', 'scheduled_in_past', 'column', 'scheduled_for')::text;
  end if;
  perform 1 from public.queue_items q where q.id = any (p_ids) and q.workspace_id = p_workspace_id order by q.id for update;
  return query
  with asked as (select distinct x.id from unnest(p_ids) as x(id)),
  was as (
    select q.id, q.status, q.lease_id, q.scheduled_for, q.run_at, q.attempts,
           case when not p.enabled then 'account_not_publishable'
                when a.paused_reason = 'plan_limit' then 'plan_limit' end as blocked
    from public.queue_items q
    join public.social_accounts a on a.id = q.account_id
    join public.platforms p on p.id = a.platform
    where q.id in (select x.id from asked x) and q.workspace_id = p_workspace_id
  ),
  changed as (
    update public.queue_items q set
      scheduled_for = p_at,
      run_at = case when w.run_at > p_at and (w.run_at = 'infinity' or w.status = 'rate_limited' or w.attempts > 0)
                    then w.run_at else p_at end,
      status = case when w.status = 'rate_limited' and w.run_at > p_at then w.status else 'pending'::public.queue_status end
    from was w
    where q.id = w.id and w.status in ('pending', 'rate_limited') and w.lease_id is null and w.blocked is null
    returning q.id, q.status, q.scheduled_for, q.run_at
  ),
  audited as (
    insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
    select p_workspace_id, (select auth.uid()), 'reschedule', 'queue_items', c.id::text,
           jsonb_build_object('scheduled_for', w.scheduled_for, 'run_at', w.run_at, 'status', w.status),
           jsonb_build_object('scheduled_for', c.scheduled_for, 'run_at', c.run_at, 'status', c.status)
    from changed c join was w on w.id = c.id
  )
  select a.id, c.id is not null, coalesce(c.status, w.status), w.status,
         case when w.id is null then 'not_found'
              when c.id is null and w.status in ('pending', 'rate_limited') and w.lease_id is not null then 'in_flight'
              when c.id is null and w.status in ('pending', 'rate_limited') then w.blocked
         end
  from asked a left join was w on w.id = a.id left join changed c on c.id = a.id
  order by a.id;
end
$$;

-- Restore: a cancelled item goes back to waiting for its time, if that time has not passed and it
-- was never tried (a tried item's post may have landed: restoring it could post twice, so a person
-- checks the account and duplicates the post instead). Paused accounts and held destinations hold
-- a restored item as they hold any waiting one (the claim parks it; keep_held_destination_items).
create function private.restore_queue_items(p_workspace_id uuid, p_ids bigint[])
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
    select q.id, q.status, q.scheduled_for, q.attempts, q.verify_attempts from public.queue_items q
    where q.id in (select a.id from asked a) and q.workspace_id = p_workspace_id
  ),
  changed as (
    update public.queue_items q set
      status = 'pending', run_at = w.scheduled_for, cancel_requested = false, last_error = null, error_class = null
    from was w
    where q.id = w.id and w.status = 'cancelled' and w.scheduled_for > now() and w.attempts = 0 and w.verify_attempts = 0
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
              when c.id is null and w.status = 'cancelled' and (w.attempts > 0 or w.verify_attempts > 0) then 'was_tried'
              when c.id is null and w.status = 'cancelled' then 'time_passed'
         end
  from asked a left join was w on w.id = a.id left join changed c on c.id = a.id
  order by a.id;
end
$$;

---------------------------------------------------------------------------------------------------
-- 3. Editing a post's thread and platform options (PATCH /api/queue/posts/:postId), under the same
--    rules as its text: the input checks of a new post, and never once sending began. first_comment
--    is in the parts check too: a comment added to a threaded post breaks "a thread or a comment".
---------------------------------------------------------------------------------------------------
grant update (thread, platform_options) on public.posts to authenticated;
create trigger check_post_parts_on_update before update of thread, platform_options, first_comment on public.posts
  for each row execute function private.check_post_parts();
create trigger refuse_edit_once_sending_parts before update of thread, platform_options on public.posts
  for each row execute function private.refuse_edit_once_sending();

---------------------------------------------------------------------------------------------------
-- 4. When the queue is next processed: the schedule of the process-queue function and its last
--    call. Installation-wide and tenant-free, so any signed-in member may read it.
---------------------------------------------------------------------------------------------------
create function private.queue_schedule()
returns table (every_seconds integer, enabled boolean, last_call_at timestamptz)
language sql stable security definer set search_path = ''
as $$
  select f.every_seconds, f.enabled,
         (select max(c.called_at) from private.scheduled_calls c where c.function_name = f.function_name)
  from private.scheduled_functions f
  where f.function_name = 'process-queue'
$$;

revoke all on function private.queue_page_ids, private.require_queue_role, private.bulk_cancel_queue_items,
  private.bulk_retry_queue_items, private.bulk_reschedule_queue_items, private.restore_queue_items,
  private.queue_schedule from public;
grant execute on function private.queue_page_ids, private.require_queue_role, private.bulk_cancel_queue_items,
  private.bulk_retry_queue_items, private.bulk_reschedule_queue_items, private.restore_queue_items,
  private.queue_schedule to authenticated;

call private.hand_over_to_postgres();
