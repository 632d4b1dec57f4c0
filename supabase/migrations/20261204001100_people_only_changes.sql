-- Fixes from the review of this release's features (docs/api.md "API keys", docs/teams.md).
--
-- 1. Who belongs to a workspace and where its events go are changed by people, never by an API key.
--    A key acts as its maker within its scope; a leaked `write` key of an owner could otherwise
--    invite the attacker as an admin (a membership that outlives the key), transfer ownership,
--    remove every member, or point a webhook at itself. The routes are session-only too; these
--    triggers hold the rule for every path, including the security definer functions behind them.
create function private.refuse_api_key_change()
returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if private.request_api_key() is not null then
    raise exception 'An API key cannot change %: sign in to the app to do it.', tg_argv[0]
      using errcode = '42501', hint = 'API keys queue and manage posts; members, invitations and webhook endpoints are managed by people.';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;
create trigger people_only before insert or update or delete on public.workspace_members
  for each row execute function private.refuse_api_key_change('the workspace''s members');
create trigger people_only before insert or update or delete on public.workspace_invitations
  for each row execute function private.refuse_api_key_change('invitations');
create trigger people_only before insert or update or delete on public.webhook_endpoints
  for each row execute function private.refuse_api_key_change('webhook endpoints');

-- 2. Removing someone removes what they left behind in the workspace: their open invitations (an
--    admin could otherwise invite their own second address, be removed, and come back by accepting
--    it) and their API keys (which would work again if they were ever re-invited).
create function private.forget_removed_member()
returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  delete from public.workspace_invitations i
  where i.workspace_id = old.workspace_id and i.invited_by = old.user_id and i.accepted_at is null;
  update public.api_keys k set revoked_at = now(), revoked_by = (select auth.uid())
  where k.workspace_id = old.workspace_id and k.created_by = old.user_id and k.revoked_at is null;
  return old;
end
$$;
create trigger forget_removed_member after delete on public.workspace_members
  for each row execute function private.forget_removed_member();

-- 3. A post has a thread or a first comment, never both: checked when either changes too (the
--    calendar's edit may set a first comment), not only when the post is written.
create trigger check_post_parts_on_edit before update of thread, first_comment, platform_options on public.posts
  for each row execute function private.check_post_parts();

-- 4. Reconciliation recognises a Bluesky post by its record key, but a post is only the first part of
--    an item with a thread or a first comment: settling such an item as posted would leave its other
--    parts unsent. Those items are left to verification, which finishes the parts (docs/connectors.md
--    "Threads"); reconciliation still judges them missing once posted.
create or replace function private.reconciliation_keys(p_account_ids uuid[], p_since timestamptz)
returns table (account_id uuid, idempotency_key uuid)
language sql stable security definer set search_path = ''
as $$
  select distinct h.account_id, q.idempotency_key
  from public.posting_history h
  join public.queue_items q on q.id = h.queue_item_id
  join public.posts p on p.id = q.post_id
  where h.account_id = any (p_account_ids)
    and h.kind = 'publish'
    and h.finished_at >= p_since
    and cardinality(p.thread) = 0
    and p.first_comment is null
$$;

call private.hand_over_to_postgres();
