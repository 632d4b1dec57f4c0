// Ending an account's session on its platform when Pacer lets go of its credentials (the account is
// removed, or reconnected with new ones): Mastodon's token is revoked, Bluesky's session deleted.
// Best effort: Pacer forgets its copy whether or not the platform could be reached.
import { createMastodonOAuth } from "@/lib/connectors/mastodon/oauth";
import type { BlueskyConnector } from "@/lib/connectors/bluesky/index";
import { connectorFor } from "@/lib/connectors/registry";

/** How long a removal waits on the platform before giving up on ending the session. */
const END_SESSION_TIMEOUT_MS = 5_000;

export type SessionEnd = "ended" | "kept" | "failed";

/**
 * `shared`: another Pacer account is the same identity on the platform. Mastodon hands the same
 * token to every sign-in of one user through one app (reuse_access_token), so revoking it would
 * disconnect that account too: the token is kept then.
 */
export async function endPlatformSession(
  platform: string,
  handle: string,
  credentials: Record<string, string>,
  opts: { id: string; shared: boolean },
): Promise<SessionEnd> {
  const signal = AbortSignal.timeout(END_SESSION_TIMEOUT_MS);
  try {
    if (platform === "mastodon") {
      const { instance, clientId, clientSecret, accessToken } = credentials;
      if (opts.shared || !instance || !clientId || !clientSecret || !accessToken) return "kept";
      const oauth = createMastodonOAuth({ allowedHosts: process.env.PACER_ALLOWED_HOSTS });
      const revoked = await oauth.revokeToken({ instance, clientId, clientSecret, token: accessToken }, { signal });
      return revoked.kind === "revoked" ? "ended" : "failed";
    }
    if (platform === "bluesky") {
      const connector = connectorFor("bluesky", process.env) as BlueskyConnector;
      return (await connector.disconnect({ id: opts.id, platform, handle, credentials }, { signal })) ? "ended" : "failed";
    }
    return "kept";
  } catch (error) {
    console.error(`accounts: ending the ${platform} session of @${handle} failed`, error);
    return "failed";
  }
}
