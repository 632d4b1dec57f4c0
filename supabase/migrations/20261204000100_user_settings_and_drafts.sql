-- The composer's two tables (issue 11): each user's own settings (the time zone schedules are shown
-- and entered in), and a workspace's post drafts, shared by its editors (as Buffer shares them) so a
-- team can finish each other's posts. lib/settings and lib/drafts read and write them as the user.

---------------------------------------------------------------------------------------------------
-- 1. User settings: one row per user, readable and writable by that user alone.
---------------------------------------------------------------------------------------------------
create table public.user_settings (
  user_id uuid primary key default auth.uid() references auth.users (id) on delete cascade,
  -- An IANA zone name (e.g. Europe/Paris); checked against the server's zone list by the trigger below.
  time_zone text not null check (length(time_zone) between 1 and 64),
  updated_at timestamptz not null default now()
);

-- A CHECK may not look at a catalog view, so a trigger does: Postgres must know the zone, or times
-- converted with it (at time zone) would fail later, far from where the name was set.
create function private.check_time_zone()
returns trigger
language plpgsql set search_path = ''
as $$
begin
  if not exists (select 1 from pg_catalog.pg_timezone_names where name = new.time_zone) then
    raise exception 'Unknown time zone "%".', new.time_zone
      using errcode = '22023',
            hint = 'Use an IANA zone name such as Europe/Paris, America/New_York or UTC.',
            detail = json_build_object('code', 'invalid_time_zone', 'field', 'timeZone')::text;
  end if;
  return new;
end
$$;
create trigger check_time_zone before insert or update of time_zone on public.user_settings
  for each row execute function private.check_time_zone();
create trigger touch_updated_at before update on public.user_settings
  for each row execute function private.touch_updated_at();

alter table public.user_settings enable row level security;
create policy "Users read their own settings" on public.user_settings
  for select to authenticated using (user_id = (select auth.uid()));
create policy "Users add their own settings" on public.user_settings
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "Users change their own settings" on public.user_settings
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy "Users remove their own settings" on public.user_settings
  for delete to authenticated using (user_id = (select auth.uid()));

revoke all on public.user_settings from anon, authenticated;
grant select, delete on public.user_settings to authenticated;
grant insert (user_id, time_zone), update (time_zone) on public.user_settings to authenticated;

---------------------------------------------------------------------------------------------------
-- 2. Post drafts: what the composer holds (addInput's fields, loosely checked: a draft may be
--    unfinished), shared by the workspace's editors, admins and owners. Viewers see none: a draft is
--    work in progress, not something published. Queueing a draft deletes it in the same
--    transaction as the posts are written (lib/drafts), so it is never both queued and a draft.
---------------------------------------------------------------------------------------------------
create table public.post_drafts (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  -- The composer's fields as JSON (lib/drafts/input.ts draftContent checks them); an object, and small.
  content jsonb not null check (jsonb_typeof(content) = 'object' and pg_column_size(content) <= 262144),
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index post_drafts_workspace_id_idx on public.post_drafts (workspace_id, updated_at desc);

create trigger set_created_by before insert on public.post_drafts
  for each row execute function private.set_created_by();
create trigger touch_updated_at before update on public.post_drafts
  for each row execute function private.touch_updated_at();
-- Who started and who discarded (or queued) a draft; each save in between is not worth a row.
create trigger write_audit_log after insert or delete on public.post_drafts
  for each row execute function private.write_audit_log();

alter table public.post_drafts enable row level security;
create policy "Editors and up read their workspaces' drafts" on public.post_drafts
  for select to authenticated using (workspace_id in (select private.my_workspace_ids('editor')));
create policy "Editors and up write drafts" on public.post_drafts
  for insert to authenticated with check (workspace_id in (select private.my_workspace_ids('editor')));
create policy "Editors and up change drafts" on public.post_drafts
  for update to authenticated
  using (workspace_id in (select private.my_workspace_ids('editor')))
  with check (workspace_id in (select private.my_workspace_ids('editor')));
create policy "Editors and up discard drafts" on public.post_drafts
  for delete to authenticated using (workspace_id in (select private.my_workspace_ids('editor')));

revoke all on public.post_drafts from anon, authenticated;
grant select, delete on public.post_drafts to authenticated;
grant insert (workspace_id, content), update (content) on public.post_drafts to authenticated;

call private.hand_over_to_postgres();
