// Found by the chaos test: an account resumed while a claim is parking its items "until resumed"
// must not leave those items parked for good. Replayed here step by step on two connections.
import { afterAll, beforeAll, expect, it } from "vitest";
import type postgres from "postgres";
import { makeWorkspace, startPrivateDatabase, type PrivateDatabase } from "./database.ts";

// Our own database: the claim below leases whatever is due, which must be nobody else's.
let db: PrivateDatabase;
/** The owner's connection, apart from the worker's transaction. */
let owner: postgres.ReservedSql;
beforeAll(async () => {
  db = await startPrivateDatabase("resume-race", 3);
  owner = await db.sql.reserve();
});
afterAll(async () => {
  owner?.release();
  await db?.stop();
});

it("runs the posts of an account resumed while a claim was parking them", async () => {
  const sql = db.sql;
  const { workspaceId } = await makeWorkspace(sql, "resume-race", "free");
  const [account] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, state)
                              values (${workspaceId}, 'sandbox', 'race', 'Race', 'needs_reconnect')
                              returning id`;
  const [post] = await sql`insert into public.posts (workspace_id, text) values (${workspaceId}, 'resume race') returning id`;
  const [item] = await sql`insert into public.queue_items (workspace_id, post_id, account_id, priority, run_at)
                           values (${workspaceId}, ${post.id}, ${account.id}, 10, now() - interval '1 minute') returning id`;

  // A worker's claim finds the item due, reads the account as needing reconnection and parks the
  // item until it is resumed; before that claim commits, the owner reconnects the account.
  const [{ pid }] = await owner`select pg_backend_pid() as pid`;
  let resumed!: Promise<unknown>;
  await sql.begin(async (tx) => {
    await tx`select set_config('role', 'pacer_worker', true)`;
    const claimed = await tx`select id from private.claim_due_posts('race-worker', 1000, 60)`;
    expect(claimed.map((c) => Number(c.id))).not.toContain(Number(item.id));
    resumed = owner`update public.social_accounts set state = 'active' where id = ${account.id}`.execute();
    // Commit once the resume has finished, or is waiting for this claim (as it may, to see its work).
    for (let round = 0; round < 10_000; round++) {
      const waiting = sql`select wait_event_type = 'Lock' as blocked from pg_stat_activity where pid = ${pid}`.then(([r]) => r?.blocked === true);
      if (await Promise.race([resumed.then(() => true), waiting])) break;
    }
  });
  await resumed;

  // The account is publishable, so its post must be due again, not waiting for a resume that already happened.
  const [after] = await sql`select q.status, q.run_at = 'infinity' as parked, a.state
                            from public.queue_items q join public.social_accounts a on a.id = q.account_id
                            where q.id = ${item.id}`;
  expect(after).toEqual({ status: "pending", parked: false, state: "active" });
});
