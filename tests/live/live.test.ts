// Optional live checks against the real platforms: skipped unless credentials are given in the
// environment, and never run in CI (which has neither the credentials nor the network). They check
// that what the fakes reproduce holds on the real service: the connection works, reads answer, and —
// only with PACER_LIVE_PUBLISH=1, because it posts on the account — that a second publish of one
// idempotency key does not make a second post. docs/connectors.md ("Live checks") lists the variables.
//
//   PACER_LIVE_MASTODON_INSTANCE=https://mastodon.social PACER_LIVE_MASTODON_TOKEN=… \
//   PACER_LIVE_BLUESKY_HANDLE=you.bsky.social PACER_LIVE_BLUESKY_APP_PASSWORD=xxxx-xxxx-xxxx-xxxx \
//   PACER_LIVE_UPLOAD_POST_KEY=… PACER_LIVE_UPLOAD_POST_PROFILE=… PACER_LIVE_UPLOAD_POST_PLATFORM=linkedin \
//   npx vitest run tests/live
import { describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import type { Connector, ConnectorAccount } from "../../lib/connectors/types.ts";
import { connectorFor } from "../../lib/connectors/registry.ts";

const env = process.env;
// The registry as production builds it: the real services unless the operator's variables
// (PACER_BLUESKY_APPVIEW_URL, PACER_UPLOAD_POST_URL, PACER_ALLOWED_HOSTS) point elsewhere — which is
// how these checks were run against the local fakes to check the checks themselves.
const connector = (platform: string) => connectorFor(platform, { ...env, PACER_CONNECTORS: "mastodon,bluesky,upload-post" });
const publishing = env.PACER_LIVE_PUBLISH === "1";
const signal = () => AbortSignal.timeout(30_000);

/** The checks every platform gets: reads answer, an unknown key is not found, and (when allowed) exactly once. */
// The connector is made when a check runs, not when the file is collected: without credentials every
// block is skipped, but vitest still reads the blocks (and an Upload-Post platform would be unset).
function liveChecks(connectorOf: () => Connector, account: () => Promise<ConnectorAccount>) {
  it("reads the account's metrics and recent posts", async () => {
    const connector = connectorOf();
    const a = await account();
    const metrics = await connector.readMetrics(a, { signal: signal() });
    expect(metrics.followers).toBeGreaterThanOrEqual(0);
    const recent = await connector.recentPosts(a, { since: new Date(Date.now() - 24 * 3600_000), signal: signal() });
    expect(Array.isArray(recent.posts)).toBe(true);
  }, 60_000);

  it("finds no post for a key it never sent", async () => {
    const lookup = await connectorOf().lookup(await account(), randomUUID(), { signal: signal(), sent: { text: `never sent ${randomUUID()}` } });
    expect(lookup.kind).toBe("not_found");
  }, 60_000);

  it.runIf(publishing)("publishes once for one idempotency key, however often it is sent", async () => {
    const connector = connectorOf();
    const a = await account();
    const key = randomUUID();
    const text = `Pacer live check ${new Date().toISOString()} (safe to delete)`;
    const first = await connector.publish({ account: a, idempotencyKey: key, text, mediaUrls: [] }, { signal: signal() });
    expect(first.kind).toBe("posted");
    const again = await connector.publish({ account: a, idempotencyKey: key, text, mediaUrls: [] }, { signal: signal() });
    // A second send either answers with the same post or is refused; it never makes another.
    if (again.kind === "posted") expect(again.externalId).toBe((first as { externalId: string }).externalId);
    const found = await connector.lookup(a, key, { signal: signal(), sent: { text, sentAt: new Date(Date.now() - 60_000).toISOString() } });
    expect(found).toMatchObject({ kind: "found", externalId: (first as { externalId: string }).externalId });
  }, 120_000);
}

describe.runIf(env.PACER_LIVE_MASTODON_INSTANCE && env.PACER_LIVE_MASTODON_TOKEN)("live: Mastodon", () => {
  liveChecks(() => connector("mastodon"), async () => ({
    id: "live-mastodon",
    platform: "mastodon",
    handle: "live",
    credentials: { instance: env.PACER_LIVE_MASTODON_INSTANCE!, accessToken: env.PACER_LIVE_MASTODON_TOKEN! },
  }));
});

describe.runIf(env.PACER_LIVE_BLUESKY_HANDLE && env.PACER_LIVE_BLUESKY_APP_PASSWORD)("live: Bluesky", () => {
  // One session for the file: createSession is limited to 30 per 5 minutes.
  let session: Promise<ConnectorAccount> | undefined;
  liveChecks(() => connector("bluesky"), () =>
    (session ??= connector("bluesky")
      .connect({ handle: env.PACER_LIVE_BLUESKY_HANDLE!, credentials: { appPassword: env.PACER_LIVE_BLUESKY_APP_PASSWORD! } }, { signal: signal() })
      .then((c) => {
        if (c.kind !== "connected") throw new Error(`Bluesky refused the sign-in: ${JSON.stringify(c)}`);
        return { id: "live-bluesky", platform: "bluesky", handle: env.PACER_LIVE_BLUESKY_HANDLE!, credentials: c.credentials };
      })),
  );
});

describe.runIf(env.PACER_LIVE_UPLOAD_POST_KEY && env.PACER_LIVE_UPLOAD_POST_PROFILE && env.PACER_LIVE_UPLOAD_POST_PLATFORM)("live: Upload-Post", () => {
  const platform = env.PACER_LIVE_UPLOAD_POST_PLATFORM!;
  liveChecks(() => connector(platform), async () => ({
    id: "live-upload-post",
    platform,
    handle: env.PACER_LIVE_UPLOAD_POST_PROFILE!,
    credentials: { apiKey: env.PACER_LIVE_UPLOAD_POST_KEY!, profile: env.PACER_LIVE_UPLOAD_POST_PROFILE!, platform },
  }));
});
