// What the webhook triggers on public.queue_items (20261204000600) cost the engine: drains of a
// pre-filled queue with the no-op connector, the variants taking turns in one database.
//
// `npx tsx bench/webhook-triggers.ts`: JOBS items (default 10,000) over 50 accounts, ROUNDS (default 3).
// Variants: without the trigger (as before the migration); with it and no endpoint anywhere (most
// workspaces); with it and the workspace subscribed to post.published (an event and a delivery per item).
// Then the trigger's own time inside one statement, as EXPLAIN ANALYZE reports it (rolled back): a
// claim-like update (no item reaches an outcome) and an outcome update of 100 and 1,000 items.
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

  // The trigger's time in one statement (EXPLAIN ANALYZE lists each AFTER trigger's time), rolled back.
  await emptyQueue(db.admin);
  await fillQueue(db.admin, ws, { items: 2_000 });
  await settle(db.admin);
  const ids = (await db.admin`select id from public.queue_items where workspace_id = ${ws.workspaceId} order by id`).map((r) => Number(r.id));
  const statements = {
    claim: "set status = 'processing', lease_id = gen_random_uuid(), lease_expires_at = now() + interval '2 minutes'",
    outcome: "set status = 'posted', posted_at = now(), external_id = 'x'",
  };
  for (const subscribed of [false, true]) {
    if (subscribed) {
      await db.admin`insert into public.webhook_endpoints (workspace_id, url, events, secret_sealed, secret_hint)
                     values (${ws.workspaceId}, 'https://example.com/hooks', '{post.published}', ${sealed}, 'bench')`;
    }
    for (const [kind, set] of Object.entries(statements)) {
      for (const n of [100, 1000]) {
        const trigger: number[] = [];
        const total: number[] = [];
        for (let rep = 0; rep < 15; rep++) {
          await db.admin.begin(async (tx) => {
            const [row] = await tx.unsafe(`explain (analyze, format json) update public.queue_items ${set} where id = any($1::bigint[])`, [ids.slice(0, n)]);
            const plan = (row["QUERY PLAN"] as { "Execution Time": number; Triggers: { "Trigger Name": string; Time: number }[] }[])[0];
            trigger.push(plan.Triggers.find((t) => t["Trigger Name"] === "queue_item_webhook_events")?.Time ?? 0);
            total.push(plan["Execution Time"]);
            throw new Error("rollback");
          }).catch((e) => {
            if ((e as Error).message !== "rollback") throw e;
          });
        }
        log(`${subscribed ? "subscribed" : "no endpoint"}, ${kind} of ${n}: webhook trigger ${median(trigger).toFixed(2)} ms of ${median(total).toFixed(2)} ms (medians of 15)`);
      }
    }
  }
} finally {
  await db.stop();
}
