// Removing an account keeps its record (issue 12): the database's rules, tried the way an attacker
// would — another workspace, a lower role, and the `authenticated` role straight at the tables.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asUser, connect, errorOf, makeUser, type Sql } from "../support/db";

let sql: Sql;
let owner: Awaited<ReturnType<typeof makeUser>>;
let admin: typeof owner;
let editor: typeof owner;
let viewer: typeof owner;
let stranger: typeof owner;
let ws: string;

beforeAll(async () => {
  sql = connect();
  owner = await makeUser(sql, "arch-owner");
  [admin, editor, viewer, stranger] = await Promise.all(
    ["arch-admin", "arch-editor", "arch-viewer", "arch-stranger"].map((label) => makeUser(sql, label)),
  );
  ws = owner.workspaceId;
  for (const [u, role] of [[admin, "admin"], [editor, "editor"], [viewer, "viewer"]] as const) {
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${u.id}, ${role})`;
  }
});
afterAll(() => sql.end());

/** A live account with one posted, two waiting and one in-flight item. */
async function accountWithItems(workspaceId = ws, handle = `arch_${crypto.randomUUID().slice(0, 8)}`) {
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                        values (${workspaceId}, 'sandbox', ${handle}, 'Archived one') returning id`;
  const items: Record<string, number> = {};
  for (const status of ["posted", "pending", "rate_limited", "processing"] as const) {
    const [p] = await sql`insert into public.posts (workspace_id, text) values (${workspaceId}, ${`a ${status} post`}) returning id`;
    // The in-flight one is leased as a claim leases (leased_at, one attempt), for longer than any test
    // run: the engine's lease recovery, run by other test files on this database, never takes it.
    const lease = status === "processing" ? sql`gen_random_uuid(), now() + interval '1 day', now(), 1` : sql`null, null, null, 0`;
    const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id, status, run_at, lease_id, lease_expires_at, leased_at, attempts, posted_at)
                          values (${workspaceId}, ${p.id}, ${a.id}, ${status}, now() + interval '1 day', ${lease},
                                  ${status === "posted" ? sql`now()` : sql`null`}) returning id`;
    items[status] = Number(q.id);
  }
  return { id: a.id as string, handle, items };
}

/** The error a statement outside any transaction raised, or null. */
async function failure(query: PromiseLike<unknown>) {
  try {
    await query;
    return null;
  } catch (error) {
    return error as { message: string; code?: string };
  }
}

/** Removes for real (committed), as this user. */
async function removeFor(userId: string, ids: string[]) {
  return sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: "authenticated" })}, true),
                    set_config('role', 'authenticated', true)`;
    return tx`select * from public.remove_accounts(${ids}::uuid[])`;
  });
}

/** Removes as this user, then rolls back. */
const removeAs = (userId: string, ids: string[]) =>
  asUser(sql, userId, (tx) => tx`select * from public.remove_accounts(${ids}::uuid[])`);

describe("the path around the API", () => {
  it("no role deletes an account row, not even the owner", async () => {
    const { id } = await accountWithItems();
    for (const u of [owner, admin, editor, viewer, stranger]) {
      await asUser(sql, u.id, async (tx) => {
        const error = await errorOf(tx, (sp) => sp`delete from public.social_accounts where id = ${id}`);
        expect(error?.message, u.email).toMatch(/permission denied for table social_accounts/);
      });
    }
    expect(await sql`select 1 from public.social_accounts where id = ${id}`).toHaveLength(1);
  });

  it("a removed account cannot be restored or edited by a user, and stays removed for the server's roles too", async () => {
    const { id } = await accountWithItems();
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: owner.id, role: "authenticated" })}, true),
                      set_config('role', 'authenticated', true)`;
      expect(await tx`select outcome from public.remove_accounts(${[id]}::uuid[])`).toEqual([{ outcome: "removed" }]);
      const restore = await errorOf(tx, (sp) => sp`update public.social_accounts set archived_at = null where id = ${id}`);
      expect(restore?.message).toMatch(/permission denied for table social_accounts/);
      // Renaming a removed account changes nothing (the restrictive policy hides it from updates).
      expect(await tx`update public.social_accounts set display_name = 'Back' where id = ${id} returning id`).toHaveLength(0);
      // Resuming is refused, saying why.
      const resume = await errorOf(tx, (sp) => sp`select public.resume_account(${id})`);
      expect(resume?.message).toMatch(/removed/);
      expect(JSON.parse(resume!.detail!).code).toBe("account_removed");
      await tx`select set_config('role', 'postgres', true)`;
      // Even the owner of the tables (the engine, the health scan, billing) cannot un-remove it or let it publish.
      const unarchive = await errorOf(tx, (sp) => sp`update public.social_accounts set archived_at = null where id = ${id}`);
      expect(unarchive?.message).toMatch(/stays removed/);
      const publish = await errorOf(tx, (sp) => sp`update public.social_accounts set state = 'active' where id = ${id}`);
      expect(publish?.message).toMatch(/cannot publish again/);
      const reconnect = await errorOf(tx, (sp) => sp`select private.store_account_credentials(${id}, 'v1:x:y')`);
      expect(reconnect?.message).toMatch(/cannot be connected again/);
    });
  });

  it("nothing is queued for a removed account, and a cancelled item of it is not set waiting again", async () => {
    const { id, items } = await accountWithItems();
    await removeFor(admin.id, [id]);
    await asUser(sql, editor.id, async (tx) => {
      const [p] = await tx`insert into public.posts (workspace_id, text) values (${ws}, 'too late') returning id`;
      const error = await errorOf(tx, (sp) => sp`insert into public.queue_items (workspace_id, post_id, account_id) values (${ws}, ${p.id}, ${id})`);
      expect(error?.message).toMatch(/was removed from this workspace; nothing can be queued for it/);
      expect(error?.hint).toMatch(/another account/);
      expect(JSON.parse(error!.detail!)).toMatchObject({ code: "account_removed", account_id: id });
    });
    // The server's own paths (a retry, a restore) are refused too.
    const restore = await failure(sql`update public.queue_items set status = 'pending' where id = ${items.pending}`);
    expect(restore?.message).toMatch(/was removed/);
  });
});

describe("who may remove", () => {
  it("another workspace's member sees not_found and changes nothing", async () => {
    const { id, items } = await accountWithItems();
    expect(await removeAs(stranger.id, [id])).toEqual([
      { account_id: id, outcome: "not_found", handle: null, cancelled: 0, cancel_requested: 0, posted: 0 },
    ]);
    await asUser(sql, stranger.id, async (tx) => {
      expect(await tx`select * from public.account_removal_preview(${[id]}::uuid[])`).toEqual([{ accounts: 0, waiting: 0, in_flight: 0, posted: 0 }]);
    });
    const [a] = await sql`select archived_at from public.social_accounts where id = ${id}`;
    expect(a.archived_at).toBeNull();
    const [q] = await sql`select status from public.queue_items where id = ${items.pending}`;
    expect(q.status).toBe("pending");
  });

  it("a viewer and an editor are refused; an admin and an owner may", async () => {
    const { id } = await accountWithItems();
    for (const u of [viewer, editor]) {
      expect((await removeAs(u.id, [id])).map((r) => r.outcome)).toEqual(["forbidden"]);
    }
    expect((await sql`select archived_at from public.social_accounts where id = ${id}`)[0].archived_at).toBeNull();
    for (const u of [admin, owner]) expect((await removeAs(u.id, [id])).map((r) => r.outcome)).toEqual(["removed"]); // each rolled back
  });
});

describe("removing keeps the record", () => {
  it("cancels the waiting items saying why, keeps the posted one, and records who removed it", async () => {
    const { id, handle, items } = await accountWithItems();
    await asUser(sql, admin.id, async (tx) => {
      expect(await tx`select * from public.account_removal_preview(${[id]}::uuid[])`).toEqual([{ accounts: 1, waiting: 2, in_flight: 1, posted: 1 }]);
    });
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: admin.id, role: "authenticated" })}, true),
                      set_config('role', 'authenticated', true)`;
      expect(await tx`select * from public.remove_accounts(${[id]}::uuid[])`).toEqual([
        { account_id: id, outcome: "removed", handle, cancelled: 2, cancel_requested: 1, posted: 1 },
      ]);
      // Removing again says so and changes nothing.
      expect((await tx`select outcome, cancelled from public.remove_accounts(${[id]}::uuid[])`)).toEqual([{ outcome: "already_removed", cancelled: 0 }]);
    });
    const [a] = await sql`select handle, state, paused_reason, archived_by, archived_at is not null as archived, credentials_encrypted
                          from public.social_accounts where id = ${id}`;
    expect(a).toEqual({ handle, state: "paused", paused_reason: "removed", archived_by: admin.id, archived: true, credentials_encrypted: null });
    const rows = await sql`select id, status, last_error, cancel_requested from public.queue_items where account_id = ${id} order by id`;
    expect(rows.map((r) => [Number(r.id), r.status, r.last_error, r.cancel_requested])).toEqual([
      [items.posted, "posted", null, false],
      [items.pending, "cancelled", "Account removed.", false],
      [items.rate_limited, "cancelled", "Account removed.", false],
      [items.processing, "processing", "Account removed.", true],
    ]);
    const audit = await sql`select action, actor_id, new_values from public.audit_log where entity = 'social_accounts' and entity_id = ${id} and action = 'remove'`;
    expect(audit).toEqual([{ action: "remove", actor_id: admin.id, new_values: { handle, archived: true, cancelled: 2, cancel_requested: 1 } }]);
  });

  it("lets the handle be connected again as a new account, once", async () => {
    const { id, handle } = await accountWithItems();
    const dup = await failure(sql`insert into public.social_accounts (workspace_id, platform, handle, display_name) values (${ws}, 'sandbox', ${handle}, 'Again')`);
    expect(dup?.code).toBe("23505");
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: owner.id, role: "authenticated" })}, true),
                      set_config('role', 'authenticated', true)`;
      await tx`select * from public.remove_accounts(${[id]}::uuid[])`;
      const [again] = await tx`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                               values (${ws}, 'sandbox', ${handle}, 'Again') returning id`;
      expect(again.id).not.toBe(id);
      const third = await errorOf(tx, (sp) => sp`insert into public.social_accounts (workspace_id, platform, handle, display_name) values (${ws}, 'sandbox', ${handle}, 'Third')`);
      expect(third?.code).toBe("23505");
      throw new Error("rollback");
    }).catch((e) => expect(e.message).toBe("rollback"));
  });
});

describe("a reconnected handle keeps the platform's pace", () => {
  it("inherits the removed account's last day of rate-limit ledger and its cool-down, so removing and reconnecting opens no new window", async () => {
    const { id, handle } = await accountWithItems();
    await sql`insert into private.rate_limit_ledger (account_id, action, at)
              select ${id}, 'publish', now() - make_interval(mins => g) from generate_series(1, 5) g`;
    await sql`insert into private.rate_limit_ledger (account_id, action, at) values (${id}, 'publish', now() - interval '2 days')`;
    await sql`update public.social_accounts set cooldown_until = now() + interval '30 minutes' where id = ${id}`;
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: owner.id, role: "authenticated" })}, true),
                      set_config('role', 'authenticated', true)`;
      await tx`select * from public.remove_accounts(${[id]}::uuid[])`;
      const [again] = await tx`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                               values (${ws}, 'sandbox', ${handle}, 'Again') returning id, cooldown_until`;
      await tx`reset role`;
      const [{ n }] = await tx`select count(*)::int as n from private.rate_limit_ledger where account_id = ${again.id}`;
      expect(n).toBe(5); // the last day's, not the older one
      expect(again.cooldown_until.getTime()).toBeGreaterThan(Date.now() + 25 * 60_000);
      throw new Error("rollback");
    }).catch((e) => expect(e.message).toBe("rollback"));
  });
});

describe("the plan counts live accounts only", () => {
  it("a removal frees a slot: the usage drops, a new account fits, and an account paused over the limit resumes", async () => {
    const u = await makeUser(sql, "arch-slots"); // Free: 10 accounts
    for (let i = 0; i < 10; i++) {
      await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name) values (${u.workspaceId}, 'sandbox', ${`slot_${i}_${u.id.slice(0, 6)}`}, ${`Slot ${i}`})`;
    }
    const ids = (await sql`select id from public.social_accounts where workspace_id = ${u.workspaceId} order by created_at, id`).map((r) => r.id as string);
    await sql`update public.plans set max_accounts = 9 where id = 'free'`; // a downgrade's effect, for this workspace only below
    try {
      await sql`select private.apply_plan_limit(${u.workspaceId})`;
      expect((await sql`select state, paused_reason from public.social_accounts where id = ${ids[9]}`)[0]).toEqual({ state: "paused", paused_reason: "plan_limit" });
      await sql.begin(async (tx) => {
        await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: u.id, role: "authenticated" })}, true),
                        set_config('role', 'authenticated', true)`;
        const full = await errorOf(tx, (sp) => sp`insert into public.social_accounts (workspace_id, platform, handle, display_name) values (${u.workspaceId}, 'sandbox', 'one_more', 'One more')`);
        expect(full?.message).toMatch(/allows 9 social accounts, and 10 are in use \(1 paused over the limit\)/);
        await tx`select * from public.remove_accounts(${[ids[0]]}::uuid[])`;
        // The tenth account is now within the first nine live ones: resumed.
        expect((await tx`select state, paused_reason from public.social_accounts where id = ${ids[9]}`)[0]).toEqual({ state: "connected", paused_reason: null });
        expect((await tx`select accounts_used from public.workspace_usage where workspace_id = ${u.workspaceId}`)[0].accounts_used).toBe(9);
        await tx`select * from public.remove_accounts(${[ids[1]]}::uuid[])`;
        await tx`insert into public.social_accounts (workspace_id, platform, handle, display_name) values (${u.workspaceId}, 'sandbox', 'one_more', 'One more')`;
        expect((await tx`select accounts_used from public.workspace_usage where workspace_id = ${u.workspaceId}`)[0].accounts_used).toBe(9);
        throw new Error("rollback");
      }).catch((e) => expect(e.message).toBe("rollback"));
    } finally {
      await sql`update public.plans set max_accounts = 10 where id = 'free'`;
    }
  });
});

describe("bulk pause and resume", () => {
  it("answers per account: paused, unchanged, removed, not_found, and refuses a viewer", async () => {
    const live = await accountWithItems();
    const removed = await accountWithItems();
    const other = await accountWithItems(stranger.workspaceId);
    await sql`update public.social_accounts set state = 'paused', paused_reason = 'removed', archived_at = now() where id = ${removed.id}`;
    const ids = [live.id, removed.id, other.id];
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: editor.id, role: "authenticated" })}, true),
                      set_config('role', 'authenticated', true)`;
      const paused = await tx`select account_id, outcome, state from public.pause_accounts(${ids}::uuid[])`;
      const byId = Object.fromEntries(paused.map((r) => [r.account_id, [r.outcome, r.state]]));
      expect(byId).toEqual({ [live.id]: ["paused", "paused"], [removed.id]: ["removed", "paused"], [other.id]: ["not_found", null] });
      const again = await tx`select outcome from public.pause_accounts(${[live.id]}::uuid[])`;
      expect(again).toEqual([{ outcome: "unchanged" }]);
      const resumed = await tx`select account_id, outcome, state from public.resume_accounts(${ids}::uuid[])`;
      const r = Object.fromEntries(resumed.map((x) => [x.account_id, [x.outcome, x.state]]));
      expect(r).toEqual({ [live.id]: ["resumed", "connected"], [removed.id]: ["account_removed", null], [other.id]: ["not_found", null] });
      throw new Error("rollback");
    }).catch((e) => expect(e.message).toBe("rollback"));
    await asUser(sql, viewer.id, async (tx) => {
      expect((await tx`select outcome from public.pause_accounts(${[live.id]}::uuid[])`)).toEqual([{ outcome: "forbidden" }]);
      expect((await tx`select outcome from public.resume_accounts(${[live.id]}::uuid[])`)).toEqual([{ outcome: "forbidden" }]);
    });
    expect((await sql`select state from public.social_accounts where id = ${live.id}`)[0].state).toBe("connected");
  });
});

describe("account groups", () => {
  it("members read them, editors manage them, viewers and other workspaces cannot, and only live accounts of the same workspace join", async () => {
    const a = await accountWithItems();
    const gone = await accountWithItems();
    await sql`update public.social_accounts set state = 'paused', paused_reason = 'removed', archived_at = now() where id = ${gone.id}`;
    const theirs = await accountWithItems(stranger.workspaceId);
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: editor.id, role: "authenticated" })}, true),
                      set_config('role', 'authenticated', true)`;
      const [g] = await tx`insert into public.account_groups (workspace_id, name) values (${ws}, 'Brand A') returning id, created_by`;
      expect(g.created_by).toBe(editor.id);
      await tx`insert into public.account_group_members (group_id, account_id, workspace_id) values (${g.id}, ${a.id}, ${ws})`;
      const archived = await errorOf(tx, (sp) => sp`insert into public.account_group_members (group_id, account_id, workspace_id) values (${g.id}, ${gone.id}, ${ws})`);
      expect(archived?.message).toMatch(/row-level security/);
      const foreign = await errorOf(tx, (sp) => sp`insert into public.account_group_members (group_id, account_id, workspace_id) values (${g.id}, ${theirs.id}, ${ws})`);
      expect(foreign).not.toBeNull();
      const sameName = await errorOf(tx, (sp) => sp`insert into public.account_groups (workspace_id, name) values (${ws}, ' brand a ')`);
      expect(sameName?.code).toBe("23505");

      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: viewer.id, role: "authenticated" })}, true)`;
      expect(await tx`select name from public.account_groups where id = ${g.id}`).toEqual([{ name: "Brand A" }]);
      expect((await errorOf(tx, (sp) => sp`insert into public.account_groups (workspace_id, name) values (${ws}, 'Viewer group')`))?.message).toMatch(/row-level security/);
      expect(await tx`update public.account_groups set name = 'x' where id = ${g.id} returning id`).toHaveLength(0);
      expect(await tx`delete from public.account_group_members where group_id = ${g.id} returning account_id`).toHaveLength(0);

      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: stranger.id, role: "authenticated" })}, true)`;
      expect(await tx`select 1 from public.account_groups where id = ${g.id}`).toHaveLength(0);
      expect(await tx`select 1 from public.account_group_members where group_id = ${g.id}`).toHaveLength(0);
      expect(await tx`delete from public.account_groups where id = ${g.id} returning id`).toHaveLength(0);
      const theirsIn = await errorOf(tx, (sp) => sp`insert into public.account_group_members (group_id, account_id, workspace_id) values (${g.id}, ${theirs.id}, ${stranger.workspaceId})`);
      expect(theirsIn).not.toBeNull();

      // Removing an account takes it out of its groups; the audit log has every step.
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: admin.id, role: "authenticated" })}, true)`;
      await tx`select * from public.remove_accounts(${[a.id]}::uuid[])`;
      expect(await tx`select 1 from public.account_group_members where group_id = ${g.id}`).toHaveLength(0);
      const log = await tx`select action, entity from public.audit_log where workspace_id = ${ws} and (entity_id = ${g.id} or entity_id like ${g.id + ":%"}) order by id`;
      expect(log.map((l) => `${l.action} ${l.entity}`)).toEqual(["insert account_groups", "add_to_group account_group_members", "remove_from_group account_group_members"]);
      throw new Error("rollback");
    }).catch((e) => expect(e.message).toBe("rollback"));
  });
});
