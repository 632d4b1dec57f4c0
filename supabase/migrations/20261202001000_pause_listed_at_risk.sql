-- "Pause all at-risk" pauses what the person confirmed: the page sends the accounts it listed, and
-- only those still at risk are paused (an account that became at risk after the page loaded was
-- never shown, so it is not paused; one that recovered is skipped and counted). Without a list it
-- pauses every at-risk account, as before. One definition of "at risk": the one-argument function
-- now calls this one.

-- At risk: may publish, and an open warning or critical alert or a score below the workspace's
-- threshold (copied from 20261202000300_health.sql, which this replaces).
create function public.pause_at_risk_accounts(p_workspace_id uuid, p_account_ids uuid[])
returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_ids uuid[];
  v_asked int;
begin
  perform private.require_workspace_role(p_workspace_id, 'editor');
  with at_risk as (
    select a.id from public.social_accounts a
    cross join private.health_settings_of(p_workspace_id) cfg
    where a.workspace_id = p_workspace_id and private.account_can_publish(a.state)
      and (p_account_ids is null or a.id = any (p_account_ids))
      and (a.health_score < cfg.pause_below_score
           or exists (select 1 from public.health_alerts al where al.account_id = a.id and al.resolved_at is null
                      and al.severity in ('warning', 'critical')))
    for update of a
  ),
  paused as (
    update public.social_accounts a set state = 'paused', paused_reason = 'health', state_before_pause = a.state,
           last_error = 'Paused with the workspace''s other at-risk accounts.'
    from at_risk r where a.id = r.id
    returning a.id
  )
  select coalesce(array_agg(p.id order by p.id), '{}') into v_ids from paused p;
  perform private.audit_health(p_workspace_id, (select auth.uid()), 'pause', 'social_accounts', id::text,
                               jsonb_build_object('by', 'person', 'paused_reason', 'health', 'at_risk', true))
  from unnest(v_ids) as id;
  -- Listed accounts not paused: no longer at risk, already paused or unable to publish, or not the workspace's.
  select count(distinct x) into v_asked from unnest(p_account_ids) as x;
  return jsonb_build_object('paused', cardinality(v_ids), 'account_ids', to_jsonb(v_ids),
                            'skipped', case when p_account_ids is null then 0 else v_asked - cardinality(v_ids) end);
end
$$;

create or replace function public.pause_at_risk_accounts(p_workspace_id uuid)
returns jsonb
language sql security definer set search_path = ''
as $$
  select public.pause_at_risk_accounts(p_workspace_id, null::uuid[])
$$;

revoke all on function public.pause_at_risk_accounts(uuid, uuid[]) from public, anon;
grant execute on function public.pause_at_risk_accounts(uuid, uuid[]) to authenticated;

call private.hand_over_to_postgres();
