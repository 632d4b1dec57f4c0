-- Tenant limits the database holds, whatever path a write takes (the API, or supabase-js straight
-- against the tables): one Free workspace per user, plan features (bulk posting), every rule the API
-- checks on the rows a user writes, credentials written by the server only, claims fair between
-- workspaces, and "process now" scoped to one workspace, one run at a time.

---------------------------------------------------------------------------------------------------
-- 1. Workspaces: each user creates at most one workspace that is on the Free plan. Their personal
--    workspace (made at sign-up) is that one; another needs every workspace they created on a paid
--    plan first. Counted by created_by, which no user can change, so handing ownership to someone
--    else or stepping down to admin does not free the slot.
---------------------------------------------------------------------------------------------------
create or replace function public.create_workspace(name text)
returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_user uuid := (select auth.uid());
  v_free record;
begin
  if v_user is null then
    raise exception 'You must be signed in to create a workspace.' using errcode = '42501';
  end if;
  -- One user's creations in turn: two at once must not both find no Free workspace.
  perform pg_advisory_xact_lock(hashtextextended('create_workspace/' || v_user::text, 0));
  select w.id, w.name, p.name as plan_name into v_free
  from public.workspaces w join public.plans p on p.id = w.plan_id
  where w.created_by = v_user and p.price_cents_monthly = 0
  order by w.created_at
  limit 1;
  if found then
    raise exception 'You already have a workspace on the % plan ("%"); each user may create one.', v_free.plan_name, v_free.name
      using errcode = 'P0001',
            hint = 'Subscribe "' || v_free.name || '" to a paid plan (Billing) to create another workspace, or keep working in it.',
            detail = json_build_object('code', 'free_workspace_limit', 'workspace_id', v_free.id)::text;
  end if;
  return private.create_workspace(name, v_user, false);
end
$$;
revoke all on function public.create_workspace from public, anon;
grant execute on function public.create_workspace to authenticated;

---------------------------------------------------------------------------------------------------
-- 2. Plan features. Bulk posting (features_enabled.bulk_import) means several posts in one request;
--    the database's form of a request is a statement. Without the feature, a statement made by a
--    user may add one post (to any number of its accounts), as POST /api/queue/add does.
---------------------------------------------------------------------------------------------------
-- The cheapest plan that includes a feature, for messages ("Starter and up").
create function private.plan_with_feature(p_feature text)
returns text
language sql stable security definer set search_path = ''
as $$
  select p.name from public.plans p
  where coalesce((p.features_enabled ->> p_feature)::boolean, false)
  order by p.sort_order limit 1
$$;

-- Writes made by the API roles (a signed-in user, through the server or supabase-js) are checked;
-- the engine, billing and operators write as other roles and are trusted.
create function private.is_api_role()
returns boolean
language sql stable set search_path = ''
as $$ select current_user in ('authenticated', 'anon') $$;

-- Refuses a statement that adds several posts to a workspace whose plan lacks bulk posting.
create function private.refuse_bulk_without_feature(p_counts jsonb)
returns void
language plpgsql stable security definer set search_path = ''
as $$
declare
  v record;
begin
  select w.id, p.name as plan_name, c.value::integer as posts into v
  from jsonb_each_text(p_counts) c
  join public.workspaces w on w.id = c.key::uuid
  join public.plans p on p.id = w.plan_id
  where c.value::integer > 1 and not coalesce((p.features_enabled ->> 'bulk_import')::boolean, false)
  limit 1;
  if found then
    raise exception 'Bulk posting is not part of the % plan: this statement adds % posts at once, and that plan allows one at a time.',
      v.plan_name, v.posts
      using errcode = 'P0001',
            hint = 'Upgrade to ' || private.plan_with_feature('bulk_import') || ' or above, or add posts one by one.',
            detail = json_build_object('code', 'plan_feature_unavailable', 'feature', 'bulk_import',
                                       'workspace_id', v.id)::text;
  end if;
end
$$;

create function private.enforce_bulk_feature_on_posts()
returns trigger
language plpgsql set search_path = ''
as $$
begin
  if private.is_api_role() then
    perform private.refuse_bulk_without_feature(
      (select jsonb_object_agg(x.workspace_id, x.n) from (
         select n.workspace_id, count(*) as n from new_rows n group by 1) x));
  end if;
  return null;
end
$$;
create trigger enforce_bulk_feature after insert on public.posts
  referencing new table as new_rows for each statement execute function private.enforce_bulk_feature_on_posts();

-- Items for several posts in one statement are a bulk too (posts added one by one, queued at once).
create function private.enforce_bulk_feature_on_items()
returns trigger
language plpgsql set search_path = ''
as $$
begin
  if private.is_api_role() then
    perform private.refuse_bulk_without_feature(
      (select jsonb_object_agg(x.workspace_id, x.n) from (
         select n.workspace_id, count(distinct n.post_id) as n from new_rows n group by 1) x));
  end if;
  return null;
end
$$;
create trigger enforce_bulk_feature after insert on public.queue_items
  referencing new table as new_rows for each statement execute function private.enforce_bulk_feature_on_items();

-- A post goes to an account once (the API refuses an account listed twice); a row of its own per
-- repeat would also multiply a Free workspace's posts past its one-at-a-time rule.
create unique index queue_items_post_account_key on public.queue_items (post_id, account_id, action);
drop index public.queue_items_post_id_idx;

---------------------------------------------------------------------------------------------------
-- 3. The API's input rules, held for every row a user writes (lib/queue/input.ts, lib/accounts).
--    Each refusal names the column, what is wrong and what to send instead (errcode 22023 with the
--    column in the detail, so the API can point at the field).
---------------------------------------------------------------------------------------------------
create function private.refuse_input(p_table text, p_column text, p_message text, p_hint text)
returns void
language plpgsql set search_path = ''
as $$
begin
  raise exception '%.%: %', p_table, p_column, p_message
    using errcode = '22023', hint = p_hint,
          detail = json_build_object('code', 'invalid_input', 'table', p_table, 'column', p_column)::text;
end
$$;

-- Posts: text not blank; at most 20 media URLs, each http(s); a destination not blank.
create function private.check_post_input()
returns trigger
language plpgsql set search_path = ''
as $$
begin
  if not private.is_api_role() then
    return new;
  end if;
  if btrim(new.text, e' \t\r\n') = '' then
    perform private.refuse_input('posts', 'text', 'a post''s text cannot be blank.', 'Write the post''s text.');
  end if;
  if cardinality(new.media_urls) > 20 then
    perform private.refuse_input('posts', 'media_urls', format('a post has at most 20 media URLs, not %s.', cardinality(new.media_urls)),
                                 'Send at most 20.');
  end if;
  -- As the API checks them (lib/queue/input.ts): https only, at most 2,048 characters, no spaces,
  -- control or format characters (bidi overrides, zero-width) that would make a URL read differently.
  if exists (select 1 from unnest(new.media_urls) u where u is null or u !~* '^https://[^/?#]') then
    perform private.refuse_input('posts', 'media_urls', 'each media URL must start with https://.',
                                 'Send URLs like https://cdn.example.com/photo.jpg (http and other schemes are refused).');
  end if;
  if exists (select 1 from unnest(new.media_urls) u where length(u) > 2048) then
    perform private.refuse_input('posts', 'media_urls', 'a media URL has at most 2,048 characters.', 'Shorten the URL.');
  end if;
  if exists (select 1 from unnest(new.media_urls) u
             where u ~ '[[:cntrl:][:space:]\u00AD\u0600-\u0605\u061C\u06DD\u070F\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB]') then
    perform private.refuse_input('posts', 'media_urls', 'a media URL may not contain spaces, control or format characters.',
                                 'Percent-encode them.');
  end if;
  if new.destination is not null and btrim(new.destination, e' \t\r\n') = '' then
    perform private.refuse_input('posts', 'destination', 'a destination cannot be blank.',
                                 'Leave it null, or name the subreddit, group or channel.');
  end if;
  return new;
end
$$;
create trigger check_post_input before insert on public.posts
  for each row execute function private.check_post_input();

-- Queue items: a finite schedule; run_at is Pacer's own (when it may next claim the item), so a
-- new item starts at its scheduled time; its account must be on a platform Pacer publishes to.
create function private.check_queue_item_input()
returns trigger
language plpgsql set search_path = ''
as $$
declare
  v_platform public.platforms;
begin
  if not private.is_api_role() then
    return new;
  end if;
  if not isfinite(new.scheduled_for) then
    perform private.refuse_input('queue_items', 'scheduled_for', format('%s is not a time a post can be scheduled for.', new.scheduled_for),
                                 'Send an ISO 8601 time with a zone, e.g. 2026-12-01T09:30:00Z, or leave it out for now.');
  end if;
  if not isfinite(new.run_at) then
    perform private.refuse_input('queue_items', 'run_at', format('%s is not allowed: run_at is set by Pacer.', new.run_at),
                                 'Leave run_at out; an item first runs at its scheduled_for.');
  end if;
  new.run_at := new.scheduled_for;
  select p.* into v_platform
  from public.social_accounts a join public.platforms p on p.id = a.platform
  where a.id = new.account_id;
  if found and not v_platform.enabled then
    perform private.refuse_input('queue_items', 'account_id', format('Pacer cannot publish to %s yet.', v_platform.name),
                                 'Queue the post for an account on an available platform (sandbox).');
  end if;
  return new;
end
$$;
create trigger check_queue_item_input before insert on public.queue_items
  for each row execute function private.check_queue_item_input();

-- Accounts: on a platform that can be connected now, and a handle of letters, digits and _ . @ -.
create function private.check_account_input()
returns trigger
language plpgsql set search_path = ''
as $$
declare
  v_platform public.platforms;
begin
  if not private.is_api_role() then
    return new;
  end if;
  if tg_op = 'INSERT' then
    select p.* into v_platform from public.platforms p where p.id = new.platform;
    if found and not v_platform.enabled then
      perform private.refuse_input('social_accounts', 'platform', format('connecting %s accounts is not available yet.', v_platform.name),
                                   'Connect an account on an available platform (sandbox).');
    end if;
  end if;
  if new.handle !~ '^[A-Za-z0-9_.@-]{1,100}$' then
    perform private.refuse_input('social_accounts', 'handle', 'a handle may contain letters, digits, and _ . @ - only (at most 100).',
                                 'Send the handle without spaces or other characters, e.g. pacer_app.');
  end if;
  return new;
end
$$;
create trigger check_account_input before insert or update of handle on public.social_accounts
  for each row execute function private.check_account_input();

-- Credentials: written only by the server, sealed with its key (lib/accounts/credentials.ts), through
-- this function as pacer_worker. A user's role can neither read nor write the column.
revoke insert (credentials_encrypted), update (credentials_encrypted) on public.social_accounts from authenticated;

create function private.store_account_credentials(p_account_id uuid, p_sealed text)
returns void
language plpgsql security definer set search_path = ''
as $$
begin
  if p_sealed is not null and p_sealed !~ '^v1:[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$' then
    raise exception 'Credentials must be sealed by the server (v1:<iv>:<ciphertext>); got something else.'
      using errcode = '22023', hint = 'Seal them with encryptCredentials (lib/accounts/credentials.ts).';
  end if;
  update public.social_accounts set credentials_encrypted = p_sealed where id = p_account_id;
  if not found then
    raise exception 'There is no account %.', p_account_id using errcode = 'P0002';
  end if;
end
$$;
revoke all on function private.store_account_credentials from public;
grant execute on function private.store_account_credentials to pacer_worker;

revoke all on function private.plan_with_feature, private.refuse_bulk_without_feature from public;
grant execute on function private.plan_with_feature, private.refuse_bulk_without_feature to authenticated;

---------------------------------------------------------------------------------------------------
-- 4. Fair claims. A claim serves workspaces in turn: it finds the workspaces with due items (a skip
--    scan over the waiting set, one index probe each, starting at a random workspace and wrapping
--    round, at most 256 due ones a claim), gives each an equal share of the batch in its own priority-then-
--    time order, then fills what is left from the workspaces that have more. One tenant's million
--    due items at priority 10 no longer stand in front of another tenant's one.
---------------------------------------------------------------------------------------------------
-- "Unleased" spelled lease_expires_at is null (equal to lease_id is null by a CHECK), so that only this
-- index serves the per-priority reads: queue_items_workspace_due_idx would also match them, and the
-- planner, expecting a match within a few rows, would walk a workspace's whole backlog through it
-- looking for a priority that has no items (measured: 40 ms a priority at 10,000 items).
create index queue_items_workspace_claimable_idx on public.queue_items (workspace_id, priority, run_at)
  where lease_expires_at is null and status in ('pending', 'rate_limited', 'verifying');
-- Claims no longer read the queue in global priority order.
drop index public.queue_items_claimable_idx;

drop function private.claim_due_posts(text, integer, integer);
create function private.claim_due_posts(
  p_worker text, p_limit integer, p_lease_seconds integer default 120, p_workspace_id uuid default null
)
returns table (
  id bigint, lease_id uuid, mode text, attempts integer, verify_attempts integer, idempotency_key uuid,
  workspace_id uuid, account_id uuid, platform text, handle text, credentials_encrypted text,
  action text, text text, media_urls text[], first_comment text, destination text
)
language plpgsql security definer set search_path = ''
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_start uuid := gen_random_uuid();
  v_workspaces uuid[];
  v_share integer;
  v_ids bigint[];
  v_more bigint[];
  v_granted bigint[];
  b record;
begin
  -- 1. Workspaces with due items, in turn from a random point (or only the one asked for). Each step
  --    reads the next workspace's earliest waiting item from queue_items_workspace_due_idx (one index
  --    probe per workspace). The walk is lazy: it stops once 256 workspaces with due items are found,
  --    and after 4,096 probes (workspaces whose waiting items are all for later are stepped over).
  if p_workspace_id is not null then
    v_workspaces := array[p_workspace_id];
  else
    with recursive from_start as (
      (select q.workspace_id, q.run_at, 1 as n from public.queue_items q
       where q.lease_id is null and q.status in ('pending', 'rate_limited', 'verifying') and q.workspace_id >= v_start
       order by q.workspace_id, q.run_at limit 1)
      union all
      select n.workspace_id, n.run_at, s.n + 1 from from_start s
      cross join lateral (
        select q.workspace_id, q.run_at from public.queue_items q
        where q.lease_id is null and q.status in ('pending', 'rate_limited', 'verifying') and q.workspace_id > s.workspace_id
        order by q.workspace_id, q.run_at limit 1) n
      where s.n < 4096
    ),
    before_start as (
      (select q.workspace_id, q.run_at, 1 as n from public.queue_items q
       where q.lease_id is null and q.status in ('pending', 'rate_limited', 'verifying') and q.workspace_id < v_start
       order by q.workspace_id, q.run_at limit 1)
      union all
      select n.workspace_id, n.run_at, s.n + 1 from before_start s
      cross join lateral (
        select q.workspace_id, q.run_at from public.queue_items q
        where q.lease_id is null and q.status in ('pending', 'rate_limited', 'verifying')
          and q.workspace_id > s.workspace_id and q.workspace_id < v_start
        order by q.workspace_id, q.run_at limit 1) n
      where s.n < 4096
    )
    select array_agg(w.workspace_id) into v_workspaces
    from (select x.workspace_id from (select * from from_start union all select * from before_start) x
          where x.run_at <= v_now limit 256) w;
  end if;
  if v_workspaces is null then
    return;
  end if;

  -- 2. An equal share of the batch per workspace, by priority then time within it (one short index
  --    range per priority); SKIP LOCKED makes each claim exclusive. Then the rest of the batch from
  --    workspaces that have more than their share.
  v_share := ceil(p_limit::numeric / cardinality(v_workspaces));
  select array_agg(c.id) into v_ids from (
    select t.id
    from unnest(v_workspaces) as w(workspace_id)
    cross join lateral (
      select q.id
      from generate_series(10, 1, -1) as p(priority)
      cross join lateral (
        select q.id from public.queue_items q
        where q.workspace_id = w.workspace_id and q.priority = p.priority
          and q.lease_expires_at is null and q.status in ('pending', 'rate_limited', 'verifying') and q.run_at <= v_now
        order by q.run_at
        limit v_share
        for update skip locked
      ) q
      limit v_share
    ) t
    limit p_limit
  ) c;
  v_ids := coalesce(v_ids, '{}');
  if cardinality(v_ids) < p_limit and cardinality(v_workspaces) > 1 then
    select array_agg(c.id) into v_more from (
      select t.id
      from unnest(v_workspaces) as w(workspace_id)
      cross join lateral (
        select q.id
        from generate_series(10, 1, -1) as p(priority)
        cross join lateral (
          select q.id from public.queue_items q
          where q.workspace_id = w.workspace_id and q.priority = p.priority
            and q.lease_expires_at is null and q.status in ('pending', 'rate_limited', 'verifying') and q.run_at <= v_now
            and q.id <> all (v_ids)
          order by q.run_at
          limit p_limit - cardinality(v_ids)
          for update skip locked
        ) q
        limit p_limit - cardinality(v_ids)
      ) t
      limit p_limit - cardinality(v_ids)
    ) c;
    v_ids := v_ids || coalesce(v_more, '{}');
  end if;
  if cardinality(v_ids) = 0 then
    return;
  end if;

  -- 3. Budget decisions are serialised per account: another worker may hold other items of it.
  perform pg_advisory_xact_lock(hashtextextended(x.account_id::text || '/' || x.action, 0))
  from (select distinct q.account_id, q.action from public.queue_items q
        where q.id = any (v_ids) and q.status <> 'verifying' order by 1, 2) x;
  -- Budgets are judged, and recorded, as of now: waiting for a lock may have taken a while.
  v_now := clock_timestamp();

  -- 4. Per account and action: how many of its candidates may go now, and when the rest may.
  --    Usage comes from the persisted ledger, so a restart never resets a window.
  v_granted := '{}';
  for b in
    with cand as (
      select q.id, q.account_id, q.action, q.workspace_id,
             row_number() over (partition by q.account_id, q.action order by q.priority desc, q.run_at, q.id) as k
      from public.queue_items q where q.id = any (v_ids) and q.status <> 'verifying'
    ),
    acct as (
      select c.account_id, c.action, c.workspace_id, a.state, a.cooldown_until,
             lim.per_hour, lim.per_day, lim.min_gap_ms, u.used_hour, u.used_day, u.last_at,
             array_agg(c.id order by c.k) as ids
      from cand c
      join public.social_accounts a on a.id = c.account_id
      left join lateral private.effective_limit(c.workspace_id, a.platform, c.action) lim on true
      cross join lateral (
        select count(*) filter (where l.at > v_now - interval '1 hour')::integer as used_hour,
               count(*)::integer as used_day, max(l.at) as last_at
        from private.rate_limit_ledger l
        where l.account_id = c.account_id and l.action = c.action and l.at > v_now - interval '1 day'
      ) u
      group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
    )
    select acct.*,
      case
        when not private.account_can_publish(acct.state) or acct.per_hour is null then 0
        when acct.cooldown_until > v_now then 0
        when acct.last_at + acct.min_gap_ms * interval '1 millisecond' > v_now then 0
        else greatest(0, least(acct.per_hour - acct.used_hour, acct.per_day - acct.used_day,
                               case when acct.min_gap_ms > 0 then 1 else cardinality(acct.ids) end))
      end as allowed
    from acct
  loop
    v_granted := v_granted || b.ids[1:b.allowed];
    if b.allowed < cardinality(b.ids) then
      perform private.defer_account_items(b.account_id, b.action, b.ids[1:b.allowed],
        private.next_allowed_at(b.account_id, b.action, b.state, b.cooldown_until, b.per_hour, b.per_day,
                                b.min_gap_ms, b.used_hour, b.used_day, b.last_at, b.allowed, v_now),
        case when not private.account_can_publish(b.state) then 'pending'::public.queue_status
             else 'rate_limited'::public.queue_status end,
        case when b.per_hour is null then 'No rate-limit policy exists for this platform and action.'
             when not private.account_can_publish(b.state) then 'Waiting: the account is ' || replace(b.state::text, '_', ' ') || '.'
             when b.cooldown_until > v_now then 'Waiting: the account is cooling down.'
             else 'Waiting for the account''s rate limit (' || b.per_hour || '/h, ' || b.per_day || '/day, '
                  || b.min_gap_ms || ' ms apart).' end);
    end if;
  end loop;

  insert into private.rate_limit_ledger (account_id, action, at)
  select q.account_id, q.action, v_now from public.queue_items q where q.id = any (v_granted);

  -- 5. Lease what may go: granted publishes, and every verification (a read, not a post).
  return query
  with leased as (
    update public.queue_items q set
      status = case when q.status = 'verifying' then 'verifying'::public.queue_status
                    else 'processing'::public.queue_status end,
      attempts = q.attempts + (q.status <> 'verifying')::integer,
      verify_attempts = q.verify_attempts + (q.status = 'verifying')::integer,
      lease_id = gen_random_uuid(),
      lease_expires_at = v_now + p_lease_seconds * interval '1 second',
      leased_at = v_now,
      worker = p_worker
    where q.id = any (v_ids) and (q.status = 'verifying' or q.id = any (v_granted))
    returning q.*
  )
  select l.id, l.lease_id,
         case when l.status = 'verifying' then 'verify' else 'publish' end,
         l.attempts, l.verify_attempts,
         l.idempotency_key, l.workspace_id, l.account_id, a.platform, a.handle, a.credentials_encrypted,
         l.action, p.text, p.media_urls, p.first_comment, p.destination
  from leased l
  join public.posts p on p.id = l.post_id
  join public.social_accounts a on a.id = l.account_id
  order by l.priority desc, l.run_at, l.id;
end
$$;
revoke all on function private.claim_due_posts from public;
grant execute on function private.claim_due_posts to pacer_worker;

---------------------------------------------------------------------------------------------------
-- 5. "Process now": one run at a time per workspace, as a lease row (no connection held for it).
---------------------------------------------------------------------------------------------------
create table private.process_now_runs (
  workspace_id uuid primary key references public.workspaces (id) on delete cascade,
  lease_id uuid not null,
  started_by uuid,
  expires_at timestamptz not null
);
alter table private.process_now_runs enable row level security;

-- The run's lease, or null when another run of this workspace holds one that has not expired.
create function private.start_process_now(p_workspace_id uuid, p_seconds integer)
returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_lease uuid := gen_random_uuid();
begin
  if not private.has_role_on_workspace(p_workspace_id, 'admin') then
    raise exception 'Your role in this workspace does not allow running the queue now; admins and owners can.'
      using errcode = '42501';
  end if;
  insert into private.process_now_runs as r (workspace_id, lease_id, started_by, expires_at)
  values (p_workspace_id, v_lease, (select auth.uid()), now() + p_seconds * interval '1 second')
  on conflict (workspace_id) do update
    set lease_id = excluded.lease_id, started_by = excluded.started_by, expires_at = excluded.expires_at
    where r.expires_at < now();
  return case when found then v_lease end;
end
$$;

create function private.finish_process_now(p_workspace_id uuid, p_lease_id uuid)
returns void
language sql security definer set search_path = ''
as $$
  delete from private.process_now_runs where workspace_id = p_workspace_id and lease_id = p_lease_id
$$;

revoke all on function private.start_process_now, private.finish_process_now from public;
grant execute on function private.start_process_now, private.finish_process_now to authenticated;
revoke all on function private.is_api_role, private.refuse_input from public;
grant execute on function private.is_api_role, private.refuse_input to authenticated, anon;
