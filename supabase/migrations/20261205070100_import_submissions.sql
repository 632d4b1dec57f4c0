-- An editor's CSV import while "editors' posts need approval" is on (issue 11): each good row waits
-- as a submission of its own (kind 'add', POST /api/queue/add's body), reviewed like a post from the
-- composer, instead of the import being refused. import_rows keeps the import's idempotency for
-- such rows too: a row held for approval names its submission instead of a post, so a retried
-- request or the file uploaded again finds it and submits nothing twice.

---------------------------------------------------------------------------------------------------
-- 1. A row of an import is a queued post or a submission waiting for approval (never neither).
--    The submission is of the row's workspace (the composite key, as for posts).
---------------------------------------------------------------------------------------------------
alter table public.post_submissions add constraint post_submissions_id_workspace_id_key unique (id, workspace_id);

alter table public.import_rows
  alter column post_id drop not null,
  add column submission_id uuid,
  add constraint import_rows_submission_fkey foreign key (submission_id, workspace_id)
    references public.post_submissions (id, workspace_id) on delete cascade,
  add constraint import_rows_post_or_submission check (post_id is not null or submission_id is not null);
-- The approvals page names each submission's file and row.
create index import_rows_submission_id_idx on public.import_rows (submission_id) where submission_id is not null;

---------------------------------------------------------------------------------------------------
-- 2. Who may write such a row: the editor whose submission it is (the import inserts it as them,
--    in the transaction that submitted it). Another member's submission, or another workspace's,
--    cannot be claimed by a row straight at the table.
---------------------------------------------------------------------------------------------------
grant insert (submission_id) on public.import_rows to authenticated;

create policy "A row held for approval names the importer's own submission" on public.import_rows
  as restrictive for insert to authenticated
  with check (
    submission_id is null
    or exists (select 1 from public.post_submissions s
               where s.id = submission_id and s.workspace_id = import_rows.workspace_id
                 and s.submitted_by = (select auth.uid()) and s.status = 'submitted')
  );

call private.hand_over_to_postgres();
