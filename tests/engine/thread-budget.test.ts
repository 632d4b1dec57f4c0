// A thread of N parts is N statuses on the platform, so it spends N of the account's rate limit: the
// claim grants it only when N fit in what is left of the hour and the day, writes N ledger rows, and a
// thread that does not fit waits (with everything queued after it) instead of overrunning the cap.
// Run through the engine against the Mastodon fake, whose own record counts what was posted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { processQueue } from "../../lib/engine/process.ts";
import { connectorFor } from "../../lib/connectors/registry.ts";
import { encryptCredentials } from "../../lib/accounts/credentials.ts";
import { startMastodonFake, type MastodonFake } from "../../local/platforms/mastodon/index.ts";
import { startPrivateDatabase, makeWorkspace, type PrivateDatabase } from "../chaos/database.ts";
import type { Sql } from "../support/db";

let db: PrivateDatabase;
let sql: Sql;
let mastodon: MastodonFake;
const env = { PACER_CONNECTORS: "mastodon", PACER_ALLOWED_HOSTS: "127.0.0.1" };

beforeAll(async () => {
  db = await startPrivateDatabase("thread-budget");
  sql = db.sql;
  await sql`update public.platforms set verify_margin_ms = 200, verify_confirm_ms = 300 where id = 'mastodon'`;
  await sql`update public.rate_limit_policies set min_gap_ms = 0 where platform = 'mastodon'`;
  mastodon = await startMastodonFake({ port: 0 });
});
afterAll(async () => {
  await mastodon?.stop();
  await db?.stop();
});

const run = () =>
  processQueue({
    sql,
    worker: `budget-${randomUUID().slice(0, 6)}`,
    connectorFor: (platform) => connectorFor(platform, env),
    budgetMs: 5_000,
    callTimeoutMs: 2_000,
    leaseSeconds: 30,
    verifyRetryMs: [100, 100],
    retry: { baseMs: 20, factor: 2, maxRetries: 3, jitter: 0 },
  });

/** A Mastodon account of Pacer's app whose workspace allows it `perHour` posts an hour. */
async function account(perHour: number) {
  const username = `b${randomUUID().replace(/-/g, "").slice(0, 10)}`;
  const user = mastodon.createUser(username);
  const app = mastodon.state.registerApp({ name: "Pacer", website: null, redirect_uris: ["urn:ietf:wg:oauth:2.0:oob"], scopes: ["read", "write:statuses", "write:media"] });
  const token = mastodon.state.issueToken(user.id, app.client_id, ["read", "write:statuses", "write:media"]).token;
  const connection = await connectorFor("mastodon", env).connect({ handle: username, credentials: { instance: mastodon.url, accessToken: token } }, { signal: AbortSignal.timeout(5_000) });
  if (connection.kind !== "connected") throw new Error(`could not connect @${username}`);
  const { workspaceId } = await makeWorkspace(sql, "thread-budget");
  await sql`insert into public.workspace_rate_limits (workspace_id, platform, action, per_hour) values (${workspaceId}, 'mastodon', 'post', ${perHour})`;
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                        values (${workspaceId}, 'mastodon', ${username}, ${username}, ${await encryptCredentials(connection.credentials)}) returning id`;
  return { username, workspaceId, accountId: a.id as string };
}

/** Queues posts in this order (a string: a single post; an array: a thread), each due a second after the one before. */
async function queue(acc: { workspaceId: string; accountId: string }, posts: Array<string | string[]>) {
  const ids: number[] = [];
  for (const [i, post] of posts.entries()) {
    const [text, ...thread] = typeof post === "string" ? [post] : post;
    const [p] = await sql`insert into public.posts (workspace_id, text, thread) values (${acc.workspaceId}, ${text}, ${thread}) returning id`;
    const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id, run_at)
                          values (${acc.workspaceId}, ${p.id}, ${acc.accountId}, now() - interval '1 minute' + ${i} * interval '1 second') returning id`;
    ids.push(Number(q.id));
  }
  return ids;
}

const statusOf = async (id: number) => (await sql`select status, run_at, last_error from public.queue_items where id = ${id}`)[0];
const ledgerRows = async (accountId: string) =>
  Number((await sql`select count(*) as n from private.rate_limit_ledger where account_id = ${accountId} and at > now() - interval '1 hour'`)[0].n);
const tag = () => randomUUID().slice(0, 8);

describe("a thread spends one of the account's rate limit per part", () => {
  it("a budget of 5, a 3-part thread and 3 single posts: 5 statuses in the hour, the last post waits for the window", async () => {
    const acc = await account(5);
    const t = tag();
    const ids = await queue(acc, [`one ${t}`, [`thread ${t} 1/3`, `thread ${t} 2/3`, `thread ${t} 3/3`], `two ${t}`, `three ${t}`]);
    for (let i = 0; i < 3; i++) await run();

    expect(mastodon.statusesOf(acc.username)).toHaveLength(5);
    expect(await ledgerRows(acc.accountId)).toBe(5);
    expect((await statusOf(ids[1])).status).toBe("posted");
    const last = await statusOf(ids[3]);
    expect(last.status).toBe("rate_limited");
    expect(last.run_at.getTime()).toBeGreaterThan(Date.now() + 55 * 60_000);
  }, 60_000);

  it("a thread larger than what is left of the hour waits, and so does what is queued after it; it goes once the window has room", async () => {
    const acc = await account(5);
    const t = tag();
    const ids = await queue(acc, [`one ${t}`, `two ${t}`, `three ${t}`, [`thread ${t} 1/3`, `thread ${t} 2/3`, `thread ${t} 3/3`], `four ${t}`]);
    for (let i = 0; i < 2; i++) await run();

    expect(mastodon.statusesOf(acc.username)).toHaveLength(3);
    expect(await ledgerRows(acc.accountId)).toBe(3);
    const thread = await statusOf(ids[3]);
    expect(thread.status).toBe("rate_limited");
    expect(thread.run_at.getTime()).toBeGreaterThan(Date.now() + 55 * 60_000);
    // Order is kept: the single post after the thread does not take the room the thread is waiting for.
    expect((await statusOf(ids[4])).status).toBe("rate_limited");

    // An hour later (the ledger's rows aged, the items due): the thread goes, then the post behind it.
    await sql`update private.rate_limit_ledger set at = at - interval '61 minutes' where account_id = ${acc.accountId}`;
    await sql`update public.queue_items set run_at = now() - interval '1 second' where id = any (${ids.slice(3)}::bigint[])`;
    await run();
    expect((await statusOf(ids[3])).status).toBe("posted");
    expect((await statusOf(ids[4])).status).toBe("posted");
    expect(mastodon.statusesOf(acc.username)).toHaveLength(7);
    expect(await ledgerRows(acc.accountId)).toBe(4);
  }, 60_000);

  it("a thread with more parts than the account may post in an hour fails at once, saying why; the post after it goes", async () => {
    const acc = await account(2);
    const t = tag();
    const ids = await queue(acc, [[`thread ${t} 1/3`, `thread ${t} 2/3`, `thread ${t} 3/3`], `after ${t}`]);
    await run();

    const thread = await statusOf(ids[0]);
    expect(thread.status).toBe("failed");
    expect(thread.last_error).toMatch(/3 posts.*2 an hour/);
    expect((await statusOf(ids[1])).status).toBe("posted");
    expect(mastodon.statusesOf(acc.username).map((s) => s.text)).toEqual([`after ${t}`]);
  }, 60_000);
});
