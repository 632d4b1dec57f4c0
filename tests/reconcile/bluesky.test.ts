// Reconciliation on Bluesky, which keeps no marker in a post: Pacer writes each item at a record key
// derived from its idempotency key (rkeyFor), so a run gives the connector the keys of the account's
// recently sent items and a post at one of their rkeys is recognised as that item's. Against the
// local Bluesky fake (its record is the truth) and the test stack's Postgres; runs are scoped to
// this file's workspace.
import { afterAll, beforeAll, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { connect, makeUser, type Sql } from "../support/db";
import { encryptCredentials } from "../../lib/accounts/credentials.ts";
import { createBlueskyConnector } from "../../lib/connectors/bluesky/index.ts";
import { reconcileAccounts } from "../../lib/reconcile/run.ts";
import { startBlueskyFake, type BlueskyFake } from "../../local/platforms/bluesky/index.ts";

let sql: Sql;
let fake: BlueskyFake;
beforeAll(async () => {
  sql = connect();
  fake = await startBlueskyFake({ port: 0 });
});
afterAll(async () => {
  await fake?.stop();
  await sql.end();
});

it("records a Bluesky post of an item with no posted record, found by its record key, and ignores the account's other posts", async () => {
  const connector = createBlueskyConnector({ appviewUrl: fake.url, plcUrl: fake.url, allowedHosts: ["127.0.0.1"] });
  const made = fake.createAccount({ handle: `rc${randomUUID().slice(0, 8)}.bsky.test` });
  const connection = await connector.connect({ handle: made.handle, credentials: { appPassword: made.appPassword } }, { signal: AbortSignal.timeout(5_000) });
  if (connection.kind !== "connected") throw new Error(`connect failed: ${JSON.stringify(connection)}`);
  const user = await makeUser(sql, "rc-bsky");
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted, state)
                        values (${user.workspaceId}, 'bluesky', ${made.handle}, 'Reconciled', ${await encryptCredentials(connection.credentials)}, 'active')
                        returning id`;
  const account = { id: a.id as string, platform: "bluesky", handle: made.handle, credentials: connection.credentials };

  /** An item whose one send Pacer recorded as needing review (its answer was lost), and whether the post landed. */
  async function sentItem(text: string, landed: boolean, thread: string[] = []) {
    const [p] = await sql`insert into public.posts (workspace_id, text, thread) values (${user.workspaceId}, ${text}, ${thread}) returning id`;
    const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id, status, attempts, last_error)
                          values (${user.workspaceId}, ${p.id}, ${a.id}, 'needs_review', 1, 'the answer was lost') returning id, idempotency_key`;
    await sql`insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, kind, attempt, started_at, finished_at, outcome)
              values (${q.id}, ${user.workspaceId}, ${a.id}, 'bluesky', 'post', 'publish', 1, now(), now(), 'unknown')`;
    if (landed) {
      const outcome = await connector.publish({ account, idempotencyKey: q.idempotency_key, text, mediaUrls: [] }, { signal: AbortSignal.timeout(5_000) });
      expect(outcome.kind).toBe("posted");
      return { id: Number(q.id), externalId: (outcome as { externalId: string }).externalId };
    }
    return { id: Number(q.id), externalId: null };
  }
  const landed = await sentItem("landed, answer lost", true);
  const notLanded = await sentItem("never reached the server", false);
  // The first post of a thread whose other part was never sent: verification finishes it, so
  // reconciliation must not call the item posted on the strength of its first part.
  const halfThread = await sentItem("a thread, first part", true, ["second part, never sent"]);
  // A post the account's owner made in the Bluesky app: at a record key of no item.
  await connector.publish({ account, idempotencyKey: randomUUID(), text: "written by hand", mediaUrls: [] }, { signal: AbortSignal.timeout(5_000) });
  expect(fake.posts(made.did)).toHaveLength(3);

  const run = () =>
    reconcileAccounts({ sql, connectorFor: () => connector, workspaceId: user.workspaceId, minAgeMs: 0, budgetMs: 10_000 });
  const report = await run();
  expect(report.failed).toEqual([]);
  expect(report.recorded).toEqual([{ accountId: a.id, workspaceId: user.workspaceId, queueItemId: landed.id, externalId: landed.externalId }]);
  expect(report.duplicates).toEqual([]);
  const rows = await sql`select id, status, external_id from public.queue_items where account_id = ${a.id} order by id`;
  expect(rows.map((r) => [Number(r.id), r.status, r.external_id])).toEqual([
    [landed.id, "posted", landed.externalId],
    [notLanded.id, "needs_review", null],
    [halfThread.id, "needs_review", null],
  ]);

  // A second run changes nothing.
  const again = await run();
  expect([again.recorded, again.flagged, again.duplicates]).toEqual([[], [], []]);
}, 60_000);
