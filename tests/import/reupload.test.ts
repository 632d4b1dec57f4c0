// Uploading a file again after fixing it (issue 11's "a re-upload never queues twice"): a row is
// known by its workspace, file name, row number and content, so the rows of a corrected file that
// were imported before are skipped whatever the file's bytes, a weekly file of the same name with new
// content imports, a row changed since it was imported is reported and not queued again, and the
// preview's check says how many rows of a file are already queued.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import * as importRoute from "@/app/api/queue/import/route";
import * as checkRoute from "@/app/api/queue/import/check/route";
import { accountDirectory, checkRow, type ImportRow } from "@/lib/import/rows";
import { rowFingerprint } from "@/lib/import/fingerprint";
import { connect, type Sql } from "../support/db";
import { subscribe } from "../support/billing";
import { signUp, type TestUser } from "../support/users";

type Handler = (req: Request, ctx: any) => Promise<Response>;

let sql: Sql;
afterAll(() => sql?.end());
beforeAll(() => {
  sql = connect();
});

function post(handler: Handler, path: string, user: TestUser, body: unknown) {
  const request = new Request(`http://127.0.0.1:3000${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${user.accessToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return handler(request, { params: Promise.resolve({}) });
}
const send = (user: TestUser, body: unknown) => post(importRoute.POST, "/api/queue/import", user, body);

interface Tenant {
  user: TestUser;
  workspaceId: string;
  accounts: Array<{ id: string; platform: string; handle: string }>;
}

/** A Starter workspace with a sandbox account called `handle`. */
async function tenant(label: string, handle = `imp_${randomUUID().slice(0, 8)}`): Promise<Tenant> {
  const user = await signUp(label);
  const [m] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
  const workspaceId = m.workspace_id as string;
  await subscribe(sql, workspaceId, "starter");
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                        values (${workspaceId}, 'sandbox', ${handle}, ${handle}) returning id`;
  return { user, workspaceId, accounts: [{ id: a.id, platform: "sandbox", handle }] };
}

/** A file's rows 2 … n+1: a post each to `handle`, at 09:00 on consecutive days from `from`. */
const fileRows = (handle: string, n: number, label: string, from = "2030-01-01"): ImportRow[] =>
  Array.from({ length: n }, (_, i) => ({
    rowNumber: 2 + i,
    text: `${label} post ${2 + i}`,
    accounts: `sandbox:${handle}`,
    scheduled_at: `${new Date(Date.parse(`${from}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10)} 09:00`,
  }));

const chunk = (importId: string, rows: ImportRow[], extra: Record<string, unknown> = {}) => ({
  importId,
  chunkIndex: 0,
  fileName: "posts.csv",
  rowsInFile: 500,
  rowsBad: 0,
  timeZone: "Europe/Paris",
  rows,
  ...extra,
});

/** What the page sends to check a previewed file: each good row's number and fingerprint. */
async function check(t: Tenant, fileName: string, rows: ImportRow[]) {
  const ctx = { accounts: accountDirectory(t.accounts), timeZone: "Europe/Paris" };
  const fingerprints = await Promise.all(
    rows.map(async (row) => {
      const checked = checkRow(row, ctx);
      if (!checked.ok) throw new Error(`row ${row.rowNumber} is bad`);
      return { rowNumber: row.rowNumber, fingerprint: await rowFingerprint(checked.post) };
    }),
  );
  const res = await post(checkRoute.POST, "/api/queue/import/check", t.user, { fileName, timeZone: "Europe/Paris", rows: fingerprints });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

const queued = async (workspaceId: string) => {
  const [r] = await sql`
    select (select count(*)::int from public.posts where workspace_id = ${workspaceId}) as posts,
           (select count(*)::int from public.import_rows where workspace_id = ${workspaceId}) as import_rows`;
  return r as { posts: number; import_rows: number };
};
const textsOf = async (workspaceId: string) =>
  (await sql`select text from public.posts where workspace_id = ${workspaceId} order by text`).map((r) => r.text as string);

describe("a corrected file uploaded again", () => {
  let t: Tenant;
  let rows: ImportRow[];
  const BAD = [4, 7, 12];

  beforeAll(async () => {
    t = await tenant("reup");
    rows = fileRows(t.accounts[0].handle, 20, "Weekly");
    // The first upload: three rows name an account that does not exist, so the page sends the other 17.
    const res = await send(t.user, chunk(randomUUID(), rows.filter((r) => !BAD.includes(r.rowNumber)), { rowsInFile: 20, rowsBad: 3 }));
    expect(res.status, await res.clone().text()).toBe(201);
  });

  it("is recognised before importing: the check counts the rows already queued", async () => {
    const result = await check(t, "posts.csv", rows);
    expect(result).toMatchObject({ alreadyImported: 17, changed: [] });
    expect(Date.parse(result.importedAt)).toBeGreaterThan(Date.now() - 600_000);
  });

  it("queues only the fixed rows; the others are reported as already imported; a retried chunk queues nothing", async () => {
    // The fixed file has other bytes, so another import id.
    const importId = randomUUID();
    const res = await send(t.user, chunk(importId, rows, { rowsInFile: 20 }));
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await res.json()).toMatchObject({ importId, imported: 3, alreadyImported: 17, changed: [], posts: 3 });
    expect(await queued(t.workspaceId)).toEqual({ posts: 20, import_rows: 20 });

    const retry = await send(t.user, chunk(importId, rows, { rowsInFile: 20 }));
    expect(retry.status).toBe(200);
    expect(await retry.json()).toMatchObject({ importId, imported: 0, alreadyImported: 20, changed: [] });
    expect(await queued(t.workspaceId)).toEqual({ posts: 20, import_rows: 20 });
  });

  it("also under a downloaded copy's name (posts (1).csv, in other case)", async () => {
    const res = await send(t.user, chunk(randomUUID(), rows, { fileName: "Posts (1).CSV", rowsInFile: 20 }));
    expect(await res.json()).toMatchObject({ imported: 0, alreadyImported: 20 });
    expect(await queued(t.workspaceId)).toEqual({ posts: 20, import_rows: 20 });
  });

  it("reports a row changed since it was imported, and does not queue it again", async () => {
    const edited = rows.map((r) => (r.rowNumber === 9 ? { ...r, text: "Weekly post 9, reworded" } : r));
    expect(await check(t, "posts.csv", edited)).toMatchObject({ alreadyImported: 19, changed: [{ rowNumber: 9 }] });

    const res = await send(t.user, chunk(randomUUID(), edited, { rowsInFile: 20 }));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ imported: 0, alreadyImported: 19, posts: 0 });
    expect(body.changed).toHaveLength(1);
    expect(body.changed[0].rowNumber).toBe(9);
    expect(body.changed[0].message).toMatch(
      /^Row 9 changed since it was imported on \d{4}-\d\d-\d\d \d\d:\d\d UTC; it was not imported again\. If it replaces the queued post, cancel that post; then import this row in a file of its own\.$/,
    );
    expect(body.import.rowsChanged).toBe(1);
    expect(await textsOf(t.workspaceId)).not.toContain("Weekly post 9, reworded");
    expect(await queued(t.workspaceId)).toEqual({ posts: 20, import_rows: 20 });
  });

  it("holds the rule in the database: the same row of the same file under another import id is refused", async () => {
    const importId = randomUUID();
    await sql`insert into public.imports (id, workspace_id, file_name, rows_in_file) values (${importId}, ${t.workspaceId}, 'posts.csv', 20)`;
    const [first] = await sql`select post_id, fingerprint from public.import_rows where workspace_id = ${t.workspaceId} and row_number = 2`;
    const error = await sql`insert into public.import_rows (workspace_id, import_id, row_number, post_id, fingerprint)
                            values (${t.workspaceId}, ${importId}, 2, ${first.post_id}, ${first.fingerprint})`.catch((e) => e);
    expect(error?.code).toBe("23505");
  });
});

describe("a new file under an old name", () => {
  it("imports every row of this week's posts.csv after last week's", async () => {
    const t = await tenant("reup-weekly");
    const handle = t.accounts[0].handle;
    expect((await send(t.user, chunk(randomUUID(), fileRows(handle, 10, "Week 1", "2030-01-01")))).status).toBe(201);
    const week2 = fileRows(handle, 10, "Week 2", "2030-01-08");
    expect(await check(t, "posts.csv", week2)).toMatchObject({ alreadyImported: 0, changed: [], importedAt: null });
    const res = await send(t.user, chunk(randomUUID(), week2));
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ imported: 10, alreadyImported: 0, changed: [] });
    expect(await queued(t.workspaceId)).toEqual({ posts: 20, import_rows: 20 });
  });

  it("queues a row once when the same fixed file is imported from two tabs at once", async () => {
    const t = await tenant("reup-race");
    const rows = fileRows(t.accounts[0].handle, 50, "Race");
    const [a, b] = await Promise.all([send(t.user, chunk(randomUUID(), rows)), send(t.user, chunk(randomUUID(), rows))]);
    const replies = (await Promise.all([a.json(), b.json()])).map((r) => [r.imported, r.alreadyImported]).sort();
    expect(replies).toEqual([
      [0, 50],
      [50, 0],
    ]);
    expect(await queued(t.workspaceId)).toEqual({ posts: 50, import_rows: 50 });
  });

  it("imports another workspace's identical file as its own", async () => {
    const handle = `imp_${randomUUID().slice(0, 8)}`;
    const [alice, bob] = await Promise.all([tenant("reup-alice", handle), tenant("reup-bob", handle)]);
    const rows = fileRows(handle, 5, "Same");
    expect((await send(alice.user, chunk(randomUUID(), rows))).status).toBe(201);
    expect(await check(bob, "posts.csv", rows)).toMatchObject({ alreadyImported: 0, changed: [] });
    const res = await send(bob.user, chunk(randomUUID(), rows));
    expect(await res.json()).toMatchObject({ imported: 5, alreadyImported: 0 });
    expect(await queued(bob.workspaceId)).toEqual({ posts: 5, import_rows: 5 });
  });
});

describe("the rows' fingerprint", () => {
  it("is required of every new row written straight at the table", async () => {
    const t = await tenant("reup-nofp");
    const importId = randomUUID();
    expect((await send(t.user, chunk(importId, fileRows(t.accounts[0].handle, 1, "One")))).status).toBe(201);
    const [p] = await sql`insert into public.posts (workspace_id, text) values (${t.workspaceId}, 'two') returning id`;
    const error = await sql`insert into public.import_rows (workspace_id, import_id, row_number, post_id)
                            values (${t.workspaceId}, ${importId}, 3, ${p.id})`.catch((e) => e);
    expect(error?.code).toBe("23514");
  });
});
