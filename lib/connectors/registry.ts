// Which connector publishes to which platform, and which platforms the operator has switched on.
// The sandbox is always there; the real connectors (Mastodon, Bluesky, Upload-Post) are enabled by
// the operator's PACER_CONNECTORS and hidden otherwise, so an installation never offers a platform
// it has not configured.
import { createBlueskyConnector } from "./bluesky/index.ts";
import { createMastodonConnector } from "./mastodon/index.ts";
import { parseAllowedHosts } from "./outbound.ts";
import { createSandboxConnector } from "./sandbox.ts";
import { createUploadPostConnector } from "./upload-post.ts";
import type { Connector, ConnectorAccount } from "./types.ts";

/**
 * The environment the connectors read:
 * - PACER_CONNECTORS: the real connectors this installation offers, comma-separated, from
 *   `mastodon`, `bluesky`, `upload-post` (default: none, the sandbox only);
 * - PACER_SANDBOX_URL: the sandbox platform's address;
 * - PACER_ALLOWED_HOSTS: internal hosts connectors may reach anyway (`host` or `host:port`; the local
 *   fakes in development, empty in production);
 * - PACER_BLUESKY_APPVIEW_URL, PACER_BLUESKY_PLC_URL: Bluesky's public AppView and PLC directory
 *   (defaults: https://public.api.bsky.app, https://plc.directory);
 * - PACER_UPLOAD_POST_URL: Upload-Post's API (default https://api.upload-post.com);
 * - PACER_MASTODON_APP_NAME: the app name Pacer registers on each Mastodon instance (default "Pacer").
 */
export type ConnectorEnv = Record<string, string | undefined>;

export { REAL_CONNECTORS, UPLOAD_POST_PLATFORMS, connectorKind, postsThreads, type RealConnector } from "./capabilities.ts";
import { REAL_CONNECTORS, connectorKind, type RealConnector } from "./capabilities.ts";

/** The real connectors PACER_CONNECTORS enables; throws, naming the value, on one Pacer does not know. */
export function enabledConnectors(env: ConnectorEnv): Set<RealConnector> {
  const names = (env.PACER_CONNECTORS ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const name of names) {
    if (!(REAL_CONNECTORS as readonly string[]).includes(name)) {
      throw new Error(`PACER_CONNECTORS names "${name}", which Pacer does not know; use any of ${REAL_CONNECTORS.join(", ")}.`);
    }
  }
  return new Set(names as RealConnector[]);
}

/** Whether accounts on this platform may be connected and published to in this installation. */
export function platformEnabled(platform: string, env: ConnectorEnv): boolean {
  const kind = connectorKind(platform);
  return kind === "sandbox" || (kind !== null && enabledConnectors(env).has(kind));
}

/** What a caller gives the connectors that need to write back (lib/accounts/refreshed-credentials.ts). */
export interface ConnectorHooks {
  /**
   * Stores an account's credentials a connector rotated by itself (Bluesky's session refresh). Pass
   * the same function for the same database (credentialStore(sql) does): connectors are kept per
   * configuration and store, so their sessions and connections are reused across runs. Given the
   * account as the connector was (its credentials: what the refresh replaced, compared before storing).
   */
  storeCredentials?: (account: Pick<ConnectorAccount, "id" | "credentials">, credentials: Record<string, string>) => Promise<unknown>;
}

const connectors = new Map<string, Connector>();
/** Connectors that write back through a store, per store (a store's connectors go with it). */
const withStore = new WeakMap<NonNullable<ConnectorHooks["storeCredentials"]>, Map<string, Connector>>();

/** The connector for a platform; throws, naming the platform, when this installation cannot publish there. */
export function connectorFor(platform: string, env: ConnectorEnv, hooks: ConnectorHooks = {}): Connector {
  const kind = connectorKind(platform);
  if (kind === null) throw new Error(`Pacer has no connector for "${platform}".`);
  if (!platformEnabled(platform, env)) {
    throw new Error(`The ${kind} connector is not enabled in this installation (PACER_CONNECTORS); "${platform}" cannot be published to.`);
  }
  const allowed = env.PACER_ALLOWED_HOSTS ?? "";
  // One per kind and configuration, so connections (and Bluesky's sessions) are reused across calls.
  const key = [kind, allowed, env.PACER_SANDBOX_URL, env.PACER_BLUESKY_APPVIEW_URL, env.PACER_BLUESKY_PLC_URL,
    env.PACER_UPLOAD_POST_URL, env.PACER_MASTODON_APP_NAME].join(" ");
  // Only Bluesky rotates credentials by itself; the others are shared whatever the store.
  const store = kind === "bluesky" ? hooks.storeCredentials : undefined;
  let cache = connectors;
  if (store) {
    cache = withStore.get(store) ?? new Map();
    withStore.set(store, cache);
  }
  let connector = cache.get(key);
  if (!connector) {
    const allowedHosts = parseAllowedHosts(allowed);
    switch (kind) {
      case "sandbox":
        connector = createSandboxConnector({ baseUrl: env.PACER_SANDBOX_URL, allowedHosts });
        break;
      case "mastodon":
        connector = createMastodonConnector({ allowedHosts, appName: env.PACER_MASTODON_APP_NAME || undefined });
        break;
      case "bluesky":
        connector = createBlueskyConnector({
          allowedHosts,
          appviewUrl: env.PACER_BLUESKY_APPVIEW_URL || undefined,
          plcUrl: env.PACER_BLUESKY_PLC_URL || undefined,
          // Stored at once: the old refresh token dies 2 hours after a rotation. Without a store
          // (tests, a connect) the connector keeps the new session in memory only.
          ...(store ? { onSessionRefreshed: async (account: ConnectorAccount, credentials: Record<string, string>) => void (await store(account, credentials)) } : {}),
        });
        break;
      case "upload-post":
        connector = createUploadPostConnector({ allowedHosts, baseUrl: env.PACER_UPLOAD_POST_URL || undefined });
        break;
    }
    cache.set(key, connector);
  }
  return connector;
}
