-- Demo data for the local stack only: a demo user (whose sign-up trigger gives them a workspace),
-- who is also the installation's operator. Pacer's local stack runs it once, when it creates the
-- database. It lives outside supabase/ on purpose: the Supabase CLI never sees it, so
-- `db push --include-seed` or `db reset --linked` cannot put a user with a published password on a
-- real project.
create extension if not exists pgcrypto with schema extensions;

insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                        raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
       'demo@pacer.local', extensions.crypt('pacer-demo-password', extensions.gen_salt('bf', 10)), now(),
       '{"provider": "email", "providers": ["email"]}', '{"workspace_name": "Demo workspace"}', now(), now()
where not exists (select from auth.users where email = 'demo@pacer.local');

-- The demo user operates the local installation: /api/ops/scheduler answers them.
insert into private.operators (user_id)
select id from auth.users where email = 'demo@pacer.local'
on conflict do nothing;
