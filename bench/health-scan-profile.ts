// Where the health scan's database time goes: fills the bench's data (bench/health-snapshots.ts),
// runs a first scan (every baseline), then records one steady-state batch with auto_explain
// logging every nested statement with its time and buffers, and prints the statements by time.
//
// `npx tsx bench/health-scan-profile.ts` (HEALTH_ACCOUNTS, HEALTH_DAYS, HEALTH_BATCH as the bench).
//
// `npx tsx bench/health-scan-profile.ts --ab before.sql after.sql` instead compares two versions of
// the scan's functions on the same data in the same session: it applies each file in turn (create or
// replace of the functions) and times a whole steady-state scan after each, ROUNDS times (default 3),
// so a noisy machine weighs on both alike.
import { readFileSync } from "node:fs";
import postgres from "postgres";
import { claimAccountsForScan, recordHealthScan } from "../lib/health/store.ts";
import { settle, startBenchDatabase, workspaceWithAccounts } from "./database.ts";

const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const accounts = num("HEALTH_ACCOUNTS", 10_000);
const days = num("HEALTH_DAYS", 7);
const batch = num("HEALTH_BATCH", 500);
const log = (line: string) => console.log(`[profile] ${line}`);

const db = await startBenchDatabase(log);
try {
  const sql = db.admin;
  const ids: string[] = [];
  for (let w = 0; w < Math.ceil(accounts / 1000); w++) {
    ids.push(...(await workspaceWithAccounts(sql, Math.min(1000, accounts - w * 1000), `health${w}`, "active")).accountIds);
  }
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

  const scan = async (one: postgres.Sql, onlyOne: boolean) => {
    await sql`update private.account_health_state set due_at = now() - interval '1 minute'`;
    let total = 0;
    for (;;) {
      const claimed = await claimAccountsForScan(one, { worker: "profile", limit: batch, leaseSeconds: 300 });
      if (claimed.length === 0) break;
      const t = performance.now();
      await recordHealthScan(one, claimed.map((a, i) => ({
        accountId: a.accountId, leaseId: a.leaseId, reach: i % 10 === 0 ? 300 : 1100, engagement: 110, followers: 4990,
      })));
      total += performance.now() - t;
      if (onlyOne) break;
    }
    return total;
  };
  log(`first scan: ${Math.round(await scan(sql, false))} ms of record calls`);
  log(`second scan: ${Math.round(await scan(sql, false))} ms of record calls`);

  const ab = process.argv.indexOf("--ab");
  if (ab >= 0) {
    const files = [process.argv[ab + 1], process.argv[ab + 2]];
    const totals: number[][] = [[], []];
    const cpus: number[][] = [[], []];
    // One connection, so its server process's CPU time (user + system, from /proc) is the scan's
    // database time whatever else the machine is doing; wall time is printed beside it.
    const one = postgres(db.url, { max: 1, prepare: false, onnotice: () => {} });
    const [{ pid }] = await one`select pg_backend_pid() as pid`;
    const cpuMs = () => {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in ticks of 10 ms
    };
    for (let round = 0; round < num("ROUNDS", 3); round++) {
      for (let v = 0; v < 2; v++) {
        await sql.unsafe(readFileSync(files[v], "utf8"));
        const t = performance.now();
        await sql`update private.account_health_state set due_at = now() - interval '1 minute'`;
        let claimMs = 0;
        let recordMs = 0;
        const cpu0 = cpuMs();
        for (;;) {
          const c0 = performance.now();
          const claimed = await claimAccountsForScan(one, { worker: "ab", limit: batch, leaseSeconds: 300 });
          claimMs += performance.now() - c0;
          if (claimed.length === 0) break;
          const r0 = performance.now();
          await recordHealthScan(one, claimed.map((a, i) => ({
            accountId: a.accountId, leaseId: a.leaseId, reach: i % 10 === 0 ? 300 : 1100, engagement: 110, followers: 4990,
          })));
          recordMs += performance.now() - r0;
        }
        const cpu = cpuMs() - cpu0;
        totals[v].push(claimMs + recordMs);
        cpus[v].push(cpu);
        log(`round ${round + 1} ${files[v]}: claim ${Math.round(claimMs)} + record ${Math.round(recordMs)} = ${Math.round(claimMs + recordMs)} ms of calls, ${Math.round(cpu)} ms of server CPU (${Math.round(performance.now() - t)} ms wall)`);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    await one.end();
    log(`median calls: ${files[0]} ${Math.round(median(totals[0]))} ms, ${files[1]} ${Math.round(median(totals[1]))} ms, ratio ${(median(totals[1]) / median(totals[0])).toFixed(2)}`);
    log(`median server CPU: ${files[0]} ${Math.round(median(cpus[0]))} ms, ${files[1]} ${Math.round(median(cpus[1]))} ms, ratio ${(median(cpus[1]) / median(cpus[0])).toFixed(2)}`);
  } else {
  // One batch of the next scan, explained.
  const plans: string[] = [];
  const one = postgres(db.url, { max: 1, prepare: false, onnotice: (n) => plans.push(n.message) });
  await one.unsafe(`load 'auto_explain'; set auto_explain.log_min_duration = ${process.env.PROFILE_MIN_MS ?? 1}; set auto_explain.log_analyze = ${process.env.PROFILE_ANALYZE === "off" ? "off" : "on"};
    set auto_explain.log_buffers = on; set auto_explain.log_nested_statements = on; set auto_explain.log_level = notice;
    set auto_explain.log_timing = on`);
  // PROFILE_BATCHES batches (default 5) of the next scan, explained.
  await sql`update private.account_health_state set due_at = now() - interval '1 minute'`;
  let recordMs = 0;
  const batches = num("PROFILE_BATCHES", 5);
  for (let b = 0; b < batches; b++) {
    const claimed = await claimAccountsForScan(one, { worker: "profile", limit: batch, leaseSeconds: 300 });
    const t = performance.now();
    await recordHealthScan(one, claimed.map((a, i) => ({
      accountId: a.accountId, leaseId: a.leaseId, reach: i % 10 === 0 ? 300 : 1100, engagement: 110, followers: 4990,
    })));
    recordMs += performance.now() - t;
  }
  log(`${batches} explained batches: ${Math.round(recordMs)} ms of record calls`);
  await one.end();
  for (const p of plans) console.log(`----- \n${p}`);
  }
} finally {
  await db.stop();
}
