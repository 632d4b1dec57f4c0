// The Bluesky connector against the local Bluesky (local/platforms/bluesky: PDS, AppView and PLC
// directory on one port), for the connector contract suite. Accounts are connected the way a user
// does it: handle + app password → createSession, and the session is what Pacer stores.
import { randomUUID } from "node:crypto";
import { createBlueskyConnector } from "../../../lib/connectors/bluesky/index.ts";
import type { ConnectorAccount } from "../../../lib/connectors/types.ts";
import { startBlueskyFake } from "../../../local/platforms/bluesky/index.ts";
import type { PlatformHarness } from "./harness.ts";

export const blueskyHarness: PlatformHarness = {
  platform: "bluesky",
  async start() {
    const fake = await startBlueskyFake({ port: 0 });
    const connector = createBlueskyConnector({ appviewUrl: fake.url, plcUrl: fake.url, allowedHosts: [new URL(fake.url).host] });
    const did = (account: ConnectorAccount) => {
      if (!account.credentials.did) throw new Error(`@${account.handle} has no Bluesky DID in its credentials`);
      return account.credentials.did;
    };
    return {
      connector,
      async account() {
        const made = fake.createAccount({ handle: `c${randomUUID().slice(0, 8)}.bsky.test` });
        const connection = await connector.connect({ handle: made.handle, credentials: { appPassword: made.appPassword } }, { signal: AbortSignal.timeout(5_000) });
        if (connection.kind !== "connected") throw new Error(`could not connect @${made.handle}: ${JSON.stringify(connection)}`);
        return { id: randomUUID(), platform: "bluesky", handle: made.handle, credentials: connection.credentials };
      },
      async posts(account) {
        return fake.posts(did(account)).map((r) => ({
          externalId: r.uri,
          text: String(r.value.text),
          inReplyTo: (r.value.reply as { parent?: { uri?: string } } | undefined)?.parent?.uri ?? null,
          destination: null,
        }));
      },
      async setMetrics(account, { followers, engagement }) {
        // Bluesky counts engagement per post (likes, reposts, replies, quotes): it is put on the
        // newest post, written outside Pacer when the account has none. Reach is followers (no impressions on Bluesky).
        fake.setFollowers(did(account), followers);
        const posts = fake.posts(did(account));
        for (const p of posts) fake.setCounts(p.uri, { likeCount: 0, repostCount: 0, replyCount: 0, quoteCount: 0 });
        const newest = posts.at(-1) ?? fake.world.postOutsidePacer(did(account), "written in the Bluesky app");
        fake.setCounts(newest.uri, { likeCount: engagement });
      },
      faults: {
        dropAnswerAfterCommit: (account) => fake.afterCommitNext(did(account), "reset"),
        rateLimitNext: (account, resetInMs) => fake.rateLimitNext(did(account), resetInMs),
        // The user revokes the app password: the session ends, and refreshing it fails too.
        expireToken: (account) => fake.revokeSessions(did(account)),
        restrict: (account) => fake.takedown(did(account)),
        failNext: (account, status) => fake.failNext(did(account), status),
      },
      textLimit: 300,
      threads: true,
      stop: () => fake.stop(),
    };
  },
};

export default blueskyHarness;
