// The process-queue Edge Function under Deno, through the local gateway, as pg_cron calls it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { connect, makeUser, type Sql } from "../support/db";
import { sandboxAccount } from "../support/sandbox.ts";
import { encryptCredentials } from "../../lib/accounts/credentials.ts";
import { subscribe } from "../support/billing";

let sql: Sql;
beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());

const invoke = (secret?: string) =>
  fetch(`${process.env.SUPABASE_URL}/functions/v1/process-queue`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
    body: "{}",
  });

describe("the process-queue function", () => {
  it("refuses a caller without the cron secret", async () => {
    const res = await invoke("not-the-secret");
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("unauthorized");
  });

  it("accepts only its own PACER_CRON_SECRET, not the project's secret API key", async () => {
    expect(process.env.PACER_CRON_SECRET).not.toBe(process.env.SUPABASE_SECRET_KEY);
    const res = await invoke(process.env.SUPABASE_SECRET_KEY);
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("unauthorized");
    expect((await invoke(process.env.PACER_CRON_SECRET!.slice(0, -1))).status).toBe(401);
  });

  it("is scheduled every minute by the migrations", async () => {
    const [row] = await sql`select every_seconds, enabled from private.scheduled_functions where function_name = 'process-queue'`;
    expect(row).toEqual({ every_seconds: 60, enabled: true });
  });

  it("publishes due posts to the sandbox platform", async () => {
    const user = await makeUser(sql, "edge");
    const { handle, sealed } = await sandboxAccount(process.env.PACER_SANDBOX_URL!, `edge_${randomUUID().slice(0, 8)}`);
    const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                          values (${user.workspaceId}, 'sandbox', ${handle}, 'Edge', ${sealed}) returning id`;
    const [p] = await sql`insert into public.posts (workspace_id, text) values (${user.workspaceId}, ${`from the edge ${handle}`}) returning id`;
    const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${user.workspaceId}, ${p.id}, ${a.id}) returning id`;

    const res = await invoke(process.env.PACER_CRON_SECRET);
    expect(res.status).toBe(200);
    const summary = await res.json();
    expect(summary.claimed).toBeGreaterThanOrEqual(1);
    // Under Deno the run measures its CPU (process.cpuUsage), and stayed inside the 1.5 s CPU budget.
    expect(summary.cpuClock).toBe("measured");
    expect(summary.cpuMs).toBeGreaterThan(0);
    expect(summary.cpuMs).toBeLessThan(1500);
    expect(summary.cpuBudgetReached).toBe(false);
    const [row] = await sql`select status, external_id from public.queue_items where id = ${q.id}`;
    expect(row.status).toBe("posted");
    const feed = await (await fetch(`${process.env.PACER_SANDBOX_URL}/v1/admin/posts?handle=${handle}`)).json();
    expect(JSON.stringify(feed)).toContain(row.external_id);
  }, 60_000);

  it("answers 200 with its summary when one account's connector throws, and publishes the others", async () => {
    const user = await makeUser(sql, "edge");
    const queue = async (handle: string, sealed: string) => {
      const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                            values (${user.workspaceId}, 'sandbox', ${handle}, 'Edge', ${sealed}) returning id`;
      const [p] = await sql`insert into public.posts (workspace_id, text) values (${user.workspaceId}, ${`from the edge ${handle}`}) returning id`;
      const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${user.workspaceId}, ${p.id}, ${a.id}) returning id`;
      return Number(q.id);
    };
    const good = await sandboxAccount(process.env.PACER_SANDBOX_URL!, `edge_${randomUUID().slice(0, 8)}`);
    const goodId = await queue(good.handle, good.sealed);
    // Credentials that decrypt to `null`: the sandbox connector throws a TypeError under Deno
    // (reading the token) instead of returning an outcome.
    const brokenId = await queue(`edge_${randomUUID().slice(0, 8)}`, await encryptCredentials(null as never));

    const res = await invoke(process.env.PACER_CRON_SECRET);
    expect(res.status).toBe(200);
    const summary = await res.json();
    expect(summary.byOutcome.unknown).toBeGreaterThanOrEqual(1);
    expect(summary.byOutcome.posted).toBeGreaterThanOrEqual(1);
    const status = async (id: number) => (await sql`select status from public.queue_items where id = ${id}`)[0].status;
    expect(await status(goodId)).toBe("posted");
    // Unknown, so verified before anything is sent again.
    expect(await status(brokenId)).toBe("verifying");
    const history = await sql`select kind, outcome, error_message from public.posting_history where queue_item_id = ${brokenId}`;
    expect(history.map((h) => `${h.kind}:${h.outcome}`)).toEqual(["publish:unknown"]);
    expect(history[0].error_message).toMatch(/sandbox connector failed/);
    // Out of the way of the files that run the engine after this one (it would be looked up again).
    await sql`update public.queue_items set status = 'cancelled' where id = ${brokenId}`;
  }, 60_000);

  it("ends a past-due subscription's run-out grace period on schedule (billing's housekeeping, which the function passes to the engine)", async () => {
    const user = await makeUser(sql, "edge-grace");
    await subscribe(sql, user.workspaceId, "pro");
    await sql`update public.subscriptions set status = 'past_due', past_due_since = now() - interval '8 days',
                                              grace_ends_at = now() - interval '1 day'
              where workspace_id = ${user.workspaceId}`;
    expect((await invoke(process.env.PACER_CRON_SECRET)).status).toBe(200);
    const [row] = await sql`select w.plan_id, p.is_default from public.workspaces w join public.plans p on p.id = w.plan_id
                            where w.id = ${user.workspaceId}`;
    expect(row).toEqual({ plan_id: expect.any(String), is_default: true });
  }, 60_000);
});
