// Which connector publishes to which platform. The sandbox is the only one so far; the others
// (Mastodon, Bluesky, Upload-Post) are added here as they are built.
import { parseAllowedHosts } from "./outbound.ts";
import { createSandboxConnector } from "./sandbox.ts";
import type { Connector } from "./types.ts";

/**
 * The environment the connectors read: PACER_SANDBOX_URL is the sandbox platform's address;
 * PACER_ALLOWED_HOSTS lists internal hosts connectors may reach anyway (`host` or `host:port`).
 */
export type ConnectorEnv = Record<string, string | undefined>;

const sandboxes = new Map<string, Connector>();

/** The connector for a platform; throws, naming the platform, when Pacer cannot publish there yet. */
export function connectorFor(platform: string, env: ConnectorEnv): Connector {
  if (platform === "sandbox") {
    const baseUrl = env.PACER_SANDBOX_URL;
    const allowed = env.PACER_ALLOWED_HOSTS ?? "";
    // One per configuration, so its connections are reused across calls.
    const key = `${baseUrl ?? ""} ${allowed}`;
    let connector = sandboxes.get(key);
    if (!connector) sandboxes.set(key, (connector = createSandboxConnector({ baseUrl, allowedHosts: parseAllowedHosts(allowed) })));
    return connector;
  }
  throw new Error(`Pacer has no connector for "${platform}" yet; only "sandbox" can be published to.`);
}
