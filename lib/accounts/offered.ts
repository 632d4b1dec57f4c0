// Which ways of connecting an account this installation offers, for the accounts page and the API:
// one per connector the operator enabled (PACER_CONNECTORS), the sandbox always.
import { platformEnabled, UPLOAD_POST_PLATFORMS } from "@/lib/connectors/registry";

export type ConnectionKind = "sandbox" | "mastodon" | "bluesky" | "upload-post";

export function offeredConnections(env: Record<string, string | undefined> = process.env): ConnectionKind[] {
  const offered: ConnectionKind[] = ["sandbox"];
  if (platformEnabled("mastodon", env)) offered.push("mastodon");
  if (platformEnabled("bluesky", env)) offered.push("bluesky");
  if (platformEnabled(UPLOAD_POST_PLATFORMS[0], env)) offered.push("upload-post");
  return offered;
}
