// Direct database access for tests: the superuser pool, users made straight in auth.users, and
// transactions run as a signed-in user (role authenticated + claims), exactly as the server does.
import postgres from "postgres";
import { randomUUID } from "node:crypto";

export type Sql = postgres.Sql;

export function connect(max = 4): Sql {
  return postgres(process.env.SUPABASE_DB_URL!, { max, prepare: false, onnotice: () => {} });
}

/** A user as Supabase Auth would insert it; the sign-up trigger gives them a personal workspace. */
export async function makeUser(sql: Sql, label = "user") {
  const id = randomUUID();
  const email = `${label}-${id.slice(0, 8)}@example.test`;
  await sql`insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
            values (${id}, 'authenticated', 'authenticated', ${email}, '{}', '{}', now(), now())`;
  const [ws] = await sql`select workspace_id from public.workspace_members where user_id = ${id}`;
  return { id, email, workspaceId: ws.workspace_id as string };
}

/** Run `fn` inside a transaction as `authenticated` with this user's claims, then roll it back. */
export async function asUser<T>(sql: Sql, userId: string, fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  let result!: T;
  await sql
    .begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: "authenticated" })}, true),
                      set_config('role', 'authenticated', true)`;
      result = await fn(tx);
      throw new Rollback();
    })
    .catch((e) => {
      if (!(e instanceof Rollback)) throw e;
    });
  return result;
}

class Rollback extends Error {}

/** Add `n` sandbox accounts to a workspace as the superuser (skips RLS, not the tier trigger). */
export async function addAccounts(sql: Sql, workspaceId: string, n: number, prefix = "acct") {
  for (let i = 0; i < n; i++) {
    await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name)
              values (${workspaceId}, 'sandbox', ${`${prefix}_${i}_${randomUUID().slice(0, 6)}`}, ${`Account ${i}`})`;
  }
}

/** Run `fn` in a savepoint and return the error it raised (or null), leaving the transaction usable. */
export async function errorOf(tx: postgres.TransactionSql, fn: (sp: postgres.TransactionSql) => Promise<unknown>) {
  try {
    await tx.savepoint(fn);
    return null;
  } catch (error) {
    return error as { message: string; code?: string; detail?: string; hint?: string };
  }
}
