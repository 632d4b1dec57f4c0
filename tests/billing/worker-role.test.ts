// Billing's writes run as pacer_worker, the least-privilege role its SQL functions are granted to,
// not as the pool's login role: a trigger records the role in force (the `role` setting, which a
// security definer function does not change) when each billing write lands.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { ensureBillingCustomer } from "@/lib/billing/customers";
import { expireGracePeriods } from "@/lib/billing/grace";
import { connect, makeUser, type Sql } from "../support/db";
import { startStripeFake, type StripeFake } from "../support/stripe-fake";
import { deliverEvent, enterStripeMode, giveCustomer, subscribe, subscriptionObject } from "../support/billing";

let sql: Sql;
let stripe: StripeFake;

beforeAll(async () => {
  sql = connect();
  stripe = await startStripeFake();
  await sql.unsafe(`
    create table private.pacer_test_write_roles (tbl text not null, key text not null, role text not null);
    create function private.pacer_test_record_role() returns trigger language plpgsql as $$
    begin
      insert into private.pacer_test_write_roles values (tg_table_name, coalesce(to_jsonb(new) ->> 'id', to_jsonb(new) ->> 'workspace_id'), current_setting('role'));
      return new;
    end $$;
    create trigger pacer_test_record_role after insert on private.stripe_events
      for each row execute function private.pacer_test_record_role();
    create trigger pacer_test_record_role after insert on private.billing_customers
      for each row execute function private.pacer_test_record_role();
    create trigger pacer_test_record_role after update of plan_id on public.workspaces
      for each row execute function private.pacer_test_record_role();`);
});
afterAll(async () => {
  await sql.unsafe(`
    drop trigger pacer_test_record_role on private.stripe_events;
    drop trigger pacer_test_record_role on private.billing_customers;
    drop trigger pacer_test_record_role on public.workspaces;
    drop function private.pacer_test_record_role();
    drop table private.pacer_test_write_roles;`);
  await stripe.stop();
  await sql.end();
});
beforeEach(() => enterStripeMode(stripe.url));

async function rolesOf(tbl: string, key: string) {
  const rows = await sql`select role from private.pacer_test_write_roles where tbl = ${tbl} and key = ${key}`;
  return rows.map((r) => r.role);
}

describe("billing writes run as pacer_worker", () => {
  it("applies a Stripe event as pacer_worker", async () => {
    const user = await makeUser(sql, "role-webhook");
    const customer = await giveCustomer(sql, user.workspaceId);
    const subscription = subscriptionObject({ customer, plan: "pro" });
    stripe.subscriptions.set(subscription.id, subscription);
    const { response, event } = await deliverEvent("customer.subscription.created", subscription);
    expect(response.status).toBe(200);
    expect(await rolesOf("stripe_events", event.id)).toEqual(["pacer_worker"]);
    expect(await rolesOf("workspaces", user.workspaceId)).toEqual(["pacer_worker"]);
  });

  it("ends an expired grace period as pacer_worker", async () => {
    const user = await makeUser(sql, "role-grace");
    await subscribe(sql, user.workspaceId, "pro");
    await sql`update public.subscriptions set status = 'past_due', past_due_since = now() - interval '8 days',
                                              grace_ends_at = now() - interval '1 day'
              where workspace_id = ${user.workspaceId}`;
    await sql`delete from private.pacer_test_write_roles where key = ${user.workspaceId}`;
    expect(await expireGracePeriods(db())).toBeGreaterThanOrEqual(1);
    expect(await rolesOf("workspaces", user.workspaceId)).toContain("pacer_worker");
    expect(await rolesOf("workspaces", user.workspaceId)).not.toContain("none");
  });

  it("records a workspace's Stripe customer as pacer_worker", async () => {
    const user = await makeUser(sql, "role-customer");
    const id = await ensureBillingCustomer(user.workspaceId, async () => `cus_role_${user.workspaceId.slice(0, 8)}`);
    expect(id).toBe(`cus_role_${user.workspaceId.slice(0, 8)}`);
    expect(await rolesOf("billing_customers", user.workspaceId)).toEqual(["pacer_worker"]);
  });
});
