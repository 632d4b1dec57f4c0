// Browser tests: Debian's Chromium against the whole local stack (Postgres, gateway, built Next.js) on test ports.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "@playwright/test";

// Free ports, picked once by the runner and inherited by its workers through the environment, so
// a developer's `npm run dev` (54322, 54321, 3000) or another test run can stay up beside it.
if (!process.env.PACER_E2E_PORTS) {
  process.env.PACER_E2E_PORTS = execFileSync(process.execPath, [
    "-e",
    `const net = require("node:net");
     const servers = [0, 1, 2].map(() => net.createServer().listen(0, "127.0.0.1"));
     Promise.all(servers.map((s) => new Promise((r) => s.once("listening", r)))).then(() => {
       console.log(servers.map((s) => s.address().port).join(","));
       servers.forEach((s) => s.close());
     });`,
  ]).toString().trim();
}
const [db, gateway, app] = process.env.PACER_E2E_PORTS.split(",").map(Number);
const ports = { db, gateway, app };
const baseURL = `http://127.0.0.1:${ports.app}`;

// A fresh database per run. Workers load this file too; they inherit the folder instead of making another.
if (!process.env.PACER_E2E_DATA_DIR) {
  const dir = mkdtempSync(join(tmpdir(), "pacer-e2e-"));
  process.env.PACER_E2E_DATA_DIR = dir;
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
}

export default defineConfig({
  testDir: "e2e",
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: "list",
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.PLAYWRIGHT_CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: {
    // Node itself, not the tsx CLI: tsx relays a signal to its child and SIGKILLs it when the child does
    // not acknowledge within 60 ms, which would leave Postgres running (tests/local/dev-stop.test.ts).
    command: "node --import tsx local/dev.ts",
    env: {
      PACER_DATA_DIR: process.env.PACER_E2E_DATA_DIR,
      PACER_DB_PORT: String(ports.db),
      PACER_GATEWAY_PORT: String(ports.gateway),
      PACER_APP_PORT: String(ports.app),
      PACER_SANDBOX_PORT: "0",
      // A production build by default: quicker to click through than `next dev`, and closer to what users get.
      PACER_NEXT_MODE: process.env.PACER_NEXT_MODE ?? "start",
    },
    url: `${baseURL}/sign-in`,
    wait: { stdout: /Pacer is ready at/ },
    stdout: "pipe",
    timeout: 300_000,
    reuseExistingServer: false,
    // dev.ts stops Next (its own process group) and Postgres on SIGTERM; a SIGKILL would orphan them.
    gracefulShutdown: { signal: "SIGTERM", timeout: 20_000 },
  },
});
