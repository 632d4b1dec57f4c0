// `npm run dev`: all of Pacer on this machine with no Docker and no accounts — embedded Postgres,
// migrations, the local Supabase gateway (auth, edge functions, scheduler), then Next.js.
// Ctrl-C stops everything in reverse order.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startLocalStack, ROOT, type LocalStack } from "./stack.ts";
import { DEMO_BLUESKY, DEMO_UPLOAD_POST } from "./platform-fakes.ts";

function fakePort(name: string, offset: number): number {
  const sandbox = Number(process.env.PACER_SANDBOX_PORT ?? 54330);
  return Number(process.env[name] ?? (sandbox === 0 ? 0 : sandbox + offset));
}

const config = {
  dataDir: process.env.PACER_DATA_DIR ?? join(ROOT, ".pacer"),
  dbPort: Number(process.env.PACER_DB_PORT ?? 54322),
  gatewayPort: Number(process.env.PACER_GATEWAY_PORT ?? 54321),
  sandboxPort: Number(process.env.PACER_SANDBOX_PORT ?? 54330),
  // The platform fakes sit next to the sandbox (fixed ports, so a Mastodon instance named once keeps
  // its address); with PACER_SANDBOX_PORT=0 (the browser tests) they take free ports too.
  platformPorts: {
    mastodon: fakePort("PACER_MASTODON_PORT", 1),
    bluesky: fakePort("PACER_BLUESKY_PORT", 2),
    uploadPost: fakePort("PACER_UPLOAD_POST_PORT", 3),
  },
  appPort: Number(process.env.PACER_APP_PORT ?? 3000),
  // "dev" (default), "start" (a production build), or "none": the stack without Next.js, for running
  // Next yourself (under a debugger, say) against it.
  nextMode: (["start", "none"].includes(process.env.PACER_NEXT_MODE ?? "") ? process.env.PACER_NEXT_MODE : "dev") as "dev" | "start" | "none",
  externalDbUrl: process.env.SUPABASE_DB_URL,
  verbose: Boolean(process.env.PACER_VERBOSE),
};

// The demo user local/seed.sql creates in a new database.
export const DEMO_LOGIN = { email: "demo@pacer.local", password: "pacer-demo-password" };

const say = (line: string) => console.log(`[pacer] ${line}`);

let stopping = false;

/** Postgres' own chatter is noise unless something is wrong (its shutdown notices are expected). */
function logFrom(source: string, line: string) {
  if (config.verbose || (!stopping && /error|fatal|panic/i.test(line))) console.log(`[${source}] ${line}`);
}

function runNext(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [join(ROOT, "node_modules", "next", "dist", "bin", "next"), ...args], {
    cwd: ROOT,
    stdio: "inherit",
    detached: true, // its own process group, so Ctrl-C handling here can stop all of Next's workers
    env: {
      ...process.env,
      ...env,
      // supabase-js needs a global WebSocket; Node 20 has it behind this flag (Node 22+ by default).
      NODE_OPTIONS: [process.env.NODE_OPTIONS, "--experimental-websocket"].filter(Boolean).join(" "),
    },
  });
}

function waitForExit(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const appUrl = `http://127.0.0.1:${config.appPort}`;

async function main() {
  let stack: LocalStack | undefined;
  let next: ChildProcess | undefined;

  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say("stopping…");
    if (next?.pid && next.exitCode === null) {
      try {
        process.kill(-next.pid, "SIGTERM");
      } catch {}
      await Promise.race([waitForExit(next), new Promise((r) => setTimeout(r, 5000))]);
      if (next.exitCode === null) {
        try {
          process.kill(-next.pid, "SIGKILL");
        } catch {}
      }
    }
    await stack?.stop();
    say("stopped.");
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  say(config.externalDbUrl ? "using SUPABASE_DB_URL" : `starting Postgres 17 on 127.0.0.1:${config.dbPort}`);
  stack = await startLocalStack({
    dataDir: config.dataDir,
    dbPort: config.dbPort,
    gatewayPort: config.gatewayPort,
    sandboxPort: config.sandboxPort,
    platformPorts: config.platformPorts,
    externalDbUrl: config.externalDbUrl,
    // A developer reaching the app at another address (a tunnel) sets PACER_APP_URL to it.
    appUrl: process.env.PACER_APP_URL || appUrl,
    scheduler: true,
    seed: true,
    demo: true,
    log: logFrom,
  });
  say(`database     ${stack.dbUrl.replace(/:[^:@/]+@/, ":****@")}`);
  say(`gateway      ${stack.gatewayUrl}  (/auth/v1, /functions/v1, scheduler)`);
  // What a script needs to sign in with supabase-js and call /api/* (docs/api.md), as `supabase status` prints it.
  say(`auth         ${stack.gatewayUrl}/auth/v1  (supabase-js: createClient("${stack.gatewayUrl}", <publishable key>))`);
  say(`publishable  ${stack.keys.publishableKey}  (safe to use in a script or a browser; the secret key stays in ${join(config.dataDir, "keys.json")})`);
  say(`sandbox      ${stack.sandboxUrl}  (the sandbox platform: feeds, faults)`);
  say(`mastodon     ${stack.platforms.mastodon}  (fake instance: "Connect Mastodon" with this address; any username signs in)`);
  say(`bluesky      ${stack.platforms.bluesky}  (fake PDS: "Connect Bluesky" as ${DEMO_BLUESKY.handle} / ${DEMO_BLUESKY.appPassword})`);
  say(`upload-post  ${stack.platforms.uploadPost}  (fake Upload-Post API: "Connect Upload-Post" with the key ${DEMO_UPLOAD_POST.apiKey}, then import ${DEMO_UPLOAD_POST.profile}'s TikTok and LinkedIn)`);
  say("the platform fakes keep their data in memory: a restart forgets them");
  // Where the fakes listen, for scripts and the browser tests (their ports may be free ones).
  writeFileSync(join(config.dataDir, "platforms.json"), JSON.stringify(stack.platforms));
  // The sandbox's address and webhook inbox, an endpoint the local stack allows (docs/webhooks.md); the
  // browser tests read it here. (Not sandbox.json: that file is the sandbox's own data.)
  writeFileSync(join(config.dataDir, "sandbox-address.json"), JSON.stringify({ url: stack.sandboxUrl, webhookInbox: `${stack.sandboxUrl}/v1/webhook-inbox/demo` }));
  say(`webhooks     ${stack.sandboxUrl}/v1/webhook-inbox/demo  (a local endpoint: add it on Webhooks, GET it to read what arrived)`);
  if (stack.demo) {
    const d = stack.demo;
    say(`demo         ${DEMO_LOGIN.email}'s workspace: ${d.accounts} sandbox accounts, ${d.published} posts published, ${d.scheduled} scheduled, ${d.failed} refused by the platform (${d.ms} ms)`);
  }

  if (config.nextMode === "none") {
    // Secrets, like keys.json beside it: readable by this user only.
    writeFileSync(join(config.dataDir, "app.env"), Object.entries(stack.env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n", { mode: 0o600 });
    say(`the stack is ready; Next.js is not started (PACER_NEXT_MODE=none): its environment is in ${join(config.dataDir, "app.env")}`);
    say("Ctrl-C stops everything.");
    return;
  }
  const host = ["-H", "127.0.0.1", "-p", String(config.appPort)];
  if (config.nextMode === "start") {
    say("building Next.js (PACER_NEXT_MODE=start)…");
    const build = runNext(["build"], stack.env);
    next = build;
    const code = await waitForExit(build);
    if (code !== 0) return stop(code);
    next = runNext(["start", ...host], stack.env);
  } else {
    next = runNext(["dev", ...host], stack.env);
  }
  next.once("exit", (code) => void stop(code ?? 0));

  // Say "ready" only once Next answers, so scripts (and Playwright) can wait for this line.
  for (let i = 0; i < 600 && !stopping; i++) {
    const ok = await fetch(`${appUrl}/sign-in`).then((r) => r.status < 500, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  say(`Pacer is ready at ${appUrl}`);
  say(`sign in as ${DEMO_LOGIN.email} / ${DEMO_LOGIN.password}${stack.seeded ? " (demo user created)" : ""}`);
  say("Ctrl-C stops everything.");
}

main().catch((error) => {
  console.error("[pacer] could not start:", error ?? "see the lines above (a port in use?)");
  process.exit(1);
});
