-- The scheduler's advice points at the right steps of docs/deploying.md (the cron secret is chosen
-- in step 2, set on the functions in step 3, stored in Vault by `db push` in step 4); the wording of
-- 20261202000100 was one step off. Same functions otherwise.

create or replace function private.scheduled_call_advice(p_status integer, p_error text) returns text
language sql immutable
set search_path = ''
as $$
  select case
    when p_error like 'Vault%' then p_error
    when p_status = 401 then
      'The function refused the cron secret: Vault''s secret_key must hold exactly the PACER_CRON_SECRET '
      'set with `supabase secrets set` (docs/deploying.md: chosen in step 2, set in step 3, stored in Vault in step 4).'
    when p_status = 404 then 'The function is not deployed: run `supabase functions deploy`.'
    when p_status = 546 or p_status >= 500 then
      'The function failed: see its logs (Dashboard > Edge Functions > Logs, or the local dev log).'
    when p_error is not null then
      'The call got no answer (' || p_error || '): check Vault''s project_url and that the project is up.'
    else 'Unexpected answer: see the function''s logs.'
  end
$$;

create or replace function private.invoke_scheduled_function(p_function_name text) returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_url text;
  v_secret text;
  v_request bigint;
begin
  select s.decrypted_secret into v_url from vault.decrypted_secrets s where s.name = 'project_url';
  select s.decrypted_secret into v_secret from vault.decrypted_secrets s where s.name = 'secret_key';
  if coalesce(v_url, '') = '' or coalesce(v_secret, '') = '' then
    insert into private.scheduled_calls (function_name, error)
    values (p_function_name, 'Vault has no project_url and secret_key: store them (the [db.vault] section of '
                             'supabase/config.toml, applied by `supabase db push`; docs/deploying.md, step 4).');
    return null;
  end if;
  select net.http_post(
    url := pg_catalog.rtrim(v_url, '/') || '/functions/v1/' || p_function_name,
    headers := pg_catalog.jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || v_secret),
    body := '{}'::jsonb,
    timeout_milliseconds := 150000
  ) into v_request;
  insert into private.scheduled_calls (function_name, request_id) values (p_function_name, v_request);
  perform private.prune_scheduled_calls();
  return v_request;
end
$$;

call private.hand_over_to_postgres();
