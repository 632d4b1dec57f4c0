// The sandbox platform in its own process for the end-to-end benchmark, so the platform's work does
// not share the engine's event loop: 100 ms of latency on every call, limits far above the load.
// Talks to its parent over IPC: sends { url } once listening; answers "stats"; stops on "stop".
import { startSandbox } from "../local/sandbox/index.ts";

const latencyMs = Number(process.env.BENCH_SANDBOX_LATENCY_MS ?? 100);

const sandbox = await startSandbox({
  port: 0,
  seed: 1,
  // The engine, not the platform's limiter, is what is measured.
  config: { rateLimit: { posts: 1_000_000_000, windowMs: 60_000 } },
});
sandbox.network.setFaults(undefined, { latency: { ms: latencyMs } });

const stop = async () => {
  await sandbox.stop();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("disconnect", stop); // the parent went away: never outlive it
process.on("message", (m: unknown) => {
  if (m === "stats") {
    const s = sandbox.stats();
    process.send?.({ stats: { accepted: s.accepted, accounts: s.accounts, duplicates: s.duplicateClientRefs.length } });
  }
  if (m === "stop") void stop();
});
process.send?.({ url: sandbox.url });
