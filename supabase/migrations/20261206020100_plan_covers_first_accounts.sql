-- One rule, one place: "the plan covers a workspace's first max_accounts live accounts by age
-- (created_at, then id); the rest are over it" was written twice — as a ranking in
-- private.apply_plan_limit (which resumes what the plan covers again and pauses what it does not) and
-- as a count of older accounts in private.hold_accounts_over_plan (which keeps an account the plan
-- does not cover paused, whoever makes it publishable) — last defined in 20261205040100. It is now
-- private.plan_coverage, which both read. What each does with the answer is unchanged.

-- Every live account of the workspace, and whether a plan of p_max_accounts covers it. Removed
-- (archived) accounts hold no place (20261205040100); social_accounts_live_idx serves the order.
create function private.plan_coverage(p_workspace_id uuid, p_max_accounts integer)
returns table (account_id uuid, covered boolean)
language sql stable security definer set search_path = ''
as $$
  select a.id, row_number() over (order by a.created_at, a.id) <= p_max_accounts
  from public.social_accounts a
  where a.workspace_id = p_workspace_id and a.archived_at is null
$$;
-- Only the billing functions (security definer, owned like it) read it: no grant to anyone.
revoke all on function private.plan_coverage from public;

create or replace function private.apply_plan_limit(p_workspace_id uuid)
returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_plan public.plans;
  v_reason text;
begin
  select p.* into v_plan
  from public.workspaces w join public.plans p on p.id = w.plan_id
  where w.id = p_workspace_id;
  if not found then
    return;  -- the workspace is being deleted
  end if;
  v_reason := private.plan_limit_reason(v_plan.name, v_plan.max_accounts);

  -- Resume what the plan covers again, in the state it had before.
  update public.social_accounts a set
    state = coalesce(a.state_before_pause, 'connected'),
    paused_reason = null, state_before_pause = null, last_error = null
  from private.plan_coverage(p_workspace_id, v_plan.max_accounts) c
  where a.id = c.account_id and c.covered and a.paused_reason = 'plan_limit';

  -- Pause the most recently added accounts past the limit; keep the reason naming the current plan.
  update public.social_accounts a set
    state = 'paused',
    paused_reason = 'plan_limit',
    state_before_pause = case when a.paused_reason = 'plan_limit' then a.state_before_pause else a.state end,
    last_error = v_reason
  from private.plan_coverage(p_workspace_id, v_plan.max_accounts) c
  where a.id = c.account_id and not c.covered
    and (private.account_can_publish(a.state)
         or (a.paused_reason = 'plan_limit' and a.last_error is distinct from v_reason));
end
$$;

create or replace function private.hold_accounts_over_plan()
returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_plan public.plans;
  v_covered boolean;
begin
  if new.state <> 'paused' then
    new.paused_reason := null;
    new.state_before_pause := null;
  end if;
  if private.account_can_publish(new.state) and not private.account_can_publish(old.state) then
    select p.* into v_plan
    from public.workspaces w join public.plans p on p.id = w.plan_id
    where w.id = new.workspace_id;
    -- The row as it stands before this update is the one ranked (a state change moves no account
    -- in the order). A removed account has no place, and cannot become publishable anyway
    -- (keep_removed_accounts_removed).
    select c.covered into v_covered
    from private.plan_coverage(new.workspace_id, v_plan.max_accounts) c
    where c.account_id = new.id;
    if v_covered is false then
      new.state_before_pause := new.state;
      new.state := 'paused';
      new.paused_reason := 'plan_limit';
      new.last_error := private.plan_limit_reason(v_plan.name, v_plan.max_accounts);
    end if;
  end if;
  return new;
end
$$;

call private.hand_over_to_postgres();
