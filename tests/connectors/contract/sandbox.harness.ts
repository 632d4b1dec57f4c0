// The sandbox platform (local/sandbox) as the connector contract suite drives it: accounts made by the
// connector's own connect flow, the sandbox's record of posts, and its one-shot faults.
import { randomUUID } from "node:crypto";
import { startSandbox } from "../../../local/sandbox/index.ts";
import { createSandboxConnector } from "../../../lib/connectors/sandbox.ts";
import type { ConnectorAccount } from "../../../lib/connectors/types.ts";
import type { HarnessInstance, PlatformHarness } from "./harness.ts";

/** The sandbox's own text limit (local/sandbox/routes.ts postInput). */
const SANDBOX_TEXT_LIMIT = 10_000;

export const sandboxHarness: PlatformHarness = {
  platform: "sandbox",
  async start(): Promise<HarnessInstance> {
    const sandbox = await startSandbox({ port: 0, seed: 5 });
    const network = sandbox.network;
    const connector = createSandboxConnector({ baseUrl: sandbox.url, allowedHosts: [new URL(sandbox.url).host] });
    const held = (account: ConnectorAccount) => {
      const own = network.accounts.get(account.handle);
      if (!own) throw new Error(`The sandbox has no @${account.handle}.`);
      return own;
    };
    return {
      connector,
      textLimit: SANDBOX_TEXT_LIMIT,
      async account() {
        const handle = `contract_${randomUUID().slice(0, 8)}`;
        const connection = await connector.connect({ handle, credentials: {} }, { signal: AbortSignal.timeout(5_000) });
        if (connection.kind !== "connected") throw new Error(`could not connect @${handle}: ${JSON.stringify(connection)}`);
        return { id: randomUUID(), platform: "sandbox", handle, credentials: connection.credentials };
      },
      async posts(account) {
        return held(account).posts.map((p) => ({ externalId: p.id, text: p.text, inReplyTo: null, destination: p.destination }));
      },
      async setMetrics(account, { followers, engagement, reach }) {
        Object.assign(held(account).metrics, { followers, engagement, ...(reach !== undefined ? { reach } : {}) });
      },
      faults: {
        dropAnswerAfterCommit: (account) => network.setNextFault(account.handle, { kind: "reset_after_commit" }),
        rateLimitNext: (account, resetInMs) => network.setNextFault(account.handle, { kind: "rate_limited", retryAfterMs: resetInMs }),
        expireToken: (account) => void (held(account).tokenExpired = true),
        restrict: (account) => void (held(account).restricted = true),
        failNext: (account, status) => network.setNextFault(account.handle, { kind: "error_before_commit", status }),
        rejectDestination: (account) => network.setFaults(account.handle, { ...network.faultsFor(account.handle), destination_rejected: 1 }),
      },
      stop: () => sandbox.stop(),
    };
  },
};
