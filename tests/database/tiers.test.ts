// The plan's account limit is enforced by Postgres, including when inserts race.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccounts, asUser, connect, errorOf, makeUser, type Sql } from "../support/db";

let sql: Sql;
beforeAll(() => {
  sql = connect(12);
});
afterAll(() => sql.end());

const insertAs = (userId: string, workspaceId: string, handle: string) =>
  sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: "authenticated" })}, true),
                    set_config('role', 'authenticated', true)`;
    await tx`insert into public.social_accounts (workspace_id, platform, handle, display_name)
             values (${workspaceId}, 'sandbox', ${handle}, ${handle})`;
  });

describe("plans", () => {
  it("are the five tiers plus the default of 10 accounts without a subscription", async () => {
    const plans = await sql`select id, price_cents_monthly, max_accounts, is_default from public.plans order by sort_order`;
    expect(plans.map((p) => [p.id, p.price_cents_monthly, p.max_accounts, p.is_default])).toEqual([
      ["free", 0, 10, true],
      ["starter", 2999, 10, false],
      ["growth", 7999, 50, false],
      ["pro", 19999, 150, false],
      ["enterprise", 49999, 500, false],
      ["ultra", 99999, 1000, false],
    ]);
  });

  it("give a new workspace the default plan", async () => {
    const u = await makeUser(sql, "plan");
    const [usage] = await sql`select plan_id, max_accounts, accounts_used from public.workspace_usage where workspace_id = ${u.workspaceId}`;
    expect(usage).toEqual({ plan_id: "free", max_accounts: 10, accounts_used: 0 });
  });
});

describe("the account limit", () => {
  it("refuses the account past the limit with an error naming the plan and the limit", async () => {
    const u = await makeUser(sql, "limit");
    await addAccounts(sql, u.workspaceId, 10);
    await asUser(sql, u.id, async (tx) => {
      const err = await errorOf(tx, (sp) =>
        sp`insert into public.social_accounts (workspace_id, platform, handle, display_name)
           values (${u.workspaceId}, 'sandbox', 'eleventh', 'Eleventh')`);
      expect(err?.message).toBe("This workspace is on the Free plan, which allows 10 social accounts, and all 10 are in use.");
      expect(err?.hint).toBe("Remove an account or upgrade the plan to add more.");
      expect(JSON.parse(err!.detail!)).toMatchObject({ code: "plan_limit_reached", plan: "free", max_accounts: 10 });
    });
    const [{ n }] = await sql`select count(*)::int as n from public.social_accounts where workspace_id = ${u.workspaceId}`;
    expect(n).toBe(10);
  });

  it("follows the plan: moving to Growth allows the eleventh account", async () => {
    const u = await makeUser(sql, "growth");
    await addAccounts(sql, u.workspaceId, 10);
    await sql`update public.workspaces set plan_id = 'growth' where id = ${u.workspaceId}`;
    await insertAs(u.id, u.workspaceId, "eleventh");
    const [usage] = await sql`select max_accounts, accounts_used, accounts_by_platform from public.workspace_usage where workspace_id = ${u.workspaceId}`;
    expect(usage).toEqual({ max_accounts: 50, accounts_used: 11, accounts_by_platform: { sandbox: 11 } });
  });

  it("lets exactly one of two concurrent inserts through at limit − 1", async () => {
    const u = await makeUser(sql, "race");
    await addAccounts(sql, u.workspaceId, 9);
    const results = await Promise.allSettled([
      insertAs(u.id, u.workspaceId, "racer_one"),
      insertAs(u.id, u.workspaceId, "racer_two"),
    ]);
    expect(results.filter((r) => r.status === "fulfilled").length).toBe(1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason.message).toMatch(/allows 10 social accounts/);
    const [{ n }] = await sql`select count(*)::int as n from public.social_accounts where workspace_id = ${u.workspaceId}`;
    expect(n).toBe(10);
  });

  it("holds when many inserts race from separate connections", async () => {
    const u = await makeUser(sql, "stampede");
    await addAccounts(sql, u.workspaceId, 5);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => insertAs(u.id, u.workspaceId, `stampede_${i}`)),
    );
    expect(results.filter((r) => r.status === "fulfilled").length).toBe(5);
    const [{ n }] = await sql`select count(*)::int as n from public.social_accounts where workspace_id = ${u.workspaceId}`;
    expect(n).toBe(10);
  });
});

describe("the audit log", () => {
  it("records who added, renamed and removed an account, without credentials", async () => {
    const u = await makeUser(sql, "audit");
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: u.id, role: "authenticated" })}, true),
                      set_config('role', 'authenticated', true)`;
      const [{ id }] = await tx`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                                values (${u.workspaceId}, 'sandbox', 'audited', 'Audited') returning id`;
      // Credentials come from the server's role, as lib/accounts writes them.
      await tx`select set_config('role', 'pacer_worker', true)`;
      await tx`select private.store_account_credentials(${id}, 'v1:secret:secret')`;
      await tx`select set_config('role', 'authenticated', true)`;
      await tx`update public.social_accounts set display_name = 'Renamed' where id = ${id}`;
      await tx`select * from public.remove_accounts(${[id]}::uuid[])`;
    });
    const log = await sql`select action, actor_id, entity, old_values, new_values from public.audit_log
                          where workspace_id = ${u.workspaceId} and entity = 'social_accounts' order by id`;
    expect(log.map((l) => [l.action, l.actor_id])).toEqual([
      ["insert", u.id],
      ["update", u.id],
      ["update", u.id], // archived: paused with the reason "removed", its credentials dropped
      ["remove", u.id],
    ]);
    expect(log[1].old_values.display_name).toBe("Audited");
    expect(log[1].new_values.display_name).toBe("Renamed");
    expect(JSON.stringify(log)).not.toContain("v1:secret");
  });

  it("records plan changes made by the service side", async () => {
    const u = await makeUser(sql, "audit-plan");
    await sql`update public.workspaces set plan_id = 'pro' where id = ${u.workspaceId}`;
    const [entry] = await sql`select action, actor_id, old_values->>'plan_id' as old_plan, new_values->>'plan_id' as new_plan
                              from public.audit_log where workspace_id = ${u.workspaceId} and entity = 'workspaces' and action = 'update'`;
    expect(entry).toEqual({ action: "update", actor_id: null, old_plan: "free", new_plan: "pro" });
  });
});
