-- Idempotency keys for the queue's write API (POST /api/queue/add and /bulk-post), with Stripe's
-- semantics: the first request with a key stores its response in the same transaction as the posts it
-- queued, so a crash leaves neither a key without its posts nor posts without their key; a retry
-- with the same key and body gets that response back. Keys belong to one user and live 24 hours.
-- lib/api/idempotency.ts is the only caller.

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
