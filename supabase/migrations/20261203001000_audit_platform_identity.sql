-- The audit of account updates compares its columns one by one (20261202001600, for the scan's cost);
-- 20261203000700 added social_accounts.platform_identity, so a change of it is audited like any other
-- column's (tests/health/scan-cost.test.ts checks that every column but health_score and updated_at
-- is compared).
drop trigger write_audit_log_update on public.social_accounts;
create trigger write_audit_log_update after update on public.social_accounts
  for each row
  when ((old.id, old.workspace_id, old.platform, old.handle, old.display_name, old.state, old.cooldown_until,
         old.requires_review, old.last_error, old.credentials_encrypted, old.created_by, old.created_at,
         old.paused_reason, old.state_before_pause, old.platform_identity)
        is distinct from
        (new.id, new.workspace_id, new.platform, new.handle, new.display_name, new.state, new.cooldown_until,
         new.requires_review, new.last_error, new.credentials_encrypted, new.created_by, new.created_at,
         new.paused_reason, new.state_before_pause, new.platform_identity))
  execute function private.write_audit_log();

call private.hand_over_to_postgres();
