// A private Postgres for one test file, in a temporary folder on a free port: the chaos tests restart
// it, cut its connections and run workers that claim everything due in it, so it is nobody else's.
import postgres from "postgres";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres, type LocalPostgres } from "../../local/postgres.ts";
import { migrate } from "../../local/migrate.ts";
import { freePort } from "../setup/free-port.ts";

export interface PrivateDatabase {
  url: string;
  sql: postgres.Sql;
  /** Stops Postgres, waits `downMs`, and starts it again on the same port and data. */
  restart(downMs: number): Promise<void>;
  /** Closes the pool, stops Postgres and removes its data. */
  stop(): Promise<void>;
}

export async function startPrivateDatabase(label: string, poolSize = 4): Promise<PrivateDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), `pacer-${label}-`));
  const options = { dataDir: join(dataDir, "postgres"), port: await freePort() };
  let pg: LocalPostgres = await startEmbeddedPostgres(options);
  await migrate(pg.url);
  const sql = postgres(pg.url, { max: poolSize, prepare: false, onnotice: () => {} });
  return {
    url: pg.url,
    sql,
    async restart(downMs) {
      await pg.stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      pg = await startEmbeddedPostgres(options);
    },
    async stop() {
      await sql.end({ timeout: 5 });
      await pg.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A user as Supabase Auth would insert it; the sign-up trigger gives them a workspace, here on `plan`. */
export async function makeWorkspace(sql: postgres.Sql, label: string, plan = "ultra"): Promise<{ workspaceId: string; ownerId: string }> {
  const id = crypto.randomUUID();
  await sql`insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
            values (${id}, 'authenticated', 'authenticated', ${`${label}-${id.slice(0, 8)}@example.test`}, '{}', '{}', now(), now())`;
  const [ws] = await sql`select workspace_id from public.workspace_members where user_id = ${id}`;
  await sql`update public.workspaces set plan_id = ${plan} where id = ${ws.workspace_id}`;
  return { workspaceId: ws.workspace_id as string, ownerId: id };
}

/** Run `fn` in a transaction as this user (role authenticated with their claims), as the API does. */
export function asOwner<T>(sql: postgres.Sql, userId: string, fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: "authenticated" })}, true),
                    set_config('role', 'authenticated', true)`;
    return fn(tx);
  }) as Promise<T>;
}
