// The process-queue Edge Function under Deno with the three real connectors, as Supabase runs it: the
// function's own index.ts, its import map, and only the environment its secrets give it
// (PACER_CONNECTORS and the connectors' variables among them). One post each to Mastodon, Bluesky
// (whose expired access token makes the connector refresh the session: the function stores it
// through the worker's role) and Facebook through Upload-Post, each against its local fake.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { createFunctionsRunner, type FunctionsRunner } from "../../local/gateway/functions.ts";
import { connectorFor } from "../../lib/connectors/registry.ts";
import { decryptCredentials, encryptCredentials } from "../../lib/accounts/credentials.ts";
import { startMastodonFake, type MastodonFake } from "../../local/platforms/mastodon/index.ts";
import { startBlueskyFake, type BlueskyFake } from "../../local/platforms/bluesky/index.ts";
import { startUploadPostFake, type UploadPostFake } from "../../local/platforms/upload-post/index.ts";
import { startPrivateDatabase, makeWorkspace, type PrivateDatabase } from "../chaos/database.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const CRON_SECRET = `cron-${randomUUID()}`;

// A database of its own: the function claims everything due in it.
let db: PrivateDatabase;
let mastodon: MastodonFake;
let bluesky: BlueskyFake;
let uploadPost: UploadPostFake;
let runner: FunctionsRunner;
let env: Record<string, string>;
const log: string[] = [];

beforeAll(async () => {
  db = await startPrivateDatabase("edge-connectors");
  [mastodon, bluesky, uploadPost] = await Promise.all([
    startMastodonFake({ port: 0 }),
    startBlueskyFake({ port: 0 }),
    startUploadPostFake({ port: 0, config: { processingMs: { text: 0, photo: 0, video: 0 } } }),
  ]);
  // What the operator sets as the function's secrets (docs/deploying.md).
  env = {
    SUPABASE_DB_URL: db.url,
    PACER_CREDENTIALS_KEY: process.env.PACER_CREDENTIALS_KEY!,
    PACER_CRON_SECRET: CRON_SECRET,
    PACER_RUN_BUDGET_MS: "20000",
    PACER_CONNECTORS: "mastodon,bluesky,upload-post",
    PACER_ALLOWED_HOSTS: "127.0.0.1",
    PACER_BLUESKY_APPVIEW_URL: bluesky.url,
    PACER_BLUESKY_PLC_URL: bluesky.url,
    PACER_UPLOAD_POST_URL: uploadPost.url,
  };
  runner = createFunctionsRunner({ functionsDir: join(ROOT, "supabase", "functions"), env, log: (l) => log.push(l) });
}, 60_000);
afterAll(async () => {
  await runner?.stop();
  await Promise.all([mastodon?.stop(), bluesky?.stop(), uploadPost?.stop()]);
  await db?.stop();
});

async function queue(platform: string, handle: string, credentials: Record<string, string>, text: string) {
  const sql = db.sql;
  const user = await makeWorkspace(sql, platform);
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                        values (${user.workspaceId}, ${platform}, ${handle}, ${handle}, ${await encryptCredentials(credentials)}) returning id`;
  const [p] = await sql`insert into public.posts (workspace_id, text) values (${user.workspaceId}, ${text}) returning id`;
  const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${user.workspaceId}, ${p.id}, ${a.id}) returning id`;
  return { accountId: a.id as string, itemId: Number(q.id) };
}

const signal = () => AbortSignal.timeout(5_000);

describe("the process-queue function with the real connectors", () => {
  it("publishes to Mastodon, Bluesky and Upload-Post under Deno, and stores Bluesky's refreshed session", async () => {
    const local = { ...env };
    // Mastodon: a user who authorized Pacer's app.
    const username = `e${randomUUID().replace(/-/g, "").slice(0, 10)}`;
    const mUser = mastodon.createUser(username);
    const app = mastodon.state.registerApp({ name: "Pacer", website: null, redirect_uris: ["urn:ietf:wg:oauth:2.0:oob"], scopes: ["read", "write:statuses", "write:media"] });
    const token = mastodon.state.issueToken(mUser.id, app.client_id, ["read", "write:statuses", "write:media"]).token;
    const m = await connectorFor("mastodon", local).connect({ handle: username, credentials: { instance: mastodon.url, accessToken: token } }, { signal: signal() });
    if (m.kind !== "connected") throw new Error(JSON.stringify(m));
    // Bluesky: a session from an app password, whose access token then expires.
    const made = bluesky.createAccount({ handle: `e${randomUUID().slice(0, 8)}.bsky.test` });
    const b = await connectorFor("bluesky", local).connect({ handle: made.handle, credentials: { appPassword: made.appPassword } }, { signal: signal() });
    if (b.kind !== "connected") throw new Error(JSON.stringify(b));
    // Upload-Post: a Facebook account of the workspace's profile.
    const fbHandle = `fb_${randomUUID().slice(0, 8)}`;
    const { key, profile } = uploadPost.seed({ profile: `pacer_${randomUUID().slice(0, 8)}`, connect: { facebook: fbHandle }, pages: "any" });
    const u = await connectorFor("facebook", local).connect({ handle: fbHandle, credentials: { apiKey: key.apiKey, profile: profile.username, platform: "facebook" } }, { signal: signal() });
    if (u.kind !== "connected") throw new Error(JSON.stringify(u));

    const texts = { mastodon: `edge mastodon ${randomUUID()}`, bluesky: `edge bluesky ${randomUUID()}`, facebook: `edge facebook ${randomUUID()}` };
    const onMastodon = await queue("mastodon", username, m.credentials, texts.mastodon);
    const onBluesky = await queue("bluesky", made.handle, b.credentials, texts.bluesky);
    const onFacebook = await queue("facebook", fbHandle, u.credentials, texts.facebook);
    bluesky.expireAccessTokens(made.did);

    const res = await runner.fetch(
      new Request("http://gateway/functions/v1/process-queue", { method: "POST", headers: { authorization: `Bearer ${CRON_SECRET}`, "content-type": "application/json" }, body: "{}" }),
      "process-queue",
    );
    expect(res.status, log.join("\n")).toBe(200);
    expect((await res.json()).claimed).toBe(3);

    const rows = await db.sql`select id, status, last_error from public.queue_items order by id`;
    expect(rows.map((r) => [Number(r.id), r.status, r.last_error])).toEqual([
      [onMastodon.itemId, "posted", null],
      [onBluesky.itemId, "posted", null],
      [onFacebook.itemId, "posted", null],
    ]);
    expect(mastodon.statusesOf(username).map((s) => s.text)).toEqual([texts.mastodon]);
    expect(bluesky.posts(made.did).map((r) => r.value.text)).toEqual([texts.bluesky]);
    expect(uploadPost.posts({ apiKey: key.apiKey, profile: profile.username, platform: "facebook" }).map((p) => p.text)).toEqual([texts.facebook]);

    // The refreshed session was stored by the function, sealed with the same key.
    expect(bluesky.sessionCounts(made.did)).toEqual({ created: 1, refreshed: 1 });
    const [acc] = await db.sql`select credentials_encrypted from public.social_accounts where id = ${onBluesky.accountId}`;
    const stored = await decryptCredentials(acc.credentials_encrypted);
    expect(stored.did).toBe(made.did);
    expect(stored.refreshJwt).not.toBe(b.credentials.refreshJwt);
  }, 90_000);
});
