// The reconcile Edge Function under Deno, through the local gateway, as pg_cron calls it (scoped to
// this test's workspace, so other files' accounts are left alone).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { connect, makeUser, type Sql } from "../support/db";
import { sandboxAccount } from "../support/sandbox.ts";

let sql: Sql;
beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());

const invoke = (secret: string | undefined, body: unknown = {}) =>
  fetch(`${process.env.SUPABASE_URL}/functions/v1/reconcile`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
    body: JSON.stringify(body),
  });

describe("the reconcile function", () => {
  it("refuses a caller without the cron secret", async () => {
    for (const secret of [undefined, "not-the-secret", process.env.SUPABASE_SECRET_KEY]) {
      const res = await invoke(secret);
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe("unauthorized");
    }
  });

  it("is scheduled hourly by the migrations", async () => {
    const [row] = await sql`select every_seconds, enabled from private.scheduled_functions where function_name = 'reconcile'`;
    expect(row).toEqual({ every_seconds: 3600, enabled: true });
  });

  it("records a post the sandbox has with Pacer's marker, and reports it", async () => {
    const user = await makeUser(sql, "rc-edge");
    const sandboxUrl = process.env.PACER_SANDBOX_URL!;
    const { handle, token, sealed } = await sandboxAccount(sandboxUrl, `rce_${randomUUID().slice(0, 8)}`);
    const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted, state)
                          values (${user.workspaceId}, 'sandbox', ${handle}, 'Edge', ${sealed}, 'active') returning id`;
    const [p] = await sql`insert into public.posts (workspace_id, text) values (${user.workspaceId}, 'lost reply') returning id`;
    const tomorrow = new Date(Date.now() + 24 * 3600_000);
    const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id, scheduled_for, run_at, status)
                          values (${user.workspaceId}, ${p.id}, ${a.id}, ${tomorrow}, ${tomorrow}, 'needs_review') returning id, idempotency_key`;
    const planted = await fetch(`${sandboxUrl}/v1/accounts/${handle}/posts`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ text: `lost reply ${handle}`, client_ref: q.idempotency_key }),
    });
    const post = await planted.json();

    const res = await invoke(process.env.PACER_CRON_SECRET, { workspaceId: user.workspaceId });
    expect(res.status).toBe(200);
    const report = await res.json();
    expect(report.accounts).toBe(1);
    expect(report.recorded).toEqual([{ accountId: a.id, workspaceId: user.workspaceId, queueItemId: Number(q.id), externalId: post.id }]);
    const [row] = await sql`select status, external_id from public.queue_items where id = ${q.id}`;
    expect(row).toEqual({ status: "posted", external_id: post.id });
  }, 60_000);
});
