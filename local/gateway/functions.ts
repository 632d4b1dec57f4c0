// Runs Supabase edge functions (supabase/functions/<name>/index.ts) locally for the gateway's
// /functions/v1/<name>: one Deno process per function, started on first request, as Supabase's
// edge runtime boots a worker per function.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

export interface FunctionsRunner {
  /** Serve `req` (addressed to /functions/v1/<name>/... or /<name>/...) with function `name`. */
  fetch(req: Request, name: string): Promise<Response>;
  /** Kill every Deno process and wait for them to exit. */
  stop(): Promise<void>;
}

const BOOTSTRAP = join(import.meta.dirname, "deno-bootstrap.ts");
/** Printed by deno-bootstrap.ts once the function listens; must match it. */
const LISTENING = "__pacer_function_listening__";
const BOOT_TIMEOUT_MS = 30_000;
/** Supabase's wall-clock limit for one request (paid plans); keeps a hung function from blocking callers forever. */
const WALL_CLOCK_MS = 400_000;
/** Supabase's rule for function names; it also keeps `_shared` and dot folders from being served. */
const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
/** What the function process may see of the machine's environment: only what Deno itself needs. */
const OS_ENV = ["HOME", "USERPROFILE", "PATH", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP", "DENO_DIR", "XDG_CACHE_HOME"];
const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "host"];

// Deno 2 with the project's package.json resolves `npm:` and bare specifiers from the installed
// node_modules ("manual" mode, found from the bootstrap's location), so nothing is downloaded;
// --no-remote and --cached-only make any remote import (https:, jsr:) fail instead of fetching.
// --allow-sys: postgres.js asks the OS for the user name when the URL has none; the hosted runtime allows it.
const DENO_FLAGS = [
  "run",
  "--no-remote",
  "--cached-only",
  "--node-modules-dir=manual",
  "--no-lock",
  "--no-prompt",
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-sys",
];

function denoBinary(): string {
  try {
    const pkg = createRequire(import.meta.url).resolve("deno/package.json");
    const exe = join(dirname(pkg), process.platform === "win32" ? "deno.exe" : "deno");
    if (existsSync(exe)) return exe;
  } catch {
    // fall back to a deno on PATH
  }
  return "deno";
}

function errorResponse(status: number, code: string, message: string): Response {
  return Response.json({ code, message }, { status, headers: { "sb-error-code": code } });
}

const notFound = () => errorResponse(404, "NOT_FOUND", "Requested function was not found");
const stoppedResponse = () => errorResponse(503, "BOOT_ERROR", "The functions runner has stopped");
const bootError = () => errorResponse(503, "BOOT_ERROR", "Function failed to start (please check logs)");

/** Newest mtime under `dir` (node_modules and dot folders skipped), 0 if it doesn't exist. */
function newestMtime(dir: string): number {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else {
      try {
        newest = Math.max(newest, statSync(path).mtimeMs);
      } catch {
        // deleted while we looked
      }
    }
  }
  return newest;
}

/** The path the function sees: Supabase strips /functions/v1 and keeps /<name>/... */
function functionPath(pathname: string, name: string): string {
  const rest = pathname.startsWith("/functions/v1/") ? pathname.slice("/functions/v1".length) : pathname;
  return rest === `/${name}` || rest.startsWith(`/${name}/`) ? rest : `/${name}`;
}

interface Instance {
  child: ChildProcess;
  /** Date.now() at spawn, compared with the function's file mtimes. */
  startedAt: number;
  /** The port it listens on; rejects if it fails to boot. */
  port: Promise<number>;
  exited: Promise<void>;
  alive: boolean;
}

export function createFunctionsRunner(opts: {
  functionsDir: string;
  env: Record<string, string>;
  log: (line: string) => void;
}): FunctionsRunner {
  const deno = denoBinary();
  const instances = new Map<string, Instance>();
  const locks = new Map<string, Promise<unknown>>();
  let stopped = false;

  const env: Record<string, string> = {};
  for (const key of OS_ENV) if (process.env[key] !== undefined) env[key] = process.env[key]!;
  Object.assign(env, opts.env, { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" });

  /** A function's own deno.json wins, then one at the functions root (as the Supabase CLI reads them). */
  function configArgs(name: string): string[] {
    for (const dir of [join(opts.functionsDir, name), opts.functionsDir]) {
      for (const file of ["deno.json", "deno.jsonc"]) {
        if (existsSync(join(dir, file))) return ["--config", join(dir, file)];
      }
    }
    return [];
  }

  function start(name: string, entry: string): Instance {
    const child: ChildProcess = spawn(deno, [...DENO_FLAGS, ...configArgs(name), BOOTSTRAP, pathToFileURL(entry).href], {
      // stdin stays open: the bootstrap exits when it closes, so a crashed gateway leaves no orphans.
      stdio: ["pipe", "pipe", "pipe"],
      env: env as NodeJS.ProcessEnv,
    });
    const inst: Instance = { child, startedAt: Date.now(), alive: true, port: null!, exited: null! };
    inst.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        inst.alive = false;
        if (!stopped) opts.log(`[${name}] exited (${signal ?? `code ${code}`})`);
        resolve();
      });
      child.once("error", (error) => {
        inst.alive = false;
        opts.log(`[${name}] could not start deno (${deno}): ${error.message}`);
        resolve();
      });
    });
    inst.port = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error("boot timeout"));
        child.kill("SIGKILL");
      }, BOOT_TIMEOUT_MS);
      createInterface({ input: child.stdout! }).on("line", (line) => {
        const match = line.startsWith(LISTENING) ? /(\d+)\s*$/.exec(line) : null;
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        } else opts.log(`[${name}] ${line}`);
      });
      createInterface({ input: child.stderr! }).on("line", (line) => opts.log(`[${name}] ${line}`));
      void inst.exited.then(() => {
        clearTimeout(timer);
        reject(new Error("exited before listening"));
      });
    });
    inst.port.then(
      (port) => opts.log(`[${name}] listening on 127.0.0.1:${port}`),
      (error: Error) => opts.log(`[${name}] failed to boot: ${error.message}`),
    );
    child.stdin!.on("error", () => {}); // EPIPE once it has exited
    return inst;
  }

  async function kill(inst: Instance): Promise<void> {
    if (!inst.alive) return inst.exited;
    inst.child.kill("SIGTERM");
    const timer = setTimeout(() => inst.child.kill("SIGKILL"), 3_000);
    await inst.exited;
    clearTimeout(timer);
  }

  /** One boot or restart per function at a time, so concurrent first requests share a process. */
  function serialized<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const next = (locks.get(name) ?? Promise.resolve()).then(fn, fn);
    locks.set(name, next.catch(() => {}));
    return next;
  }

  /** The running instance for `name`, (re)started if it isn't running or its files changed. */
  function ensure(name: string, entry: string): Promise<Instance | undefined> {
    return serialized(name, async () => {
      if (stopped) return undefined; // never spawn after stop() has collected the processes
      let inst = instances.get(name);
      const dir = join(opts.functionsDir, name);
      const changed = inst && Math.max(newestMtime(dir), newestMtime(join(opts.functionsDir, "_shared"))) > inst.startedAt;
      if (inst && (!inst.alive || changed)) {
        if (changed && inst.alive) opts.log(`[${name}] files changed, restarting`);
        await kill(inst);
        inst = undefined;
      }
      if (!inst) {
        inst = start(name, entry);
        instances.set(name, inst);
      }
      return inst;
    });
  }

  return {
    async fetch(req, name) {
      if (stopped) return stoppedResponse();
      const entry = join(opts.functionsDir, name, "index.ts");
      if (!NAME.test(name) || !existsSync(entry)) return notFound();

      const url = new URL(req.url);
      const target = `${functionPath(url.pathname, name)}${url.search}`;
      const headers = new Headers(req.headers);
      for (const h of HOP_BY_HOP) headers.delete(h);
      // Node's fetch would transparently decompress; asking for identity keeps body and headers honest.
      headers.set("accept-encoding", "identity");
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();

      let res: Response | undefined;
      // A second attempt only when the connection was refused: the process had died (say, an
      // uncaught error after an earlier response) and the request never reached it.
      for (let attempt = 1; !res; attempt++) {
        const inst = await ensure(name, entry);
        if (!inst) return stoppedResponse();
        let port: number;
        try {
          port = await inst.port;
        } catch {
          return bootError();
        }
        try {
          res = await fetch(`http://127.0.0.1:${port}${target}`, {
            method: req.method,
            headers,
            body,
            redirect: "manual",
            signal: AbortSignal.timeout(WALL_CLOCK_MS),
          });
        } catch (error) {
          const refused = (error as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED";
          if (refused && attempt === 1) {
            await Promise.race([inst.exited, new Promise((r) => setTimeout(r, 1_000))]);
            if (!inst.alive) continue;
          }
          opts.log(`[${name}] request failed: ${(error as Error).message}`);
          return (error as Error).name === "TimeoutError"
            ? errorResponse(546, "WORKER_LIMIT", "Function exceeded the wall clock limit (please check logs)")
            : errorResponse(500, "WORKER_ERROR", "Function exited due to an error (please check logs)");
        }
      }

      const out = new Headers(res.headers);
      for (const h of [...HOP_BY_HOP, "content-encoding", "content-length"]) out.delete(h);
      return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
    },

    async stop() {
      stopped = true;
      await Promise.all(locks.values()); // boots already under way register their process first
      await Promise.all([...instances.values()].map(kill));
      instances.clear();
    },
  };
}
