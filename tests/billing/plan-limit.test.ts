// What a plan change does to a workspace's accounts: a downgrade pauses the most recently added
// accounts over the new limit (deleting nothing, with a reason the subscriber can read); an upgrade,
// or removing accounts, resumes exactly those — and their queued posts come back.
import type postgres from "postgres";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connect, errorOf, makeUser, type Sql } from "../support/db";
import { startStripeFake, type StripeFake } from "../support/stripe-fake";
import {
  accountStates,
  addAccountsInOrder,
  deliverEvent,
  giveCustomer,
  subscriptionObject,
  enterStripeMode,
  workspacePlan,
} from "../support/billing";

let sql: Sql;
let stripe: StripeFake;

beforeAll(async () => {
  sql = connect();
  stripe = await startStripeFake();
});
afterAll(async () => {
  await stripe.stop();
  await sql.end();
});
beforeEach(() => enterStripeMode(stripe.url));

const STARTER_REASON = "Paused: the Starter plan allows 10 accounts; upgrade or remove accounts to resume it.";
const FREE_REASON = "Paused: the Free plan allows 10 accounts; upgrade or remove accounts to resume it.";

/** A Pro subscriber; `moveTo` changes the plan in Stripe and delivers the event. */
async function proSubscriber() {
  const user = await makeUser(sql, "limits");
  const customer = await giveCustomer(sql, user.workspaceId);
  const subscription = subscriptionObject({ customer, plan: "pro" });
  stripe.subscriptions.set(subscription.id, subscription);
  await deliverEvent("customer.subscription.created", subscription);
  expect((await workspacePlan(sql, user.workspaceId)).plan_id).toBe("pro");

  async function moveTo(plan: string, status: "active" | "canceled" = "active") {
    const next = subscriptionObject({ id: subscription.id, customer, plan, status });
    stripe.subscriptions.set(subscription.id, next);
    const { response } = await deliverEvent(status === "canceled" ? "customer.subscription.deleted" : "customer.subscription.updated", next);
    expect(response.status).toBe(200);
  }
  return { ...user, moveTo };
}

/** A post queued for each account, parked as the engine parks a paused account's work. */
async function parkedPosts(workspaceId: string, accountIds: string[]) {
  const scheduledFor = new Date(Date.now() + 24 * 3600 * 1000);
  const items: Record<string, number> = {};
  for (const accountId of accountIds) {
    const [post] = await sql`insert into public.posts (workspace_id, text) values (${workspaceId}, 'scheduled for tomorrow') returning id`;
    const [item] = await sql`
      insert into public.queue_items (workspace_id, post_id, account_id, scheduled_for, run_at, last_error)
      values (${workspaceId}, ${post.id}, ${accountId}, ${scheduledFor}, 'infinity', 'Waiting: the account is paused.')
      returning id`;
    items[accountId] = Number(item.id);
  }
  return { scheduledFor, items };
}

/** Run as a signed-in member of the workspace and commit, as a request would. */
function asMember<T>(userId: string, fn: (tx: postgres.TransactionSql) => Promise<T>) {
  return sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: "authenticated" })}, true),
                    set_config('role', 'authenticated', true)`;
    return fn(tx);
  });
}

describe("a downgrade below current usage", () => {
  it("pauses exactly the most recently added accounts over the limit, deletes nothing, and says why", async () => {
    const s = await proSubscriber();
    const ids = await addAccountsInOrder(sql, s.workspaceId, 14);
    await sql`update public.social_accounts set state = 'restricted', last_error = 'Restricted by the platform.' where id = ${ids[3]}`;
    await sql`update public.social_accounts set state = 'paused', last_error = 'Paused by you.' where id = ${ids[11]}`;
    await sql`update public.social_accounts set state = 'active' where id = ${ids[12]}`;

    await s.moveTo("starter");

    expect(await workspacePlan(sql, s.workspaceId)).toEqual({ plan_id: "starter", max_accounts: 10 });
    const states = await accountStates(sql, ids);
    const pausedByPlan = ids.filter((_, i) => states[i].paused_reason === "plan_limit");
    expect(pausedByPlan).toEqual([ids[10], ids[12], ids[13]]);
    for (const i of [10, 12, 13]) expect(states[i]).toMatchObject({ state: "paused", last_error: STARTER_REASON });
    // Already not publishing for their own reasons: left exactly as they were.
    expect(states[11]).toMatchObject({ state: "paused", paused_reason: null, last_error: "Paused by you." });
    expect(states[3]).toMatchObject({ state: "restricted", paused_reason: null });
    expect(states.slice(0, 10).filter((a) => a.state === "paused")).toEqual([]);
    const [{ n }] = await sql`select count(*)::int as n from public.social_accounts where workspace_id = ${s.workspaceId}`;
    expect(n).toBe(14);
  });

  it("refuses new accounts until the workspace is back under its limit", async () => {
    const s = await proSubscriber();
    await addAccountsInOrder(sql, s.workspaceId, 12);
    await s.moveTo("starter");
    const err = await sql.begin(async (tx) => errorOf(tx, (sp) =>
      sp`insert into public.social_accounts (workspace_id, platform, handle, display_name)
         values (${s.workspaceId}, 'sandbox', 'thirteenth', 'Thirteenth')`));
    expect(err?.message).toBe("This workspace is on the Starter plan, which allows 10 social accounts, and 12 are in use (2 paused over the limit).");
  });

  it("keeps the reason naming the current plan as the plan keeps falling", async () => {
    const s = await proSubscriber();
    const ids = await addAccountsInOrder(sql, s.workspaceId, 11);
    await s.moveTo("starter");
    expect((await accountStates(sql, [ids[10]]))[0].last_error).toBe(STARTER_REASON);
    await s.moveTo("pro", "canceled");
    expect(await workspacePlan(sql, s.workspaceId)).toEqual({ plan_id: "free", max_accounts: 10 });
    expect((await accountStates(sql, [ids[10]]))[0]).toMatchObject({ state: "paused", paused_reason: "plan_limit", last_error: FREE_REASON });
  });

  it("keeps an over-limit account paused when something tries to make it publishable again", async () => {
    const s = await proSubscriber();
    const ids = await addAccountsInOrder(sql, s.workspaceId, 12);
    await sql`update public.social_accounts set state = 'needs_reconnect' where id = ${ids[11]}`;
    await s.moveTo("starter");
    // Reconnected (by a user or the engine) while the plan still does not cover it.
    await sql`update public.social_accounts set state = 'active' where id = ${ids[11]}`;
    await sql`update public.social_accounts set state = 'connected' where id = ${ids[10]}`;
    const states = await accountStates(sql, [ids[10], ids[11]]);
    expect(states).toEqual([
      expect.objectContaining({ state: "paused", paused_reason: "plan_limit", last_error: STARTER_REASON }),
      expect.objectContaining({ state: "paused", paused_reason: "plan_limit", last_error: STARTER_REASON }),
    ]);
  });
});

describe("an account becoming publishable", () => {
  it("is let through up to exactly the plan's limit by age, counting live accounts only", async () => {
    const s = await proSubscriber();
    const ids = await addAccountsInOrder(sql, s.workspaceId, 12);
    // Not publishable during the downgrade, so it leaves them as they are.
    await sql`update public.social_accounts set state = 'needs_reconnect' where id = any(${ids.slice(9)})`;
    await s.moveTo("starter");
    // Reconnected: the 10th oldest is covered by Starter's 10, the 11th is not.
    await sql`update public.social_accounts set state = 'active' where id = ${ids[9]}`;
    await sql`update public.social_accounts set state = 'active' where id = ${ids[10]}`;
    expect(await accountStates(sql, [ids[9], ids[10]])).toEqual([
      expect.objectContaining({ state: "active", paused_reason: null }),
      expect.objectContaining({ state: "paused", paused_reason: "plan_limit", last_error: STARTER_REASON }),
    ]);
    // A removed account holds no place: with the oldest removed, the 12th by age is the 11th live one
    // (held), and the 11th the 10th (its plan pause lifted by the removal).
    await sql`update public.social_accounts set archived_at = now(), state = 'paused', paused_reason = 'removed' where id = ${ids[0]}`;
    await sql`select private.apply_plan_limit(${s.workspaceId})`;
    await sql`update public.social_accounts set state = 'active' where id = ${ids[11]}`;
    expect(await accountStates(sql, [ids[10], ids[11]])).toEqual([
      expect.objectContaining({ state: "active", paused_reason: null }),
      expect.objectContaining({ state: "paused", paused_reason: "plan_limit", last_error: STARTER_REASON }),
    ]);
  });
});

describe("an upgrade", () => {
  it("resumes exactly the accounts the plan paused, in their former state, and brings their posts back", async () => {
    const s = await proSubscriber();
    const ids = await addAccountsInOrder(sql, s.workspaceId, 14);
    await sql`update public.social_accounts set state = 'active' where id = ${ids[12]}`;
    await sql`update public.social_accounts set state = 'paused', last_error = 'Paused by you.' where id = ${ids[11]}`;
    await s.moveTo("starter");
    const { scheduledFor, items } = await parkedPosts(s.workspaceId, [ids[12], ids[11]]);

    await s.moveTo("growth");

    const states = await accountStates(sql, ids);
    expect(states.filter((a) => a.paused_reason !== null)).toEqual([]);
    expect(states[10]).toMatchObject({ state: "connected", last_error: null });
    expect(states[12]).toMatchObject({ state: "active", last_error: null });
    expect(states[13]).toMatchObject({ state: "connected", last_error: null });
    expect(states[11]).toMatchObject({ state: "paused", last_error: "Paused by you." });

    const queued = await sql`select id, run_at, run_at = 'infinity' as parked, last_error from public.queue_items where id = any(${Object.values(items)})`;
    const byId = new Map(queued.map((q) => [Number(q.id), q]));
    expect(byId.get(items[ids[12]])!.run_at).toEqual(scheduledFor);
    expect(byId.get(items[ids[12]])!.last_error).toBeNull();
    expect(byId.get(items[ids[11]])!.parked).toBe(true);
  });

  it("resumes only as many as the new plan covers, oldest first", async () => {
    const s = await proSubscriber();
    const ids = await addAccountsInOrder(sql, s.workspaceId, 12);
    await s.moveTo("pro", "canceled");
    expect((await accountStates(sql, ids)).filter((a) => a.paused_reason).map((a) => a.id)).toEqual([ids[10], ids[11]]);
    await s.moveTo("starter"); // also 10: nothing resumes
    expect((await accountStates(sql, ids)).filter((a) => a.paused_reason).map((a) => a.id)).toEqual([ids[10], ids[11]]);
  });
});

describe("removing accounts", () => {
  it("resumes the oldest plan-paused account into the room it frees", async () => {
    const s = await proSubscriber();
    const ids = await addAccountsInOrder(sql, s.workspaceId, 12);
    await s.moveTo("starter");
    // Removal archives the account (public.remove_accounts); the plan counts live accounts only.
    await asMember(s.id, (tx) => tx`select * from public.remove_accounts(${[ids[0]]}::uuid[])`);
    const states = await accountStates(sql, ids.slice(1));
    expect(states.filter((a) => a.paused_reason).map((a) => a.id)).toEqual([ids[11]]);
    expect(states[9]).toMatchObject({ id: ids[10], state: "connected", last_error: null });
  });
});

describe("who may change what", () => {
  it("lets no signed-in user write subscriptions, plans or pause reasons", async () => {
    const s = await proSubscriber();
    const [account] = await addAccountsInOrder(sql, s.workspaceId, 1);
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: s.id, role: "authenticated" })}, true),
                      set_config('role', 'authenticated', true)`;
      expect((await tx`select id, status from public.subscriptions where workspace_id = ${s.workspaceId}`).length).toBe(1);
      for (const attempt of [
        (sp: typeof tx) => sp`update public.subscriptions set status = 'active', plan_id = 'ultra' where workspace_id = ${s.workspaceId}`,
        (sp: typeof tx) => sp`insert into public.subscriptions (id, workspace_id, stripe_customer_id, status, plan_id)
                              values ('sub_forged', ${s.workspaceId}, 'cus_x', 'active', 'ultra')`,
        (sp: typeof tx) => sp`update public.social_accounts set paused_reason = null where id = ${account}`,
        (sp: typeof tx) => sp`select private.apply_subscription('sub_forged', ${s.workspaceId}, 'cus_x', 'active', 'ultra', null, null, false)`,
        (sp: typeof tx) => sp`select private.sync_workspace_plan(${s.workspaceId})`,
        (sp: typeof tx) => sp`select * from private.billing_customers`,
      ]) {
        const err = await errorOf(tx, attempt);
        expect(err?.code, err?.message).toBe("42501");
      }
      throw new Error("rollback");
    }).catch((e) => expect(e.message).toBe("rollback"));
    expect((await workspacePlan(sql, s.workspaceId)).plan_id).toBe("pro");
  });

  it("shows a workspace's subscriptions to its members only", async () => {
    const s = await proSubscriber();
    const stranger = await makeUser(sql, "stranger");
    const rows = await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: stranger.id, role: "authenticated" })}, true),
                      set_config('role', 'authenticated', true)`;
      return tx`select id from public.subscriptions where workspace_id = ${s.workspaceId}`;
    });
    expect(rows.length).toBe(0);
  });
});
