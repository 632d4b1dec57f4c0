// The process-queue Edge Function in the chaos run: the local gateway (as `npm run dev` serves it)
// against the run's private database, under the real Deno, called every so often as pg_cron would,
// overlapping runs allowed. It runs beside the Node workers with the same engine settings.
import { join } from "node:path";
import { generateKeys } from "../../local/keys.ts";
import { startGateway, type Gateway } from "../../local/gateway/server.ts";
import { freePort } from "../setup/free-port.ts";

export interface EdgeRuns {
  /** Runs answered 200, and the calls that failed (the database restart makes some fail; that is fine). */
  ok: number;
  failed: number;
  claimed: number;
  /** Stops calling, waits for the runs in flight, and stops the gateway and its Deno process. */
  stop(): Promise<void>;
}

export async function startEdgeRuns(opts: {
  env: Record<string, string>;
  everyMs: number;
  log: (line: string) => void;
}): Promise<EdgeRuns> {
  const keys = await generateKeys();
  const port = await freePort();
  const gateway: Gateway = await startGateway({
    port,
    dbUrl: opts.env.SUPABASE_DB_URL,
    keys,
    functionsDir: join(import.meta.dirname, "..", "..", "supabase", "functions"),
    functionEnv: { ...opts.env, PACER_CRON_SECRET: keys.cronSecret },
    scheduler: false,
    log: opts.log,
  });
  const inFlight = new Set<Promise<void>>();
  const runs: EdgeRuns = { ok: 0, failed: 0, claimed: 0, stop: async () => {} };
  const call = () => {
    const p = fetch(`${gateway.url}/functions/v1/process-queue`, {
      method: "POST",
      headers: { authorization: `Bearer ${keys.cronSecret}`, "content-type": "application/json" },
      body: "{}",
    })
      .then(async (res) => {
        const body = (await res.json().catch(() => null)) as { claimed?: number } | null;
        if (res.ok) {
          runs.ok++;
          runs.claimed += body?.claimed ?? 0;
        } else runs.failed++;
      })
      .catch(() => void runs.failed++)
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  call();
  const timer = setInterval(call, opts.everyMs);
  runs.stop = async () => {
    clearInterval(timer);
    await Promise.all(inFlight);
    await gateway.stop();
  };
  return runs;
}
