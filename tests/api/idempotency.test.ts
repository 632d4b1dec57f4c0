// Idempotency-Key on POST /api/queue/add and /bulk-post, with Stripe's semantics: a retry with the
// same key and body gets the first response again and queues nothing more; another body is refused;
// a retry while the first is still running is told so; the key and the posts commit together.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import * as addRoute from "@/app/api/queue/add/route";
import * as bulkRoute from "@/app/api/queue/bulk-post/route";
import { connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";

type Handler = (req: Request, ctx: any) => Promise<Response>;
const TOMORROW = () => new Date(Date.now() + 24 * 3600_000).toISOString();

let sql: Sql;
beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());

function post(handler: Handler, user: TestUser, body: unknown, key?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${user.accessToken}`, "content-type": "application/json" };
  if (key !== undefined) headers["idempotency-key"] = key;
  const request = new Request("http://127.0.0.1:3000/api/queue", { method: "POST", headers, body: JSON.stringify(body) });
  return handler(request, { params: Promise.resolve({}) });
}

/** A user whose workspace is on the Starter plan (bulk import included), with `n` sandbox accounts. */
async function tenant(label: string, n: number) {
  const user = await signUp(label);
  const [m] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
  const workspaceId = m.workspace_id as string;
  const customer = `cus_${randomUUID().slice(0, 12)}`;
  await sql`select private.record_billing_customer(${workspaceId}, ${customer})`;
  await sql`select private.apply_subscription(${`sub_${randomUUID().slice(0, 12)}`}, ${workspaceId}, ${customer}, 'active',
                                              'starter', 'pacer_starter_monthly', now() + interval '30 days', false)`;
  const accounts: string[] = [];
  for (let i = 0; i < n; i++) {
    const handle = `idem_${randomUUID().slice(0, 10)}`;
    const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                          values (${workspaceId}, 'sandbox', ${handle}, ${handle}) returning id`;
    accounts.push(a.id);
  }
  return { user, workspaceId, accounts };
}

const queued = async (workspaceId: string) =>
  Number((await sql`select count(*) from public.queue_items where workspace_id = ${workspaceId}`)[0].count);

describe("an Idempotency-Key on bulk-post", () => {
  it("makes a retried 10,000-post bulk queue 10,000 posts, not 20,000, and replays the first response", async () => {
    const { user, workspaceId, accounts } = await tenant("idem-bulk", 10);
    const body = {
      items: Array.from({ length: 10_000 }, (_, i) => ({ text: `Bulk ${i}`, accountId: accounts[i % 10], scheduledFor: TOMORROW() })),
    };
    const key = randomUUID();
    const first = await post(bulkRoute.POST, user, body, key);
    expect(first.status).toBe(201);
    const firstText = await first.text();
    expect(JSON.parse(firstText)).toMatchObject({ dryRun: false, posts: 10_000, items: 10_000 });
    expect(first.headers.get("idempotent-replayed")).toBeNull();

    // The client timed out and sends the very same request again.
    const retry = await post(bulkRoute.POST, user, body, key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(await retry.text()).toBe(firstText);
    expect(await queued(workspaceId)).toBe(10_000);
  }, 120_000);

  it("without a key, queues again (the header is what makes a retry safe)", async () => {
    const { user, workspaceId, accounts } = await tenant("idem-nokey", 1);
    const body = { items: [{ text: "twice", accountId: accounts[0], scheduledFor: TOMORROW() }] };
    expect((await post(bulkRoute.POST, user, body)).status).toBe(201);
    expect((await post(bulkRoute.POST, user, body)).status).toBe(201);
    expect(await queued(workspaceId)).toBe(2);
  });

  it("answers 409 while a request with the key is still running, then the stored response", async () => {
    const { user, workspaceId, accounts } = await tenant("idem-inflight", 1);
    const body = { items: [{ text: "in flight", accountId: accounts[0], scheduledFor: TOMORROW() }] };
    const key = randomUUID();
    // Hold the lock the first request's transaction holds while it runs.
    const held = await sql.reserve();
    try {
      await held`select pg_advisory_lock(hashtextextended(${`pacer:idempotency:${user.id}:${key}`}, 0))`;
      const res = await post(bulkRoute.POST, user, body, key);
      expect(res.status).toBe(409);
      expect(res.headers.get("retry-after")).toBe("1");
      expect((await res.json()).error.code).toBe("idempotency_key_in_use");
      expect(await queued(workspaceId)).toBe(0);
    } finally {
      await held`select pg_advisory_unlock_all()`;
      held.release();
    }
    expect((await post(bulkRoute.POST, user, body, key)).status).toBe(201);
    expect(await queued(workspaceId)).toBe(1);
  });

  it("queues once when the same request races itself", async () => {
    const { user, workspaceId, accounts } = await tenant("idem-race", 2);
    const body = { items: Array.from({ length: 2000 }, (_, i) => ({ text: `race ${i}`, accountId: accounts[i % 2], scheduledFor: TOMORROW() })) };
    const key = randomUUID();
    const statuses = (await Promise.all([1, 2, 3].map(() => post(bulkRoute.POST, user, body, key)))).map((r) => r.status);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(await queued(workspaceId)).toBe(2000);
  });
});

describe("an Idempotency-Key on add", () => {
  it("refuses the same key with another body (422), queuing nothing more", async () => {
    const { user, workspaceId, accounts } = await tenant("idem-other", 1);
    const key = randomUUID();
    const body = { text: "first", accountIds: [accounts[0]], scheduledFor: TOMORROW() };
    expect((await post(addRoute.POST, user, body, key)).status).toBe(201);
    const res = await post(addRoute.POST, user, { ...body, text: "second" }, key);
    expect(res.status).toBe(422);
    const { error } = await res.json();
    expect(error.code).toBe("idempotency_key_reused");
    expect(error.message).toContain("different body");
    expect(await queued(workspaceId)).toBe(1);
  });

  it("treats a body with its keys in another order as the same body", async () => {
    const { user, workspaceId, accounts } = await tenant("idem-order", 1);
    const key = randomUUID();
    const scheduledFor = TOMORROW();
    expect((await post(addRoute.POST, user, { text: "same", accountIds: [accounts[0]], scheduledFor }, key)).status).toBe(201);
    const again = await post(addRoute.POST, user, { scheduledFor, accountIds: [accounts[0]], text: "same" }, key);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await queued(workspaceId)).toBe(1);
  });

  it("refuses a key first used on the other route", async () => {
    const { user, accounts } = await tenant("idem-route", 1);
    const key = randomUUID();
    const bulk = { items: [{ text: "x", accountId: accounts[0], scheduledFor: TOMORROW() }] };
    expect((await post(bulkRoute.POST, user, bulk, key)).status).toBe(201);
    const res = await post(addRoute.POST, user, { text: "x", accountIds: [accounts[0]] }, key);
    expect(res.status).toBe(422);
    expect((await res.json()).error.message).toContain("POST /api/queue/bulk-post");
  });

  it("stores nothing for a request that failed, so a corrected retry with the key runs", async () => {
    const { user, workspaceId, accounts } = await tenant("idem-failed", 1);
    const key = randomUUID();
    const bad = await post(addRoute.POST, user, { text: "x", accountIds: [randomUUID()] }, key);
    expect(bad.status).toBe(400);
    const [row] = await sql`select 1 from private.idempotency_keys where user_id = ${user.id} and key = ${key}`;
    expect(row).toBeUndefined();
    expect((await post(addRoute.POST, user, { text: "x", accountIds: [accounts[0]], scheduledFor: TOMORROW() }, key)).status).toBe(201);
    expect(await queued(workspaceId)).toBe(1);
  });

  it("keeps the key and the posts together: when the key cannot be stored, no post is queued", async () => {
    const { user, workspaceId, accounts } = await tenant("idem-atomic", 1);
    const key = `fail-${randomUUID()}`;
    // Stands in for a crash between queuing the posts and storing the key.
    await sql.unsafe(`
      create or replace function public.pacer_test_fail_key() returns trigger language plpgsql as $$
      begin
        if new.key = '${key}' then raise exception 'the database went away'; end if;
        return new;
      end $$;
      create trigger pacer_test_fail_key before insert on private.idempotency_keys
        for each row execute function public.pacer_test_fail_key();`);
    try {
      const res = await post(addRoute.POST, user, { text: "atomic", accountIds: [accounts[0]], scheduledFor: TOMORROW() }, key);
      expect(res.status).toBe(500);
      expect(await queued(workspaceId)).toBe(0);
    } finally {
      await sql.unsafe(`drop trigger pacer_test_fail_key on private.idempotency_keys; drop function public.pacer_test_fail_key();`);
    }
    expect((await post(addRoute.POST, user, { text: "atomic", accountIds: [accounts[0]], scheduledFor: TOMORROW() }, key)).status).toBe(201);
    expect(await queued(workspaceId)).toBe(1);
  });

  it("scopes keys per user: another user's same key is their own", async () => {
    const a = await tenant("idem-a", 1);
    const b = await tenant("idem-b", 1);
    const key = randomUUID();
    expect((await post(addRoute.POST, a.user, { text: "mine", accountIds: [a.accounts[0]], scheduledFor: TOMORROW() }, key)).status).toBe(201);
    const theirs = await post(addRoute.POST, b.user, { text: "mine", accountIds: [b.accounts[0]], scheduledFor: TOMORROW() }, key);
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get("idempotent-replayed")).toBeNull();
    expect([await queued(a.workspaceId), await queued(b.workspaceId)]).toEqual([1, 1]);
  });

  it("forgets a key after 24 hours, and prunes expired keys", async () => {
    const { user, workspaceId, accounts } = await tenant("idem-expiry", 1);
    const key = randomUUID();
    const body = { text: "daily", accountIds: [accounts[0]], scheduledFor: TOMORROW() };
    expect((await post(addRoute.POST, user, body, key)).status).toBe(201);
    await sql`insert into private.idempotency_keys (user_id, key, request, request_hash, response_status, response_body, created_at)
              values (${user.id}, 'stale-one', 'POST /api/queue/add', ${"0".repeat(64)}, 201, '{}', now() - interval '25 hours')`;
    await sql`update private.idempotency_keys set created_at = now() - interval '25 hours' where user_id = ${user.id} and key = ${key}`;
    const later = await post(addRoute.POST, user, { ...body, text: "a new day" }, key);
    expect(later.status).toBe(201);
    expect(later.headers.get("idempotent-replayed")).toBeNull();
    expect(await queued(workspaceId)).toBe(2);
    const left = await sql`select key from private.idempotency_keys where user_id = ${user.id}`;
    expect(left.map((r) => r.key)).toEqual([key]);
  });

  it("refuses a key that cannot be one (400)", async () => {
    const { user, accounts } = await tenant("idem-badkey", 1);
    for (const key of ["", "has space", "x".repeat(256), "naïve"]) {
      const res = await post(addRoute.POST, user, { text: "x", accountIds: [accounts[0]] }, key);
      expect(res.status, key).toBe(400);
      expect((await res.json()).error.code).toBe("invalid_idempotency_key");
    }
  });
});
