// Which ways of connecting an account this installation offers, for the accounts page and the API:
// one per connector the operator enabled (PACER_CONNECTORS), the sandbox always.
import { enabledConnectors, REAL_CONNECTORS, type RealConnector } from "@/lib/connectors/registry";

export type ConnectionKind = "sandbox" | RealConnector;

export function offeredConnections(env: Record<string, string | undefined> = process.env): ConnectionKind[] {
  const enabled = enabledConnectors(env);
  return ["sandbox", ...REAL_CONNECTORS.filter((c) => enabled.has(c))];
}
