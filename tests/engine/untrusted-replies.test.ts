// What a platform answers is untrusted: a NUL or a lone surrogate in an id, a link or an error must
// not stop the engine from recording outcomes — its own, or other tenants' in the same batch.
import { createServer, type Server } from "node:http";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processQueue, writeOutcomes } from "../../lib/engine/process.ts";
import { claimDuePosts, type AttemptResult } from "../../lib/engine/store.ts";
import { sandboxConnector } from "../support/sandbox.ts";
import { encryptCredentials } from "../../lib/accounts/credentials.ts";
import { connect, makeUser, type Sql } from "../support/db";

let sql: Sql;
let platform: { url: string; server: Server };

// Raw JSON, as a platform would send it: the escapes decode to a NUL and to lone surrogates.
const REPLIES: Record<string, { status: number; body: string }> = {
  nul: { status: 201, body: '{"id": "post\\u0000-7", "url": "https://platform.test/p/7\\u0000"}' },
  surrogate: { status: 201, body: '{"id": "post-8\\ud800", "url": "https://platform.test/\\udc00p/8"}' },
  refusal: { status: 422, body: `{"error": "bad\\u0000", "message": "refused \\ud83d ${"x".repeat(5000)}"}` },
  fine: { status: 201, body: '{"id": "post-9", "url": "https://platform.test/p/9"}' },
};

beforeAll(async () => {
  sql = connect(4);
  // A platform speaking the sandbox's API whose answer depends on the handle's prefix.
  const server = createServer((req, res) => {
    const handle = decodeURIComponent(req.url?.match(/^\/v1\/accounts\/([^/]+)\/posts/)?.[1] ?? "");
    const reply = REPLIES[handle.split("_")[0]] ?? { status: 404, body: '{"error": "account_not_found"}' };
    req.resume().on("end", () => {
      res.writeHead(reply.status, { "content-type": "application/json" });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  platform = { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
});
afterAll(async () => {
  await new Promise((resolve) => platform.server.close(resolve));
  await sql.end();
});

/** One queue item, due now, for a new account of a new tenant with a token for the platform above. */
async function itemFor(kind: keyof typeof REPLIES) {
  const user = await makeUser(sql, `untrusted-${kind}`);
  const handle = `${kind}_${randomUUID().slice(0, 8)}`;
  const sealed = await encryptCredentials({ accessToken: "sbx_test" });
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                        values (${user.workspaceId}, 'sandbox', ${handle}, ${handle}, ${sealed}) returning id`;
  const [p] = await sql`insert into public.posts (workspace_id, text) values (${user.workspaceId}, ${`post ${randomUUID()}`}) returning id`;
  const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${user.workspaceId}, ${p.id}, ${a.id}) returning id`;
  return Number(q.id);
}

/** Made one after another, so their ids (and `rows`) come in this order. */
async function items(kinds: Array<keyof typeof REPLIES>) {
  const ids: number[] = [];
  for (const kind of kinds) ids.push(await itemFor(kind));
  return ids;
}

const rows = (ids: number[]) =>
  sql`select id, status, external_id, external_url, last_error from public.queue_items where id = any(${ids}) order by id`;

describe("replies a platform should never send", () => {
  it("records every tenant's outcome when one reply carries a NUL or a lone surrogate", async () => {
    const ids = await items(["nul", "surrogate", "refusal", "fine"]);
    const connector = sandboxConnector(platform.url);
    // One flush at the end, so all four outcomes travel in one batch.
    await processQueue({ sql, worker: "untrusted", connectorFor: () => connector, budgetMs: 10_000, flushMs: 60_000 });

    const [nul, surrogate, refusal, fine] = await rows(ids);
    expect(nul).toMatchObject({ status: "posted", external_id: "post-7", external_url: "https://platform.test/p/7" });
    expect(surrogate).toMatchObject({ status: "posted", external_id: "post-8", external_url: "https://platform.test/p/8" });
    expect(refusal.status).toBe("failed");
    expect(refusal.last_error).toMatch(/^HTTP 422: bad: refused  x+$/);
    expect(refusal.last_error.length).toBeLessThanOrEqual(2000);
    expect(fine).toMatchObject({ status: "posted", external_id: "post-9" });
    const history = await sql`select count(*)::int as n from public.posting_history where queue_item_id = any(${ids})`;
    expect(history[0].n).toBe(4);
  }, 30_000);

  it("writes a batch the database refuses one by one: one bad outcome never holds the others", async () => {
    const ids = await items(["fine", "fine", "fine"]);
    const claimed = (await claimDuePosts(sql, { worker: "one-by-one", limit: 100, leaseSeconds: 60 })).filter((c) => ids.includes(c.id));
    expect(claimed.length).toBe(3);
    const result = (id: number, latencyMs = 5): AttemptResult => {
      const c = claimed.find((x) => x.id === id)!;
      return {
        id, leaseId: c.leaseId, mode: c.mode, attempt: 1, outcome: "posted", externalId: `ext-${id}`, next: "done",
        startedAt: new Date(), finishedAt: new Date(), latencyMs, worker: "one-by-one",
      };
    };
    const lines: string[] = [];
    // The middle one is out of range for its column: Postgres refuses the whole statement.
    const written = await writeOutcomes(sql, [result(ids[0]), result(ids[1], 2 ** 31), result(ids[2])], (l) => lines.push(l));

    expect(written.unwritten).toEqual([ids[1]]);
    expect([...written.applied.keys()].sort()).toEqual([ids[0], ids[2]].sort());
    expect((await rows(ids)).map((r) => r.status)).toEqual(["posted", "processing", "posted"]);
    expect(lines.join("\n")).toContain(`item ${ids[1]}`);
    // Left to lease recovery, which sends it to verification.
    await sql`update public.queue_items set status = 'cancelled', lease_id = null, lease_expires_at = null where id = ${ids[1]}`;
  }, 30_000);
});
