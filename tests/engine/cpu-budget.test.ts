// A run with a CPU budget (the Edge Function's: Supabase ends a request at 2 s of CPU) stops claiming
// before the budget is spent, and still finishes and records every item it claimed: nothing is left
// leased for lease recovery, nothing is claimed that the run cannot finish.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { startSandbox, type Sandbox } from "../../local/sandbox/index.ts";
import { processQueue, type ProcessOptions } from "../../lib/engine/process.ts";
import type { Connector } from "../../lib/connectors/types.ts";
import { connect, makeUser, type Sql } from "../support/db";
import { sandboxAccounts, sandboxConnector } from "../support/sandbox.ts";

let sql: Sql;
let sandbox: Sandbox;

beforeAll(async () => {
  sql = connect(6);
  sandbox = await startSandbox({ port: 0, seed: 11 });
});
afterAll(async () => {
  await sandbox.stop();
  await sql.end();
});

/** A workspace with `accounts` sandbox accounts and `perAccount` due posts on each; returns the item ids. */
async function queued(accounts: number, perAccount: number) {
  const user = await makeUser(sql, "cpu");
  await sql`update public.workspaces set plan_id = 'ultra' where id = ${user.workspaceId}`;
  const made = await sandboxAccounts(sandbox.url, Array.from({ length: accounts }, () => `cpu_${randomUUID().slice(0, 8)}`));
  const ids: number[] = [];
  for (const { handle, sealed } of made) {
    const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                          values (${user.workspaceId}, 'sandbox', ${handle}, ${handle}, ${sealed}) returning id`;
    for (let i = 0; i < perAccount; i++) {
      const [p] = await sql`insert into public.posts (workspace_id, text) values (${user.workspaceId}, ${`post ${randomUUID()}`}) returning id`;
      const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${user.workspaceId}, ${p.id}, ${a.id}) returning id`;
      ids.push(Number(q.id));
    }
  }
  return { workspaceId: user.workspaceId, ids };
}

const statuses = async (ids: number[]) =>
  Object.fromEntries(
    (await sql`select status, count(*)::int as n from public.queue_items where id = any(${ids}) group by status`).map((r) => [r.status, r.n]),
  );
const leased = async (ids: number[]) => (await sql`select count(*)::int as n from public.queue_items where id = any(${ids}) and lease_id is not null`)[0].n;
const attempts = async (ids: number[]) => (await sql`select count(*)::int as n from public.posting_history where queue_item_id = any(${ids})`)[0].n;

// Scoped to the test's workspace ("process now"), so no other file's due items are claimed.
const run = (workspaceId: string, connector: Connector, extra: Partial<ProcessOptions>) =>
  processQueue({
    sql,
    worker: `cpu-${randomUUID().slice(0, 6)}`,
    connectorFor: () => connector,
    workspaceId,
    budgetMs: 20_000,
    concurrency: 4,
    batchSize: 4,
    ...extra,
  });

describe("a CPU budget", () => {
  it("stops claiming before a measured clock passes it, and records everything it started", async () => {
    const { workspaceId, ids } = await queued(6, 5); // 30 due items, far more than the budget covers
    // A fake CPU clock: each attempt costs 10 ms when it ends, whatever the machine.
    let cpu = 0;
    const real = sandboxConnector(sandbox.url);
    const connector: Connector = { ...real, publish: async (req, opts) => real.publish(req, opts).finally(() => (cpu += 10)) };

    const summary = await run(workspaceId, connector, { cpuBudgetMs: 100, cpuPerItemMs: 10, cpuClock: () => cpu });

    // At most 100 / 10 items, and never past the budget: what was claimed was paid for in advance.
    expect(summary.claimed).toBeGreaterThanOrEqual(4);
    expect(summary.claimed).toBeLessThanOrEqual(10);
    expect(cpu).toBeLessThanOrEqual(100);
    expect(summary.cpuMs).toBe(cpu);
    expect(summary.cpuBudgetReached).toBe(true);
    // Every claimed item published and recorded; the rest untouched, waiting for the next run.
    expect(summary.recorded).toBe(summary.claimed);
    expect(summary.byOutcome).toEqual({ posted: summary.claimed });
    expect(await statuses(ids)).toEqual({ posted: summary.claimed, pending: ids.length - summary.claimed });
    expect(await leased(ids)).toBe(0);
    expect(await attempts(ids)).toBe(summary.claimed);
  });

  it("without a CPU clock, counts each claimed item at cpuPerItemMs", async () => {
    const { workspaceId, ids } = await queued(3, 4); // 12 due items
    const summary = await run(workspaceId, sandboxConnector(sandbox.url), { cpuBudgetMs: 50, cpuPerItemMs: 10 });

    expect(summary.claimed).toBe(5);
    expect(summary.recorded).toBe(5);
    expect(summary.cpuMs).toBe(50);
    expect(summary.cpuBudgetReached).toBe(true);
    expect(await statuses(ids)).toEqual({ posted: 5, pending: 7 });
    expect(await leased(ids)).toBe(0);
  });

  it("leaves a run without one as it was: it drains the queue", async () => {
    const { workspaceId, ids } = await queued(2, 3);
    const summary = await run(workspaceId, sandboxConnector(sandbox.url), {});

    expect(summary.claimed).toBe(6);
    expect(summary.cpuMs).toBeUndefined();
    expect(summary.cpuBudgetReached).toBeUndefined();
    expect(await statuses(ids)).toEqual({ posted: 6 });
  });
});
