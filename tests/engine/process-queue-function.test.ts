// The process-queue Edge Function under Deno, through the local gateway, as pg_cron calls it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { connect, makeUser, type Sql } from "../support/db";
import { sandboxAccount } from "../support/sandbox.ts";

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
    expect((await res.json()).claimed).toBeGreaterThanOrEqual(1);
    const [row] = await sql`select status, external_id from public.queue_items where id = ${q.id}`;
    expect(row.status).toBe("posted");
    const feed = await (await fetch(`${process.env.PACER_SANDBOX_URL}/v1/admin/posts?handle=${handle}`)).json();
    expect(JSON.stringify(feed)).toContain(row.external_id);
  }, 60_000);
});
