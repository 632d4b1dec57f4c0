-- Outbound webhooks (docs/webhooks.md): endpoints per workspace subscribe to events; the database
-- writes each event into an outbox in the transaction that makes the change (triggers below); the
-- worker fans the outbox out to the subscribed endpoints as deliveries and sends them
-- (lib/webhooks/deliver.ts) with leases, backoff for 24 hours and order per post. Nothing is sent
-- from inside a request.
--
-- Access: admins and owners read endpoints (never the sealed secret), events and deliveries through
-- RLS; every change goes through the private functions at the end, which the server calls as
-- pacer_worker inside the user's transaction and which check the user's role themselves.

---------------------------------------------------------------------------------------------------
-- 1. Endpoints, events, deliveries.
---------------------------------------------------------------------------------------------------
create function private.webhook_event_types() returns text[]
language sql immutable set search_path = ''
as $$
  select array['post.published', 'post.failed', 'post.needs_review',
               'account.paused', 'account.resumed', 'account.health_alert']
$$;

create table public.webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  url text not null check (length(url) <= 2000 and url ~* '^https?://'),
  description text not null default '' check (length(description) <= 200),
  events text[] not null check (cardinality(events) >= 1 and events <@ private.webhook_event_types()),
  -- AES-GCM ciphertext of the signing secret, made by the server (lib/accounts/credentials.ts): the
  -- server must sign with it, so it is sealed, not hashed. No API role can read it.
  secret_sealed text not null check (secret_sealed ~ '^v1:[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$'),
  -- The secret's last characters, so a person can tell which one a receiver holds.
  secret_hint text not null check (length(secret_hint) between 1 and 12),
  enabled boolean not null default true,
  disabled_at timestamptz,
  disabled_reason text,
  -- Failed attempts since the last success, and when that streak began (private.record_webhook_attempts).
  consecutive_failures integer not null default 0,
  failing_since timestamptz,
  last_success_at timestamptz,
  secret_rotated_at timestamptz,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, workspace_id)
);
create index webhook_endpoints_workspace_idx on public.webhook_endpoints (workspace_id, created_at);

-- One row per event; its id is the `Pacer-Event-Id` receivers deduplicate on.
create table public.webhook_events (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  -- Spelled out, not private.webhook_event_types(): a function with SET search_path in a CHECK costs a
  -- call per row, and events are written in the engine's batches.
  type text not null check (type in ('post.published', 'post.failed', 'post.needs_review', 'account.paused',
                                     'account.resumed', 'account.health_alert', 'ping')),
  -- Deliveries with the same key reach an endpoint in order: the post for post events, the account for
  -- account events; none for a ping.
  order_key uuid,
  -- A ping goes to this endpoint only; every other event to the endpoints subscribed to its type.
  endpoint_id uuid references public.webhook_endpoints (id) on delete cascade,
  data jsonb not null,
  created_at timestamptz not null default now(),
  -- The outbox's order, and whether the worker has made its deliveries yet (private.fan_out_webhook_events).
  seq bigint generated always as identity,
  fanned_out boolean not null default false
);
create index webhook_events_outbox_idx on public.webhook_events (seq) where not fanned_out;
create index webhook_events_workspace_idx on public.webhook_events (workspace_id, created_at desc);
create index webhook_events_endpoint_idx on public.webhook_events (endpoint_id) where endpoint_id is not null;
create index webhook_events_created_idx on public.webhook_events (created_at);

create table public.webhook_deliveries (
  id bigint generated always as identity primary key,
  workspace_id uuid not null,
  endpoint_id uuid not null,
  -- No foreign key to the event: each check would cost a lookup per delivery in the engine's batches.
  -- Events and their deliveries go together (private.prune_webhook_log; a workspace's cascade).
  event_id uuid not null,
  event_type text not null,
  order_key uuid,
  -- pending (waiting or being sent), delivered (a 2xx answer), failed (given up after its 24 hours).
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  give_up_at timestamptz not null default now() + interval '24 hours',
  lease_id uuid,
  lease_expires_at timestamptz,
  last_attempt_at timestamptz,
  response_status integer,
  response_ms integer,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  foreign key (endpoint_id, workspace_id) references public.webhook_endpoints (id, workspace_id) on delete cascade,
  check ((lease_id is null) = (lease_expires_at is null))
);
-- The claim reads the due range; the order check looks up an endpoint's earlier pending deliveries of a key.
create index webhook_deliveries_due_idx on public.webhook_deliveries (next_attempt_at, id) where status = 'pending';
create index webhook_deliveries_order_idx on public.webhook_deliveries (endpoint_id, order_key, id) where status = 'pending';
create index webhook_deliveries_endpoint_idx on public.webhook_deliveries (endpoint_id, id desc);
create index webhook_deliveries_workspace_idx on public.webhook_deliveries (workspace_id, id desc);
create index webhook_deliveries_event_idx on public.webhook_deliveries (event_id);

alter table public.webhook_endpoints enable row level security;
alter table public.webhook_events enable row level security;
alter table public.webhook_deliveries enable row level security;

create policy "Admins and owners can read their workspace's webhook endpoints" on public.webhook_endpoints
  for select to authenticated using (workspace_id in (select private.my_workspace_ids('admin')));
create policy "Admins and owners can read their workspace's webhook events" on public.webhook_events
  for select to authenticated using (workspace_id in (select private.my_workspace_ids('admin')));
create policy "Admins and owners can read their workspace's webhook deliveries" on public.webhook_deliveries
  for select to authenticated using (workspace_id in (select private.my_workspace_ids('admin')));

revoke all on public.webhook_endpoints, public.webhook_events, public.webhook_deliveries from anon, authenticated, pacer_worker;
grant select (id, workspace_id, url, description, events, secret_hint, enabled, disabled_at, disabled_reason,
              consecutive_failures, failing_since, last_success_at, secret_rotated_at, created_by, created_at, updated_at)
  on public.webhook_endpoints to authenticated;
grant select on public.webhook_events, public.webhook_deliveries to authenticated;

---------------------------------------------------------------------------------------------------
-- 2. Fan-out, by the worker before it sends: each new event of the outbox becomes one delivery per
--    endpoint enabled and subscribed to it then (a ping: its own endpoint). Out of the engine's
--    transactions on purpose: writing the deliveries there doubled the cost of a batch of outcomes.
---------------------------------------------------------------------------------------------------
create function private.fan_out_webhook_events(p_limit integer) returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_count integer;
begin
  -- One fan-out at a time, so deliveries are numbered in the outbox's order (the order each post's
  -- events are sent in); a worker that finds it busy sends what is fanned out already.
  if not pg_try_advisory_xact_lock(hashtextextended('pacer.webhook_fan_out', 0)) then
    return 0;
  end if;
  with batch as (
    update public.webhook_events ev set fanned_out = true
    where ev.seq in (select o.seq from public.webhook_events o where not o.fanned_out order by o.seq limit p_limit)
    returning ev.id, ev.seq, ev.workspace_id, ev.type, ev.order_key, ev.endpoint_id
  )
  insert into public.webhook_deliveries (workspace_id, endpoint_id, event_id, event_type, order_key)
  select b.workspace_id, e.id, b.id, b.type, b.order_key
  from batch b
  join public.webhook_endpoints e on e.workspace_id = b.workspace_id
   and (e.id = b.endpoint_id or (b.endpoint_id is null and e.enabled and b.type = any (e.events)))
  order by b.seq, e.id;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

-- Whether a workspace has an enabled endpoint for `p_type`: the sources below write nothing otherwise.
create function private.wants_webhook(p_workspace_id uuid, p_type text) returns boolean
language sql stable security definer set search_path = ''
as $$
  select exists (select 1 from public.webhook_endpoints e
                 where e.workspace_id = p_workspace_id and e.enabled and p_type = any (e.events))
$$;

---------------------------------------------------------------------------------------------------
-- 3. The sources, each in the transaction that makes the change.
---------------------------------------------------------------------------------------------------
-- A queue item reaching posted, failed or needs_review. Statement-level: the engine records outcomes
-- in batches (private.record_outcomes), and claims update items too; a statement with no such
-- transition (every claim) costs one pass over its transition table.
create function private.queue_item_webhook_events() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  -- Where no endpoint anywhere hears post events (most installations, and every claim's statement
  -- there), this is the whole cost: the first subscribed endpoint ends the scan otherwise.
  if not exists (select 1 from public.webhook_endpoints e
                 where e.enabled and e.events && array['post.published', 'post.failed', 'post.needs_review']) then
    return null;
  end if;
  insert into public.webhook_events (workspace_id, type, order_key, data)
  select x.workspace_id, x.type, x.post_id,
         jsonb_build_object(
           'queue_item_id', x.id, 'post_id', x.post_id, 'status', x.status,
           'account', jsonb_build_object('id', a.id, 'platform', a.platform, 'handle', a.handle),
           'action', x.action, 'attempts', x.attempts, 'scheduled_for', x.scheduled_for,
           'posted_at', x.posted_at, 'external_id', x.external_id, 'external_url', x.external_url,
           'error_class', x.error_class, 'error', x.last_error)
  from (
    select n.*, case n.status when 'posted' then 'post.published'
                              when 'failed' then 'post.failed'
                              else 'post.needs_review' end as type
    from new_rows n
    where n.status in ('posted', 'failed', 'needs_review')
  ) x
  join old_rows o on o.id = x.id and o.status <> x.status
  join public.social_accounts a on a.id = x.account_id
  -- Spelled out rather than private.wants_webhook: a function with SET search_path is not inlined.
  where exists (select 1 from public.webhook_endpoints e
                where e.workspace_id = x.workspace_id and e.enabled and x.type = any (e.events))
  order by x.id;
  return null;
end
$$;
create trigger queue_item_webhook_events after update on public.queue_items
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.queue_item_webhook_events();

-- An account leaving the states it can publish in (paused, restricted, needs_reconnect, needs_review)
-- or coming back to them. Row-level with WHEN: the health scan updates thousands of accounts' scores
-- per statement and only a real change of publishability reaches the function.
create function private.account_webhook_event() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_type text := case when new.state in ('connected', 'active') then 'account.resumed' else 'account.paused' end;
begin
  if private.wants_webhook(new.workspace_id, v_type) then
    insert into public.webhook_events (workspace_id, type, order_key, data)
    values (new.workspace_id, v_type, new.id,
            jsonb_build_object('account', jsonb_build_object('id', new.id, 'platform', new.platform, 'handle', new.handle),
                               'state', new.state, 'previous_state', old.state, 'paused_reason', new.paused_reason,
                               'cooldown_until', new.cooldown_until, 'error', new.last_error));
  end if;
  return null;
end
$$;
create trigger account_webhook_event after update of state on public.social_accounts
  for each row
  when ((old.state in ('connected', 'active')) is distinct from (new.state in ('connected', 'active')))
  execute function private.account_webhook_event();

-- A health alert opened (the scan inserts them in sets).
create function private.health_alert_webhook_events() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.webhook_events (workspace_id, type, order_key, data)
  select n.workspace_id, 'account.health_alert', n.account_id,
         jsonb_build_object('alert_id', n.id,
                            'account', jsonb_build_object('id', a.id, 'platform', a.platform, 'handle', a.handle),
                            'rule', n.rule_id, 'severity', n.severity, 'message', n.message, 'advice', n.advice,
                            'observed', n.observed, 'baseline', n.baseline, 'threshold', n.threshold,
                            'opened_at', n.opened_at)
  from new_alerts n
  join public.social_accounts a on a.id = n.account_id
  where exists (select 1 from public.webhook_endpoints e
                where e.workspace_id = n.workspace_id and e.enabled and 'account.health_alert' = any (e.events))
  order by n.id;
  return null;
end
$$;
create trigger health_alert_webhook_events after insert on public.health_alerts
  referencing new table as new_alerts for each statement execute function private.health_alert_webhook_events();

---------------------------------------------------------------------------------------------------
-- 4. Delivery, for the worker (pacer_worker): claim with a lease, record each attempt.
---------------------------------------------------------------------------------------------------
-- The wait after the n-th failed attempt: 1 min, 5 min, 30 min, 2 h, 5 h, then every 10 h, until the
-- delivery's give_up_at (24 hours after it was queued): 7 attempts in all.
create function private.webhook_backoff(p_attempt integer) returns interval
language sql immutable set search_path = ''
as $$
  select (array[60, 300, 1800, 7200, 18000, 36000])[least(greatest(p_attempt, 1), 6)] * interval '1 second'
$$;

-- Due deliveries of enabled endpoints, leased to one worker (SKIP LOCKED). A delivery waits while an
-- earlier delivery of the same key (post, account) to the same endpoint is still pending, so a
-- receiver sees a post's events in order; a given-up one no longer holds the later ones back.
create function private.claim_webhook_deliveries(p_limit integer, p_lease_seconds integer)
returns table (id bigint, lease_id uuid, attempt integer, endpoint_id uuid, url text, secret_sealed text,
               event_id uuid, event_type text, event_created_at timestamptz, workspace_id uuid, data jsonb)
language sql security definer set search_path = ''
as $$
  with due as (
    select d.id
    from public.webhook_deliveries d
    join public.webhook_endpoints e on e.id = d.endpoint_id and e.enabled
    where d.status = 'pending' and d.next_attempt_at <= now()
      and (d.lease_expires_at is null or d.lease_expires_at <= now())
      and not exists (select 1 from public.webhook_deliveries b
                      where b.endpoint_id = d.endpoint_id and b.order_key = d.order_key
                        and b.status = 'pending' and b.id < d.id)
    order by d.next_attempt_at, d.id
    limit p_limit
    for update of d skip locked
  ),
  leased as (
    update public.webhook_deliveries d
       set lease_id = gen_random_uuid(), lease_expires_at = now() + p_lease_seconds * interval '1 second',
           attempts = d.attempts + 1
    from due where d.id = due.id
    returning d.id, d.lease_id, d.attempts, d.endpoint_id, d.event_id
  )
  select l.id, l.lease_id, l.attempts, l.endpoint_id, e.url, e.secret_sealed,
         ev.id, ev.type, ev.created_at, ev.workspace_id, ev.data
  from leased l
  join public.webhook_endpoints e on e.id = l.endpoint_id
  join public.webhook_events ev on ev.id = l.event_id
  order by l.id
$$;

-- An endpoint is disabled after this many failed attempts in a row spanning at least 24 hours
-- (docs/webhooks.md says why).
create function private.webhook_disable_after() returns integer
language sql immutable set search_path = '' as $$ select 20 $$;

-- Each attempt's result ([{id, lease_id, ok, response_status, response_ms, error}]), applied only
-- under the lease it was sent with. A failure waits its backoff, or past give_up_at is given up; the
-- endpoint's streak of failures is kept, and a long enough one disables it, with an audit row.
create function private.record_webhook_attempts(p_results jsonb)
returns table (id bigint, status text, next_attempt_at timestamptz)
language plpgsql security definer set search_path = ''
as $$
begin
  return query
  with r as (
    select x.* from jsonb_to_recordset(p_results) as x(id bigint, lease_id uuid, ok boolean, response_status integer,
                                                          response_ms integer, error text)
  ),
  updated as (
    update public.webhook_deliveries d set
      status = case when r.ok then 'delivered'
                    when now() + private.webhook_backoff(d.attempts) > d.give_up_at then 'failed'
                    else 'pending' end,
      next_attempt_at = case when r.ok then d.next_attempt_at else now() + private.webhook_backoff(d.attempts) end,
      lease_id = null, lease_expires_at = null,
      last_attempt_at = now(), response_status = r.response_status, response_ms = r.response_ms,
      last_error = case when r.ok then null else left(r.error, 500) end,
      delivered_at = case when r.ok then now() else d.delivered_at end
    from r
    where d.id = r.id and d.lease_id = r.lease_id
    returning d.id, d.endpoint_id, d.status, d.next_attempt_at, r.ok, d.last_error
  ),
  streaks as (
    select u.endpoint_id, bool_or(u.ok) as any_ok, count(*) filter (where not u.ok) as failures,
           (array_agg(u.last_error order by u.id desc) filter (where not u.ok))[1] as last_error
    from updated u group by u.endpoint_id
  ),
  endpoints as (
    update public.webhook_endpoints e set
      consecutive_failures = case when s.any_ok then 0 else e.consecutive_failures + s.failures end,
      failing_since = case when s.any_ok then null else coalesce(e.failing_since, now()) end,
      last_success_at = case when s.any_ok then now() else e.last_success_at end,
      enabled = false,
      disabled_at = now(),
      disabled_reason = format('Disabled after %s failed attempts in a row since %s UTC (last: %s). Fix the receiver, then re-enable the endpoint: deliveries waiting for it resume.',
                               e.consecutive_failures + s.failures, to_char(e.failing_since at time zone 'UTC', 'YYYY-MM-DD HH24:MI'),
                               coalesce(s.last_error, 'no answer')),
      updated_at = now()
    from streaks s
    where e.id = s.endpoint_id and e.enabled and not s.any_ok
      and e.consecutive_failures + s.failures >= private.webhook_disable_after()
      and e.failing_since <= now() - interval '24 hours'
    returning e.id, e.workspace_id, e.url, e.disabled_reason
  ),
  counted as (
    update public.webhook_endpoints e set
      consecutive_failures = case when s.any_ok then 0 else e.consecutive_failures + s.failures end,
      failing_since = case when s.any_ok then null else coalesce(e.failing_since, now()) end,
      last_success_at = case when s.any_ok then now() else e.last_success_at end
    from streaks s
    where e.id = s.endpoint_id and e.id not in (select x.id from endpoints x)
  ),
  audited as (
    insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
    select x.workspace_id, null, 'disable', 'webhook_endpoints', x.id::text, jsonb_build_object('enabled', true),
           jsonb_build_object('enabled', false, 'url', x.url, 'reason', x.disabled_reason)
    from endpoints x
  )
  select u.id, u.status, u.next_attempt_at from updated u;
end
$$;

-- The log is kept 30 days: older events whose deliveries are all settled go, with their deliveries,
-- a batch at a time (the worker calls this after each round of sending).
create function private.prune_webhook_log(p_limit integer) returns integer
language sql security definer set search_path = ''
as $$
  with gone as (
    delete from public.webhook_events ev
    where ev.id in (select o.id from public.webhook_events o
                    where o.created_at < now() - interval '30 days' and o.fanned_out
                      and not exists (select 1 from public.webhook_deliveries d where d.event_id = o.id and d.status = 'pending')
                    order by o.created_at limit p_limit)
    returning ev.id
  ),
  deliveries as (
    delete from public.webhook_deliveries d where d.event_id in (select g.id from gone g)
  )
  select count(*)::integer from gone
$$;

---------------------------------------------------------------------------------------------------
-- 5. What people do (admins and owners), called by the server as pacer_worker inside the user's
--    transaction: each checks the user's claims (private.require_workspace_role) and writes an audit
--    row without the secret.
---------------------------------------------------------------------------------------------------
create function private.webhook_endpoint_row(e public.webhook_endpoints) returns jsonb
language sql stable set search_path = ''
as $$
  select to_jsonb(e) - 'secret_sealed'
$$;

-- The endpoint `p_id` locked for a change by an admin or owner of its workspace; "not found" for anyone else.
create function private.webhook_endpoint_for_admin(p_id uuid) returns public.webhook_endpoints
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.webhook_endpoints;
begin
  select * into v_row from public.webhook_endpoints where id = p_id for update;
  if not found or not private.has_role_on_workspace(v_row.workspace_id, 'viewer') then
    raise exception 'Webhook endpoint % was not found, or you do not have access to it.', p_id using errcode = 'P0002';
  end if;
  perform private.require_workspace_role(v_row.workspace_id, 'admin');
  return v_row;
end
$$;

-- The endpoint's workspace, for reads and checks made before a change: the same answers as above, no lock.
create function private.webhook_endpoint_workspace(p_id uuid) returns uuid
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_workspace uuid;
begin
  select workspace_id into v_workspace from public.webhook_endpoints where id = p_id;
  if v_workspace is null or not private.has_role_on_workspace(v_workspace, 'viewer') then
    raise exception 'Webhook endpoint % was not found, or you do not have access to it.', p_id using errcode = 'P0002';
  end if;
  perform private.require_workspace_role(v_workspace, 'admin');
  return v_workspace;
end
$$;

create function private.webhook_audit(p_workspace_id uuid, p_action text, p_entity text, p_entity_id text,
                                      p_old jsonb, p_new jsonb) returns void
language sql security definer set search_path = ''
as $$
  insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, old_values, new_values)
  values (p_workspace_id, (select auth.uid()), p_action, p_entity, p_entity_id, p_old, p_new)
$$;

create function private.create_webhook_endpoint(p_workspace_id uuid, p_url text, p_description text, p_events text[],
                                                p_secret_sealed text, p_secret_hint text)
returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.webhook_endpoints;
begin
  perform private.require_workspace_role(p_workspace_id, 'admin');
  -- Serialises creations in the workspace, so two racing at the limit let one through.
  perform 1 from public.workspaces where id = p_workspace_id for no key update;
  if (select count(*) from public.webhook_endpoints where workspace_id = p_workspace_id) >= 10 then
    raise exception 'A workspace has at most 10 webhook endpoints, and this one has 10.'
      using errcode = 'P0001', hint = 'Remove an endpoint you no longer use, or subscribe an existing one to more events.',
            detail = json_build_object('code', 'webhook_limit_reached', 'max_endpoints', 10)::text;
  end if;
  insert into public.webhook_endpoints (workspace_id, url, description, events, secret_sealed, secret_hint, created_by)
  values (p_workspace_id, p_url, coalesce(p_description, ''), p_events, p_secret_sealed, p_secret_hint, (select auth.uid()))
  returning * into v_row;
  perform private.webhook_audit(p_workspace_id, 'insert', 'webhook_endpoints', v_row.id::text, null,
                                private.webhook_endpoint_row(v_row));
  return private.webhook_endpoint_row(v_row);
end
$$;

-- Changes what is given (null: unchanged). Enabling a disabled endpoint clears its streak: the
-- deliveries that waited for it are sent again.
create function private.update_webhook_endpoint(p_id uuid, p_url text, p_description text, p_events text[], p_enabled boolean)
returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_old public.webhook_endpoints := private.webhook_endpoint_for_admin(p_id);
  v_row public.webhook_endpoints;
begin
  update public.webhook_endpoints e set
    url = coalesce(p_url, e.url),
    description = coalesce(p_description, e.description),
    events = coalesce(p_events, e.events),
    enabled = coalesce(p_enabled, e.enabled),
    disabled_at = case when coalesce(p_enabled, e.enabled) then null when p_enabled is false and e.enabled then now() else e.disabled_at end,
    disabled_reason = case when coalesce(p_enabled, e.enabled) then null
                           when p_enabled is false and e.enabled then 'Disabled by a person.' else e.disabled_reason end,
    consecutive_failures = case when p_enabled and not e.enabled then 0 else e.consecutive_failures end,
    failing_since = case when p_enabled and not e.enabled then null else e.failing_since end,
    updated_at = now()
  where e.id = p_id
  returning * into v_row;
  if private.webhook_endpoint_row(v_old) - 'updated_at' is distinct from private.webhook_endpoint_row(v_row) - 'updated_at' then
    perform private.webhook_audit(v_row.workspace_id, 'update', 'webhook_endpoints', p_id::text,
                                  private.webhook_endpoint_row(v_old), private.webhook_endpoint_row(v_row));
  end if;
  return private.webhook_endpoint_row(v_row);
end
$$;

create function private.delete_webhook_endpoint(p_id uuid) returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_old public.webhook_endpoints := private.webhook_endpoint_for_admin(p_id);
begin
  delete from public.webhook_endpoints where id = p_id;
  perform private.webhook_audit(v_old.workspace_id, 'delete', 'webhook_endpoints', p_id::text,
                                private.webhook_endpoint_row(v_old), null);
end
$$;

-- A new secret at once: every attempt after this commits is signed with it.
create function private.rotate_webhook_secret(p_id uuid, p_secret_sealed text, p_secret_hint text) returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_old public.webhook_endpoints := private.webhook_endpoint_for_admin(p_id);
  v_row public.webhook_endpoints;
begin
  update public.webhook_endpoints set secret_sealed = p_secret_sealed, secret_hint = p_secret_hint,
         secret_rotated_at = now(), updated_at = now()
  where id = p_id returning * into v_row;
  perform private.webhook_audit(v_row.workspace_id, 'rotate_secret', 'webhook_endpoints', p_id::text,
                                jsonb_build_object('secret_hint', v_old.secret_hint), jsonb_build_object('secret_hint', v_row.secret_hint));
  return private.webhook_endpoint_row(v_row);
end
$$;

-- A ping event for this endpoint only (its order key is none: it waits for nothing).
create function private.queue_webhook_ping(p_id uuid) returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.webhook_endpoints := private.webhook_endpoint_for_admin(p_id);
  v_event uuid;
begin
  if not v_row.enabled then
    raise exception 'This endpoint is disabled, so a test event would wait for it.'
      using errcode = 'P0001', hint = 'Re-enable it first.', detail = json_build_object('code', 'endpoint_disabled')::text;
  end if;
  insert into public.webhook_events (workspace_id, type, endpoint_id, data)
  values (v_row.workspace_id, 'ping', p_id, jsonb_build_object('endpoint_id', p_id, 'message', 'A test event from Pacer.'))
  returning id into v_event;
  return v_event;
end
$$;

-- Retry now: the delivery is due at once, with a fresh 24 hours if it had been given up (or sent
-- again if it was delivered: receivers deduplicate by event id). Not while an attempt is in flight.
create function private.retry_webhook_delivery(p_id bigint) returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.webhook_deliveries;
begin
  select * into v_row from public.webhook_deliveries where id = p_id for update;
  if not found or not private.has_role_on_workspace(v_row.workspace_id, 'viewer') then
    raise exception 'Webhook delivery % was not found, or you do not have access to it.', p_id using errcode = 'P0002';
  end if;
  perform private.require_workspace_role(v_row.workspace_id, 'admin');
  if v_row.lease_expires_at > now() then
    raise exception 'This delivery is being sent right now; see its result in a moment.'
      using errcode = 'P0001', detail = json_build_object('code', 'delivery_in_flight')::text;
  end if;
  update public.webhook_deliveries set status = 'pending', next_attempt_at = now(),
         give_up_at = greatest(give_up_at, now() + interval '24 hours'), lease_id = null, lease_expires_at = null
  where id = p_id returning * into v_row;
  perform private.webhook_audit(v_row.workspace_id, 'retry', 'webhook_deliveries', p_id::text, null,
                                jsonb_build_object('event_id', v_row.event_id, 'endpoint_id', v_row.endpoint_id));
  return to_jsonb(v_row);
end
$$;

revoke all on function private.fan_out_webhook_events, private.wants_webhook,
  private.queue_item_webhook_events, private.account_webhook_event, private.health_alert_webhook_events,
  private.webhook_backoff, private.claim_webhook_deliveries, private.webhook_disable_after,
  private.record_webhook_attempts, private.prune_webhook_log, private.webhook_endpoint_row, private.webhook_endpoint_for_admin,
  private.webhook_endpoint_workspace, private.webhook_audit, private.create_webhook_endpoint, private.update_webhook_endpoint,
  private.delete_webhook_endpoint, private.rotate_webhook_secret, private.queue_webhook_ping,
  private.retry_webhook_delivery
  from public, anon, authenticated, service_role;
-- The server's role only: the worker claims and records; inside a user's transaction the rest check the user.
grant execute on function private.fan_out_webhook_events, private.claim_webhook_deliveries, private.record_webhook_attempts,
  private.prune_webhook_log, private.webhook_endpoint_workspace, private.create_webhook_endpoint, private.update_webhook_endpoint,
  private.delete_webhook_endpoint, private.rotate_webhook_secret, private.queue_webhook_ping,
  private.retry_webhook_delivery
  to pacer_worker;

call private.hand_over_to_postgres();
