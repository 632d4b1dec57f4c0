// Section 6: fairness between tenants. One tenant keeps a deep backlog of due priority-10 items (its
// claimed items come straight back, as new work would); a small tenant's priority-1 items fall due one
// by one. How long does a small tenant's item wait to be claimed, with the fair claim and with the
// claim as it was before (kept here only, under another name, from the queue migration)?
import postgres from "postgres";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { emptyQueue, fillQueue, settle, workspaceWithAccounts, type BenchDatabase, type Sql } from "./database.ts";
import { fmt, percentile, type Table } from "./stats.ts";

export interface FairnessConfig {
  /** Due priority-10 items of the big tenant, kept at this depth. */
  depth: number;
  accounts: number;
  /** Claimers looping at once, and items per claim (the engine's default batch). */
  workers: number;
  batch: number;
  /** Small-tenant items, one every `intervalMs`. */
  samples: number;
  intervalMs: number;
  /** How long after the last small item falls due the run goes on before unclaimed items are counted as waiting. */
  capMs: number;
}

export interface FairnessPoint {
  claim: "fair" | "before";
  claimed: number;
  samples: number;
  p50: number;
  p99: number;
  max: number;
  claimP50: number;
  claimP99: number;
}

export interface FairnessResult {
  tables: Table[];
  points: FairnessPoint[];
}

const OLD = "private.claim_due_posts_before_fairness";

/** The claim of 20261124000300_queue.sql, unchanged but for its name, and the index it read. */
async function installOldClaim(sql: Sql) {
  const migration = readFileSync(join(import.meta.dirname, "..", "supabase", "migrations", "20261124000300_queue.sql"), "utf8");
  const start = migration.indexOf("create function private.claim_due_posts(");
  const end = migration.indexOf("$$;", migration.indexOf("as $$", start)) + 3;
  await sql.unsafe(migration.slice(start, end).replace("private.claim_due_posts(", `${OLD}(`));
  await sql`create index if not exists queue_items_claimable_idx on public.queue_items (priority, run_at)
            where lease_id is null and status in ('pending', 'rate_limited', 'verifying')`;
}

async function removeOldClaim(sql: Sql) {
  await sql.unsafe(`drop function if exists ${OLD}(text, integer, integer)`);
  await sql`drop index if exists public.queue_items_claimable_idx`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(db: BenchDatabase, cfg: FairnessConfig, fn: string, claim: FairnessPoint["claim"], big: string, small: { workspaceId: string; accountId: string }) {
  const claimers = Array.from({ length: cfg.workers }, () => postgres(db.url, { max: 1, prepare: false, onnotice: () => {} }));
  const claimMs: number[] = [];
  let stop = false;
  const loops = claimers.map(async (c) => {
    while (!stop) {
      const t = performance.now();
      const rows = await c.unsafe(`select id, workspace_id from ${fn}('fairness-bench', ${cfg.batch}, 120)`);
      claimMs.push(performance.now() - t);
      const back = rows.filter((r) => r.workspace_id === big).map((r) => Number(r.id));
      // The big tenant's work keeps coming: what was claimed is due again at once, so its depth holds.
      if (back.length) {
        await c`update public.queue_items set status = 'pending', lease_id = null, lease_expires_at = null, leased_at = null,
                  worker = null, attempts = 0, run_at = now()
                where id = any (${back})`;
      }
    }
  });
  const admin = db.admin;
  for (let i = 0; i < cfg.samples; i++) {
    await admin`with p as (insert into public.posts (workspace_id, text) values (${small.workspaceId}, ${`small ${claim} ${i}`}) returning id)
                insert into public.queue_items (workspace_id, post_id, account_id, priority, scheduled_for, run_at)
                select ${small.workspaceId}, p.id, ${small.accountId}, 1, clock_timestamp(), clock_timestamp() from p`;
    await sleep(cfg.intervalMs);
  }
  // Give the last item its chance, then stop.
  const deadline = Date.now() + cfg.capMs;
  while (Date.now() < deadline) {
    const [w] = await admin`select count(*)::int as n from public.queue_items where workspace_id = ${small.workspaceId} and leased_at is null and status = 'pending'`;
    if (w.n === 0) break;
    await sleep(50);
  }
  stop = true;
  await Promise.all(loops);
  await Promise.all(claimers.map((c) => c.end()));
  // Waits from when each item fell due to when it was leased; an item never claimed counts until now.
  const rows = await admin`
    select extract(epoch from coalesce(leased_at, clock_timestamp()) - scheduled_for) * 1000 as ms, leased_at is not null as claimed
    from public.queue_items where workspace_id = ${small.workspaceId}`;
  await admin`delete from public.queue_items where workspace_id = ${small.workspaceId}`;
  const waits = rows.map((r) => Number(r.ms));
  return {
    claim,
    claimed: rows.filter((r) => r.claimed).length,
    samples: rows.length,
    p50: percentile(waits, 50),
    p99: percentile(waits, 99),
    max: Math.max(...waits),
    claimP50: percentile(claimMs, 50),
    claimP99: percentile(claimMs, 99),
  } satisfies FairnessPoint;
}

export async function benchFairness(db: BenchDatabase, cfg: FairnessConfig, log: (l: string) => void): Promise<FairnessResult> {
  await emptyQueue(db.admin);
  const big = await workspaceWithAccounts(db.admin, cfg.accounts, "fair_big");
  const small = await workspaceWithAccounts(db.admin, 1, "fair_small");
  log(`filling the big tenant's queue with ${fmt(cfg.depth)} due priority-10 items…`);
  await fillQueue(db.admin, big, { items: cfg.depth, priority: 10 });
  await settle(db.admin);

  const points: FairnessPoint[] = [];
  const smallTenant = { workspaceId: small.workspaceId, accountId: small.accountIds[0] };
  const fair = await measure(db, cfg, "private.claim_due_posts", "fair", big.workspaceId, smallTenant);
  points.push(fair);
  log(`fair claim: small tenant's wait p50 ${fmt(fair.p50, 1)} ms, p99 ${fmt(fair.p99, 1)} ms, ${fair.claimed} of ${fair.samples} claimed`);

  await installOldClaim(db.admin);
  await settle(db.admin);
  try {
    const before = await measure(db, cfg, OLD, "before", big.workspaceId, smallTenant);
    points.push(before);
    log(`claim before fairness: small tenant's wait p50 ${fmt(before.p50, 1)} ms, p99 ${fmt(before.p99, 1)} ms, ${before.claimed} of ${before.samples} claimed`);
  } finally {
    await removeOldClaim(db.admin);
  }

  const runMs = cfg.samples * cfg.intervalMs + cfg.capMs;
  const table: Table = {
    title: `Fairness: a small tenant's due item behind another tenant's ${fmt(cfg.depth)} due items`,
    head: ["Claim", "Small tenant's items claimed", "Wait p50 (ms)", "Wait p99 (ms)", "Wait max (ms)", "Claim p50 (ms)", "Claim p99 (ms)"],
    rows: points.map((p) => [
      p.claim === "fair" ? "fair (now)" : "before (global priority order)",
      `${p.claimed} of ${p.samples}`,
      fmt(p.p50, 1),
      p.claimed < p.samples ? `> ${fmt(p.p99, 0)}` : fmt(p.p99, 1),
      fmt(p.max, 1),
      fmt(p.claimP50, 2),
      fmt(p.claimP99, 2),
    ]),
    notes: [
      `The big tenant: ${fmt(cfg.depth)} due items at priority 10 over ${fmt(cfg.accounts)} sandbox accounts; every item it gets claimed is due again at once (new work arriving), so its backlog stays ${fmt(cfg.depth)} deep.`,
      `The small tenant: one account, ${cfg.samples} items at priority 1, one falling due every ${cfg.intervalMs} ms. Wait = leased_at − the time it fell due, read from the database; an item never claimed counts until the run stopped (${fmt(runMs / 1000, 1)} s after the first fell due), so its p99 is a lower bound (">").`,
      `${cfg.workers} claimers looping at once, ${cfg.batch} items per claim, each claim one round trip timed from the client. "Before" is the claim of the queue migration (global priority-then-time order) with the index it read, installed under another name for this section only.`,
    ],
  };
  return { tables: [table], points };
}
