// One worker process of the scale-out section, as `npm run worker` runs the queue: its own Node
// process and connection pool, processQueue with the engine's defaults, here with the no-op
// connector. Talks to its parent over IPC: sends { ready } once connected, drains the queue on "go",
// then sends what it did and exits. Never outlives its parent.
import postgres from "postgres";
import { ENGINE_DEFAULTS, processQueue } from "../lib/engine/process.ts";
import { noopConnector } from "./throughput.ts";

const env = process.env;
const worker = env.BENCH_WORKER_ID ?? `scaleout-${process.pid}`;
const capMs = Number(env.BENCH_WORKER_CAP_MS ?? 30_000);
// The pool `npm run worker` opens.
const sql = postgres(env.BENCH_DB_URL!, { prepare: false, max: 4, onnotice: () => {} });
const stop = new AbortController();
const quit = () => {
  stop.abort();
  process.exit(1);
};
process.on("disconnect", quit); // the parent went away (or was stopped): so does this process
process.on("SIGINT", quit);
process.on("SIGTERM", quit);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function drain() {
  const cpu0 = process.cpuUsage();
  const started = Date.now();
  const deadline = started + capMs;
  let posted = 0;
  let claimed = 0;
  while (!stop.signal.aborted && Date.now() < deadline) {
    const s = await processQueue({
      sql,
      worker,
      connectorFor: () => noopConnector,
      budgetMs: deadline - Date.now(),
      concurrency: ENGINE_DEFAULTS.concurrency,
      batchSize: ENGINE_DEFAULTS.batchSize,
      signal: stop.signal,
    });
    posted += s.byOutcome.posted ?? 0;
    claimed += s.claimed;
    if (s.claimed > 0) continue;
    // An empty claim may only mean the other processes hold what is left: stop once nothing is due.
    const [{ due }] = await sql`select exists (select 1 from public.queue_items
                                  where status in ('pending', 'rate_limited') and run_at <= now()) as due`;
    if (!due) break;
    await sleep(20);
  }
  const cpu = process.cpuUsage(cpu0);
  return { posted, claimed, ms: Date.now() - started, cpuMs: (cpu.user + cpu.system) / 1000 };
}

await sql`select 1`; // connected before the clock starts
process.once("message", (m: unknown) => {
  if (m !== "go") return;
  void drain().then(
    (result) => {
      process.send?.({ result }, () => void sql.end({ timeout: 5 }).finally(() => process.exit(0)));
    },
    (error: unknown) => {
      process.send?.({ error: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    },
  );
});
process.send?.({ ready: true });
