-- Webhook events reach the endpoints that were enabled and subscribed when the event happened
-- (docs/webhooks.md). The fan-out chose them when it ran instead, so an endpoint disabled in the moment
-- between an event and its fan-out never got the event, and nothing in its delivery log said so: the
-- event was lost to it. Now the event carries its recipients, read in the transaction that writes it:
--
-- 1. public.webhook_events.recipients: the endpoints enabled and subscribed to the event's type when
--    it was written (a BEFORE INSERT trigger, so every source is covered: the queue, accounts, health
--    alerts, and rows written by hand). Null for events written before this migration and for pings
--    (a ping names its endpoint).
-- 2. private.fan_out_webhook_events makes one delivery per recipient that still exists, enabled now
--    or not: a disabled endpoint's delivery waits in its log, as its other pending ones do, and goes
--    once it is re-enabled (private.claim_webhook_deliveries sends only to enabled endpoints). Events
--    without recipients are fanned out as before.
--
-- Events that happen while an endpoint is disabled are still not queued for it.

alter table public.webhook_events add column recipients uuid[];
comment on column public.webhook_events.recipients is
  'The endpoints enabled and subscribed to this event''s type when it was written; the fan-out queues it for each.';

create function private.webhook_event_recipients() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if new.endpoint_id is null and new.recipients is null then
    -- At most 10 endpoints a workspace (webhook_endpoints_workspace_idx).
    new.recipients := array(select e.id from public.webhook_endpoints e
                            where e.workspace_id = new.workspace_id and e.enabled and new.type = any (e.events)
                            order by e.id);
  end if;
  return new;
end
$$;
create trigger webhook_event_recipients before insert on public.webhook_events
  for each row execute function private.webhook_event_recipients();

-- As in 20261204000600_webhooks.sql, with the recipients the event names.
create or replace function private.fan_out_webhook_events(p_limit integer) returns integer
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
    returning ev.id, ev.seq, ev.workspace_id, ev.type, ev.order_key, ev.endpoint_id, ev.recipients
  )
  insert into public.webhook_deliveries (workspace_id, endpoint_id, event_id, event_type, order_key)
  select b.workspace_id, e.id, b.id, b.type, b.order_key
  from batch b
  join public.webhook_endpoints e on e.workspace_id = b.workspace_id
   and (e.id = b.endpoint_id
        or (b.endpoint_id is null and b.recipients is not null and e.id = any (b.recipients))
        or (b.endpoint_id is null and b.recipients is null and e.enabled and b.type = any (e.events)))
  order by b.seq, e.id;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

revoke all on function private.webhook_event_recipients from public, anon, authenticated, service_role;

call private.hand_over_to_postgres();
