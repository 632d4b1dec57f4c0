// A Mastodon thread that ended in needs_review with its post live, retried by a person after the
// Idempotency-Key's hour: the retry must finish the thread (send only the missing parts), never post
// it again. The post's id is recorded whenever Pacer learns it (the publish that posted it, the
// verification that found it), and a retry of an item whose post is recorded goes to verification.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { processQueue } from "../../lib/engine/process.ts";
import { connectorFor } from "../../lib/connectors/registry.ts";
import { createMastodonConnector } from "../../lib/connectors/mastodon/index.ts";
import { encryptCredentials } from "../../lib/accounts/credentials.ts";
import type { Connector } from "../../lib/connectors/types.ts";
import { startMastodonFake, type MastodonFake } from "../../local/platforms/mastodon/index.ts";
import { asOwner, startPrivateDatabase, makeWorkspace, type PrivateDatabase } from "../chaos/database.ts";
import type { Sql } from "../support/db";

// A database of its own: every run here claims whatever is due in it.
let db: PrivateDatabase;
let sql: Sql;
let mastodon: MastodonFake;
const env = { PACER_CONNECTORS: "mastodon", PACER_ALLOWED_HOSTS: "127.0.0.1" };

beforeAll(async () => {
  db = await startPrivateDatabase("thread-retry");
  sql = db.sql;
  await sql`update public.platforms set verify_margin_ms = 200, verify_confirm_ms = 300 where id = 'mastodon'`;
  await sql`update public.rate_limit_policies set min_gap_ms = 0 where platform = 'mastodon'`;
  mastodon = await startMastodonFake({ port: 0 });
});
afterAll(async () => {
  await mastodon?.stop();
  await db?.stop();
});

/** The engine as the workers run it; `verifyRetryMs: []` sends an unsettled verification to a person at once. */
const run = (connector: Connector, verifyRetryMs = [100, 100]) =>
  processQueue({
    sql,
    worker: `retry-${randomUUID().slice(0, 6)}`,
    connectorFor: () => connector,
    budgetMs: 8_000,
    callTimeoutMs: 2_000,
    leaseSeconds: 30,
    verifyRetryMs,
    retry: { baseMs: 20, factor: 2, maxRetries: 3, jitter: 0 },
  });

const itemOf = async (id: number) => (await sql`select status, external_id, run_at from public.queue_items where id = ${id}`)[0];
async function untilDue(id: number) {
  const dueAt = (await itemOf(id)).run_at.getTime();
  await new Promise((r) => setTimeout(r, Math.max(0, Math.min(dueAt - Date.now(), 5_000)) + 50));
}

/** A Mastodon user of Pacer's app, connected as the connect flow stores it, with a thread of 3 queued. */
async function queuedThread() {
  const username = `m${randomUUID().replace(/-/g, "").slice(0, 10)}`;
  const user = mastodon.createUser(username);
  const app = mastodon.state.registerApp({ name: "Pacer", website: null, redirect_uris: ["urn:ietf:wg:oauth:2.0:oob"], scopes: ["read", "write:statuses", "write:media"] });
  const token = mastodon.state.issueToken(user.id, app.client_id, ["read", "write:statuses", "write:media"]).token;
  const connection = await connectorFor("mastodon", env).connect({ handle: username, credentials: { instance: mastodon.url, accessToken: token } }, { signal: AbortSignal.timeout(5_000) });
  if (connection.kind !== "connected") throw new Error(`could not connect @${username}`);
  const { workspaceId, ownerId } = await makeWorkspace(sql, "thread-retry");
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                        values (${workspaceId}, 'mastodon', ${username}, ${username}, ${await encryptCredentials(connection.credentials)}) returning id`;
  const text = `thread ${randomUUID()}`;
  const thread = [`${text} 2/3`, `${text} 3/3`];
  const [p] = await sql`insert into public.posts (workspace_id, text, thread) values (${workspaceId}, ${text}, ${thread}) returning id`;
  const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${workspaceId}, ${p.id}, ${a.id}) returning id`;
  return { username, accountId: a.id as string, workspaceId, ownerId, id: Number(q.id), texts: [text, ...thread] };
}

/** A connector whose second status creation (the thread's part 2) is reset before the instance stores it. */
function partTwoLost(username: string): Connector {
  let creates = 0;
  const publishFetch: typeof fetch = (input, init) => {
    if (init?.method === "POST" && String(input).endsWith("/api/v1/statuses") && ++creates === 2) mastodon.nextFault(username, { kind: "reset_before_commit" });
    return fetch(input, init);
  };
  return createMastodonConnector({ allowedHosts: "127.0.0.1", publishFetch, appName: "Pacer" });
}

const retry = (t: { ownerId: string; workspaceId: string; id: number }) =>
  asOwner(sql, t.ownerId, (tx) => tx`select private.retry_queue_items(${t.workspaceId}, ${[t.id]}::bigint[]) as n`);

/** The thread on the instance: every part once, each replying to the one before. */
function expectThreadOnce(username: string, texts: string[]) {
  const statuses = mastodon.statusesOf(username).filter((s) => !s.deleted);
  expect(statuses.map((s) => s.text)).toEqual(texts);
  statuses.forEach((s, i) => expect(s.in_reply_to_id).toBe(i === 0 ? null : statuses[i - 1].id));
  return statuses[0].id;
}

async function runUntilSettled(id: number, connector: Connector) {
  for (let i = 0; i < 6 && !["posted", "failed", "needs_review"].includes((await itemOf(id)).status); i++) {
    await untilDue(id);
    await run(connector);
  }
}

describe("retrying a needs_review Mastodon thread whose post is live, after the Idempotency-Key's hour", () => {
  it("found by a verification that could not finish it (the account was paused): the retry finishes the thread", async () => {
    const t = await queuedThread();
    await run(partTwoLost(t.username));
    expect((await itemOf(t.id)).status).toBe("verifying");
    expect(mastodon.statusesOf(t.username)).toHaveLength(1);

    // Paused before the verification: it finds the post but may not send the rest; a person decides.
    await sql`update public.social_accounts set state = 'paused' where id = ${t.accountId}`;
    await untilDue(t.id);
    const normal = connectorFor("mastodon", env);
    await run(normal, []);
    const review = await itemOf(t.id);
    expect(review.status).toBe("needs_review");
    const root = mastodon.statusesOf(t.username)[0].id;
    expect(review.external_id).toBe(root);

    // Resumed, and retried two hours later: every Idempotency-Key of the thread is forgotten.
    await sql`update public.social_accounts set state = 'active' where id = ${t.accountId}`;
    mastodon.advanceClock(2 * 3_600_000);
    await retry(t);
    expect((await itemOf(t.id)).status).toBe("verifying");
    await runUntilSettled(t.id, normal);

    expect(await itemOf(t.id)).toMatchObject({ status: "posted", external_id: root });
    expect(expectThreadOnce(t.username, t.texts)).toBe(root);
  }, 60_000);

  it("never verified (the instance could not be read): the post's id from the publish lets the retry find it", async () => {
    const t = await queuedThread();
    await run(partTwoLost(t.username));
    const root = mastodon.statusesOf(t.username)[0].id;
    // The publish knew the post was live: its id is on record before any lookup.
    expect(await itemOf(t.id)).toMatchObject({ status: "verifying", external_id: root });

    // Every lookup unanswered: a person decides.
    const normal = connectorFor("mastodon", env);
    const unreadable: Connector = { ...normal, postsInParts: true, lookup: async () => ({ kind: "unavailable", message: "instance down" }) };
    await untilDue(t.id);
    await run(unreadable, []);
    expect((await itemOf(t.id)).status).toBe("needs_review");

    mastodon.advanceClock(2 * 3_600_000);
    await retry(t);
    await runUntilSettled(t.id, normal);

    expect(await itemOf(t.id)).toMatchObject({ status: "posted", external_id: root });
    expect(expectThreadOnce(t.username, t.texts)).toBe(root);
  }, 60_000);

  it("an item with no post on record is still sent again by a retry (a person found none)", async () => {
    const t = await queuedThread();
    // Nothing reached the instance: the first status creation is reset before it is stored.
    let creates = 0;
    const firstLost = createMastodonConnector({
      allowedHosts: "127.0.0.1",
      appName: "Pacer",
      publishFetch: (input, init) => {
        if (init?.method === "POST" && String(input).endsWith("/api/v1/statuses") && ++creates === 1) mastodon.nextFault(t.username, { kind: "reset_before_commit" });
        return fetch(input, init);
      },
    });
    await run(firstLost);
    const normal = connectorFor("mastodon", env);
    const unreadable: Connector = { ...normal, postsInParts: true, lookup: async () => ({ kind: "unavailable", message: "instance down" }) };
    await untilDue(t.id);
    await run(unreadable, []);
    expect(await itemOf(t.id)).toMatchObject({ status: "needs_review", external_id: null });

    await retry(t);
    expect((await itemOf(t.id)).status).toBe("pending");
    await runUntilSettled(t.id, normal);
    expect((await itemOf(t.id)).status).toBe("posted");
    expectThreadOnce(t.username, t.texts);
  }, 60_000);
});
