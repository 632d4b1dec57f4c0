-- The claim returns each item's thread, platform options and finish gate itself
-- (20261206010100_claim_in_one_read.sql), so the two functions the engine used to call after it have
-- no caller left. Dropping them keeps the finish-gate rule (a publishable account, an item not
-- cancelled) in one place: private.claim_due_posts. tests/engine/claim-row.test.ts holds it.
drop function private.post_parts(bigint[]);
drop function private.finish_parts_allowed(bigint[]);

call private.hand_over_to_postgres();
