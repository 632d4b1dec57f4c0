// The OpenAPI document: every route file's every method is in it (and nothing else), each says the
// bucket and API-key scope its route enforces, it is a valid OpenAPI 3.1 document, and
// GET /api/openapi.json serves it.
import { describe, expect, it } from "vitest";
import { Validator, type SpecData } from "@seriousme/openapi-schema-validator";
import { openApiDocument } from "@/lib/api/openapi";
import { KEY_SCOPE_OF_BUCKET } from "@/lib/api-keys";
import type { ApiBucket } from "@/lib/api/limits";
import * as openapiRoute from "@/app/api/openapi.json/route";
import { apiRoutes } from "./routes";

type Doc = { paths: Record<string, Record<string, Record<string, any>>> };
const doc = openApiDocument() as unknown as Doc;

describe("the OpenAPI document", () => {
  const routes = apiRoutes();

  it("finds the routes (the walk itself works)", () => {
    expect(routes.length).toBeGreaterThan(40);
    expect(routes).toContainEqual(expect.objectContaining({ path: "/api/accounts/{id}", method: "delete", wrapper: "withUser", bucket: "write" }));
    expect(routes).toContainEqual(expect.objectContaining({ path: "/api/keys", method: "post", wrapper: "withSession", bucket: "write" }));
    expect(routes).toContainEqual(expect.objectContaining({ path: "/api/health", method: "get", wrapper: null }));
  });

  it("describes every method of every route file under app/api", () => {
    const missing = routes.filter((r) => !doc.paths[r.path]?.[r.method]).map((r) => `${r.method.toUpperCase()} ${r.path} (${r.file})`);
    expect(missing).toEqual([]);
  });

  it("describes no operation that has no route", () => {
    const declared = new Set(routes.map((r) => `${r.method} ${r.path}`));
    const extra = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).filter((m) => !declared.has(`${m} ${path}`)).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(extra).toEqual([]);
  });

  it("says for each route the rate-limit bucket and the API-key scope its code enforces", () => {
    const wrong = routes.flatMap((r) => {
      const op = doc.paths[r.path]?.[r.method];
      if (!op) return [];
      const scope = r.wrapper === "withUser" ? KEY_SCOPE_OF_BUCKET[r.bucket as ApiBucket] : null;
      const said = { bucket: op["x-pacer-rate-limit"] ?? null, scope: op["x-pacer-scope"] };
      return said.bucket === r.bucket && said.scope === scope
        ? []
        : [`${r.method.toUpperCase()} ${r.path}: code ${JSON.stringify({ bucket: r.bucket, scope })}, document ${JSON.stringify(said)}`];
    });
    expect(wrong).toEqual([]);
  });

  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as unknown as SpecData);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("would be caught broken by the validator (the check can fail)", async () => {
    const broken = structuredClone(doc) as Doc;
    delete broken.paths["/api/queue/add"].post.responses;
    broken.paths["/api/queue/add"].post.parameters = [{ name: "x", in: "nowhere" }];
    expect((await new Validator().validate(broken as unknown as SpecData)).valid).toBe(false);
  });

  it("holds together: unique operation ids, declared path parameters, request schemas from zod, error replies", () => {
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    for (const [path, ops] of Object.entries(doc.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const op of Object.values(ops)) {
        const declared = (op.parameters ?? []).filter((p: any) => p.in === "path").map((p: any) => p.name);
        expect(declared, `${path}`).toEqual(names);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      }
    }
    // The add route's body is the zod schema the route parses: its fields and their limits.
    const add = doc.paths["/api/queue/add"].post.requestBody.content["application/json"].schema;
    expect(add.properties.text.maxLength).toBe(10_000);
    expect(add.required).toEqual(expect.arrayContaining(["text", "accountIds"]));
    expect(add.additionalProperties).toBe(false);
    const keys = doc.paths["/api/keys"].post;
    expect(keys.requestBody.content["application/json"].schema.properties.scopes.items.enum).toEqual(["read", "write", "process"]);
    expect(keys.security).not.toContainEqual({ apiKey: expect.anything() });
    expect(doc.paths["/api/queue/add"].post.security).toContainEqual({ apiKey: ["write"] });
    expect(doc.paths["/api/queue/add"].post.responses["403"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
  });

  it("is served at GET /api/openapi.json", async () => {
    const res = openapiRoute.GET();
    expect(res.status).toBe(200);
    const served = await res.json();
    expect(served.openapi).toBe("3.1.0");
    expect(Object.keys(served.paths)).toEqual(Object.keys(doc.paths));
  });
});
