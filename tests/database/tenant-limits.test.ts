// Tenant limits held by Postgres, tried as an attacker would: signed in (role authenticated), writing
// straight to the tables as supabase-js over Supabase's Data API can, around Pacer's own API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import type { Row, TransactionSql } from "postgres";
import { addAccounts, asUser, connect, errorOf, makeUser, type Sql } from "../support/db";

let sql: Sql;
beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());

type User = Awaited<ReturnType<typeof makeUser>>;

const accountOf = async (workspaceId: string) =>
  ((await sql`select id from public.social_accounts where workspace_id = ${workspaceId} order by created_at limit 1`)[0]).id as string;

/** A user with one sandbox account and one post in their personal workspace. */
async function tenant(label: string) {
  const user = await makeUser(sql, label);
  await addAccounts(sql, user.workspaceId, 1, label);
  const accountId = await accountOf(user.workspaceId);
  const [post] = await sql`insert into public.posts (workspace_id, text) values (${user.workspaceId}, 'a post') returning id`;
  return { ...user, accountId, postId: post.id as string };
}

const detailOf = (err: { detail?: string } | null) => JSON.parse(err?.detail ?? "{}");

describe("creating workspaces", () => {
  const create = (u: User, name: string) =>
    asUser(sql, u.id, (tx) => errorOf(tx, (sp) => sp`select public.create_workspace(${name})`));
  const created = async (u: User) =>
    (await sql`select count(*)::int as n from public.workspaces where created_by = ${u.id}`)[0].n as number;

  it("refuses a second Free workspace: the personal one is the user's Free workspace", async () => {
    const u = await makeUser(sql, "ws-free");
    const err = await asUser(sql, u.id, async (tx) => {
      const e = await errorOf(tx, (sp) => sp`select public.create_workspace('Side project')`);
      expect(await tx`select id from public.workspaces where name = 'Side project'`).toEqual([]);
      return e;
    });
    expect(err?.message).toMatch(/^You already have a workspace on the Free plan \(".*'s workspace"\); each user may create one\.$/);
    expect(err?.hint).toMatch(/Subscribe ".*" to a paid plan \(Billing\) to create another workspace/);
    expect(detailOf(err)).toMatchObject({ code: "free_workspace_limit", workspace_id: u.workspaceId });
  });

  it("allows one more once every workspace the user made is on a paid plan, and that one is Free", async () => {
    const u = await makeUser(sql, "ws-paid");
    await sql`update public.workspaces set plan_id = 'starter' where id = ${u.workspaceId}`;
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: u.id, role: "authenticated" })}, true),
                      set_config('role', 'authenticated', true)`;
      const [{ id }] = await tx`select public.create_workspace('Agency') as id`;
      const [ws] = await tx`select plan_id, personal from public.workspaces where id = ${id}`;
      expect(ws).toEqual({ plan_id: "free", personal: false });
    });
    expect(await created(u)).toBe(2);
    expect((await create(u, "Third"))?.message).toMatch(/already have a workspace on the Free plan \("Agency"\)/);
    expect(await created(u)).toBe(2);
  });

  it("does not free the slot when the user steps down from owner of their Free workspace", async () => {
    const u = await makeUser(sql, "ws-demote");
    const other = await makeUser(sql, "ws-new-owner");
    // Handed over as a transfer does it: one statement, since a workspace has exactly one owner.
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${u.workspaceId}, ${other.id}, 'admin')`;
    await sql`update public.workspace_members set role = case when user_id = ${other.id} then 'owner' else 'admin' end::public.workspace_role
              where workspace_id = ${u.workspaceId}`;
    expect((await create(u, "Loophole"))?.message).toMatch(/already have a workspace on the Free plan/);
    expect(await created(u)).toBe(1);
  });
});

describe("plan features: bulk posting", () => {
  it("lets a Free workspace add one post per statement, and refuses several at once naming the plan that allows it", async () => {
    const t = await tenant("bulk-free");
    await asUser(sql, t.id, async (tx) => {
      expect(await errorOf(tx, (sp) => sp`insert into public.posts (workspace_id, text) values (${t.workspaceId}, 'one')`)).toBeNull();
      const err = await errorOf(tx, (sp) =>
        sp`insert into public.posts (workspace_id, text) select ${t.workspaceId}, 'bulk ' || g from generate_series(1, 1000) g`);
      expect(err?.message).toBe("Bulk posting is not part of the Free plan: this statement adds 1000 posts at once, and that plan allows one at a time.");
      expect(err?.hint).toBe("Upgrade to Starter or above, or add posts one by one.");
      expect(detailOf(err)).toMatchObject({ code: "plan_feature_unavailable", feature: "bulk_import" });
    });
  });

  it("refuses queueing several posts in one statement on Free, even when the posts were added one by one", async () => {
    const t = await tenant("bulk-items");
    const [second] = await sql`insert into public.posts (workspace_id, text) values (${t.workspaceId}, 'another') returning id`;
    await asUser(sql, t.id, async (tx) => {
      const err = await errorOf(tx, (sp) =>
        sp`insert into public.queue_items (workspace_id, post_id, account_id)
           values (${t.workspaceId}, ${t.postId}, ${t.accountId}), (${t.workspaceId}, ${second.id}, ${t.accountId})`);
      expect(err?.message).toMatch(/^Bulk posting is not part of the Free plan: this statement adds 2 posts at once/);
    });
  });

  it("allows bulk statements on a plan with the feature", async () => {
    const t = await tenant("bulk-starter");
    await sql`update public.workspaces set plan_id = 'starter' where id = ${t.workspaceId}`;
    await asUser(sql, t.id, async (tx) => {
      const rows = await tx`insert into public.posts (workspace_id, text) select ${t.workspaceId}, 'bulk ' || g from generate_series(1, 100) g returning id`;
      expect(rows).toHaveLength(100);
    });
  });

  it("refuses the same post twice for the same account", async () => {
    const t = await tenant("bulk-repeat");
    await sql`update public.workspaces set plan_id = 'starter' where id = ${t.workspaceId}`;
    await asUser(sql, t.id, async (tx) => {
      const err = await errorOf(tx, (sp) =>
        sp`insert into public.queue_items (workspace_id, post_id, account_id)
           select ${t.workspaceId}, ${t.postId}, ${t.accountId} from generate_series(1, 3)`);
      expect(err?.code).toBe("23505");
    });
  });
});

describe("the API's rules hold on rows a user writes directly", () => {
  let t: Awaited<ReturnType<typeof tenant>>;
  beforeAll(async () => {
    t = await tenant("rules");
  });

  const queue = (values: { scheduled_for?: string; run_at?: string; priority?: number; account_id?: string }) =>
    asUser(sql, t.id, async (tx) => {
      const v = { scheduled_for: "now", run_at: "now", priority: 5, account_id: t.accountId, ...values };
      const err = await errorOf(tx, (sp) =>
        sp`insert into public.queue_items (workspace_id, post_id, account_id, priority, scheduled_for, run_at)
           values (${t.workspaceId}, ${t.postId}, ${v.account_id}, ${v.priority}, ${v.scheduled_for}::text::timestamptz, ${v.run_at}::text::timestamptz)`);
      const rows = err ? [] : await tx`select run_at, scheduled_for from public.queue_items where post_id = ${t.postId}`;
      return { err, rows };
    });

  it("refuses run_at = '-infinity', which would put an item ahead of every other", async () => {
    const { err } = await queue({ run_at: "-infinity" });
    expect(err?.message).toBe("queue_items.run_at: -infinity is not allowed: run_at is set by Pacer.");
    expect(err?.hint).toBe("Leave run_at out; an item first runs at its scheduled_for.");
    expect(detailOf(err)).toEqual({ code: "invalid_input", table: "queue_items", column: "run_at" });
  });

  it("starts a new item at its scheduled time, whatever run_at it was sent with", async () => {
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const { err, rows } = await queue({ scheduled_for: tomorrow, run_at: "2000-01-01T00:00:00Z" });
    expect(err).toBeNull();
    expect(rows[0].run_at.toISOString()).toBe(tomorrow);
  });

  it("refuses a schedule at infinity", async () => {
    const { err } = await queue({ scheduled_for: "infinity" });
    expect(err?.message).toBe("queue_items.scheduled_for: infinity is not a time a post can be scheduled for.");
  });

  it.each([0, 11, -5])("refuses priority %i (1 to 10 only)", async (priority) => {
    const { err } = await queue({ priority });
    expect(err?.message).toMatch(/violates check constraint "queue_items_priority_check"/);
  });

  it("refuses queueing for an account on a platform Pacer cannot publish to", async () => {
    // Every platform Pacer lists has a connector now (platforms.enabled): one without, as a later one would be added.
    await sql`insert into public.platforms (id, name, enabled) values ('nowhere', 'Nowhere', false) on conflict (id) do nothing`;
    const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                          values (${t.workspaceId}, 'nowhere', 'on_nowhere', 'N') returning id`;
    const { err } = await queue({ account_id: a.id });
    expect(err?.message).toBe("queue_items.account_id: Pacer cannot publish to Nowhere yet.");
  });

  it.each([
    [["javascript:alert(1)"], "each media URL must start with https://."],
    [["file:///etc/passwd"], "each media URL must start with https://."],
    [["https://example.com/a.png", "ftp://example.com/b.png"], "each media URL must start with https://."],
    [["http://example.com/a.png"], "each media URL must start with https://."],
    [[`https://example.com/${"a".repeat(2048)}.png`], "a media URL has at most 2,048 characters."],
    [["https://example.com/a\u202Egnp.exe"], "a media URL may not contain spaces, control or format characters."],
    [["https://example.com/a\u200B.png"], "a media URL may not contain spaces, control or format characters."],
    [["https://example.com/a b.png"], "a media URL may not contain spaces, control or format characters."],
    [Array.from({ length: 21 }, (_, i) => `https://example.com/${i}.png`), "a post has at most 20 media URLs, not 21."],
  ])("refuses media URLs %j", async (urls, message) => {
    await asUser(sql, t.id, async (tx) => {
      const err = await errorOf(tx, (sp) =>
        sp`insert into public.posts (workspace_id, text, media_urls) values (${t.workspaceId}, 'with media', ${urls}::text[])`);
      expect(err?.message).toBe(`posts.media_urls: ${message}`);
    });
  });

  it("refuses a blank text or destination", async () => {
    await asUser(sql, t.id, async (tx) => {
      const text = await errorOf(tx, (sp) => sp`insert into public.posts (workspace_id, text) values (${t.workspaceId}, '   ')`);
      expect(text?.message).toBe("posts.text: a post's text cannot be blank.");
      const destination = await errorOf(tx, (sp) =>
        sp`insert into public.posts (workspace_id, text, destination) values (${t.workspaceId}, 'x', ' ')`);
      expect(destination?.message).toBe("posts.destination: a destination cannot be blank.");
    });
  });

  it("refuses connecting an account on a disabled platform", async () => {
    // Every platform Pacer knows is connectable now: a disabled one stands in for the next to arrive.
    await sql`insert into public.platforms (id, name, enabled) values ('coming_soon', 'Coming Soon', false) on conflict do nothing`;
    await asUser(sql, t.id, async (tx) => {
      const err = await errorOf(tx, (sp) =>
        sp`insert into public.social_accounts (workspace_id, platform, handle, display_name) values (${t.workspaceId}, 'coming_soon', 'someone', 'X')`);
      expect(err?.message).toBe("social_accounts.platform: connecting Coming Soon accounts is not available yet.");
    });
    await sql`delete from public.platforms where id = 'coming_soon'`;
  });

  it.each(["has space", "<script>", "semi;colon", "x".repeat(101)])("refuses the handle %j, added or renamed", async (handle) => {
    await asUser(sql, t.id, async (tx) => {
      const added = await errorOf(tx, (sp) =>
        sp`insert into public.social_accounts (workspace_id, platform, handle, display_name) values (${t.workspaceId}, 'sandbox', ${handle}, 'H')`);
      expect(added?.message).toBe("social_accounts.handle: a handle may contain letters, digits, and _ . @ - only (at most 100).");
      const renamed = await errorOf(tx, (sp) => sp`update public.social_accounts set handle = ${handle} where id = ${t.accountId}`);
      expect(renamed?.message).toBe(added?.message);
    });
  });

  it("lets no user write credentials, not even on their own account", async () => {
    await sql`update public.social_accounts set credentials_encrypted = 'v1:c2VydmVy:c2VhbGVk' where id = ${t.accountId}`;
    await asUser(sql, t.id, async (tx) => {
      const update = await errorOf(tx, (sp) => sp`update public.social_accounts set credentials_encrypted = 'v1:AAAA:AAAA' where id = ${t.accountId}`);
      expect(update?.code).toBe("42501");
      const insert = await errorOf(tx, (sp) =>
        sp`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
           values (${t.workspaceId}, 'sandbox', ${`c_${randomUUID().slice(0, 6)}`}, 'C', 'v1:AAAA:AAAA')`);
      expect(insert?.code).toBe("42501");
      const viaFunction = await errorOf(tx, (sp) => sp`select private.store_account_credentials(${t.accountId}, 'v1:AAAA:AAAA')`);
      expect(viaFunction?.code).toBe("42501");
    });
    const [row] = await sql`select credentials_encrypted from public.social_accounts where id = ${t.accountId}`;
    expect(row.credentials_encrypted).toBe("v1:c2VydmVy:c2VhbGVk");
  });

  it("takes sealed credentials from the server's role only, and only in the sealed format", async () => {
    const store = (sealed: string) =>
      sql.begin(async (tx) => {
        await tx`set local role pacer_worker`;
        await tx`select private.store_account_credentials(${t.accountId}, ${sealed})`;
      });
    await store("v1:aXY=:c2VhbGVk");
    await expect(store("plain text token")).rejects.toThrow(/Credentials must be sealed by the server \(v1:<iv>:<ciphertext>\)/);
    const [row] = await sql`select credentials_encrypted from public.social_accounts where id = ${t.accountId}`;
    expect(row.credentials_encrypted).toBe("v1:aXY=:c2VhbGVk");
  });
});

describe("connecting an account: the server's steps, and only the server's", () => {
  const asWorker = (fn: (tx: TransactionSql) => Promise<Row[]>) =>
    sql.begin(async (tx) => {
      await tx`set local role pacer_worker`;
      return fn(tx);
    }) as Promise<Row[]>;
  const accountRow = async (id: string) =>
    (await sql`select state, last_error, credentials_encrypted, private.account_can_publish(state) as publishable
               from public.social_accounts where id = ${id}`)[0];

  it("lets no user hold, connect or discard an account", async () => {
    const t = await tenant("connect-user");
    await asUser(sql, t.id, async (tx) => {
      for (const call of [
        (sp: typeof tx) => sp`select private.hold_unconnected_account(${t.accountId}, 'x')`,
        (sp: typeof tx) => sp`select private.connect_account(${t.accountId}, 'v1:AAAA:AAAA')`,
        (sp: typeof tx) => sp`select private.discard_unconnected_account(${t.accountId})`,
      ]) {
        expect((await errorOf(tx, call))?.code).toBe("42501");
      }
    });
    expect(await accountRow(t.accountId)).toMatchObject({ state: "connected", credentials_encrypted: null });
  });

  it("holds an unconnected account unpublishable, connects it with its credentials, and never discards a connected one", async () => {
    const t = await tenant("connect-steps");
    await asWorker((tx) => tx`select private.hold_unconnected_account(${t.accountId}, 'Connecting…')`);
    expect(await accountRow(t.accountId)).toMatchObject({ state: "needs_reconnect", last_error: "Connecting…", publishable: false });

    const [connected] = await asWorker((tx) => tx`select state, credentials_encrypted from private.connect_account(${t.accountId}, 'v1:aXY=:c2VhbGVk')`);
    expect(connected).toEqual({ state: "connected", credentials_encrypted: "v1:aXY=:c2VhbGVk" });
    expect(await accountRow(t.accountId)).toMatchObject({ state: "connected", last_error: null, publishable: true });

    const [{ gone }] = await asWorker((tx) => tx`select private.discard_unconnected_account(${t.accountId}) as gone`);
    expect(gone).toBe(false);
    await expect(asWorker((tx) => tx`select private.hold_unconnected_account(${t.accountId}, 'again')`)).rejects.toThrow(/waiting to be connected/);
    expect(await accountRow(t.accountId)).toMatchObject({ state: "connected", publishable: true });
  });

  it("discards an account that was never connected", async () => {
    const t = await tenant("connect-discard");
    await asWorker((tx) => tx`select private.hold_unconnected_account(${t.accountId}, 'Connecting…')`);
    const [{ gone }] = await asWorker((tx) => tx`select private.discard_unconnected_account(${t.accountId}) as gone`);
    expect(gone).toBe(true);
    expect(await accountRow(t.accountId)).toBeUndefined();
  });
});
