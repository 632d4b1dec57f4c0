// A request counts against its API limit in a transaction of its own (lib/api/limits.ts), before the
// route's work: a request whose work then fails or is refused still used up its share of the window,
// and the work's transaction sees the caller's claims from its first statement on (lib/db asUser).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as addRoute from "@/app/api/queue/add/route";
import * as statusRoute from "@/app/api/queue/status/route";
import { connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";

const APP = "http://127.0.0.1:3000";
let sql: Sql;
let user: TestUser;

beforeAll(async () => {
  sql = connect();
  user = await signUp("limit-counts");
});
afterAll(() => sql.end());

const used = async (bucket: string) => {
  const [row] = await sql`select count from private.api_rate_limits where user_id = ${user.id} and bucket = ${bucket}`;
  return (row?.count as number | undefined) ?? 0;
};

describe("the API limit", () => {
  it("counts a request whose work fails afterwards", async () => {
    const before = await used("write");
    const res = await addRoute.POST(
      new Request(`${APP}/api/queue/add`, {
        method: "POST",
        headers: { authorization: `Bearer ${user.accessToken}`, "content-type": "application/json" },
        // A well-formed request for an account that does not exist: refused by the work, after the count.
        body: JSON.stringify({ text: "Hello", accountIds: [crypto.randomUUID()] }),
      }),
      { params: Promise.resolve({}) },
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await used("write")).toBe(before + 1);
  });

  it("counts each read, and the read answers for the caller's own workspace", async () => {
    const before = await used("read");
    const res = await statusRoute.GET(new Request(`${APP}/api/queue/status`, { headers: { authorization: `Bearer ${user.accessToken}` } }), {
      params: Promise.resolve({}),
    });
    expect(res.status).toBe(200);
    const [own] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
    expect((await res.json()).workspaceId).toBe(own.workspace_id);
    expect(await used("read")).toBe(before + 1);
  });
});
