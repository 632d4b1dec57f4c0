-- The calendar: a workspace's items over a time range (placed at their scheduled time, or at the
-- time they were posted), moving waiting items to another time, and editing a post before any of
-- its items has been claimed. The rules live here, so supabase-js straight at the tables meets them
-- too: queue items still change only through named functions (the API roles have no UPDATE on
-- them); a post's content may be updated by editors, and a trigger refuses it once sending began.

---------------------------------------------------------------------------------------------------
-- 1. Reading a range. Items that have ended without being posted (failed, cancelled, needs review)
--    get an index of their own by scheduled time; it takes an entry only when an item ends there,
--    so the engine's claim and completion pay nothing for it. Waiting items use
--    queue_items_workspace_waiting_idx, posted ones queue_items_account_posted_idx.
---------------------------------------------------------------------------------------------------
create index queue_items_workspace_settled_idx on public.queue_items (workspace_id, scheduled_for)
  where status in ('failed', 'cancelled', 'needs_review');

-- Where the calendar places an item: posted ones when they were posted, the rest when scheduled.
create function private.calendar_time(p_status public.queue_status, p_scheduled_for timestamptz, p_posted_at timestamptz)
returns timestamptz language sql immutable set search_path = ''
as $$ select case when p_status = 'posted' then coalesce(p_posted_at, p_scheduled_for) else p_scheduled_for end $$;

-- The ids of a workspace's items placed in [p_from, p_to), optionally of one account or platform,
-- earliest first, at most p_limit. A function for the same reason as latest_queue_item_ids: under
-- RLS the status conditions cannot pick the partial indexes. The caller reads the rows under RLS.
create function private.calendar_item_ids(
  p_workspace_id uuid, p_from timestamptz, p_to timestamptz, p_account_id uuid, p_platform text, p_limit integer
) returns setof bigint
language plpgsql stable security definer set search_path = ''
as $$
begin
  if not private.has_role_on_workspace(p_workspace_id, 'viewer') then
    raise exception 'You are not a member of this workspace.' using errcode = '42501';
  end if;
  return query
  with accounts as (
    select a.id from public.social_accounts a
    where a.workspace_id = p_workspace_id
      and (p_account_id is null or a.id = p_account_id)
      and (p_platform is null or a.platform = p_platform)
  ),
  placed as (
    select q.id, q.scheduled_for as at from public.queue_items q
    where q.workspace_id = p_workspace_id and q.status in ('pending', 'rate_limited')
      and q.scheduled_for >= p_from and q.scheduled_for < p_to
    union all
    -- Under way: few at any time, found through the status index.
    select q.id, q.scheduled_for from public.queue_items q
    where q.workspace_id = p_workspace_id and q.status in ('processing', 'verifying')
      and q.scheduled_for >= p_from and q.scheduled_for < p_to
    union all
    select q.id, q.scheduled_for from public.queue_items q
    where q.workspace_id = p_workspace_id and q.status in ('failed', 'cancelled', 'needs_review')
      and q.scheduled_for >= p_from and q.scheduled_for < p_to
    union all
    -- Posted: per account, by posted_at (a mature workspace's bulk; never walked as a whole).
    select q.id, q.posted_at from accounts a
    join public.queue_items q on q.account_id = a.id and q.status = 'posted'
    where q.posted_at >= p_from and q.posted_at < p_to
  )
  select p.id from placed p
  join public.queue_items q on q.id = p.id
  where q.account_id in (select a.id from accounts a)
  order by p.at, p.id
  limit p_limit;
end
$$;

---------------------------------------------------------------------------------------------------
-- 2. Reschedule: waiting items (pending or rate limited, not leased) move to another time, all or
--    none. The items are locked first, so an item the engine is claiming is either claimed before
--    (and refused here) or skipped by the claim until this commits. Like add: a time in the past is
--    refused, and so is an account Pacer cannot publish to or one the plan does not cover.
---------------------------------------------------------------------------------------------------
create function private.reschedule_queue_items(p_workspace_id uuid, p_ids bigint[], p_scheduled_for timestamptz)
returns table (id bigint, status public.queue_status, scheduled_for timestamptz, run_at timestamptz)
language plpgsql security definer set search_path = ''
as $$
#variable_conflict use_column
declare
  v_missing integer;
  v_conflicts jsonb;
  v_account record;
begin
  if not private.has_role_on_workspace(p_workspace_id, 'editor') then
    raise exception 'Your role in this workspace does not allow rescheduling posts; editors and up can.'
      using errcode = '42501';
  end if;
  if p_ids is null or cardinality(p_ids) = 0 then
    raise exception 'Name the queue items to reschedule.' using errcode = '22023';
  end if;
  if p_scheduled_for is null or not isfinite(p_scheduled_for) then
    raise exception '% is not a time a post can be scheduled for.', coalesce(p_scheduled_for::text, 'null')
      using errcode = '22023', hint = 'Send an ISO 8601 time with a zone, e.g. 2026-12-01T09:30:00Z.',
            detail = json_build_object('code', 'invalid_input', 'column', 'scheduled_for')::text;
  end if;
  if p_scheduled_for < now() then
    raise exception 'The new time (%) is in the past; nothing was rescheduled.', p_scheduled_for
      using errcode = '22023', hint = 'Choose a time from now on.',
            detail = json_build_object('code', 'scheduled_in_past', 'column', 'scheduled_for')::text;
  end if;

  -- In id order, as cancel and retry lock them, so two of these never wait on each other in a cycle.
  perform 1 from public.queue_items q
  where q.id = any (p_ids) and q.workspace_id = p_workspace_id
  order by q.id
  for update;
  select count(*) into v_missing
  from (select distinct unnest(p_ids) as id) x
  where not exists (select 1 from public.queue_items q where q.id = x.id and q.workspace_id = p_workspace_id);
  if v_missing > 0 then
    -- Never say which: an id of another workspace and an id that does not exist look the same.
    raise exception '% of the % queue items to reschedule were not found in this workspace; nothing was rescheduled.',
      v_missing, cardinality(array(select distinct unnest(p_ids)))
      using errcode = 'P0002', detail = json_build_object('code', 'not_found')::text;
  end if;
  select jsonb_agg(jsonb_build_object('id', q.id, 'status', case when q.lease_id is null then q.status::text else 'processing' end)
                   order by q.id) into v_conflicts
  from public.queue_items q
  where q.id = any (p_ids) and (q.status not in ('pending', 'rate_limited') or q.lease_id is not null);
  if v_conflicts is not null then
    raise exception 'Only posts still waiting to be sent can be rescheduled; nothing was rescheduled.'
      using errcode = 'P0001',
            hint = 'Leave out the items that are being sent, were sent, failed or were cancelled, and send the request again.',
            detail = json_build_object('code', 'queue_item_conflict', 'items', v_conflicts)::text;
  end if;

  -- The accounts, as add checks them: a platform Pacer publishes to, and inside the plan.
  select a.handle, a.paused_reason, p.name as platform_name, p.enabled into v_account
  from public.queue_items q
  join public.social_accounts a on a.id = q.account_id
  join public.platforms p on p.id = a.platform
  where q.id = any (p_ids) and (not p.enabled or a.paused_reason = 'plan_limit')
  order by q.id
  limit 1;
  if found then
    if not v_account.enabled then
      raise exception 'Pacer cannot publish to % yet, so @%''s post cannot be rescheduled; nothing was rescheduled.',
        v_account.platform_name, v_account.handle
        using errcode = 'P0001', hint = 'Cancel it instead.',
              detail = json_build_object('code', 'account_not_publishable')::text;
    end if;
    raise exception 'The plan does not cover @% (it is paused for that), so its post cannot be rescheduled; nothing was rescheduled.',
      v_account.handle
      using errcode = 'P0001', hint = 'Upgrade the plan in Billing, or remove accounts, then try again.',
            detail = json_build_object('code', 'plan_limit')::text;
  end if;

  return query
  with moved as (
    update public.queue_items q set
      scheduled_for = p_scheduled_for,
      -- A wait the engine set (a paused account's or held destination's 'infinity', a rate limit, a
      -- backoff after a failed attempt) is an absolute time: moving the post earlier does not end it.
      run_at = case when q.run_at > p_scheduled_for and (q.run_at = 'infinity' or q.status = 'rate_limited' or q.attempts > 0)
                    then q.run_at else p_scheduled_for end,
      status = case when q.status = 'rate_limited' and q.run_at > p_scheduled_for then q.status
                    else 'pending'::public.queue_status end
    from public.queue_items o
    where o.id = q.id and q.id = any (p_ids) and q.workspace_id = p_workspace_id
    returning q.id, q.status, q.scheduled_for, q.run_at,
              jsonb_build_object('scheduled_for', o.scheduled_for, 'run_at', o.run_at, 'status', o.status) as before
  ),
  audited as (
    insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
    select p_workspace_id, (select auth.uid()), 'reschedule', 'queue_items', m.id::text, m.before,
           jsonb_build_object('scheduled_for', m.scheduled_for, 'run_at', m.run_at, 'status', m.status)
    from moved m
  )
  select m.id, m.status, m.scheduled_for, m.run_at from moved m order by m.id;
end
$$;

---------------------------------------------------------------------------------------------------
-- 3. Editing a post: editors may change its text, media, first comment and destination while none
--    of its items has been claimed or sent. The trigger holds that rule for any path, locking the
--    items first (as reschedule does) so the engine never publishes a text changed under it.
---------------------------------------------------------------------------------------------------
create policy "Editors and up can edit their workspaces' posts" on public.posts
  for update to authenticated
  using (workspace_id in (select private.my_workspace_ids('editor')))
  with check (workspace_id in (select private.my_workspace_ids('editor')));
grant update (text, media_urls, first_comment, destination) on public.posts to authenticated;

-- The same input rules as a new post (the function reads only NEW).
create trigger check_post_input_on_update before update of text, media_urls, first_comment, destination on public.posts
  for each row execute function private.check_post_input();

-- The items that show sending has begun: claimed now, attempted before, or past waiting. One rule
-- for the trigger below and for the calendar's "editable" (run as the caller, so under RLS there).
create function private.post_items_sending(p_post_id uuid)
returns table (id bigint, status public.queue_status)
language sql stable set search_path = ''
as $$
  select q.id, q.status from public.queue_items q
  where q.post_id = p_post_id
    and (q.lease_id is not null or q.attempts > 0 or q.verify_attempts > 0
         or q.status not in ('pending', 'rate_limited', 'cancelled'))
  order by q.id
$$;

create function private.refuse_edit_once_sending() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_item record;
begin
  -- Locked first, in id order: a claim in progress either leased them already (seen below) or skips them until this commits.
  perform 1 from public.queue_items q where q.post_id = new.id order by q.id for update;
  select s.id, s.status into v_item from private.post_items_sending(new.id) s limit 1;
  if found then
    raise exception 'This post can no longer be edited: Pacer has started sending it (queue item % is %).',
      v_item.id, replace(v_item.status::text, '_', ' ')
      using errcode = 'P0001',
            hint = 'Cancel the items still waiting and queue the post again with the new text.',
            detail = json_build_object('code', 'post_already_sending', 'queue_item_id', v_item.id)::text;
  end if;
  return new;
end
$$;
create trigger refuse_edit_once_sending before update of text, media_urls, first_comment, destination on public.posts
  for each row execute function private.refuse_edit_once_sending();

-- A new destination may be held for an account (its items wait, as new items there do), or the old
-- one may have been (its items come back, unless the account itself cannot publish).
create function private.apply_destination_holds_to_edited_post() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  update public.queue_items q set run_at = 'infinity', last_error = private.destination_hold_message(new.destination)
  from public.destination_holds h
  where q.post_id = new.id and h.account_id = q.account_id and h.destination = new.destination and h.released_at is null
    and q.status in ('pending', 'rate_limited') and q.lease_id is null and q.run_at <> 'infinity';
  update public.queue_items q set run_at = greatest(q.scheduled_for, now()), last_error = null
  from public.social_accounts a
  where q.post_id = new.id and a.id = q.account_id and private.account_can_publish(a.state)
    and q.status in ('pending', 'rate_limited') and q.lease_id is null and q.run_at = 'infinity'
    and not exists (select 1 from public.destination_holds h
                    where h.account_id = q.account_id and h.destination = new.destination and h.released_at is null);
  return null;
end
$$;
create trigger apply_destination_holds_to_edited_post after update of destination on public.posts
  for each row when (old.destination is distinct from new.destination)
  execute function private.apply_destination_holds_to_edited_post();

-- Who changed a post, and from what (the generic audit trigger: one row per change).
create trigger write_audit_log after update on public.posts
  for each row execute function private.write_audit_log();

revoke all on function private.calendar_time, private.calendar_item_ids, private.reschedule_queue_items,
  private.post_items_sending, private.refuse_edit_once_sending, private.apply_destination_holds_to_edited_post from public;
grant execute on function private.calendar_time, private.calendar_item_ids, private.reschedule_queue_items,
  private.post_items_sending to authenticated;

call private.hand_over_to_postgres();
