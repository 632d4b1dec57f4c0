-- Bulk CSV import (issue 11): an `imports` record per file (who, when, file name, rows ok / bad /
-- already imported), and `import_rows`, one row per imported CSV row, whose primary key makes a
-- retried chunk or a second upload of the same file queue nothing twice. Both are held to the plan
-- feature bulk_import (Starter and up) here, whatever path a write takes; lib/import/index.ts is
-- the API's way in.

---------------------------------------------------------------------------------------------------
-- 1. Tables. An import's id is chosen by the browser (derived from the workspace and the file's
--    bytes), so it is the primary key across all workspaces: another workspace's id is refused.
---------------------------------------------------------------------------------------------------
create table public.imports (
  id uuid primary key,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  file_name text not null check (length(btrim(file_name)) between 1 and 255),
  -- As the uploader's browser counted them: data rows in the file, and rows it found bad and did not send.
  rows_in_file integer not null check (rows_in_file between 0 and 10000),
  rows_bad integer not null default 0 check (rows_bad between 0 and 10000),
  -- Counted by the database from import_rows (private.record_import_chunk); no user writes it.
  rows_imported integer not null default 0,
  -- Rows sent again that were already imported (retried chunks, the same file uploaded again).
  rows_repeated integer not null default 0,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, workspace_id)
);
create index imports_workspace_id_idx on public.imports (workspace_id, created_at desc);

create table public.import_rows (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  import_id uuid not null,
  -- The row as a spreadsheet numbers it: the header is row 1, the first post row 2.
  row_number integer not null check (row_number between 2 and 10001),
  post_id uuid not null,
  created_at timestamptz not null default now(),
  -- The idempotency: one post per (workspace, import, row), whoever sends the row again.
  primary key (workspace_id, import_id, row_number),
  foreign key (import_id, workspace_id) references public.imports (id, workspace_id) on delete cascade,
  foreign key (post_id, workspace_id) references public.posts (id, workspace_id) on delete cascade
);
-- Deleting posts (a workspace's, by cascade) looks their import rows up by post.
create index import_rows_post_id_idx on public.import_rows (post_id);

---------------------------------------------------------------------------------------------------
-- 2. The plan feature: without bulk_import a workspace can neither start an import nor add rows to
--    one (a plan downgraded mid-import stops it), through the API or straight at the tables.
---------------------------------------------------------------------------------------------------
create function private.refuse_import_without_feature(p_workspace_ids uuid[])
returns void
language plpgsql stable security definer set search_path = ''
as $$
declare
  v record;
begin
  select w.id, p.name as plan_name into v
  from public.workspaces w join public.plans p on p.id = w.plan_id
  where w.id = any (p_workspace_ids) and not coalesce((p.features_enabled ->> 'bulk_import')::boolean, false)
  limit 1;
  if found then
    raise exception 'Bulk import is not part of the % plan.', v.plan_name
      using errcode = 'P0001',
            hint = 'Upgrade to ' || private.plan_with_feature('bulk_import') || ' or above to import CSV files.',
            detail = json_build_object('code', 'plan_feature_unavailable', 'feature', 'bulk_import',
                                       'workspace_id', v.id)::text;
  end if;
end
$$;

create function private.enforce_import_feature()
returns trigger
language plpgsql set search_path = ''
as $$
begin
  if private.is_api_role() then
    perform private.refuse_import_without_feature((select array_agg(distinct n.workspace_id) from new_rows n));
  end if;
  return null;
end
$$;
create trigger enforce_import_feature after insert on public.imports
  referencing new table as new_rows for each statement execute function private.enforce_import_feature();
create trigger enforce_import_feature after insert on public.import_rows
  referencing new table as new_rows for each statement execute function private.enforce_import_feature();

create trigger set_created_by before insert on public.imports
  for each row execute function private.set_created_by();

-- Who started an import, and each chunk's counts (old and new), in the audit log.
create trigger write_audit_log after insert or update or delete on public.imports
  for each row execute function private.write_audit_log();

---------------------------------------------------------------------------------------------------
-- 3. A chunk's bookkeeping, in one statement (one audit row per chunk): rows_imported recounted from
--    import_rows, the repeats this chunk met added, the browser's latest count of bad rows kept.
---------------------------------------------------------------------------------------------------
create function private.record_import_chunk(p_import_id uuid, p_rows_bad integer, p_repeated integer)
returns public.imports
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.imports;
begin
  update public.imports i set
    rows_imported = (select count(*) from public.import_rows r
                     where r.workspace_id = i.workspace_id and r.import_id = i.id),
    rows_bad = least(greatest(p_rows_bad, 0), 10000),
    rows_repeated = i.rows_repeated + greatest(p_repeated, 0),
    updated_at = now()
  where i.id = p_import_id and private.has_role_on_workspace(i.workspace_id, 'editor')
  returning i.* into v_row;
  if not found then
    raise exception 'There is no import %, or you may not add to it.', p_import_id using errcode = 'P0002';
  end if;
  return v_row;
end
$$;

---------------------------------------------------------------------------------------------------
-- 4. Row level security and grants: members read, editors and up write; counters only through
--    record_import_chunk.
---------------------------------------------------------------------------------------------------
alter table public.imports enable row level security;
alter table public.import_rows enable row level security;

create policy "Members can read their workspaces' imports" on public.imports
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));
create policy "Editors and up can start imports" on public.imports
  for insert to authenticated with check (workspace_id in (select private.my_workspace_ids('editor')));
create policy "Members can read their workspaces' imported rows" on public.import_rows
  for select to authenticated using (workspace_id in (select private.my_workspace_ids()));
create policy "Editors and up can import rows" on public.import_rows
  for insert to authenticated with check (workspace_id in (select private.my_workspace_ids('editor')));

revoke all on public.imports, public.import_rows from anon, authenticated;
grant select on public.imports, public.import_rows to authenticated;
grant insert (id, workspace_id, file_name, rows_in_file, rows_bad) on public.imports to authenticated;
grant insert (workspace_id, import_id, row_number, post_id) on public.import_rows to authenticated;

revoke all on function private.refuse_import_without_feature, private.record_import_chunk from public;
grant execute on function private.refuse_import_without_feature, private.record_import_chunk to authenticated;

call private.hand_over_to_postgres();
