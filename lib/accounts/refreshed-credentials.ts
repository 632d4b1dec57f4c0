// Storing the credentials a connector rotated on its own (Bluesky refreshes its session, and the old
// refresh token dies two hours later): sealed by the server, written through the worker's
// least-privilege role. Runtime-agnostic, so Node workers, Next's "process now" and the Edge
// Functions (Deno) store them the same way.
import type postgres from "postgres";
import type { ConnectorAccount } from "../connectors/types.ts";
import { asWorker, literal } from "../db/worker.ts";
import { encryptCredentials } from "./credentials.ts";

/** Stores an account's new credentials in place of its old ones; resolves false when the account has none any more (disconnected). */
export type StoreCredentials = (account: Pick<ConnectorAccount, "id">, credentials: Record<string, string>) => Promise<boolean>;

const stores = new WeakMap<postgres.Sql, StoreCredentials>();

/**
 * The store for one database connection: the same function for the same connection, so the
 * connector registry (which keeps one connector per configuration and store) reuses its connectors.
 */
export function credentialStore(sql: postgres.Sql): StoreCredentials {
  let store = stores.get(sql);
  if (!store) {
    store = async (account, credentials) => {
      const sealed = await encryptCredentials(credentials);
      const [row] = await asWorker(sql, `select private.store_refreshed_credentials(${literal(account.id)}::uuid, ${literal(sealed)}) as stored`);
      return row.stored === true;
    };
    stores.set(sql, store);
  }
  return store;
}
