// The audit log's HTTP API: who may read it, what an entry says (who, what, to whom, old → new),
// filters, cursor paging, and a CSV export a spreadsheet cannot be tricked into running.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Papa from "papaparse";
import * as auditRoute from "@/app/api/audit/route";
import * as exportRoute from "@/app/api/audit/export/route";
import { auditCsv, type AuditEntry } from "@/lib/audit";
import { connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";

const BASE = "http://127.0.0.1:3000";
let sql: Sql;
let owner: TestUser;
let admin: TestUser;
let editor: TestUser;
let ws: string;

/** Commit `statement`'s change as this user, as the API would make it (the audit trigger sees them). */
function as(user: TestUser, fn: (tx: Sql) => Promise<unknown>) {
  return sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: user.id, role: "authenticated" })}, true),
                    set_config('role', 'authenticated', true)`;
    await fn(tx as unknown as Sql);
  });
}

function get(handler: typeof auditRoute.GET, path: string, user?: TestUser) {
  const headers = new Headers();
  if (user) headers.set("authorization", `Bearer ${user.accessToken}`);
  return handler(new Request(`${BASE}${path}`, { headers }), {});
}

const page = async (query: string, user: TestUser = admin) => {
  const res = await get(auditRoute.GET, `/api/audit?workspaceId=${ws}&${query}`, user);
  expect(res.status).toBe(200);
  return res.json() as Promise<{ entries: AuditEntry[]; nextCursor: string | null; facets?: { actions: string[]; actors: Array<{ id: string; email: string }> } }>;
};

beforeAll(async () => {
  sql = connect();
  [owner, admin, editor] = await Promise.all([signUp("owner"), signUp("admin"), signUp("editor")]);
  ws = (await sql`select workspace_id from public.workspace_members where user_id = ${owner.id}`)[0].workspace_id;
  // Joined as an accepted invitation would add them (tests/team covers the invitation itself).
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${admin.id}, 'admin'), (${ws}, ${editor.id}, 'viewer')`;
  await as(admin, (tx) => tx`update public.workspace_members set role = 'editor' where workspace_id = ${ws} and user_id = ${editor.id}`);
  await as(owner, (tx) => tx`update public.workspaces set name = ${"=HYPERLINK(\"http://evil.test\")\nsecond line"} where id = ${ws}`);
  await as(owner, (tx) => tx`update public.workspaces set name = '@SUM(1+1)' where id = ${ws}`);
  await as(owner, (tx) => tx`update public.workspaces set name = 'Plain name' where id = ${ws}`);
});
afterAll(() => sql.end());

describe("who may read it", () => {
  it("needs a session", async () => {
    expect((await get(auditRoute.GET, "/api/audit")).status).toBe(401);
    expect((await get(exportRoute.GET, "/api/audit/export")).status).toBe(401);
  });

  it("is for admins and the owner: an editor is refused, an outsider does not find the workspace", async () => {
    const refused = await get(auditRoute.GET, `/api/audit?workspaceId=${ws}`, editor);
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("role_not_allowed");
    expect((await get(exportRoute.GET, `/api/audit/export?workspaceId=${ws}`, editor)).status).toBe(403);
    const outsider = await signUp("outsider");
    expect((await get(auditRoute.GET, `/api/audit?workspaceId=${ws}`, outsider)).status).toBe(404);
    expect((await get(exportRoute.GET, `/api/audit/export?workspaceId=${ws}`, outsider)).status).toBe(404);
    // Their own workspace's log has nothing of this one.
    const own = await (await get(auditRoute.GET, "/api/audit", outsider)).json();
    expect(own.entries.every((e: AuditEntry) => e.subject !== editor.email)).toBe(true);
  });
});

describe("entries", () => {
  it("say who changed whose role, from what to what", async () => {
    const { entries } = await page("entity=workspace_members&action=update");
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor: { id: admin.id, email: admin.email },
      action: "update",
      entity: "workspace_members",
      subject: editor.email,
      changes: [{ field: "role", from: "viewer", to: "editor" }],
    });
  });

  it("filter by actor, action, entity and time, and refuse a malformed filter naming it", async () => {
    const byOwner = await page(`actor=${owner.id}`);
    expect(byOwner.entries.length).toBe(3);
    expect(byOwner.entries.every((e) => e.actor?.id === owner.id && e.entity === "workspaces")).toBe(true);
    const future = await page(`from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`);
    expect(future.entries).toEqual([]);
    const past = await page(`to=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`);
    expect(past.entries).toEqual([]);
    const bad = await get(auditRoute.GET, `/api/audit?workspaceId=${ws}&from=yesterday`, admin);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.issues[0].path).toBe("from");
    const first = await page("");
    expect(first.facets?.actions).toEqual(expect.arrayContaining(["insert", "update"]));
    expect(first.facets?.actors.map((a) => a.email)).toEqual(expect.arrayContaining([owner.email, admin.email]));
  });

  it("page newest first with a cursor, without repeats or gaps", async () => {
    const all = (await page("limit=200")).entries.map((e) => e.id);
    expect(all.length).toBeGreaterThan(4);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const next: Awaited<ReturnType<typeof page>> = await page(`limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(next.entries.length).toBeLessThanOrEqual(2);
      seen.push(...next.entries.map((e) => e.id));
      cursor = next.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
    expect([...seen].sort((a, b) => Number(b) - Number(a))).toEqual(seen);
  });
});

describe("CSV export", () => {
  it("holds the filtered entries with who, what and old → new", async () => {
    const res = await get(exportRoute.GET, `/api/audit/export?workspaceId=${ws}&entity=workspace_members&action=update`, admin);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="pacer-audit-.*\.csv"$/);
    const rows = Papa.parse<string[]>(await res.text(), { skipEmptyLines: true }).data;
    expect(rows[0]).toEqual(["at", "actor_email", "actor_id", "action", "entity", "entity_id", "subject", "changes", "old_values", "new_values"]);
    expect(rows).toHaveLength(2);
    expect(rows[1].slice(1, 5)).toEqual([admin.email, admin.id, "update", "workspace_members"]);
    expect(rows[1][6]).toBe(editor.email);
    expect(rows[1][7]).toBe("role: viewer → editor");
  });

  it("escapes every cell a spreadsheet would run as a formula, even one spanning lines", async () => {
    const res = await get(exportRoute.GET, `/api/audit/export?workspaceId=${ws}&entity=workspaces`, admin);
    const rows = Papa.parse<string[]>(await res.text(), { skipEmptyLines: true }).data;
    const cells = rows.flat();
    expect(cells.filter((c) => /^[=+\-@\t\r]/.test(c))).toEqual([]);
    expect(cells).toContain("'@SUM(1+1)");
    expect(cells).toContain(`'=HYPERLINK("http://evil.test")\nsecond line`);
  });

  it("escapes cells starting with + and - as well", () => {
    const entry: AuditEntry = {
      id: "1", at: "2026-12-01T00:00:00.000Z", actor: null, action: "+cmd", entity: "-2+3", entityId: "\tx",
      subject: "\r=1", changes: [], oldValues: null, newValues: null,
    };
    const [, row] = Papa.parse<string[]>(auditCsv([entry]), { skipEmptyLines: true }).data;
    expect(row.slice(3, 7)).toEqual(["'+cmd", "'-2+3", "'\tx", "'\r=1"]);
  });
});
