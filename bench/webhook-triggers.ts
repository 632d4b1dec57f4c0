// What the webhook triggers on public.queue_items (20261204000600) cost the engine: drains of a
// pre-filled queue with the no-op connector, the variants taking turns in one database.
//
// `npx tsx bench/webhook-triggers.ts`: JOBS items (default 10,000) over 50 accounts, ROUNDS (default 3).
// Variants: without the trigger (as before the migration); with it and no endpoint anywhere (most
// workspaces); with it and the workspace subscribed to post.published (an event and a delivery per item).
import { processQueue } from "../lib/engine/process.ts";
import { encryptCredentials } from "../lib/accounts/credentials.ts";
import { emptyQueue, fillQueue, settle, startBenchDatabase, workspaceWithAccounts } from "./database.ts";
import { noopConnector } from "./throughput.ts";

const JOBS = Number(process.env.JOBS ?? 10_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const log = (line: string) => console.log(`[webhook-triggers] ${line}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

process.env.PACER_CREDENTIALS_KEY ??= Buffer.alloc(32, 7).toString("base64");
const db = await startBenchDatabase(log);
try {
  const ws = await workspaceWithAccounts(db.admin, 50, "hooks");
  const sealed = await encryptCredentials({ secret: "whsec_bench" });
  const variants: Record<string, () => Promise<void>> = {
    "without the webhook trigger": async () => {
      await db.admin`delete from public.webhook_endpoints`;
      await db.admin`alter table public.queue_items disable trigger queue_item_webhook_events`;
    },
    "trigger, no endpoint": async () => {
      await db.admin`alter table public.queue_items enable trigger queue_item_webhook_events`;
    },
    "trigger, subscribed to post.published": async () => {
      await db.admin`insert into public.webhook_endpoints (workspace_id, url, events, secret_sealed, secret_hint)
                     values (${ws.workspaceId}, 'https://example.com/hooks', '{post.published}', ${sealed}, 'bench')`;
    },
  };
  const rates: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, setUp] of Object.entries(variants)) {
      await emptyQueue(db.admin);
      await db.admin`delete from public.webhook_events`;
      await fillQueue(db.admin, ws, { items: JOBS });
      await setUp();
      await settle(db.admin);
      const started = performance.now();
      const s = await processQueue({ sql: db.admin, worker: "bench", connectorFor: () => noopConnector, budgetMs: 120_000, concurrency: 50, batchSize: 100 });
      const ms = performance.now() - started;
      const [{ n }] = await db.admin`select count(*)::int as n from public.webhook_deliveries`;
      rates[name].push((s.byOutcome.posted ?? 0) / (ms / 1000));
      log(`round ${round}, ${name}: ${s.byOutcome.posted} posted in ${Math.round(ms)} ms (${Math.round(rates[name].at(-1)!)}/s), ${n} deliveries`);
      await db.admin`delete from public.webhook_endpoints`;
    }
  }
  for (const [name, xs] of Object.entries(rates)) log(`median ${name}: ${Math.round(median(xs))} items/s`);
} finally {
  await db.stop();
}
