-- The queue processor runs every minute: pg_cron + pg_net on Supabase, the local scheduler in dev.
select private.schedule_function('process-queue', 60);
