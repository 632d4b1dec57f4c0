// A destination hold starts when the rejection that reaches the rule's threshold is recorded, not at
// the next scan (20261202001700): end to end with the sandbox (judged by what the platform received),
// with the workspace's tuning, after a release, and under concurrent batches.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import type { TransactionSql } from "postgres";
import { startSandbox, type Sandbox } from "../../local/sandbox/index.ts";
import { processQueue } from "../../lib/engine/process.ts";
import { connect, type Sql } from "../support/db";
import { sandboxAccount, sandboxConnector } from "../support/sandbox.ts";
import { account, asPerson, evaluate, workspace } from "./helpers";

let sql: Sql;
let other: Sql;
let sandbox: Sandbox;

beforeAll(async () => {
  sql = connect(4);
  other = connect(2);
  sandbox = await startSandbox({ port: 0, seed: 17 });
});
afterAll(async () => {
  await sandbox.stop();
  await sql.end();
  await other.end();
});

async function connectAccount(workspaceId: string, label: string) {
  const handle = `${label}_${randomUUID().slice(0, 8)}`;
  const made = await sandboxAccount(sandbox.url, handle);
  const [row] = await sql`
    insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
    values (${workspaceId}, 'sandbox', ${handle}, ${handle}, ${made.sealed}) returning id`;
  return { id: row.id as string, handle };
}

async function rejectOn(handle: string, destinations: string[]) {
  const res = await fetch(`${sandbox.url}/v1/admin/accounts/${handle}/state`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ rejectedDestinations: destinations }),
  });
  expect(res.status).toBe(200);
}

/** `n` posts for the account, due at `at`; returns the item ids. */
async function queue(workspaceId: string, accountId: string, n: number, destination: string | null, at: Date): Promise<string[]> {
  const rows = await sql`
    with p as (insert into public.posts (workspace_id, text, destination)
               select ${workspaceId}, 'hold ' || gen_random_uuid(), ${destination} from generate_series(1, ${n}) returning id)
    insert into public.queue_items (workspace_id, post_id, account_id, scheduled_for, run_at)
    select ${workspaceId}, p.id, ${accountId}, ${at}, ${at} from p
    returning id`;
  return rows.map((r) => String(r.id));
}

const refused = (handle: string) => sandbox.stats().refusedByAccount[handle] ?? {};
const stored = (handle: string) => sandbox.stats().byAccount[handle] ?? 0;
const statuses = (ids: string[]) =>
  sql`select status, run_at = 'infinity' as parked, error_class from public.queue_items where id = any(${ids}) order by id`;

/** Rejections by `destination` in the posting history, as the engine writes them (one statement for all). */
async function rejections(db: Sql | TransactionSql, accountId: string, destination: string, n: number) {
  await db`
    insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, destination, kind,
                                        attempt, started_at, finished_at, outcome)
    select 0, workspace_id, id, platform, 'post', ${destination}, 'publish', 1, now(), now(), 'destination_rejected'
    from public.social_accounts, generate_series(1, ${n}) where id = ${accountId}`;
}

const holdsOf = (accountId: string) =>
  sql`select destination, rejections, released_at is null as open from public.destination_holds
      where account_id = ${accountId} order by id`;

describe("a destination rejecting ten posts due at once", () => {
  it("is held as soon as the threshold's rejection is recorded: the rest wait (never failed), the account's other posts go", async () => {
    const owner = await workspace(sql, "hold-at-rejection");
    const ws = owner.workspaceId;
    const acct = await connectAccount(ws, "holdnow");
    const rejecting = "r/rejecting";
    await rejectOn(acct.handle, [rejecting]);
    // The ten to the rejecting destination are the oldest due, so they are claimed first; the
    // account's other posts fall due just after them.
    const now = Date.now();
    const toRejecting = await queue(ws, acct.id, 10, rejecting, new Date(now - 10_000));
    const others = [...(await queue(ws, acct.id, 2, "r/fine", new Date(now - 5_000))), ...(await queue(ws, acct.id, 2, null, new Date(now - 5_000)))];

    // One item per claim (several claims), each outcome written as soon as it is in. The engine claims
    // its next item before it writes the previous outcome, so one more post is already on its way
    // when the third rejection is recorded; after that, nothing more goes to the destination.
    const connector = sandboxConnector(sandbox.url);
    await processQueue({
      sql, worker: `hold-${randomUUID().slice(0, 6)}`, workspaceId: ws, connectorFor: () => connector,
      budgetMs: 15_000, callTimeoutMs: 2_000, batchSize: 1, concurrency: 1, flushSize: 1,
    });

    expect(refused(acct.handle)).toEqual({ destination_rejected: 4 });
    expect(stored(acct.handle)).toBe(others.length);
    const items = await statuses(toRejecting);
    expect(items.filter((i) => i.status === "failed")).toHaveLength(4);
    expect(items.filter((i) => i.error_class === "destination_rejected")).toHaveLength(4);
    // The other six were held before they were sent: waiting, parked, not failed.
    const waiting = items.filter((i) => i.status !== "failed");
    expect(waiting).toHaveLength(6);
    for (const item of waiting) expect(item).toMatchObject({ status: "pending", parked: true });
    expect((await statuses(others)).map((i) => i.status)).toEqual(others.map(() => "posted"));

    // One hold, made at the third rejection, audited as the rule's; the account stays active.
    expect(await holdsOf(acct.id)).toEqual([{ destination: rejecting, rejections: 3, open: true }]);
    const audits = await sql`select actor_id, new_values from public.audit_log
                             where entity_id = ${acct.id} and action = 'destination_hold'`;
    expect(audits).toHaveLength(1);
    expect(audits[0].actor_id).toBeNull();
    expect(audits[0].new_values).toMatchObject({ by: "rule", rule: "destination_rejections", destination: rejecting, rejections: 3 });
    const [state] = await sql`select state from public.social_accounts where id = ${acct.id}`;
    expect(state.state).toBe("active");
  }, 60_000);

  it("claimed in batches of three, sends at most the threshold and what was already on its way", async () => {
    const owner = await workspace(sql, "hold-at-rejection-3");
    const ws = owner.workspaceId;
    const acct = await connectAccount(ws, "holdbatch");
    const rejecting = "r/batches";
    await rejectOn(acct.handle, [rejecting]);
    const toRejecting = await queue(ws, acct.id, 10, rejecting, new Date(Date.now() - 1_000));
    const connector = sandboxConnector(sandbox.url);
    await processQueue({
      sql, worker: `hold-${randomUUID().slice(0, 6)}`, workspaceId: ws, connectorFor: () => connector,
      budgetMs: 15_000, callTimeoutMs: 2_000, batchSize: 3, concurrency: 3, flushSize: 3,
    });
    // Without the hold at rejection all ten are sent and fail; with it, the third rejection holds the
    // rest, less the at most three (one claim) already on their way.
    const sent = refused(acct.handle).destination_rejected ?? 0;
    expect(sent).toBeGreaterThanOrEqual(3);
    expect(sent).toBeLessThanOrEqual(6);
    const items = await statuses(toRejecting);
    expect(items.filter((i) => i.status === "failed")).toHaveLength(sent);
    for (const item of items.filter((i) => i.status !== "failed")) expect(item).toMatchObject({ status: "pending", parked: true });
    expect(await holdsOf(acct.id)).toEqual([expect.objectContaining({ destination: rejecting, open: true })]);
  }, 60_000);
});

describe("the hold at rejection follows the rule the evaluation uses", () => {
  it("holds at the workspace's threshold, not before; a released destination counts again from its release", async () => {
    const owner = await workspace(sql, "hold-tuned");
    await sql`insert into public.workspace_health_rules (workspace_id, rule_id, threshold) values (${owner.workspaceId}, 'destination_rejections', 5)`;
    const id = await account(sql, owner.workspaceId);
    await rejections(sql, id, "r/tuned", 4);
    expect(await holdsOf(id)).toEqual([]);
    // The evaluation agrees: 4 is under this workspace's 5.
    expect((await evaluate(sql, id)).destinationsHeld).toBe(0);
    await rejections(sql, id, "r/tuned", 1);
    expect(await holdsOf(id)).toEqual([{ destination: "r/tuned", rejections: 5, open: true }]);
    // Another destination of the same account is counted on its own.
    await rejections(sql, id, "r/other", 4);
    expect((await holdsOf(id)).map((h) => h.destination)).toEqual(["r/tuned"]);

    // Released by a person: the five before the release no longer count.
    await asPerson(sql, owner.id, (tx) => tx`select public.release_destination(${id}, 'r/tuned')`);
    await rejections(sql, id, "r/tuned", 4);
    expect((await holdsOf(id)).filter((h) => h.open)).toEqual([]);
    await rejections(sql, id, "r/tuned", 1);
    expect((await holdsOf(id)).filter((h) => h.open)).toEqual([{ destination: "r/tuned", rejections: 5, open: true }]);
  });

  it("holds nothing when the workspace switched the rule off", async () => {
    const owner = await workspace(sql, "hold-off");
    await sql`insert into public.workspace_health_rules (workspace_id, rule_id, enabled) values (${owner.workspaceId}, 'destination_rejections', false)`;
    const id = await account(sql, owner.workspaceId);
    await rejections(sql, id, "r/off", 10);
    expect(await holdsOf(id)).toEqual([]);
  });

  it("holds a destination's waiting items the moment it is held", async () => {
    const owner = await workspace(sql, "hold-items");
    const id = await account(sql, owner.workspaceId);
    const [waitingTo, waitingElsewhere] = await Promise.all([
      queue(owner.workspaceId, id, 2, "r/held", new Date(Date.now() + 60_000)),
      queue(owner.workspaceId, id, 1, "r/free", new Date(Date.now() + 60_000)),
    ]);
    await rejections(sql, id, "r/held", 3);
    expect((await statuses(waitingTo)).map((i) => i.parked)).toEqual([true, true]);
    expect((await statuses(waitingElsewhere)).map((i) => i.parked)).toEqual([false]);
  });
});

describe("concurrent batches rejecting on one destination", () => {
  it("together reach the threshold and make one hold (the later batch counts the earlier one's)", async () => {
    const owner = await workspace(sql, "hold-concurrent");
    const id = await account(sql, owner.workspaceId);
    let second: Promise<unknown> = Promise.resolve();
    // Two rejections in an open transaction (under the threshold of 3), two more in another meanwhile.
    await sql.begin(async (tx) => {
      await rejections(tx, id, "r/both", 2);
      second = other.begin((tx2) => rejections(tx2, id, "r/both", 2));
      // The second batch waits for the first (the account's lock), rather than counting 2 of its own.
      for (let i = 0; i < 200; i++) {
        const [row] = await sql`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock'
                                and query ilike '%destination_rejected%' and pid <> pg_backend_pid()`;
        if (row.n > 0) break;
        await new Promise((r) => setTimeout(r, 25));
      }
    });
    await second;
    expect(await holdsOf(id)).toEqual([{ destination: "r/both", rejections: 4, open: true }]);
  });

  it("each over the threshold, make one hold and one audit", async () => {
    const owner = await workspace(sql, "hold-concurrent-2");
    const id = await account(sql, owner.workspaceId);
    await Promise.all([
      sql.begin((tx) => rejections(tx, id, "r/race", 3)),
      other.begin((tx) => rejections(tx, id, "r/race", 3)),
    ]);
    expect((await holdsOf(id)).map((h) => h.destination)).toEqual(["r/race"]);
    const audits = await sql`select 1 from public.audit_log where entity_id = ${id} and action = 'destination_hold'`;
    expect(audits).toHaveLength(1);
  });

  it("rejecting on two accounts, rows in opposite orders, never deadlock", async () => {
    const owner = await workspace(sql, "hold-order");
    const [a, b] = await Promise.all([account(sql, owner.workspaceId), account(sql, owner.workspaceId)]);
    // One statement per batch, as record_outcomes writes them; its rows name the accounts in turn.
    const batch = (db: Sql, first: string, then: string, destination: string) =>
      db.begin((tx) => tx`
        insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, destination, kind,
                                            attempt, started_at, finished_at, outcome)
        select 0, s.workspace_id, s.id, s.platform, 'post', ${destination}, 'publish', 1, now(), now(), 'destination_rejected'
        from unnest(array[${first}, ${then}, ${first}, ${then}]::uuid[]) with ordinality x (id, n)
        join public.social_accounts s on s.id = x.id
        order by x.n`);
    for (let round = 0; round < 5; round++) {
      await Promise.all([batch(sql, a, b, `r/x${round}`), batch(other, b, a, `r/x${round}`)]);
    }
    const expected = Array.from({ length: 5 }, (_, round) => `r/x${round}`);
    expect((await holdsOf(a)).map((h) => h.destination)).toEqual(expected);
    expect((await holdsOf(b)).map((h) => h.destination)).toEqual(expected);
  });
});
