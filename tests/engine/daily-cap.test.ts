// The daily cap and the ledger's pruning through the real claim, on the database's clock: a day of
// attempts is written into the ledger in the past, as if it had happened.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { claimDuePosts } from "../../lib/engine/store.ts";
import { connect, makeUser, type Sql } from "../support/db";

let sql: Sql;
beforeAll(() => {
  sql = connect(4);
});
afterAll(() => sql.end());
// Claimed items stay leased: end them, so no later processing run in the shared database meets them.
const made: number[] = [];
afterEach(async () => {
  await sql`update public.queue_items set status = 'cancelled', lease_id = null, lease_expires_at = null where id = any(${made.splice(0)})`;
});

/** A sandbox account with the workspace's limits tightened to these, and `due` posts waiting now. */
async function account(limits: { perHour?: number; perDay?: number }, due: number) {
  const user = await makeUser(sql, "daily");
  const handle = `day_${randomUUID().slice(0, 8)}`;
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                        values (${user.workspaceId}, 'sandbox', ${handle}, ${handle}) returning id`;
  await sql`insert into public.workspace_rate_limits (workspace_id, platform, action, per_hour, per_day)
            values (${user.workspaceId}, 'sandbox', 'post', ${limits.perHour ?? null}, ${limits.perDay ?? null})`;
  const ids: number[] = [];
  for (let i = 0; i < due; i++) {
    const [p] = await sql`insert into public.posts (workspace_id, text) values (${user.workspaceId}, ${`day ${randomUUID()}`}) returning id`;
    const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${user.workspaceId}, ${p.id}, ${a.id}) returning id`;
    ids.push(Number(q.id));
  }
  made.push(...ids);
  return { id: a.id as string, ids };
}

/** Ledger rows `ago` before the database's now, e.g. '23 hours'. */
async function attemptsAgo(accountId: string, ago: string[]) {
  for (const interval of ago) {
    await sql`insert into private.rate_limit_ledger (account_id, action, at) values (${accountId}, 'post', now() - ${interval}::interval)`;
  }
}

const ledgerAt = async (accountId: string) =>
  (await sql`select at from private.rate_limit_ledger where account_id = ${accountId} order by at`).map((r) => r.at as Date);

async function claimFor(accountId: string) {
  const claimed = await claimDuePosts(sql, { worker: "daily", limit: 100, leaseSeconds: 60 });
  return claimed.filter((c) => c.accountId === accountId).map((c) => c.id);
}

const waiting = async (ids: number[]) =>
  sql`select id, status, run_at, last_error from public.queue_items where id = any(${ids}) and lease_id is null order by id`;

const plusDay = (d: Date) => new Date(d.getTime() + 24 * 3_600_000);
const plusHour = (d: Date) => new Date(d.getTime() + 3_600_000);

describe("the daily cap", () => {
  it("grants what is left of the day and defers the rest to when the day's oldest attempt ages out", async () => {
    const a = await account({ perDay: 5 }, 4);
    await attemptsAgo(a.id, ["23 hours", "20 hours", "3 hours"]); // none in the last hour: only the day binds
    const [oldest] = await ledgerAt(a.id);

    expect(await claimFor(a.id)).toHaveLength(2);
    const rest = await waiting(a.ids);
    expect(rest).toHaveLength(2);
    for (const r of rest) {
      expect(r.status).toBe("rate_limited");
      expect(r.run_at).toEqual(plusDay(oldest));
      expect(r.last_error).toBe("Waiting for the account's rate limit (3600/h, 5/day, 0 ms apart).");
    }
    // Asked again before then (items made due by hand): still nothing, the ledger is the judge.
    await sql`update public.queue_items set run_at = now() where id = any(${rest.map((r) => r.id)})`;
    expect(await claimFor(a.id)).toEqual([]);
  });

  it("opens again as the day's oldest attempt ages out, one post per aged-out attempt", async () => {
    const a = await account({ perDay: 3 }, 3);
    await attemptsAgo(a.id, ["23 hours", "22 hours", "2 hours"]);
    expect(await claimFor(a.id)).toEqual([]);
    // A day later for the oldest attempt: move it past 24 h, and the items to due.
    await sql`update private.rate_limit_ledger set at = at - interval '1 hour 1 minute'
              where account_id = ${a.id} and at < now() - interval '22 hours 30 minutes'`;
    await sql`update public.queue_items set run_at = now() where id = any(${a.ids})`;
    expect(await claimFor(a.id)).toHaveLength(1);
    const [, next] = await ledgerAt(a.id); // 22 hours ago: the next to age out
    expect((await waiting(a.ids)).map((r) => r.run_at)).toEqual([plusDay(next), plusDay(next)]);
  });
});

describe("pruning the ledger", () => {
  it("removes only attempts older than 25 hours, and a claim after it still holds the hourly and daily windows", async () => {
    const hourly = await account({ perHour: 1, perDay: 50 }, 1);
    const daily = await account({ perHour: 50, perDay: 2 }, 1);
    for (const a of [hourly, daily]) await attemptsAgo(a.id, ["30 hours", "25 hours 1 minute", "24 hours 59 minutes", "23 hours", "30 minutes"]);

    // As the engine's role, which is the only one that runs it.
    const pruned = await sql.begin(async (tx) => {
      await tx`set local role pacer_worker`;
      return (await tx`select private.prune_rate_limit_ledger() as n`)[0].n as number;
    });
    expect(pruned).toBeGreaterThanOrEqual(4);
    for (const a of [hourly, daily]) {
      const kept = await sql`select round(extract(epoch from now() - at) / 60)::int as minutes_ago
                             from private.rate_limit_ledger where account_id = ${a.id} order by at`;
      expect(kept.map((r) => r.minutes_ago)).toEqual([24 * 60 + 59, 23 * 60, 30]);
    }

    // The hour holds one attempt (30 min ago): full until it ages out.
    expect(await claimFor(hourly.id)).toEqual([]);
    const lastOfHourly = (await ledgerAt(hourly.id)).at(-1)!;
    expect((await waiting(hourly.ids))[0].run_at).toEqual(plusHour(lastOfHourly));
    // The day holds two (23 h and 30 min ago; the one at 24 h 59 min no longer counts): full until 23 h ages out.
    expect(await claimFor(daily.id)).toEqual([]);
    const [, dayOldest] = await ledgerAt(daily.id);
    expect((await waiting(daily.ids))[0].run_at).toEqual(plusDay(dayOldest));
  });
});
