// Starts a private local stack (embedded Postgres + gateway) for one test run, on free ports in a
// temporary folder, and hands its environment to every test file through process.env.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { startLocalStack } from "../../local/stack.ts";
import { freePort } from "./free-port.ts";

/** The sandbox platform's verification timings in the test database (public.platforms). */
const TEST_VERIFY = { marginMs: 200, confirmMs: 300 };

export default async function setup() {
  const dataDir = mkdtempSync(join(tmpdir(), "pacer-test-"));
  const stack = await startLocalStack({
    dataDir,
    dbPort: await freePort(),
    gatewayPort: await freePort(),
    sandboxPort: 0,
    scheduler: false,
    // Tests call the route handlers in-process with requests to this address, as if the app served it.
    appUrl: "http://127.0.0.1:3000",
    seed: true,
    // Test files start sandboxes of their own on free loopback ports: allow the loopback host on any port.
    allowedHosts: "127.0.0.1",
    log: (source, line) => {
      if (process.env.PACER_TEST_LOG) console.log(`[${source}] ${line}`);
    },
  });
  Object.assign(process.env, stack.env);
  // The local sandbox answers in milliseconds: verify on its clock, not a remote platform's (30 s).
  const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} });
  await sql`update public.platforms set verify_margin_ms = ${TEST_VERIFY.marginMs}, verify_confirm_ms = ${TEST_VERIFY.confirmMs} where id = 'sandbox'`;
  await sql.end();
  return async () => {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
