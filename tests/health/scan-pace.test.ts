// The health scan's read pace is one per platform for every scan (20261202001700): overlapping scans
// (the Edge Function, `npm run worker`, "check all now") together never read a platform faster than
// public.platforms.scan_reads_per_minute, and the accounts not read stay due.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import type { Connector } from "../../lib/connectors/types.ts";
import { scanHealth } from "../../lib/health/scan.ts";
import { claimAccountsForScan } from "../../lib/health/store.ts";
import { connect, type Sql } from "../support/db";
import { workspace } from "./helpers";

let sql: Sql;
let other: Sql;
const platforms: string[] = [];
const workspaces: string[] = [];

beforeAll(() => {
  sql = connect(4);
  other = connect(4);
});
afterAll(async () => {
  await sql`delete from public.workspaces where id = any (${workspaces})`;
  await sql`delete from public.platforms where id = any (${platforms})`;
  await sql.end();
  await other.end();
});

/** A platform of its own read at `perMinute`, with `n` accounts due now (the most overdue of the database). */
async function platformWithDueAccounts(perMinute: number, n: number) {
  const platform = `pace_${randomUUID().slice(0, 8)}`;
  platforms.push(platform);
  await sql`insert into public.platforms (id, name, enabled, scan_reads_per_minute) values (${platform}, 'Pace test', true, ${perMinute})`;
  const owner = await workspace(sql, "scan-pace");
  workspaces.push(owner.workspaceId);
  const rows = await sql`
    insert into public.social_accounts (workspace_id, platform, handle, display_name)
    select ${owner.workspaceId}, ${platform}, 'pace_' || g || '_' || ${platform}, 'Pace' from generate_series(1, ${n}) g
    returning id`;
  const ids = rows.map((r) => r.id as string);
  await sql`update private.account_health_state set due_at = now() - interval '10 years', lease_id = null, lease_expires_at = null
            where account_id = any (${ids})`;
  return { platform, workspaceId: owner.workspaceId, ids };
}

const stillDue = (ids: string[]) =>
  sql`select count(*)::int as n from private.account_health_state
      where account_id = any (${ids}) and lease_id is null and due_at <= now()`.then(([r]) => r.n as number);

describe("the scan's read pace", () => {
  it("is shared by concurrent claims: together they hand out one minute of reads, one gap apart, and the rest stay due", async () => {
    const { workspaceId, ids } = await platformWithDueAccounts(60, 100);
    const claim = (db: Sql, worker: string) => claimAccountsForScan(db, { worker, limit: 50, leaseSeconds: 120, workspaceId });
    const [a, b] = await Promise.all([claim(sql, "pace-a"), claim(other, "pace-b")]);
    const all = [...a, ...b];
    // 60 reads a minute: a minute of reads handed out (the later claim's minute starts a moment
    // later, so one more may fit), not the 100 asked for.
    expect(all.length).toBeGreaterThanOrEqual(60);
    expect(all.length).toBeLessThanOrEqual(61);
    expect(new Set(all.map((c) => c.accountId)).size).toBe(all.length);
    // One second apart (a minute / 60), whichever claim handed them out: no 60 s hold more than 60.
    const times = all.map((c) => c.readAt.getTime()).sort((x, y) => x - y);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(999);
    for (const t of times) expect(times.filter((u) => u >= t && u < t + 60_000).length).toBeLessThanOrEqual(60);
    // The lease lasts from the read time, so a read that waits its turn keeps it.
    for (const c of all) expect(c.leaseExpiresAt.getTime() - c.readAt.getTime()).toBeGreaterThanOrEqual(119_000);
    // Nothing lost: the others are due, unleased; a claim now finds the minute taken.
    expect(await stillDue(ids)).toBe(ids.length - all.length);
    expect(await claimAccountsForScan(sql, { worker: "pace-c", limit: 50, leaseSeconds: 120, workspaceId, withinSeconds: 30 })).toEqual([]);
    expect(await stillDue(ids)).toBe(ids.length - all.length);
  });

  it("keeps two overlapping scan runs together within the platform's pace (read times measured at the platform)", async () => {
    const { platform, workspaceId, ids } = await platformWithDueAccounts(60, 20);
    const reads: number[] = [];
    const connector = {
      readMetrics: async () => {
        reads.push(Date.now());
        return { reach: 100, engagement: 10, followers: 1000 };
      },
    } as unknown as Connector;
    const run = (worker: string) =>
      scanHealth({ sql, worker, workspaceId, connectorFor: () => connector, budgetMs: 5_000, readTimeoutMs: 500, batchSize: 2 });
    const started = Date.now();
    const [x, y] = await Promise.all([run("pace-x"), run("pace-y")]);
    const elapsed = Date.now() - started;

    // Both runs took part, and together they read at most one a second (60 a minute).
    expect(x.claimed + y.claimed).toBe(reads.length);
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(reads.length).toBeLessThanOrEqual(Math.floor(elapsed / 1000) + 1);
    reads.sort((p, q) => p - q);
    for (let i = 1; i < reads.length; i++) expect(reads[i] - reads[i - 1]).toBeGreaterThanOrEqual(950);
    // What was read is recorded; the rest stay due for the next run.
    const [{ n: recorded }] = await sql`select count(*)::int as n from public.account_health_snapshots where account_id = any (${ids})`;
    expect(recorded).toBe(reads.length);
    expect(await stillDue(ids)).toBe(ids.length - reads.length);
    expect(platform).toMatch(/^pace_/);
  }, 30_000);
});
