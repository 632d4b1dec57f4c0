// Mastodon (lib/connectors/mastodon) against its local fake instance (local/platforms/mastodon) for
// the connector contract suite. Accounts are connected the way a user does it: Pacer registers its
// app on the instance once, sends the user to authorize with PKCE, the user approves on the consent
// page, Pacer exchanges the code and the connector verifies the token.
import { randomUUID } from "node:crypto";
import { startMastodonFake } from "../../../local/platforms/mastodon/index.ts";
import { authorizeUrl, createMastodonConnector, createMastodonOAuth, createPkce } from "../../../lib/connectors/mastodon/index.ts";
import type { ConnectorAccount } from "../../../lib/connectors/types.ts";
import type { HarnessInstance, PlatformHarness } from "./harness.ts";

const REDIRECT_URI = "http://localhost:3000/api/connect/mastodon/callback";

export const mastodonHarness: PlatformHarness = {
  platform: "mastodon",
  async start(): Promise<HarnessInstance> {
    const fake = await startMastodonFake({ port: 0 });
    const allowedHosts = [new URL(fake.url).host];
    const connector = createMastodonConnector({ allowedHosts, appName: "Pacer", mediaPollMs: [50] });
    const oauth = createMastodonOAuth({ allowedHosts });
    const signal = () => AbortSignal.timeout(5_000);
    let app: { clientId: string; clientSecret: string } | undefined;
    const username = (account: ConnectorAccount) => account.credentials.username ?? account.handle;

    return {
      connector,
      textLimit: fake.state.config.maxCharacters,
      threads: true,
      async statusOptions(account, externalId) {
        const status = fake.statusesOf(username(account)).find((s) => s.id === externalId);
        if (!status) throw new Error(`the fake holds no status ${externalId}`);
        return { visibility: status.visibility, contentWarning: status.spoiler_text };
      },
      async account() {
        const name = `u${randomUUID().replace(/-/g, "").slice(0, 12)}`;
        fake.createUser(name);
        if (!app) {
          // Once per instance, as Pacer keeps its app per instance.
          const registered = await oauth.registerApp(fake.url, { clientName: "Pacer", redirectUri: REDIRECT_URI }, { signal: signal() });
          if (registered.kind !== "registered") throw new Error(`could not register the app: ${registered.message}`);
          app = registered;
        }
        const discovered = await oauth.discover(fake.url, { signal: signal() });
        if (discovered.kind !== "discovered") throw new Error(discovered.message);
        const pkce = await createPkce();
        const state = randomUUID();
        const consent = new URL(authorizeUrl({ instance: fake.url, clientId: app.clientId, redirectUri: REDIRECT_URI, state, codeChallenge: discovered.pkce ? pkce.challenge : null }));
        // The user signs in and presses Authorize on the instance's consent page (its form posts back to /oauth/authorize).
        const form = new URLSearchParams(consent.searchParams);
        form.set("username", name);
        form.set("decision", "approve");
        const approved = await fetch(`${fake.url}/oauth/authorize`, { method: "POST", body: form, redirect: "manual" });
        const back = new URL(approved.headers.get("location") ?? "about:blank");
        if (back.searchParams.get("state") !== state || !back.searchParams.get("code")) throw new Error(`no code in the redirect: ${back.href}`);
        const token = await oauth.exchangeCode(
          { instance: fake.url, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: REDIRECT_URI, code: back.searchParams.get("code")!, codeVerifier: discovered.pkce ? pkce.verifier : null },
          { signal: signal() },
        );
        if (token.kind !== "token") throw new Error(`could not exchange the code: ${token.message}`);
        const connection = await connector.connect(
          { handle: name, credentials: { instance: fake.url, accessToken: token.accessToken, clientId: app.clientId, clientSecret: app.clientSecret } },
          { signal: signal() },
        );
        if (connection.kind !== "connected") throw new Error(`could not connect @${name}: ${JSON.stringify(connection)}`);
        return { id: randomUUID(), platform: "mastodon", handle: name, credentials: connection.credentials };
      },
      async posts(account) {
        return fake
          .statusesOf(username(account))
          .filter((s) => !s.deleted)
          .map((s) => ({ externalId: s.id, text: s.text, inReplyTo: s.in_reply_to_id, destination: null }));
      },
      async setMetrics(account, { followers, engagement }) {
        // Mastodon shows no reach: the connector reports followers for it.
        fake.setFollowers(username(account), followers);
        const statuses = fake.statusesOf(username(account)).filter((s) => !s.deleted);
        for (const s of statuses) fake.setCounts(s.id, { favourites_count: 0, reblogs_count: 0, replies_count: 0 });
        const carrier = statuses.at(-1) ?? fake.postAsUser(username(account), "Written on the instance itself.");
        fake.setCounts(carrier.id, { favourites_count: engagement });
      },
      faults: {
        dropAnswerAfterCommit: (account) => fake.nextFault(username(account), { kind: "drop_after_commit" }),
        rateLimitNext: (account, resetInMs) => fake.nextFault(username(account), { kind: "rate_limit", resetInMs }),
        expireToken: (account) => fake.revokeTokens(username(account)),
        restrict: (account) => fake.setAccountState(username(account), "suspended"),
        failNext: (account, status) => fake.nextFault(username(account), { kind: "error_before_commit", status }),
      },
      stop: () => fake.stop(),
    };
  },
};
