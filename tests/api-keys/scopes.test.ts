// Scope enforcement on every route, table-driven over the route files themselves (tests/api-keys/routes.ts):
// a key without the scope a route's bucket needs gets 403 insufficient_scope, a people-only route
// (withSession, or the billing bucket) gets 403 session_required whatever the key's scopes, and a key
// with the right scope gets through the edge (its answer is the route's own: 200, 400 for the empty
// body, 404 for a made-up id — never 401, a scope refusal, or a 500 from its READ ONLY transaction).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { KEY_SCOPE_OF_BUCKET } from "@/lib/api-keys";
import type { ApiBucket } from "@/lib/api/limits";
import * as keysRoute from "@/app/api/keys/route";
import { connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";
import { apiRoutes, type RouteMethod } from "./routes";

type Handler = (req: Request, ctx: any) => Promise<Response>;
const SCOPES = ["read", "write", "process"] as const;

let sql: Sql;
let owner: TestUser;
const keys: Record<(typeof SCOPES)[number], string> = { read: "", write: "", process: "" };

beforeAll(async () => {
  sql = connect();
  owner = await signUp("scopes-owner");
  for (const scope of SCOPES) {
    const res = await keysRoute.POST(
      new Request("http://127.0.0.1:3000/api/keys", {
        method: "POST",
        headers: { authorization: `Bearer ${owner.accessToken}`, "content-type": "application/json" },
        body: JSON.stringify({ name: `${scope} only`, scopes: [scope] }),
      }),
      { params: Promise.resolve({}) },
    );
    keys[scope] = (await res.json()).secret;
  }
});
afterAll(() => sql.end());

/** Values for path parameters that pass no route's check for an existing thing. */
const PARAM_VALUES: Record<string, string> = { id: randomUUID(), postId: randomUUID(), userId: randomUUID(), ruleId: "no_such_rule" };

async function callWith(route: RouteMethod, token: string) {
  const routeModule = (await import(/* @vite-ignore */ join(process.cwd(), route.file))) as Record<string, Handler>;
  const handler = routeModule[route.method.toUpperCase()];
  const params = Object.fromEntries([...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name, PARAM_VALUES[name]]));
  const url = `http://127.0.0.1:3000${route.path.replace(/\{(\w+)\}/g, (_m, name: string) => PARAM_VALUES[name])}`;
  const hasBody = route.method !== "get";
  const res = await handler(
    new Request(url, {
      method: route.method.toUpperCase(),
      headers: { authorization: `Bearer ${token}`, ...(hasBody ? { "content-type": "application/json" } : {}) },
      body: hasBody ? "{}" : undefined,
    }),
    { params: Promise.resolve(params) },
  );
  const text = await res.text();
  let code: string | null = null;
  try {
    code = JSON.parse(text)?.error?.code ?? null;
  } catch {
    // not JSON (a redirect, an empty 204)
  }
  return { status: res.status, code, text };
}

const guarded = apiRoutes().filter((r) => r.wrapper !== null);
const label = (r: RouteMethod) => `${r.method.toUpperCase()} ${r.path}`;

describe("API key scopes on every route", () => {
  it("covers the routes (the table is not empty)", () => {
    expect(guarded.length).toBeGreaterThan(40);
  });

  it.each(guarded.map((r) => [label(r), r] as const))("%s", async (_label, route) => {
    const needed = route.wrapper === "withSession" ? null : KEY_SCOPE_OF_BUCKET[route.bucket as ApiBucket];
    for (const scope of SCOPES) {
      const res = await callWith(route, keys[scope]);
      if (needed === null) {
        expect(res, `${scope} key`).toMatchObject({ status: 403, code: "session_required" });
      } else if (scope !== needed) {
        expect(res, `${scope} key`).toMatchObject({ status: 403, code: "insufficient_scope" });
      } else {
        expect(res.status, `${scope} key: ${res.text.slice(0, 300)}`).not.toBe(401);
        expect(res.status, `${scope} key: ${res.text.slice(0, 300)}`).toBeLessThan(500);
        expect(["insufficient_scope", "session_required", "api_key_role"]).not.toContain(res.code);
        if (process.env.PACER_TEST_LOG) console.log(label(route), scope, res.status, res.code);
      }
    }
  });

  it("gives the same routes to a person's session (the control: the refusals above are the key's)", async () => {
    const route = guarded.find((r) => r.path === "/api/keys" && r.method === "get")!;
    expect((await callWith(route, owner.accessToken)).status).toBe(200);
  });
});
