-- The claim and the outcome write plan their statements once per connection (issue 14). PL/pgSQL
-- plans a statement that reads a variable (the claimed ids, the batch size, the time, the outcomes)
-- afresh on every call until it judges a generic plan no costlier, and at small batches it rarely
-- did: a claim or a write of one item spent more of its CPU planning than running (measured: a claim
-- of one item 5.7 → 3.1 ms of backend CPU). Every statement of the claim reads by primary key or by
-- the one index made for it (queue_items_workspace_claimable_idx, whose predicate the reads spell
-- out, so the plan does not depend on the values); record_outcomes reads its batch from one jsonb
-- value, which the planner cannot look into anyway: a generic plan is the plan a custom one would be.
alter function private.claim_due_posts(text, integer, integer, uuid) set plan_cache_mode = force_generic_plan;
alter function private.record_outcomes(jsonb) set plan_cache_mode = force_generic_plan;

call private.hand_over_to_postgres();
