// The engine knows nothing of billing: a processing run does its own housekeeping (counters, the
// ledger) and then whatever its runner passes in. Billing's grace sweep runs only when passed, only
// after a scheduled run (never a workspace's "process now"), and its failure is not the run's.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processQueue, type ProcessOptions } from "../../lib/engine/process.ts";
import { expireGracePeriods } from "../../lib/billing/grace.ts";
import type { Connector } from "../../lib/connectors/types.ts";
import { connect, makeUser, type Sql } from "../support/db";
import { subscribe } from "../support/billing";

let sql: Sql;
beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());

/** Accepts every post: this file is about what happens after the queue. */
const accepting: Connector = {
  platform: "sandbox",
  connect: async () => ({ kind: "unavailable", message: "not used" }),
  publish: async () => ({ kind: "posted", externalId: `hk-${Math.random().toString(36).slice(2)}` }),
  lookup: async () => ({ kind: "not_found" }),
  recentPosts: async () => ({ posts: [], complete: true }),
  readMetrics: async () => ({ reach: 0, engagement: 0, followers: 0, observedAt: new Date().toISOString() }),
};

const run = (extra: Partial<ProcessOptions> = {}) =>
  processQueue({ sql, worker: "housekeeping-test", connectorFor: () => accepting, budgetMs: 5_000, callTimeoutMs: 2_000, ...extra });

/** A workspace on Pro whose subscription went past_due and whose grace period ended yesterday. */
async function graceRunOut() {
  const user = await makeUser(sql, "housekeeping");
  await subscribe(sql, user.workspaceId, "pro");
  await sql`update public.subscriptions set status = 'past_due', past_due_since = now() - interval '8 days',
                                            grace_ends_at = now() - interval '1 day'
            where workspace_id = ${user.workspaceId}`;
  return user.workspaceId;
}

const planOf = async (workspaceId: string) => (await sql`select plan_id from public.workspaces where id = ${workspaceId}`)[0].plan_id as string;

describe("a processing run's housekeeping", () => {
  it("does not end a billing grace period by itself: the engine knows no billing", async () => {
    const workspaceId = await graceRunOut();
    await run();
    expect(await planOf(workspaceId)).toBe("pro");
  });

  it("runs the runner's housekeeping after a scheduled run: billing's grace sweep moves the workspace to the default plan", async () => {
    const workspaceId = await graceRunOut();
    await run({ housekeeping: expireGracePeriods });
    const [free] = await sql`select id from public.plans where is_default`;
    expect(await planOf(workspaceId)).toBe(free.id);
  });

  it("leaves it to the scheduled runs when a workspace is processed now, and logs its failure without failing the run", async () => {
    const workspaceId = await graceRunOut();
    let calls = 0;
    await run({ workspaceId, housekeeping: async () => void calls++ });
    expect(calls).toBe(0);
    expect(await planOf(workspaceId)).toBe("pro");

    const lines: string[] = [];
    const summary = await run({ housekeeping: async () => { throw new Error("sweep broke"); }, log: (l) => lines.push(l) });
    expect(summary.ms).toBeGreaterThanOrEqual(0);
    expect(lines).toContain("the runner's housekeeping failed: sweep broke");
  });
});
