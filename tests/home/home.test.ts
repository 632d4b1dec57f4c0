// GET /api/home through the real route with real tokens: what a workspace's home shows (getting
// started ticked from data, upcoming posts soonest first, failures, review, paused accounts and a
// failed payment), that another workspace's data never appears, that a viewer reads the same home
// read-only, and that an API key reads it without the billing part.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import * as homeRoute from "@/app/api/home/route";
import * as addRoute from "@/app/api/queue/add/route";
import * as keysRoute from "@/app/api/keys/route";
import type { Home } from "@/lib/home";
import { connect, type Sql } from "../support/db";
import { giveCustomer, subscriptionObject } from "../support/billing";
import { signUp, type TestUser } from "../support/users";

type Handler = (req: Request, ctx: any) => Promise<Response>;

let sql: Sql;
let alice: TestUser;
let bob: TestUser;
let viewer: TestUser;
let aliceWs: string;
let bobWs: string;

const HOURS = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();

function call(handler: Handler, path: string, init: { method?: string; token: string; body?: unknown }) {
  const headers = new Headers({ authorization: `Bearer ${init.token}` });
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  return handler(new Request(`http://127.0.0.1:3000${path}`, { method: init.method ?? "GET", headers, body }), { params: Promise.resolve({}) });
}

async function home(token: string, query = ""): Promise<Home> {
  const res = await call(homeRoute.GET, `/api/home${query}`, { token });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

async function workspaceOf(user: TestUser): Promise<string> {
  const [m] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id} and role = 'owner'`;
  return m.workspace_id;
}

async function addAccount(workspaceId: string, handle: string): Promise<string> {
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                        values (${workspaceId}, 'sandbox', ${handle}, ${handle}) returning id`;
  return a.id;
}

/** Queues a post for the account through the API; returns its queue item's id. */
async function queue(user: TestUser, accountId: string, text: string, scheduledFor: string): Promise<number> {
  const res = await call(addRoute.POST, "/api/queue/add", { method: "POST", token: user.accessToken, body: { text, accountIds: [accountId], scheduledFor } });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()).items[0].id;
}

const tag = randomUUID().slice(0, 6);

beforeAll(async () => {
  sql = connect();
  [alice, bob, viewer] = await Promise.all([signUp("home-alice"), signUp("home-bob"), signUp("home-viewer")]);
  [aliceWs, bobWs] = await Promise.all([workspaceOf(alice), workspaceOf(bob)]);
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${aliceWs}, ${viewer.id}, 'viewer')`;
});
afterAll(() => sql.end());

describe("GET /api/home", () => {
  it("a new workspace: nothing ticked, nothing listed, no banners", async () => {
    const h = await home(bob.accessToken);
    expect(h.workspaceId).toBe(bobWs);
    expect(h.role).toBe("owner");
    expect(h.gettingStarted).toEqual({ accountConnected: false, postComposed: false, postPublished: false });
    expect(h.upcoming).toEqual([]);
    expect(h.failures).toEqual({ total: 0, items: [] });
    expect(h.review).toEqual({ items: 0, accounts: 0, latest: [] });
    expect(h.attention).toEqual({ payment: null, pausedAccounts: { total: 0, byReason: { plan_limit: 0, health: 0, manual: 0 } } });
    expect(h.usage.accountsUsed).toBe(0);
  });

  it("ticks each step from the workspace's data, lists upcoming posts soonest first, failures, review, paused accounts and a failed payment", async () => {
    const main = await addAccount(aliceWs, `home_main_${tag}`);
    const resting = await addAccount(aliceWs, `home_rest_${tag}`);
    expect((await home(alice.accessToken)).gettingStarted).toEqual({ accountConnected: true, postComposed: false, postPublished: false });

    const later = await queue(alice, main, `later ${tag}`, HOURS(48));
    const sooner = await queue(alice, main, `sooner ${tag}`, HOURS(24));
    expect((await home(alice.accessToken)).gettingStarted).toEqual({ accountConnected: true, postComposed: true, postPublished: false });

    // Outcomes as the engine leaves them (the counters follow the status through their trigger).
    const posted = await queue(alice, main, `posted ${tag}`, HOURS(30));
    const failed = await queue(alice, main, `failed ${tag}`, HOURS(30));
    const review = await queue(alice, main, `review ${tag}`, HOURS(30));
    await sql`update public.queue_items set status = 'posted', posted_at = now() where id = ${posted}`;
    await sql`update public.queue_items set status = 'failed', last_error = 'The platform refused the post.' where id = ${failed}`;
    await sql`update public.queue_items set status = 'needs_review', last_error = 'Did it post?' where id = ${review}`;
    await sql`update public.social_accounts set state = 'paused', paused_reason = 'manual' where id = ${resting}`;
    // A renewal payment failed: past_due, with the plan held for a grace period.
    const customer = await giveCustomer(sql, aliceWs);
    const sub = subscriptionObject({ customer, plan: "pro" });
    await sql`select private.apply_subscription(${sub.id}, ${aliceWs}, ${customer}, 'past_due', 'pro',
                                                'pacer_pro_monthly', now() + interval '30 days', false)`;

    const h = await home(alice.accessToken);
    expect(h.gettingStarted).toEqual({ accountConnected: true, postComposed: true, postPublished: true });
    expect(h.upcoming.map((i) => i.id)).toEqual([sooner, later]);
    expect(h.upcoming[0]).toMatchObject({ text: `sooner ${tag}`, handle: `home_main_${tag}`, platform: "sandbox", status: "pending" });
    expect(h.failures.total).toBe(1);
    expect(h.failures.items).toEqual([expect.objectContaining({ id: failed, lastError: "The platform refused the post." })]);
    expect(h.review.items).toBe(1);
    expect(h.review.latest.map((i) => i.id)).toEqual([review]);
    expect(h.attention.pausedAccounts).toEqual({ total: 1, byReason: { plan_limit: 0, health: 0, manual: 1 } });
    expect(h.attention.payment?.status).toBe("past_due");
    expect(Date.parse(h.attention.payment!.graceEndsAt!)).toBeGreaterThan(Date.now());
    expect(h.canAct && h.canManage).toBe(true);
    expect(h.usage.accountsUsed).toBe(2);
  });

  it("never shows another workspace's data, and refuses a workspace the caller is not in", async () => {
    const h = await home(bob.accessToken);
    const text = JSON.stringify(h);
    expect(text).not.toContain(tag);
    expect(text).not.toContain(aliceWs);
    expect(h.attention.payment).toBeNull();
    expect(h.attention.pausedAccounts.total).toBe(0);

    const asked = await call(homeRoute.GET, `/api/home?workspaceId=${aliceWs}`, { token: bob.accessToken });
    expect(asked.status).toBe(404);
    expect(await asked.text()).not.toContain(tag);
  });

  it("a viewer reads the same home, marked read-only", async () => {
    const owner = await home(alice.accessToken);
    const seen = await home(viewer.accessToken, `?workspaceId=${aliceWs}`);
    expect(seen.role).toBe("viewer");
    expect(seen.canAct).toBe(false);
    expect(seen.canManage).toBe(false);
    const withoutRole = ({ role: _role, canAct: _act, canManage: _manage, ...rest }: Home) => rest;
    expect(withoutRole(seen)).toEqual(withoutRole(owner));
  });

  it("an API key reads the home without the billing part (billing is a person's concern)", async () => {
    const made = await call(keysRoute.POST, "/api/keys", { method: "POST", token: alice.accessToken, body: { name: "home script", scopes: ["read"] } });
    expect(made.status, await made.clone().text()).toBe(201);
    const { secret } = await made.json();
    const h = await home(secret);
    expect(h.workspaceId).toBe(aliceWs);
    expect(h.failures.total).toBe(1);
    expect(h.attention.payment).toBeNull();
    expect(h.attention.pausedAccounts.total).toBe(1);
  });

  it("a removed account neither ticks the first step nor counts as a paused account", async () => {
    const carol = await signUp(`home-removed-${tag}`);
    const ws = await workspaceOf(carol);
    const id = await addAccount(ws, `gone_${tag}`);
    expect((await home(carol.accessToken)).gettingStarted.accountConnected).toBe(true);
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: carol.id, role: "authenticated" })}, true),
                      set_config('role', 'authenticated', true)`;
      await tx`select * from public.remove_accounts(${[id]}::uuid[])`;
    });
    const after = await home(carol.accessToken);
    expect(after.gettingStarted.accountConnected).toBe(false);
    expect(after.attention.pausedAccounts.total).toBe(0);
  });

  it("rejects a malformed workspace id with a 400 naming the field", async () => {
    const res = await call(homeRoute.GET, "/api/home?workspaceId=nope", { token: alice.accessToken });
    expect(res.status).toBe(400);
    expect((await res.json()).error.issues).toEqual([expect.objectContaining({ path: "workspaceId" })]);
  });
});
