// Which connector publishes to which platform. The sandbox is the only one so far; the others
// (Mastodon, Bluesky, Upload-Post) are added here as they are built.
import { createSandboxConnector } from "./sandbox.ts";
import type { Connector } from "./types.ts";

/** The environment the connectors read: PACER_SANDBOX_URL is the sandbox platform's address. */
export type ConnectorEnv = Record<string, string | undefined>;

const sandboxes = new Map<string, Connector>();

/** The connector for a platform; throws, naming the platform, when Pacer cannot publish there yet. */
export function connectorFor(platform: string, env: ConnectorEnv): Connector {
  if (platform === "sandbox") {
    const baseUrl = env.PACER_SANDBOX_URL;
    // One per URL, so the tokens it registers are reused across calls.
    let connector = sandboxes.get(baseUrl ?? "");
    if (!connector) sandboxes.set(baseUrl ?? "", (connector = createSandboxConnector({ baseUrl })));
    return connector;
  }
  throw new Error(`Pacer has no connector for "${platform}" yet; only "sandbox" can be published to.`);
}
