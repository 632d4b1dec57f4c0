// A post longer than a platform it goes to allows is refused when it is queued, counted the
// platform's way (lib/posts/length.ts), instead of being queued only to fail at publish.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as accountsRoute from "@/app/api/accounts/route";
import * as addRoute from "@/app/api/queue/add/route";
import * as bulkRoute from "@/app/api/queue/bulk-post/route";
import { connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";

const BASE = "http://127.0.0.1:3000";
let sql: Sql;
let user: TestUser;
let blueskyId: string;
let sandboxId: string;

function post(handler: (req: Request, ctx: unknown) => Promise<Response>, path: string, body: unknown) {
  return handler(
    new Request(`${BASE}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${user.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    {},
  );
}

beforeAll(async () => {
  sql = connect();
  user = await signUp("text-limits");
  const handle = `t${crypto.randomUUID().slice(0, 8)}.bsky.test`;
  const made = await fetch(`${process.env.PACER_BLUESKY_APPVIEW_URL}/admin/accounts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ handle }),
  });
  const { appPassword } = await made.json();
  const bluesky = await post(accountsRoute.POST, "/api/accounts", { platform: "bluesky", handle, credentials: { appPassword } });
  expect(bluesky.status).toBe(201);
  blueskyId = (await bluesky.json()).account.id;
  const sandbox = await post(accountsRoute.POST, "/api/accounts", { platform: "sandbox", handle: "limits_sandbox" });
  expect(sandbox.status).toBe(201);
  sandboxId = (await sandbox.json()).account.id;
  // Bulk posting is a Starter feature.
  await sql`update public.workspaces set plan_id = 'starter' where id = (select workspace_id from public.social_accounts where id = ${sandboxId})`;
});
afterAll(() => sql.end());

const queued = async (text: string) => (await sql`select count(*)::int as n from public.posts where text = ${text}`)[0].n as number;

describe("text limits at enqueue", () => {
  it("refuses 301 graphemes for a Bluesky account, naming the field, the count and the fix; nothing is queued", async () => {
    const text = `${"z".repeat(300)}!`;
    const res = await post(addRoute.POST, "/api/queue/add", { text, accountIds: [sandboxId, blueskyId] });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.issues).toEqual([
      { path: "text", message: "The text is 301 characters as Bluesky counts them; Bluesky allows 300. Shorten it, or leave the Bluesky accounts out." },
    ]);
    expect(await queued(text)).toBe(0);
  });

  it("accepts 300 family emoji for Bluesky only if they fit its bytes too, and the same text for the sandbox alone", async () => {
    const text = "👨‍👩‍👧‍👦".repeat(150); // 150 graphemes, 3,750 bytes
    const refused = await post(addRoute.POST, "/api/queue/add", { text, accountIds: [blueskyId] });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error.issues[0].message).toBe("The text is 3,750 bytes; Bluesky takes at most 3,000. Shorten it.");
    const accepted = await post(addRoute.POST, "/api/queue/add", { text, accountIds: [sandboxId] });
    expect(accepted.status).toBe(201);
  });

  it("checks the first comment too, and lists each bad bulk row while refusing the whole request", async () => {
    const ok = `fits ${crypto.randomUUID()}`;
    const res = await post(bulkRoute.POST, "/api/queue/bulk-post", {
      items: [
        { text: ok, accountIds: [blueskyId] },
        { text: ok, firstComment: "c".repeat(301), accountIds: [blueskyId] },
        { text: "y".repeat(400), accountIds: [sandboxId, blueskyId] },
      ],
    });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.issues.map((i: { path: string }) => i.path)).toEqual(["items.1.firstComment", "items.2.text"]);
    expect(error.issues[0].message).toMatch(/^The first comment is 301 characters as Bluesky counts them/);
    expect(await queued(ok)).toBe(0);
  });
});
