// CPU time spent by this process and by the benchmark's Postgres (postmaster, its live children and
// the ones it has reaped), read from /proc: unlike wall time, it barely moves when a noisy neighbour
// takes the cores, so it shows what a piece of work costs. Linux only; elsewhere it reports nothing.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const TICK_MS = 10; // USER_HZ is 100 on Linux

function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** CPU milliseconds of the Postgres cluster whose data folder is `pgDataDir`, or null off Linux. */
export function postgresCpuMs(pgDataDir: string): number | null {
  const pidFile = join(pgDataDir, "postmaster.pid");
  if (!existsSync("/proc/self/stat") || !existsSync(pidFile)) return null;
  const postmaster = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  const own = statFields(postmaster);
  if (!own) return null;
  // utime, stime, and the cutime/cstime of children already reaped (fields 14–17 of stat).
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f && Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks * TICK_MS;
}

/** CPU milliseconds of one process (e.g. a Postgres backend, from pg_backend_pid()), or null. */
export function processCpuMs(pid: number): number | null {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) * TICK_MS : null;
}

/** This process's CPU milliseconds (user + system). */
export function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface CpuSnapshot {
  node: number;
  pg: number | null;
}

export function cpuNow(pgDataDir: string): CpuSnapshot {
  return { node: ownCpuMs(), pg: postgresCpuMs(pgDataDir) };
}

/** CPU spent between two snapshots: this process, Postgres (null when unknown). */
export function cpuSince(start: CpuSnapshot, pgDataDir: string): CpuSnapshot {
  const end = cpuNow(pgDataDir);
  return { node: end.node - start.node, pg: end.pg === null || start.pg === null ? null : end.pg - start.pg };
}
