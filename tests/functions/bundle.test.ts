// Every Edge Function must bundle the way `supabase functions deploy` bundles it. The CLI reads the
// function's own deno.json as its import map, walks the relative imports it can find from
// index.ts (a regular expression over the source, not a parser) and uploads those files with the
// import map; the bundler then resolves each import with that map alone: no node_modules and no
// package.json (the CLI's Docker bundler even sets DENO_NO_PACKAGE_JSON). So, per function, this
// copies exactly what the CLI would upload into an empty folder and asks Deno for the module
// graph: any import that does not resolve there (a bare `postgres`, even type-only; a file the
// walk missed) fails the test. npm packages are not downloaded (--no-npm): each must be pinned to
// the version package-lock.json installs, so the deployed function runs what the tests ran.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(import.meta.dirname, "..", "..");
const FUNCTIONS = join(ROOT, "supabase", "functions");
const DENO = join(dirname(createRequire(import.meta.url).resolve("deno/package.json")), process.platform === "win32" ? "deno.exe" : "deno");
const LOCK = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> };

/** The functions the CLI deploys: folders with an index.ts (`_shared` and dot folders are not functions). */
const functions = readdirSync(FUNCTIONS, { withFileTypes: true })
  .filter((e) => e.isDirectory() && /^[A-Za-z][A-Za-z0-9_-]*$/.test(e.name) && existsSync(join(FUNCTIONS, e.name, "index.ts")))
  .map((e) => e.name);

/** The function's import map as the CLI finds it (config.toml's import_map aside): its own deno.json or deno.jsonc. */
function importMapOf(name: string): string | null {
  for (const file of ["deno.json", "deno.jsonc"]) if (existsSync(join(FUNCTIONS, name, file))) return join(FUNCTIONS, name, file);
  return null;
}

// The Supabase CLI's own pattern (internal/functions/deploy/upload.go; the TypeScript port adds
// an optional `type`): what it does not match is not uploaded.
const IMPORT_PATH = /(?:import|export)\s+(?:{[^{}]+}|.*?)\s*(?:from)?\s*['"](.*?)['"]|import\(\s*['"](.*?)['"]\)/gi;

/** The files the CLI uploads for a function, relative to the project root: the import map and every relative import it walks. */
function uploadedFiles(entry: string, importMap: Record<string, string>): string[] {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const current = queue.pop()!;
    if (seen.has(current) || !existsSync(join(ROOT, current))) continue;
    seen.add(current);
    for (const match of readFileSync(join(ROOT, current), "utf8").matchAll(IMPORT_PATH)) {
      let specifier = (match[1] || match[2] || "").trim();
      for (const [key, value] of Object.entries(importMap)) if (specifier.startsWith(key)) specifier = value + specifier.slice(key.length);
      if (!specifier.startsWith("./") && !specifier.startsWith("../")) continue; // npm:, node:, bare: the bundler's business
      if (posix.extname(specifier)) queue.push(posix.join(posix.dirname(current), specifier));
    }
  }
  return [...seen];
}

/** Deno's environment: a DENO_DIR of its own (nothing cached earlier can stand in for a missing file), no package.json. */
function denoEnv(dir: string): Record<string, string> {
  const env: Record<string, string> = { DENO_DIR: join(dir, ".deno"), DENO_NO_PACKAGE_JSON: "1", DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
  for (const key of ["PATH", "HOME", "TMPDIR"]) if (process.env[key] !== undefined) env[key] = process.env[key]!;
  return env;
}

interface Resolution {
  specifier: string;
  error?: string;
}
interface GraphModule {
  specifier: string;
  error?: string;
  dependencies?: Array<{ specifier: string; code?: Resolution; type?: Resolution }>;
}

/** What does not resolve in the function's module graph, as the bundler would see it. */
function unresolved(name: string): string[] {
  const mapPath = importMapOf(name);
  const mapFile = mapPath && relative(ROOT, mapPath).split("\\").join("/");
  const imports: Record<string, string> = mapPath ? (JSON.parse(readFileSync(mapPath, "utf8")).imports ?? {}) : {};
  const entry = `supabase/functions/${name}/index.ts`;
  const dir = mkdtempSync(join(tmpdir(), `pacer-bundle-${name}-`));
  try {
    for (const file of [...uploadedFiles(entry, imports), ...(mapFile ? [mapFile] : [])]) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      copyFileSync(join(ROOT, file), join(dir, file));
    }
    const info = execFileSync(
      DENO,
      ["info", "--json", "--no-remote", "--no-npm", "--no-lock", ...(mapFile ? ["--config", mapFile] : ["--no-config"]), entry],
      {
        cwd: dir,
        encoding: "utf8",
        env: denoEnv(dir) as NodeJS.ProcessEnv,
      },
    );
    const graph = JSON.parse(info) as { modules: GraphModule[] };
    const problems: string[] = [];
    const where = (specifier: string) => (specifier.startsWith("file:") ? relative(dir, fileURLToPath(specifier)) : specifier);
    for (const mod of graph.modules) {
      for (const dep of mod.dependencies ?? []) {
        for (const [kind, resolution] of [["import", dep.code], ["type import", dep.type]] as const) {
          if (!resolution?.error) continue;
          const bare = !/^[a-z]+:|^\.{0,2}\//.test(dep.specifier);
          const hint = bare ? ` (map it in ${mapFile ?? `supabase/functions/${name}/deno.json`}: "imports": { "${dep.specifier}": "npm:${dep.specifier}@<version>" })` : "";
          problems.push(`${where(mod.specifier)}: ${kind} "${dep.specifier}" does not resolve: ${resolution.error}${hint}`);
        }
      }
      if (mod.specifier.startsWith("npm:")) {
        const [, pkg, version] = /^npm:(@?[^@/]+(?:\/[^@/]+)?)(?:@([^/]+))?/.exec(mod.specifier) ?? [];
        const installed = LOCK.packages[`node_modules/${pkg}`]?.version;
        if (!installed || version !== installed) {
          problems.push(`${mod.specifier}: pin it to the version package-lock.json installs (npm:${pkg}@${installed ?? "?"}) in ${mapFile ?? `supabase/functions/${name}/deno.json`}`);
        }
      } else if (mod.error) {
        const missed = mod.specifier.startsWith("file:") && existsSync(join(ROOT, where(mod.specifier)));
        problems.push(`${where(mod.specifier)}: ${mod.error}${missed ? " (the CLI's import walk does not find it: write that import on one line, `import … from \"./file.ts\"`)" : ""}`);
      }
    }
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("Edge Function bundles", () => {
  it("finds the functions to check", () => {
    expect(functions).toContain("process-queue");
  });

  it.each(functions)("%s: every import resolves from what the CLI uploads, without node_modules", (name) => {
    expect(unresolved(name)).toEqual([]);
  });
});
