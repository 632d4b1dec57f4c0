// Applies supabase/migrations/*.sql in order with the Supabase CLI's ledger, after the compatibility
// step that recreates what a Supabase project provides (only where Supabase itself is absent).
import postgres from "postgres";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
export const MIGRATIONS_DIR = join(root, "supabase", "migrations");
const COMPAT_SQL = join(import.meta.dirname, "supabase-compat.sql");

export interface MigrationResult {
  compat: boolean;
  applied: string[];
  /** No migration had been applied before this run: the database is new. */
  fresh: boolean;
}

export async function migrate(
  url: string,
  opts: { log?: (line: string) => void; dir?: string } = {},
): Promise<MigrationResult> {
  const log = opts.log ?? (() => {});
  const sql = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
  try {
    const [{ supabase }] = await sql`select exists (select from pg_roles where rolname = 'supabase_admin') as supabase`;
    if (!supabase) await sql.unsafe(readFileSync(COMPAT_SQL, "utf8"));

    const done = new Set(
      (await sql`select version from supabase_migrations.schema_migrations`).map((r) => r.version as string),
    );
    const dir = opts.dir ?? MIGRATIONS_DIR;
    const files = readdirSync(dir).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
    const applied: string[] = [];
    for (const file of files) {
      const [, version, name] = file.match(/^(\d+)_(.+)\.sql$/)!;
      if (done.has(version)) continue;
      const text = readFileSync(join(dir, file), "utf8");
      await sql.begin(async (tx) => {
        await tx.unsafe(text);
        await tx`insert into supabase_migrations.schema_migrations (version, name, statements)
                 values (${version}, ${name}, ${[text]})`;
      });
      applied.push(file);
      log(`applied ${file}`);
    }
    return { compat: !supabase, applied, fresh: done.size === 0 };
  } finally {
    await sql.end();
  }
}

/** Run one SQL file in a transaction (seed data). */
export async function runSqlFile(url: string, file: string): Promise<void> {
  const sql = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
  try {
    await sql.begin((tx) => tx.unsafe(readFileSync(file, "utf8")));
  } finally {
    await sql.end();
  }
}
