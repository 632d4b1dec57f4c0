// Direct Postgres access for server code. Every query on a user's behalf runs as `authenticated`
// with that user's verified claims, so row level security applies exactly as through Supabase's API.
import postgres from "postgres";

// The server's own writes (webhooks, workers, credentials) run as pacer_worker, one statement at a time.
export { asWorker, boolean, integer, literal, timestamp } from "./worker";

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;
/** A row as postgres.js returns it: column name to value. */
export type Row = postgres.Row;

/** The verified JWT claims of the user a request acts for (from getClaims()). */
export interface UserClaims {
  sub: string;
  role: string;
  email?: string;
  session_id?: string;
  [claim: string]: unknown;
}

let pool: Sql | undefined;

/** One pool per server process. `prepare: false` keeps it usable through Supabase's transaction pooler. */
export function db(): Sql {
  if (!pool) {
    const url = process.env.SUPABASE_DB_URL;
    if (!url) throw new Error("SUPABASE_DB_URL is not set: point it at the project's Postgres (see README).");
    pool = postgres(url, { prepare: false, max: Number(process.env.PACER_DB_POOL_SIZE ?? 10), onnotice: () => {} });
  }
  return pool;
}

/** Run `fn` in one transaction as the `authenticated` role with the user's claims, like PostgREST does. */
export function asUser<T>(claims: UserClaims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db().begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
                    set_config('role', 'authenticated', true)`;
    return fn(tx);
  }) as Promise<T>;
}
