// Who may change whom in a team, in SQL as the `authenticated` role (as supabase-js would, around the
// API): inviting, accepting, changing roles, removing, leaving and transferring ownership. Each scene
// acts as one person and is rolled back, so every test starts from the same team.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asUser, connect, errorOf, makeUser, type Sql } from "../support/db";

let sql: Sql;
type User = Awaited<ReturnType<typeof makeUser>>;
type Tx = Parameters<Parameters<typeof asUser>[2]>[0];
let owner: User;
let admin: User;
let admin2: User;
let editor: User;
let viewer: User;
let outsider: User;
let ws: string;

const RLS = /new row violates row-level security policy/;
const DENIED = /permission denied for table/;

/** A user whose address the auth server has confirmed, as after a real sign-up. */
async function confirmedUser(label: string): Promise<User> {
  const u = await makeUser(sql, label);
  await sql`update auth.users set email_confirmed_at = now() where id = ${u.id}`;
  return u;
}

beforeAll(async () => {
  sql = connect();
  owner = await confirmedUser("owner");
  [admin, admin2, editor, viewer, outsider] = await Promise.all(
    ["admin", "admin2", "editor", "viewer", "outsider"].map((l) => confirmedUser(l)),
  );
  ws = owner.workspaceId;
  for (const [u, role] of [[admin, "admin"], [admin2, "admin"], [editor, "editor"], [viewer, "viewer"]] as const) {
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${u.id}, ${role})`;
  }
});
afterAll(() => sql.end());

const roleOf = async (tx: Sql | Tx, userId: string, workspaceId = ws) =>
  (await tx`select role from public.workspace_members where workspace_id = ${workspaceId} and user_id = ${userId}`)[0]?.role ?? null;

const invite = (tx: Tx, email: string, role: string, workspaceId = ws) =>
  tx`select * from public.invite_to_workspace(${workspaceId}, ${email}, ${role}::public.workspace_role)`.then((r) => r[0]);

const codeOf = (error: { detail?: string } | null) => (error?.detail ? JSON.parse(error.detail).code : null);

/** Like asUser, but committed: for what a later scene (or the audit log) must see. */
function committedAs<T>(userId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: "authenticated" })}, true),
                    set_config('role', 'authenticated', true)`;
    return fn(tx);
  }) as Promise<T>;
}

/** An invitation made by the owner (committed), for scenes that accept or revoke it. */
async function ownerInvites(email: string, role = "editor") {
  const [row] = await committedAs(owner.id, (tx) => invite(tx, email, role).then((r) => [r]));
  return { id: row.invitation_id as string, token: row.token as string };
}

describe("inviting", () => {
  it("an editor or a viewer cannot invite anyone, at any role", async () => {
    for (const member of [editor, viewer]) {
      await asUser(sql, member.id, async (tx) => {
        for (const role of ["viewer", "editor", "admin"]) {
          const error = await errorOf(tx, (sp) => invite(sp, `x-${role}@example.test`, role));
          expect(codeOf(error), `${member.email} as ${role}`).toBe("role_not_allowed");
        }
        expect(await tx`select 1 from public.workspace_invitations where workspace_id = ${ws}`).toHaveLength(0);
      });
    }
  });

  it("an admin invites editors and viewers, but not admins or owners", async () => {
    await asUser(sql, admin.id, async (tx) => {
      expect((await invite(tx, "New-Editor@Example.test ", "editor")).token).toMatch(/^[0-9a-f]{64}$/);
      expect((await invite(tx, "new-viewer@example.test", "viewer")).token).toMatch(/^[0-9a-f]{64}$/);
      expect(codeOf(await errorOf(tx, (sp) => invite(sp, "new-admin@example.test", "admin")))).toBe("role_not_allowed");
      expect(codeOf(await errorOf(tx, (sp) => invite(sp, "new-owner@example.test", "owner")))).toBe("role_not_allowed");
      const rows = await tx`select email, role, invited_by from public.workspace_invitations where workspace_id = ${ws} order by email`;
      expect(rows).toEqual([
        { email: "new-editor@example.test", role: "editor", invited_by: admin.id },
        { email: "new-viewer@example.test", role: "viewer", invited_by: admin.id },
      ]);
    });
  });

  it("the owner invites admins, and nobody invites an owner", async () => {
    await asUser(sql, owner.id, async (tx) => {
      expect(await invite(tx, "new-admin@example.test", "admin")).toBeTruthy();
      expect(codeOf(await errorOf(tx, (sp) => invite(sp, "new-owner@example.test", "owner")))).toBe("role_not_allowed");
    });
  });

  it("nobody invites into a workspace they are not in: it is not found", async () => {
    await asUser(sql, outsider.id, async (tx) => {
      const error = await errorOf(tx, (sp) => invite(sp, "spy@example.test", "viewer"));
      expect(error?.code).toBe("P0002");
    });
  });

  it("inviting a member again is refused; inviting an open address again replaces its link", async () => {
    await asUser(sql, owner.id, async (tx) => {
      expect(codeOf(await errorOf(tx, (sp) => invite(sp, editor.email, "viewer")))).toBe("already_member");
      const first = await invite(tx, "twice@example.test", "viewer");
      const second = await invite(tx, "twice@example.test", "editor");
      expect(second.token).not.toBe(first.token);
      expect(await tx`select role from public.workspace_invitations where workspace_id = ${ws} and email = 'twice@example.test'`).toEqual([{ role: "editor" }]);
    });
  });

  it("an admin cannot replace the owner's invitation of an admin", async () => {
    await asUser(sql, owner.id, async (tx) => {
      await invite(tx, "future-admin@example.test", "admin");
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: admin.id, role: "authenticated" })}, true)`;
      expect(codeOf(await errorOf(tx, (sp) => invite(sp, "future-admin@example.test", "viewer")))).toBe("role_not_allowed");
    });
  });

  it("as `authenticated`, nobody writes invitations directly or reads their token hashes", async () => {
    const made = await ownerInvites("direct@example.test");
    try {
      await asUser(sql, owner.id, async (tx) => {
        const insert = await errorOf(tx, (sp) => sp`insert into public.workspace_invitations (workspace_id, email, role, token_hash, expires_at)
                                                    values (${ws}, 'forged@example.test', 'admin', 'abc', now() + interval '1 year')`);
        expect(insert?.message).toMatch(DENIED);
        const extend = await errorOf(tx, (sp) => sp`update public.workspace_invitations set expires_at = now() + interval '1 year' where id = ${made.id}`);
        expect(extend?.message).toMatch(DENIED);
        const hash = await errorOf(tx, (sp) => sp`select token_hash from public.workspace_invitations where id = ${made.id}`);
        expect(hash?.message).toMatch(DENIED);
      });
      await asUser(sql, editor.id, async (tx) => {
        expect(await tx`select id from public.workspace_invitations where workspace_id = ${ws}`).toHaveLength(0);
        expect(await tx`delete from public.workspace_invitations where id = ${made.id} returning id`).toHaveLength(0);
      });
    } finally {
      await sql`delete from public.workspace_invitations where id = ${made.id}`;
    }
  });

  it("an admin revokes open invitations of editors and viewers, not the owner's invitation of an admin", async () => {
    const ofEditor = await ownerInvites("revoke-editor@example.test", "editor");
    const ofAdmin = await ownerInvites("revoke-admin@example.test", "admin");
    try {
      await asUser(sql, admin.id, async (tx) => {
        expect(await tx`delete from public.workspace_invitations where id = ${ofEditor.id} returning id`).toEqual([{ id: ofEditor.id }]);
        expect(await tx`delete from public.workspace_invitations where id = ${ofAdmin.id} returning id`).toHaveLength(0);
      });
    } finally {
      await sql`delete from public.workspace_invitations where id in ${sql([ofEditor.id, ofAdmin.id])}`;
    }
  });
});

describe("accepting", () => {
  it("joins the invited address at the invited role, once, and the link is spent", async () => {
    const joiner = await confirmedUser("joiner");
    const { token } = await ownerInvites(joiner.email.toUpperCase(), "editor");
    await asUser(sql, joiner.id, async (tx) => {
      expect(await tx`select * from public.accept_invitation(${token})`).toEqual([{ workspace_id: ws, role: "editor" }]);
      expect(await roleOf(tx, joiner.id)).toBe("editor");
      expect(await tx`select status from public.invitation_preview(${token})`).toEqual([{ status: "used" }]);
      expect(codeOf(await errorOf(tx, (sp) => sp`select * from public.accept_invitation(${token})`))).toBe("invitation_used");
    });
  });

  it("refuses someone else's invitation, even with its link, and leaves it open for its addressee", async () => {
    const { id, token } = await ownerInvites("someone-else@example.test");
    await asUser(sql, outsider.id, async (tx) => {
      expect(codeOf(await errorOf(tx, (sp) => sp`select * from public.accept_invitation(${token})`))).toBe("invitation_for_another_email");
      expect(await roleOf(tx, outsider.id)).toBeNull();
    });
    expect((await sql`select accepted_at from public.workspace_invitations where id = ${id}`)[0].accepted_at).toBeNull();
  });

  it("refuses an address the auth server has not confirmed", async () => {
    const unconfirmed = await makeUser(sql, "unconfirmed");
    const { token } = await ownerInvites(unconfirmed.email);
    await asUser(sql, unconfirmed.id, async (tx) => {
      expect(codeOf(await errorOf(tx, (sp) => sp`select * from public.accept_invitation(${token})`))).toBe("invitation_for_another_email");
    });
  });

  it("refuses an expired invitation, and one that was revoked or replaced", async () => {
    const late = await confirmedUser("late");
    const expired = await ownerInvites(late.email);
    await sql`update public.workspace_invitations set expires_at = now() - interval '1 second' where id = ${expired.id}`;
    await asUser(sql, late.id, async (tx) => {
      expect(codeOf(await errorOf(tx, (sp) => sp`select * from public.accept_invitation(${expired.token})`))).toBe("invitation_expired");
    });
    const replaced = await ownerInvites(late.email);
    await ownerInvites(late.email);
    await asUser(sql, late.id, async (tx) => {
      expect((await errorOf(tx, (sp) => sp`select * from public.accept_invitation(${replaced.token})`))?.code).toBe("P0002");
      expect((await errorOf(tx, (sp) => sp`select * from public.accept_invitation(${"0".repeat(64)})`))?.code).toBe("P0002");
      expect(await roleOf(tx, late.id)).toBeNull();
    });
  });

  it("nobody adds a membership directly, not even the owner adding someone", async () => {
    await asUser(sql, owner.id, async (tx) => {
      const add = await errorOf(tx, (sp) => sp`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${outsider.id}, 'viewer')`);
      expect(add?.message).toMatch(RLS);
    });
    await asUser(sql, outsider.id, async (tx) => {
      const join = await errorOf(tx, (sp) => sp`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${outsider.id}, 'owner')`);
      expect(join?.message).toMatch(RLS);
    });
  });
});

describe("changing roles", () => {
  it("an admin cannot make themselves owner or admin of anything more, by any path", async () => {
    await asUser(sql, admin.id, async (tx) => {
      expect(await tx`update public.workspace_members set role = 'owner' where workspace_id = ${ws} and user_id = ${admin.id} returning 1`).toHaveLength(0);
      const transfer = await errorOf(tx, (sp) => sp`select public.transfer_workspace_ownership(${ws}, ${admin.id})`);
      expect(codeOf(transfer)).toBe("owner_only");
      const toOther = await errorOf(tx, (sp) => sp`select public.transfer_workspace_ownership(${ws}, ${editor.id})`);
      expect(codeOf(toOther)).toBe("owner_only");
      // Making an editor owner (or admin) is refused outright, not silently skipped.
      for (const role of ["owner", "admin"]) {
        const error = await errorOf(tx, (sp) => sp`update public.workspace_members set role = ${role}::public.workspace_role where workspace_id = ${ws} and user_id = ${editor.id}`);
        expect(error?.message, role).toMatch(RLS);
      }
      expect(await tx`update public.workspace_members set role = 'viewer' where workspace_id = ${ws} and user_id = ${owner.id} returning 1`).toHaveLength(0);
      expect(await tx`update public.workspace_members set role = 'viewer' where workspace_id = ${ws} and user_id = ${admin2.id} returning 1`).toHaveLength(0);
      expect(await roleOf(tx, admin.id)).toBe("admin");
      expect(await roleOf(tx, owner.id)).toBe("owner");
    });
  });

  it("an admin moves members between editor and viewer", async () => {
    await asUser(sql, admin.id, async (tx) => {
      expect(await tx`update public.workspace_members set role = 'viewer' where workspace_id = ${ws} and user_id = ${editor.id} returning role`).toEqual([{ role: "viewer" }]);
      expect(await tx`update public.workspace_members set role = 'editor' where workspace_id = ${ws} and user_id = ${viewer.id} returning role`).toEqual([{ role: "editor" }]);
    });
  });

  it("an editor or viewer changes nobody's role, not even their own", async () => {
    for (const member of [editor, viewer]) {
      await asUser(sql, member.id, async (tx) => {
        for (const target of [member, viewer, editor, admin, owner]) {
          expect(await tx`update public.workspace_members set role = 'admin' where workspace_id = ${ws} and user_id = ${target.id} returning 1`).toHaveLength(0);
        }
      });
    }
  });

  it("the owner makes admins and unmakes them, but cannot make a second owner or demote themselves", async () => {
    await asUser(sql, owner.id, async (tx) => {
      expect(await tx`update public.workspace_members set role = 'admin' where workspace_id = ${ws} and user_id = ${editor.id} returning role`).toEqual([{ role: "admin" }]);
      expect(await tx`update public.workspace_members set role = 'viewer' where workspace_id = ${ws} and user_id = ${admin.id} returning role`).toEqual([{ role: "viewer" }]);
      const second = await errorOf(tx, (sp) => sp`update public.workspace_members set role = 'owner' where workspace_id = ${ws} and user_id = ${admin2.id}`);
      expect(second?.message).toMatch(RLS);
      expect(await tx`update public.workspace_members set role = 'admin' where workspace_id = ${ws} and user_id = ${owner.id} returning 1`).toHaveLength(0);
    });
  });

  it("a workspace never holds two owners, whoever writes", async () => {
    const error = await sql`update public.workspace_members set role = 'owner' where workspace_id = ${ws} and user_id = ${admin2.id}`.catch((e) => e);
    expect(error?.message).toMatch(/workspace_members_one_owner/);
    expect(await roleOf(sql, admin2.id)).toBe("admin");
  });
});

describe("removing and leaving", () => {
  it("an admin removes editors and viewers, not other admins or the owner", async () => {
    await asUser(sql, admin.id, async (tx) => {
      expect(await tx`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${viewer.id} returning user_id`).toEqual([{ user_id: viewer.id }]);
      expect(await tx`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${editor.id} returning user_id`).toEqual([{ user_id: editor.id }]);
      expect(await tx`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${admin2.id} returning 1`).toHaveLength(0);
      expect(await tx`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${owner.id} returning 1`).toHaveLength(0);
    });
  });

  it("an editor removes nobody but themselves", async () => {
    await asUser(sql, editor.id, async (tx) => {
      expect(await tx`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${viewer.id} returning 1`).toHaveLength(0);
      expect(await tx`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${editor.id} returning user_id`).toEqual([{ user_id: editor.id }]);
    });
  });

  it("the owner removes an admin, but cannot leave: they transfer ownership first", async () => {
    await asUser(sql, owner.id, async (tx) => {
      expect(await tx`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${admin.id} returning user_id`).toEqual([{ user_id: admin.id }]);
      const leave = await errorOf(tx, (sp) => sp`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${owner.id}`);
      expect(codeOf(leave)).toBe("last_owner");
    });
  });

  it("a removed member sees nothing of the workspace any more", async () => {
    const gone = await confirmedUser("gone");
    const { token } = await ownerInvites(gone.email, "editor");
    await asUser(sql, gone.id, async (tx) => {
      await tx`select * from public.accept_invitation(${token})`;
      expect(await tx`select id from public.workspaces where id = ${ws}`).toHaveLength(1);
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: owner.id, role: "authenticated" })}, true)`;
      await tx`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${gone.id}`;
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: gone.id, role: "authenticated" })}, true)`;
      expect(await tx`select id from public.workspaces where id = ${ws}`).toHaveLength(0);
      expect(await tx`select user_id from public.workspace_members where workspace_id = ${ws}`).toHaveLength(0);
      expect(await tx`select id from public.social_accounts where workspace_id = ${ws}`).toHaveLength(0);
      const post = await errorOf(tx, (sp) => sp`insert into public.posts (workspace_id, text) values (${ws}, 'after removal')`);
      expect(post?.message).toMatch(RLS);
    });
  });
});

describe("transferring ownership", () => {
  it("the owner hands over: the new owner is the only owner, and the old one an admin", async () => {
    await asUser(sql, owner.id, async (tx) => {
      await tx`select public.transfer_workspace_ownership(${ws}, ${viewer.id})`;
      expect(await tx`select user_id, role from public.workspace_members where workspace_id = ${ws} and role in ('owner', 'admin') order by role desc, user_id`)
        .toEqual([{ user_id: viewer.id, role: "owner" }, ...[owner.id, admin.id, admin2.id].sort().map((id) => ({ user_id: id, role: "admin" }))]);
      const [audit] = await tx`select action, actor_id, old_values, new_values from public.audit_log
                               where workspace_id = ${ws} and action = 'transfer_ownership' order by id desc limit 1`;
      expect(audit).toEqual({ action: "transfer_ownership", actor_id: owner.id, old_values: { owner: owner.id }, new_values: { owner: viewer.id } });
      // The old owner is now an admin, with an admin's limits.
      expect(codeOf(await errorOf(tx, (sp) => sp`select public.transfer_workspace_ownership(${ws}, ${owner.id})`))).toBe("owner_only");
    });
  });

  it("two transfers at once leave exactly one owner: the second finds its caller no longer owns the workspace", async () => {
    const boss = await confirmedUser("boss");
    const [a, b] = [await confirmedUser("heir-a"), await confirmedUser("heir-b")];
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${boss.workspaceId}, ${a.id}, 'editor'), (${boss.workspaceId}, ${b.id}, 'editor')`;
    const outcomes = await Promise.allSettled(
      [a, b].map((heir) => committedAs(boss.id, (tx) => tx`select public.transfer_workspace_ownership(${boss.workspaceId}, ${heir.id})`)),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
    expect(codeOf(refused.reason)).toBe("owner_only");
    const owners = await sql`select user_id from public.workspace_members where workspace_id = ${boss.workspaceId} and role = 'owner'`;
    expect(owners).toHaveLength(1);
    expect([a.id, b.id]).toContain(owners[0].user_id);
    expect(await roleOf(sql, boss.id, boss.workspaceId)).toBe("admin");
  });

  it("only to a member of the workspace", async () => {
    await asUser(sql, owner.id, async (tx) => {
      expect((await errorOf(tx, (sp) => sp`select public.transfer_workspace_ownership(${ws}, ${outsider.id})`))?.code).toBe("P0002");
      expect(codeOf(await errorOf(tx, (sp) => sp`select public.transfer_workspace_ownership(${ws}, ${owner.id})`))).toBe("already_owner");
      expect((await errorOf(tx, (sp) => sp`select public.transfer_workspace_ownership(${outsider.workspaceId}, ${owner.id})`))?.code).toBe("P0002");
      expect(await roleOf(tx, owner.id)).toBe("owner");
    });
  });
});

describe("the audit log", () => {
  it("records invitations made and accepted, and role changes, with who did them and never a token", async () => {
    const joiner = await confirmedUser("audited");
    const { id, token } = await ownerInvites(joiner.email, "viewer");
    await committedAs(joiner.id, (tx) => tx`select * from public.accept_invitation(${token})`);
    await committedAs(admin.id, (tx) => tx`update public.workspace_members set role = 'editor' where workspace_id = ${ws} and user_id = ${joiner.id}`);
    const rows = await sql`select action, entity, actor_id, old_values ->> 'role' as old_role, new_values ->> 'role' as new_role, old_values, new_values
                           from public.audit_log where workspace_id = ${ws} and entity_id in (${id}, ${`${ws}:${joiner.id}`}) order by id`;
    expect(rows.map((r) => [r.action, r.entity, r.actor_id, r.old_role, r.new_role])).toEqual([
      ["invite", "workspace_invitations", owner.id, null, "viewer"],
      ["insert", "workspace_members", joiner.id, null, "viewer"],
      ["accept_invitation", "workspace_invitations", joiner.id, "viewer", "viewer"],
      ["update", "workspace_members", admin.id, "viewer", "editor"],
    ]);
    expect(JSON.stringify(rows)).not.toContain("token");
    await sql`delete from public.workspace_members where workspace_id = ${ws} and user_id = ${joiner.id}`;
  });
});
