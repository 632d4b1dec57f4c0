// Where one claim → record cycle's Postgres CPU goes, before and after a set of migrations, in one run:
// the cluster is migrated up to (not including) PROFILE_FROM, measured, then migrated to the end and
// measured again on the same data shape. Backend CPU from /proc, statements from pg_stat_statements
// (track = all: the statements inside the engine's functions and triggers), functions from
// track_functions. Not part of `npm run bench`; run with `npx tsx bench/engine-profile.ts`.
//   PROFILE_FROM   migration versions, comma-separated: each starts a measured step (default: measure once)
//   PROFILE_ITEMS  items per fill (default 10,000), PROFILE_BATCH (100), PROFILE_CYCLES (40)
//   PROFILE_DRAIN  items for a processQueue drain timed in CPU per 1,000 (default 0: skip)
import postgres from "postgres";
import { mkdtempSync, readdirSync, rmSync, symlinkSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "../local/postgres.ts";
import { migrate, MIGRATIONS_DIR } from "../local/migrate.ts";
import { freePort } from "../tests/setup/free-port.ts";
import { claimDuePosts, recordOutcomes } from "../lib/engine/store.ts";
import { processQueue } from "../lib/engine/process.ts";
import { emptyQueue, fillQueue, seedLedger, settle, workspaceWithAccounts, type Workspace } from "./database.ts";
import { processCpuMs, cpuNow, cpuSince } from "./cpu.ts";
import { noopConnector } from "./throughput.ts";

// Comma-separated migration versions: measured before the first, then after each step up to the next.
const steps = (process.env.PROFILE_FROM ?? "").split(",").filter(Boolean);
const from = steps[0] ?? "";
const items = Number(process.env.PROFILE_ITEMS ?? 10_000);
const batch = Number(process.env.PROFILE_BATCH ?? 100);
const cycles = Number(process.env.PROFILE_CYCLES ?? 40);
const drainItems = Number(process.env.PROFILE_DRAIN ?? 0);
const top = Number(process.env.PROFILE_TOP ?? 25);

async function cycle(url: string, admin: postgres.Sql, ws: Workspace, label: string, pgDataDir: string) {
  await emptyQueue(admin);
  await fillQueue(admin, ws, { items });
  await settle(admin);
  const explain = process.env.PROFILE_EXPLAIN === "1";
  const plans: string[] = [];
  const sql = postgres(url, { max: 1, prepare: false, onnotice: (n) => void (explain && plans.push(String(n.message))) });
  const sum = { claimMs: 0, recordMs: 0, claimCpu: 0, recordCpu: 0, n: 0, items: 0 };
  try {
    const [{ pid }] = await sql`select pg_backend_pid() as pid`;
    const cpu = () => processCpuMs(pid) ?? NaN;
    for (let i = 0; i < cycles + 5; i++) {
      if (i === 4 && explain) {
        await sql.unsafe(`load 'auto_explain'; set auto_explain.log_min_duration = 0; set auto_explain.log_analyze = on;
          set auto_explain.log_nested_statements = on; set auto_explain.log_buffers = on; set client_min_messages = log`);
      }
      if (i === 5 && explain) {
        await sql.unsafe(`set auto_explain.log_min_duration = -1; set client_min_messages = notice`);
        console.log(plans.join("\n\n"));
      }
      if (i === 5) {
        await admin`select pg_stat_statements_reset()`;
        await admin`select pg_stat_reset()`;
        Object.assign(sum, { claimMs: 0, recordMs: 0, claimCpu: 0, recordCpu: 0, n: 0, items: 0 });
      }
      let c = cpu();
      let t = performance.now();
      const claimed = await claimDuePosts(sql, { worker: "profile", limit: batch, leaseSeconds: 120 });
      sum.claimMs += performance.now() - t;
      sum.claimCpu += cpu() - c;
      if (claimed.length === 0) break;
      const now = new Date();
      c = cpu();
      t = performance.now();
      await recordOutcomes(
        sql,
        claimed.map((x) => ({
          id: x.id, leaseId: x.leaseId, mode: x.mode, attempt: x.attempts, outcome: "posted", externalId: "noop",
          next: "done", startedAt: now, finishedAt: now, latencyMs: 0, worker: "profile",
        })),
      );
      sum.recordMs += performance.now() - t;
      sum.recordCpu += cpu() - c;
      sum.n++;
      sum.items += claimed.length;
    }
  } finally {
    await sql.end();
  }
  const per = (x: number) => (x / sum.n).toFixed(2);
  console.log(`\n=== ${label}: ${sum.n} cycles of ${batch} (${sum.items} items)`);
  console.log(`claim  ${per(sum.claimMs)} ms wall / ${per(sum.claimCpu)} ms backend CPU per cycle`);
  console.log(`record ${per(sum.recordMs)} ms wall / ${per(sum.recordCpu)} ms backend CPU per cycle`);
  const stmts = await admin`
    select round(total_exec_time::numeric, 1) as ms, calls, round((total_exec_time / greatest(calls, 1))::numeric, 3) as per_call,
           left(regexp_replace(query, '\\s+', ' ', 'g'), 140) as q
    from pg_stat_statements where query not ilike '%pg_stat%' order by total_exec_time desc limit ${top}`;
  for (const s of stmts) console.log(`${String(s.ms).padStart(9)} ms ${String(s.calls).padStart(6)}× ${String(s.per_call).padStart(8)}  ${s.q}`);
  const fns = await admin`
    select schemaname || '.' || funcname as f, calls, round(total_time::numeric, 1) as total, round(self_time::numeric, 1) as self
    from pg_stat_user_functions order by self_time desc limit 15`;
  console.log("functions (self ms / total ms / calls):");
  for (const f of fns) console.log(`${String(f.self).padStart(9)} ${String(f.total).padStart(9)} ${String(f.calls).padStart(7)}  ${f.f}`);

  if (drainItems > 0) {
    await emptyQueue(admin);
    await fillQueue(admin, ws, { items: drainItems });
    await settle(admin);
    const pool = postgres(url, { max: 2, prepare: false, onnotice: () => {} });
    try {
      const c0 = cpuNow(pgDataDir);
      const t0 = performance.now();
      const r = await processQueue({ sql: pool, worker: "drain", connectorFor: () => noopConnector, budgetMs: 60_000, concurrency: 100, batchSize: 100 });
      const ms = performance.now() - t0;
      const cpu = cpuSince(c0, pgDataDir);
      const done = r.byOutcome.posted ?? 0;
      console.log(`drain ${done} items: ${((done / ms) * 1000).toFixed(0)} items/s; CPU per 1,000: node ${((cpu.node / done) * 1000).toFixed(1)} ms, postgres ${(((cpu.pg ?? NaN) / done) * 1000).toFixed(1)} ms`);
    } finally {
      await pool.end();
    }
  }
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), "pacer-profile-"));
  const pgDataDir = join(dataDir, "postgres");
  const port = await freePort();
  let pg = await startEmbeddedPostgres({ dataDir: pgDataDir, port, persistent: true });
  try {
    // The migrations before PROFILE_FROM, through a folder of links to them.
    const before = join(dataDir, "before");
    mkdirSync(before);
    for (const f of readdirSync(MIGRATIONS_DIR)) if (!from || f < from) symlinkSync(join(MIGRATIONS_DIR, f), join(before, f));
    await migrate(pg.url, { dir: before });
    let admin = postgres(pg.url, { max: 2, prepare: false, onnotice: () => {} });
    await admin`alter system set shared_preload_libraries = 'pg_stat_statements'`;
    await admin`alter system set pg_stat_statements.track = 'all'`;
    await admin`alter system set track_functions = 'all'`;
    await admin.end();
    await pg.stop();
    pg = await startEmbeddedPostgres({ dataDir: pgDataDir, port, persistent: true });
    admin = postgres(pg.url, { max: 2, prepare: false, onnotice: () => {} });
    await admin`create extension if not exists pg_stat_statements`;
    const ws = await workspaceWithAccounts(admin, 1000, "profile");
    await seedLedger(admin);
    await cycle(pg.url, admin, ws, from ? `before ${steps[0]}` : "current", pgDataDir);
    // Then each step: the migrations up to the next boundary (the last step: all of them).
    for (const [i] of steps.entries()) {
      const upTo = join(dataDir, `step${i}`);
      mkdirSync(upTo);
      for (const f of readdirSync(MIGRATIONS_DIR)) if (i + 1 >= steps.length || f < steps[i + 1]) symlinkSync(join(MIGRATIONS_DIR, f), join(upTo, f));
      const applied = await migrate(pg.url, { dir: upTo });
      console.log(`\napplied ${applied.applied.join(", ")}`);
      await cycle(pg.url, admin, ws, `after ${applied.applied.join(", ")}`, pgDataDir);
    }
    await admin.end();
  } finally {
    await pg.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
