// docs/schema/*.sql are where a reader finds each function's, table's and policy's current definition
// (migrations stay immutable, so a function redefined five times is in five files there). They are
// generated; this fails, naming the objects, while they differ from what the migrations make here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SCHEMA_DIR, schemaFiles } from "../../local/schema-files.ts";
import { connect, type Sql } from "../support/db";

let sql: Sql;
beforeAll(() => {
  sql = connect(1);
});
afterAll(() => sql.end());

describe("docs/schema", () => {
  it("holds the current definition of every function, table, policy and view the migrations make (else run `npm run schema:dump`)", async () => {
    const stale: string[] = [];
    for (const [name, { blocks, text }] of Object.entries(await schemaFiles(sql))) {
      const path = join(SCHEMA_DIR, name);
      const committed = existsSync(path) ? readFileSync(path, "utf8") : "";
      if (committed === text) continue;
      // Name what changed: each object's block as it is now, or else the file has objects the schema no longer has.
      const differing = blocks.filter((b) => !committed.includes(b.text)).map((b) => `${name}: ${b.name}`);
      stale.push(...(differing.length ? differing : [`${name}: holds objects the migrations no longer make, or is out of order`]));
    }
    expect(stale, "docs/schema is stale: run `npm run schema:dump` and commit the result").toEqual([]);
  });
});
