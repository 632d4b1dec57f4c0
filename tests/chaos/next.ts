// The web app in the chaos run: a real Next.js server (`next dev`, as `npm run dev` serves it) against
// the run's private database, the gateway's Auth and the same platforms, and the workspaces' owners
// pressing "process now" (POST /api/queue/process, lib/queue processQueueNow) as often as the API's
// limit lets them, beside the workers and the Edge Function. Publishing inside Next means the
// connectors' fetch is the one Next patches onto globalThis: this is where that is tested, on the wire.
// `next dev` rather than a production build: it is ready in seconds (it compiles only the routes
// asked for), writes under .next/dev (`next build` owns the rest of .next) and runs the same patched fetch.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createClient } from "@supabase/supabase-js";
import { API_LIMITS } from "../../lib/api/limits.ts";
import { freePort } from "../setup/free-port.ts";
import type { ChaosGateway } from "./edge.ts";
import type { Sql } from "./scene.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const NEXT_BIN = join(ROOT, "node_modules", "next", "dist", "bin", "next");
const GUARD = pathToFileURL(join(import.meta.dirname, "exit-with-parent.mjs")).href;
const READY_TIMEOUT_MS = 180_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface NextApp {
  url: string;
  /** From starting `next dev` to the process route answering, compiled. */
  readyInMs: number;
  /** The server's last lines, newest last. */
  output(): string;
  /** SIGTERM to its process group (Next and its workers), SIGKILL if it lingers. */
  stop(): Promise<void>;
}

/** `env`: the engine's and the connectors' settings, the database, and the gateway's appEnv. */
export async function startNextApp(opts: { env: Record<string, string> }): Promise<NextApp> {
  const started = Date.now();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...opts.env,
    NEXT_TELEMETRY_DISABLED: "1",
    // supabase-js needs a global WebSocket (Node 20: behind a flag); the guard ends Next with this test.
    NODE_OPTIONS: `--experimental-websocket --import=${GUARD}`,
  };
  // vitest's NODE_ENV=test is not Next's: `next dev` sets development itself.
  delete env.NODE_ENV;
  const child = spawn(process.execPath, [NEXT_BIN, "dev", "-H", "127.0.0.1", "-p", String(port)], {
    cwd: ROOT,
    detached: true, // its own process group, so stopping it stops the server process `next dev` forks
    stdio: ["ignore", "pipe", "pipe"],
    env: env as NodeJS.ProcessEnv,
  });
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 200) tail.shift();
    }
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  const app: NextApp = {
    url,
    readyInMs: 0,
    output: () => tail.join("\n"),
    async stop() {
      if (!alive()) return;
      signal("SIGTERM");
      const timer = setTimeout(() => signal("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
      signal("SIGKILL"); // any worker of Next's still in the group
    },
  };

  // Ready once the process route answers a made-up token with 401: the proxy and the route are then
  // compiled, so the first real call does not spend its time compiling.
  for (;;) {
    if (!alive()) {
      // e.g. another `next dev` in this checkout holds .next/dev/lock.
      throw new Error(`next dev exited before it was ready:\n${app.output()}`);
    }
    if (Date.now() - started > READY_TIMEOUT_MS) {
      await app.stop();
      throw new Error(`next dev was not ready in ${READY_TIMEOUT_MS / 1000} s:\n${app.output()}`);
    }
    const status = await fetch(`${url}/api/queue/process`, {
      method: "POST",
      headers: { authorization: "Bearer not-a-token" },
      signal: AbortSignal.timeout(60_000),
    }).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 401) break;
    await sleep(250);
  }
  app.readyInMs = Date.now() - started;
  return app;
}

/** Someone signed in through the gateway's Auth, as the browser would be, who presses "process now" for a workspace they own. */
export interface Presser {
  userId: string;
  accessToken: string;
  workspaceId: string;
}

/**
 * `perWorkspace` people signed up through the gateway's Auth (sign-up answers with a session) and made
 * owners of each of `workspaceIds`: the API's limit is per person, so several of them press in turn.
 * Signed up before the world's clock starts; made owners once the workspaces exist (`join`).
 */
export async function signUpPressers(gateway: ChaosGateway, count: number) {
  const client = () => createClient(gateway.url, gateway.keys.publishableKey, { auth: { persistSession: false, autoRefreshToken: false } });
  const people = await Promise.all(
    Array.from({ length: count }, async (_, k) => {
      const { data, error } = await client().auth.signUp({ email: `chaos-presser-${k}-${randomUUID().slice(0, 8)}@example.test`, password: `pw-${randomUUID()}` });
      if (error || !data.session) throw error ?? new Error("sign-up returned no session");
      return { userId: data.user!.id, accessToken: data.session.access_token };
    }),
  );
  return {
    /** Each person becomes an admin (process now's role; a workspace has one owner) of one workspace, in turn. */
    async join(sql: Sql, workspaceIds: string[]): Promise<Presser[]> {
      const pressers = people.map((p, k) => ({ ...p, workspaceId: workspaceIds[k % workspaceIds.length] }));
      await sql`insert into public.workspace_members (workspace_id, user_id, role)
                select w, u, 'admin' from unnest(${pressers.map((p) => p.workspaceId)}::uuid[], ${pressers.map((p) => p.userId)}::uuid[]) as x(w, u)`;
      return pressers;
    },
  };
}

export interface ProcessNowCalls {
  /** Answers by status: 200 ran; 409 a run of that workspace still holds its lease; 429 over the limit; 500 (the database restart); 0 no answer. */
  byStatus: Record<number, number>;
  /** Stops calling and waits for the calls in flight. */
  stop(): Promise<void>;
}

/**
 * Each presser calls "process now" for their workspace, one call at a time, the next no sooner than the
 * `process` limit allows (API_LIMITS: 6 a minute per person, spaced evenly with room for timing). The
 * pressers of one workspace take turns, so its calls come several times as often; a call while another
 * of its runs holds the workspace answers 409, as it would for two people pressing at once.
 */
export function startProcessNow(opts: { app: NextApp; pressers: Presser[] }): ProcessNowCalls {
  const { limit, windowSeconds } = API_LIMITS.process;
  const spacingMs = Math.ceil((windowSeconds * 1000) / limit) + 500;
  let stopping = false;
  const waits = new Set<() => void>();
  /** Waits `ms`, or less once stopping. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waits.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waits.add(done);
    });
  const calls: ProcessNowCalls = { byStatus: {}, stop: async () => {} };
  const loop = async (presser: Presser) => {
    // Take turns with the workspace's other pressers: the k-th of n starts k/n of a spacing later.
    const mates = opts.pressers.filter((p) => p.workspaceId === presser.workspaceId);
    await pause((mates.indexOf(presser) * spacingMs) / mates.length);
    while (!stopping) {
      const at = Date.now();
      const status = await fetch(`${opts.app.url}/api/queue/process`, {
        method: "POST",
        headers: { authorization: `Bearer ${presser.accessToken}`, "content-type": "application/json" },
        body: JSON.stringify({ workspaceId: presser.workspaceId }),
        signal: AbortSignal.timeout(60_000),
      }).then(
        async (res) => (await res.arrayBuffer(), res.status),
        () => 0,
      );
      calls.byStatus[status] = (calls.byStatus[status] ?? 0) + 1;
      if (!stopping) await pause(Math.max(0, at + spacingMs - Date.now()));
    }
  };
  const loops = opts.pressers.map(loop);
  calls.stop = async () => {
    stopping = true;
    for (const done of [...waits]) done();
    await Promise.all(loops);
  };
  return calls;
}
