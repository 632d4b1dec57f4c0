// The accounts API at the plans' scale (issue 12): removal that keeps the record, search/filters/pages
// over 1,000 accounts, bulk pause/resume/remove with per-account outcomes, and account groups —
// through the real route handlers with real tokens.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import * as accountsRoute from "@/app/api/accounts/route";
import * as accountRoute from "@/app/api/accounts/[id]/route";
import * as bulkRoute from "@/app/api/accounts/bulk/route";
import * as previewRoute from "@/app/api/accounts/removal-preview/route";
import * as groupsRoute from "@/app/api/account-groups/route";
import * as groupRoute from "@/app/api/account-groups/[id]/route";
import * as addRoute from "@/app/api/queue/add/route";
import * as itemsRoute from "@/app/api/queue/items/route";
import * as usageRoute from "@/app/api/workspace/usage/route";
import type { Account } from "@/lib/accounts";
import type { QueueItem } from "@/lib/queue/types";
import { connect, type Sql } from "../support/db";
import { subscribe } from "../support/billing";
import { signUp, type TestUser } from "../support/users";

type Handler = (req: Request, ctx: any) => Promise<Response>;

let sql: Sql;
let owner: TestUser;
let viewer: TestUser;
let stranger: TestUser;
let ws: string;

const TOMORROW = () => new Date(Date.now() + 24 * 3600_000).toISOString();

function call(handler: Handler, path: string, user: TestUser | null, init: { method?: string; body?: unknown; id?: string } = {}) {
  const headers = new Headers();
  if (user) headers.set("authorization", `Bearer ${user.accessToken}`);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const request = new Request(`http://127.0.0.1:3000${path}`, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return handler(request, { params: Promise.resolve({ id: init.id ?? "" }) });
}

const list = async (user: TestUser, query = "") => {
  const res = await call(accountsRoute.GET, `/api/accounts${query}`, user);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as { accounts: Account[]; total: number; nextCursor: string | null };
};

async function workspaceOf(user: TestUser): Promise<string> {
  const [m] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
  return m.workspace_id;
}

/** `n` sandbox accounts in one statement (the plan's limit still applies), oldest first. */
async function seedAccounts(workspaceId: string, n: number, prefix: string): Promise<string[]> {
  const rows = await sql`
    insert into public.social_accounts (workspace_id, platform, handle, display_name, created_at)
    select ${workspaceId}, 'sandbox', ${prefix} || '_' || lpad(i::text, 4, '0'), 'Brand ' || i, now() - (${n} - i) * interval '1 second'
    from generate_series(1, ${n}) i
    returning id`;
  return (await sql`select id from public.social_accounts where id = any (${rows.map((r) => r.id)}::uuid[]) order by created_at, id`).map((r) => r.id);
}

beforeAll(async () => {
  sql = connect();
  [owner, viewer, stranger] = await Promise.all([signUp("acc-owner"), signUp("acc-viewer"), signUp("acc-stranger")]);
  ws = await workspaceOf(owner);
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${viewer.id}, 'viewer')`;
  await subscribe(sql, ws, "ultra");
});
afterAll(() => sql.end());

describe("removing an account keeps its record", () => {
  it("says what will happen, cancels the waiting posts, keeps the posted one in the queue marked as a removed account, and frees the slot", async () => {
    const [id] = await seedAccounts(ws, 1, `rm_${randomUUID().slice(0, 6)}`);
    // Three waiting posts and one posted one.
    const added = await call(addRoute.POST, "/api/queue", owner, { method: "POST", body: { text: "waiting", accountIds: [id], scheduledFor: TOMORROW() } });
    expect(added.status).toBe(201);
    for (const text of ["two", "three", "posted"]) {
      await call(addRoute.POST, "/api/queue", owner, { method: "POST", body: { text, accountIds: [id], scheduledFor: TOMORROW() } });
    }
    await sql`update public.queue_items set status = 'posted', posted_at = now(), external_url = 'https://sandbox.test/p/1'
              where account_id = ${id} and post_id in (select p.id from public.posts p where p.text = 'posted' and p.workspace_id = ${ws})`;
    const usedBefore = (await (await call(usageRoute.GET, "/api/workspace/usage", owner)).json()).accountsUsed;

    const preview = await call(previewRoute.POST, "/api/accounts/removal-preview", owner, { method: "POST", body: { accountIds: [id] } });
    expect(await preview.json()).toEqual({ accounts: 1, waiting: 3, inFlight: 0, posted: 1 });

    const removed = await call(accountRoute.DELETE, `/api/accounts/${id}`, owner, { method: "DELETE", id });
    expect(removed.status).toBe(204);

    // The posted item is still in the queue, naming its account and saying it was removed; the waiting ones say why they were cancelled.
    const items = ((await (await call(itemsRoute.GET, "/api/queue/items?limit=200", owner)).json()).items as QueueItem[]).filter((i) => i.accountId === id);
    expect(items.map((i) => [i.text, i.status, i.accountRemoved, i.lastError]).sort()).toEqual([
      ["posted", "posted", true, null],
      ["three", "cancelled", true, "Account removed."],
      ["two", "cancelled", true, "Account removed."],
      ["waiting", "cancelled", true, "Account removed."],
    ]);
    expect(items.find((i) => i.status === "posted")?.handle).toMatch(/^rm_/);

    // Gone from the list of live accounts, listed under "removed"; the slot is free.
    expect((await list(owner)).accounts.map((a) => a.id)).not.toContain(id);
    const archived = await list(owner, "?state=removed");
    expect(archived.accounts.find((a) => a.id === id)).toMatchObject({ pausedReason: "removed", state: "paused" });
    expect((await (await call(usageRoute.GET, "/api/workspace/usage", owner)).json()).accountsUsed).toBe(usedBefore - 1);

    // Queueing to it is refused, naming the field; removing it again is a 404.
    const late = await call(addRoute.POST, "/api/queue", owner, { method: "POST", body: { text: "late", accountIds: [id], scheduledFor: TOMORROW() } });
    expect(late.status).toBe(400);
    expect((await late.json()).error.issues).toEqual([{ path: "accountIds.0", message: expect.stringMatching(/was removed from this workspace; queue the post for another account/) }]);
    expect((await call(accountRoute.DELETE, `/api/accounts/${id}`, owner, { method: "DELETE", id })).status).toBe(404);
    // A removed account cannot be renamed.
    const rename = await call(accountRoute.PATCH, `/api/accounts/${id}`, owner, { method: "PATCH", id, body: { displayName: "Back" } });
    expect(rename.status).toBe(409);
    expect((await rename.json()).error.code).toBe("account_removed");
  });

  it("answers a viewer 403 and another workspace 404, changing nothing", async () => {
    const [id] = await seedAccounts(ws, 1, `rm_guard_${randomUUID().slice(0, 6)}`);
    expect((await call(accountRoute.DELETE, `/api/accounts/${id}`, viewer, { method: "DELETE", id })).status).toBe(403);
    expect((await call(accountRoute.DELETE, `/api/accounts/${id}`, stranger, { method: "DELETE", id })).status).toBe(404);
    const preview = await call(previewRoute.POST, "/api/accounts/removal-preview", stranger, { method: "POST", body: { accountIds: [id] } });
    expect(await preview.json()).toEqual({ accounts: 0, waiting: 0, inFlight: 0, posted: 0 });
    expect((await sql`select archived_at from public.social_accounts where id = ${id}`)[0].archived_at).toBeNull();
  });
});

describe("a thousand accounts", () => {
  let ids: string[];
  let prefix: string;
  let big: TestUser;

  beforeAll(async () => {
    big = await signUp("acc-ultra");
    const bigWs = await workspaceOf(big);
    await subscribe(sql, bigWs, "ultra");
    prefix = `k${randomUUID().slice(0, 6)}`;
    ids = await seedAccounts(bigWs, 1000, prefix);
    await sql`update public.social_accounts set health_score = 30 where id = any (${ids.slice(0, 7)}::uuid[])`;
  });

  it("lists them all without a limit (as callers before paging did), and pages through them with a cursor", async () => {
    const all = await list(big);
    expect(all.accounts).toHaveLength(1000);
    expect(all.total).toBe(1000);
    expect(all.nextCursor).toBeNull();

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof list>> = await list(big, `?limit=200${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.total).toBe(1000);
      seen.push(...page.accounts.map((a) => a.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen).toEqual(ids);
  });

  it("searches by handle or name and filters by platform, state and health", async () => {
    const found = await list(big, `?q=@${prefix}_0042&limit=50`);
    expect(found.accounts.map((a) => a.handle)).toEqual([`${prefix}_0042`]);
    expect((await list(big, `?q=Brand%2099&limit=50`)).accounts.map((a) => a.displayName).sort()).toEqual(["Brand 99", "Brand 990", "Brand 991", "Brand 992", "Brand 993", "Brand 994", "Brand 995", "Brand 996", "Brand 997", "Brand 998", "Brand 999"]);
    // A % is a character, not a wildcard.
    expect((await list(big, "?q=%25&limit=50")).total).toBe(0);
    const poor = await list(big, "?health=poor&limit=50");
    expect(poor.accounts.map((a) => a.id)).toEqual(ids.slice(0, 7));
    expect((await list(big, "?platform=mastodon")).total).toBe(0);
    expect((await list(big, "?platform=sandbox&state=connected&limit=1")).total).toBe(1000);
    const bad = await call(accountsRoute.GET, "/api/accounts?state=asleep&limit=5000", big);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.issues.map((i: { path: string }) => i.path).sort()).toEqual(["limit", "state"]);
    const forged = await call(accountsRoute.GET, "/api/accounts?cursor=bm90LWEtY3Vyc29y", big);
    expect(forged.status).toBe(400);
  });

  it("pauses and resumes all thousand in one request, each with its outcome, and refuses a stranger's ids one by one", async () => {
    const theirs = await seedAccounts(await workspaceOf(stranger), 1, `str_${randomUUID().slice(0, 6)}`);
    const res = await call(bulkRoute.POST, "/api/accounts/bulk", big, { method: "POST", body: { action: "pause", accountIds: ids } });
    expect(res.status).toBe(200);
    expect((await res.json()).summary).toEqual({ paused: 1000 });
    const mixed = await (await call(bulkRoute.POST, "/api/accounts/bulk", big, { method: "POST", body: { action: "pause", accountIds: [ids[0], ...theirs] } })).json();
    expect(mixed.summary).toEqual({ unchanged: 1, not_found: 1 });
    expect(mixed.results.find((r: { accountId: string }) => r.accountId === theirs[0])).toMatchObject({ outcome: "not_found", state: null });
    expect((await list(big, "?state=paused&limit=1")).total).toBe(1000);
    expect((await sql`select state from public.social_accounts where id = ${theirs[0]}`)[0].state).toBe("connected");

    const resumed = await (await call(bulkRoute.POST, "/api/accounts/bulk", big, { method: "POST", body: { action: "resume", accountIds: ids.slice(0, 10) } })).json();
    expect(resumed.summary).toEqual({ resumed: 10 });
    expect((await list(big, "?state=paused&limit=1")).total).toBe(990);
  });

  it("removes many at once, saying per account what happened", async () => {
    const some = ids.slice(990);
    const res = await call(bulkRoute.POST, "/api/accounts/bulk", big, { method: "POST", body: { action: "remove", accountIds: some } });
    const body = await res.json();
    expect(body.summary).toEqual({ removed: 10 });
    expect((await list(big)).total).toBe(990);
    const again = await (await call(bulkRoute.POST, "/api/accounts/bulk", big, { method: "POST", body: { action: "remove", accountIds: some.slice(0, 2) } })).json();
    expect(again.summary).toEqual({ already_removed: 2 });
  });

  it("refuses a viewer's bulk action per account and a malformed request as a whole", async () => {
    const res = await call(bulkRoute.POST, "/api/accounts/bulk", viewer, { method: "POST", body: { action: "pause", accountIds: ids.slice(0, 2) } });
    expect((await res.json()).summary).toEqual({ not_found: 2 }); // not a member of that workspace
    const bad = await call(bulkRoute.POST, "/api/accounts/bulk", big, { method: "POST", body: { action: "explode", accountIds: [] } });
    expect(bad.status).toBe(400);
  });
});

describe("account groups", () => {
  it("an owner makes, renames and fills a group; a viewer reads it but cannot change it; another workspace sees nothing; the list filters by it", async () => {
    const members = await seedAccounts(ws, 3, `grp_${randomUUID().slice(0, 6)}`);
    const made = await call(groupsRoute.POST, "/api/account-groups", owner, { method: "POST", body: { name: "Launch team", accountIds: members.slice(0, 2) } });
    expect(made.status).toBe(201);
    const { group } = await made.json();
    // Members added in one request share their time: the order among them is by id, not as sent.
    expect(group).toMatchObject({ name: "Launch team", accountIds: expect.arrayContaining(members.slice(0, 2)) });
    expect(group.accountIds).toHaveLength(2);

    const dup = await call(groupsRoute.POST, "/api/account-groups", owner, { method: "POST", body: { name: "launch TEAM" } });
    expect(dup.status).toBe(409);

    const changed = await call(groupRoute.PATCH, `/api/account-groups/${group.id}`, owner, { method: "PATCH", id: group.id, body: { name: "Launch", accountIds: members.slice(1) } });
    const renamed = (await changed.json()).group;
    expect(renamed).toMatchObject({ name: "Launch", accountIds: expect.arrayContaining(members.slice(1)) });
    expect(renamed.accountIds).toHaveLength(2);
    expect((await list(owner, `?groupId=${group.id}`)).accounts.map((a) => a.id)).toEqual(members.slice(1));

    const listed = await (await call(groupsRoute.GET, "/api/account-groups", viewer)).json();
    // The viewer's own personal workspace is the default: ask for the shared one.
    const shared = await (await call(groupsRoute.GET, `/api/account-groups?workspaceId=${ws}`, viewer)).json();
    expect(listed.groups.map((g: { id: string }) => g.id)).not.toContain(group.id);
    expect(shared.groups.map((g: { id: string }) => g.id)).toContain(group.id);
    expect((await call(groupRoute.PATCH, `/api/account-groups/${group.id}`, viewer, { method: "PATCH", id: group.id, body: { name: "Mine" } })).status).toBe(403);
    expect((await call(groupRoute.DELETE, `/api/account-groups/${group.id}`, viewer, { method: "DELETE", id: group.id })).status).toBe(403);
    expect((await call(groupRoute.PATCH, `/api/account-groups/${group.id}`, stranger, { method: "PATCH", id: group.id, body: { name: "Mine" } })).status).toBe(404);
    const foreign = await call(groupsRoute.POST, "/api/account-groups", stranger, { method: "POST", body: { name: "Theirs", accountIds: [members[0]] } });
    expect(foreign.status).toBe(400);
    expect((await foreign.json()).error.issues[0].path).toBe("accountIds.0");

    expect((await call(groupRoute.DELETE, `/api/account-groups/${group.id}`, owner, { method: "DELETE", id: group.id })).status).toBe(204);
    expect((await sql`select count(*)::int as n from public.social_accounts where id = any (${members}::uuid[])`)[0].n).toBe(3);
  });
});
