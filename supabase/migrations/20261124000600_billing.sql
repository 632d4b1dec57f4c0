-- Billing: Stripe subscriptions decide each workspace's plan. Stripe's state is mirrored into
-- public.subscriptions (written only by the service side, through the functions below); the
-- workspace's plan is derived from it in one function; and a plan that no longer covers every
-- account pauses the most recently added ones — deleting nothing — until the plan allows them again.
--
-- One source of truth: `workspaces.plan_id` stays the field the account-limit trigger and
-- `workspace_usage` read, but only `private.sync_workspace_plan` writes it (users cannot: column
-- grants), and it always writes `private.effective_plan_id`, which reads the subscriptions alone.

---------------------------------------------------------------------------------------------------
-- One Stripe customer per workspace, created once by the server (lib/billing/customers.ts).
---------------------------------------------------------------------------------------------------
create table private.billing_customers (
  workspace_id uuid primary key references public.workspaces (id) on delete cascade,
  stripe_customer_id text not null unique check (stripe_customer_id ~ '^cus_'),
  created_at timestamptz not null default now()
);
-- No policies: only the security definer functions below read or write it.
alter table private.billing_customers enable row level security;

---------------------------------------------------------------------------------------------------
-- Stripe events already processed: a redelivered or replayed event changes nothing.
---------------------------------------------------------------------------------------------------
create table private.stripe_events (
  id text primary key,
  type text not null,
  stripe_created_at timestamptz,
  processed_at timestamptz not null default now()
);
alter table private.stripe_events enable row level security;

---------------------------------------------------------------------------------------------------
-- Subscriptions: Stripe's view, mirrored. Keyed by Stripe's id; a workspace may have several over
-- time (a canceled one, then a new one), and the plan comes from the best one still in force.
---------------------------------------------------------------------------------------------------
create table public.subscriptions (
  id text primary key check (id ~ '^sub_'),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  stripe_customer_id text not null,
  -- Stripe's status as is (no check: a status Stripe adds later must not make the webhook fail);
  -- only active, trialing and past_due within its grace period grant the plan.
  status text not null,
  -- From the price's lookup key (pacer_<plan>_monthly); null when the price is not a Pacer plan.
  plan_id text references public.plans (id),
  price_lookup_key text,
  current_period_end timestamptz,
  cancel_at_period_end boolean not null default false,
  -- When Pacer first saw it past_due, and until when that keeps the plan.
  past_due_since timestamptz,
  grace_ends_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index subscriptions_workspace_id_idx on public.subscriptions (workspace_id, updated_at desc);
create index subscriptions_plan_id_idx on public.subscriptions (plan_id);
create index subscriptions_grace_idx on public.subscriptions (grace_ends_at) where status = 'past_due';

alter table public.subscriptions enable row level security;
create policy "Members can read their workspace's subscriptions" on public.subscriptions
  for select to authenticated
  using (workspace_id in (select private.my_workspace_ids()));
-- Read-only through the API: only private.apply_subscription writes it.
revoke all on public.subscriptions from anon, authenticated;
grant select on public.subscriptions to authenticated;

---------------------------------------------------------------------------------------------------
-- Accounts paused because the plan no longer covers them, so an upgrade resumes exactly those.
---------------------------------------------------------------------------------------------------
alter table public.social_accounts
  add column paused_reason text constraint social_accounts_paused_reason_check check (paused_reason in ('plan_limit')),
  -- The state to return to when the pause is lifted (active or connected).
  add column state_before_pause public.account_state;
create index social_accounts_paused_reason_idx on public.social_accounts (workspace_id) where paused_reason is not null;
grant select (paused_reason) on public.social_accounts to authenticated;

---------------------------------------------------------------------------------------------------
-- The effective plan, and the workspace's plan kept equal to it.
---------------------------------------------------------------------------------------------------
-- The sentence a subscriber reads on an account the plan no longer covers.
create function private.plan_limit_reason(p_plan_name text, p_max_accounts integer)
returns text language sql immutable set search_path = ''
as $$
  select 'Paused: the ' || p_plan_name || ' plan allows ' || p_max_accounts
         || ' accounts; upgrade or remove accounts to resume it.'
$$;

-- active or trialing → its plan; past_due → its plan until grace_ends_at; anything else → the
-- default. With several in force, the largest plan wins.
create function private.effective_plan_id(p_workspace_id uuid)
returns text
language sql stable security definer set search_path = ''
as $$
  select coalesce(
    (select s.plan_id
     from public.subscriptions s join public.plans p on p.id = s.plan_id
     where s.workspace_id = p_workspace_id
       and (s.status in ('active', 'trialing') or (s.status = 'past_due' and s.grace_ends_at > now()))
     order by p.max_accounts desc, p.sort_order desc
     limit 1),
    (select p.id from public.plans p where p.is_default))
$$;

-- The only writer of workspaces.plan_id (besides superusers). Returns the plan now in force.
create function private.sync_workspace_plan(p_workspace_id uuid)
returns text
language plpgsql security definer set search_path = ''
as $$
declare
  v_plan text := private.effective_plan_id(p_workspace_id);
begin
  update public.workspaces set plan_id = v_plan
  where id = p_workspace_id and plan_id is distinct from v_plan;
  return v_plan;
end
$$;

---------------------------------------------------------------------------------------------------
-- Plan limit effects. The plan covers a workspace's first max_accounts accounts by age; the rest
-- are over it. Over-limit accounts that could publish are paused (state 'paused', paused_reason
-- 'plan_limit', the reason in last_error); plan-paused accounts the plan covers again resume.
-- Accounts paused, restricted or waiting for review for other reasons are never touched.
---------------------------------------------------------------------------------------------------
create function private.apply_plan_limit(p_workspace_id uuid)
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
  with ranked as (
    select a.id, row_number() over (order by a.created_at, a.id) as n
    from public.social_accounts a where a.workspace_id = p_workspace_id
  )
  update public.social_accounts a set
    state = coalesce(a.state_before_pause, 'connected'),
    paused_reason = null, state_before_pause = null, last_error = null
  from ranked r
  where a.id = r.id and a.paused_reason = 'plan_limit' and r.n <= v_plan.max_accounts;

  -- Pause the most recently added accounts past the limit; keep the reason naming the current plan.
  with ranked as (
    select a.id, row_number() over (order by a.created_at, a.id) as n
    from public.social_accounts a where a.workspace_id = p_workspace_id
  )
  update public.social_accounts a set
    state = 'paused',
    paused_reason = 'plan_limit',
    state_before_pause = case when a.paused_reason = 'plan_limit' then a.state_before_pause else a.state end,
    last_error = v_reason
  from ranked r
  where a.id = r.id and r.n > v_plan.max_accounts
    and (private.account_can_publish(a.state)
         or (a.paused_reason = 'plan_limit' and a.last_error is distinct from v_reason));
end
$$;

-- Whenever the plan changes (billing, or a superuser), its effects follow in the same transaction.
create function private.on_workspace_plan_changed() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  perform private.apply_plan_limit(new.id);
  return null;
end
$$;
create trigger apply_plan_limit after update of plan_id on public.workspaces
  for each row when (old.plan_id is distinct from new.plan_id)
  execute function private.on_workspace_plan_changed();

-- Removing accounts frees room on the plan: the oldest plan-paused accounts resume into it.
create function private.on_accounts_removed() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_workspace uuid;
begin
  for v_workspace in
    select distinct o.workspace_id from old_rows o
    where exists (select 1 from public.social_accounts a
                  where a.workspace_id = o.workspace_id and a.paused_reason is not null)
  loop
    perform private.apply_plan_limit(v_workspace);
  end loop;
  return null;
end
$$;
create trigger resume_accounts_within_plan after delete on public.social_accounts
  referencing old table as old_rows
  for each statement execute function private.on_accounts_removed();

-- Whoever makes an account publishable again (a user's resume, a health check clearing a
-- restriction), an account the plan does not cover stays paused, with the reason. Leaving
-- 'paused' any other way ends the plan pause.
create function private.hold_accounts_over_plan() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_plan public.plans;
  v_older integer;
begin
  if new.state <> 'paused' then
    new.paused_reason := null;
    new.state_before_pause := null;
  end if;
  if private.account_can_publish(new.state) and not private.account_can_publish(old.state) then
    select p.* into v_plan
    from public.workspaces w join public.plans p on p.id = w.plan_id
    where w.id = new.workspace_id;
    select count(*) into v_older from public.social_accounts a
    where a.workspace_id = new.workspace_id and (a.created_at, a.id) < (new.created_at, new.id);
    if v_older >= v_plan.max_accounts then
      new.state_before_pause := new.state;
      new.state := 'paused';
      new.paused_reason := 'plan_limit';
      new.last_error := private.plan_limit_reason(v_plan.name, v_plan.max_accounts);
    end if;
  end if;
  return new;
end
$$;
create trigger hold_accounts_over_plan before update of state on public.social_accounts
  for each row execute function private.hold_accounts_over_plan();

---------------------------------------------------------------------------------------------------
-- What the service side calls (as pacer_worker): customers, the event ledger, mirroring.
---------------------------------------------------------------------------------------------------
create function private.billing_customer_of(p_workspace_id uuid)
returns text
language sql stable security definer set search_path = ''
as $$
  select c.stripe_customer_id from private.billing_customers c where c.workspace_id = p_workspace_id
$$;

create function private.workspace_of_billing_customer(p_customer_id text)
returns uuid
language sql stable security definer set search_path = ''
as $$
  select c.workspace_id from private.billing_customers c where c.stripe_customer_id = p_customer_id
$$;

-- Records the workspace's customer unless it has one already; returns the one it has.
create function private.record_billing_customer(p_workspace_id uuid, p_customer_id text)
returns text
language plpgsql security definer set search_path = ''
as $$
begin
  insert into private.billing_customers (workspace_id, stripe_customer_id)
  values (p_workspace_id, p_customer_id)
  on conflict (workspace_id) do nothing;
  return private.billing_customer_of(p_workspace_id);
end
$$;

-- True the first time an event id is seen. Called in the transaction that applies the event, so a
-- failure leaves no ledger row and Stripe's retry applies it.
create function private.record_stripe_event(p_id text, p_type text, p_created timestamptz)
returns boolean
language plpgsql security definer set search_path = ''
as $$
begin
  insert into private.stripe_events (id, type, stripe_created_at) values (p_id, p_type, p_created)
  on conflict (id) do nothing;
  return found;
end
$$;

-- Mirror one subscription as Stripe has it now, then bring the workspace's plan (and the accounts
-- it covers) in line. The grace period of a past_due subscription is decided here: 7 days from when
-- Pacer first saw it past_due. Returns the workspace's plan afterwards.
create function private.apply_subscription(
  p_subscription_id text,
  p_workspace_id uuid,
  p_customer_id text,
  p_status text,
  p_plan_id text,
  p_price_lookup_key text,
  p_current_period_end timestamptz,
  p_cancel_at_period_end boolean
) returns text
language plpgsql security definer set search_path = ''
as $$
declare
  v_grace constant interval := interval '7 days';
  v_plan text := (select p.id from public.plans p where p.id = p_plan_id);
begin
  insert into public.subscriptions as s (id, workspace_id, stripe_customer_id, status, plan_id, price_lookup_key,
                                         current_period_end, cancel_at_period_end, past_due_since, grace_ends_at)
  values (p_subscription_id, p_workspace_id, p_customer_id, p_status, v_plan, p_price_lookup_key,
          p_current_period_end, coalesce(p_cancel_at_period_end, false),
          case when p_status = 'past_due' then now() end,
          case when p_status = 'past_due' then now() + v_grace end)
  on conflict (id) do update set
    stripe_customer_id = excluded.stripe_customer_id,
    status = excluded.status,
    plan_id = excluded.plan_id,
    price_lookup_key = excluded.price_lookup_key,
    current_period_end = excluded.current_period_end,
    cancel_at_period_end = excluded.cancel_at_period_end,
    past_due_since = case when excluded.status = 'past_due' then coalesce(s.past_due_since, now()) end,
    grace_ends_at = case when excluded.status = 'past_due' then coalesce(s.grace_ends_at, now() + v_grace) end,
    updated_at = now()
  where s.workspace_id = excluded.workspace_id;
  if not found then
    raise exception 'Stripe subscription % belongs to another workspace than %.', p_subscription_id, p_workspace_id
      using errcode = 'P0001';
  end if;
  return private.sync_workspace_plan(p_workspace_id);
end
$$;

-- Ends grace periods that ran out with no event from Stripe: run on a schedule (and on every
-- webhook delivery). Returns how many workspaces changed plan.
create function private.expire_billing_grace()
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_workspace uuid;
  v_changed integer := 0;
  v_before text;
begin
  for v_workspace in
    select distinct s.workspace_id from public.subscriptions s
    where s.status = 'past_due' and s.grace_ends_at <= now()
  loop
    select w.plan_id into v_before from public.workspaces w where w.id = v_workspace;
    if private.sync_workspace_plan(v_workspace) is distinct from v_before then
      v_changed := v_changed + 1;
    end if;
  end loop;
  return v_changed;
end
$$;

---------------------------------------------------------------------------------------------------
-- Grants: functions are executable by PUBLIC by default; these are for the service side only.
---------------------------------------------------------------------------------------------------
revoke all on function private.plan_limit_reason, private.effective_plan_id, private.sync_workspace_plan,
  private.apply_plan_limit, private.on_workspace_plan_changed, private.on_accounts_removed,
  private.hold_accounts_over_plan, private.billing_customer_of, private.workspace_of_billing_customer,
  private.record_billing_customer, private.record_stripe_event, private.apply_subscription,
  private.expire_billing_grace from public;
grant execute on function private.billing_customer_of, private.workspace_of_billing_customer,
  private.record_billing_customer, private.record_stripe_event, private.apply_subscription,
  private.expire_billing_grace to pacer_worker;
