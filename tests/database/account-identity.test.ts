// Accounts written straight to the table by a signed-in user (supabase-js over the Data API, around
// Pacer's connect flows), tried as an attacker would: such a row holds no credentials, so on a real
// platform it must not be publishable; and another workspace cannot pose as someone's platform
// identity to keep their token alive when they disconnect.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import type { Row, TransactionSql } from "postgres";
import { asUser, connect, errorOf, makeUser, type Sql } from "../support/db";

let sql: Sql;
beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());

const asWorker = (fn: (tx: TransactionSql) => Promise<Row[]>) =>
  sql.begin(async (tx) => {
    await tx`set local role pacer_worker`;
    return fn(tx);
  }) as Promise<Row[]>;
const unique = (prefix: string) => `${prefix}_${randomUUID().slice(0, 8)}`;
const accountRow = async (id: string) =>
  (await sql`select state, last_error, private.account_can_publish(state) as publishable from public.social_accounts where id = ${id}`)[0];

/** As the user, straight into the table (committed): the row the insert returns. */
async function insertDirectly(userId: string, workspaceId: string, platform: string, handle: string) {
  return sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: "authenticated" })}, true),
                    set_config('role', 'authenticated', true)`;
    const [row] = await tx`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                           values (${workspaceId}, ${platform}, ${handle}, 'Direct') returning id, state`;
    return row as { id: string; state: string };
  }) as Promise<{ id: string; state: string }>;
}

describe("an account a user inserts directly", () => {
  it.each(["mastodon", "bluesky", "tiktok", "linkedin"])("on %s waits in needs_reconnect, unpublishable, until the server stores credentials", async (platform) => {
    const u = await makeUser(sql, `direct-${platform}`);
    const row = await insertDirectly(u.id, u.workspaceId, platform, unique("someone"));
    expect(row.state).toBe("needs_reconnect");
    expect(await accountRow(row.id)).toMatchObject({ state: "needs_reconnect", publishable: false });
    expect((await accountRow(row.id)).last_error).toMatch(/not connected/i);
    // Nothing the user may write moves it: neither its state nor a rename.
    await asUser(sql, u.id, async (tx) => {
      expect((await errorOf(tx, (sp) => sp`update public.social_accounts set state = 'connected' where id = ${row.id}`))?.code).toBe("42501");
    });
    expect(await accountRow(row.id)).toMatchObject({ state: "needs_reconnect", publishable: false });

    // The server's add path (lib/accounts/index.ts addConnectedAccount) still connects it.
    await asWorker((tx) => tx`select private.hold_unconnected_account(${row.id}, 'Connecting…')`);
    const [connected] = await asWorker((tx) => tx`select state from private.connect_account(${row.id}, 'v1:aXY=:c2VhbGVk')`);
    expect(connected.state).toBe("connected");
    expect(await accountRow(row.id)).toMatchObject({ state: "connected", last_error: null, publishable: true });
  });

  it("on the sandbox is connected as before (it needs no credentials)", async () => {
    const u = await makeUser(sql, "direct-sandbox");
    const row = await insertDirectly(u.id, u.workspaceId, "sandbox", unique("sand"));
    expect(row.state).toBe("connected");
  });
});

describe("whether a disconnected account's platform identity is in use elsewhere", () => {
  /** A Mastodon account connected by the server: credentials and the identity they are for. */
  async function connectedMastodon(workspaceId: string, handle: string, identity: string) {
    const [row] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                            values (${workspaceId}, 'mastodon', ${handle}, 'M') returning id`;
    await asWorker((tx) => tx`select private.hold_unconnected_account(${row.id}, 'Connecting…')`);
    await asWorker((tx) => tx`select id from private.connect_account(${row.id}, 'v1:aXY=:c2VhbGVk', ${identity})`);
    return row.id as string;
  }
  const sharedOf = async (id: string) =>
    (await asWorker((tx) => tx`select shared from private.account_credentials(${id})`))[0].shared as boolean;

  it("is not claimed by another workspace naming the same handle", async () => {
    const victim = await makeUser(sql, "identity-victim");
    const attacker = await makeUser(sql, "identity-attacker");
    const handle = `${unique("victim")}@mastodon.social`;
    const id = await connectedMastodon(victim.workspaceId, handle, `https://mastodon.social#${randomUUID()}`);

    // Inserted with the victim's handle (no credentials), or renamed to it.
    await insertDirectly(attacker.id, attacker.workspaceId, "mastodon", handle);
    const other = await insertDirectly(attacker.id, attacker.workspaceId, "mastodon", unique("mine"));
    const renamed = await asUser(sql, attacker.id, (tx) =>
      errorOf(tx, (sp) => sp`update public.social_accounts set handle = ${`${handle}`.toUpperCase()} where id = ${other.id}`));
    expect(renamed?.message).toBe("social_accounts.handle: the handle of a mastodon account is the platform's and cannot be changed.");

    expect(await sharedOf(id)).toBe(false);
    const [{ used }] = await asWorker((tx) => tx`select private.identity_in_use('mastodon', ${`https://mastodon.social#nobody`}, null) as used`);
    expect(used).toBe(false);
  });

  it("is shared when another account holds credentials for the same identity, whatever its handle", async () => {
    const one = await makeUser(sql, "identity-one");
    const two = await makeUser(sql, "identity-two");
    const identity = `https://mastodon.social#${randomUUID()}`;
    const a = await connectedMastodon(one.workspaceId, `${unique("same")}@mastodon.social`, identity);
    const b = await connectedMastodon(two.workspaceId, unique("renamed_before"), identity);
    expect(await sharedOf(a)).toBe(true);
    expect(await sharedOf(b)).toBe(true);
    const [{ used }] = await asWorker((tx) => tx`select private.identity_in_use('mastodon', ${identity}, null) as used`);
    expect(used).toBe(true);
    await sql`delete from public.social_accounts where id = ${b}`;
    expect(await sharedOf(a)).toBe(false);
  });

  it("lets a sandbox account's handle be renamed still, and a display name on any platform", async () => {
    const u = await makeUser(sql, "identity-rename");
    const sand = await insertDirectly(u.id, u.workspaceId, "sandbox", unique("sand"));
    const masto = await insertDirectly(u.id, u.workspaceId, "mastodon", unique("m"));
    await asUser(sql, u.id, async (tx) => {
      expect(await errorOf(tx, (sp) => sp`update public.social_accounts set handle = ${unique("new")} where id = ${sand.id}`)).toBeNull();
      expect(await errorOf(tx, (sp) => sp`update public.social_accounts set display_name = 'Shown' where id = ${masto.id}`)).toBeNull();
      // Setting the same handle again (an update naming it unchanged) is no rename.
      expect(await errorOf(tx, (sp) => sp`update public.social_accounts set handle = handle where id = ${masto.id}`)).toBeNull();
    });
  });
});
