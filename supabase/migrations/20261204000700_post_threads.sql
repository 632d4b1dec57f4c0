-- Threads and per-platform options on posts (issue 10; docs/connectors.md "Threads").
--
-- posts.thread: the further posts of a thread, in order, each published as a reply to the one before
-- it (the first to the post itself). At most 24 (a thread of 25), each like a post's text: not blank,
-- at most 10,000 characters. A post has a thread or a first comment, not both (a first comment is a
-- thread of one: put the comment in the thread).
--
-- posts.platform_options: what only one platform understands, keyed by platform. For now
-- { "mastodon": { "visibility": "public"|"unlisted"|"private"|"direct", "contentWarning": "…" ≤ 500 } }.
-- The API checks the shape (lib/queue/input.ts); the trigger below holds the same rules for rows a
-- user writes straight to the table (supabase-js), each refusal naming the column as
-- private.check_post_input does.
--
-- The engine reads both through private.post_parts (claimed items only), so private.claim_due_posts,
-- which returns a fixed row, is left as it is.

alter table public.posts
  add column thread text[] not null default '{}',
  add column platform_options jsonb not null default '{}';

alter table public.posts
  add constraint posts_thread_size check (cardinality(thread) <= 24),
  add constraint posts_platform_options_object check (jsonb_typeof(platform_options) = 'object');

create function private.check_post_parts()
returns trigger
language plpgsql set search_path = ''
as $$
declare
  v_mastodon jsonb := new.platform_options -> 'mastodon';
begin
  if not private.is_api_role() then
    return new;
  end if;
  if cardinality(new.thread) > 0 and new.first_comment is not null then
    perform private.refuse_input('posts', 'thread', 'a post has a thread or a first comment, not both.',
                                 'Put the comment in the thread (as its first part), or leave the thread out.');
  end if;
  if exists (select 1 from unnest(new.thread) t where t is null or btrim(t, e' \t\r\n') = '') then
    perform private.refuse_input('posts', 'thread', 'a part of a thread cannot be blank.', 'Write each part''s text, or leave the part out.');
  end if;
  if exists (select 1 from unnest(new.thread) t where length(t) > 10000) then
    perform private.refuse_input('posts', 'thread', 'a part of a thread has at most 10,000 characters.', 'Shorten it.');
  end if;
  if exists (select 1 from jsonb_object_keys(new.platform_options) k where k <> 'mastodon') then
    perform private.refuse_input('posts', 'platform_options', 'only "mastodon" options exist so far.', 'Leave the others out.');
  end if;
  if v_mastodon is not null then
    if jsonb_typeof(v_mastodon) <> 'object'
       or exists (select 1 from jsonb_object_keys(v_mastodon) k where k not in ('visibility', 'contentWarning')) then
      perform private.refuse_input('posts', 'platform_options', 'mastodon options are an object of visibility and contentWarning.',
                                   'Send e.g. {"mastodon": {"visibility": "unlisted", "contentWarning": "spoilers"}}.');
    end if;
    if v_mastodon ? 'visibility' and (jsonb_typeof(v_mastodon -> 'visibility') <> 'string'
       or v_mastodon ->> 'visibility' not in ('public', 'unlisted', 'private', 'direct')) then
      perform private.refuse_input('posts', 'platform_options', 'mastodon.visibility is one of public, unlisted, private, direct.',
                                   'Send one of them, or leave it out for the account''s default.');
    end if;
    if v_mastodon ? 'contentWarning' and (jsonb_typeof(v_mastodon -> 'contentWarning') <> 'string'
       or length(v_mastodon ->> 'contentWarning') > 500) then
      perform private.refuse_input('posts', 'platform_options', 'mastodon.contentWarning is text of at most 500 characters.',
                                   'Shorten it, or leave it out.');
    end if;
  end if;
  return new;
end
$$;
create trigger check_post_parts before insert on public.posts
  for each row execute function private.check_post_parts();

grant insert (thread, platform_options) on public.posts to authenticated;

-- What a claimed item's post has beyond claim_due_posts' row: its thread and platform options, for
-- the items that have either (one read per claim; lib/engine/store.ts attachPostParts).
create function private.post_parts(p_item_ids bigint[])
returns table (queue_item_id bigint, thread text[], platform_options jsonb)
language sql stable security definer set search_path = ''
as $$
  select q.id, p.thread, p.platform_options
  from public.queue_items q
  join public.posts p on p.id = q.post_id
  where q.id = any (p_item_ids)
    and (cardinality(p.thread) > 0 or p.platform_options <> '{}'::jsonb)
$$;

revoke all on function private.post_parts from public;
grant execute on function private.post_parts to pacer_worker;

call private.hand_over_to_postgres();
