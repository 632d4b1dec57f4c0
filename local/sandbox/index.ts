// Starts the sandbox social network on 127.0.0.1: the platform sandbox accounts publish to
// and the test double for every platform failure. State lives in memory, optionally snapshotted.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { SandboxNetwork, type NetworkConfig, type SandboxStats } from "./network.ts";
import { createSandboxHandler, RESET_CONNECTION, type SandboxReply } from "./routes.ts";

export type { SandboxStats, SandboxPost, Faults } from "./network.ts";

export interface SandboxOptions {
  /** 0 picks a free port. */
  port: number;
  /** Reloaded on start and written on stop, so `npm run dev` keeps its feeds across restarts. */
  dataFile?: string;
  log?: (line: string) => void;
  /** Seed for the fault generator, so a test's faults fall the same way on every run. */
  seed?: number;
  config?: Partial<NetworkConfig>;
}

export interface Sandbox {
  url: string;
  stop(): Promise<void>;
  /** The same counts as GET /v1/admin/stats, without a request. */
  stats(): SandboxStats;
  /** The network itself, for tests that arrange state directly. */
  network: SandboxNetwork;
  /** The web handler, for in-process requests without a socket. */
  handle(request: Request): Promise<SandboxReply>;
}

const LOOPBACK = "127.0.0.1";
/** How long after a change the sandbox's data file is written (changes meanwhile share the write). */
const SAVE_DELAY_MS = 200;

export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const log = opts.log ?? (() => {});
  const network = new SandboxNetwork({ ...opts.config, seed: opts.seed });
  if (opts.dataFile && existsSync(opts.dataFile)) {
    network.loadSnapshot(JSON.parse(readFileSync(opts.dataFile, "utf8")));
    log(`sandbox: loaded ${network.stats().accepted} posts from ${opts.dataFile}`);
  }

  // Sleepers (latency, hung responses) are woken on stop, so shutdown never waits on a hang.
  const sleepers = new Set<() => void>();
  let stopping = false;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping || ms <= 0) return resolve();
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });
  const handle = createSandboxHandler(network, { sleep });

  // The feeds are saved as they change, not only on a clean stop: a change is written within
  // SAVE_DELAY_MS, so a process killed (or a Ctrl-C that never finishes) keeps what was accepted.
  // Written to a temporary file and renamed, so a kill mid-write never leaves half a file.
  let saveTimer: NodeJS.Timeout | undefined;
  const save = () => {
    if (!opts.dataFile) return;
    clearTimeout(saveTimer);
    saveTimer = undefined;
    mkdirSync(dirname(opts.dataFile), { recursive: true });
    writeFileSync(`${opts.dataFile}.tmp`, JSON.stringify(network.toSnapshot()));
    renameSync(`${opts.dataFile}.tmp`, opts.dataFile);
  };
  const saveSoon = () => {
    if (!opts.dataFile || saveTimer || stopping) return;
    saveTimer = setTimeout(() => {
      // A failed write (a full disk) is said, not thrown: it must not take the whole stack down.
      try {
        save();
      } catch (error) {
        log(`sandbox: could not save to ${opts.dataFile}: ${(error as Error).message}`);
      }
    }, SAVE_DELAY_MS);
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((error) => {
      log(`sandbox: ${req.method} ${req.url} failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
      if (!res.headersSent && !res.destroyed) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "internal_error", message: "The sandbox failed; see its log." }));
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    const hasBody = req.method !== "GET" && req.method !== "HEAD" && chunks.length > 0;
    const request = new Request(`http://${LOOPBACK}${req.url}`, {
      method: req.method,
      headers,
      body: hasBody ? Buffer.concat(chunks) : undefined,
    });
    const reply = await handle(request);
    // Whatever changes the sandbox comes as a request that is not a read.
    if (req.method !== "GET" && req.method !== "HEAD") saveSoon();
    if (reply === RESET_CONNECTION) return void req.socket.destroy();
    if (res.destroyed) return; // the client gave up (timed out) while we were slow on purpose
    const body = Buffer.from(await reply.arrayBuffer());
    res.writeHead(reply.status, { ...Object.fromEntries(reply.headers), "content-length": body.length });
    res.end(body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, LOOPBACK, () => resolve());
  });
  const { port } = server.address() as { port: number };
  const url = `http://${LOOPBACK}:${port}`;
  network.baseUrl = url;
  log(`sandbox: listening on ${url}`);

  return {
    url,
    network,
    handle,
    stats: () => network.stats(),
    async stop() {
      if (stopping) return;
      stopping = true;
      for (const wake of [...sleepers]) wake();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (opts.dataFile) {
        save();
        log(`sandbox: saved ${network.stats().accepted} posts to ${opts.dataFile}`);
      }
    },
  };
}
