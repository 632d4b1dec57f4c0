// `npm run schema:dump`: migrates a private, throwaway Postgres with supabase/migrations and writes
// docs/schema/*.sql from it (local/schema-files.ts): each function's, table's and policy's current
// definition in one findable place. Run it after adding a migration; the test suite fails until then.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { startEmbeddedPostgres } from "../local/postgres.ts";
import { migrate } from "../local/migrate.ts";
import { SCHEMA_DIR, schemaFiles } from "../local/schema-files.ts";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function main() {
  const folder = mkdtempSync(join(tmpdir(), "pacer-schema-"));
  const pg = await startEmbeddedPostgres({ dataDir: join(folder, "postgres"), port: await freePort(), persistent: false });
  try {
    const { applied } = await migrate(pg.url);
    const sql = postgres(pg.url, { max: 1, prepare: false, onnotice: () => {} });
    try {
      const files = await schemaFiles(sql);
      mkdirSync(SCHEMA_DIR, { recursive: true });
      for (const [name, { text }] of Object.entries(files)) writeFileSync(join(SCHEMA_DIR, name), text);
      console.log(`Wrote ${Object.keys(files).map((f) => `docs/schema/${f}`).join(" and ")} from ${applied.length} migrations.`);
    } finally {
      await sql.end();
    }
  } finally {
    await pg.stop();
    rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
