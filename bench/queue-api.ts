// Sections 3 and 4: the queue as its users reach it (lib/queue, as the signed-in user under RLS):
// bulk enqueue of 10,000-row requests, and GET /api/queue/status with a million items in the workspace.
import type { UserClaims } from "../lib/db/index.ts";
import { fillQueue, settle, workspaceWithAccounts, type BenchDatabase, type FillOptions } from "./database.ts";
import { fmt, median, percentile, type Table } from "./stats.ts";

export interface QueueApiConfig {
  bulkRows: number;
  bulkRequests: number;
  statusItems: number;
  statusCalls: number;
  /** Uncompacted counter deltas left in the workspace, as between two processing runs. */
  statusDeltas: number;
  accounts: number;
}

export interface QueueApiResult {
  tables: Table[];
  bulk: { medianMs: number; rowsPerSecond: number };
  status: { p50: number; p99: number };
}

/** lib/queue reads the database from SUPABASE_DB_URL, once, through lib/db's pool. */
async function loadQueue(db: BenchDatabase) {
  process.env.SUPABASE_DB_URL = db.url;
  return import("../lib/queue/index.ts");
}

export async function benchQueueApi(db: BenchDatabase, cfg: QueueApiConfig, log: (l: string) => void): Promise<QueueApiResult> {
  const queue = await loadQueue(db);

  // 3. Bulk enqueue: each request is cfg.bulkRows rows, one account each, in one transaction.
  const editor = await workspaceWithAccounts(db.admin, cfg.accounts, "bulk");
  const editorClaims: UserClaims = { sub: editor.userId, role: "authenticated" };
  const future = new Date(Date.now() + 7 * 24 * 3600_000).toISOString();
  const rows = (request: number) =>
    Array.from({ length: cfg.bulkRows }, (_, i) => ({
      text: `Bulk post ${request}-${i}: launching the spring collection, part ${i}.`,
      accountId: editor.accountIds[i % editor.accountIds.length],
      scheduledFor: future,
      priority: 1 + (i % 10),
    }));
  await queue.bulkAddToQueue(editorClaims, { items: rows(-1) }); // warm-up: connections, plans
  const bulkMs: number[] = [];
  const dryMs: number[] = [];
  for (let r = 0; r < cfg.bulkRequests; r++) {
    const items = rows(r);
    let t = performance.now();
    await queue.bulkAddToQueue(editorClaims, { items, dryRun: true });
    dryMs.push(performance.now() - t);
    t = performance.now();
    const result = await queue.bulkAddToQueue(editorClaims, { items });
    bulkMs.push(performance.now() - t);
    if (result.items !== cfg.bulkRows) throw new Error(`The bulk request queued ${result.items} of ${cfg.bulkRows} items.`);
    log(`bulk request ${r + 1}/${cfg.bulkRequests}: ${fmt(cfg.bulkRows)} rows in ${fmt(bulkMs[r])} ms (dry run ${fmt(dryMs[r])} ms)`);
  }
  const bulkMedian = median(bulkMs);
  const bulkTable: Table = {
    title: `Bulk enqueue: ${fmt(cfg.bulkRows)}-row requests (bulkAddToQueue)`,
    head: ["Request", "Median ms", "Runs (ms)", "Rows/s (median)"],
    rows: [
      ["Enqueue (validate, check accounts, write posts and items)", fmt(bulkMedian), bulkMs.map((x) => fmt(x)).join(" / "), fmt((cfg.bulkRows / bulkMedian) * 1000)],
      ["dryRun (validate and check accounts only)", fmt(median(dryMs)), dryMs.map((x) => fmt(x)).join(" / "), fmt((cfg.bulkRows / median(dryMs)) * 1000)],
    ],
    notes: [
      `${cfg.bulkRequests} requests, after one warm-up; each row one post to one of ${fmt(cfg.accounts)} accounts, scheduled a week ahead; the library call a route handler makes, as the signed-in editor under RLS (JSON parsing of the request body not included).`,
      `The database already holds the claim section's queue (over a million items of other workspaces).`,
    ],
  };

  // 4. Status with cfg.statusItems items in the workspace, in the states a busy queue has.
  log(`filling a workspace with ${fmt(cfg.statusItems)} items for the status endpoint…`);
  const owner = await workspaceWithAccounts(db.admin, cfg.accounts, "status");
  const mix: Array<[NonNullable<FillOptions["status"]>, number, string]> = [
    ["posted", 0.6, `now() - interval '2 days' + i * interval '100 milliseconds'`],
    ["pending", 0.25, `now() + i * interval '1 second'`],
    ["failed", 0.05, `now() - interval '1 day'`],
    ["cancelled", 0.05, `now() - interval '1 day'`],
    ["rate_limited", 0.05, `now() + interval '10 minutes' + (i % 3000) * interval '1 second'`],
  ];
  for (const [status, share, runAt] of mix) {
    await fillQueue(db.admin, owner, { items: Math.round(cfg.statusItems * share), status, runAt });
  }
  // A minute of deltas not yet folded by a processing run: zero-sum pairs, as claims and outcomes leave them.
  await db.admin`insert into private.queue_counters (workspace_id, platform, status, n)
                 select ${owner.workspaceId}, 'sandbox', s.status, s.n
                 from generate_series(1, ${Math.floor(cfg.statusDeltas / 2)}) g
                 cross join (values ('pending'::public.queue_status, -1), ('processing'::public.queue_status, 1)) s(status, n)`;
  await settle(db.admin);
  const ownerClaims: UserClaims = { sub: owner.userId, role: "authenticated" };
  const first = await queue.getQueueStatus(ownerClaims);
  if (first.total !== cfg.statusItems) throw new Error(`The status counts ${first.total} items, not ${cfg.statusItems}.`);
  const statusMs: number[] = [];
  for (let i = -10; i < cfg.statusCalls; i++) {
    const t = performance.now();
    await queue.getQueueStatus(ownerClaims);
    if (i >= 0) statusMs.push(performance.now() - t);
  }
  const status = { p50: percentile(statusMs, 50), p99: percentile(statusMs, 99) };
  log(`status: p50 ${fmt(status.p50, 2)} ms, p99 ${fmt(status.p99, 2)} ms`);
  const statusTable: Table = {
    title: `GET /api/queue/status with ${fmt(cfg.statusItems)} items (getQueueStatus)`,
    head: ["Items in the workspace", "p50 ms", "p99 ms", "max ms", "Calls"],
    rows: [[fmt(cfg.statusItems), fmt(status.p50, 2), fmt(status.p99, 2), fmt(Math.max(...statusMs), 2), fmt(cfg.statusCalls)]],
    notes: [
      `Items: 60% posted, 25% pending (scheduled ahead), 5% each failed, cancelled, rate-limited; plus ${fmt(cfg.statusDeltas)} uncompacted counter deltas, as left between two processing runs.`,
      `Each call is the library call the route makes (one transaction as the user: workspace resolution, counters, next due and oldest pending), timed from the client after 10 warm-up calls; the route's JSON and auth are not included.`,
    ],
  };

  // lib/db's pool stays open: the history section reads through it later in the same process.
  return {
    tables: [bulkTable, statusTable],
    bulk: { medianMs: bulkMedian, rowsPerSecond: (cfg.bulkRows / bulkMedian) * 1000 },
    status,
  };
}
