// Webhook delivery from the worker against real receivers on loopback: signatures a receiver can
// verify with the documented snippet, backoff within 24 hours, order per post, disabling after
// persistent failure, receivers that never answer, private addresses refused at send time, and the
// events the database writes when the engine publishes, accounts pause and alerts open.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { deliverWebhooks, type DeliverOptions } from "@/lib/webhooks/deliver";
import { createEndpoint, sendTestEvent, updateEndpoint } from "@/lib/webhooks";
import { encryptCredentials } from "@/lib/accounts/credentials";
import type { UserClaims } from "@/lib/db";
import { processQueue } from "@/lib/engine/process";
import { startSandbox, type Sandbox } from "@/local/sandbox/index.ts";
import { connect, makeUser, type Sql } from "../support/db";
import { sandboxAccounts, sandboxConnector } from "../support/sandbox";
import { startReceiver, type Receiver } from "./receiver";

let sql: Sql;
let receiver: Receiver;
let verifyPacerSignature: (secret: string, header: string, body: string, toleranceSeconds?: number, nowMs?: number) => boolean;

beforeAll(async () => {
  sql = connect(6);
  receiver = await startReceiver();
  // The snippet exactly as docs/webhooks.md prints it, written to a module and imported.
  const docs = readFileSync(join(import.meta.dirname, "../../docs/webhooks.md"), "utf8");
  const snippet = [...docs.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((code) => code.includes("export function verifyPacerSignature"));
  if (!snippet) throw new Error("docs/webhooks.md has no ```js block exporting verifyPacerSignature");
  const file = join(mkdtempSync(join(tmpdir(), "pacer-webhook-doc-")), "verify-pacer-webhook.mjs");
  writeFileSync(file, snippet);
  ({ verifyPacerSignature } = await import(/* @vite-ignore */ pathToFileURL(file).href));
});
afterEach(async () => {
  await sql`delete from public.webhook_endpoints`;
  receiver.received.length = 0;
  receiver.answer = () => 204;
});
afterAll(async () => {
  await receiver?.stop();
  await sql?.end();
});

const deliver = (extra: Partial<DeliverOptions> = {}) => deliverWebhooks({ sql, budgetMs: 5_000, allowedHosts: "127.0.0.1", ...extra });

/** An admin (a workspace's owner) and an endpoint of theirs pointing at the receiver. */
async function endpoint(events: string[] = ["post.published"], url = receiver.url) {
  const user = await makeUser(sql, "hooks");
  const claims: UserClaims = { sub: user.id, role: "authenticated" };
  const made = await createEndpoint(claims, { workspaceId: user.workspaceId, url, events });
  return { claims, workspaceId: user.workspaceId, id: made.endpoint.id, secret: made.secret };
}

const delivery = async (endpointId: string) => (await sql`select * from public.webhook_deliveries where endpoint_id = ${endpointId} order by id`)[0];

/** The outbox's new events made deliveries, as the worker does before it sends. */
const fanOut = () => sql`select private.fan_out_webhook_events(1000)`;

/** An event of the workspace, as the database's triggers write them, fanned out to the endpoints subscribed to its type. */
async function event(workspaceId: string, type: string, orderKey: string | null, data: object = {}) {
  const [row] = await sql`insert into public.webhook_events (workspace_id, type, order_key, data)
                          values (${workspaceId}, ${type}, ${orderKey}, ${sql.json(data as never)}) returning id`;
  await fanOut();
  return row.id as string;
}

describe("signing", () => {
  it("signs each delivery so that the documented Node snippet verifies it, and nothing else", async () => {
    const e = await endpoint();
    const { eventId } = await sendTestEvent(e.claims, e.id);
    const summary = await deliver();
    expect(summary).toMatchObject({ claimed: 1, delivered: 1 });

    const [got] = receiver.received;
    expect(got.eventId).toBe(eventId);
    expect(got.headers["pacer-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(JSON.parse(got.body)).toMatchObject({ id: eventId, type: "ping", workspace_id: e.workspaceId });
    expect(verifyPacerSignature(e.secret, got.headers["pacer-signature"], got.body)).toBe(true);
    // A changed body, another secret, or the same delivery replayed ten minutes later: refused.
    expect(verifyPacerSignature(e.secret, got.headers["pacer-signature"], got.body.replace("ping", "pong"))).toBe(false);
    expect(verifyPacerSignature(`${e.secret}x`, got.headers["pacer-signature"], got.body)).toBe(false);
    expect(verifyPacerSignature(e.secret, got.headers["pacer-signature"], got.body, 300, Date.now() + 10 * 60_000)).toBe(false);
  });
});

describe("the runners", () => {
  it("delivers from the process-queue Edge Function (Deno) after its queue run, signed the same way", async () => {
    const e = await endpoint();
    const { eventId } = await sendTestEvent(e.claims, e.id);
    const res = await fetch(`${process.env.SUPABASE_URL}/functions/v1/process-queue`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${process.env.PACER_CRON_SECRET}` },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect((await res.json()).webhooks).toMatchObject({ delivered: 1 });
    const [got] = receiver.received;
    expect(got.eventId).toBe(eventId);
    expect(verifyPacerSignature(e.secret, got.headers["pacer-signature"], got.body)).toBe(true);
    expect((await delivery(e.id)).status).toBe("delivered");
  }, 60_000);
});

describe("retries", () => {
  it("retries a failing receiver after 1 min, 5 min, 30 min, 2 h, 5 h and 10 h, and gives up after 7 attempts in 24 hours", async () => {
    const e = await endpoint();
    receiver.answer = () => 500;
    const { eventId } = await sendTestEvent(e.claims, e.id);
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 7; attempt++) {
      expect((await deliver()).claimed, `attempt ${attempt}`).toBe(1);
      const d = await delivery(e.id);
      expect(d.attempts).toBe(attempt);
      expect(d.response_status).toBe(500);
      if (d.status === "failed") break;
      const wait = (d.next_attempt_at.getTime() - d.last_attempt_at.getTime()) / 1000;
      waits.push(wait);
      // The clock moves on by the wait: the delivery is due, and its 24 hours are that much spent.
      await sql`update public.webhook_deliveries set next_attempt_at = now(), give_up_at = give_up_at - ${wait} * interval '1 second' where id = ${d.id}`;
      // Nothing is sent before it is due.
    }
    expect(waits).toEqual([60, 300, 1800, 7200, 18000, 36000]);
    const last = await delivery(e.id);
    expect(last.status).toBe("failed");
    expect(last.attempts).toBe(7);
    expect(last.last_error).toMatch(/HTTP 500/);
    expect(receiver.received.map((r) => r.eventId)).toEqual(Array(7).fill(eventId));
    expect(receiver.received.map((r) => r.headers["pacer-delivery-attempt"])).toEqual(["1", "2", "3", "4", "5", "6", "7"]);
    expect((await deliver()).claimed).toBe(0);
  });

  it("sends nothing before a failed delivery is due again", async () => {
    const e = await endpoint();
    receiver.answer = () => 502;
    await sendTestEvent(e.claims, e.id);
    await deliver();
    receiver.answer = () => 204;
    expect((await deliver()).claimed).toBe(0);
    expect(receiver.received).toHaveLength(1);
  });

  it("counts a receiver that never answers as a failed attempt after the timeout, and moves on", async () => {
    const e = await endpoint();
    receiver.answer = () => "hang";
    await sendTestEvent(e.claims, e.id);
    const started = Date.now();
    const summary = await deliver({ timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(summary).toMatchObject({ claimed: 1, delivered: 0, retrying: 1 });
    const d = await delivery(e.id);
    expect(d).toMatchObject({ status: "pending", attempts: 1, response_status: null, lease_id: null });
    expect(d.last_error).toMatch(/No answer within 0.3 s/);
    expect(receiver.received).toHaveLength(1);
  });
});

describe("order", () => {
  it("holds a post's later event until its earlier one is delivered; other posts go on", async () => {
    const e = await endpoint(["post.published", "post.failed", "post.needs_review"]);
    const post = randomUUID();
    const other = randomUUID();
    const first = await event(e.workspaceId, "post.needs_review", post);
    const second = await event(e.workspaceId, "post.published", post);
    const unrelated = await event(e.workspaceId, "post.published", other);
    let failFirst = true;
    receiver.answer = (body) => {
      if (failFirst && JSON.parse(body).id === first) return 503;
      return 204;
    };

    await deliver();
    // The first failed and waits its minute; the second waits for it; the other post's went out.
    expect(receiver.received.map((r) => r.eventId).sort()).toEqual([first, unrelated].sort());
    const [held] = await sql`select attempts, status from public.webhook_deliveries where event_id = ${second}`;
    expect(held).toEqual({ attempts: 0, status: "pending" });

    failFirst = false;
    await sql`update public.webhook_deliveries set next_attempt_at = now() where event_id = ${first}`;
    await deliver();
    const sent = receiver.received.map((r) => r.eventId);
    expect(sent.slice(2)).toEqual([first, second]);
  });

  it("keeps each post's order and sends each delivery once with three workers at the same time", async () => {
    const e = await endpoint(["post.published", "post.failed", "post.needs_review"]);
    const posts = [randomUUID(), randomUUID(), randomUUID()];
    const sent: Record<string, string[]> = {};
    for (let i = 0; i < 5; i++) {
      for (const post of posts) (sent[post] ??= []).push(await event(e.workspaceId, "post.needs_review", post, { post, i }));
    }
    // A receiver slow enough that the workers' rounds overlap.
    receiver.answer = () => 204;
    const slow = (async (input: string | URL | Request, init?: RequestInit) => {
      await new Promise((r) => setTimeout(r, 20));
      return fetch(input, init);
    }) as typeof fetch;
    await Promise.all([deliver({ fetch: slow, batchSize: 2 }), deliver({ fetch: slow, batchSize: 2 }), deliver({ fetch: slow, batchSize: 2 })]);
    const got = receiver.received.map((r) => JSON.parse(r.body) as { id: string; data: { post: string } });
    expect(got).toHaveLength(15);
    for (const post of posts) expect(got.filter((b) => b.data.post === post).map((b) => b.id)).toEqual(sent[post]);
  });

  it("lets a post's later event go once the earlier one is given up", async () => {
    const e = await endpoint(["post.published", "post.failed"]);
    const post = randomUUID();
    const first = await event(e.workspaceId, "post.failed", post);
    const second = await event(e.workspaceId, "post.published", post);
    receiver.answer = (body) => (JSON.parse(body).id === first ? 500 : 204);
    // Its 24 hours are all but spent: this failure is its last.
    await sql`update public.webhook_deliveries set give_up_at = now() + interval '10 seconds' where event_id = ${first}`;
    await deliver();
    expect(receiver.received.map((r) => r.eventId)).toEqual([first, second]);
    const rows = await sql`select event_id, status from public.webhook_deliveries where endpoint_id = ${e.id} order by id`;
    expect(rows.map((r) => r.status)).toEqual(["failed", "delivered"]);
  });
});

describe("a stalled sender", () => {
  it("holds a post's later event while the earlier one's stalled sender may still send it: past its lease it sends nothing", async () => {
    const e = await endpoint(["post.published", "post.needs_review"]);
    const post = randomUUID();
    const first = await event(e.workspaceId, "post.needs_review", post);
    const second = await event(e.workspaceId, "post.published", post);
    // Worker A claims the first delivery and stalls before its request leaves, past its 2 s lease.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const stalling = (async (input: string | URL | Request, init?: RequestInit) => {
      await released;
      return fetch(input, init);
    }) as typeof fetch;
    const a = deliver({ fetch: stalling, leaseSeconds: 2, budgetMs: 100 });
    while ((await sql`select attempts from public.webhook_deliveries where event_id = ${first}`)[0].attempts === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Claimed by now, so its lease ends within 2 s.
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    // Worker B finds A's lease ended: it sends the first event again, then the second.
    await deliver({ leaseSeconds: 2 });
    expect(receiver.received.map((r) => r.eventId)).toEqual([first, second]);
    // A wakes up: its request must not reach the receiver after the second event.
    release();
    await a;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.received.map((r) => r.eventId)).toEqual([first, second]);
    const rows = await sql`select event_id, status, attempts from public.webhook_deliveries where endpoint_id = ${e.id} order by id`;
    expect(rows.map((r) => [r.event_id, r.status])).toEqual([[first, "delivered"], [second, "delivered"]]);
  });

  it("sends nothing once a claim's lease is spent before the request could leave, and records no attempt for it", async () => {
    const e = await endpoint(["post.published"]);
    const id = await event(e.workspaceId, "post.published", randomUUID());
    // A lease of 1 s leaves no time for a call once the safety margin is taken: nothing leaves, the
    // lease lapses and the delivery is due again as it was (no failure counted against the receiver).
    const summary = await deliver({ leaseSeconds: 1, budgetMs: 100 });
    expect(summary.claimed).toBe(1);
    expect(receiver.received).toHaveLength(0);
    const [d] = await sql`select status, last_error, response_status, last_attempt_at from public.webhook_deliveries where event_id = ${id}`;
    expect(d).toMatchObject({ status: "pending", last_error: null, response_status: null, last_attempt_at: null });
    const [ep] = await sql`select consecutive_failures from public.webhook_endpoints where id = ${e.id}`;
    expect(ep.consecutive_failures).toBe(0);
  });
});

describe("fan-out", () => {
  it("queues an event for an endpoint that was enabled when it happened, though disabled before the fan-out; it waits and goes once re-enabled", async () => {
    const e = await endpoint(["post.published"]);
    const [ev] = await sql`insert into public.webhook_events (workspace_id, type, order_key, data)
                           values (${e.workspaceId}, 'post.published', ${randomUUID()}, '{}') returning id`;
    await updateEndpoint(e.claims, e.id, { enabled: false });
    await fanOut();
    const d = await delivery(e.id);
    expect(d).toMatchObject({ event_id: ev.id, status: "pending", attempts: 0 });
    await deliver();
    expect(receiver.received).toHaveLength(0);
    await updateEndpoint(e.claims, e.id, { enabled: true });
    await deliver();
    expect(receiver.received.map((r) => r.eventId)).toEqual([ev.id]);
  });

  it("queues nothing for an endpoint that was disabled when the event happened, nor for one made after it", async () => {
    const e = await endpoint(["post.published"]);
    const off = await createEndpoint(e.claims, { workspaceId: e.workspaceId, url: receiver.url, events: ["post.published"] });
    await updateEndpoint(e.claims, off.endpoint.id, { enabled: false });
    const [ev] = await sql`insert into public.webhook_events (workspace_id, type, order_key, data, created_at)
                           values (${e.workspaceId}, 'post.published', ${randomUUID()}, '{}', now() - interval '1 second') returning id`;
    const later = await createEndpoint(e.claims, { workspaceId: e.workspaceId, url: receiver.url, events: ["post.published"] });
    await updateEndpoint(e.claims, off.endpoint.id, { enabled: true });
    await fanOut();
    const rows = await sql`select endpoint_id from public.webhook_deliveries where event_id = ${ev.id}`;
    expect(rows.map((r) => r.endpoint_id)).toEqual([e.id]);
    expect(later.endpoint.id).not.toBe(e.id);
  });
});

describe("persistent failure", () => {
  it("disables an endpoint after 20 failed attempts in a row over 24 hours, with a notice and an audit row; re-enabling resumes", async () => {
    const e = await endpoint(["post.published", "account.paused"]);
    receiver.answer = () => 500;
    await event(e.workspaceId, "post.published", randomUUID());
    await event(e.workspaceId, "account.paused", randomUUID());
    // 19 failures since yesterday; this round's failures make it 21.
    await sql`update public.webhook_endpoints set consecutive_failures = 18, failing_since = now() - interval '25 hours' where id = ${e.id}`;
    await deliver();
    const [row] = await sql`select enabled, disabled_at, disabled_reason, consecutive_failures from public.webhook_endpoints where id = ${e.id}`;
    expect(row.enabled).toBe(false);
    expect(row.consecutive_failures).toBe(20);
    expect(row.disabled_reason).toMatch(/Disabled after 20 failed attempts in a row since .* \(last: HTTP 500/);
    const audit = await sql`select action, actor_id, new_values from public.audit_log where entity = 'webhook_endpoints' and entity_id = ${e.id} and action = 'disable'`;
    expect(audit).toHaveLength(1);
    expect(audit[0].actor_id).toBeNull();

    // While disabled: nothing is sent, and new events are not queued for it.
    await sql`update public.webhook_deliveries set next_attempt_at = now() where endpoint_id = ${e.id}`;
    await event(e.workspaceId, "post.published", randomUUID());
    receiver.received.length = 0;
    expect((await deliver()).claimed).toBe(0);
    expect(receiver.received).toHaveLength(0);
    expect(await sql`select 1 from public.webhook_deliveries where endpoint_id = ${e.id}`).toHaveLength(2);

    // Re-enabled: its streak starts over and the waiting deliveries go out.
    receiver.answer = () => 204;
    const enabled = await updateEndpoint(e.claims, e.id, { enabled: true });
    expect(enabled).toMatchObject({ enabled: true, disabledReason: null, consecutiveFailures: 0 });
    expect((await deliver()).delivered).toBe(2);
  });

  it("does not disable an endpoint whose failures, however many, began less than 24 hours ago", async () => {
    const e = await endpoint();
    receiver.answer = () => 500;
    await sql`update public.webhook_endpoints set consecutive_failures = 40, failing_since = now() - interval '1 hour' where id = ${e.id}`;
    await sendTestEvent(e.claims, e.id);
    await deliver();
    const [row] = await sql`select enabled, consecutive_failures from public.webhook_endpoints where id = ${e.id}`;
    expect(row).toEqual({ enabled: true, consecutive_failures: 41 });
    // One success ends the streak.
    receiver.answer = () => 204;
    await sql`update public.webhook_deliveries set next_attempt_at = now() where endpoint_id = ${e.id}`;
    await deliver();
    const [after] = await sql`select consecutive_failures, failing_since from public.webhook_endpoints where id = ${e.id}`;
    expect(after).toEqual({ consecutive_failures: 0, failing_since: null });
  });
});

describe("the log", () => {
  it("keeps 30 days: older settled events go with their deliveries, pending ones stay", async () => {
    const e = await endpoint(["post.published"]);
    receiver.answer = () => 500;
    const old = await event(e.workspaceId, "post.published", randomUUID());
    const stuck = await event(e.workspaceId, "post.published", randomUUID());
    const recent = await event(e.workspaceId, "post.published", randomUUID());
    await sql`update public.webhook_deliveries set status = 'delivered' where event_id in (${old}, ${recent})`;
    await sql`update public.webhook_events set created_at = now() - interval '31 days' where id in (${old}, ${stuck})`;
    await deliver();
    const left = (await sql`select id from public.webhook_events where workspace_id = ${e.workspaceId}`).map((r) => r.id).sort();
    expect(left).toEqual([stuck, recent].sort());
    expect(await sql`select 1 from public.webhook_deliveries where event_id = ${old}`).toHaveLength(0);
  });
});

describe("where deliveries go", () => {
  it("refuses at send time an endpoint whose address is internal, without sending anything", async () => {
    const user = await makeUser(sql, "hooks");
    // Stored around the API's check (as a name that resolved elsewhere when saved would be).
    const [ep] = await sql`insert into public.webhook_endpoints (workspace_id, url, events, secret_sealed, secret_hint)
                           values (${user.workspaceId}, 'https://169.254.169.254/latest/meta-data', '{post.published}',
                                   ${await encryptCredentials({ secret: "whsec_test" })}, 'test') returning id`;
    await event(user.workspaceId, "post.published", randomUUID());
    const calls: string[] = [];
    const spy = (async (input: string | URL | Request) => {
      calls.push(String(input));
      return new Response(null, { status: 204 });
    }) as typeof fetch;
    await deliver({ fetch: spy });
    expect(calls).toEqual([]);
    const d = await delivery(ep.id);
    expect(d.status).toBe("pending");
    expect(d.last_error).toMatch(/^Refused: .*169\.254\.169\.254/);
  });

  it("refuses a loopback receiver at send time once the operator no longer allows it", async () => {
    const e = await endpoint();
    await sendTestEvent(e.claims, e.id);
    await deliver({ allowedHosts: "" });
    expect(receiver.received).toHaveLength(0);
    expect((await delivery(e.id)).last_error).toMatch(/^Refused: .*loopback/);
  });
});

describe("events written by the database", () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, seed: 11 });
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  async function workspaceWithAccounts(n: number) {
    const user = await makeUser(sql, "hooks");
    await sql`update public.workspaces set plan_id = 'ultra' where id = ${user.workspaceId}`;
    const ids: string[] = [];
    for (const { handle, sealed } of await sandboxAccounts(sandbox.url, Array.from({ length: n }, () => `hook_${randomUUID().slice(0, 8)}`))) {
      const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                            values (${user.workspaceId}, 'sandbox', ${handle}, ${handle}, ${sealed}) returning id`;
      ids.push(a.id);
    }
    return { user, claims: { sub: user.id, role: "authenticated" } as UserClaims, accountIds: ids };
  }

  it("writes exactly one post.published per queue item the engine publishes, delivered with the item's outcome", async () => {
    const w = await workspaceWithAccounts(2);
    const made = await createEndpoint(w.claims, { workspaceId: w.user.workspaceId, url: receiver.url, events: ["post.published", "post.failed"] });
    const items: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [p] = await sql`insert into public.posts (workspace_id, text) values (${w.user.workspaceId}, ${`hook post ${randomUUID()}`}) returning id`;
      for (const accountId of w.accountIds) {
        const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${w.user.workspaceId}, ${p.id}, ${accountId}) returning id`;
        items.push(Number(q.id));
      }
    }
    const connector = sandboxConnector(sandbox.url);
    await processQueue({ sql, worker: "hooks-test", connectorFor: () => connector, budgetMs: 10_000, callTimeoutMs: 2_000, workspaceId: w.user.workspaceId });
    const posted = await sql`select id, external_id from public.queue_items where id = any(${items}) and status = 'posted'`;
    expect(posted).toHaveLength(6);
    // Nothing left the process while the engine ran: the worker sends.
    expect(receiver.received).toHaveLength(0);

    const events = await sql`select type, (data->>'queue_item_id')::bigint as item, data->>'external_id' as external_id
                             from public.webhook_events where workspace_id = ${w.user.workspaceId} order by item`;
    expect(events.map((e) => [e.type, Number(e.item)])).toEqual(items.map((id) => ["post.published", id]));
    expect(Object.fromEntries(events.map((e) => [Number(e.item), e.external_id]))).toEqual(Object.fromEntries(posted.map((p) => [Number(p.id), p.external_id])));

    // Running the engine again, or a later change to a posted item (reconciliation filling in its URL), writes nothing more.
    await processQueue({ sql, worker: "hooks-test", connectorFor: () => connector, budgetMs: 2_000, workspaceId: w.user.workspaceId });
    await sql`update public.queue_items set external_url = coalesce(external_url, 'https://sandbox.example/p') where id = any(${items})`;
    expect(await sql`select 1 from public.webhook_events where workspace_id = ${w.user.workspaceId}`).toHaveLength(6);

    await deliver();
    const got = receiver.received.map((r) => JSON.parse(r.body));
    expect(got.map((b) => b.data.queue_item_id).sort((a, b) => a - b)).toEqual(items);
    expect(new Set(got.map((b) => b.id)).size).toBe(6);
    expect(got.every((b) => b.type === "post.published" && b.data.status === "posted" && b.data.account.platform === "sandbox")).toBe(true);
    expect((await sql`select count(*)::int as n from public.webhook_deliveries where endpoint_id = ${made.endpoint.id} and status = 'delivered'`)[0].n).toBe(6);
  });

  it("writes nothing for a workspace without a subscribed endpoint", async () => {
    const w = await workspaceWithAccounts(1);
    await createEndpoint(w.claims, { workspaceId: w.user.workspaceId, url: receiver.url, events: ["account.paused"] });
    const [p] = await sql`insert into public.posts (workspace_id, text) values (${w.user.workspaceId}, 'unwatched') returning id`;
    await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${w.user.workspaceId}, ${p.id}, ${w.accountIds[0]})`;
    const connector = sandboxConnector(sandbox.url);
    await processQueue({ sql, worker: "hooks-test", connectorFor: () => connector, budgetMs: 10_000, callTimeoutMs: 2_000, workspaceId: w.user.workspaceId });
    expect(await sql`select 1 from public.queue_items where post_id = ${p.id} and status = 'posted'`).toHaveLength(1);
    expect(await sql`select 1 from public.webhook_events where workspace_id = ${w.user.workspaceId}`).toHaveLength(0);
  });

  it("writes account.paused and account.resumed when an account stops and starts publishing, and account.health_alert when an alert opens", async () => {
    const w = await workspaceWithAccounts(1);
    await createEndpoint(w.claims, { workspaceId: w.user.workspaceId, url: receiver.url, events: ["account.paused", "account.resumed", "account.health_alert"] });
    const account = w.accountIds[0];
    await sql`update public.social_accounts set state = 'active' where id = ${account}`;
    await sql`update public.social_accounts set health_score = 40 where id = ${account}`;
    await sql`update public.social_accounts set state = 'paused', paused_reason = 'manual', state_before_pause = 'active' where id = ${account}`;
    await sql`update public.social_accounts set state = 'restricted' where id = ${account}`;
    await sql`update public.social_accounts set state = 'active', paused_reason = null where id = ${account}`;
    const [rule] = await sql`select id from public.health_rules limit 1`;
    await sql`insert into public.health_alerts (workspace_id, account_id, rule_id, severity, threshold, clear_threshold, message, advice)
              values (${w.user.workspaceId}, ${account}, ${rule.id}, 'warning', 50, 30, 'Reach fell by 60%.', 'Post less for a while.')`;
    const events = await sql`select type, data from public.webhook_events where workspace_id = ${w.user.workspaceId} order by seq`;
    await fanOut();
    const types = (await sql`select event_type from public.webhook_deliveries where workspace_id = ${w.user.workspaceId} order by id`).map((d) => d.event_type);
    expect(types).toEqual(["account.paused", "account.resumed", "account.health_alert"]);
    expect(events).toHaveLength(3);
    const paused = events.find((e) => e.type === "account.paused")!;
    expect(paused.data).toMatchObject({ state: "paused", previous_state: "active", paused_reason: "manual", account: { id: account, platform: "sandbox" } });
    expect(events.find((e) => e.type === "account.health_alert")!.data).toMatchObject({ severity: "warning", message: "Reach fell by 60%." });
  });
});
