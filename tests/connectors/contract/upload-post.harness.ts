// The connector contract suite's view of Upload-Post: the connector wired to the local fake
// (local/platforms/upload-post), accounts connected through the connector's own connect, and the
// fake's own record of posts. Each account is a Facebook account (text posts, and a destination:
// the page id) of a fresh profile under a fresh API key, so one account's faults and limits never
// touch another's.
import { randomUUID } from "node:crypto";
import { startUploadPostFake } from "../../../local/platforms/upload-post/index.ts";
import { createUploadPostConnector, UPLOAD_POST_TEXT_LIMITS } from "../../../lib/connectors/upload-post.ts";
import type { ConnectorAccount } from "../../../lib/connectors/types.ts";
import type { HeldPost, PlatformHarness } from "./harness.ts";

const PLATFORM = "facebook";

export const uploadPostHarness: PlatformHarness = {
  platform: "upload-post",
  async start() {
    // Processing finishes on the next request, so a lookup right after a lost answer sees the post.
    const fake = await startUploadPostFake({ port: 0, config: { processingMs: { text: 0, photo: 0, video: 0 } } });
    const connector = createUploadPostConnector({ baseUrl: fake.url, allowedHosts: [new URL(fake.url).host], statusPollMs: [10, 20, 40] });
    const target = (account: ConnectorAccount) => ({ apiKey: account.credentials.apiKey, profile: account.credentials.profile, platform: account.credentials.platform });

    return {
      connector,
      textLimit: UPLOAD_POST_TEXT_LIMITS[PLATFORM],
      async account() {
        const handle = `fb_${randomUUID().slice(0, 8)}`;
        // What the user does on Upload-Post's connect page; "any" page: every destination is one of the account's pages.
        const { key, profile } = fake.seed({ profile: `pacer_${randomUUID().slice(0, 8)}`, connect: { [PLATFORM]: handle }, pages: "any" });
        const connection = await connector.connect(
          { handle, credentials: { apiKey: key.apiKey, profile: profile.username, platform: PLATFORM } },
          { signal: AbortSignal.timeout(5_000) },
        );
        if (connection.kind !== "connected") throw new Error(`connecting ${handle} on the Upload-Post fake failed: ${JSON.stringify(connection)}`);
        return { id: randomUUID(), platform: "upload-post", handle, credentials: connection.credentials };
      },
      async posts(account) {
        // A first comment is a comment under the post on the platform: held as a reply to it.
        return fake.posts(target(account)).flatMap((p): HeldPost[] => [
          { externalId: p.platform_post_id, text: p.text, inReplyTo: null, destination: p.destination },
          ...(p.first_comment ? [{ externalId: `${p.platform_post_id}_comment`, text: p.first_comment, inReplyTo: p.platform_post_id, destination: p.destination }] : []),
        ]);
      },
      async setMetrics(account, { followers, engagement, reach }) {
        fake.setMetrics(target(account), { followers, reach: reach ?? 0, likes: engagement, comments: 0, shares: 0, saves: 0 });
      },
      faults: {
        dropAnswerAfterCommit: (account) => fake.dropAnswerAfterCommit(target(account)),
        rateLimitNext: (account, resetInMs) => fake.rateLimitNext(target(account), resetInMs),
        // The credential Pacer holds is the workspace's API key: Upload-Post answers 401 "API key expired".
        expireToken: (account) => fake.expireApiKey(account.credentials.apiKey),
        restrict: (account) => fake.restrict(target(account)),
        failNext: (account, status) => fake.failNext(target(account), status),
        rejectDestination: (account, destination) => fake.rejectDestination(target(account), destination),
      },
      stop: () => fake.stop(),
    };
  },
};

export default uploadPostHarness;
