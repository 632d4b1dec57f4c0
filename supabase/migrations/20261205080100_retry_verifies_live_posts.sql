-- A retry never posts again what is known to be live (engine.md: a post whose outcome is not known is
-- never sent again before the platform has been asked).
--
-- A Mastodon thread whose post went live but whose rest could not be sent (a part refused, the account
-- paused, the instance unreadable) ends in needs_review. A person's retry sent it back to `pending`, so
-- the next attempt published the post again; past the hour Mastodon keeps an Idempotency-Key, that was
-- a second thread. The engine now records the post's id whenever it learns it (a publish that posted
-- the post but not all its parts, a verification that found it: lib/engine/attempt.ts), and:
--
-- 1. private.retry_queue_items sends an item whose post is on record (external_id) to verification,
--    due now, with its unanswered lookups counted from zero: the lookup finds the post and the engine
--    sends only the parts still missing (completeParts). Items with no post on record go back to
--    `pending` as before (a person looked and found none).
-- 2. private.sent_attempts gives the lookup the item's recorded id when the publish being checked
--    recorded none (the id came from a verification), so one read settles it instead of a search of
--    the account's statuses since the send, which an active account can outrun.
--
-- Both are 20261124000500_queue_api.sql's and 20261203000800_sent_attempts_sends_only.sql's
-- definitions with only that changed.

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

  -- A needs_review item was never confirmed unpublished: the platform could not be asked whether
  -- the earlier attempt landed. The engine never re-sends such an item on its own; a person who has
  -- looked at the account and found no post may. That is why this is the human's call, and only theirs.
  -- The item keeps its idempotency key, so a platform that honours one still refuses a duplicate.
  -- Attempt counters are kept (they number the posting history), so this is one more attempt.
  -- An item whose post Pacer has on record is live (at least it was): it is verified, which finishes
  -- a thread or first comment and settles it, never published again.
  update public.queue_items q set
    status = case when q.external_id is not null then 'verifying'::public.queue_status else 'pending'::public.queue_status end,
    run_at = now(), cancel_requested = false, last_error = null, error_class = null,
    unanswered_lookups = case when q.external_id is not null then 0 else q.unanswered_lookups end,
    absence_seen_at = case when q.external_id is not null then null else q.absence_seen_at end
  where q.id = any (p_ids) and q.workspace_id = p_workspace_id;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

create or replace function private.sent_attempts(p_item_ids bigint[])
returns table (queue_item_id bigint, sent_at timestamptz, external_id text, other_external_ids text[])
language sql stable security definer set search_path = ''
as $$
  with sends as (
    select h.queue_item_id, h.attempt, h.started_at, h.external_id
    from public.posting_history h
    where h.queue_item_id = any (p_item_ids) and h.kind = 'publish'
      and h.outcome not in ('rate_limited', 'retryable', 'auth_expired', 'restricted', 'destination_rejected', 'permanent')
  ),
  latest as (
    select s.queue_item_id, min(s.started_at) as sent_at, max(s.external_id) as external_id
    from sends s
    where s.attempt = (select max(s2.attempt) from sends s2 where s2.queue_item_id = s.queue_item_id)
    group by s.queue_item_id
  )
  select q.id, l.sent_at, coalesce(l.external_id, q.external_id),
         coalesce((
           select array_agg(o.external_id order by o.at desc)
           from (
             select h.external_id, max(h.finished_at) as at
             from public.posting_history h
             where h.account_id = q.account_id and h.queue_item_id <> q.id and h.external_id is not null
               and h.finished_at >= coalesce(l.sent_at, now() - interval '1 day') - interval '1 hour'
             group by h.external_id
             order by max(h.finished_at) desc
             limit 1000
           ) o
         ), '{}')
  from public.queue_items q
  left join latest l on l.queue_item_id = q.id
  where q.id = any (p_item_ids)
$$;

call private.hand_over_to_postgres();
