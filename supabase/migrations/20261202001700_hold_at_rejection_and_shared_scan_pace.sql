-- Two findings on account health (issue 9).
--
-- 1. A destination hold starts when the rejection that reaches the threshold is recorded, not at the
--    next health scan. Before, ten posts to one rejecting subreddit that fell due together were all
--    sent and rejected (and ended failed) before the scan held anything. Now an AFTER INSERT trigger
--    on public.posting_history creates the hold in the transaction that records the rejection, with
--    the rule the evaluation uses (the workspace's threshold, on or off, 24 hours, counting again
--    from a release): private.destination_rule_of and private.destination_rejections are that
--    definition. The hold's own trigger (20261202001400) then parks the destination's waiting items
--    and serialises with items being queued. record_outcomes is unchanged.
--
--    Why a statement trigger over the new rows and not a row trigger WHEN (outcome = ...): exact
--    counting under concurrency needs a lock per account (two batches each recording two rejections
--    of a threshold of three must not both count two), and one statement's rows may reject on several
--    accounts; row triggers would lock them in the order the rows were written, and two batches with
--    the accounts in opposite orders would deadlock. The statement trigger locks them in id order.
--    For a statement without a destination rejection (nearly every write) it costs one scan of the
--    statement's new rows (measured in docs/health.md, "Destination holds").
--
-- 2. The health scan's read pace is shared by every scan, through the database. Before, each scan
--    process spaced its own reads at public.platforms.scan_reads_per_minute, so overlapping scans (the
--    Edge Function, `npm run worker`, "check all now") together read a platform faster. Now
--    private.claim_accounts_for_scan gives every account it hands out a read time: the platform's
--    next free moment, one gap (a minute / scan_reads_per_minute) after the previous read handed out
--    by any scan, and hands out only reads due within the next minute (or the caller's shorter
--    horizon). Slots of one platform never come closer than one gap, so no minute (any 60 s, not only
--    clock minutes) holds more than the platform's pace. The next free moment is one row per
--    platform, locked by the claim (claims of one platform take turns for that moment; those of
--    different platforms do not meet). Accounts not handed out stay due, untouched.

---------------------------------------------------------------------------------------------------
-- 1. Holds at the rejection that reaches the threshold.
---------------------------------------------------------------------------------------------------

-- The destination_rejections rule as a workspace has it: on or off, and its threshold (as the
-- evaluation reads every rule: the workspace's setting over the default).
create function private.destination_rule_of(p_workspace_id uuid)
returns table (enabled boolean, threshold numeric)
language sql stable security definer set search_path = ''
as $$
  select r.enabled and coalesce(o.enabled, true), coalesce(o.threshold, r.threshold)
  from public.health_rules r
  left join public.workspace_health_rules o on o.workspace_id = p_workspace_id and o.rule_id = r.id
  where r.id = 'destination_rejections'
$$;

-- Rejections by one destination of one account that count toward a hold, as of p_now: the last 24
-- hours, and only those since the destination's latest release (a released destination starts
-- counting again). The evaluation's observation (max over destinations) and its step 7 count the same.
create function private.destination_rejections(p_account_id uuid, p_destination text, p_now timestamptz)
returns integer
language sql stable security definer set search_path = ''
as $$
  select count(*)::integer from public.posting_history h
  where h.account_id = p_account_id and h.destination = p_destination and h.outcome = 'destination_rejected'
    and h.finished_at > p_now - interval '24 hours'
    and h.finished_at > coalesce((select max(dh.released_at) from public.destination_holds dh
                                  where dh.account_id = p_account_id and dh.destination = p_destination), '-infinity')
$$;

create function private.hold_destinations_at_threshold() returns trigger
language plpgsql security definer set search_path = ''
set jit = off
as $$
begin
  -- Nearly every write of the history: no destination rejected anything, nothing to do.
  if not exists (select from new_rows n where n.outcome = 'destination_rejected' and n.destination is not null) then
    return null;
  end if;

  -- The accounts whose rejections may reach a threshold (the rule on, no hold open), locked FOR
  -- UPDATE in id order: concurrent batches rejecting on the same account take turns here, and the
  -- later one counts the earlier one's committed rejections (exact under concurrency); in id order
  -- so two batches never deadlock over two accounts. FOR UPDATE is the lock the hold's own trigger
  -- (hold_items_of_new_destination_holds) takes anyway, so creating the hold takes no new lock.
  perform 1 from public.social_accounts a
  where a.id in (select n.account_id from new_rows n
                 cross join lateral private.destination_rule_of(n.workspace_id) r
                 where n.outcome = 'destination_rejected' and n.destination is not null and r.enabled
                   and not exists (select from public.destination_holds dh
                                   where dh.account_id = n.account_id and dh.destination = n.destination
                                     and dh.released_at is null))
  order by a.id
  for update;

  -- A new statement, so a new snapshot: it sees the rejections committed while this one waited.
  with pairs as (
    select distinct n.workspace_id, n.account_id, n.destination
    from new_rows n
    where n.outcome = 'destination_rejected' and n.destination is not null
  ),
  due as (
    select p.workspace_id, p.account_id, p.destination, c.rejections
    from pairs p
    cross join lateral private.destination_rule_of(p.workspace_id) r
    cross join lateral (select private.destination_rejections(p.account_id, p.destination, now()) as rejections) c
    where r.enabled and c.rejections >= r.threshold
      and not exists (select from public.destination_holds dh
                      where dh.account_id = p.account_id and dh.destination = p.destination and dh.released_at is null)
  ),
  held as (
    -- The same row, reason and conflict rule as the evaluation's holds (one open hold per destination).
    insert into public.destination_holds (workspace_id, account_id, destination, rejections, reason)
    select d.workspace_id, d.account_id, d.destination, d.rejections,
           d.destination || ' rejected ' || d.rejections || ' posts in 24 hours.'
    from due d
    on conflict (account_id, destination) where released_at is null do nothing
    returning id, workspace_id, account_id, destination, rejections
  )
  -- Audited as the evaluation audits its holds: by the rule (no person).
  insert into public.audit_log (workspace_id, actor_id, action, entity, entity_id, new_values)
  select h.workspace_id, null, 'destination_hold', 'social_accounts', h.account_id::text,
         jsonb_build_object('by', 'rule', 'rule', 'destination_rejections', 'destination', h.destination,
                            'rejections', h.rejections, 'hold_id', h.id)
  from held h;
  return null;
end
$$;
create trigger hold_destinations_at_threshold after insert on public.posting_history
  referencing new table as new_rows
  for each statement execute function private.hold_destinations_at_threshold();

revoke all on function private.destination_rule_of(uuid) from public, anon, authenticated, service_role;
revoke all on function private.destination_rejections(uuid, text, timestamptz) from public, anon, authenticated, service_role;
revoke all on function private.hold_destinations_at_threshold() from public, anon, authenticated, service_role;

---------------------------------------------------------------------------------------------------
-- 2. One read pace per platform for every scan.
---------------------------------------------------------------------------------------------------

-- The platform's next free read moment (handed out by claim_accounts_for_scan). A row per platform;
-- a platform added later gets its row from its first claim.
create table private.platform_scan_pace (
  platform text primary key references public.platforms (id) on delete cascade,
  next_read_at timestamptz not null default '-infinity'
);
alter table private.platform_scan_pace enable row level security;
insert into private.platform_scan_pace (platform) select p.id from public.platforms p;

drop function private.claim_accounts_for_scan(text, integer, integer, uuid);
-- p_within_seconds: hand out only reads due within this long (at most 60: one minute of the pace). A
-- scan passes what is left of its budget, so it is never handed a read it could not make.
create function private.claim_accounts_for_scan(p_worker text, p_limit integer, p_lease_seconds integer default 120,
                                                p_workspace_id uuid default null, p_within_seconds integer default 60)
returns table (account_id uuid, workspace_id uuid, platform text, handle text, credentials_encrypted text,
               lease_id uuid, lease_expires_at timestamptz, read_at timestamptz)
language plpgsql security definer set search_path = ''
set jit = off
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_within interval := least(greatest(p_within_seconds, 0), 60) * interval '1 second';
  v_full text[];
  v_ids uuid[];
  v_platform_of text[];
  v_workspace_of uuid[];
  v_handle_of text[];
  v_credentials_of text[];
  v_platforms text[];
begin
  -- 1. Platforms whose next minute is already handed out are passed over, so their due accounts
  --    never crowd out the others' (read without a lock: a hint; step 4 decides).
  select coalesce(array_agg(pc.platform), '{}') into v_full
  from private.platform_scan_pace pc where pc.next_read_at >= v_now + v_within;

  -- 2. The oldest due accounts of the other platforms (SKIP LOCKED: overlapping scans never share
  --    one), oldest due first, with what reading them needs (so the accounts are read once).
  select array_agg(d.account_id order by d.due_at, d.account_id), array_agg(d.platform order by d.due_at, d.account_id),
         array_agg(d.workspace_id order by d.due_at, d.account_id), array_agg(d.handle order by d.due_at, d.account_id),
         array_agg(d.credentials_encrypted order by d.due_at, d.account_id)
  into v_ids, v_platform_of, v_workspace_of, v_handle_of, v_credentials_of
  from (
    select s.account_id, s.due_at, a.platform, a.workspace_id, a.handle, a.credentials_encrypted
    from private.account_health_state s
    join public.social_accounts a on a.id = s.account_id
    where s.due_at <= v_now and (p_workspace_id is null or s.workspace_id = p_workspace_id)
      and a.platform <> all (v_full)
    order by s.due_at
    limit p_limit
    for update of s skip locked
  ) d;
  if v_ids is null then
    return;
  end if;

  -- 3. Their platforms' next free moments, locked in platform order (two claims never deadlock).
  select array_agg(distinct x) into v_platforms from unnest(v_platform_of) x;
  insert into private.platform_scan_pace (platform) select unnest(v_platforms) on conflict do nothing;
  perform 1 from private.platform_scan_pace pc where pc.platform = any (v_platforms) order by pc.platform for update;
  -- Waiting for another claim may have taken a while: read times start from now.
  v_now := clock_timestamp();

  -- 4. Read times, oldest due first, one gap apart from the platform's next free moment; only those
  --    within the horizon are leased (the rest stay due, as they were). The lease and the moment the
  --    account is due again count from its read time, so a read waiting for its turn keeps its lease.
  return query
  with slotted as (
    select c.account_id, c.platform, c.workspace_id, c.handle, c.credentials_encrypted, pf.scan_reads_per_minute,
           greatest(pc.next_read_at, v_now)
             + (row_number() over (partition by c.platform order by c.k) - 1)
               * (60000.0 / pf.scan_reads_per_minute) * interval '1 millisecond' as read_at
    from unnest(v_ids, v_platform_of, v_workspace_of, v_handle_of, v_credentials_of)
           with ordinality as c (account_id, platform, workspace_id, handle, credentials_encrypted, k)
    join public.platforms pf on pf.id = c.platform
    join private.platform_scan_pace pc on pc.platform = c.platform
  ),
  granted as materialized (
    select g.* from slotted g where g.read_at < v_now + v_within
  ),
  paced as (
    update private.platform_scan_pace pc
    set next_read_at = g.last_read_at + (60000.0 / g.scan_reads_per_minute) * interval '1 millisecond'
    from (select x.platform, x.scan_reads_per_minute, max(x.read_at) as last_read_at
          from granted x group by x.platform, x.scan_reads_per_minute) g
    where pc.platform = g.platform
  ),
  leased as (
    update private.account_health_state s set
      lease_id = gen_random_uuid(), lease_expires_at = g.read_at + p_lease_seconds * interval '1 second',
      due_at = g.read_at + p_lease_seconds * interval '1 second', worker = p_worker
    -- By key, one probe per granted account. (An `any (<the keys>)` beside it is compared in every
    -- probe: from the sixth call on, the generic plan compared every key with every other.)
    from granted g
    where s.account_id = g.account_id
    returning s.account_id, g.workspace_id, g.platform, g.handle, g.credentials_encrypted, s.lease_id, s.lease_expires_at,
              g.read_at
  )
  select l.account_id, l.workspace_id, l.platform, l.handle, l.credentials_encrypted, l.lease_id, l.lease_expires_at, l.read_at
  from leased l
  order by l.read_at, l.account_id;
end
$$;
revoke all on function private.claim_accounts_for_scan(text, integer, integer, uuid, integer) from public, anon, authenticated, service_role;
grant execute on function private.claim_accounts_for_scan(text, integer, integer, uuid, integer) to pacer_worker;

call private.hand_over_to_postgres();
