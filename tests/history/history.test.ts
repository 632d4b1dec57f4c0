// GET /api/history through its real route handler with real tokens: each filter, keyset pages with
// no duplicates or gaps (ties inside one microsecond included), pages that stay right while new
// attempts are recorded, the cursor's validation, and tenant isolation.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import * as historyRoute from "@/app/api/history/route";
import { connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";

type Handler = (req: Request, ctx: any) => Promise<Response>;

let sql: Sql;
let alice: TestUser;
let vic: TestUser; // viewer in Alice's workspace: reading history is for every member
let bob: TestUser;
let ws: string;
let bobWs: string;
let accounts: string[];

interface Seeded {
  id: number;
  account: string;
  platform: string;
  destination: string | null;
  outcome: string;
  finishedAt: Date;
}
let seeded: Seeded[];

const BASE = Date.UTC(2026, 10, 1, 12, 0, 0);
const OUTCOMES = ["posted", "posted", "posted", "unknown", "permanent", "rate_limited"];

function get(user: TestUser | null, query: string) {
  const headers = new Headers();
  if (user) headers.set("authorization", `Bearer ${user.accessToken}`);
  return (historyRoute.GET as Handler)(new Request(`http://127.0.0.1:3000/api/history${query}`, { headers }), { params: Promise.resolve({}) });
}

async function workspaceOf(user: TestUser): Promise<string> {
  const [m] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
  return m.workspace_id;
}

async function account(workspaceId: string): Promise<string> {
  const handle = `hi_${randomUUID().slice(0, 10)}`;
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                        values (${workspaceId}, 'sandbox', ${handle}, ${handle}) returning id`;
  return a.id;
}

/** History rows as the engine writes them; several share one finished_at (to the microsecond). */
async function insertRows(workspaceId: string, rows: Omit<Seeded, "id">[]): Promise<Seeded[]> {
  const out: Seeded[] = [];
  for (const r of rows) {
    const [h] = await sql`
      insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, destination, kind, attempt,
                                          started_at, finished_at, outcome)
      values (1, ${workspaceId}, ${r.account}, ${r.platform}, 'post', ${r.destination}, 'publish', 1, ${r.finishedAt}, ${r.finishedAt}, ${r.outcome})
      returning id`;
    out.push({ ...r, id: Number(h.id) });
  }
  return out;
}

/** Newest first, ties by id: the order the API promises. */
const newestFirst = (rows: Seeded[]) =>
  [...rows].sort((a, b) => b.finishedAt.getTime() - a.finishedAt.getTime() || b.id - a.id).map((r) => r.id);

async function allPages(user: TestUser, query: string, limit: number, between?: (page: number) => Promise<void>): Promise<number[]> {
  const ids: number[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const res = await get(user, `${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { entries: Array<{ id: number }>; nextCursor: string | null };
    ids.push(...body.entries.map((e) => e.id));
    cursor = body.nextCursor;
    if (!cursor) return ids;
    await between?.(page);
  }
  throw new Error("too many pages");
}

beforeAll(async () => {
  sql = connect();
  [alice, vic, bob] = await Promise.all([signUp("hi-alice"), signUp("hi-vic"), signUp("hi-bob")]);
  [ws, bobWs] = await Promise.all([workspaceOf(alice), workspaceOf(bob)]);
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${vic.id}, 'viewer')`;
  accounts = [await account(ws), await account(ws)];
  const rows: Omit<Seeded, "id">[] = [];
  for (let i = 0; i < 40; i++) {
    rows.push({
      account: accounts[i % 2],
      platform: i % 5 === 0 ? "mastodon" : "sandbox",
      destination: i % 4 === 0 ? "r/pacer" : i % 4 === 1 ? "r/other" : null,
      outcome: OUTCOMES[i % OUTCOMES.length],
      // Groups of three share a finished_at: a page boundary falls inside a tie.
      finishedAt: new Date(BASE + Math.floor(i / 3) * 60_000),
    });
  }
  seeded = await insertRows(ws, rows);
  // Bob's history, in the same minutes, must never show up in Alice's.
  await insertRows(bobWs, [{ account: await account(bobWs), platform: "sandbox", destination: "r/pacer", outcome: "posted", finishedAt: new Date(BASE) }]);
});
afterAll(() => sql.end());

// Alice's rows are the only ones in her workspace, but the window keeps the test honest if others appear.
const WINDOW = `from=${new Date(BASE - 3600_000).toISOString()}&to=${new Date(BASE + 3600_000).toISOString()}`;

describe("GET /api/history", () => {
  it("pages newest first with no duplicates or gaps, ties included", async () => {
    expect(await allPages(alice, `?${WINDOW}`, 7)).toEqual(newestFirst(seeded));
    expect(await allPages(alice, `?${WINDOW}`, 1)).toEqual(newestFirst(seeded));
    expect(await allPages(alice, `?${WINDOW}`, 200)).toEqual(newestFirst(seeded));
  });

  it("filters by account, platform, destination, outcome and time range, alone and combined", async () => {
    const from = new Date(BASE + 3 * 60_000);
    const to = new Date(BASE + 9 * 60_000);
    const cases: Array<[string, (r: Seeded) => boolean]> = [
      [`accountId=${accounts[1]}&${WINDOW}`, (r) => r.account === accounts[1]],
      [`platform=mastodon&${WINDOW}`, (r) => r.platform === "mastodon"],
      [`destination=${encodeURIComponent("r/pacer")}&${WINDOW}`, (r) => r.destination === "r/pacer"],
      [`outcome=permanent&${WINDOW}`, (r) => r.outcome === "permanent"],
      [`from=${from.toISOString()}&to=${to.toISOString()}`, (r) => r.finishedAt >= from && r.finishedAt < to],
      [`accountId=${accounts[0]}&outcome=posted&${WINDOW}`, (r) => r.account === accounts[0] && r.outcome === "posted"],
      [`platform=sandbox&destination=r%2Fother&outcome=posted&from=${from.toISOString()}&to=${to.toISOString()}`,
        (r) => r.platform === "sandbox" && r.destination === "r/other" && r.outcome === "posted" && r.finishedAt >= from && r.finishedAt < to],
    ];
    for (const [query, keep] of cases) {
      const expected = newestFirst(seeded.filter(keep));
      expect(expected.length, query).toBeGreaterThan(0);
      expect(await allPages(alice, `?${query}`, 4), query).toEqual(expected);
    }
  });

  it("stays right while attempts are recorded between pages", async () => {
    const [user] = [await signUp("hi-carol")];
    const carolWs = await workspaceOf(user);
    const acct = await account(carolWs);
    const t0 = Date.now() - 3600_000;
    const original = await insertRows(
      carolWs,
      Array.from({ length: 20 }, (_, i) => ({ account: acct, platform: "sandbox", destination: null, outcome: "posted", finishedAt: new Date(t0 + Math.floor(i / 2) * 1000) })),
    );
    const added: Seeded[] = [];
    const ids = await allPages(user, "?outcome=posted", 3, async (page) => {
      // New attempts finish now (newer than every page read so far), one of them tying with the newest row.
      added.push(...(await insertRows(carolWs, [
        { account: acct, platform: "sandbox", destination: null, outcome: "posted", finishedAt: new Date() },
        { account: acct, platform: "sandbox", destination: null, outcome: "posted", finishedAt: original[19].finishedAt },
      ])));
      expect(page).toBeLessThan(10);
    });
    expect(new Set(ids).size).toBe(ids.length);
    // Every original row exactly once, in order; rows added later than the cursor are the next read's.
    expect(ids.filter((id) => original.some((o) => o.id === id))).toEqual(newestFirst(original));
    expect(ids.filter((id) => added.some((a) => a.id === id))).toEqual([]);
  });

  it("is for the workspace's members only", async () => {
    const viewer = await get(vic, `?workspaceId=${ws}&${WINDOW}&limit=200`);
    expect(((await viewer.json()).entries as unknown[]).length).toBe(seeded.length);
    // Bob sees his one row, never Alice's; naming her workspace is a 404.
    const own = await (await get(bob, `?${WINDOW}&limit=200`)).json();
    expect(own.entries.map((e: { id: number }) => e.id).some((id: number) => seeded.some((s) => s.id === id))).toBe(false);
    expect(own.entries).toHaveLength(1);
    expect((await get(bob, `?workspaceId=${ws}`)).status).toBe(404);
    // Filtering by Alice's account from Bob's workspace finds nothing.
    expect((await (await get(bob, `?accountId=${accounts[0]}&${WINDOW}`)).json()).entries).toEqual([]);
    expect((await get(null, "?")).status).toBe(401);
  });

  it("refuses malformed filters and cursors with the field's path", async () => {
    for (const [query, path] of [
      ["?outcome=exploded", "outcome"],
      ["?limit=0", "limit"],
      ["?accountId=nope", "accountId"],
      ["?from=yesterday", "from"],
      [`?from=${new Date(BASE).toISOString()}&to=${new Date(BASE).toISOString()}`, "to"],
      ["?cursor=not-a-cursor", "cursor"],
      [`?cursor=${Buffer.from(JSON.stringify(["1; drop table x", "1"])).toString("base64url")}`, "cursor"],
      ["?sort=asc", "(body)"],
    ]) {
      const res = await get(alice, query);
      expect(res.status, query).toBe(400);
      const body = await res.json();
      expect(body.error.code).toBe("validation_failed");
      expect(body.error.issues.map((i: { path: string }) => i.path), query).toContain(path);
    }
  });
});
