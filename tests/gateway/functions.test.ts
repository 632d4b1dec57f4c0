// The local edge functions runner (Deno per function, offline npm imports) and the scheduler that
// stands in for pg_cron + pg_net, tested directly rather than through the gateway.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { createFunctionsRunner, type FunctionsRunner } from "../../local/gateway/functions.ts";
import { startScheduler } from "../../local/gateway/scheduler.ts";

const GATEWAY = "http://127.0.0.1:54321";
const suffix = Math.random().toString(36).slice(2, 8);

function writeFunction(dir: string, name: string, source: string) {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, "index.ts"), source);
}

describe("functions runner", () => {
  let dir: string;
  let runner: FunctionsRunner;
  const logs: string[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "pacer-functions-"));
    writeFunction(
      dir,
      "echo",
      `Deno.serve(async (req) => {
        const url = new URL(req.url);
        return Response.json({
          method: req.method,
          pathname: url.pathname,
          search: url.search,
          header: req.headers.get("x-pacer-test"),
          body: await req.text(),
          supabaseUrl: Deno.env.get("SUPABASE_URL"),
          pid: Deno.pid,
        }, { headers: { "x-from-function": "yes" } });
      });`,
    );
    // The (options, handler) overload, with a port of its own that the runner must override.
    writeFunction(dir, "options", `Deno.serve({ port: 9 }, () => new Response("v1"));`);
    // npm: resolves from the project's node_modules: nothing may be downloaded.
    writeFunction(
      dir,
      "db",
      `import postgres from "npm:postgres";
      const sql = postgres(Deno.env.get("SUPABASE_DB_URL")!, { prepare: false, max: 1 });
      Deno.serve(async () => Response.json((await sql\`select 1 as one\`)[0]));`,
    );
    writeFunction(dir, "boom", `throw new Error("kaboom at boot");\nDeno.serve(() => new Response("unreachable"));`);
    writeFunction(dir, "_shared", `export const shared = 1;`);

    runner = createFunctionsRunner({
      functionsDir: dir,
      // A dead registry: any attempt by Deno to download a package fails the npm test below.
      env: { SUPABASE_URL: GATEWAY, SUPABASE_DB_URL: process.env.SUPABASE_DB_URL!, NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/" },
      log: (line) => logs.push(line),
    });
  });

  afterAll(async () => {
    await runner?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (name: string, rest = "", init?: RequestInit) =>
    runner.fetch(new Request(`${GATEWAY}/functions/v1/${name}${rest}`, init), name);

  it("serves a Deno.serve function with the request as Supabase passes it", async () => {
    const res = await call("echo", "/items/7?x=1", {
      method: "POST",
      headers: { "x-pacer-test": "hello", "content-type": "text/plain" },
      body: "the body",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-from-function")).toBe("yes");
    expect(await res.json()).toMatchObject({
      method: "POST",
      pathname: "/echo/items/7",
      search: "?x=1",
      header: "hello",
      body: "the body",
      supabaseUrl: GATEWAY,
    });

    const bare = await (await call("echo")).json();
    expect(bare.pathname).toBe("/echo");
    expect(bare.method).toBe("GET");
  });

  it("imports npm packages offline from node_modules", async () => {
    const res = await call("db");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ one: 1 });
  });

  it("answers 404 for a function that does not exist", async () => {
    for (const name of ["nope", "_shared", "..", "Echo%2F"]) {
      const res = await call(name);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ code: "NOT_FOUND", message: "Requested function was not found" });
    }
  });

  it("answers 503 when a function fails to boot, with its error in the log", async () => {
    const res = await call("boom");
    expect(res.status).toBe(503);
    expect((await res.json()).code).toBe("BOOT_ERROR");
    expect(logs.some((l) => l.startsWith("[boom]") && l.includes("kaboom at boot"))).toBe(true);
  });

  it("restarts a function whose files changed", async () => {
    expect(await (await call("options")).text()).toBe("v1");
    await new Promise((r) => setTimeout(r, 50)); // so the edit is plainly newer than the process
    writeFileSync(join(dir, "options", "index.ts"), `Deno.serve({ port: 9 }, () => new Response("v2"));`);
    expect(await (await call("options")).text()).toBe("v2");
  });

  it("stop() ends every Deno process", async () => {
    const { pid } = await (await call("echo")).json();
    expect(() => process.kill(pid, 0)).not.toThrow();
    await runner.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    expect((await call("echo")).status).toBe(503);
  });
});

describe("scheduled functions", () => {
  let sql: postgres.Sql;
  const added: string[] = [];
  const notices: string[] = [];

  beforeAll(() => {
    sql = postgres(process.env.SUPABASE_DB_URL!, { max: 1, prepare: false, onnotice: (n) => notices.push(n.message) });
  });

  afterEach(async () => {
    for (const name of added.splice(0)) await sql`select private.unschedule_function(${name})`;
  });

  afterAll(async () => {
    await sql.end();
  });

  async function schedule(name: string, everySeconds: number, enabled = true) {
    added.push(name);
    await sql`select private.schedule_function(${name}, ${everySeconds}::int)`;
    if (!enabled) await sql`update private.scheduled_functions set enabled = false where function_name = ${name}`;
  }

  it("records a schedule on a Postgres without pg_cron, leaving it to the local scheduler", async () => {
    const name = `tick-${suffix}-plain`;
    await schedule(name, 30);
    const [row] = await sql`select every_seconds, enabled from private.scheduled_functions where function_name = ${name}`;
    expect(row).toEqual({ every_seconds: 30, enabled: true });
    expect(notices.some((n) => n.includes(name) && n.includes("local gateway"))).toBe(true);
    const [{ invokes }] = await sql`select private.database_invokes_scheduled_functions() as invokes`;
    expect(invokes).toBe(false);

    // Rescheduling updates the row; intervals pg_cron cannot express are refused everywhere.
    await schedule(name, 120);
    const [again] = await sql`select every_seconds from private.scheduled_functions where function_name = ${name}`;
    expect(again.every_seconds).toBe(120);
    await expect(sql`select private.schedule_function(${name}, 61)`).rejects.toThrow(/cannot be a pg_cron schedule/);
    await expect(sql`select private.schedule_function('Not_Valid', 5)`).rejects.toThrow(/check constraint/);
  });

  it("invokes enabled functions on their interval, never overlapping, and survives failures", async () => {
    const tick = `tick-${suffix}`;
    const off = `tick-${suffix}-off`;
    const slow = `tick-${suffix}-slow`;
    const failing = `tick-${suffix}-fail`;
    await schedule(tick, 1);
    await schedule(off, 1, false);
    await schedule(slow, 1);
    await schedule(failing, 1);

    const calls = new Map<string, number>();
    let slowRunning = 0;
    let slowMaxConcurrent = 0;
    const logs: string[] = [];
    const scheduler = startScheduler({
      dbUrl: process.env.SUPABASE_DB_URL!,
      tickMs: 100,
      log: (line) => logs.push(line),
      invoke: async (name) => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        if (name === failing) throw new Error("function unreachable");
        if (name === slow) {
          slowRunning++;
          slowMaxConcurrent = Math.max(slowMaxConcurrent, slowRunning);
          await new Promise((r) => setTimeout(r, 1_500));
          slowRunning--;
        }
        return new Response("ok");
      },
    });
    try {
      const deadline = Date.now() + 8_000;
      while (Date.now() < deadline && ((calls.get(tick) ?? 0) < 3 || (calls.get(slow) ?? 0) < 2)) {
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await scheduler.stop();
    }

    expect(calls.get(tick)).toBeGreaterThanOrEqual(3);
    expect(calls.get(failing)).toBeGreaterThanOrEqual(2);
    expect(calls.get(slow)).toBeGreaterThanOrEqual(2);
    expect(slowMaxConcurrent).toBe(1);
    expect(calls.has(off)).toBe(false);
    expect(logs.some((l) => l.includes(failing) && l.includes("function unreachable"))).toBe(true);
  });
});
