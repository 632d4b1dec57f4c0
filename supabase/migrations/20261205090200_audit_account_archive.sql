-- The audit of account updates compares every column but the health score and updated_at
-- (20261203001100): the columns account removal added (20261205040100) join the comparison, so an
-- archive is logged like any other change of an account, beside remove_accounts' own summary row.
drop trigger write_audit_log_update on public.social_accounts;
create trigger write_audit_log_update after update on public.social_accounts
  for each row
  when ((old.id, old.workspace_id, old.platform, old.handle, old.display_name, old.state, old.cooldown_until,
         old.requires_review, old.last_error,
         case when current_setting('pacer.refreshing_credentials', true) = 'on' then null else old.credentials_encrypted end,
         old.created_by, old.created_at, old.paused_reason, old.state_before_pause, old.platform_identity,
         old.archived_at, old.archived_by)
        is distinct from
        (new.id, new.workspace_id, new.platform, new.handle, new.display_name, new.state, new.cooldown_until,
         new.requires_review, new.last_error,
         case when current_setting('pacer.refreshing_credentials', true) = 'on' then null else new.credentials_encrypted end,
         new.created_by, new.created_at, new.paused_reason, new.state_before_pause, new.platform_identity,
         new.archived_at, new.archived_by))
  execute function private.write_audit_log();

call private.hand_over_to_postgres();
