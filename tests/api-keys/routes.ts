// Every route under app/api as its files declare it: path, methods, and for withUser/withSession
// routes the rate-limit bucket (which decides the scope an API key needs). Read from the source, so a
// new route is found without anyone listing it.
import { readFileSync, readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";

export interface RouteMethod {
  /** The file under app/api, e.g. app/api/accounts/[id]/route.ts. */
  file: string;
  /** OpenAPI's form, e.g. /api/accounts/{id}. */
  path: string;
  method: "get" | "post" | "put" | "patch" | "delete";
  /** withUser: keys with the bucket's scope may call it; withSession: people only; null: neither (public, webhook, redirect). */
  wrapper: "withUser" | "withSession" | null;
  bucket: string | null;
}

const ROOT = join(process.cwd(), "app", "api");

function routeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? routeFiles(join(dir, e.name)) : e.name === "route.ts" ? [join(dir, e.name)] : [],
  );
}

export function apiRoutes(): RouteMethod[] {
  return routeFiles(ROOT).flatMap((file) => {
    const source = readFileSync(file, "utf8");
    const dir = relative(join(process.cwd(), "app"), file).split(sep).slice(0, -1);
    const path = "/" + dir.map((s) => s.replace(/^\[(\w+)\]$/, "{$1}")).join("/");
    return [...source.matchAll(/^export\s+(?:const\s+(GET|POST|PUT|PATCH|DELETE)\s*=\s*([^\n]*)|(?:async\s+)?function\s+(GET|POST|PUT|PATCH|DELETE)\b)/gm)].map((m) => {
      const wrapped = m[2]?.match(/^(withUser|withSession)(?:<[^>]*>)?\(\s*"(\w+)"/);
      return {
        file: relative(process.cwd(), file),
        path,
        method: (m[1] ?? m[3]).toLowerCase() as RouteMethod["method"],
        wrapper: (wrapped?.[1] as RouteMethod["wrapper"]) ?? null,
        bucket: wrapped?.[2] ?? null,
      };
    });
  });
}
