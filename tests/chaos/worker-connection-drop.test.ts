// Found by the chaos test: when Postgres restarts, a worker whose transaction was open must carry on
// (the claim fails, the next one succeeds), not die. Replayed deterministically: the test holds the
// account's claim lock so the worker's claim waits inside its transaction, then cuts that connection.
import { afterAll, expect, it } from "vitest";
import { startSandbox } from "../../local/sandbox/index.ts";
import { WorkerFleet } from "./workers.ts";
import { makeWorkspace, startPrivateDatabase } from "./database.ts";
import { sandboxAccount } from "../support/sandbox.ts";

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, fleet: WorkerFleet, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (fleet.crashes.length) throw new Error(`the worker died while waiting for ${what}:\n${fleet.crashes[0].lastLines.join("\n")}`);
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it("keeps a worker running when its connection drops in the middle of a transaction", async () => {
  // Our own database: the worker claims every due item in it, and the test cuts its connections.
  const db = await startPrivateDatabase("drop", 3);
  cleanup.push(() => db.stop());
  const sql = db.sql;
  const sandbox = await startSandbox({ port: 0, seed: 1 });
  cleanup.push(() => sandbox.stop());
  const { workspaceId } = await makeWorkspace(sql, "drop", "free");
  const { sealed } = await sandboxAccount(sandbox.url, "drop_test");
  const [account] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                              values (${workspaceId}, 'sandbox', 'drop_test', 'Drop', ${sealed}) returning id`;
  const [post] = await sql`insert into public.posts (workspace_id, text) values (${workspaceId}, 'survives a dropped connection') returning id`;

  // The claim takes this lock per account; holding it makes the worker's claim wait, transaction open.
  const holder = await sql.reserve();
  cleanup.push(() => holder.release());
  await holder`select pg_advisory_lock(hashtextextended(${`${account.id}/post`}, 0))`;
  const [item] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${workspaceId}, ${post.id}, ${account.id}) returning id`;

  const fleet = new WorkerFleet(1, {
    SUPABASE_DB_URL: db.url,
    PACER_SANDBOX_URL: sandbox.url,
    PACER_CREDENTIALS_KEY: process.env.PACER_CREDENTIALS_KEY!,
  });
  cleanup.push(() => fleet.stopAll(2000));
  fleet.startAll();

  const waiting = await until(
    "the worker's claim to wait for the account",
    async () => (await sql`select pid from pg_stat_activity where wait_event_type = 'Lock' and wait_event = 'advisory'`)[0],
    fleet,
  );
  await sql`select pg_terminate_backend(${waiting.pid})`;
  await holder`select pg_advisory_unlock(hashtextextended(${`${account.id}/post`}, 0))`;

  // The worker notices, claims again and publishes; it must still be there to do so.
  const done = await until(
    "the item to be posted",
    async () => (await sql`select status from public.queue_items where id = ${item.id} and status = 'posted'`)[0],
    fleet,
  );
  expect(done.status).toBe("posted");
  expect(fleet.crashes).toEqual([]);
  expect(sandbox.stats().accepted).toBe(1);
});
