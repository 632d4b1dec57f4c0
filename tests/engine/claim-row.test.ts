// The claim's row carries everything the engine needs to send an item, so a claim is one round trip:
// the post's thread and platform options, and for verifications whether the rest of a thread may
// still be sent (a publishable account, an item not cancelled). The claim is the rule's one place.
import { afterAll, beforeAll, expect, it } from "vitest";
import type postgres from "postgres";
import { claimDuePosts } from "../../lib/engine/store.ts";
import { connect, makeUser, type Sql } from "../support/db";

let sql: Sql;
beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());

class Rollback extends Error {}

/** Queue four items in a transaction (other files' claims never see them), run `fn`, roll back. */
async function withQueue<T>(fn: (tx: postgres.TransactionSql, ids: number[]) => Promise<T>): Promise<T> {
  const user = await makeUser(sql, "claim-row");
  let result!: T;
  await sql
    .begin(async (tx) => {
      const [active, paused] = (await tx`
        insert into public.social_accounts (workspace_id, platform, handle, display_name, state)
        values (${user.workspaceId}, 'sandbox', ${`cr_a_${user.id.slice(0, 6)}`}, 'A', 'active'),
               (${user.workspaceId}, 'sandbox', ${`cr_p_${user.id.slice(0, 6)}`}, 'P', 'paused')
        returning id`).map((a) => a.id as string);
      const posts = await tx`
        insert into public.posts (workspace_id, text, thread, first_comment, platform_options)
        values (${user.workspaceId}, 'one', array['two', 'three'], null, '{"mastodon": {"visibility": "unlisted"}}'),
               (${user.workspaceId}, 'plain', '{}', null, '{}'),
               (${user.workspaceId}, 'to check', array['rest'], null, '{}'),
               (${user.workspaceId}, 'commented', '{}', 'a comment', '{}')
        returning id`;
      const items = await tx`
        insert into public.queue_items (workspace_id, post_id, account_id, status, attempts, cancel_requested, run_at)
        values (${user.workspaceId}, ${posts[0].id}, ${active}, 'pending', 0, false, now() - interval '4 seconds'),
               (${user.workspaceId}, ${posts[1].id}, ${active}, 'pending', 0, false, now() - interval '3 seconds'),
               (${user.workspaceId}, ${posts[2].id}, ${paused}, 'verifying', 1, false, now() - interval '2 seconds'),
               (${user.workspaceId}, ${posts[3].id}, ${active}, 'verifying', 1, true, now() - interval '1 second')
        returning id`;
      result = await fn(tx, items.map((i) => Number(i.id)));
      throw new Rollback();
    })
    .catch((e) => {
      if (!(e instanceof Rollback)) throw e;
    });
  return result;
}

it("returns each item's thread, options and finish gate with the claim itself", async () => {
  const { rows, ids } = await withQueue(async (tx, ids) => {
    const [{ workspace_id }] = await tx`select workspace_id from public.queue_items where id = ${ids[0]}`;
    await tx`set local role pacer_worker`;
    const rows = await tx`select id, mode, thread, platform_options, finish_allowed, finish_reason
                          from private.claim_due_posts('claim-row', 10, 60, ${workspace_id}::uuid) order by id`;
    return { rows, ids };
  });
  expect(rows.map((r) => [Number(r.id), r.mode, r.thread, r.platform_options, r.finish_allowed, r.finish_reason])).toEqual([
    [ids[0], "publish", ["two", "three"], { mastodon: { visibility: "unlisted" } }, true, null],
    [ids[1], "publish", [], {}, true, null],
    [ids[2], "verify", ["rest"], {}, false, "account paused"],
    [ids[3], "verify", [], {}, false, "cancelled"],
  ]);
});

it("gives the engine the parts, and the gate only where a verification has parts to finish", async () => {
  const { items, ids } = await withQueue(async (tx, ids) => {
    const [{ workspace_id }] = await tx`select workspace_id from public.queue_items where id = ${ids[0]}`;
    const items = await claimDuePosts(tx as unknown as Sql, { worker: "claim-row", limit: 10, leaseSeconds: 60, workspaceId: workspace_id });
    return { items, ids };
  });
  const byId = new Map(items.map((i) => [i.id, i]));
  expect(byId.size).toBe(4);
  expect(byId.get(ids[0])).toMatchObject({ mode: "publish", thread: ["two", "three"], options: { mastodon: { visibility: "unlisted" } } });
  expect(byId.get(ids[0])!.finish).toBeUndefined();
  // A single post with no options: nothing more to send.
  expect(byId.get(ids[1])!.thread).toBeUndefined();
  expect(byId.get(ids[1])!.options).toBeUndefined();
  expect(byId.get(ids[2])).toMatchObject({ mode: "verify", thread: ["rest"], finish: { allowed: false, reason: "account paused" } });
  expect(byId.get(ids[3])).toMatchObject({ mode: "verify", firstComment: "a comment", finish: { allowed: false, reason: "cancelled" } });
});
