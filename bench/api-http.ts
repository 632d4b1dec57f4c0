// Section "api": the HTTP API as its users reach it. `next build` + `next start` on the bench's
// Postgres with the local Supabase-compatible Auth (the gateway `npm run dev` runs), tenants signed in
// with a password as a script would be, their access tokens on every request. In the same run, the
// floor: a bare node:http server (bench/api-floor.ts) that verifies the same token against the same
// JWKS and runs one RLS transaction. Then each piece a route runs, timed alone (bench/api-pieces.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { join, relative } from "node:path";
import { loadOrCreateKeys } from "../local/keys.ts";
import { startGateway, type Gateway } from "../local/gateway/server.ts";
import { createUser } from "../local/gateway/auth.ts";
import { freePort } from "../tests/setup/free-port.ts";
import { postgresCpuMs } from "./cpu.ts";
import { fillQueue, type BenchDatabase, type Workspace } from "./database.ts";
import { fmt, percentile, ratio, type Table } from "./stats.ts";

const ROOT = join(import.meta.dirname, "..");
const NEXT_BIN = join(ROOT, "node_modules", "next", "dist", "bin", "next");
const TSX = ["--import", "tsx"];

export interface ApiHttpConfig {
  tenants: number;
  itemsPerTenant: number;
  accountsPerTenant: number;
  /** Requests per route at each concurrency. */
  requests: Record<number, number>;
  concurrencies: number[];
  /** The gateway's port: fixed, because `next build` inlines NEXT_PUBLIC_SUPABASE_URL. */
  gatewayPort: number;
  /** "auto" reuses .next when its sources and public settings are unchanged; "always" rebuilds. */
  build: "auto" | "always";
  pieceSamples: number;
}

export interface RoutePoint {
  route: string;
  server: "pacer" | "floor";
  concurrency: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** CPU ms per request: the server's processes, and Postgres. */
  serverCpuPerRequest: number;
  pgCpuPerRequest: number | null;
}

export interface ApiHttpResult {
  tables: Table[];
  points: RoutePoint[];
  /** Read routes at the highest concurrency: requests/s as a share of the floor's, and p99. */
  reads: Array<{ route: string; ofFloor: number; p99: number }>;
  build: { reused: boolean; seconds: number };
}

const READ_ROUTES = ["/api/queue/status", "/api/accounts", "/api/queue/items", "/api/workspace/usage"];

/** What `next build` compiles from, and the public settings it inlines: the same hash, the same build. */
function sourceFingerprint(publicEnv: Record<string, string>): string {
  const hash = createHash("sha256");
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(relative(ROOT, path)).update(readFileSync(path));
    }
  };
  for (const dir of ["app", "components", "lib", "public"]) if (existsSync(join(ROOT, dir))) walk(join(ROOT, dir));
  for (const file of readdirSync(ROOT)) {
    if (statSync(join(ROOT, file)).isFile() && /\.(ts|mjs|json)$/.test(file)) hash.update(file).update(readFileSync(join(ROOT, file)));
  }
  hash.update(JSON.stringify(publicEnv));
  return hash.digest("hex");
}

function runNext(args: string[], env: Record<string, string>, quiet: boolean): ChildProcess {
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    ...env,
    NEXT_TELEMETRY_DISABLED: "1",
    NODE_OPTIONS: [process.env.NODE_OPTIONS, "--experimental-websocket"].filter(Boolean).join(" "),
  };
  delete childEnv.NODE_ENV; // next sets production itself
  return spawn(process.execPath, [NEXT_BIN, ...args], {
    cwd: ROOT,
    detached: true, // its own process group: stopping it stops every process Next forks
    stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit",
    env: childEnv as NodeJS.ProcessEnv,
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? 1);
    child.once("exit", (code) => resolve(code ?? 1));
  });

/** SIGTERM to the group, SIGKILL if it lingers. */
async function stopGroup(child: ChildProcess | undefined) {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {}
  await Promise.race([exited(child), new Promise((r) => setTimeout(r, 5000))]);
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {}
}

/** CPU milliseconds of every process in a process group (Next may fork workers). */
function groupCpuMs(pgid: number): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return ticks * 10;
}

async function waitFor(url: string, child: ChildProcess, what: string, timeoutMs = 120_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}) before answering.`);
    if (await fetch(url).then((r) => r.status < 500, () => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs / 1000} s.`);
}

interface Load {
  perSecond: number;
  p50: number;
  p99: number;
  statuses: Map<number, number>;
  wallMs: number;
}

/** `total` GETs at `concurrency`, keep-alive, each a tenant's token in turn; every body read in full. */
async function load(base: string, path: string, tokens: Array<string | null>, concurrency: number, total: number): Promise<Load> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const { hostname, port } = new URL(base);
  const ms: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const one = (token: string | null) =>
    new Promise<number>((resolve, reject) => {
      const req = httpRequest({ agent, hostname, port, path, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
        res.on("data", () => {});
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        const status = await one(tokens[i % tokens.length]);
        ms.push(performance.now() - t);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const wallMs = performance.now() - started;
  agent.destroy();
  return { perSecond: (total / wallMs) * 1000, p50: percentile(ms, 50), p99: percentile(ms, 99), statuses, wallMs };
}

export async function benchApiHttp(db: BenchDatabase, cfg: ApiHttpConfig, log: (l: string) => void): Promise<ApiHttpResult> {
  const keys = await loadOrCreateKeys(join(ROOT, ".pacer", "bench-api")); // kept: the build inlines the publishable key
  const gatewayUrl = `http://127.0.0.1:${cfg.gatewayPort}`;
  const appPort = await freePort();
  const appUrl = `http://127.0.0.1:${appPort}`;
  const publicEnv = { NEXT_PUBLIC_SUPABASE_URL: gatewayUrl, NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY: keys.publishableKey };
  const env: Record<string, string> = {
    ...publicEnv,
    SUPABASE_URL: gatewayUrl,
    SUPABASE_PUBLISHABLE_KEY: keys.publishableKey,
    SUPABASE_SECRET_KEY: keys.secretKey,
    SUPABASE_DB_URL: db.url,
    PACER_CREDENTIALS_KEY: keys.credentialsKey,
    PACER_APP_URL: appUrl,
    PACER_CRON_SECRET: keys.cronSecret,
    PACER_BILLING_MODE: "local",
    STRIPE_WEBHOOK_SECRET: `whsec_local_${keys.secretKey.slice("sb_secret_".length)}`,
  };

  let gateway: Gateway | undefined;
  let next: ChildProcess | undefined;
  let floor: ChildProcess | undefined;
  // However the run ends (an error, Ctrl-C through run.ts's process.exit), no server outlives it.
  const killAll = () => {
    for (const c of [next, floor]) {
      try {
        if (c?.pid && c.exitCode === null) process.kill(-c.pid, "SIGKILL");
      } catch {}
    }
  };
  process.once("exit", killAll);
  try {
    // 1. The build: reused only when nothing it compiles from (or inlines) changed since it was made.
    const fingerprint = sourceFingerprint(publicEnv);
    const stamp = join(ROOT, ".next", "pacer-bench-build.json");
    const buildIdFile = join(ROOT, ".next", "BUILD_ID");
    const kept = existsSync(stamp) && existsSync(buildIdFile) ? JSON.parse(readFileSync(stamp, "utf8")) : null;
    const reused = cfg.build === "auto" && kept?.fingerprint === fingerprint && kept?.buildId === readFileSync(buildIdFile, "utf8").trim();
    let buildSeconds = 0;
    if (reused) {
      log(`api: reusing .next (build ${kept.buildId}: sources and public settings unchanged since it was made)`);
    } else {
      log("api: next build (sources changed since the last bench build, or none kept)…");
      const t = performance.now();
      const build = runNext(["build"], env, true);
      let output = "";
      build.stdout!.on("data", (d) => (output += d));
      build.stderr!.on("data", (d) => (output += d));
      const code = await exited(build);
      if (code !== 0) throw new Error(`next build failed (${code}):\n${output.slice(-3000)}`);
      buildSeconds = (performance.now() - t) / 1000;
      writeFileSync(stamp, JSON.stringify({ fingerprint, buildId: readFileSync(buildIdFile, "utf8").trim() }));
      log(`api: built in ${fmt(buildSeconds)} s`);
    }

    // 2. Auth, tenants and their queues.
    gateway = await startGateway({
      port: cfg.gatewayPort,
      dbUrl: db.url,
      keys,
      functionsDir: join(ROOT, "supabase", "functions"),
      functionEnv: env,
      scheduler: false,
      log: () => {},
      siteUrl: appUrl,
    });
    const tokens: string[] = [];
    for (let t = 0; t < cfg.tenants; t++) {
      const email = `api-bench-${t}-${Date.now()}@example.test`;
      const password = `bench-password-${t}-Aa1!`;
      const { id } = await createUser(db.admin, { email, password });
      const [{ workspace_id: workspaceId }] = await db.admin`select workspace_id from public.workspace_members where user_id = ${id}`;
      await db.admin`update public.workspaces set plan_id = 'ultra' where id = ${workspaceId}`;
      const accounts = await db.admin`
        insert into public.social_accounts (workspace_id, platform, handle, display_name, state)
        select ${workspaceId}, 'sandbox', 'api_' || ${t} || '_' || i, 'API bench account ' || i, 'connected'
        from generate_series(1, ${cfg.accountsPerTenant}) as i returning id, handle`;
      const ws: Workspace = { userId: id, workspaceId, accountIds: accounts.map((a) => a.id), handles: accounts.map((a) => a.handle) };
      await fillQueue(db.admin, ws, { items: cfg.itemsPerTenant, status: "pending", runAt: `now() + interval '1 day' + i * interval '1 second'` });
      const res = await fetch(`${gatewayUrl}/auth/v1/token?grant_type=password`, {
        method: "POST",
        headers: { apikey: keys.publishableKey, "content-type": "application/json" },
        body: JSON.stringify({ email, password }),
      });
      if (!res.ok) throw new Error(`Signing in a bench tenant failed: ${res.status} ${await res.text()}`);
      tokens.push(((await res.json()) as { access_token: string }).access_token);
    }
    await db.admin`analyze`;
    log(`api: ${cfg.tenants} tenants signed in, ${fmt(cfg.itemsPerTenant)} queued items each`);

    // 3. The two servers, side by side for the whole run.
    next = runNext(["start", "-H", "127.0.0.1", "-p", String(appPort)], env, true);
    const floorPort = await freePort();
    floor = spawn(process.execPath, [...TSX, join(import.meta.dirname, "api-floor.ts")], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PORT: String(floorPort), JWKS_URL: `${gatewayUrl}/auth/v1/.well-known/jwks.json`, ISSUER: `${gatewayUrl}/auth/v1`, DB_URL: db.url },
    });
    const floorUrl = `http://127.0.0.1:${floorPort}`;
    await waitFor(`${appUrl}/api/queue/status`, next, "next start"); // a 401 once it serves
    await waitFor(floorUrl, floor, "the floor server");

    const points: RoutePoint[] = [];
    const servers: Array<{ server: "pacer" | "floor"; base: string; pgid: number; routes: string[] }> = [
      { server: "floor", base: floorUrl, pgid: floor.pid!, routes: ["/floor"] },
      { server: "pacer", base: appUrl, pgid: next.pid!, routes: [...READ_ROUTES, "401"] },
    ];
    for (const s of servers) for (const route of s.routes) await load(s.base, route === "401" ? "/api/queue/status" : route, route === "401" ? [null] : tokens, 4, 100); // warm-up
    for (const concurrency of cfg.concurrencies) {
      for (const s of servers) {
        for (const route of s.routes) {
          // Each measurement starts with fresh API windows, so no tenant reaches its limit mid-run.
          await db.admin`delete from private.api_rate_limits`;
          const total = cfg.requests[concurrency];
          const cpu0 = { server: groupCpuMs(s.pgid), pg: postgresCpuMs(db.pgDataDir) };
          const r = await load(s.base, route === "401" ? "/api/queue/status" : route, route === "401" ? [null] : tokens, concurrency, total);
          const pg1 = postgresCpuMs(db.pgDataDir);
          const expected = route === "401" ? 401 : 200;
          const wrong = [...r.statuses].filter(([status]) => status !== expected);
          if (wrong.length) throw new Error(`${route}: expected ${expected}, got ${wrong.map(([k, v]) => `${v}× ${k}`).join(", ")}`);
          const point: RoutePoint = {
            route: route === "401" ? "GET /api/queue/status, no token (401)" : route === "/floor" ? "floor (jose + one RLS transaction)" : `GET ${route}`,
            server: s.server,
            concurrency,
            perSecond: r.perSecond,
            p50: r.p50,
            p99: r.p99,
            serverCpuPerRequest: (groupCpuMs(s.pgid) - cpu0.server) / total,
            pgCpuPerRequest: pg1 === null || cpu0.pg === null ? null : (pg1 - cpu0.pg) / total,
          };
          points.push(point);
          log(`api: ${point.route} at ${concurrency}: ${fmt(r.perSecond)}/s, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms`);
        }
      }
    }
    await stopGroup(next);
    await stopGroup(floor);

    // 4. The pieces, one at a time, with the app's own code.
    await db.admin`delete from private.api_rate_limits`;
    const pieces = await new Promise<Record<string, { p50: number; p99: number }>>((resolve, reject) => {
      const child = spawn(process.execPath, [...TSX, join(import.meta.dirname, "api-pieces.ts")], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, ...env, NODE_OPTIONS: [process.env.NODE_OPTIONS, "--experimental-websocket"].filter(Boolean).join(" "), TOKEN: tokens[0], SAMPLES: String(cfg.pieceSamples) },
      });
      let out = "";
      child.stdout!.on("data", (d) => (out += d));
      child.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").at(-1)!)) : reject(new Error(`api-pieces exited ${code}: ${out}`))));
    });
    await db.admin`delete from private.api_rate_limits`;

    return summarize(points, pieces, cfg, { reused, seconds: buildSeconds });
  } finally {
    await stopGroup(next);
    await stopGroup(floor);
    await gateway?.stop().catch(() => {});
    process.removeListener("exit", killAll);
  }
}

function summarize(points: RoutePoint[], pieces: Record<string, { p50: number; p99: number }>, cfg: ApiHttpConfig, build: { reused: boolean; seconds: number }): ApiHttpResult {
  const floorAt = (c: number) => points.find((p) => p.server === "floor" && p.concurrency === c)!;
  const table: Table = {
    title: `HTTP API: next start against the floor (${cfg.tenants} tenants, ${fmt(cfg.itemsPerTenant)} queued items each)`,
    head: ["Route", "Concurrency", "Requests/s", "p50 ms", "p99 ms", "Of the floor", "Server CPU ms/req", "Postgres CPU ms/req"],
    textColumns: 1,
    rows: points.map((p) => [
      p.route,
      String(p.concurrency),
      fmt(p.perSecond),
      fmt(p.p50, 1),
      fmt(p.p99, 1),
      p.server === "floor" ? "1.00×" : ratio(p.perSecond, floorAt(p.concurrency).perSecond),
      fmt(p.serverCpuPerRequest, 2),
      p.pgCpuPerRequest === null ? "–" : fmt(p.pgCpuPerRequest, 2),
    ]),
    notes: [
      `\`next build\` + \`next start\` (${build.reused ? "a kept build whose sources and public settings are unchanged" : `built in this run: ${fmt(build.seconds)} s`}) on the bench's Postgres, with the local Auth gateway (ES256 tokens, JWKS); each tenant signed in with a password, its access token on every request; keep-alive HTTP from one client process on the same machine.`,
      `Requests per route: ${cfg.concurrencies.map((c) => `${fmt(cfg.requests[c])} at concurrency ${c}`).join(", ")}, tenants in turn, after 100 warm-up requests; API rate-limit windows cleared before each row, so every answer is a 200 (or the 401).`,
      "The floor: a bare node:http server (bench/api-floor.ts) that verifies the same token with jose against the same JWKS and runs one RLS transaction (set_config, then the caller's memberships). CPU per request: the server's process group from /proc, Postgres from its cluster's processes.",
    ],
  };
  const piece = (name: string) => pieces[name] ?? { p50: NaN, p99: NaN };
  const c1 = (route: string) => points.find((p) => p.route === route && p.concurrency === 1);
  const rows: string[][] = [
    ["One Postgres round trip (select 1)", fmt(piece("roundTrip").p50, 2), fmt(piece("roundTrip").p99, 2)],
    ["proxy.ts on an API request (CSP + updateSession), as it ran before API requests with a token skipped it", fmt(piece("proxy").p50, 2), fmt(piece("proxy").p99, 2)],
    ["authenticate: verify the access token (getClaims, cached JWKS)", fmt(piece("authenticate").p50, 2), fmt(piece("authenticate").p99, 2)],
    ["rate limit: count the request (hitApiLimit, its own transaction)", fmt(piece("rateLimit").p50, 2), fmt(piece("rateLimit").p99, 2)],
  ];
  for (const [route, sql, json] of [
    ["GET /api/queue/status", "statusSql", "statusJson"],
    ["GET /api/accounts", "accountsSql", "accountsJson"],
    ["GET /api/queue/items", "itemsSql", "itemsJson"],
  ]) {
    rows.push([`${route}: the route's SQL (one transaction as the user)`, fmt(piece(sql).p50, 2), fmt(piece(sql).p99, 2)]);
    rows.push([`${route}: JSON.stringify of the reply`, fmt(piece(json).p50, 3), fmt(piece(json).p99, 3)]);
    const http = c1(route);
    if (http) {
      const inside = piece("authenticate").p50 + piece("rateLimit").p50 + piece(sql).p50 + piece(json).p50;
      rows.push([`${route}: over HTTP at concurrency 1 (the rest: Next's routing, the response, the client)`, `${fmt(http.p50, 2)} (rest ${fmt(http.p50 - inside, 2)})`, fmt(http.p99, 2)]);
    }
  }
  const piecesTable: Table = {
    title: "Where an API request's time goes (one at a time, the app's own code outside Next)",
    head: ["Piece", "p50 ms", "p99 ms"],
    rows,
    notes: [
      `Each piece called ${fmt(cfg.pieceSamples)} times in a row after 10 warm-ups, in a process of its own (bench/api-pieces.ts) against the same Postgres and gateway, as tenant 1. "rest" is the HTTP p50 less authenticate + rate limit + SQL + JSON.`,
    ],
  };
  const top = Math.max(...cfg.concurrencies);
  const reads = points
    .filter((p) => p.server === "pacer" && p.concurrency === top && READ_ROUTES.some((r) => p.route === `GET ${r}`))
    .map((p) => ({ route: p.route, ofFloor: p.perSecond / floorAt(top).perSecond, p99: p.p99 }));
  return { tables: [table, piecesTable], points, reads, build };
}
