-- Who applies the migrations must not change the result.
--
-- On Supabase `supabase db push` connects as `postgres`, which is not a superuser (it has CREATEROLE,
-- CREATEDB, BYPASSRLS and a login); the dashboard's SQL editor and some tools apply SQL as the
-- superuser `supabase_admin`. The app, `npm run worker` and the Edge Function always log in as
-- `postgres` and switch into `pacer_worker` per transaction (lib/db/worker.ts). Applied by
-- supabase_admin, the earlier migrations left two things wrong:
--   1. The tenancy migration granted pacer_worker to `current_user` only, so supabase_admin could
--      switch into it and postgres could not: "permission denied to set role pacer_worker".
--   2. The schema private and every table, view, type and function (the security definer ones
--      included) belonged to supabase_admin, so a later `supabase db push` as postgres could not
--      alter or replace them, and the definer functions ran as a superuser.
-- private.hand_over_to_postgres() puts both right where they are wrong and changes nothing where
-- they are already right, so this file gives the same database whoever applies it. Later migrations
-- that create roles or objects end with `call private.hand_over_to_postgres();`.

-- Applied by postgres after a superuser applied the earlier migrations, nothing here can work:
-- postgres may not create in the superuser's schema private, nor grant itself the superuser's
-- pacer_worker, nor take the superuser's objects. Say so, and who must apply this file instead.
do $$
declare
  v_owner name := (select pg_catalog.pg_get_userbyid(n.nspowner) from pg_catalog.pg_namespace n where n.nspname = 'private');
begin
  if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user)
     and (select rolsuper from pg_catalog.pg_roles where rolname = v_owner) then
    raise exception 'The schema private belongs to %: earlier migrations were applied by that superuser, and % cannot take over what it made.',
      v_owner, current_user
      using hint = pg_catalog.format('Apply this migration once as %I (e.g. in the dashboard''s SQL editor); '
                                     'then postgres owns Pacer, and `supabase db push` applies it again harmlessly and goes on.', v_owner);
  end if;
end
$$;

-- `create or replace` keeps the owner: applied again by postgres after supabase_admin, the procedure
-- already belongs to postgres (it hands itself over below).
create or replace procedure private.hand_over_to_postgres()
language plpgsql
set search_path = ''
as $$
declare
  -- The roles Pacer's servers switch into: every role a migration grants to `current_user`.
  v_roles constant text[] := array['pacer_worker'];
  v_role text;
  v_me constant name := current_user;
  v_me_id constant oid := (select oid from pg_catalog.pg_roles where rolname = current_user);
  v_superuser constant boolean := (select rolsuper from pg_catalog.pg_roles where rolname = current_user);
  v_object record;
  v_dropped_jobs bigint;
  v_left text;
begin
  -- A plain Postgres without a `postgres` role (a local superuser named otherwise): whoever applied
  -- the migrations runs Pacer too, and the tenancy migration's grant to current_user covers them.
  if not exists (select from pg_catalog.pg_roles where rolname = 'postgres') then
    return;
  end if;

  -- 1. Roles, granted to postgres by name. On PostgreSQL 16+ a CREATEROLE role that creates a role
  -- gets ADMIN on it but not SET (createrole_self_grant is empty by default), hence the tenancy
  -- migration's explicit grant when postgres applies it. A superuser that creates the role gives
  -- postgres nothing, so it grants SET (to switch into it) and ADMIN (to alter it or grant it on in a
  -- later migration) here, as postgres would hold them had it created the role. Granting needs ADMIN
  -- (superusers have it); if postgres can neither switch into the role nor be granted it by the
  -- applier, the app cannot work at all, so stop and say who must apply this.
  foreach v_role in array v_roles loop
    continue when not exists (select from pg_catalog.pg_roles where rolname = v_role);
    if v_me = 'postgres' and pg_catalog.pg_has_role(v_me, v_role, 'USAGE WITH ADMIN OPTION') then
      -- postgres already holds ADMIN (from creating the role, or from a superuser's grant below), and
      -- Postgres refuses to grant ADMIN back to the role it came from: SET is what may be missing.
      execute pg_catalog.format('grant %I to postgres', v_role);
    elsif pg_catalog.pg_has_role(v_me, v_role, 'USAGE WITH ADMIN OPTION') then
      execute pg_catalog.format('grant %I to postgres with admin option', v_role);
    elsif not pg_catalog.pg_has_role('postgres', v_role, 'SET') then
      raise exception 'postgres cannot switch into % (created by another role), and % cannot grant it', v_role, v_me
        using hint = pg_catalog.format(
          'Apply this migration as supabase_admin (or run `grant %I to postgres with admin option;` as supabase_admin), then push again.',
          v_role);
    end if;
  end loop;

  -- 2. Pacer's objects, from the superuser that applied the migrations to postgres: the schema
  -- private, and the tables, views, sequences, routines and types in public and private that this
  -- superuser owns. Never an extension's objects, never another role's, never another schema
  -- (Supabase's own auth, storage, cron, ...). Only a superuser can give its objects away (postgres
  -- is not a member of supabase_admin); applied by postgres there is nothing of its own to move.
  -- Indexes, a table's row type and the sequences behind identity or serial columns follow their
  -- table; array types follow their element type. Privileges granted by the old owner are rewritten
  -- as granted by postgres, so every grant stays as it was.
  -- Security definer functions run with their owner's privileges: as postgres they see what they
  -- saw as the superuser, because postgres owns the tables they use, has BYPASSRLS on Supabase
  -- (and is a superuser locally), and Supabase grants it cron, net and vault.
  if v_superuser and v_me <> 'postgres' then
    for v_object in
      with pacer as (
        select oid from pg_catalog.pg_namespace where nspname in ('public', 'private')
      ), extension_member as (
        select classid, objid from pg_catalog.pg_depend where deptype = 'e'
      )
      select pg_catalog.format('alter schema %I owner to postgres', n.nspname) as ddl
      from pg_catalog.pg_namespace n
      where n.nspname = 'private' and n.nspowner = v_me_id
        and ('pg_namespace'::regclass, n.oid) not in (select * from extension_member)
      union all
      select pg_catalog.format('alter %s %s owner to postgres',
               case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
                              when 'S' then 'sequence' when 'f' then 'foreign table' else 'table' end,
               c.oid::regclass)
      from pg_catalog.pg_class c
      where c.relnamespace in (select oid from pacer) and c.relowner = v_me_id
        and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
        and ('pg_class'::regclass, c.oid) not in (select * from extension_member)
        -- A sequence owned by a column moves with its table (and cannot be moved on its own).
        and not (c.relkind = 'S' and exists (
          select from pg_catalog.pg_depend d
          where d.classid = 'pg_class'::regclass and d.objid = c.oid
            and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')))
      union all
      select pg_catalog.format('alter %s %s owner to postgres',
               case p.prokind when 'p' then 'procedure' when 'a' then 'aggregate' else 'function' end,
               p.oid::regprocedure)
      from pg_catalog.pg_proc p
      where p.pronamespace in (select oid from pacer) and p.proowner = v_me_id
        and ('pg_proc'::regclass, p.oid) not in (select * from extension_member)
      union all
      select pg_catalog.format('alter type %s owner to postgres', t.oid::regtype)
      from pg_catalog.pg_type t
      where t.typnamespace in (select oid from pacer) and t.typowner = v_me_id
        -- Enums, domains, ranges (their multirange follows) and standalone composite types.
        and (t.typtype in ('e', 'd', 'r')
             or (t.typtype = 'c' and (select relkind from pg_catalog.pg_class where oid = t.typrelid) = 'c'))
        and ('pg_type'::regclass, t.oid) not in (select * from extension_member)
    loop
      execute v_object.ddl;
    end loop;

    -- pg_cron runs a job as the role that scheduled it, and shows a job only to that role: the jobs
    -- the scheduling trigger made while the superuser owned it would run as the superuser, and
    -- postgres could neither see nor replace them (it would add a second job beside each). Drop
    -- them and let the trigger, now postgres's, schedule each again from private.scheduled_functions.
    -- Dynamic SQL: a plain Postgres has no pg_cron.
    if pg_catalog.to_regclass('cron.job') is not null then
      execute 'select count(cron.unschedule(jobid)) from cron.job
               where username = current_user and database = current_database() and jobname like ''pacer-%'''
        into v_dropped_jobs;
      if v_dropped_jobs > 0 then
        update private.scheduled_functions set enabled = enabled where enabled;
      end if;
    end if;
  end if;

  -- 3. What a superuser made and postgres calls this about (say, a table made in the SQL editor as
  -- supabase_admin) stays where it is: only that superuser can give it away. A later migration
  -- applied by postgres would fail on it ("must be owner of ..."), so name it now.
  select pg_catalog.string_agg(o.name || ' (' || o.owner || ')', ', ' order by o.name) into v_left
  from (
    select n.nspname::text as name, pg_catalog.pg_get_userbyid(n.nspowner)::text as owner, n.nspowner as owner_id
    from pg_catalog.pg_namespace n where n.nspname = 'private'
    union all
    select c.oid::regclass::text, pg_catalog.pg_get_userbyid(c.relowner)::text, c.relowner
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('public', 'private') and c.relkind in ('r', 'p', 'v', 'm', 'f')
      and ('pg_class'::regclass, c.oid) not in (select classid, objid from pg_catalog.pg_depend where deptype = 'e')
    union all
    select p.oid::regprocedure::text, pg_catalog.pg_get_userbyid(p.proowner)::text, p.proowner
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('public', 'private')
      and ('pg_proc'::regclass, p.oid) not in (select classid, objid from pg_catalog.pg_depend where deptype = 'e')
  ) o
  join pg_catalog.pg_roles r on r.oid = o.owner_id
  where r.rolsuper and r.rolname <> 'postgres';
  if v_left is not null then
    raise warning 'Owned by a superuser, not postgres: %', v_left
      using hint = 'Run `call private.hand_over_to_postgres();` as that superuser (e.g. supabase_admin) to give them to postgres.';
  end if;
end
$$;

-- For migrations only (run by their applier, never through the API).
revoke all on procedure private.hand_over_to_postgres() from public, anon, authenticated, service_role;

call private.hand_over_to_postgres();
