-- What the account health API and pages read beyond the tables' own RLS: an account's baseline and
-- the workspace's last scan (kept in private.account_health_state, not exposed), and an account's
-- state changes (from the audit log, which RLS shows to admins and owners only, while every member
-- sees the account's health). Each function checks membership itself, so supabase-js may call them
-- directly; another workspace's account or workspace is P0002, as everywhere in health.

-- The account's workspace, if the signed-in user is a member of it (any role); else P0002.
create function private.member_account_workspace(p_account_id uuid)
returns uuid
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_workspace uuid;
begin
  if (select auth.uid()) is null then
    raise exception 'You must be signed in.' using errcode = '42501';
  end if;
  select a.workspace_id into v_workspace from public.social_accounts a where a.id = p_account_id;
  if v_workspace is null or not private.has_role_on_workspace(v_workspace, 'viewer') then
    raise exception 'No such account.' using errcode = 'P0002';
  end if;
  return v_workspace;
end
$$;

-- The 7-day median the rules compare against (null fields: not computed yet).
create function public.account_health_baseline(p_account_id uuid)
returns table (reach float8, engagement float8, followers float8, samples integer, computed_at timestamptz)
language plpgsql stable security definer set search_path = ''
as $$
begin
  perform private.member_account_workspace(p_account_id);
  return query
  select st.baseline_reach, st.baseline_engagement, st.baseline_followers, st.baseline_samples, st.baseline_at
  from private.account_health_state st
  where st.account_id = p_account_id and st.baseline_at is not null;
end
$$;

-- When any of the workspace's accounts was last read (its latest snapshot), or null.
create function public.workspace_health_last_scan(p_workspace_id uuid)
returns timestamptz
language plpgsql stable security definer set search_path = ''
as $$
begin
  if (select auth.uid()) is null then
    raise exception 'You must be signed in.' using errcode = '42501';
  end if;
  if not private.has_role_on_workspace(p_workspace_id, 'viewer') then
    raise exception 'No such workspace.' using errcode = 'P0002';
  end if;
  return (select max(st.latest_taken_at) from private.account_health_state st where st.workspace_id = p_workspace_id);
end
$$;

-- An account's state changes, latest first: every change of its state (with the health action that
-- made it, when one did: pause, resume, health_pause; else state_change, e.g. the engine's
-- restricted or needs_reconnect), and the health events that change no state (health_warning,
-- destination_hold, destination_release). `by` is person, rule, or system (no person, no rule).
-- The generic audit row and the health action's row of one change share their transaction's time.
create function public.account_state_changes(p_account_id uuid, p_limit integer default 50)
returns table (at timestamptz, action text, actor_id uuid, by text, from_state text, to_state text, reason text)
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_workspace uuid := private.member_account_workspace(p_account_id);
begin
  return query
  select l.at,
         coalesce(h.action, case when l.action = 'update' then 'state_change' else l.action end),
         l.actor_id,
         coalesce(h.new_values ->> 'by', l.new_values ->> 'by',
                  case when l.actor_id is null then 'system' else 'person' end),
         case when l.action = 'update' then l.old_values ->> 'state' end,
         case when l.action = 'update' then l.new_values ->> 'state' end,
         case l.action
           when 'update' then l.new_values ->> 'last_error'
           when 'health_warning' then 'At risk (score ' || (l.new_values ->> 'score') || '): '
                                      || coalesce((select string_agg(r, ', ') from jsonb_array_elements_text(l.new_values -> 'rules') r), '')
           when 'destination_hold' then (l.new_values ->> 'destination') || ' rejected ' || (l.new_values ->> 'rejections')
                                        || ' posts in 24 hours; held.'
           when 'destination_release' then (l.new_values ->> 'destination') || ' released.'
         end
  from public.audit_log l
  left join lateral (
    select x.action, x.new_values from public.audit_log x
    where x.entity = 'social_accounts' and x.entity_id = l.entity_id and x.at = l.at
      and x.action in ('pause', 'resume', 'health_pause') and l.action = 'update'
    order by x.id limit 1
  ) h on true
  where l.entity = 'social_accounts' and l.entity_id = p_account_id::text and l.workspace_id = v_workspace
    and ((l.action = 'update' and (l.old_values ->> 'state') is distinct from (l.new_values ->> 'state'))
         or l.action in ('health_warning', 'destination_hold', 'destination_release'))
  order by l.at desc, l.id desc
  limit least(greatest(p_limit, 0), 500);
end
$$;

-- An account's audit rows by time (the detail page), without touching other tables' audit writes.
create index audit_log_account_idx on public.audit_log (entity_id, at desc) where entity = 'social_accounts';
-- An account's alerts, open and resolved (the detail page); a workspace's latest resolved (the overview).
create index health_alerts_account_idx on public.health_alerts (account_id, opened_at desc);
create index health_alerts_resolved_idx on public.health_alerts (workspace_id, resolved_at desc) where resolved_at is not null;

revoke all on function private.member_account_workspace(uuid) from public, anon, authenticated;
revoke all on function public.account_health_baseline(uuid), public.workspace_health_last_scan(uuid),
  public.account_state_changes(uuid, integer) from public, anon;
grant execute on function public.account_health_baseline(uuid), public.workspace_health_last_scan(uuid),
  public.account_state_changes(uuid, integer) to authenticated;
-- The rules API shows the clear threshold in force; the formula stays in one place (pure, no data).
grant execute on function private.effective_clear_threshold(numeric, numeric, numeric, numeric) to authenticated;

call private.hand_over_to_postgres();
