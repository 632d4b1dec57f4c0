// The rule for a schedule in the past, through the real route handlers: a scheduledFor more than 5
// minutes ago is refused (422 scheduled_in_past, naming the field, nothing queued) unless the request
// says ifPast: "publish_now"; within 5 minutes (clock skew) it is taken as now. The same at every
// door a schedule comes in by: add, bulk, the calendar's reschedule, an approval, a CSV import.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import * as addRoute from "@/app/api/queue/add/route";
import * as bulkRoute from "@/app/api/queue/bulk-post/route";
import * as rescheduleRoute from "@/app/api/queue/reschedule/route";
import * as approveRoute from "@/app/api/approvals/[id]/approve/route";
import * as settingRoute from "@/app/api/workspace/approval-setting/route";
import * as importRoute from "@/app/api/queue/import/route";
import { addAccounts, connect, type Sql } from "../support/db";
import { subscribe } from "../support/billing";
import { signUp, type TestUser } from "../support/users";

type Handler = (req: Request, ctx: any) => Promise<Response>;
type Issue = { path: string; message: string };

let sql: Sql;
let owner: TestUser;
let editor: TestUser;
let ws: string;
let accounts: string[];
let handles: string[];

const MIN = 60_000;
const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

function call(handler: Handler, path: string, user: TestUser, body: unknown, params: Record<string, string> = {}) {
  const headers = new Headers({ authorization: `Bearer ${user.accessToken}`, "content-type": "application/json" });
  return handler(new Request(`http://127.0.0.1:3000${path}`, { method: path.includes("approval-setting") ? "PUT" : "POST", headers, body: JSON.stringify(body) }), {
    params: Promise.resolve(params),
  });
}

const add = (body: Record<string, unknown>, user = owner) =>
  call(addRoute.POST, "/api/queue/add", user, { text: `past ${randomUUID()}`, accountIds: [accounts[0]], workspaceId: ws, ...body });

const postsWithText = async (text: string) => (await sql`select count(*)::int as n from public.posts where text = ${text}`)[0].n as number;

/** The error body of a refusal. */
async function refusal(res: Response, status: number) {
  expect(res.status, await res.clone().text()).toBe(status);
  return ((await res.json()) as { error: { code: string; message: string; issues: Issue[] } }).error;
}

beforeAll(async () => {
  sql = connect();
  owner = await signUp("past-owner");
  [ws] = (await sql`select workspace_id from public.workspace_members where user_id = ${owner.id}`).map((r) => r.workspace_id as string);
  await subscribe(sql, ws, "starter");
  await addAccounts(sql, ws, 2, "past");
  const rows = await sql`select id, handle from public.social_accounts where workspace_id = ${ws} order by handle`;
  accounts = rows.map((r) => r.id as string);
  handles = rows.map((r) => r.handle as string);
  editor = await signUp("past-editor");
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${editor.id}, 'editor')`;
});
afterAll(() => sql.end());

describe("POST /api/queue/add", () => {
  it("takes a time 4 minutes past as now (clock skew)", async () => {
    const before = Date.now();
    const res = await add({ scheduledFor: at(-4 * MIN) });
    expect(res.status, await res.clone().text()).toBe(201);
    const [item] = (await res.json()).items as Array<{ scheduledFor: string }>;
    // Stored as now, not as the moment four minutes ago.
    expect(Date.parse(item.scheduledFor)).toBeGreaterThanOrEqual(before - 1000);
  });

  it("refuses a time 6 minutes past with 422, naming scheduledFor and the ways out; nothing is queued", async () => {
    const text = `six minutes ago ${randomUUID()}`;
    const e = await refusal(await add({ text, scheduledFor: at(-6 * MIN) }), 422);
    expect(e.code).toBe("scheduled_in_past");
    expect(e.issues).toHaveLength(1);
    expect(e.issues[0].path).toBe("scheduledFor");
    expect(e.issues[0].message).toMatch(/is in the past \(6 min ago\); send a future time, or leave scheduledFor out to publish now, or set ifPast: "publish_now"/);
    expect(await postsWithText(text)).toBe(0);
  });

  it("publishes a past time now when the request says ifPast: publish_now", async () => {
    const before = Date.now();
    const res = await add({ scheduledFor: at(-3 * 24 * 60 * MIN), ifPast: "publish_now" });
    expect(res.status, await res.clone().text()).toBe(201);
    const [item] = (await res.json()).items as Array<{ scheduledFor: string }>;
    expect(Date.parse(item.scheduledFor)).toBeGreaterThanOrEqual(before - 1000);
  });

  it("lists a past time with the other problems as a 400 when it is not the only one", async () => {
    const e = await refusal(await add({ scheduledFor: at(-60 * MIN), accountIds: [randomUUID()] }), 400);
    expect(e.issues.map((i) => i.path).sort()).toEqual(["accountIds.0", "scheduledFor"]);
  });

  it("refuses an ifPast it does not know", async () => {
    const e = await refusal(await add({ scheduledFor: at(60 * MIN), ifPast: "whenever" }), 400);
    expect(e.issues.map((i) => i.path)).toEqual(["ifPast"]);
  });
});

describe("POST /api/queue/bulk-post", () => {
  const bulk = (body: Record<string, unknown>) => call(bulkRoute.POST, "/api/queue/bulk-post", owner, { workspaceId: ws, ...body });

  it("names each past row; nothing is queued", async () => {
    const text = `bulk past ${randomUUID()}`;
    const items = [
      { text, accountId: accounts[0], scheduledFor: at(60 * MIN) },
      { text, accountId: accounts[0], scheduledFor: at(-6 * MIN) },
      { text, accountId: accounts[1], scheduledFor: at(-4 * MIN) },
    ];
    const e = await refusal(await bulk({ items }), 422);
    expect(e.code).toBe("scheduled_in_past");
    expect(e.issues.map((i) => i.path)).toEqual(["items.1.scheduledFor"]);
    expect(await postsWithText(text)).toBe(0);
  });

  it("queues them when the request, or the row, says ifPast: publish_now", async () => {
    const text = `bulk past ok ${randomUUID()}`;
    const items = [{ text, accountId: accounts[0], scheduledFor: at(-60 * MIN) }];
    const res = await bulk({ items, ifPast: "publish_now" });
    expect(res.status, await res.clone().text()).toBe(201);
    const row = await bulk({ items: [{ ...items[0], ifPast: "publish_now" }] });
    expect(row.status, await row.clone().text()).toBe(201);
    expect(await postsWithText(text)).toBe(2);
  });
});

describe("POST /api/queue/reschedule (the calendar)", () => {
  async function waitingItem(): Promise<number> {
    const res = await add({ scheduledFor: at(24 * 60 * MIN) });
    return ((await res.json()).items as Array<{ id: number }>)[0].id;
  }
  const reschedule = (body: Record<string, unknown>) => call(rescheduleRoute.POST, "/api/queue/reschedule", owner, { workspaceId: ws, ...body });

  it("refuses 6 minutes past, takes 4 minutes past as now, and moves a past time to now when asked", async () => {
    const id = await waitingItem();
    const e = await refusal(await reschedule({ itemIds: [id], scheduledFor: at(-6 * MIN) }), 422);
    expect(e.code).toBe("scheduled_in_past");
    expect(e.issues[0].path).toBe("scheduledFor");
    expect(e.issues[0].message).toMatch(/send a future time, or set ifPast: "publish_now"/);
    const [unmoved] = await sql`select scheduled_for from public.queue_items where id = ${id}`;
    expect(unmoved.scheduled_for.getTime()).toBeGreaterThan(Date.now() + 60 * MIN);

    for (const body of [{ scheduledFor: at(-4 * MIN) }, { scheduledFor: at(-2 * 60 * MIN), ifPast: "publish_now" }]) {
      const before = Date.now();
      const res = await reschedule({ itemIds: [id], ...body });
      expect(res.status, await res.clone().text()).toBe(200);
      const [moved] = (await res.json()).items as Array<{ scheduledFor: string }>;
      expect(Date.parse(moved.scheduledFor)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(moved.scheduledFor)).toBeLessThanOrEqual(Date.now() + 1000);
      // Back to tomorrow for the next round.
      await sql`update public.queue_items set scheduled_for = now() + interval '1 day', run_at = now() + interval '1 day' where id = ${id}`;
    }
  });
});

describe("approving a submission whose time has passed", () => {
  it("tells the admin (422, nothing queued, still waiting) and queues it once they choose now or a new time", async () => {
    const setting = await call(settingRoute.PUT, "/api/workspace/approval-setting", owner, { workspaceId: ws, enabled: true });
    expect(setting.status).toBe(200);
    try {
      // An editor refused at the door too: the same rule.
      const early = await refusal(await add({ scheduledFor: at(-6 * MIN) }, editor), 422);
      expect(early.issues[0].path).toBe("scheduledFor");

      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await add({ text: `waited too long ${i} ${randomUUID()}`, scheduledFor: at(60 * MIN) }, editor);
        expect(res.status, await res.clone().text()).toBe(202);
        ids.push(((await res.json()) as { submission: { id: string } }).submission.id);
      }
      // The hour went by while it waited.
      await sql`update public.post_submissions set request = jsonb_set(request, '{scheduledFor}', to_jsonb(${at(-60 * MIN)}::text)) where id = any (${ids}::uuid[])`;
      const approve = (id: string, body: unknown) => call(approveRoute.POST, `/api/approvals/${id}/approve`, owner, body, { id });

      const e = await refusal(await approve(ids[0], {}), 422);
      expect(e.code).toBe("scheduled_in_past");
      expect(e.issues[0].path).toBe("scheduledFor");
      const [still] = await sql`select status from public.post_submissions where id = ${ids[0]}`;
      expect(still.status).toBe("submitted");

      const now = await approve(ids[0], { ifPast: "publish_now" });
      expect(now.status, await now.clone().text()).toBe(201);
      const later = at(2 * 60 * MIN);
      const moved = await approve(ids[1], { scheduledFor: later });
      expect(moved.status, await moved.clone().text()).toBe(201);
      const [item] = await sql`
        select q.scheduled_for from public.queue_items q join public.posts p on p.id = q.post_id
        where p.text like 'waited too long 1 %' and p.workspace_id = ${ws}`;
      expect(item.scheduled_for.toISOString()).toBe(later);
    } finally {
      await call(settingRoute.PUT, "/api/workspace/approval-setting", owner, { workspaceId: ws, enabled: false });
    }
  });
});

describe("POST /api/queue/import", () => {
  const chunk = (rows: unknown[], extra: Record<string, unknown> = {}) => ({
    importId: randomUUID(),
    chunkIndex: 0,
    fileName: `past-${randomUUID()}.csv`,
    rowsInFile: rows.length,
    timeZone: "UTC",
    workspaceId: ws,
    rows,
    ...extra,
  });
  // A local time in UTC, as a spreadsheet writes it.
  const cell = (offsetMs: number) => at(offsetMs).slice(0, 16).replace("T", " ");

  it("reports a past row as a bad row with its column and reason, unless the import says to publish such rows now", async () => {
    const text = `import past ${randomUUID()}`;
    const rows = [{ rowNumber: 2, text, accounts: `sandbox:${handles[0]}`, scheduled_at: cell(-2 * 60 * MIN) }];
    const e = await refusal(await call(importRoute.POST, "/api/queue/import", owner, chunk(rows)), 400);
    expect(e.issues).toEqual([{ path: "rows.0.scheduled_at", message: expect.stringMatching(/is in the past \(2 h ago\); give a future time, leave the cell empty/) }]);
    expect(await postsWithText(text)).toBe(0);

    const res = await call(importRoute.POST, "/api/queue/import", owner, chunk(rows, { ifPast: "publish_now" }));
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await postsWithText(text)).toBe(1);
  });
});
