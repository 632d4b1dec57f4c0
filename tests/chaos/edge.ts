// The local gateway of the chaos run (as `npm run dev` serves it), against the run's private database:
// its Auth signs the workspace owners in for the web app (tests/chaos/next.ts), and it serves the
// process-queue Edge Function under the real Deno, called every so often as pg_cron would,
// overlapping runs allowed, beside the Node workers with the same engine settings.
import { join } from "node:path";
import { generateKeys, type LocalKeys } from "../../local/keys.ts";
import { startGateway, type Gateway } from "../../local/gateway/server.ts";
import { freePort } from "../setup/free-port.ts";

export interface ChaosGateway {
  url: string;
  keys: LocalKeys;
  /** What the web app needs to verify sessions with this gateway's Auth: the names a Supabase project uses. */
  appEnv: Record<string, string>;
  stop(): Promise<void>;
}

/** `functionEnv`: the Edge Functions' secrets (the engine's settings); the cron secret is added. */
export async function startChaosGateway(opts: { dbUrl: string; functionEnv: Record<string, string>; log: (line: string) => void }): Promise<ChaosGateway> {
  const keys = await generateKeys();
  const port = await freePort();
  const gateway: Gateway = await startGateway({
    port,
    dbUrl: opts.dbUrl,
    keys,
    functionsDir: join(import.meta.dirname, "..", "..", "supabase", "functions"),
    functionEnv: { ...opts.functionEnv, PACER_CRON_SECRET: keys.cronSecret },
    scheduler: false,
    log: opts.log,
  });
  return {
    url: gateway.url,
    keys,
    appEnv: {
      NEXT_PUBLIC_SUPABASE_URL: gateway.url,
      NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY: keys.publishableKey,
      SUPABASE_URL: gateway.url,
      SUPABASE_PUBLISHABLE_KEY: keys.publishableKey,
      SUPABASE_SECRET_KEY: keys.secretKey,
    },
    stop: () => gateway.stop(),
  };
}

export interface EdgeRuns {
  /** Runs answered 200, and the calls that failed (the database restart makes some fail; that is fine). */
  ok: number;
  failed: number;
  claimed: number;
  /** Stops calling and waits for the runs in flight (the gateway and its Deno process stay up). */
  stop(): Promise<void>;
}

export function startEdgeRuns(opts: { gateway: ChaosGateway; everyMs: number }): EdgeRuns {
  const { gateway } = opts;
  const inFlight = new Set<Promise<void>>();
  const runs: EdgeRuns = { ok: 0, failed: 0, claimed: 0, stop: async () => {} };
  const call = () => {
    const p = fetch(`${gateway.url}/functions/v1/process-queue`, {
      method: "POST",
      headers: { authorization: `Bearer ${gateway.keys.cronSecret}`, "content-type": "application/json" },
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
  };
  return runs;
}
