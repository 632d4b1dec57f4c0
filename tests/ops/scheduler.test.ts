// A failing schedule is loud: every scheduled call is recorded with its answer, and a wrong cron
// secret, a schedule nobody runs, or due posts left waiting become warnings an operator reads
// (GET /api/ops/scheduler), a monitor alerts on (GET /api/health answers 503) and the log shows.
// The Supabase path (pg_cron + pg_net + Vault) cannot run here: its SQL runs against stand-ins
// shaped like pg_net's documented API (https://supabase.github.io/pg_net/api), inside transactions
// that are rolled back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import type postgres from "postgres";
import * as healthRoute from "@/app/api/health/route";
import * as opsRoute from "@/app/api/ops/scheduler/route";
import { startScheduler } from "@/local/gateway/scheduler";
import { invokeScheduled } from "@/local/gateway/server";
import { connect, makeUser, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";

let sql: Sql;
let operator: TestUser;
let someone: TestUser;

beforeAll(async () => {
  sql = connect();
  operator = await signUp("operator");
  someone = await signUp("someone");
  await sql`insert into private.operators (user_id) values (${operator.id})`;
});
afterAll(async () => {
  await sql`delete from private.scheduled_calls where function_name = 'process-queue'`;
  await sql.end();
});

const getOps = (user: TestUser) =>
  opsRoute.GET(new Request("http://127.0.0.1:3000/api/ops/scheduler", { headers: { authorization: `Bearer ${user.accessToken}` } }), {});

async function warnings() {
  return sql<{ code: string; function_name: string; message: string }[]>`select * from private.scheduler_warnings()`;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("the local scheduler with a wrong cron secret", () => {
  it("records each 401 and raises a warning in the database, the log, /api/ops/scheduler and /api/health", async () => {
    await sql`delete from private.scheduled_calls where function_name = 'process-queue'`;
    // Every second instead of every minute; put back afterwards.
    await sql`update private.scheduled_functions set every_seconds = 1 where function_name = 'process-queue'`;
    const log: string[] = [];
    const scheduler = startScheduler({
      dbUrl: process.env.SUPABASE_DB_URL!,
      tickMs: 100,
      log: (line) => log.push(line),
      invoke: (name) => invokeScheduled(process.env.SUPABASE_URL!, name, "not-the-cron-secret"),
    });
    try {
      const [call] = await until("a recorded call", async () => {
        const rows = await sql`select status_code, error from private.scheduled_calls where function_name = 'process-queue'`;
        return rows.length ? rows : undefined;
      });
      expect(call.status_code).toBe(401);
      await until("the warning in the log", async () => (log.some((l) => l.includes("WARNING")) ? true : undefined));
    } finally {
      await scheduler.stop();
      await sql`update private.scheduled_functions set every_seconds = 60 where function_name = 'process-queue'`;
    }

    const failed = (await warnings()).find((w) => w.code === "scheduled_call_failed" && w.function_name === "process-queue");
    expect(failed?.message).toMatch(/answered 401/);
    expect(failed?.message).toMatch(/PACER_CRON_SECRET/);
    expect(log.join("\n")).toMatch(/WARNING process-queue answered 401/);

    // A monitor sees that something is wrong, without the details.
    const health = await healthRoute.GET();
    expect(health.status).toBe(503);
    const body = await health.json();
    expect(body.status).toBe("warning");
    expect(body.warnings).toContainEqual(expect.objectContaining({ code: "scheduled_call_failed", function_name: "process-queue" }));
    expect(JSON.stringify(body)).not.toMatch(/PACER_CRON_SECRET/);

    // An operator sees the calls and the advice.
    const ops = await getOps(operator);
    expect(ops.status).toBe(200);
    const status = await ops.json();
    const fn = status.functions.find((f: { function_name: string }) => f.function_name === "process-queue");
    expect(fn).toMatchObject({ last_status: 401, last_success_at: null });
    expect(fn.failures_last_hour).toBeGreaterThanOrEqual(1);
    expect(status.warnings.map((w: { code: string }) => w.code)).toContain("scheduled_call_failed");

    // The next successful call clears it: the warning describes the latest answer, not history.
    await sql`select private.record_scheduled_call('process-queue', 200, null, 5)`;
    expect((await warnings()).map((w) => w.code)).not.toContain("scheduled_call_failed");
  }, 60_000);
});

describe("who may read the scheduler's state", () => {
  it("answers 403 operators_only to anyone else, through the API and straight through the database", async () => {
    const res = await getOps(someone);
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("operators_only");

    const user = await makeUser(sql, "not-operator");
    const error = await sql
      .begin(async (tx) => {
        await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: user.id, role: "authenticated" })}, true),
                        set_config('role', 'authenticated', true)`;
        await tx`select public.scheduler_status()`;
      })
      .catch((e) => e);
    expect(error.code).toBe("42501");
    // The tables themselves are out of the API's reach.
    const anon = await sql
      .begin(async (tx) => {
        await tx`set local role anon`;
        await tx`select * from private.scheduled_calls`;
      })
      .catch((e) => e);
    expect(anon.code).toBe("42501");
  });
});

describe("warnings without any call", () => {
  it("says when nothing has called a scheduled function for a whole window", async () => {
    const name = `idle-${randomUUID().slice(0, 8)}`;
    await sql.begin(async (tx) => {
      await tx`insert into private.scheduled_functions (function_name, every_seconds, updated_at)
               values (${name}, 60, now() - interval '10 minutes')`;
      const rows = await tx`select code, message from private.scheduler_warnings() where function_name = ${name}`;
      expect(rows).toEqual([expect.objectContaining({ code: "no_successful_call", message: expect.stringMatching(/Nothing called it/) })]);
      // Just scheduled: quiet until a whole window has passed.
      await tx`update private.scheduled_functions set updated_at = now() where function_name = ${name}`;
      expect(await tx`select 1 from private.scheduler_warnings() where function_name = ${name}`).toHaveLength(0);
      throw new Rollback();
    }).catch(ignoreRollback);
  });

  it("says when a due post has waited more than 5 minutes (the queue's symptom)", async () => {
    const user = await makeUser(sql, "stalled");
    await sql.begin(async (tx) => {
      const [account] = await tx`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                                 values (${user.workspaceId}, 'sandbox', ${`stalled_${randomUUID().slice(0, 6)}`}, 'Stalled') returning id`;
      const [post] = await tx`insert into public.posts (workspace_id, text) values (${user.workspaceId}, 'waiting') returning id`;
      await tx`insert into public.queue_items (workspace_id, post_id, account_id, scheduled_for, run_at, priority)
               values (${user.workspaceId}, ${post.id}, ${account.id}, now() - interval '20 minutes', now() - interval '20 minutes', 10)`;
      const [stalled] = await tx`select message from private.scheduler_warnings() where code = 'queue_stalled'`;
      expect(stalled?.message).toMatch(/oldest due post has waited since/);
      throw new Rollback();
    }).catch(ignoreRollback);
  });
});

describe("on Supabase (pg_cron, pg_net and Vault stand-ins, rolled back)", () => {
  it("the cron job records a missing Vault secret as a failed call with the fix", async () => {
    await sql.begin(async (tx) => {
      await supabaseStandIns(tx);
      await tx`select private.invoke_scheduled_function('process-queue')`;
      const [call] = await tx`select request_id, error from private.scheduled_calls where function_name = 'process-queue' order by id desc limit 1`;
      expect(call.request_id).toBeNull();
      expect(call.error).toMatch(/Vault has no project_url and secret_key/);
      const [w] = await tx`select message from private.scheduler_warnings() where code = 'scheduled_call_failed' and function_name = 'process-queue'`;
      expect(w.message).toMatch(/\[db.vault\]/);
      // The step of docs/deploying.md that stores them.
      expect(w.message).toMatch(/step 4/);
      throw new Rollback();
    }).catch(ignoreRollback);
  });

  it("sends PACER_CRON_SECRET once, as a bearer token, and reads the answer from net._http_response", async () => {
    await sql.begin(async (tx) => {
      await supabaseStandIns(tx);
      await tx`insert into vault.decrypted_secrets (name, decrypted_secret)
               values ('project_url', 'https://abc.supabase.co/'), ('secret_key', 'the-cron-secret')`;
      const [{ id }] = await tx`select private.invoke_scheduled_function('process-queue') as id`;
      const [sent] = await tx`select url, headers, timeout_milliseconds from net.sent where id = ${id}`;
      expect(sent.url).toBe("https://abc.supabase.co/functions/v1/process-queue");
      expect(sent.headers).toEqual({ "Content-Type": "application/json", Authorization: "Bearer the-cron-secret" });
      expect(sent.timeout_milliseconds).toBe(150000);

      // In flight: neither a success nor a failure.
      expect(await tx`select 1 from private.scheduler_warnings() where function_name = 'process-queue' and code = 'scheduled_call_failed'`).toHaveLength(0);
      // pg_net's answer arrives: 401.
      await tx`insert into net._http_response (id, status_code, content, timed_out, error_msg, created)
               values (${id}, 401, '{"error":{"code":"unauthorized"}}', false, null, now())`;
      const [w] = await tx`select message from private.scheduler_warnings() where code = 'scheduled_call_failed' and function_name = 'process-queue'`;
      expect(w.message).toMatch(/answered 401/);

      // The watchdog job fails, so cron.job_run_details says `failed` with the reason.
      const error = await tx.savepoint((sp) => sp`select private.raise_scheduler_warnings()`).catch((e) => e);
      expect(error.message).toMatch(/Pacer scheduler warning/);
      expect(error.message).toMatch(/scheduled_call_failed: process-queue answered 401/);
      throw new Rollback();
    }).catch(ignoreRollback);
  });

  it("schedules each function as a call of private.invoke_scheduled_function, and the watchdog with them", async () => {
    await sql.begin(async (tx) => {
      await supabaseStandIns(tx);
      // As on Supabase, where pg_cron and pg_net are installed.
      await tx`create or replace function private.database_invokes_scheduled_functions() returns boolean language sql as 'select true'`;
      await tx`select private.schedule_function('process-queue', 60)`;
      const [job] = await tx`select schedule, command from cron.job where jobname = 'pacer-process-queue'`;
      expect(job).toEqual({ schedule: "*/1 * * * *", command: "select private.invoke_scheduled_function('process-queue')" });
      const [watchdog] = await tx`select schedule, command from cron.job where jobname = 'pacer-watchdog'`;
      expect(watchdog).toEqual({ schedule: "* * * * *", command: "select private.raise_scheduler_warnings()" });
      throw new Rollback();
    }).catch(ignoreRollback);
  });
});

class Rollback extends Error {}
function ignoreRollback(e: unknown) {
  if (!(e instanceof Rollback)) throw e;
}

/** Just enough of Vault, pg_net and pg_cron, with their documented names and signatures. */
async function supabaseStandIns(tx: postgres.TransactionSql) {
  await tx.unsafe(`
    create schema vault;
    create table vault.decrypted_secrets (name text primary key, decrypted_secret text);
    create schema net;
    create table net._http_response (id bigint, status_code integer, content_type text, headers jsonb, content text,
                                     timed_out boolean, error_msg text, created timestamptz not null default now());
    create table net.sent (id bigserial primary key, url text, body jsonb, params jsonb, headers jsonb, timeout_milliseconds integer);
    create function net.http_post(url text, body jsonb default '{}', params jsonb default '{}',
                                  headers jsonb default '{"Content-Type": "application/json"}', timeout_milliseconds integer default 5000)
    returns bigint language sql as $$
      insert into net.sent (url, body, params, headers, timeout_milliseconds)
      values (url, body, params, headers, timeout_milliseconds) returning id $$;
    create schema cron;
    create table cron.job (jobid bigserial primary key, jobname text unique, schedule text, command text);
    create function cron.schedule(job_name text, schedule text, command text) returns bigint language sql as $$
      insert into cron.job (jobname, schedule, command) values (job_name, schedule, command)
      on conflict (jobname) do update set schedule = excluded.schedule, command = excluded.command returning jobid $$;
    create function cron.unschedule(job_id bigint) returns boolean language sql as $$
      delete from cron.job where jobid = job_id returning true $$;
  `);
}
