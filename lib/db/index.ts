// Direct Postgres access for server code. Every query on a user's behalf runs as `authenticated`
// with that user's verified claims, so row level security applies exactly as through Supabase's API.
import postgres from "postgres";

// The server's own writes (webhooks, workers, credentials) run as pacer_worker, one statement at a time.
export { asWorker, boolean, integer, literal, timestamp } from "./worker";
import { literal } from "./worker";

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
  /** Set only when the request came with an API key (lib/api-keys): the key acts as `sub`, narrowed. */
  api_key?: ApiKeyClaim;
  [claim: string]: unknown;
}

/**
 * An API key request's claim. The database reads `id` and `scope` (private.my_workspace_ids and
 * has_role_on_workspace then answer only for the key's workspace and scope, migration 20261204000500).
 */
export interface ApiKeyClaim {
  id: string;
  workspace_id: string;
  scopes: ApiKeyScope[];
  /** The maker's role in the key's workspace when the key was checked. */
  role: "viewer" | "editor" | "admin" | "owner";
  /** The scope this request uses (its route's), set by withUser; without it the database grants nothing. */
  scope?: ApiKeyScope;
}

export type ApiKeyScope = "read" | "write" | "process";

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

/**
 * Run `fn` in one transaction as the `authenticated` role with the user's claims, like PostgREST does.
 * A key's read request runs READ ONLY: whatever a route does, Postgres itself refuses its writes.
 */
export function asUser<T>(claims: UserClaims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db().begin(claims.api_key?.scope === "read" ? "read only" : "", async (tx) => {
    // Sent now and not awaited, so it travels with fn's first statement and Postgres runs them in order:
    // one round trip fewer. With its value inlined rather than a parameter: with `prepare: false`
    // postgres.js first asks Postgres a parameterized statement's types (a round trip of its own) and
    // sends nothing else on the connection meanwhile. If it fails, fn's statements fail after it.
    const claimsSet = tx
      .unsafe(`select set_config('request.jwt.claims', ${literal(JSON.stringify(claims))}, true), set_config('role', 'authenticated', true)`)
      .execute();
    // If it fails, fn's first statement fails too and that error is the one thrown; this one must not
    // also surface as an unhandled rejection (it is still awaited below when fn succeeds).
    claimsSet.catch(() => {});
    const result = await fn(tx);
    await claimsSet;
    return result;
  }) as Promise<T>;
}

/**
 * Run one statement as the user (role `authenticated`, their claims) in one round trip and one
 * transaction of its own: the claims and the statement travel as one multi-statement query, which
 * Postgres commits on its own (so what it writes stays written whatever the caller does next). A
 * multi-statement query takes no parameters: inline values with `literal` and `integer`.
 */
export async function asUserStatement(claims: UserClaims, statement: string): Promise<Row[]> {
  const results = (await db().unsafe(
    `select set_config('request.jwt.claims', ${literal(JSON.stringify(claims))}, true), set_config('role', 'authenticated', true); ${statement}`,
  )) as unknown as Row[][];
  return results[1];
}
