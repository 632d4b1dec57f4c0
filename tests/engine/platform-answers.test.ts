// The engine against the sandbox when the platform pushes back: a 429 with Retry-After, read-backs
// that fail until a person must decide, and a cancel that arrives while the publish is on the wire.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { startSandbox, type Sandbox } from "../../local/sandbox/index.ts";
import { sandboxAccount, sandboxConnector } from "../support/sandbox.ts";
import { processQueue, type ProcessOptions } from "../../lib/engine/process.ts";
import { claimDuePosts } from "../../lib/engine/store.ts";
import { cancelQueueItems } from "../../lib/queue/index.ts";
import { connect, makeUser, type Sql } from "../support/db";

let sql: Sql;
let sandbox: Sandbox;

beforeAll(async () => {
  sql = connect(6);
  sandbox = await startSandbox({ port: 0, seed: 11 });
});
afterAll(async () => {
  await sandbox.stop();
  await sql.end();
});

function run(extra: Partial<ProcessOptions> & { baseUrl?: string } = {}) {
  const connector = sandboxConnector(extra.baseUrl ?? sandbox.url);
  return processQueue({
    sql,
    worker: `answers-${randomUUID().slice(0, 6)}`,
    connectorFor: () => connector,
    budgetMs: 5_000,
    callTimeoutMs: 5_000,
    verifyRetryMs: [10, 10],
    retry: { baseMs: 20, factor: 2, maxRetries: 3, jitter: 0 },
    ...extra,
  });
}

/** A user's workspace with one sandbox account. */
async function oneAccount() {
  const user = await makeUser(sql, "answers");
  const handle = `ans_${randomUUID().slice(0, 8)}`;
  const { sealed } = await sandboxAccount(sandbox.url, handle);
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                        values (${user.workspaceId}, 'sandbox', ${handle}, ${handle}, ${sealed}) returning id`;
  return { user, workspaceId: user.workspaceId, accountId: a.id as string, handle };
}

async function enqueue(workspaceId: string, accountId: string, n = 1): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const [p] = await sql`insert into public.posts (workspace_id, text) values (${workspaceId}, ${`post ${randomUUID()}`}) returning id`;
    const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${workspaceId}, ${p.id}, ${accountId}) returning id`;
    ids.push(Number(q.id));
  }
  return ids;
}

const item = async (id: number) =>
  (await sql`select status, attempts, verify_attempts, run_at, cancel_requested, idempotency_key, last_error
             from public.queue_items where id = ${id}`)[0];
const historyOf = async (id: number) =>
  sql`select kind, outcome, applied, started_at, finished_at from public.posting_history where queue_item_id = ${id} order by id`;
const onPlatform = async (id: number) => sandbox.network.postsByClientRef((await item(id)).idempotency_key).length;

/** Sets the sandbox's per-account limit to `posts` a second, through its admin API. */
async function platformLimit(handle: string, posts: number) {
  const config = await fetch(`${sandbox.url}/v1/admin/config`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ handle, rate_limit: { posts, window_ms: 1_000 } }),
  });
  return config.status;
}

describe("a platform's 429", () => {
  it("refunds the attempt, cools the account down until Retry-After, and publishes after it", async () => {
    const { workspaceId, accountId, handle } = await oneAccount();
    // The platform allows this account one post a second: the second of two sent at once gets 429 + Retry-After: 1.
    expect(await platformLimit(handle, 1)).toBe(200);
    const ids = await enqueue(workspaceId, accountId, 2);
    await run();

    const rows = await Promise.all(ids.map(item));
    const limited = ids[rows.findIndex((r) => r.status === "rate_limited")];
    expect(rows.map((r) => r.status).sort()).toEqual(["posted", "rate_limited"]);
    const [refused] = await historyOf(limited);
    expect(refused).toMatchObject({ kind: "publish", outcome: "rate_limited", applied: true });
    // The refusal published nothing, so it spent no attempt (the history keeps the row).
    expect((await item(limited)).attempts).toBe(0);

    const [account] = await sql`select cooldown_until, last_error from public.social_accounts where id = ${accountId}`;
    const cooldown = account.cooldown_until.getTime();
    expect(cooldown - refused.finished_at.getTime()).toBeGreaterThanOrEqual(950);
    expect(cooldown - refused.finished_at.getTime()).toBeLessThan(1_100);
    expect(account.last_error).toContain("rate_limited");
    expect((await item(limited)).run_at.getTime()).toBe(cooldown);

    // Before the cooldown ends nothing of the account is claimed, not even a post that is due now.
    const [fresh] = await enqueue(workspaceId, accountId, 1);
    const claimed = await claimDuePosts(sql, { worker: "early", limit: 100, leaseSeconds: 60 });
    expect(claimed.filter((c) => c.accountId === accountId)).toEqual([]);
    const waiting = await item(fresh);
    expect(waiting.run_at.getTime()).toBe(cooldown);
    expect(waiting.last_error).toBe("Waiting: the account is cooling down.");

    // After it (the platform's limit raised, so both may go at once), both go out, none before it.
    expect(await platformLimit(handle, 600)).toBe(200);
    await new Promise((r) => setTimeout(r, Math.max(0, cooldown - Date.now()) + 50));
    await run();
    expect((await Promise.all([...ids, fresh].map(item))).map((r) => r.status)).toEqual(["posted", "posted", "posted"]);
    const posts = sandbox.network.accounts.get(handle)!.posts.map((p) => Date.parse(p.created_at)).sort();
    expect(posts).toHaveLength(3);
    expect(posts[1]).toBeGreaterThanOrEqual(cooldown);
    expect((await historyOf(limited)).map((h) => h.outcome)).toEqual(["rate_limited", "posted"]);
  });
});

describe("read-backs that fail", () => {
  const ways = {
    "answers 503 to every read": (handle: string) => {
      sandbox.network.setFaults(handle, { lookup_error: 1 });
      return sandbox.url;
    },
    "cannot be reached": () => "http://127.0.0.1:9", // the discard port: nothing listens there
  };

  it.each(Object.keys(ways) as Array<keyof typeof ways>)(
    "when the platform %s: unavailable, asked again after each verifyRetryMs, then needs_review, never re-posted",
    async (way) => {
      const { workspaceId, accountId, handle } = await oneAccount();
      const [id] = await enqueue(workspaceId, accountId);
      // The post lands, but its answer is lost: the outcome is unknown and must be verified.
      sandbox.network.setFaults(handle, { error_after_commit: 1 });
      await run();
      expect((await item(id)).status).toBe("verifying");
      sandbox.network.clearFaults(handle);

      const readsFrom = ways[way](handle);
      await sql`update public.queue_items set run_at = now() where id = ${id}`;
      const verifyRetryMs = [200, 400];
      const deadline = Date.now() + 10_000;
      while ((await item(id)).status === "verifying" && Date.now() < deadline) {
        await run({ baseUrl: readsFrom, verifyRetryMs, budgetMs: 200 });
        await new Promise((r) => setTimeout(r, 25));
      }
      sandbox.network.clearFaults(handle);

      const row = await item(id);
      expect(row).toMatchObject({ status: "needs_review", attempts: 1, verify_attempts: 3 });
      expect(row.last_error).toMatch(/^Could not ask the platform whether the post exists/);
      const history = await historyOf(id);
      expect(history.map((h) => `${h.kind}:${h.outcome}`)).toEqual([
        "publish:unknown", "verify:unavailable", "verify:unavailable", "verify:unavailable",
      ]);
      // Each further read waited its step of verifyRetryMs.
      expect(history[2].started_at.getTime() - history[1].finished_at.getTime()).toBeGreaterThanOrEqual(verifyRetryMs[0] - 5);
      expect(history[3].started_at.getTime() - history[2].finished_at.getTime()).toBeGreaterThanOrEqual(verifyRetryMs[1] - 5);

      // A person decides now: later runs, with the platform healthy again, neither read nor post.
      await run();
      expect((await item(id)).status).toBe("needs_review");
      expect(await historyOf(id)).toHaveLength(4);
      expect(await onPlatform(id)).toBe(1);
    },
  );
});

/**
 * A platform in front of the sandbox that holds each publish open until the test lets it through:
 * the test knows the request is on the wire without racing a sleep.
 */
async function holdingPlatform() {
  let arrived!: () => void;
  let release!: () => void;
  const received = new Promise<void>((r) => (arrived = r));
  const gate = new Promise<void>((r) => (release = r));
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method === "POST" && /\/posts$/.test(req.url ?? "")) {
      arrived();
      await gate;
    }
    const reply = await fetch(`${sandbox.url}${req.url}`, {
      method: req.method,
      headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== "host" && k !== "content-length")) as Record<string, string>,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    res.writeHead(reply.status, { "content-type": reply.headers.get("content-type") ?? "application/json" });
    res.end(Buffer.from(await reply.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    release,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("a cancel that arrives mid-publish", () => {
  async function cancelWhilePublishing(platformRefuses: boolean) {
    const { user, workspaceId, accountId, handle } = await oneAccount();
    const [id] = await enqueue(workspaceId, accountId);
    if (platformRefuses) sandbox.network.setFaults(handle, { duplicate_content: 1 });
    const platform = await holdingPlatform();
    try {
      const running = run({ baseUrl: platform.url });
      await platform.received;
      expect((await item(id)).status).toBe("processing");
      const cancel = await cancelQueueItems({ sub: user.id, role: "authenticated" }, { workspaceId, ids: [id] });
      expect(cancel).toEqual({ cancelled: 0, cancelRequested: 1 });
      platform.release();
      await running;
    } finally {
      await platform.stop();
      sandbox.network.clearFaults(handle);
    }
    return { id, row: await item(id) };
  }

  it("ends posted, never cancelled, when the platform accepted the post: it is live once", async () => {
    const { id, row } = await cancelWhilePublishing(false);
    expect(row).toMatchObject({ status: "posted", cancel_requested: true });
    expect(await onPlatform(id)).toBe(1);
    expect((await historyOf(id)).map((h) => h.outcome)).toEqual(["posted"]);
  });

  it("ends cancelled, and is never sent again, when the platform refused the post", async () => {
    const { id, row } = await cancelWhilePublishing(true);
    expect(row).toMatchObject({ status: "cancelled", cancel_requested: true });
    await run();
    expect((await item(id)).status).toBe("cancelled");
    expect(await onPlatform(id)).toBe(0);
    expect((await historyOf(id)).map((h) => h.outcome)).toEqual(["retryable"]);
  });
});
