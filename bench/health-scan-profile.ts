// Where the health scan's database time goes, on the data of bench/health-snapshots.ts (accounts with
// a week of hourly snapshots and some posting history), after a first scan (every baseline) and a
// second (the steady state).
//
// `npx tsx bench/health-scan-profile.ts`: scans PROFILE_BATCHES batches (default 5) of the next scan
// with auto_explain logging every nested statement of at least PROFILE_MIN_MS (default 1 ms; with
// PROFILE_ANALYZE=off, durations without per-node timing overhead), and prints the statements by
// total time, then each plan.
//
// `npx tsx bench/health-scan-profile.ts --ab before.sql after.sql`: compares two versions of the
// scan's functions on the same data in the same session. It applies each file in turn (create or
// replace of the functions) and runs a whole steady-state scan after each, ROUNDS times (default 3),
// so a busy machine weighs on both alike. Besides the calls' wall time it reports the server process's
// CPU time (from /proc), the scan's own database time whatever else the machine is doing.
//
// PROFILE_APPLY=file.sql explains another version of the functions (applied after the two scans).
// HEALTH_ACCOUNTS, HEALTH_DAYS, HEALTH_BATCH size it as the bench.
import { readFileSync } from "node:fs";
import postgres from "postgres";
import { claimAccountsForScan, recordHealthScan } from "../lib/health/store.ts";
import { settle, startBenchDatabase, workspaceWithAccounts } from "./database.ts";

const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const accounts = num("HEALTH_ACCOUNTS", 10_000);
const days = num("HEALTH_DAYS", 7);
const batch = num("HEALTH_BATCH", 500);
const log = (line: string) => console.log(`[profile] ${line}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface ScanTimes {
  claimMs: number;
  recordMs: number;
  /** The server process's user + system CPU time, when known. */
  cpuMs: number;
}

/** CPU time (user + system) of the server process behind a one-connection pool, in ms (10 ms ticks). */
async function serverCpu(one: postgres.Sql): Promise<() => number> {
  const [{ pid }] = await one`select pg_backend_pid() as pid`;
  return () => {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  };
}

/** Make every account due and scan them all (or `maxBatches` batches) as the bench does. */
async function scan(sql: postgres.Sql, one: postgres.Sql, maxBatches = Infinity): Promise<ScanTimes> {
  const cpu = await serverCpu(one);
  await sql`update private.account_health_state set due_at = now() - interval '1 minute'`;
  // The database side of a scan, not the reads: no platform pace (20261202001700) holds the claims back.
  await sql`update public.platforms set scan_reads_per_minute = 60000 where id = 'sandbox'`;
  await sql`update private.platform_scan_pace set next_read_at = '-infinity'`.catch(() => undefined);
  const times = { claimMs: 0, recordMs: 0, cpuMs: 0 };
  const cpu0 = cpu();
  for (let b = 0; b < maxBatches; b++) {
    const c0 = performance.now();
    const claimed = await claimAccountsForScan(one, { worker: "profile", limit: batch, leaseSeconds: 300 });
    times.claimMs += performance.now() - c0;
    if (claimed.length === 0) break;
    const r0 = performance.now();
    await recordHealthScan(one, claimed.map((a, i) => ({
      accountId: a.accountId, leaseId: a.leaseId, reach: i % 10 === 0 ? 300 : 1100, engagement: 110, followers: 4990,
    })));
    times.recordMs += performance.now() - r0;
  }
  times.cpuMs = cpu() - cpu0;
  return times;
}

const db = await startBenchDatabase(log);
const plans: string[] = [];
const one = postgres(db.url, { max: 1, prepare: false, onnotice: (n) => plans.push(n.message) });
try {
  const sql = db.admin;
  const ids: string[] = [];
  for (let w = 0; w < Math.ceil(accounts / 1000); w++) {
    ids.push(...(await workspaceWithAccounts(sql, Math.min(1000, accounts - w * 1000), `health${w}`, "active")).accountIds);
  }
  // As bench/health-snapshots.ts: a week of hourly snapshots (one account in ten declining lately)
  // and three attempts per account in the last day, a few of them failures.
  await sql`
    insert into public.account_health_snapshots (account_id, workspace_id, taken_at, reach, engagement, followers,
                                                 posts_published, publish_failures, last_activity_at)
    select a.id, a.workspace_id, date_trunc('hour', now()) - h * interval '1 hour',
           (1000 + (random() * 200)::int) * case when abs(hashtext(a.id::text)) % 10 = 0 and h < 3 then 0.3 else 1 end,
           100 + (random() * 20)::int, 5000 - h, (random() * 2)::int, 0, now() - interval '1 hour'
    from public.social_accounts a cross join generate_series(1, ${days * 24}) h
    where a.id = any (${ids}::uuid[])`;
  await sql`
    insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, kind, attempt,
                                        started_at, finished_at, outcome)
    select 0, a.workspace_id, a.id, 'sandbox', 'post', 'publish', 1, now() - k * interval '5 hours',
           now() - k * interval '5 hours', case when k = 1 and abs(hashtext(a.id::text)) % 7 = 0 then 'retryable' else 'posted' end
    from public.social_accounts a cross join generate_series(1, 3) k
    where a.id = any (${ids}::uuid[])`;
  await settle(sql, ["public.account_health_snapshots", "public.account_health_scores", "public.health_alerts",
    "public.social_accounts", "public.posting_history", "private.account_health_state"]);

  const show = (label: string, t: ScanTimes) =>
    log(`${label}: claim ${Math.round(t.claimMs)} + record ${Math.round(t.recordMs)} = ${Math.round(t.claimMs + t.recordMs)} ms of calls, ${Math.round(t.cpuMs)} ms of server CPU`);
  show("first scan", await scan(sql, one));
  // PROFILE_SECOND=1 explains the second scan itself (statistics as the bench's "next scan" sees them).
  if (process.env.PROFILE_SECOND !== "1") show("second scan", await scan(sql, one));

  // PROFILE_APPLY=file.sql profiles another version of the scan's functions (applied after the two scans).
  if (process.env.PROFILE_APPLY) await sql.unsafe(readFileSync(process.env.PROFILE_APPLY, "utf8"));
  const ab = process.argv.indexOf("--ab");
  if (ab >= 0) {
    const files = [process.argv[ab + 1], process.argv[ab + 2]];
    const calls: number[][] = [[], []];
    const cpus: number[][] = [[], []];
    for (let round = 1; round <= num("ROUNDS", 3); round++) {
      for (const v of [0, 1]) {
        await sql.unsafe(readFileSync(files[v], "utf8"));
        const t = await scan(sql, one);
        calls[v].push(t.claimMs + t.recordMs);
        cpus[v].push(t.cpuMs);
        show(`round ${round} ${files[v]}`, t);
      }
    }
    const ratio = (xs: number[][]) => `${Math.round(median(xs[0]))} ms -> ${Math.round(median(xs[1]))} ms, ratio ${(median(xs[1]) / median(xs[0])).toFixed(2)}`;
    log(`median of calls: ${ratio(calls)}`);
    log(`median of server CPU: ${ratio(cpus)}`);
  } else {
    await one.unsafe(`load 'auto_explain';
      set auto_explain.log_min_duration = ${num("PROFILE_MIN_MS", 1)};
      set auto_explain.log_analyze = ${process.env.PROFILE_ANALYZE === "off" ? "off" : "on"};
      set auto_explain.log_buffers = on; set auto_explain.log_nested_statements = on;
      set auto_explain.log_level = notice`);
    const batches = num("PROFILE_BATCHES", 5);
    // PROFILE_WAIT_MS: time to attach a sampling profiler to the scan's server process first
    // (e.g. `perf record -g -p <pid>`; with PROFILE_MIN_MS=100000 nothing is explained).
    if (process.env.PROFILE_WAIT_MS) {
      const [{ pid }] = await one`select pg_backend_pid() as pid`;
      log(`server process ${pid}; scanning in ${process.env.PROFILE_WAIT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, num("PROFILE_WAIT_MS", 0)));
    }
    show(`${batches} explained batches`, await scan(sql, one, batches));
    const byStatement = new Map<string, { n: number; ms: number }>();
    for (const plan of plans) {
      const ms = Number(/duration: ([\d.]+) ms/.exec(plan)?.[1] ?? 0);
      const text = (/Query Text: ([\s\S]*?)\n[A-Z]/.exec(plan)?.[1] ?? plan).replace(/\s+/g, " ").slice(0, 100);
      const s = byStatement.get(text) ?? { n: 0, ms: 0 };
      byStatement.set(text, { n: s.n + 1, ms: s.ms + ms });
    }
    for (const [text, s] of [...byStatement].sort((a, b) => b[1].ms - a[1].ms)) {
      console.log(`${s.ms.toFixed(1).padStart(9)} ms  x${String(s.n).padEnd(4)} ${text}`);
    }
    for (const plan of plans) console.log(`-----\n${plan}`);
  }
} finally {
  await one.end();
  await db.stop();
}
