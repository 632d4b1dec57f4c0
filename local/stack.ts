// The local stand-in for a Supabase project: embedded Postgres, migrations, and the gateway
// (auth, edge functions, scheduler). Used by `npm run dev`, the test run and the browser tests.
import { join } from "node:path";
import { startEmbeddedPostgres } from "./postgres.ts";
import { migrate, runSqlFile } from "./migrate.ts";
import { loadOrCreateKeys, type LocalKeys } from "./keys.ts";
import { startGateway } from "./gateway/server.ts";
import { startSandbox } from "./sandbox/index.ts";
import { startLocalPlatforms, type LocalPlatformPorts } from "./platform-fakes.ts";
import { seedDemoWorkspace, type DemoSummary } from "./demo.ts";

export const ROOT = join(import.meta.dirname, "..");

export interface StackOptions {
  /** Folder for Postgres data and the generated keys (gitignored). */
  dataDir: string;
  dbPort: number;
  gatewayPort: number;
  /** The sandbox platform's port (0: any free one). */
  sandboxPort: number;
  /** The Mastodon, Bluesky and Upload-Post fakes' ports (0: any free one; the default). */
  platformPorts?: Partial<LocalPlatformPorts>;
  /** Use this Postgres instead of starting the embedded one (SUPABASE_DB_URL). */
  externalDbUrl?: string;
  /** Run scheduled functions on their interval, as pg_cron does on Supabase. */
  scheduler: boolean;
  /** PACER_ALLOWED_HOSTS for the app, workers and functions; default: the sandbox's and the fakes' host:port. */
  allowedHosts?: string;
  /** The Next.js app's address (PACER_APP_URL): where platforms send users back (lib/api/app-url.ts). */
  appUrl: string;
  /** Apply local/seed.sql when the database is new. */
  seed: boolean;
  /** With seed: give the demo workspace accounts and posts (local/demo.ts), published through the engine. */
  demo?: boolean;
  log: (source: string, line: string) => void;
}

export interface LocalStack {
  dbUrl: string;
  gatewayUrl: string;
  sandboxUrl: string;
  /** The platform fakes' addresses (local/platform-fakes.ts). */
  platforms: { mastodon: string; bluesky: string; uploadPost: string };
  keys: LocalKeys;
  /** Whether local/seed.sql ran on this start (the database was new). */
  seeded: boolean;
  /** What the demo workspace was given on this start (null: nothing, the database was not new). */
  demo: DemoSummary | null;
  /** The environment a Next.js app (or a test) needs: the same names a Supabase project uses. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startLocalStack(opts: StackOptions): Promise<LocalStack> {
  const keys = await loadOrCreateKeys(opts.dataDir);
  const stops: Array<() => Promise<void>> = [];
  try {
    let dbUrl = opts.externalDbUrl;
    if (!dbUrl) {
      const pg = await startEmbeddedPostgres({
        dataDir: join(opts.dataDir, "postgres"),
        port: opts.dbPort,
        log: (l) => opts.log("postgres", l),
      });
      stops.push(pg.stop);
      dbUrl = pg.url;
    }
    const migrated = await migrate(dbUrl, { log: (l) => opts.log("migrate", l) });
    // Like `supabase db reset`: demo data only into a database created just now.
    const seeded = migrated.fresh && opts.seed;
    if (seeded) await runSqlFile(dbUrl, join(ROOT, "local", "seed.sql"));

    // The sandbox platform: where sandbox accounts publish, with its feeds kept across restarts.
    const sandbox = await startSandbox({
      port: opts.sandboxPort,
      dataFile: join(opts.dataDir, "sandbox.json"),
      // Honours the Idempotency-Key Pacer sends, as Mastodon does: the second line of defence on. The
      // engine and chaos tests run sandboxes of their own with it off, so a re-send there shows as a duplicate.
      config: { idempotencyKeys: true },
      log: (l) => opts.log("sandbox", l),
    });
    stops.push(sandbox.stop);

    // The real platforms' fakes, so every connect flow can be tried without an account anywhere.
    const platforms = await startLocalPlatforms({ ports: opts.platformPorts, dbUrl, log: opts.log });
    stops.push(platforms.stop);

    const gatewayUrl = `http://127.0.0.1:${opts.gatewayPort}`;
    const env: Record<string, string> = {
      NEXT_PUBLIC_SUPABASE_URL: gatewayUrl,
      NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY: keys.publishableKey,
      SUPABASE_URL: gatewayUrl,
      SUPABASE_PUBLISHABLE_KEY: keys.publishableKey,
      SUPABASE_SECRET_KEY: keys.secretKey,
      SUPABASE_DB_URL: dbUrl,
      PACER_CREDENTIALS_KEY: keys.credentialsKey,
      PACER_SANDBOX_URL: sandbox.url,
      // The sandbox and the fakes listen on loopback, which connectors refuse unless the operator allows it.
      PACER_ALLOWED_HOSTS: opts.allowedHosts ?? [sandbox.url, ...Object.values(platforms.urls)].map((u) => new URL(u).host).join(","),
      ...platforms.env,
      // Where the Mastodon sign-in and Upload-Post's page send the user back: the app this stack serves.
      PACER_APP_URL: opts.appUrl,
      // No email leaves a local stack: Auth's emails (password reset) are caught here for the user to open.
      ...(process.env.PACER_SMTP_URL ? {} : { PACER_LOCAL_MAILBOX_URL: `${gatewayUrl}/mailbox` }),
      // What the scheduler (pg_cron on Supabase) presents to scheduled functions: its own secret.
      PACER_CRON_SECRET: keys.cronSecret,
      // Billing without a Stripe account (docs/billing.md): plan changes are simulated and sent, signed
      // with this secret, through the real webhook route. Setting STRIPE_SECRET_KEY switches to Stripe.
      ...(process.env.STRIPE_SECRET_KEY
        ? {}
        : { PACER_BILLING_MODE: "local", STRIPE_WEBHOOK_SECRET: `whsec_local_${keys.secretKey.slice("sb_secret_".length)}` }),
    };
    const gateway = await startGateway({
      port: opts.gatewayPort,
      dbUrl,
      keys,
      functionsDir: join(ROOT, "supabase", "functions"),
      functionEnv: env,
      scheduler: opts.scheduler,
      log: (l) => opts.log("gateway", l),
      siteUrl: opts.appUrl,
    });
    stops.push(gateway.stop);

    // After the sandbox and the fakes: the demo's accounts are made there, and its posts published.
    const demo = seeded && opts.demo ? await seedDemoWorkspace({ dbUrl, sandboxUrl: sandbox.url, env, log: (l) => opts.log("demo", l) }) : null;

    return {
      dbUrl,
      gatewayUrl,
      sandboxUrl: sandbox.url,
      platforms: platforms.urls,
      keys,
      seeded,
      demo,
      env,
      stop: () => stopAll(stops),
    };
  } catch (error) {
    await stopAll(stops);
    throw error;
  }
}

/** How long one part may take to stop before the next is stopped anyway. */
const STOP_STEP_MS = 10_000;

/**
 * Stop the parts in reverse order of starting. Each step is bounded, so one that hangs (a child
 * that ignores its signal) cannot keep the others — Postgres above all — from stopping cleanly.
 */
async function stopAll(stops: Array<() => Promise<void>>): Promise<void> {
  for (const stop of stops.reverse()) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stop().catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_STEP_MS)))]);
    clearTimeout(timer);
  }
}
