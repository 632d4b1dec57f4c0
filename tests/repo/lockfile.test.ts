// A fresh clone's `npm install` must leave package-lock.json as committed (issue 13): npm rewrites a
// lock that lacks an entry for any optional dependency — another platform's binary such as
// @deno/darwin-arm64 — so every optional dependency of every locked package must be locked too.
// (CI installs with `npm ci`, which fails on a lock that does not match package.json.)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";

interface Locked {
  optionalDependencies?: Record<string, string>;
}

it("locks every optional dependency, for every platform", () => {
  const lock = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "package-lock.json"), "utf8")) as { packages: Record<string, Locked> };
  const missing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const dependency of Object.keys(entry.optionalDependencies ?? {})) {
      // Node's resolution: the package's own node_modules, then each enclosing one, up to the root.
      let base = path;
      let found = false;
      for (;;) {
        if (`${base ? `${base}/` : ""}node_modules/${dependency}` in lock.packages) {
          found = true;
          break;
        }
        if (!base) break;
        const up = base.lastIndexOf("/node_modules/");
        base = up >= 0 ? base.slice(0, up) : "";
      }
      if (!found) missing.push(`${path || "(root)"} → ${dependency}`);
    }
  }
  expect(missing).toEqual([]);
});
