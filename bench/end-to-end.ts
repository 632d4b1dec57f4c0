// Section 5: posts per second through the whole engine to the sandbox platform (in a child process)
// at 100 ms platform latency over 1,000 accounts, with the sandbox's limits far above the load.
// Compares Node's fetch with a lean keep-alive client built on node:http, to see the client's cost,
// and the same run under Deno (the Edge Function's runtime) with publishes single-send (shipped: no
// connection reuse, lib/connectors/transport.ts) and through Deno's pooled fetch, to see that cost.
import postgres from "postgres";
import { execFile, fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { Agent, request as httpRequest } from "node:http";
import { fileURLToPath } from "node:url";
import { processQueue } from "../lib/engine/process.ts";
import { randomBytes } from "node:crypto";
import { sandboxAccounts, sandboxConnector } from "../tests/support/sandbox.ts";
import { emptyQueue, fillQueue, settle, workspaceWithAccounts, type BenchDatabase } from "./database.ts";
import { cpuNow, cpuSince, processCpuMs } from "./cpu.ts";
import { EDGE_RUN, edgeCapacityTable, type EdgeCapacity } from "./edge-capacity.ts";
import { fmt, median, type Table } from "./stats.ts";

export interface EndToEndConfig {
  posts: number;
  accounts: number;
  concurrency: number;
  runs: number;
  capMs: number;
  latencyMs: number;
  /** Also run the engine under Deno (single-send and pooled publishes). */
  deno?: boolean;
}

interface SandboxChild {
  url: string;
  child: ChildProcess;
  stats(): Promise<{ accepted: number; accounts: number; duplicates: number }>;
  stop(): Promise<void>;
}

async function startSandboxChild(latencyMs: number): Promise<SandboxChild> {
  const child = fork(fileURLToPath(new URL("./sandbox-process.ts", import.meta.url)), {
    env: { ...process.env, BENCH_SANDBOX_LATENCY_MS: String(latencyMs) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`The sandbox process exited (${code}) before listening.`)));
    child.on("message", (m: any) => m?.url && resolve(m.url));
  });
  return {
    url,
    child,
    stats: () =>
      new Promise((resolve) => {
        const onMessage = (m: any) => {
          if (!m?.stats) return;
          child.off("message", onMessage);
          resolve(m.stats);
        };
        child.on("message", onMessage);
        child.send("stats");
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.send("stop");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      }),
  };
}

/**
 * A minimal fetch over node:http with a keep-alive agent: enough for the sandbox connector (method,
 * headers, body, status, headers, text) without the WHATWG stream machinery of Node's fetch.
 */
function leanFetch(maxSockets: number): typeof fetch {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const body = typeof init.body === "string" ? Buffer.from(init.body) : undefined;
    if (body) headers["content-length"] = String(body.length);
    return new Promise<Response>((resolve, reject) => {
      const req = httpRequest(
        { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: init.method ?? "GET", headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const h = new Headers();
            for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
            resolve(new Response(Buffer.concat(chunks), { status: res.statusCode, headers: h }));
          });
          res.on("error", (e) => reject(new TypeError("fetch failed", { cause: e })));
        },
      );
      // Errors look like Node's fetch's, so the connector classifies them the same way.
      req.on("error", (e) => reject(init.signal?.aborted ? init.signal.reason : new TypeError("fetch failed", { cause: e })));
      init.signal?.addEventListener("abort", () => req.destroy(), { once: true });
      req.end(body);
    });
  }) as typeof fetch;
}

const ROOT = join(import.meta.dirname, "..");
// As the local gateway runs Edge Functions (local/gateway/functions.ts): offline, npm from node_modules.
const DENO_RUN = ["run", "--no-remote", "--cached-only", "--node-modules-dir=manual", "--no-lock", "--no-prompt", "--allow-net", "--allow-env", "--allow-read", "--allow-sys"];

/** Runs processQueue once under Deno (as the Edge Function does), timed and its CPU measured inside that process. */
async function runUnderDeno(dbUrl: string, sandboxUrl: string, mode: "single-send" | "pooled", concurrency: number, budgetMs: number, cpuBudgetMs?: number) {
  const { stdout } = await promisify(execFile)(
    join(ROOT, "node_modules", ".bin", "deno"),
    [...DENO_RUN, join(ROOT, "bench", "deno-process-queue.ts"), dbUrl, sandboxUrl, mode, String(concurrency), String(budgetMs), ...(cpuBudgetMs ? [String(cpuBudgetMs)] : [])],
    { cwd: ROOT, env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" }, maxBuffer: 16 << 20, timeout: budgetMs + 300_000 },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as { posted: number; claimed: number; ms: number; cpuMs: number; cpuBudgetReached: boolean };
}


interface Run {
  posted: number;
  ms: number;
  accepted: number;
  duplicates: number;
  cpu: { node: number; pg: number | null; sandbox: number | null };
}

export interface EndToEndResult {
  tables: Table[];
  /** The Edge Function's run under Deno at its CPU budget (with cfg.deno). */
  edge?: EdgeCapacity;
  /** Median posts/s per HTTP client, in the table's order (Node's fetch first). */
  byClient: Array<{ name: string; postsPerSecond: number; cpuPer1000: { engine: number; sandbox: number; postgres: number } }>;
}

export async function benchEndToEnd(db: BenchDatabase, cfg: EndToEndConfig, log: (l: string) => void): Promise<EndToEndResult> {
  const sandbox = await startSandboxChild(cfg.latencyMs);
  try {
    const ws = await workspaceWithAccounts(db.admin, cfg.accounts, "e2e");
    // Each account created on the sandbox with its token, sealed as Pacer stores it (the engine runs in this process).
    process.env.PACER_CREDENTIALS_KEY ??= randomBytes(32).toString("base64");
    const made = await sandboxAccounts(sandbox.url, ws.handles);
    await db.admin`
      update public.social_accounts a set credentials_encrypted = x.sealed
      from jsonb_to_recordset(${db.admin.json(made.map(({ handle, sealed }) => ({ handle, sealed })))}) as x(handle text, sealed text)
      where a.workspace_id = ${ws.workspaceId} and a.handle = x.handle`;
    // A client runs in this process (fetch) or in a Deno process (deno: how it publishes).
    const clients: Array<{ name: string; fetch?: typeof fetch; deno?: "single-send" | "pooled" }> = [
      { name: "Node's fetch (undici, keep-alive by default)", fetch: globalThis.fetch },
      { name: `node:http keep-alive agent (maxSockets ${cfg.concurrency})`, fetch: leanFetch(cfg.concurrency) },
      ...(cfg.deno
        ? [
            { name: "Deno (Edge Function runtime), publishes single-send (shipped)", deno: "single-send" as const },
            { name: "Deno, publishes through the pooled fetch (may re-send: not shipped)", deno: "pooled" as const },
          ]
        : []),
    ];
    const connectors = clients.map((c) => (c.fetch ? sandboxConnector(sandbox.url, { fetch: c.fetch }) : null));
    const sql = postgres(db.url, { max: 4, prepare: false, onnotice: () => {} });
    const run = async (client: number, items: number): Promise<Run> => {
      const connector = connectors[client];
      await emptyQueue(db.admin);
      await fillQueue(db.admin, ws, { items, fanOut: 10 });
      await settle(db.admin);
      const before = await sandbox.stats();
      const c0 = cpuNow(db.pgDataDir);
      const s0 = sandbox.child.pid ? processCpuMs(sandbox.child.pid) : null;
      let posted: number;
      let ms: number;
      let denoCpuMs = NaN;
      if (connector) {
        const started = performance.now();
        const summary = await processQueue({
          sql,
          worker: "e2e",
          connectorFor: () => connector,
          budgetMs: cfg.capMs,
          concurrency: cfg.concurrency,
          batchSize: 100,
        });
        ms = performance.now() - started;
        posted = summary.byOutcome.posted ?? 0;
      } else {
        ({ posted, ms, cpuMs: denoCpuMs } = await runUnderDeno(db.url, sandbox.url, clients[client].deno!, cfg.concurrency, cfg.capMs));
      }
      const cpu = cpuSince(c0, db.pgDataDir);
      const s1 = sandbox.child.pid ? processCpuMs(sandbox.child.pid) : null;
      const after = await sandbox.stats();
      return {
        posted,
        ms,
        accepted: after.accepted - before.accepted,
        duplicates: after.duplicates,
        // A Deno run's engine CPU is that process's during processQueue (its start and module loading left out).
        cpu: { ...cpu, node: connector ? cpu.node : denoCpuMs, sandbox: s0 === null || s1 === null ? null : s1 - s0 },
      };
    };

    // Warm-up, untimed: each in-process client opens its connections and Postgres warms its caches.
    for (let i = 0; i < clients.length; i++) if (connectors[i]) await run(i, cfg.accounts);

    const runs = new Map<number, Run[]>(clients.map((_, i) => [i, []]));
    for (let round = 1; round <= cfg.runs; round++) {
      for (let i = 0; i < clients.length; i++) {
        const r = await run(i, cfg.posts);
        runs.get(i)!.push(r);
        log(`run ${round}/${cfg.runs} ${clients[i].name}: ${fmt(r.posted)} posted in ${fmt(r.ms / 1000, 1)} s = ${fmt((r.posted / r.ms) * 1000)} posts/s (sandbox accepted ${fmt(r.accepted)})`);
      }
    }
    await sql.end();

    // The Edge Function's capacity: one run as it ships (its CPU budget on the process's CPU clock, the
    // engine's default concurrency) on a queue deeper than that budget covers: how many it publishes.
    let edge: EdgeCapacity | undefined;
    if (cfg.deno) {
      await emptyQueue(db.admin);
      await fillQueue(db.admin, ws, { items: EDGE_RUN.queued, fanOut: 10 });
      await settle(db.admin);
      const r = await runUnderDeno(db.url, sandbox.url, "single-send", EDGE_RUN.concurrency, cfg.capMs, EDGE_RUN.cpuBudgetMs);
      edge = { queued: EDGE_RUN.queued, posted: r.posted, claimed: r.claimed, cpuMs: r.cpuMs, wallMs: r.ms, cpuBudgetReached: r.cpuBudgetReached };
      log(`Edge Function run under Deno: ${fmt(r.posted)} posted with ${fmt(r.cpuMs)} ms of CPU in ${fmt(r.ms / 1000, 1)} s (CPU budget ${r.cpuBudgetReached ? "reached" : "not reached"})`);
    }

    const rate = (r: Run) => (r.posted / r.ms) * 1000;
    const per1000 = (rs: Run[], f: (r: Run) => number | null) => median(rs.map((r) => ((f(r) ?? NaN) / Math.max(1, r.posted)) * 1000));
    const rows = clients.map((c, i) => {
      const rs = runs.get(i)!;
      return [
        c.name,
        fmt(median(rs.map(rate))),
        rs.map((r) => fmt(rate(r))).join(" / "),
        rs.every((r) => r.accepted === r.posted && r.duplicates === 0) ? "yes" : "NO",
        fmt(per1000(rs, (r) => r.cpu.node)),
        fmt(per1000(rs, (r) => r.cpu.sandbox)),
        fmt(per1000(rs, (r) => r.cpu.pg)),
      ];
    });
    const table: Table = {
      title: `End to end: ${fmt(cfg.posts)} posts over ${fmt(cfg.accounts)} sandbox accounts at ${cfg.latencyMs} ms platform latency, concurrency ${cfg.concurrency}`,
      head: ["HTTP client", "Posts/s (median)", "Runs (posts/s)", "Exactly once", "CPU ms/1k posts: engine", "sandbox", "Postgres"],
      rows,
      notes: [
        `One processQueue (batch 100, concurrency ${cfg.concurrency}) in the benchmark process; the sandbox in a child process with ${cfg.latencyMs} ms latency on every publish and its rate limit far above the load; Pacer's sandbox policy is 3,600/h per account.`,
        `Median of ${cfg.runs} runs each, interleaved, after one untimed warm-up post per account per client (token registration, connections). A run stops after ${fmt(cfg.capMs / 1000)} s.`,
        `"Exactly once": the sandbox accepted exactly as many posts as Pacer recorded as posted, and no client_ref twice.`,
        ...(cfg.deno
          ? [
              "Deno rows: processQueue in a Deno process, as the Edge Function runs it, its accounts' tokens registered before the timed run (the sandbox's CPU includes those registrations; the engine's CPU is that process's, all threads, during processQueue). Single-send publishes open a connection each (what ships: Deno's fetch would re-send a publish after a reset on a pooled connection); pooled shows what that safety costs.",
            ]
          : []),
        `Upper bound at this concurrency and latency: ${fmt(cfg.concurrency)} / ${cfg.latencyMs} ms = ${fmt((cfg.concurrency * 1000) / cfg.latencyMs)} posts/s.`,
      ],
    };
    const byClient = clients.map((c, i) => {
      const rs = runs.get(i)!;
      return {
        name: c.name,
        postsPerSecond: median(rs.map(rate)),
        cpuPer1000: {
          engine: per1000(rs, (r) => r.cpu.node),
          sandbox: per1000(rs, (r) => r.cpu.sandbox),
          postgres: per1000(rs, (r) => r.cpu.pg),
        },
      };
    });
    return { tables: [table, ...(edge ? [edgeCapacityTable(edge, byClient)] : [])], edge, byClient };
  } finally {
    await sandbox.stop();
  }
}
