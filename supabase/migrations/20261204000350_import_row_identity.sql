-- Re-uploading a corrected file never queues a row twice (issue 11). 20261204000300 kept one row per
-- (workspace, import, row number), and an import's id comes from the file's bytes, so a file with
-- three rows fixed was a new import and its other rows were queued again. Now a row is also known
-- by its file and its content: one row per (workspace, file, row number, fingerprint), whichever
-- import wrote it. The file is its name without case or a browser's " (1)" copy suffix; the
-- fingerprint is the SHA-256 of the post the row makes (lib/import/fingerprint.ts), computed by the
-- server. The old key stays: a retried request of the same import is still a no-op.

---------------------------------------------------------------------------------------------------
-- 1. The file a row belongs to: derived by the database from its import, never sent.
---------------------------------------------------------------------------------------------------
create function private.import_file_key(p_file_name text)
returns text
language sql immutable set search_path = ''
as $$
  -- "Posts (1).CSV", what a browser names a second download of posts.csv, is posts.csv.
  select lower(regexp_replace(btrim(p_file_name), '\s*\(\d+\)(\.[^.\s]*)?$', '\1'))
$$;

alter table public.import_rows add column file_key text, add column fingerprint text;
update public.import_rows r set file_key = private.import_file_key(i.file_name)
from public.imports i where i.id = r.import_id and i.workspace_id = r.workspace_id;
alter table public.import_rows alter column file_key set not null;

-- Rows imported before this migration have no fingerprint and are matched by import id only; every
-- new row must have one (NOT VALID: checked on insert, not on the rows already there).
alter table public.import_rows add constraint import_rows_fingerprint_check
  check (fingerprint is not null and fingerprint ~ '^[0-9a-f]{64}$') not valid;

-- The rule: a row of a file, with this content, is imported once per workspace.
alter table public.import_rows add constraint import_rows_file_row_content_key
  unique (workspace_id, file_key, row_number, fingerprint);

create function private.set_import_row_file_key()
returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  select private.import_file_key(i.file_name) into new.file_key
  from public.imports i where i.id = new.import_id and i.workspace_id = new.workspace_id;
  return new;
end
$$;
create trigger set_file_key before insert on public.import_rows
  for each row execute function private.set_import_row_file_key();

grant insert (fingerprint) on public.import_rows to authenticated;

---------------------------------------------------------------------------------------------------
-- 2. Rows not imported because they changed since an earlier import of the file, counted on the
--    import like the repeats (each time such a row is sent).
---------------------------------------------------------------------------------------------------
alter table public.imports add column rows_changed integer not null default 0;

drop function private.record_import_chunk(uuid, integer, integer);
create function private.record_import_chunk(p_import_id uuid, p_rows_bad integer, p_repeated integer, p_changed integer)
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
    rows_changed = i.rows_changed + greatest(p_changed, 0),
    updated_at = now()
  where i.id = p_import_id and private.has_role_on_workspace(i.workspace_id, 'editor')
  returning i.* into v_row;
  if not found then
    raise exception 'There is no import %, or you may not add to it.', p_import_id using errcode = 'P0002';
  end if;
  return v_row;
end
$$;

revoke all on function private.record_import_chunk(uuid, integer, integer, integer), private.import_file_key(text) from public;
grant execute on function private.record_import_chunk(uuid, integer, integer, integer), private.import_file_key(text) to authenticated;

call private.hand_over_to_postgres();
