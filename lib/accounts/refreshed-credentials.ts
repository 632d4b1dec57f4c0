// Storing the credentials a connector rotated on its own (Bluesky refreshes its session, and the old
// refresh token dies two hours later): sealed by the server, written through the worker's
// least-privilege role. Runtime-agnostic, so Node workers, Next's "process now" and the Edge
// Functions (Deno) store them the same way.
import type postgres from "postgres";
import type { ConnectorAccount } from "../connectors/types.ts";
import { asWorker, literal } from "../db/worker.ts";
import { decryptCredentials, encryptCredentials } from "./credentials.ts";

/**
 * Stores an account's new credentials in place of the ones the refresh started from (`account.credentials`,
 * as the worker read them); resolves false when the account holds other credentials now (a reconnect,
 * or another worker's refresh, stored its own meanwhile) or none (disconnected), which are then kept.
 */
export type StoreCredentials = (account: Pick<ConnectorAccount, "id" | "credentials">, credentials: Record<string, string>) => Promise<boolean>;

const stores = new WeakMap<postgres.Sql, StoreCredentials>();

/**
 * The store for one database connection: the same function for the same connection, so the
 * connector registry (which keeps one connector per configuration and store) reuses its connectors.
 */
export function credentialStore(sql: postgres.Sql): StoreCredentials {
  let store = stores.get(sql);
  if (!store) {
    store = async (account, credentials) => {
      // Sealing is randomised, so the stored value is compared opened: the same session (its refresh
      // token) as the worker's. The write then replaces exactly that sealed value (compare and set).
      const [current] = await asWorker(sql, `select credentials_encrypted from private.account_credentials(${literal(account.id)}::uuid)`);
      const sealedBefore: string | null = current?.credentials_encrypted ?? null;
      if (!sealedBefore) return false;
      const before = await decryptCredentials(sealedBefore).catch(() => null);
      if (!before || before.refreshJwt !== account.credentials.refreshJwt) return false;
      const sealed = await encryptCredentials(credentials);
      const [row] = await asWorker(
        sql,
        `select private.store_refreshed_credentials(${literal(account.id)}::uuid, ${literal(sealed)}, ${literal(sealedBefore)}) as stored`,
      );
      return row.stored === true;
    };
    stores.set(sql, store);
  }
  return store;
}
