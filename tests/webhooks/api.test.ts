// The webhooks API through the real route handlers with real tokens: who may touch endpoints (the
// attacker first: another workspace, weaker roles, the table straight from supabase-js), where they
// may point, the secret shown once, and the delivery log's retry-now.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as listRoute from "@/app/api/webhooks/route";
import * as endpointRoute from "@/app/api/webhooks/[id]/route";
import * as rotateRoute from "@/app/api/webhooks/[id]/rotate-secret/route";
import * as deliveriesRoute from "@/app/api/webhooks/[id]/deliveries/route";
import * as testRoute from "@/app/api/webhooks/[id]/test/route";
import * as retryRoute from "@/app/api/webhooks/deliveries/[id]/retry/route";
import { decryptCredentials } from "@/lib/accounts/credentials";
import { deliverWebhooks } from "@/lib/webhooks/deliver";
import { asUser, connect, errorOf, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";
import { startReceiver, type Receiver } from "./receiver";

const BASE = "http://127.0.0.1:3000";
let sql: Sql;
let receiver: Receiver;

beforeAll(async () => {
  sql = connect();
  receiver = await startReceiver();
});
afterEach(async () => {
  // Every test's endpoints go, so no later delivery round sends to them.
  await sql`delete from public.webhook_endpoints`;
  receiver.received.length = 0;
  receiver.answer = () => 204;
});
afterAll(async () => {
  await receiver?.stop();
  await sql?.end();
});

type Handler = (req: Request, ctx: any) => Promise<Response>;
async function call(handler: Handler, method: string, user: TestUser | null, opts: { body?: unknown; id?: string; query?: string } = {}) {
  const headers = new Headers();
  if (user) headers.set("authorization", `Bearer ${user.accessToken}`);
  if (opts.body !== undefined) headers.set("content-type", "application/json");
  const req = new Request(`${BASE}/api/webhooks${opts.query ?? ""}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const res = await handler(req, { params: Promise.resolve({ id: opts.id ?? "" }) });
  return { status: res.status, body: await res.json() };
}

/** A workspace (its owner's personal one) with an admin, an editor and a viewer, and an outsider. */
async function world() {
  const [owner, admin, editor, viewer, outsider] = await Promise.all(["owner", "admin", "editor", "viewer", "outsider"].map((l) => signUp(l)));
  const [ws] = await sql`select workspace_id from public.workspace_members where user_id = ${owner.id}`;
  const workspaceId = ws.workspace_id as string;
  for (const [user, role] of [[admin, "admin"], [editor, "editor"], [viewer, "viewer"]] as const) {
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${workspaceId}, ${user.id}, ${role})`;
  }
  return { workspaceId, owner, admin, editor, viewer, outsider };
}

const create = (user: TestUser, workspaceId: string, extra: Record<string, unknown> = {}) =>
  call(listRoute.POST, "POST", user, { body: { workspaceId, url: receiver.url, events: ["post.published"], ...extra } });

describe("who may touch a workspace's webhooks", () => {
  it("answers 401 on every route without a session", async () => {
    for (const [handler, method] of [
      [listRoute.GET, "GET"], [listRoute.POST, "POST"], [endpointRoute.PATCH, "PATCH"], [endpointRoute.DELETE, "DELETE"],
      [rotateRoute.POST, "POST"], [deliveriesRoute.GET, "GET"], [testRoute.POST, "POST"], [retryRoute.POST, "POST"],
    ] as const) {
      expect((await call(handler, method, null, { body: method === "GET" ? undefined : {} })).status, `${method} ${handler.name}`).toBe(401);
    }
  });

  it("refuses editors and viewers every route, and stores nothing", async () => {
    const w = await world();
    for (const user of [w.editor, w.viewer]) {
      const made = await create(user, w.workspaceId);
      expect(made.status).toBe(403);
      expect(made.body.error.message).toMatch(/admins and owners/);
      expect((await call(listRoute.GET, "GET", user, { query: `?workspaceId=${w.workspaceId}` })).status).toBe(403);
    }
    expect(await sql`select 1 from public.webhook_endpoints where workspace_id = ${w.workspaceId}`).toHaveLength(0);

    const { body } = await create(w.admin, w.workspaceId);
    const id = body.endpoint.id;
    for (const user of [w.editor, w.viewer]) {
      expect((await call(endpointRoute.PATCH, "PATCH", user, { id, body: { enabled: false } })).status).toBe(403);
      expect((await call(endpointRoute.DELETE, "DELETE", user, { id })).status).toBe(403);
      expect((await call(rotateRoute.POST, "POST", user, { id })).status).toBe(403);
      expect((await call(deliveriesRoute.GET, "GET", user, { id })).status).toBe(403);
      expect((await call(testRoute.POST, "POST", user, { id })).status).toBe(403);
    }
    const [row] = await sql`select enabled, secret_sealed from public.webhook_endpoints where id = ${id}`;
    expect(row.enabled).toBe(true);
    expect((await decryptCredentials(row.secret_sealed)).secret).toBe(body.secret);
  });

  it("answers another workspace's admin as if the endpoint did not exist", async () => {
    const w = await world();
    const { body } = await create(w.owner, w.workspaceId);
    const id = body.endpoint.id;
    await sql`insert into public.webhook_events (workspace_id, type, endpoint_id, data) values (${w.workspaceId}, 'ping', ${id}, '{}')`;
    await sql`select private.fan_out_webhook_events(1000)`;
    const [delivery] = await sql`select id from public.webhook_deliveries where endpoint_id = ${id}`;

    // The outsider owns a workspace of their own: being an admin somewhere is not enough.
    expect((await create(w.outsider, w.workspaceId)).status).toBe(404);
    expect((await call(listRoute.GET, "GET", w.outsider, { query: `?workspaceId=${w.workspaceId}` })).status).toBe(404);
    expect((await call(endpointRoute.PATCH, "PATCH", w.outsider, { id, body: { url: "https://attacker.example/x" } })).status).toBe(404);
    expect((await call(endpointRoute.DELETE, "DELETE", w.outsider, { id })).status).toBe(404);
    expect((await call(rotateRoute.POST, "POST", w.outsider, { id })).status).toBe(404);
    expect((await call(deliveriesRoute.GET, "GET", w.outsider, { id })).status).toBe(404);
    expect((await call(testRoute.POST, "POST", w.outsider, { id })).status).toBe(404);
    expect((await call(retryRoute.POST, "POST", w.outsider, { id: String(delivery.id) })).status).toBe(404);
    // Their own list shows none of it.
    const own = await call(listRoute.GET, "GET", w.outsider);
    expect(own.status).toBe(200);
    expect(own.body.endpoints).toEqual([]);

    const [row] = await sql`select url, secret_hint from public.webhook_endpoints where id = ${id}`;
    expect(row.url).toBe(receiver.url);
    expect(row.secret_hint).toBe(body.endpoint.secretHint);
  });

  it("lets no signed-in user read the sealed secret or write the tables directly, and shows weaker roles nothing", async () => {
    const w = await world();
    const { body } = await create(w.owner, w.workspaceId);
    const id = body.endpoint.id;
    await sql`insert into public.webhook_events (workspace_id, type, endpoint_id, data) values (${w.workspaceId}, 'ping', ${id}, '{}')`;
    await sql`select private.fan_out_webhook_events(1000)`;

    await asUser(sql, w.owner.id, async (tx) => {
      expect((await errorOf(tx, (sp) => sp`select secret_sealed from public.webhook_endpoints`))?.code).toBe("42501");
      const [seen] = await tx`select url, secret_hint from public.webhook_endpoints where id = ${id}`;
      expect(seen.url).toBe(receiver.url);
      expect((await errorOf(tx, (sp) => sp`insert into public.webhook_endpoints (workspace_id, url, events, secret_sealed, secret_hint)
                                            values (${w.workspaceId}, 'https://a.example', '{post.published}', 'v1:AAAA:AAAA', 'x')`))?.code).toBe("42501");
      expect((await errorOf(tx, (sp) => sp`update public.webhook_endpoints set url = 'https://10.0.0.1/' where id = ${id}`))?.code).toBe("42501");
      expect((await errorOf(tx, (sp) => sp`delete from public.webhook_endpoints where id = ${id}`))?.code).toBe("42501");
      expect((await errorOf(tx, (sp) => sp`insert into public.webhook_events (workspace_id, type, data) values (${w.workspaceId}, 'post.published', '{}')`))?.code).toBe("42501");
      expect((await errorOf(tx, (sp) => sp`update public.webhook_deliveries set status = 'delivered'`))?.code).toBe("42501");
      expect((await errorOf(tx, (sp) => sp`select * from private.claim_webhook_deliveries(10, 60)`))?.code).toBe("42501");
      expect((await errorOf(tx, (sp) => sp`select private.fan_out_webhook_events(10)`))?.code).toBe("42501");
      expect((await errorOf(tx, (sp) => sp`select private.create_webhook_endpoint(${w.workspaceId}, 'https://10.0.0.1/', '', '{ping}', 'v1:AAAA:AAAA', 'x')`))?.code).toBe("42501");
    });
    for (const user of [w.editor, w.viewer, w.outsider]) {
      await asUser(sql, user.id, async (tx) => {
        expect(await tx`select id from public.webhook_endpoints where id = ${id}`).toHaveLength(0);
        expect(await tx`select id from public.webhook_deliveries where endpoint_id = ${id}`).toHaveLength(0);
        expect(await tx`select id from public.webhook_events where workspace_id = ${w.workspaceId}`).toHaveLength(0);
      });
    }
    const [still] = await sql`select url, enabled, (select count(*)::int from public.webhook_deliveries d where d.endpoint_id = e.id and d.status = 'pending') as pending
                              from public.webhook_endpoints e where id = ${id}`;
    expect(still).toEqual({ url: receiver.url, enabled: true, pending: 1 });
  });
});

describe("where an endpoint may point", () => {
  it("refuses private, loopback and metadata addresses, and plain http to a host the operator did not allow", async () => {
    const w = await world();
    for (const url of [
      "https://10.1.2.3/hook",
      "https://192.168.0.10/hook",
      "https://169.254.169.254/latest/meta-data",
      "https://[::1]/hook",
      "https://localhost/hook",
      "http://example.com/hook",
      "ftp://example.com/hook",
      "https://user:pw@example.com/hook",
    ]) {
      const res = await create(w.admin, w.workspaceId, { url });
      expect(res.status, url).toBe(400);
      expect(res.body.error.issues[0].path, url).toBe("url");
    }
    // Changing an endpoint's URL is checked the same way.
    const { body } = await create(w.admin, w.workspaceId);
    const changed = await call(endpointRoute.PATCH, "PATCH", w.admin, { id: body.endpoint.id, body: { url: "https://10.9.9.9/" } });
    expect(changed.status).toBe(400);
    expect(changed.body.error.issues[0].path).toBe("url");
    const [row] = await sql`select url from public.webhook_endpoints where id = ${body.endpoint.id}`;
    expect(row.url).toBe(receiver.url);
    expect(await sql`select 1 from public.webhook_endpoints where workspace_id = ${w.workspaceId}`).toHaveLength(1);
  });

  it("says what is wrong with each field", async () => {
    const w = await world();
    const res = await call(listRoute.POST, "POST", w.admin, { body: { workspaceId: w.workspaceId, url: receiver.url, events: ["post.deleted"] } });
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toBe("events.0");
    const none = await call(listRoute.POST, "POST", w.admin, { body: { workspaceId: w.workspaceId, url: receiver.url, events: [] } });
    expect(none.body.error.issues[0].message).toMatch(/at least one event/);
  });
});

describe("managing an endpoint", () => {
  it("shows the secret once at creation and once per rotation, then only its hint, with audit rows", async () => {
    const w = await world();
    const made = await create(w.admin, w.workspaceId, { description: "CRM sync", events: ["post.published", "account.paused", "post.published"] });
    expect(made.status).toBe(201);
    expect(made.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(made.body.endpoint.events).toEqual(["post.published", "account.paused"]);
    expect(made.body.endpoint.secretHint).toBe(`…${made.body.secret.slice(-4)}`);
    const id = made.body.endpoint.id;

    const listed = await call(listRoute.GET, "GET", w.owner, { query: `?workspaceId=${w.workspaceId}` });
    expect(listed.body.endpoints).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(made.body.secret);
    expect(JSON.stringify(listed.body)).not.toContain("v1:");

    const rotated = await call(rotateRoute.POST, "POST", w.admin, { id });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(made.body.secret);
    const [row] = await sql`select secret_sealed from public.webhook_endpoints where id = ${id}`;
    expect((await decryptCredentials(row.secret_sealed)).secret).toBe(rotated.body.secret);

    const audit = await sql`select action, actor_id, new_values from public.audit_log where entity = 'webhook_endpoints' and entity_id = ${id} order by id`;
    expect(audit.map((a) => a.action)).toEqual(["insert", "rotate_secret"]);
    expect(audit[0].actor_id).toBe(w.admin.id);
    expect(JSON.stringify(audit)).not.toMatch(/whsec_|secret_sealed/);

    const deleted = await call(endpointRoute.DELETE, "DELETE", w.owner, { id });
    expect(deleted.status).toBe(200);
    expect(await sql`select 1 from public.webhook_endpoints where id = ${id}`).toHaveLength(0);
  });

  it("queues a test event, delivered by the worker (not by the request), and retries a delivery now", async () => {
    const w = await world();
    const { body } = await create(w.admin, w.workspaceId);
    const id = body.endpoint.id;
    const queued = await call(testRoute.POST, "POST", w.admin, { id });
    expect(queued.status).toBe(202);
    // Nothing was sent by the request itself.
    expect(receiver.received).toHaveLength(0);

    receiver.answer = () => 503;
    await deliverWebhooks({ sql, budgetMs: 5_000, allowedHosts: "127.0.0.1" });
    let log = await call(deliveriesRoute.GET, "GET", w.admin, { id });
    expect(log.status).toBe(200);
    expect(log.body.deliveries).toHaveLength(1);
    expect(log.body.deliveries[0]).toMatchObject({ eventId: queued.body.eventId, eventType: "ping", status: "pending", attempts: 1, responseStatus: 503 });
    expect(new Date(log.body.deliveries[0].nextAttemptAt).getTime()).toBeGreaterThan(Date.now() + 50_000);

    // Retry now: due at once, and the next round delivers it.
    receiver.answer = () => 200;
    const retried = await call(retryRoute.POST, "POST", w.admin, { id: log.body.deliveries[0].id });
    expect(retried.status).toBe(202);
    await deliverWebhooks({ sql, budgetMs: 5_000, allowedHosts: "127.0.0.1" });
    log = await call(deliveriesRoute.GET, "GET", w.admin, { id });
    expect(log.body.deliveries[0]).toMatchObject({ status: "delivered", attempts: 2, responseStatus: 200 });
    expect(receiver.received.map((r) => r.eventId)).toEqual([queued.body.eventId, queued.body.eventId]);
  });
});
