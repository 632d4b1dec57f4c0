// Whether a verification may send the rest of a thread (private.finish_parts_allowed, read at claim by
// lib/engine/store.ts): only to an account that may publish, and never for an item its owner cancelled.
import { afterAll, beforeAll, expect, it } from "vitest";
import { connect, makeUser, type Sql } from "../support/db";

let sql: Sql;
beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());

it("allows finishing for a publishable account only, and says why not", async () => {
  const user = await makeUser(sql, "finish-gate");
  const accounts = await sql`
    insert into public.social_accounts (workspace_id, platform, handle, display_name, state)
    values (${user.workspaceId}, 'sandbox', ${`fg_active_${user.id.slice(0, 6)}`}, 'A', 'active'),
           (${user.workspaceId}, 'sandbox', ${`fg_paused_${user.id.slice(0, 6)}`}, 'P', 'paused')
    returning id, state`;
  const [active, paused] = accounts.map((a) => a.id as string);
  const posts = await sql`insert into public.posts (workspace_id, text, thread)
                         select ${user.workspaceId}, 'first', array['second'] from generate_series(1, 3) returning id`;
  const items = await sql`
    insert into public.queue_items (workspace_id, post_id, account_id, status, attempts, cancel_requested, run_at)
    values (${user.workspaceId}, ${posts[0].id}, ${active}, 'verifying', 1, false, 'infinity'),
           (${user.workspaceId}, ${posts[1].id}, ${paused}, 'verifying', 1, false, 'infinity'),
           (${user.workspaceId}, ${posts[2].id}, ${active}, 'verifying', 1, true, 'infinity')
    returning id`;
  // (Never due: other files' claims in the shared database must not pick these up.)
  const ids = items.map((i) => Number(i.id));
  const rows = await sql.begin(async (tx) => {
    await tx`set local role pacer_worker`;
    return tx`select queue_item_id, allowed, reason from private.finish_parts_allowed(${ids}::bigint[]) order by queue_item_id`;
  });
  expect(rows.map((r) => [Number(r.queue_item_id), r.allowed, r.reason])).toEqual([
    [ids[0], true, null],
    [ids[1], false, "account paused"],
    [ids[2], false, "cancelled"],
  ]);
  // Not for the API's roles.
  const refused = await sql
    .begin(async (tx) => {
      await tx`set local role authenticated`;
      await tx`select * from private.finish_parts_allowed(${ids}::bigint[])`;
    })
    .then(() => null, (e: { code: string }) => e.code);
  expect(refused).toBe("42501");
});
