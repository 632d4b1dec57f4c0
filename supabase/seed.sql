-- Demo data for local development: a demo user, whose sign-up trigger gives them a workspace.
-- The Supabase CLI runs this after migrations (`supabase db reset`); Pacer's local stack runs it
-- once, when it creates the database. Never run it against production.
create extension if not exists pgcrypto with schema extensions;

insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                        raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
       'demo@pacer.local', extensions.crypt('pacer-demo-password', extensions.gen_salt('bf', 10)), now(),
       '{"provider": "email", "providers": ["email"]}', '{"workspace_name": "Demo workspace"}', now(), now()
where not exists (select from auth.users where email = 'demo@pacer.local');
