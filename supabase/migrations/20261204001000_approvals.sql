-- Approvals (issue 11): a workspace setting "editors' posts need approval". While it is on, an
-- editor's posts wait as post_submissions until an admin or owner approves them (they enter the
-- queue, created_by the editor) or rejects them with a note. Admins' and owners' own posts never wait.
--
-- The database holds the rule, whatever path a write takes: while the setting is on, a member below
-- admin cannot insert posts or queue items as `authenticated` (supabase-js straight at the tables).
-- Approval inserts AS THE APPROVER (an admin, so the rule lets the rows in), in the same transaction
-- as private.approve_submission marked the submission approved; the posts' created_by is the editor
-- because set_post_created_by credits a submission the current user approved in this transaction.

---------------------------------------------------------------------------------------------------
-- 1. The setting. Admins and owners may already update their workspace (the policy "Owners and
--    admins can rename their workspace"); the column grant lets them change this column too, and
--    the workspaces audit trigger logs the change.
---------------------------------------------------------------------------------------------------
alter table public.workspaces add column editor_posts_need_approval boolean not null default false;
grant update (editor_posts_need_approval) on public.workspaces to authenticated;

---------------------------------------------------------------------------------------------------
-- 2. Submissions: the request as the API validated it, replayed through the queue's own checks on
--    approval. Written only through the functions below.
---------------------------------------------------------------------------------------------------
create table public.post_submissions (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  submitted_by uuid references auth.users (id) on delete set null,
  -- 'add': POST /api/queue/add's body (also a queued draft); 'bulk': POST /api/queue/bulk-post's.
  kind text not null check (kind in ('add', 'bulk')),
  request jsonb not null,
  posts integer not null check (posts >= 1),
  status text not null default 'submitted' check (status in ('submitted', 'approved', 'rejected')),
  note text check (length(note) <= 2000),
  decided_by uuid references auth.users (id) on delete set null,
  decided_at timestamptz,
  created_at timestamptz not null default now(),
  check ((status = 'submitted') = (decided_at is null))
);
create index post_submissions_workspace_idx on public.post_submissions (workspace_id, status, created_at desc);

alter table public.post_submissions enable row level security;
create policy "Editors see their own submissions; admins and owners all of their workspace's" on public.post_submissions
  for select to authenticated
  using ((submitted_by = (select auth.uid()) and workspace_id in (select private.my_workspace_ids('editor')))
         or workspace_id in (select private.my_workspace_ids('admin')));
revoke all on public.post_submissions from anon, authenticated;
grant select on public.post_submissions to authenticated;

-- One audit row per step, with the request's size rather than its (up to 10,000 rows of) text.
create function private.audit_submission(p_row public.post_submissions, p_action text, p_old jsonb default null)
returns void
language sql security definer set search_path = ''
as $$
  insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
  values (p_row.workspace_id, (select auth.uid()), p_action, 'post_submissions', p_row.id::text, p_old,
          jsonb_build_object('kind', p_row.kind, 'posts', p_row.posts, 'status', p_row.status, 'note', p_row.note,
                             'submitted_by', p_row.submitted_by, 'decided_by', p_row.decided_by))
$$;

/** An editor's posts, waiting: only where the setting is on and the caller is an editor (not admin). */
create function private.submit_posts(p_workspace_id uuid, p_kind text, p_request jsonb, p_posts integer)
returns public.post_submissions
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.post_submissions;
begin
  if not private.has_role_on_workspace(p_workspace_id, 'editor') then
    raise exception 'Your role in this workspace does not allow you to queue posts.' using errcode = '42501';
  end if;
  if private.has_role_on_workspace(p_workspace_id, 'admin')
     or not (select w.editor_posts_need_approval from public.workspaces w where w.id = p_workspace_id) then
    raise exception 'Posts in this workspace do not need approval; queue them directly.'
      using errcode = 'P0001', detail = json_build_object('code', 'approval_not_needed')::text;
  end if;
  insert into public.post_submissions (workspace_id, submitted_by, kind, request, posts)
  values (p_workspace_id, (select auth.uid()), p_kind, p_request, p_posts)
  returning * into v_row;
  perform private.audit_submission(v_row, 'submitted');
  return v_row;
end
$$;

/**
 * Marks a submission approved (with `p_request` replacing the stored one when an admin edited it)
 * and lets this transaction's posts be credited to its editor. The row lock makes two approvals at
 * once queue it once: the second waits, then finds it decided (409). Not an admin of its
 * workspace, or another workspace's: 404, the same answer as a missing id.
 */
create function private.approve_submission(p_id uuid, p_request jsonb default null)
returns public.post_submissions
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.post_submissions;
  v_old jsonb;
begin
  select * into v_row from public.post_submissions s where s.id = p_id for update;
  if not found or not private.has_role_on_workspace(v_row.workspace_id, 'admin') then
    raise exception 'There is no submission %, or you may not decide on it.', p_id using errcode = 'P0002';
  end if;
  if v_row.status <> 'submitted' then
    raise exception 'This submission was already %.', v_row.status
      using errcode = 'P0001', hint = 'Reload the approvals page.',
            detail = json_build_object('code', 'submission_decided', 'status', v_row.status)::text;
  end if;
  if p_request is not null and p_request is distinct from v_row.request then
    v_old := jsonb_build_object('request', v_row.request);
  end if;
  update public.post_submissions s
  set status = 'approved', request = coalesce(p_request, s.request), decided_by = (select auth.uid()), decided_at = now()
  where s.id = p_id
  returning * into v_row;
  perform private.audit_submission(v_row, case when v_old is null then 'approved' else 'edited and approved' end,
                                   v_old);
  perform set_config('pacer.approving_submission', p_id::text, true);
  return v_row;
end
$$;

create function private.reject_submission(p_id uuid, p_note text)
returns public.post_submissions
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.post_submissions;
begin
  update public.post_submissions s
  set status = 'rejected', note = p_note, decided_by = (select auth.uid()), decided_at = now()
  where s.id = p_id and s.status = 'submitted' and private.has_role_on_workspace(s.workspace_id, 'admin')
  returning * into v_row;
  if not found then
    select * into v_row from public.post_submissions s where s.id = p_id;
    if found and private.has_role_on_workspace(v_row.workspace_id, 'admin') then
      raise exception 'This submission was already %.', v_row.status
        using errcode = 'P0001', hint = 'Reload the approvals page.',
              detail = json_build_object('code', 'submission_decided', 'status', v_row.status)::text;
    end if;
    raise exception 'There is no submission %, or you may not decide on it.', p_id using errcode = 'P0002';
  end if;
  perform private.audit_submission(v_row, 'rejected');
  return v_row;
end
$$;

revoke all on function private.audit_submission, private.submit_posts, private.approve_submission,
  private.reject_submission from public;
grant execute on function private.submit_posts, private.approve_submission, private.reject_submission to authenticated;

---------------------------------------------------------------------------------------------------
-- 3. The rule at the tables: while the setting is on, only admins and owners insert posts or queue
--    items as an API role (the server's own roles are not users and are not held to it).
---------------------------------------------------------------------------------------------------
create function private.refuse_posts_needing_approval()
returns trigger
language plpgsql set search_path = ''
as $$
begin
  if private.is_api_role() and exists (
       select 1 from (select distinct n.workspace_id from new_rows n) n
       join public.workspaces w on w.id = n.workspace_id
       where w.editor_posts_need_approval and not private.has_role_on_workspace(n.workspace_id, 'admin')) then
    raise exception 'Editors'' posts in this workspace need approval.'
      using errcode = 'P0001',
            hint = 'Queue it through POST /api/queue/add: it waits for an admin to approve it.',
            detail = json_build_object('code', 'approval_required')::text;
  end if;
  return null;
end
$$;
create trigger refuse_posts_needing_approval after insert on public.posts
  referencing new table as new_rows for each statement execute function private.refuse_posts_needing_approval();
create trigger refuse_posts_needing_approval after insert on public.queue_items
  referencing new table as new_rows for each statement execute function private.refuse_posts_needing_approval();

-- A post is created by whoever inserts it, except while an admin approves a submission in this
-- transaction: then by the submission's editor. Only a submission this user approved in this very
-- transaction (decided_at = now(), the transaction's start) counts, so the setting cannot be forged.
create function private.set_post_created_by()
returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_submission text := nullif(current_setting('pacer.approving_submission', true), '');
  v_editor uuid;
begin
  new.created_by := coalesce((select auth.uid()), new.created_by);
  if v_submission is not null then
    select s.submitted_by into v_editor from public.post_submissions s
    where s.id = v_submission::uuid and s.status = 'approved' and s.workspace_id = new.workspace_id
      and s.decided_by = (select auth.uid()) and s.decided_at = now();
    if found then
      new.created_by := v_editor;
    end if;
  end if;
  return new;
end
$$;
drop trigger set_created_by on public.posts;
create trigger set_created_by before insert on public.posts
  for each row execute function private.set_post_created_by();

call private.hand_over_to_postgres();
