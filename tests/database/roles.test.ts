// What each role may do inside its own workspace, in SQL as the `authenticated` role (as through
// Supabase's Data API or the server's asUser): editor, admin and owner, table by table. Every
// refusal is asserted with its error, every allowance with the row it changed.
import { beforeAll, afterAll, describe, expect, it } from "vitest";
import { asUser, connect, errorOf, makeUser, type Sql } from "../support/db";

let sql: Sql;
type User = Awaited<ReturnType<typeof makeUser>>;
type Tx = Parameters<Parameters<typeof asUser>[2]>[0];
let owner: User;
let admin: User;
let editor: User;
let viewer: User;
let ws: string;
let accountId: string;
let itemId: number;
let failedId: number;

const RLS = /new row violates row-level security policy/;
const DENIED = /permission denied for table/;

beforeAll(async () => {
  sql = connect();
  owner = await makeUser(sql, "owner");
  [admin, editor, viewer] = await Promise.all([makeUser(sql, "admin"), makeUser(sql, "editor"), makeUser(sql, "viewer")]);
  ws = owner.workspaceId;
  for (const [u, role] of [[admin, "admin"], [editor, "editor"], [viewer, "viewer"]] as const) {
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${u.id}, ${role})`;
  }
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                        values (${ws}, 'sandbox', 'roles_main', 'Main') returning id`;
  accountId = a.id;
  const [p] = await sql`insert into public.posts (workspace_id, text) values (${ws}, 'a post') returning id`;
  const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id, run_at)
                        values (${ws}, ${p.id}, ${accountId}, now() + interval '1 day') returning id`;
  itemId = Number(q.id);
  const [p2] = await sql`insert into public.posts (workspace_id, text) values (${ws}, 'a failed post') returning id`;
  const [f] = await sql`insert into public.queue_items (workspace_id, post_id, account_id, status) values (${ws}, ${p2.id}, ${accountId}, 'failed') returning id`;
  failedId = Number(f.id);
  await sql`insert into public.workspace_rate_limits (workspace_id, platform, action, per_hour) values (${ws}, 'sandbox', 'post', 100)`;
  await sql`insert into public.subscriptions (id, workspace_id, stripe_customer_id, status, plan_id)
            values (${`sub_roles_${ws.slice(0, 8)}`}, ${ws}, 'cus_roles', 'active', 'pro')`;
});
afterAll(() => sql.end());

const roleOf = async (tx: Sql | Tx, userId: string) =>
  (await tx`select role from public.workspace_members where workspace_id = ${ws} and user_id = ${userId}`)[0]?.role ?? null;

describe("workspaces", () => {
  it("an editor can neither rename nor delete the workspace, nor change its plan", async () => {
    await asUser(sql, editor.id, async (tx) => {
      expect(await tx`update public.workspaces set name = 'by editor' where id = ${ws} returning id`).toHaveLength(0);
      expect(await tx`delete from public.workspaces where id = ${ws} returning id`).toHaveLength(0);
      expect((await errorOf(tx, (sp) => sp`update public.workspaces set plan_id = 'ultra' where id = ${ws}`))?.message).toMatch(DENIED);
    });
  });

  it("an admin can rename it but not delete it or change its plan", async () => {
    await asUser(sql, admin.id, async (tx) => {
      expect(await tx`update public.workspaces set name = 'by admin' where id = ${ws} returning name`).toEqual([{ name: "by admin" }]);
      expect(await tx`delete from public.workspaces where id = ${ws} returning id`).toHaveLength(0);
      expect((await errorOf(tx, (sp) => sp`update public.workspaces set plan_id = 'ultra' where id = ${ws}`))?.message).toMatch(DENIED);
      expect((await errorOf(tx, (sp) => sp`update public.workspaces set personal = false where id = ${ws}`))?.message).toMatch(DENIED);
    });
  });

  it("an owner can rename and delete it, but not change its plan", async () => {
    await asUser(sql, owner.id, async (tx) => {
      expect((await errorOf(tx, (sp) => sp`update public.workspaces set plan_id = 'ultra' where id = ${ws}`))?.message).toMatch(DENIED);
      expect(await tx`update public.workspaces set name = 'by owner' where id = ${ws} returning name`).toEqual([{ name: "by owner" }]);
      expect(await tx`delete from public.workspaces where id = ${ws} returning id`).toEqual([{ id: ws }]);
    });
    expect((await sql`select name from public.workspaces where id = ${ws}`)[0].name).not.toBe("by owner"); // rolled back
  });
});

describe("workspace members", () => {
  // Who manages whom (admins: editors and viewers; the owner: everyone below owner) is in tests/team/rules.test.ts.
  it("an editor or admin can neither add members, nor make anyone owner, nor touch the owner, but can leave", async () => {
    const outsider = await makeUser(sql, "outsider");
    for (const member of [editor, admin]) {
      await asUser(sql, member.id, async (tx) => {
        const add = await errorOf(tx, (sp) => sp`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${outsider.id}, 'viewer')`);
        expect(add?.message).toMatch(RLS);
        // Not even their own role: an admin cannot make themselves owner.
        expect(await tx`update public.workspace_members set role = 'owner' where workspace_id = ${ws} and user_id = ${member.id} returning 1`).toHaveLength(0);
        expect(await tx`update public.workspace_members set role = 'viewer' where workspace_id = ${ws} and user_id = ${owner.id} returning 1`).toHaveLength(0);
        expect(await tx`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${owner.id} returning 1`).toHaveLength(0);
        expect(await tx`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${member.id} returning user_id`).toEqual([{ user_id: member.id }]);
      });
      expect(await roleOf(sql, member.id)).not.toBeNull();
    }
  });

  it("an owner can change roles below owner and remove members, but not add members directly, make a second owner or move a membership", async () => {
    const newcomer = await makeUser(sql, "newcomer");
    await asUser(sql, owner.id, async (tx) => {
      const add = await errorOf(tx, (sp) => sp`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${newcomer.id}, 'viewer')`);
      expect(add?.message).toMatch(RLS);
    });
    // People join by accepting an invitation (tests/team); here the superuser stands in for that.
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${newcomer.id}, 'viewer')`;
    await asUser(sql, owner.id, async (tx) => {
      expect(await tx`update public.workspace_members set role = 'admin' where workspace_id = ${ws} and user_id = ${newcomer.id} returning role`).toEqual([{ role: "admin" }]);
      const second = await errorOf(tx, (sp) => sp`update public.workspace_members set role = 'owner' where workspace_id = ${ws} and user_id = ${editor.id}`);
      expect(second?.message).toMatch(RLS);
      const move = await errorOf(tx, (sp) => sp`update public.workspace_members set workspace_id = ${newcomer.workspaceId} where user_id = ${viewer.id} and workspace_id = ${ws}`);
      expect(move?.message).toMatch(DENIED);
      expect(await tx`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${newcomer.id} returning 1`).toHaveLength(1);
      expect(await roleOf(tx, newcomer.id)).toBeNull();
    });
    await sql`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${newcomer.id}`;
  });

  it("an owner cannot add themselves to another workspace", async () => {
    const other = await makeUser(sql, "other");
    await asUser(sql, owner.id, async (tx) => {
      const join = await errorOf(tx, (sp) => sp`insert into public.workspace_members (workspace_id, user_id, role) values (${other.workspaceId}, ${owner.id}, 'owner')`);
      expect(join?.message).toMatch(RLS);
    });
  });

  it("the last owner can neither demote themselves nor leave: a workspace always has an owner", async () => {
    await asUser(sql, owner.id, async (tx) => {
      // Nobody changes their own role (the policy leaves their own row out): ownership moves only by transfer.
      expect(await tx`update public.workspace_members set role = 'admin' where workspace_id = ${ws} and user_id = ${owner.id} returning 1`).toHaveLength(0);
      const leave = await errorOf(tx, (sp) => sp`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${owner.id}`);
      expect(leave?.message).toBe("A workspace needs an owner: make another member owner first, or delete the workspace.");
      expect(await roleOf(tx, owner.id)).toBe("owner");
    });
  });

  it("after transferring ownership, the old owner is an admin and may leave", async () => {
    await asUser(sql, owner.id, async (tx) => {
      await tx`select public.transfer_workspace_ownership(${ws}, ${admin.id})`;
      expect(await roleOf(tx, owner.id)).toBe("admin");
      expect(await roleOf(tx, admin.id)).toBe("owner");
      expect(await tx`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${owner.id} returning user_id`).toEqual([{ user_id: owner.id }]);
    });
  });

  it("deleting the last owner's user still works (their memberships go with them)", async () => {
    const leaving = await makeUser(sql, "leaving");
    await sql`delete from auth.users where id = ${leaving.id}`;
    expect(await sql`select 1 from public.workspace_members where user_id = ${leaving.id}`).toHaveLength(0);
  });

  it("deleting the workspace still takes its last owner's membership with it", async () => {
    const solo = await makeUser(sql, "solo");
    await asUser(sql, solo.id, async (tx) => {
      expect(await tx`delete from public.workspaces where id = ${solo.workspaceId} returning id`).toHaveLength(1);
      expect(await tx`select 1 from public.workspace_members where workspace_id = ${solo.workspaceId}`).toHaveLength(0);
    });
  });
});

describe("social accounts", () => {
  // Lifecycle columns change through the engine, billing and health checks, never a user's update.
  const ENGINE_COLUMNS: Array<[string, string]> = [
    ["state", "'active'"],
    ["health_score", "1"],
    ["cooldown_until", "now()"],
    ["requires_review", "true"],
    ["last_error", "'x'"],
    ["paused_reason", "'plan_limit'"],
    ["state_before_pause", "'active'"],
    ["created_by", "null"],
    ["workspace_id", "gen_random_uuid()"],
    ["platform", "'x'"],
  ];

  /** The lifecycle columns (and the stored credentials) this user's update is NOT refused for. */
  async function writableColumns(tx: Tx) {
    const writable: string[] = [];
    for (const [column, value] of [...ENGINE_COLUMNS, ["credentials_encrypted", "'forged'"]]) {
      const error = await errorOf(tx, (sp) => sp.unsafe(`update public.social_accounts set ${column} = ${value} where id = $1`, [accountId]));
      if (!DENIED.test(error?.message ?? "")) writable.push(column);
    }
    return writable;
  }

  it("an editor can add accounts and rename them, and nothing else", async () => {
    await asUser(sql, editor.id, async (tx) => {
      const [added] = await tx`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                               values (${ws}, 'sandbox', 'by_editor', 'By editor') returning handle, state, created_by`;
      expect(added).toEqual({ handle: "by_editor", state: "connected", created_by: editor.id });
      expect(await tx`update public.social_accounts set display_name = 'Renamed', handle = 'roles_renamed' where id = ${accountId}
                      returning display_name, handle`).toEqual([{ display_name: "Renamed", handle: "roles_renamed" }]);
      expect(await writableColumns(tx)).toEqual([]);
      for (const column of ["credentials_encrypted", "state_before_pause"]) {
        const error = await errorOf(tx, (sp) => sp.unsafe(`select ${column} from public.social_accounts where id = $1`, [accountId]));
        expect(error?.message, column).toMatch(DENIED);
      }
      const forged = await errorOf(tx, (sp) => sp`insert into public.social_accounts (workspace_id, platform, handle, display_name, state, health_score)
                                                  values (${ws}, 'sandbox', 'forged', 'Forged', 'active', 100)`);
      expect(forged?.message).toMatch(DENIED);
      expect((await errorOf(tx, (sp) => sp`delete from public.social_accounts where id = ${accountId}`))?.message).toMatch(DENIED);
      expect(await tx`select outcome from public.remove_accounts(${[accountId]}::uuid[])`).toEqual([{ outcome: "forbidden" }]);
    });
  });

  it("an admin and an owner can also remove accounts, and still cannot write lifecycle columns", async () => {
    for (const member of [admin, owner]) {
      await asUser(sql, member.id, async (tx) => {
        expect(await writableColumns(tx)).toEqual([]);
        // Removal archives (public.remove_accounts); nobody deletes the row.
        expect((await errorOf(tx, (sp) => sp`delete from public.social_accounts where id = ${accountId}`))?.message).toMatch(DENIED);
        expect(await tx`select outcome from public.remove_accounts(${[accountId]}::uuid[])`).toEqual([{ outcome: "removed" }]);
      });
    }
    expect(await sql`select archived_at from public.social_accounts where id = ${accountId}`).toEqual([{ archived_at: null }]); // rolled back
  });
});

describe("the queue", () => {
  it("an editor, admin or owner can queue posts, cancel and retry through the functions, never write an item directly", async () => {
    for (const member of [editor, admin, owner]) {
      await asUser(sql, member.id, async (tx) => {
        const [p] = await tx`insert into public.posts (workspace_id, text) values (${ws}, 'queued') returning id, created_by`;
        expect(p.created_by).toBe(member.id);
        const [q] = await tx`insert into public.queue_items (workspace_id, post_id, account_id) values (${ws}, ${p.id}, ${accountId}) returning status`;
        expect(q.status).toBe("pending");
        const forged = await errorOf(tx, (sp) => sp`insert into public.queue_items (workspace_id, post_id, account_id, status) values (${ws}, ${p.id}, ${accountId}, 'posted')`);
        expect(forged?.message).toMatch(DENIED);
        for (const change of ["status = 'posted'", "attempts = 0", "lease_id = null", "run_at = now()", "cancel_requested = true"]) {
          const error = await errorOf(tx, (sp) => sp.unsafe(`update public.queue_items set ${change} where id = $1`, [itemId]));
          expect(error?.message, change).toMatch(DENIED);
        }
        expect((await errorOf(tx, (sp) => sp`delete from public.queue_items where id = ${itemId}`))?.message).toMatch(DENIED);
        expect((await errorOf(tx, (sp) => sp`delete from public.posts where workspace_id = ${ws}`))?.message).toMatch(DENIED);
        expect(await tx`select * from private.cancel_queue_items(${ws}, ${[itemId]}::bigint[])`).toEqual([{ cancelled: 1, cancel_requested: 0 }]);
        expect(await tx`select private.retry_queue_items(${ws}, ${[failedId]}::bigint[]) as n`).toEqual([{ n: 1 }]);
        expect((await tx`select id, status from public.queue_items where id = any(${[itemId, failedId]}) order by id`).map((r) => r.status))
          .toEqual(["cancelled", "pending"]);
      });
    }
  });

  it("a viewer can read the queue but neither queue, cancel nor retry", async () => {
    await asUser(sql, viewer.id, async (tx) => {
      expect(await tx`select id from public.queue_items where id = ${itemId}`).toHaveLength(1);
      const post = await errorOf(tx, (sp) => sp`insert into public.posts (workspace_id, text) values (${ws}, 'by viewer')`);
      expect(post?.message).toMatch(RLS);
      const cancel = await errorOf(tx, (sp) => sp`select * from private.cancel_queue_items(${ws}, ${[itemId]}::bigint[])`);
      expect(cancel?.message).toBe("Your role in this workspace does not allow cancelling posts; editors and up can.");
      const retry = await errorOf(tx, (sp) => sp`select private.retry_queue_items(${ws}, ${[failedId]}::bigint[])`);
      expect(retry?.message).toBe("Your role in this workspace does not allow retrying posts; editors and up can.");
    });
  });
});

describe("rate limits", () => {
  it("an editor can read the workspace's limits but not add, change or remove them", async () => {
    await asUser(sql, editor.id, async (tx) => {
      expect(await tx`select per_hour from public.workspace_rate_limits where workspace_id = ${ws}`).toEqual([{ per_hour: 100 }]);
      const add = await errorOf(tx, (sp) => sp`insert into public.workspace_rate_limits (workspace_id, platform, action, per_hour) values (${ws}, 'sandbox', 'reply', 5)`);
      expect(add?.message).toMatch(RLS);
      expect(await tx`update public.workspace_rate_limits set per_hour = 1 where workspace_id = ${ws} returning 1`).toHaveLength(0);
      expect(await tx`delete from public.workspace_rate_limits where workspace_id = ${ws} returning 1`).toHaveLength(0);
    });
  });

  it("an admin and an owner can tighten, change and remove them, never loosen them past the platform's", async () => {
    for (const member of [admin, owner]) {
      await asUser(sql, member.id, async (tx) => {
        expect(await tx`insert into public.workspace_rate_limits (workspace_id, platform, action, per_day) values (${ws}, 'sandbox', 'reply', 5)
                        returning per_day`).toEqual([{ per_day: 5 }]);
        expect(await tx`update public.workspace_rate_limits set per_hour = 10 where workspace_id = ${ws} and action = 'post'
                        returning per_hour`).toEqual([{ per_hour: 10 }]);
        const loosen = await errorOf(tx, (sp) => sp`update public.workspace_rate_limits set per_hour = 100000 where workspace_id = ${ws} and action = 'post'`);
        expect(loosen?.message).toMatch(/only make sandbox post limits stricter: at most 3600 per hour/);
        const source = await errorOf(tx, (sp) => sp`update public.workspace_rate_limits set workspace_id = gen_random_uuid() where workspace_id = ${ws}`);
        expect(source?.message).toMatch(DENIED);
        expect(await tx`delete from public.workspace_rate_limits where workspace_id = ${ws} returning action`).toHaveLength(2);
        const platformWide = await errorOf(tx, (sp) => sp`update public.rate_limit_policies set per_hour = 1000000`);
        expect(platformWide?.message).toMatch(DENIED);
      });
    }
  });
});

describe("subscriptions", () => {
  it("every role can read the workspace's subscription, none can write it", async () => {
    for (const member of [viewer, editor, admin, owner]) {
      await asUser(sql, member.id, async (tx) => {
        expect(await tx`select status from public.subscriptions where workspace_id = ${ws}`).toEqual([{ status: "active" }]);
        const writes = [
          (sp: typeof tx) => sp`update public.subscriptions set plan_id = 'ultra' where workspace_id = ${ws}`,
          (sp: typeof tx) => sp`delete from public.subscriptions where workspace_id = ${ws}`,
          (sp: typeof tx) => sp`insert into public.subscriptions (id, workspace_id, stripe_customer_id, status, plan_id)
                                values ('sub_forged', ${ws}, 'cus_forged', 'active', 'ultra')`,
        ];
        for (const write of writes) expect((await errorOf(tx, write))?.message, member.email).toMatch(DENIED);
      });
    }
  });
});
