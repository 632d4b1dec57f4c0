// One statement as Pacer's least-privilege background role, in one round trip. Runtime-agnostic
// (postgres.js in Node and in the Deno Edge Function), so it takes the connection as an argument.
import type postgres from "postgres";

/**
 * Run `statement` as `pacer_worker` in one round trip: `set local role` and the statement travel as
 * one multi-statement query, which Postgres runs as one implicit transaction (so the role ends with
 * it, as a transaction pooler needs). Unlike `sql.begin`, a single query survives a connection that
 * drops mid-way as a plain rejection: postgres.js 3.4 crashes the process from a rollback written
 * to a closed socket (porsager/postgres#1066, #1154). A multi-statement query takes no parameters,
 * so values are inlined with `literal`, `integer`, `timestamp` and `boolean`.
 */
export async function asWorker(sql: postgres.Sql, statement: string): Promise<postgres.Row[]> {
  const results = (await sql.unsafe(`set local role pacer_worker; ${statement}`)) as unknown as postgres.Row[][];
  return results[1];
}

/** A dollar-quoted literal whose tag cannot occur in the value, whatever the value holds; null stays SQL null. */
export function literal(value: string | null): string {
  if (value === null) return "null";
  let tag = "$pacer$";
  while (value.includes(tag)) tag = `$pacer${Math.random().toString(36).slice(2, 8)}$`;
  return `${tag}${value}${tag}`;
}

export function integer(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`expected an integer, got ${value}`);
  return String(value);
}

/** A timestamptz literal (ISO 8601, UTC); null stays SQL null. */
export function timestamp(value: Date | null): string {
  if (value === null) return "null";
  if (Number.isNaN(value.getTime())) throw new Error("expected a valid date, got an invalid one");
  return `'${value.toISOString()}'::timestamptz`;
}

export function boolean(value: boolean): string {
  return value ? "true" : "false";
}
