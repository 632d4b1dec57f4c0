-- Hardening the API's edges (issue 7, part 4):
-- 1. Idempotency keys for the queue's write API (POST /api/queue/add and /bulk-post), with Stripe's
-- semantics: the first request with a key stores its response in the same transaction as the posts it
-- queued, so a crash leaves neither a key without its posts nor posts without their key; a retry
-- with the same key and body gets that response back. Keys belong to one user and live 24 hours.
-- lib/api/idempotency.ts is the only caller.
-- 2. Stripe events applied in one statement (private.apply_stripe_event), so the webhook holds no
-- transaction open across its call to Stripe and a dropped connection fails one statement, not the
-- process (postgres.js 3.4 crashes when a connection drops inside `sql.begin`: porsager/postgres#1066,
-- #1154, #1208).

create table private.idempotency_keys (
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  key text not null check (key ~ '^[\x21-\x7e]{1,255}$'),
  -- Which request the key was first used for, e.g. 'POST /api/queue/bulk-post'.
  request text not null check (length(request) <= 100),
  -- SHA-256 (hex) of the request's body, canonical JSON: a reused key with another body is refused.
  request_hash text not null check (request_hash ~ '^[0-9a-f]{64}$'),
  response_status integer not null check (response_status between 200 and 299),
  -- Text, not jsonb: a replay returns the stored body byte for byte.
  response_body text not null,
  created_at timestamptz not null default now(),
  primary key (user_id, key)
);
comment on table private.idempotency_keys is
  'Responses stored under Idempotency-Key headers, per user, for 24 hours (private.prune_idempotency_keys).';

-- Pruning scans by age.
create index idempotency_keys_created_at on private.idempotency_keys (created_at);

alter table private.idempotency_keys enable row level security;

-- A user sees and writes only their own keys; expired keys may be deleted (to reuse the key), never
-- live ones (which would let a retry queue the posts twice). The primary key indexes user_id.
create policy idempotency_keys_select_own on private.idempotency_keys
  for select to authenticated using (user_id = (select auth.uid()));
create policy idempotency_keys_insert_own on private.idempotency_keys
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy idempotency_keys_delete_expired on private.idempotency_keys
  for delete to authenticated using (user_id = (select auth.uid()) and created_at < now() - interval '24 hours');

grant select, insert, delete on private.idempotency_keys to authenticated;

-- Deletes up to p_limit keys older than 24 hours, of any user, skipping rows another transaction
-- holds. Called on every idempotent request, so storage stays bounded by a day of use.
create function private.prune_idempotency_keys(p_limit integer default 1000) returns integer
language sql volatile security definer
set search_path = ''
as $$
  with expired as (
    select user_id, key from private.idempotency_keys
    where created_at < now() - interval '24 hours'
    order by created_at
    limit p_limit
    for update skip locked
  ), gone as (
    delete from private.idempotency_keys k using expired e
    where k.user_id = e.user_id and k.key = e.key
    returning 1
  )
  select count(*)::integer from gone
$$;

revoke all on function private.prune_idempotency_keys from public;
grant execute on function private.prune_idempotency_keys to authenticated, pacer_worker;

---------------------------------------------------------------------------------------------------
-- Stripe events, one statement each (lib/billing/webhook.ts).
--
-- The webhook re-reads a subscription from Stripe before applying it, and must never apply an older
-- read over a newer one. It used to hold a per-subscription lock in a transaction across that call;
-- now it is optimistic: it reads the subscription's row version (xmin) first, asks Stripe, then
-- applies only if the row is still at that version (else it reads again and retries).
---------------------------------------------------------------------------------------------------

-- Whether the event was applied already, and the version of the subscription's row (null: none yet).
create function private.stripe_event_state(p_event_id text, p_subscription_id text)
returns table (seen boolean, subscription_version text)
language sql stable security definer set search_path = ''
as $$
  select exists (select from private.stripe_events e where e.id = p_event_id),
         (select s.xmin::text from public.subscriptions s where s.id = p_subscription_id)
$$;

-- Records the event and mirrors the subscription as Stripe had it (the p_* fields; p_customer_id null:
-- nothing to mirror), unless the event was seen already ('duplicate') or the subscription's row moved
-- past p_expected_version since the caller asked Stripe ('stale': read again). 'applied' when a
-- workspace's plan was set, 'recorded' when the event concerns nothing Pacer mirrors.
create function private.apply_stripe_event(
  p_event_id text,
  p_event_type text,
  p_event_created timestamptz,
  p_subscription_id text,
  p_expected_version text,
  p_customer_id text,
  p_status text,
  p_plan_id text,
  p_price_lookup_key text,
  p_current_period_end timestamptz,
  p_cancel_at_period_end boolean
) returns table (outcome text, workspace_id uuid, workspace_plan_id text)
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_workspace uuid;
begin
  if p_subscription_id is not null then
    -- One event per subscription at a time, for this statement only.
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('pacer:stripe-subscription:' || p_subscription_id, 0));
  end if;
  if exists (select from private.stripe_events e where e.id = p_event_id) then
    return query select 'duplicate'::text, null::uuid, null::text;
    return;
  end if;
  if p_subscription_id is not null
     and (select s.xmin::text from public.subscriptions s where s.id = p_subscription_id) is distinct from p_expected_version then
    return query select 'stale'::text, null::uuid, null::text;
    return;
  end if;
  if not private.record_stripe_event(p_event_id, p_event_type, p_event_created) then
    return query select 'duplicate'::text, null::uuid, null::text;
    return;
  end if;
  v_workspace := case when p_customer_id is not null then private.workspace_of_billing_customer(p_customer_id) end;
  if p_subscription_id is null or v_workspace is null then
    -- A customer Pacer did not create (or no subscription at all): recorded, nothing to change.
    return query select 'recorded'::text, null::uuid, null::text;
    return;
  end if;
  return query select 'applied'::text, v_workspace,
    private.apply_subscription(p_subscription_id, v_workspace, p_customer_id, p_status, p_plan_id, p_price_lookup_key,
                               p_current_period_end, coalesce(p_cancel_at_period_end, false));
end
$$;

revoke all on function private.stripe_event_state, private.apply_stripe_event from public;
grant execute on function private.stripe_event_state, private.apply_stripe_event to pacer_worker;
