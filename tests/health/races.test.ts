// Races a reviewer found in account health (20261202001400_pause_and_hold_races.sql): a pause that
// returned while a claim was handing out a publish for its account, and a destination hold created
// while an item for it was being queued. Each test holds one transaction open on a second connection
// to put the two sides in the order that lost; each failed before that migration.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReservedSql } from "postgres";
import { connect, type Sql } from "../support/db";
import { pauseAccount, pauseAtRiskAccounts } from "../../lib/health/store";
import { account, asPerson, member, queueItem, workspace } from "./helpers";

let sql: Sql;
beforeAll(() => {
  sql = connect(8);
});
afterAll(() => sql.end());

const pidOf = async (conn: ReservedSql) => Number((await conn`select pg_backend_pid() as pid`)[0].pid);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until another session waits for a lock `holderPid` holds; false if none did within `ms`. */
async function blockedBy(holderPid: number, ms = 2000) {
  for (let waited = 0; waited < ms; waited += 25) {
    const [row] = await sql`select exists (select 1 from pg_stat_activity
                                           where ${holderPid}::int = any (pg_blocking_pids(pid))) as blocked`;
    if (row.blocked) return true;
    await sleep(25);
  }
  return false;
}

/** A claim of the workspace's due items, as the worker makes it, in `conn`'s open transaction. */
async function claimIn(conn: ReservedSql, workspaceId: string) {
  await conn`set local role pacer_worker`;
  const rows = await conn`select id, mode, account_id from private.claim_due_posts('races', 10, 60, ${workspaceId}::uuid)`;
  await conn`reset role`;
  return rows;
}

/** Runs `other` while `conn` holds its transaction open, then commits `conn`; says which finished first. */
async function commitWhile<T>(conn: ReservedSql, other: () => Promise<T>) {
  const pid = await pidOf(conn);
  let committed = false;
  let otherDoneFirst = false;
  const running = other().then((r) => {
    otherDoneFirst = !committed;
    return r;
  });
  // Either the other side waits for this transaction (the fix) or it is already done (the race).
  await Promise.race([blockedBy(pid), running]);
  await conn`commit`;
  committed = true;
  return { result: await running, otherDoneFirst };
}

describe("1. a pause waits for the claims in flight for its account", () => {
  it("a person's pause returns only after a claim that read the account as active has committed", async () => {
    const w = await workspace(sql, "race-pause");
    const editor = await member(sql, w.workspaceId, "editor");
    const id = await account(sql, w.workspaceId);
    const item = await queueItem(sql, id);

    const claimer = await sql.reserve();
    try {
      await claimer`begin`;
      // The claim has read the account (active) and leased the item, but not committed yet.
      expect((await claimIn(claimer, w.workspaceId)).map((r) => Number(r.id))).toEqual([item]);
      const { result, otherDoneFirst } = await commitWhile(claimer, () =>
        asPerson(sql, editor.id, (tx) => pauseAccount(tx, id)));
      expect(result).toMatchObject({ state: "paused", changed: true });
      // Before the fix the pause returned first: the publish went out after "paused" was answered.
      expect(otherDoneFirst).toBe(false);
    } finally {
      await claimer`rollback`.catch(() => {});
      claimer.release();
    }
  });

  it("a claim that starts while a pause is being made waits for it and hands out nothing", async () => {
    const w = await workspace(sql, "race-pause-2");
    const editor = await member(sql, w.workspaceId, "editor");
    const id = await account(sql, w.workspaceId);
    const item = await queueItem(sql, id);

    const pauser = await sql.reserve();
    try {
      await pauser`begin`;
      await pauser`select set_config('request.jwt.claims', ${JSON.stringify({ sub: editor.id, role: "authenticated" })}, true),
                          set_config('role', 'authenticated', true)`;
      await pauser`select public.pause_account(${id})`;
      const { result: claimed } = await commitWhile(pauser, () =>
        sql.begin((tx) => claimIn(tx as unknown as ReservedSql, w.workspaceId)));
      expect(claimed).toEqual([]);
    } finally {
      await pauser`rollback`.catch(() => {});
      pauser.release();
    }
    const [row] = await sql`select status, lease_id from public.queue_items where id = ${item}`;
    expect(row).toMatchObject({ status: "pending", lease_id: null });
  });

  it("pausing several accounts while a claim holds some of their locks waits for it, without a deadlock", async () => {
    const w = await workspace(sql, "race-pause-all");
    await sql`insert into public.workspace_health_settings (workspace_id, auto_pause) values (${w.workspaceId}, 'off')`;
    const editor = await member(sql, w.workspaceId, "editor");
    const ids = [await account(sql, w.workspaceId), await account(sql, w.workspaceId), await account(sql, w.workspaceId)];
    for (const id of ids) await queueItem(sql, id);
    await sql`update public.social_accounts set health_score = 10 where id = any (${ids}::uuid[])`;

    const claimer = await sql.reserve();
    try {
      await claimer`begin`;
      expect(await claimIn(claimer, w.workspaceId)).toHaveLength(3);
      const { result, otherDoneFirst } = await commitWhile(claimer, () =>
        asPerson(sql, editor.id, (tx) => pauseAtRiskAccounts(tx, w.workspaceId)));
      expect(result.paused).toBe(3);
      expect(otherDoneFirst).toBe(false);
    } finally {
      await claimer`rollback`.catch(() => {});
      claimer.release();
    }
  });
});

describe("1b. a pause of several accounts locks them in the claim's order", () => {
  it("a claim holding the first account's lock and waiting for the second's finishes; the pause then goes through", async () => {
    const w = await workspace(sql, "race-order");
    await sql`insert into public.workspace_health_settings (workspace_id, auto_pause) values (${w.workspaceId}, 'off')`;
    const editor = await member(sql, w.workspaceId, "editor");
    const [first, second] = [await account(sql, w.workspaceId), await account(sql, w.workspaceId)].sort();
    await queueItem(sql, first);
    await queueItem(sql, second);
    // A reply item too: the claim locks (first, post), then (first, reply), then (second, post).
    const reply = await queueItem(sql, first);
    await sql`update public.queue_items set action = 'reply' where id = ${reply}`;
    await sql`update public.social_accounts set health_score = 10 where id = any (${[first, second]}::uuid[])`;

    const holder = await sql.reserve(); // holds (first, reply), so the claim stops between its two accounts
    const claimer = await sql.reserve();
    try {
      const [holderPid, claimerPid] = [await pidOf(holder), await pidOf(claimer)];
      await holder`begin`;
      await holder`select pg_advisory_xact_lock(hashtextextended(${first}::text || '/reply', 0))`;
      await claimer`begin`;
      const claim = claimIn(claimer, w.workspaceId);
      expect(await blockedBy(holderPid)).toBe(true);
      // A pause of both while the claim holds (first, post): taken in the claim's order it waits for
      // (first, post) holding nothing; taken second-first it would hold (second, *) and deadlock.
      const pause = asPerson(sql, editor.id, (tx) => pauseAtRiskAccounts(tx, w.workspaceId)).then(
        (r) => r,
        (e: { code?: string }) => ({ failed: e.code }),
      );
      expect(await blockedBy(claimerPid)).toBe(true);
      await holder`commit`;
      expect([...new Set((await claim).map((r) => r.account_id))].sort()).toEqual([first, second]);
      await claimer`commit`;
      expect(await pause).toMatchObject({ paused: 2 });
    } finally {
      await holder`rollback`.catch(() => {});
      await claimer`rollback`.catch(() => {});
      holder.release();
      claimer.release();
    }
  });
});

describe("2. a new destination hold and an item queued for it never miss each other", () => {
  const holdOf = (accountId: string, destination: string) => sql`
    insert into public.destination_holds (workspace_id, account_id, destination, rejections, reason)
    select workspace_id, id, ${destination}, 3, 'race test' from public.social_accounts where id = ${accountId}`;
  const runAt = async (item: number) =>
    (await sql`select run_at = 'infinity' as held from public.queue_items where id = ${item}`)[0].held as boolean;

  it("a hold created while the item is being queued holds it", async () => {
    const w = await workspace(sql, "race-hold");
    const id = await account(sql, w.workspaceId);
    const enqueuer = await sql.reserve();
    let item = 0;
    try {
      await enqueuer`begin`;
      item = await queueItem(enqueuer as unknown as Sql, id, "r/race");
      await commitWhile(enqueuer, () => holdOf(id, "r/race"));
    } finally {
      await enqueuer`rollback`.catch(() => {});
      enqueuer.release();
    }
    expect(await runAt(item)).toBe(true);
  });

  it("an item queued while the hold is being created is held", async () => {
    const w = await workspace(sql, "race-hold-2");
    const id = await account(sql, w.workspaceId);
    const other = await queueItem(sql, id, "r/fine");
    const scan = await sql.reserve();
    let item = 0;
    try {
      await scan`begin`;
      await scan`insert into public.destination_holds (workspace_id, account_id, destination, rejections, reason)
                 select workspace_id, id, 'r/race', 3, 'race test' from public.social_accounts where id = ${id}`;
      item = (await commitWhile(scan, () => queueItem(sql, id, "r/race"))).result;
    } finally {
      await scan`rollback`.catch(() => {});
      scan.release();
    }
    expect(await runAt(item)).toBe(true);
    expect(await runAt(other)).toBe(false); // only the held destination's posts wait
  });
});
