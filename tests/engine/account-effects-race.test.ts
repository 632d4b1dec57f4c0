// An outcome recorded while someone pauses the account keeps the pause: record_outcomes computes the
// account's new state from the row it finally updates, not from what it read before waiting for the
// row's lock (a health pause once came back as 'active' and its posts went out).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { claimDuePosts, recordOutcomes } from "../../lib/engine/store.ts";
import { connect, makeUser, type Sql } from "../support/db";

let sql: Sql;
let other: Sql;

beforeAll(() => {
  sql = connect(2);
  other = connect(1);
});
afterAll(async () => {
  await sql.end();
  await other.end();
});

describe("record_outcomes and a concurrent pause", () => {
  it("keeps the pause a person committed while the outcome waited for the account's row", async () => {
    const user = await makeUser(sql, "effects-race");
    const [account] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, state)
                                values (${user.workspaceId}, 'sandbox', ${`race_${randomUUID().slice(0, 8)}`}, 'Race', 'active') returning id`;
    const [post] = await sql`insert into public.posts (workspace_id, text) values (${user.workspaceId}, 'race') returning id`;
    await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${user.workspaceId}, ${post.id}, ${account.id})`;
    const [item] = await claimDuePosts(sql, { worker: "race", limit: 1, leaseSeconds: 60, workspaceId: user.workspaceId });
    expect(item).toBeDefined();

    // A pause, not yet committed, holds the account's row.
    let commitPause!: () => void;
    const pausing = other.begin(async (tx) => {
      await tx`update public.social_accounts set state = 'paused', last_error = 'paused by a person' where id = ${account.id}`;
      await new Promise<void>((resolve) => (commitPause = resolve));
    });
    await new Promise((r) => setTimeout(r, 100));

    // The platform said "slow down": the outcome wants a cooldown on the account, and waits for its row.
    const now = new Date();
    const recording = recordOutcomes(sql, [
      {
        id: item.id,
        leaseId: item.leaseId,
        mode: "publish",
        attempt: 1,
        outcome: "rate_limited",
        errorMessage: "429 from the platform",
        next: { retryAt: new Date(now.getTime() + 60_000) },
        callDeadlineAt: now,
        startedAt: now,
        finishedAt: now,
        latencyMs: 1,
        worker: "race",
      },
    ]);
    await new Promise((r) => setTimeout(r, 300));
    commitPause();
    await pausing;
    const applied = await recording;
    expect(applied.get(item.id)).toBe(true);

    const [after] = await sql`select state, cooldown_until is not null as cooling, last_error from public.social_accounts where id = ${account.id}`;
    // The pause stands; the cooldown the outcome brought is applied on top of it.
    expect(after).toMatchObject({ state: "paused", cooling: true, last_error: "429 from the platform" });
  });
});
