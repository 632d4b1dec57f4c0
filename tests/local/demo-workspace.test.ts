// `npm run dev` on a fresh data folder: the demo user signs in and finds their workspace with
// something to see — sandbox accounts, posts the engine published (their history rows and the
// sandbox's own feed agree), a few scheduled for the coming days and one the platform refused.
// Read as the demo user (RLS), in a stack of its own beside the suite's.
import { afterAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { createClient } from "@supabase/supabase-js";
import { asUser } from "../support/db";
import { freePort } from "../setup/free-port";

const ROOT = join(import.meta.dirname, "..", "..");
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const dataDir = mkdtempSync(join(tmpdir(), "pacer-demo-"));
let dev: ChildProcess | undefined;
let sql: postgres.Sql | undefined;

afterAll(async () => {
  await sql?.end();
  if (dev?.pid && dev.exitCode === null && dev.signalCode === null) {
    process.kill(-dev.pid, "SIGINT");
    await new Promise((resolve) => {
      const timer = setTimeout(() => {
        try {
          process.kill(-dev!.pid!, "SIGKILL");
        } catch {}
        resolve(null);
      }, 20_000);
      dev!.once("exit", () => (clearTimeout(timer), resolve(null)));
    });
  }
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe("the demo workspace of a new `npm run dev`", () => {
  it("has sandbox accounts, published posts with their history, scheduled posts and one failure", async () => {
    const [db, gateway, sandbox] = await Promise.all([freePort(), freePort(), freePort()]);
    const started = Date.now();
    dev = spawn(NPM, ["run", "dev"], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        SUPABASE_DB_URL: "",
        PACER_DATA_DIR: dataDir,
        PACER_DB_PORT: String(db),
        PACER_GATEWAY_PORT: String(gateway),
        PACER_SANDBOX_PORT: String(sandbox),
        PACER_MASTODON_PORT: "0",
        PACER_BLUESKY_PORT: "0",
        PACER_UPLOAD_POST_PORT: "0",
        PACER_NEXT_MODE: "none",
      },
    });
    let output = "";
    dev.stdout!.on("data", (d) => (output += d));
    dev.stderr!.on("data", (d) => (output += d));
    for (let i = 0; i < 1800 && !/the stack is ready|could not start/.test(output); i++) await new Promise((r) => setTimeout(r, 100));
    expect(output).toContain("the stack is ready");
    expect(output).toMatch(/demo {9}demo@pacer\.local's workspace: 3 sandbox accounts, 9 posts published, 5 scheduled, 1 refused by the platform/);
    console.log(`npm run dev (no Next.js) with the demo workspace was ready in ${Date.now() - started} ms`);

    // The demo login works against this stack's auth server.
    const keys = JSON.parse(readFileSync(join(dataDir, "keys.json"), "utf8"));
    const auth = createClient(`http://127.0.0.1:${gateway}`, keys.publishableKey, { auth: { persistSession: false, autoRefreshToken: false } });
    const { data: signedIn, error } = await auth.auth.signInWithPassword({ email: "demo@pacer.local", password: "pacer-demo-password" });
    expect(error).toBeNull();
    const demoId = signedIn.user!.id;

    sql = postgres(`postgres://postgres:postgres@127.0.0.1:${db}/postgres`, { max: 2, prepare: false, onnotice: () => {} });
    const seen = await asUser(sql, demoId, async (tx) => ({
      accounts: await tx`select handle, platform, state from public.social_accounts order by handle`,
      items: await tx`
        select q.id, q.status, q.scheduled_for, q.external_id, q.last_error, a.handle
        from public.queue_items q join public.social_accounts a on a.id = q.account_id order by q.id`,
      history: await tx`select queue_item_id, kind, outcome, external_id, worker from public.posting_history order by id`,
    }));

    expect(seen.accounts.map((a) => [a.handle, a.platform, a.state])).toEqual([
      ["pacer_news", "sandbox", "active"],
      ["pacer_studio", "sandbox", "active"],
      ["pacer_tips", "sandbox", "active"],
    ]);
    const posted = seen.items.filter((i) => i.status === "posted");
    const pending = seen.items.filter((i) => i.status === "pending");
    const failed = seen.items.filter((i) => i.status === "failed");
    expect([posted.length, pending.length, failed.length]).toEqual([9, 5, 1]);
    // Scheduled over the last days; the waiting ones in the coming days.
    expect(Math.min(...posted.map((i) => i.scheduled_for.getTime()))).toBeLessThan(Date.now() - 2 * 86400_000);
    expect(pending.every((i) => i.scheduled_for.getTime() > Date.now())).toBe(true);
    expect(failed[0].last_error).toContain("r/pacer_demo does not accept posts");

    // One engine attempt per settled item, as the engine writes it; each post is on the sandbox.
    for (const item of [...posted, ...failed]) {
      const rows = seen.history.filter((h) => String(h.queue_item_id) === String(item.id));
      expect(rows).toEqual([
        expect.objectContaining({ kind: "publish", outcome: item.status === "posted" ? "posted" : "destination_rejected", worker: "demo-seed" }),
      ]);
      if (item.status === "posted") expect(rows[0].external_id).toBe(item.external_id);
    }
    const feed = await fetch(`http://127.0.0.1:${sandbox}/v1/admin/posts?handle=pacer_news`).then((r) => r.json());
    const newsIds = posted.filter((i) => i.handle === "pacer_news").map((i) => i.external_id);
    expect(feed.posts.map((p: { id: string }) => p.id).sort()).toEqual([...newsIds].sort());
  }, 240_000);
});
