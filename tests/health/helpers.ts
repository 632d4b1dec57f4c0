// Crafted health data for the health tests: accounts, snapshot series, posting history, queue items.
// Written as the superuser (the scan and the engine write these in production); every test scopes
// its assertions to its own accounts, since test files share one database.
import { randomUUID } from "node:crypto";
import type { TransactionSql } from "postgres";
import { makeUser, type Sql } from "../support/db";
import { evaluateAccountHealth } from "../../lib/health/store";

export async function workspace(sql: Sql, label: string) {
  const user = await makeUser(sql, label);
  await sql`update public.workspaces set plan_id = 'ultra' where id = ${user.workspaceId}`;
  return user;
}

export async function member(sql: Sql, workspaceId: string, role: "viewer" | "editor" | "admin", label = role) {
  const user = await makeUser(sql, label);
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${workspaceId}, ${user.id}, ${role})`;
  return user;
}

export async function account(sql: Sql, workspaceId: string, state = "active"): Promise<string> {
  const [row] = await sql`
    insert into public.social_accounts (workspace_id, platform, handle, display_name, state)
    values (${workspaceId}, 'sandbox', ${`h_${randomUUID().slice(0, 12)}`}, 'Health test', ${state}::public.account_state)
    returning id`;
  return row.id;
}

export interface Point {
  minutesAgo: number;
  reach?: number | null;
  engagement?: number | null;
  followers?: number | null;
  error?: string;
}

export async function snapshots(sql: Sql, accountId: string, points: Point[]) {
  for (const p of points) {
    await sql`
      insert into public.account_health_snapshots (account_id, workspace_id, taken_at, reach, engagement, followers, read_error)
      select id, workspace_id, now() - ${p.minutesAgo} * interval '1 minute', ${p.reach ?? null}, ${p.engagement ?? null},
             ${p.followers ?? null}, ${p.error ?? null}
      from public.social_accounts where id = ${accountId}`;
  }
}

/** Two days of hourly snapshots at the same figures: a baseline of exactly those figures. */
export async function steadyBaseline(sql: Sql, accountId: string, reach = 1000, engagement = 100, followers = 1000) {
  await sql`
    insert into public.account_health_snapshots (account_id, workspace_id, taken_at, reach, engagement, followers)
    select a.id, a.workspace_id, now() - g * interval '1 hour', ${reach}, ${engagement}, ${followers}
    from public.social_accounts a, generate_series(1, 48) g where a.id = ${accountId}`;
}

/** Publish attempts in the posting history, `minutesAgo` each. */
export async function attempts(sql: Sql, accountId: string, rows: { minutesAgo: number; outcome: string; destination?: string }[]) {
  for (const r of rows) {
    await sql`
      insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, destination, kind,
                                          attempt, started_at, finished_at, outcome)
      select 0, workspace_id, id, platform, 'post', ${r.destination ?? null}, 'publish', 1,
             now() - ${r.minutesAgo} * interval '1 minute', now() - ${r.minutesAgo} * interval '1 minute', ${r.outcome}
      from public.social_accounts where id = ${accountId}`;
  }
}

/** A queued post for the account (due now), optionally into a destination. Returns the item id. */
export async function queueItem(sql: Sql, accountId: string, destination: string | null = null): Promise<number> {
  const [row] = await sql`
    with p as (
      insert into public.posts (workspace_id, text, destination)
      select workspace_id, 'health test post', ${destination} from public.social_accounts where id = ${accountId}
      returning id, workspace_id
    )
    insert into public.queue_items (workspace_id, post_id, account_id, run_at, scheduled_for)
    select p.workspace_id, p.id, ${accountId}, now() - interval '1 second', now() - interval '1 second' from p
    returning id`;
  return Number(row.id);
}

export const evaluate = (sql: Sql, ...ids: string[]) => evaluateAccountHealth(sql, ids);

export async function openAlerts(sql: Sql, accountId: string) {
  return sql`select id, rule_id, severity, observed::float8 as observed, baseline::float8 as baseline, message, advice
             from public.health_alerts where account_id = ${accountId} and resolved_at is null order by rule_id`;
}

export async function accountRow(sql: Sql, accountId: string) {
  const [row] = await sql`select state, paused_reason, state_before_pause, health_score from public.social_accounts where id = ${accountId}`;
  return row;
}

/** Run `fn` as this signed-in user in a transaction that commits (tests/support asUser rolls back). */
export async function asPerson<T>(sql: Sql, userId: string, fn: (tx: TransactionSql) => Promise<T>): Promise<T> {
  return (await sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: "authenticated" })}, true),
                    set_config('role', 'authenticated', true)`;
    return fn(tx);
  })) as T;
}
