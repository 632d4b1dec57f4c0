-- While "editors' posts need approval" is on, an editor's post reaches the queue only through an
-- admin's approval. Editing it afterwards (PATCH /api/queue/posts/:id, or an update straight at the
-- table) would publish what nobody approved, so an editor's change to a post's content is refused
-- the same way a new post is (private.refuse_posts_needing_approval); admins and owners still edit.
-- The worker and the approval itself (security definer) are not API roles, so they are unaffected.

-- The rule, once: the trigger refuses by it, and the calendar and the queue's item detail say by it
-- whether (and why not) the caller may edit a post.
create function private.edits_need_approval(p_workspace_id uuid) returns boolean
language sql stable set search_path = '' as $$
  select coalesce((select w.editor_posts_need_approval from public.workspaces w where w.id = p_workspace_id), false)
         and not private.has_role_on_workspace(p_workspace_id, 'admin')
$$;

-- Why the caller may not change a post now: 'sending' (an item of it was claimed or sent: the rule of
-- private.refuse_edit_once_sending), 'approval_required', or null when they may.
create function private.post_edit_refusal(p_post_id uuid, p_workspace_id uuid) returns text
language sql stable set search_path = '' as $$
  select case when exists (select 1 from private.post_items_sending(p_post_id)) then 'sending'
              when private.edits_need_approval(p_workspace_id) then 'approval_required' end
$$;

create function private.refuse_edits_needing_approval() returns trigger
language plpgsql set search_path = '' as $$
begin
  if private.is_api_role() then
    if private.edits_need_approval(new.workspace_id) then
      raise exception 'Editors'' changes to posts in this workspace need approval.'
        using errcode = 'P0001',
              hint = 'Ask an admin to make the change, or cancel this post and queue the new version through POST /api/queue/add: it waits for approval.',
              detail = json_build_object('code', 'approval_required')::text;
    end if;
  end if;
  return new;
end
$$;

create trigger refuse_edits_needing_approval
  before update of text, media_urls, first_comment, destination, thread, platform_options on public.posts
  for each row
  when (row(old.text, old.media_urls, old.first_comment, old.destination, old.thread, old.platform_options)
        is distinct from row(new.text, new.media_urls, new.first_comment, new.destination, new.thread, new.platform_options))
  execute function private.refuse_edits_needing_approval();

revoke all on function private.edits_need_approval, private.post_edit_refusal, private.refuse_edits_needing_approval from public;
grant execute on function private.edits_need_approval, private.post_edit_refusal to authenticated;

-- The same check of a post's parts ran twice on every edit: two triggers, created by two migrations
-- (20261204001100 and 20261205030100), on the same columns with the same function.
drop trigger check_post_parts_on_edit on public.posts;

call private.hand_over_to_postgres();
