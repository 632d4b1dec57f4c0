// POST /api/queue/import through the real route with real tokens: a 10,000-row file in chunks,
// retried chunks and a second upload that queue nothing twice, rows checked again on the server,
// other workspaces' import ids and accounts refused, roles, and the plan feature held by the API and
// by the database for writes straight at the tables.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import type postgres from "postgres";
import * as importRoute from "@/app/api/queue/import/route";
import { IMPORT_CHUNK_ROWS } from "@/lib/import/input";
import { connect, errorOf, type Sql } from "../support/db";
import { subscribe } from "../support/billing";
import { signUp, type TestUser } from "../support/users";

type Handler = (req: Request, ctx: any) => Promise<Response>;

let sql: Sql;
afterAll(() => sql?.end());
beforeAll(() => {
  sql = connect();
});

const TOMORROW = () => new Date(Date.now() + 24 * 3600_000).toISOString();

function call(handler: Handler, user: TestUser, init: { method?: string; body?: unknown; query?: string } = {}) {
  const headers = new Headers({ authorization: `Bearer ${user.accessToken}` });
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const request = new Request(`http://127.0.0.1:3000/api/queue/import${init.query ?? ""}`, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return handler(request, { params: Promise.resolve({}) });
}
const send = (user: TestUser, body: unknown) => call(importRoute.POST, user, { method: "POST", body });

interface Tenant {
  user: TestUser;
  workspaceId: string;
  handles: string[];
  accountIds: string[];
}

/** A new user with `n` sandbox accounts in their personal workspace, on `plan` (Free without one). */
async function tenant(label: string, n: number, plan?: string): Promise<Tenant> {
  const user = await signUp(label);
  const [m] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
  const workspaceId = m.workspace_id as string;
  if (plan) await subscribe(sql, workspaceId, plan);
  const handles = Array.from({ length: n }, () => `imp_${randomUUID().slice(0, 10).replace("-", "_")}`);
  const accountIds: string[] = [];
  for (const handle of handles) {
    const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                          values (${workspaceId}, 'sandbox', ${handle}, ${handle}) returning id`;
    accountIds.push(a.id);
  }
  return { user, workspaceId, handles, accountIds };
}

/** Rows 2 … n+1 of a file, each a post to the tenant's first account by platform:handle, due tomorrow. */
const rowsFor = (t: Tenant, n: number, first = 2) =>
  Array.from({ length: n }, (_, i) => ({ rowNumber: first + i, text: `Imported post ${first + i}`, accounts: `sandbox:${t.handles[0]}`, scheduled_at: TOMORROW() }));

const chunk = (importId: string, rows: unknown[], extra: Record<string, unknown> = {}) => ({
  importId,
  chunkIndex: 0,
  fileName: "posts.csv",
  rowsInFile: 10_000,
  rowsBad: 0,
  timeZone: "Europe/Paris",
  rows,
  ...extra,
});

const counts = async (workspaceId: string) => {
  const [r] = await sql`
    select (select count(*)::int from public.posts where workspace_id = ${workspaceId}) as posts,
           (select count(*)::int from public.queue_items where workspace_id = ${workspaceId}) as items,
           (select count(*)::int from public.import_rows where workspace_id = ${workspaceId}) as import_rows,
           (select count(*)::int from public.imports where workspace_id = ${workspaceId}) as imports`;
  return r as { posts: number; items: number; import_rows: number; imports: number };
};

describe("a 10,000-row file", () => {
  it("is imported in chunks of 2,000 through the route; a retried chunk queues nothing again and says so", async () => {
    const t = await tenant("imp-big", 1, "starter");
    const importId = randomUUID();
    const rows = rowsFor(t, 10_000);
    for (let i = 0; i < rows.length / IMPORT_CHUNK_ROWS; i++) {
      const res = await send(t.user, chunk(importId, rows.slice(i * IMPORT_CHUNK_ROWS, (i + 1) * IMPORT_CHUNK_ROWS), { chunkIndex: i }));
      expect(res.status, await res.clone().text()).toBe(201);
      expect(await res.json()).toMatchObject({ importId, chunkIndex: i, imported: 2_000, alreadyImported: 0, posts: 2_000, items: 2_000 });
    }
    expect(await counts(t.workspaceId)).toEqual({ posts: 10_000, items: 10_000, import_rows: 10_000, imports: 1 });

    // The browser lost the reply to chunk 2 and sends it again.
    const retry = await send(t.user, chunk(importId, rows.slice(2 * IMPORT_CHUNK_ROWS, 3 * IMPORT_CHUNK_ROWS), { chunkIndex: 2 }));
    expect(retry.status).toBe(200);
    const body = await retry.json();
    expect(body).toMatchObject({ imported: 0, alreadyImported: 2_000, posts: 0, items: 0 });
    expect(body.import).toMatchObject({ id: importId, fileName: "posts.csv", rowsInFile: 10_000, rowsImported: 10_000, rowsBad: 0, rowsRepeated: 2_000, createdBy: t.user.id });
    expect(await counts(t.workspaceId)).toEqual({ posts: 10_000, items: 10_000, import_rows: 10_000, imports: 1 });

    // Each queued post says what the file said: text, account, time, the default priority.
    const [sample] = await sql`
      select p.text, q.account_id, q.priority, q.status from public.import_rows r
      join public.posts p on p.id = r.post_id join public.queue_items q on q.post_id = p.id
      where r.import_id = ${importId} and r.row_number = 5000`;
    expect(sample).toEqual({ text: "Imported post 5000", account_id: t.accountIds[0], priority: 5, status: "pending" });

    // One audit row for the start and one per request (the retry included), by the importer.
    const audit = await sql`select action, actor_id from public.audit_log where entity = 'imports' and entity_id = ${importId} order by id`;
    expect(audit.map((a) => a.action)).toEqual(["insert", "update", "update", "update", "update", "update", "update"]);
    expect(new Set(audit.map((a) => a.actor_id))).toEqual(new Set([t.user.id]));
    // Six requests of 2,000 rows: seconds on a quiet machine, a minute when CI shares its cores.
  }, 120_000);
});

describe("idempotency by import id and row", () => {
  it("queues a row once when the same chunk arrives twice at the same time", async () => {
    const t = await tenant("imp-race", 1, "starter");
    const importId = randomUUID();
    const body = chunk(importId, rowsFor(t, 300));
    const [a, b] = await Promise.all([send(t.user, body), send(t.user, body)]);
    const replies = (await Promise.all([a.json(), b.json()])).map((r) => [r.imported, r.alreadyImported]).sort();
    expect(replies).toEqual([
      [0, 300],
      [300, 0],
    ]);
    expect(await counts(t.workspaceId)).toEqual({ posts: 300, items: 300, import_rows: 300, imports: 1 });
  });

  it("imports only the new rows of a second upload under the same import id", async () => {
    const t = await tenant("imp-again", 2, "starter");
    const importId = randomUUID();
    const rows = rowsFor(t, 10);
    expect((await send(t.user, chunk(importId, rows.slice(0, 6)))).status).toBe(201);
    const again = await send(t.user, chunk(importId, rows, { chunkIndex: 0 }));
    expect(await again.json()).toMatchObject({ imported: 4, alreadyImported: 6 });
    expect(await counts(t.workspaceId)).toMatchObject({ posts: 10, import_rows: 10 });
  });

  it("holds the idempotency in the database: a row written twice straight at the table is refused", async () => {
    const t = await tenant("imp-unique", 1, "starter");
    const importId = randomUUID();
    expect((await send(t.user, chunk(importId, rowsFor(t, 1)))).status).toBe(201);
    const [post] = await sql`insert into public.posts (workspace_id, text) values (${t.workspaceId}, 'again') returning id`;
    const error = await asAuthenticated(t.user.id, (tx) =>
      tx`insert into public.import_rows (workspace_id, import_id, row_number, post_id, fingerprint) values (${t.workspaceId}, ${importId}, 2, ${post.id}, ${"a".repeat(64)})`,
    );
    expect(error?.code).toBe("23505");
  });
});

describe("the server checks every row again", () => {
  it("refuses a chunk with a bad row, naming it, writing nothing; the same chunk without it imports", async () => {
    const t = await tenant("imp-bad", 1, "starter");
    const importId = randomUUID();
    const rows = rowsFor(t, 3);
    const tampered = [rows[0], { ...rows[1], accounts: "sandbox:nobody_here", priority: "11" }, { ...rows[2], scheduled_at: "2026-03-29 02:30" }];
    const res = await send(t.user, chunk(importId, tampered, { timeZone: "Europe/Paris" }));
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe("validation_failed");
    expect(error.issues).toEqual([
      { path: "rows.1.accounts", message: "There is no sandbox account @nobody_here in this workspace." },
      { path: "rows.1.priority", message: "Priority is a whole number from 1 (lowest) to 10 (highest)." },
      { path: "rows.2.scheduled_at", message: "2026-03-29 02:30 does not exist in Europe/Paris (the clocks skip that hour); choose another time or give an offset." },
    ]);
    expect(error.message).toMatch(/^2 of 3 rows in this request have problems; nothing from it was imported\./);
    expect(await counts(t.workspaceId)).toEqual({ posts: 0, items: 0, import_rows: 0, imports: 0 });

    const ok = await send(t.user, chunk(importId, [rows[0]], { rowsBad: 2 }));
    expect(ok.status).toBe(201);
    expect((await ok.json()).import).toMatchObject({ rowsImported: 1, rowsBad: 2 });
  });

  it("reads a local time in the request's zone, and one with an offset as written", async () => {
    const t = await tenant("imp-zone", 1, "starter");
    const res = await send(
      t.user,
      chunk(randomUUID(), [
        { rowNumber: 2, text: "local", accounts: `sandbox:${t.handles[0]}`, scheduled_at: "2030-07-01 09:30" },
        { rowNumber: 3, text: "row zone", accounts: t.accountIds[0], scheduled_at: "2030-07-01 09:30", timezone: "Asia/Tokyo" },
        { rowNumber: 4, text: "offset", accounts: `SANDBOX:@${t.handles[0]}`, scheduled_at: "2030-07-01T09:30:00-04:00" },
      ]),
    );
    expect(res.status).toBe(201);
    const times = await sql`select p.text, q.scheduled_for from public.queue_items q join public.posts p on p.id = q.post_id
                            where q.workspace_id = ${t.workspaceId} order by p.text`;
    expect(times.map((r) => [r.text, r.scheduled_for.toISOString()])).toEqual([
      ["local", "2030-07-01T07:30:00.000Z"],
      ["offset", "2030-07-01T13:30:00.000Z"],
      ["row zone", "2030-07-01T00:30:00.000Z"],
    ]);
  });

  it("refuses a malformed request whole: unknown cells, repeated rows, more than 2,000 rows", async () => {
    const t = await tenant("imp-shape", 1, "starter");
    const row = rowsFor(t, 1)[0];
    const res = await send(t.user, chunk(randomUUID(), [row, { ...row, notes: "x" }]));
    expect(res.status).toBe(400);
    const paths = (await res.json()).error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(["rows.1", "rows.1.rowNumber"]);
    const tooMany = await send(t.user, chunk(randomUUID(), rowsFor(t, 2_001)));
    expect((await tooMany.json()).error.issues).toEqual([{ path: "rows", message: "Send at most 2,000 rows per request; split the file into chunks." }]);
  });
});

describe("other workspaces", () => {
  let alice: Tenant;
  let bob: Tenant;
  let aliceImport: string;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([tenant("imp-alice", 1, "starter"), tenant("imp-bob", 1, "starter")]);
    aliceImport = randomUUID();
    expect((await send(alice.user, chunk(aliceImport, rowsFor(alice, 2)))).status).toBe(201);
  });

  it("refuses another workspace's import id, writing nothing and adding nothing to it", async () => {
    const res = await send(bob.user, chunk(aliceImport, rowsFor(bob, 3)));
    expect(res.status).toBe(409);
    expect((await res.json()).error).toEqual({ code: "import_id_taken", message: "This importId belongs to another import; choose a new UUID for this file." });
    expect(await counts(bob.workspaceId)).toEqual({ posts: 0, items: 0, import_rows: 0, imports: 0 });
    expect(await counts(alice.workspaceId)).toMatchObject({ posts: 2, import_rows: 2 });
  });

  it("refuses another workspace's accounts, by id and by handle", async () => {
    const res = await send(bob.user, chunk(randomUUID(), [
      { rowNumber: 2, text: "by id", accounts: alice.accountIds[0] },
      { rowNumber: 3, text: "by handle", accounts: `sandbox:${alice.handles[0]}` },
    ]));
    expect(res.status).toBe(400);
    expect((await res.json()).error.issues).toEqual([
      { path: "rows.0.accounts", message: `There is no account with id ${alice.accountIds[0]} in this workspace.` },
      { path: "rows.1.accounts", message: `There is no sandbox account @${alice.handles[0]} in this workspace.` },
    ]);
    expect(await counts(bob.workspaceId)).toEqual({ posts: 0, items: 0, import_rows: 0, imports: 0 });
  });

  it("answers 404 for another workspace's workspaceId, and hides its imports", async () => {
    const res = await send(bob.user, chunk(randomUUID(), rowsFor(bob, 1), { workspaceId: alice.workspaceId }));
    expect(res.status).toBe(404);
    const one = await call(importRoute.GET, bob.user, { query: `?importId=${aliceImport}` });
    expect(one.status).toBe(404);
    const list = await (await call(importRoute.GET, bob.user)).json();
    expect(list.imports).toEqual([]);
    const mine = await (await call(importRoute.GET, alice.user)).json();
    expect(mine.imports.map((i: { id: string }) => i.id)).toEqual([aliceImport]);
  });

  it("lets a viewer read imports but not import, through the API or at the table", async () => {
    const viewer = await signUp("imp-viewer");
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${alice.workspaceId}, ${viewer.id}, 'viewer')`;
    const res = await send(viewer, chunk(randomUUID(), rowsFor(alice, 1), { workspaceId: alice.workspaceId }));
    expect(res.status).toBe(403);
    expect((await res.json()).error.message).toBe("Your role in this workspace does not allow you to import posts; editors, admins and owners can.");
    const overview = await (await call(importRoute.GET, viewer, { query: `?workspaceId=${alice.workspaceId}` })).json();
    expect(overview).toMatchObject({ canImport: false, planIncludesImport: true });
    expect(overview.imports).toHaveLength(1);
    const error = await asAuthenticated(viewer.id, (tx) =>
      tx`insert into public.imports (id, workspace_id, file_name, rows_in_file) values (${randomUUID()}, ${alice.workspaceId}, 'x.csv', 1)`,
    );
    expect(error?.code).toBe("42501");
  });

  it("keeps the counters the database's: a member cannot change them at the table", async () => {
    const error = await asAuthenticated(alice.user.id, (tx) => tx`update public.imports set rows_imported = 0 where id = ${aliceImport}`);
    expect(error?.code).toBe("42501");
  });
});

describe("the plan feature", () => {
  it("refuses an import on the Free plan through the API, saying which plan includes it", async () => {
    const t = await tenant("imp-free", 1);
    const res = await send(t.user, chunk(randomUUID(), rowsFor(t, 1)));
    expect(res.status).toBe(403);
    expect((await res.json()).error).toEqual({
      code: "plan_feature_unavailable",
      message: "Bulk import is not part of the Free plan; Starter and above include it. Upgrade in Billing, or add posts one at a time on the Queue page.",
    });
    expect(await counts(t.workspaceId)).toEqual({ posts: 0, items: 0, import_rows: 0, imports: 0 });
    const overview = await (await call(importRoute.GET, t.user)).json();
    expect(overview).toMatchObject({ planName: "Free", includedFrom: "Starter", planIncludesImport: false, canImport: true });
  });

  it("refuses a Free workspace's import straight at the table", async () => {
    const t = await tenant("imp-free-db", 1);
    const error = await asAuthenticated(t.user.id, (tx) =>
      tx`insert into public.imports (id, workspace_id, file_name, rows_in_file) values (${randomUUID()}, ${t.workspaceId}, 'x.csv', 1)`,
    );
    expect(error?.message).toBe("Bulk import is not part of the Free plan.");
    expect(error?.hint).toBe("Upgrade to Starter or above to import CSV files.");
  });

  it("stops an import whose workspace moved to Free: through the API and straight at the rows", async () => {
    const t = await tenant("imp-downgrade", 1, "starter");
    const importId = randomUUID();
    expect((await send(t.user, chunk(importId, rowsFor(t, 1)))).status).toBe(201);
    await sql`update public.workspaces set plan_id = 'free' where id = ${t.workspaceId}`;
    const res = await send(t.user, chunk(importId, rowsFor(t, 1, 3)));
    expect(res.status).toBe(403);
    const [post] = await sql`insert into public.posts (workspace_id, text) values (${t.workspaceId}, 'one') returning id`;
    const error = await asAuthenticated(t.user.id, (tx) =>
      tx`insert into public.import_rows (workspace_id, import_id, row_number, post_id, fingerprint) values (${t.workspaceId}, ${importId}, 3, ${post.id}, ${"a".repeat(64)})`,
    );
    expect(error?.message).toBe("Bulk import is not part of the Free plan.");
  });
});

/** Run one statement as the signed-in user (role authenticated), as supabase-js would; its error, or null. */
async function asAuthenticated(userId: string, fn: (tx: postgres.TransactionSql) => Promise<unknown>) {
  let error: Awaited<ReturnType<typeof errorOf>> = null;
  await sql
    .begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: "authenticated" })}, true),
                      set_config('role', 'authenticated', true)`;
      error = await errorOf(tx, fn);
      throw new Error("rollback");
    })
    .catch((e) => {
      if (e.message !== "rollback") throw e;
    });
  return error as Awaited<ReturnType<typeof errorOf>>;
}
