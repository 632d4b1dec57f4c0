// The engine with the real connectors, through the registry as the workers and the Edge Function
// compose them, against the platforms' local fakes: a Mastodon answer lost after the commit is
// settled as posted by a lookup given what the attempt sent; a Bluesky session refreshed during a
// publish is stored, sealed, and a later publish from a fresh connector uses it without logging in;
// a budget the platform states as spent holds the account before the platform would say 429; a thread
// whose answer was lost mid-way is finished by the verification (its parts read per claim) before it is posted.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { randomUUID } from "node:crypto";
import { processQueue } from "../../lib/engine/process.ts";
import { claimDuePosts, recordOutcomes } from "../../lib/engine/store.ts";
import { connectorFor } from "../../lib/connectors/registry.ts";
import { createBlueskyConnector } from "../../lib/connectors/bluesky/index.ts";
import { createMastodonConnector } from "../../lib/connectors/mastodon/index.ts";
import { credentialStore } from "../../lib/accounts/refreshed-credentials.ts";
import { decryptCredentials, encryptCredentials } from "../../lib/accounts/credentials.ts";
import type { Connector } from "../../lib/connectors/types.ts";
import { startMastodonFake, type MastodonFake } from "../../local/platforms/mastodon/index.ts";
import { startBlueskyFake, type BlueskyFake } from "../../local/platforms/bluesky/index.ts";
import { startPrivateDatabase, makeWorkspace, type PrivateDatabase } from "../chaos/database.ts";
import type { Sql } from "../support/db";

// A database of its own: every run here claims whatever is due in it, and its limits are tuned below.
let db: PrivateDatabase;
let sql: Sql;
let mastodon: MastodonFake;
/** An instance whose statuses budget is 3 per 3 h, so a test can spend it. */
let tight: MastodonFake;
let bluesky: BlueskyFake;
let env: Record<string, string>;
const WINDOW_MS = 3 * 3_600_000;

beforeAll(async () => {
  db = await startPrivateDatabase("real-connectors");
  sql = db.sql;
  // Local fakes answer in milliseconds: verify on their clock, and no gap between one account's posts.
  await sql`update public.platforms set verify_margin_ms = 200, verify_confirm_ms = 300 where id in ('mastodon', 'bluesky')`;
  await sql`update public.rate_limit_policies set min_gap_ms = 0 where platform in ('mastodon', 'bluesky')`;
  [mastodon, tight, bluesky] = await Promise.all([
    startMastodonFake({ port: 0 }),
    startMastodonFake({ port: 0, config: { throttles: { statuses: { limit: 3, periodMs: WINDOW_MS } } as never } }),
    startBlueskyFake({ port: 0 }),
  ]);
  env = {
    PACER_CONNECTORS: "mastodon,bluesky",
    PACER_ALLOWED_HOSTS: "127.0.0.1",
    PACER_BLUESKY_APPVIEW_URL: bluesky.url,
    PACER_BLUESKY_PLC_URL: bluesky.url,
  };
});
afterAll(async () => {
  await Promise.all([mastodon?.stop(), tight?.stop(), bluesky?.stop()]);
  await db?.stop();
});

/** The engine as the workers run it: the registry's connectors, refreshed sessions stored in this database. */
const run = (connectorOf: (platform: string) => Connector = (platform) => connectorFor(platform, env, { storeCredentials: credentialStore(sql) })) =>
  processQueue({
    sql,
    worker: `real-${randomUUID().slice(0, 6)}`,
    connectorFor: connectorOf,
    budgetMs: 8_000,
    callTimeoutMs: 2_000,
    leaseSeconds: 30,
    verifyRetryMs: [100, 100],
    retry: { baseMs: 20, factor: 2, maxRetries: 3, jitter: 0 },
  });

async function account(platform: string, handle: string, credentials: Record<string, string>) {
  const user = await makeWorkspace(sql, platform);
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                        values (${user.workspaceId}, ${platform}, ${handle}, ${handle}, ${await encryptCredentials(credentials)}) returning id`;
  return { workspaceId: user.workspaceId, accountId: a.id as string };
}

async function queue(acc: { workspaceId: string; accountId: string }, text: string) {
  const [p] = await sql`insert into public.posts (workspace_id, text) values (${acc.workspaceId}, ${text}) returning id`;
  const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${acc.workspaceId}, ${p.id}, ${acc.accountId}) returning id`;
  return Number(q.id);
}

const itemOf = async (id: number) => (await sql`select status, external_id, run_at from public.queue_items where id = ${id}`)[0];
const steps = async (id: number) =>
  (await sql`select kind, outcome from public.posting_history where queue_item_id = ${id} order by id`).map((h) => `${h.kind}:${h.outcome}`);

/** A Mastodon user on `fake` with a token of Pacer's app (statuses show "Pacer" as their application), connected as the connect flow stores it. */
async function mastodonAccount(fake: MastodonFake) {
  const username = `m${randomUUID().replace(/-/g, "").slice(0, 10)}`;
  const user = fake.createUser(username);
  const app = fake.state.registerApp({ name: "Pacer", website: null, redirect_uris: ["urn:ietf:wg:oauth:2.0:oob"], scopes: ["read", "write:statuses", "write:media"] });
  const token = fake.state.issueToken(user.id, app.client_id, ["read", "write:statuses", "write:media"]).token;
  const connection = await connectorFor("mastodon", env).connect({ handle: username, credentials: { instance: fake.url, accessToken: token } }, { signal: AbortSignal.timeout(5_000) });
  if (connection.kind !== "connected") throw new Error(`could not connect @${username}: ${JSON.stringify(connection)}`);
  return { username, ...(await account("mastodon", username, connection.credentials)) };
}

describe("Mastodon through the engine", () => {
  it("settles an answer lost after the commit as posted, by a lookup given what was sent, with one status on the instance", async () => {
    const acc = await mastodonAccount(mastodon);
    const text = `lost answer ${randomUUID()}`;
    const id = await queue(acc, text);
    mastodon.nextFault(acc.username, { kind: "drop_after_commit" });

    await run();
    expect(await steps(id)).toEqual(["publish:unknown"]);
    expect((await itemOf(id)).status).toBe("verifying");
    // Due once the call's deadline and the platform's margin have passed.
    const dueAt = (await itemOf(id)).run_at.getTime();
    await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now()) + 50));
    await run();

    const statuses = mastodon.statusesOf(acc.username);
    expect(statuses).toHaveLength(1);
    expect(statuses[0].text).toBe(text);
    expect(await steps(id)).toEqual(["publish:unknown", "verify:found"]);
    const item = await itemOf(id);
    expect(item).toMatchObject({ status: "posted", external_id: statuses[0].id });
  }, 30_000);

  it("a thread whose answer was lost after its second part committed: verifying, then posted only once the verification has sent parts 3 and 4, each once", async () => {
    const acc = await mastodonAccount(mastodon);
    const text = `thread ${randomUUID()}`;
    const thread = [`${text} 2/4`, `${text} 3/4`, `${text} 4/4`];
    const [p] = await sql`insert into public.posts (workspace_id, text, thread, platform_options)
                          values (${acc.workspaceId}, ${text}, ${thread}, ${sql.json({ mastodon: { visibility: "unlisted", contentWarning: "a thread" } })}) returning id`;
    const [q] = await sql`insert into public.queue_items (workspace_id, post_id, account_id) values (${acc.workspaceId}, ${p.id}, ${acc.accountId}) returning id`;
    const id = Number(q.id);
    // The post goes through; the second part is stored and its answer lost (a fault put on the second status creation).
    let creates = 0;
    const counting: typeof fetch = (input, init) => {
      if (init?.method === "POST" && String(input).endsWith("/api/v1/statuses") && ++creates === 2) mastodon.nextFault(acc.username, { kind: "drop_after_commit" });
      return fetch(input, init);
    };
    const connector = createMastodonConnector({ allowedHosts: "127.0.0.1", publishFetch: counting, appName: "Pacer" });
    await run(() => connector);
    expect(await steps(id)).toEqual(["publish:unknown"]);
    expect(mastodon.statusesOf(acc.username).map((s) => s.text)).toEqual([text, thread[0]]);
    const dueAt = (await itemOf(id)).run_at.getTime();
    await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now()) + 50));
    await run(() => connector);

    const statuses = mastodon.statusesOf(acc.username);
    expect(statuses.map((s) => s.text)).toEqual([text, ...thread]);
    statuses.forEach((s, i) => expect(s.in_reply_to_id).toBe(i === 0 ? null : statuses[i - 1].id));
    for (const s of statuses) expect([s.visibility, s.spoiler_text]).toEqual(["unlisted", "a thread"]);
    expect(await steps(id)).toEqual(["publish:unknown", "verify:found"]);
    expect(await itemOf(id)).toMatchObject({ status: "posted", external_id: statuses[0].id });
  }, 30_000);

  it("holds an account whose stated budget is down to its reserve until the reset, before the platform says 429", async () => {
    // 3 statuses per window: after the second, 1 is left (the reserve), so nothing more leaves.
    const acc = await mastodonAccount(tight);
    const ids: number[] = [];
    for (const n of [1, 2, 3, 4]) {
      ids.push(await queue(acc, `budget ${n} ${randomUUID()}`));
      await run();
    }
    expect(tight.statusesOf(acc.username)).toHaveLength(2);
    expect((await itemOf(ids[0])).status).toBe("posted");
    expect((await itemOf(ids[1])).status).toBe("posted");
    for (const id of ids.slice(2)) expect(await steps(id)).toEqual([]); // never sent, never refused
    const history = await sql`select rate_limit from public.posting_history where account_id = ${acc.accountId} order by id`;
    expect(history.map((h) => h.rate_limit.remaining)).toEqual([2, 1]);
    const [a] = await sql`select cooldown_until from public.social_accounts where id = ${acc.accountId}`;
    // Until the window the platform stated resets (Rack::Attack's windows are aligned: within 3 h).
    expect(a.cooldown_until.toISOString()).toBe(new Date(history[1].rate_limit.reset_at).toISOString());
    expect(a.cooldown_until.getTime()).toBeGreaterThan(Date.now() + 1_000);
    expect(a.cooldown_until.getTime()).toBeLessThanOrEqual(Date.now() + WINDOW_MS);
  }, 30_000);
});

/** Waits until the item is due (its run_at). */
async function untilDue(id: number) {
  const dueAt = (await itemOf(id)).run_at.getTime();
  await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now()) + 50));
}

/** Runs the engine until the item is posted (at most `runs` times), waiting for it to be due each time. */
async function runUntilPosted(id: number, runs = 8) {
  for (let i = 0; i < runs && (await itemOf(id)).status !== "posted"; i++) {
    await untilDue(id);
    await run();
  }
}

describe("what a Mastodon lookup is given", () => {
  it("two items with the same text: the one lost before the commit is never settled by the other's status", async () => {
    const acc = await mastodonAccount(mastodon);
    const text = `same text ${randomUUID()}`;
    const first = await queue(acc, text);
    await run();
    expect((await itemOf(first)).status).toBe("posted");
    const second = await queue(acc, text);
    mastodon.nextFault(acc.username, { kind: "reset_before_commit" });
    await run();
    expect(await steps(second)).toEqual(["publish:unknown"]);
    await runUntilPosted(second);

    const statuses = mastodon.statusesOf(acc.username);
    expect(statuses).toHaveLength(2);
    // Both lookups said not_found (the first item's status is not this one's); then it was sent again.
    expect(await steps(second)).toEqual(["publish:unknown", "verify:not_found", "verify:not_found", "publish:posted"]);
    const firstId = (await itemOf(first)).external_id;
    expect((await itemOf(second)).external_id).toBe(statuses.find((st) => st.id !== firstId)!.id);
  }, 30_000);

  it("the send time is the real send's, not a rate-limit refusal's under the same attempt number; other items' ids come along", async () => {
    const acc = await account("mastodon", `m${randomUUID().slice(0, 8)}`, { instance: mastodon.url, accessToken: "t", accountId: "1" });
    const worker = "sent-attempts";
    const claim = async () => (await claimDuePosts(sql, { worker, limit: 5, leaseSeconds: 30, workspaceId: acc.workspaceId }))[0];
    const at = (msAgo: number) => new Date(Date.now() - msAgo);
    const result = (c: { id: number; leaseId: string; attempts: number }, outcome: string, startedAt: Date, extra: object = {}) => ({
      id: c.id, leaseId: c.leaseId, mode: "publish" as const, attempt: c.attempts, outcome, next: { retryAt: at(1_000) },
      startedAt, finishedAt: new Date(startedAt.getTime() + 500), latencyMs: 500, worker, ...extra,
    });
    // Another item of the account, posted: its id is one the lookup must skip.
    const other = await queue(acc, "other");
    const o = await claim();
    await recordOutcomes(sql, [result(o, "posted", at(20_000), { externalId: "other-status" })]);
    expect((await itemOf(other)).status).toBe("posted");

    const id = await queue(acc, "this one");
    const refused = await claim();
    await recordOutcomes(sql, [result(refused, "rate_limited", at(3_600_000))]);
    const sentAgain = await claim();
    expect(sentAgain.attempts).toBe(refused.attempts); // the refusal handed its number back
    const sendStart = at(5_000);
    await recordOutcomes(sql, [result(sentAgain, "unknown", sendStart, { callDeadlineAt: at(4_000) })]);
    await untilDue(id);
    const verifying = await claim();
    expect(verifying).toMatchObject({ id, mode: "verify" });
    expect(verifying.sent).toEqual({ sentAt: sendStart.toISOString(), externalId: null, otherExternalIds: ["other-status"] });
  });

  it("when the history cannot be read, the lookup is given nothing and answers unavailable, never a guess", async () => {
    const acc = await mastodonAccount(mastodon);
    const id = await queue(acc, `lost answer ${randomUUID()}`);
    mastodon.nextFault(acc.username, { kind: "drop_after_commit" });
    await run();
    expect(await steps(id)).toEqual(["publish:unknown"]);
    await untilDue(id);
    await sql`revoke execute on function private.sent_attempts from pacer_worker`;
    try {
      await run();
    } finally {
      await sql`grant execute on function private.sent_attempts to pacer_worker`;
    }
    expect(await steps(id)).toEqual(["publish:unknown", "verify:unavailable"]);
    expect((await itemOf(id)).status).toBe("verifying");
  }, 30_000);
});

describe("Bluesky sessions refreshed by the engine", () => {
  it("stores the rotated session, sealed, and a fresh connector publishes with it without logging in again", async () => {
    const made = bluesky.createAccount({ handle: `r${randomUUID().slice(0, 8)}.bsky.test` });
    const connection = await connectorFor("bluesky", env).connect({ handle: made.handle, credentials: { appPassword: made.appPassword } }, { signal: AbortSignal.timeout(5_000) });
    if (connection.kind !== "connected") throw new Error(JSON.stringify(connection));
    const before = connection.credentials;
    const acc = await account("bluesky", made.handle, before);
    expect(bluesky.sessionCounts(made.did)).toEqual({ created: 1, refreshed: 0 });

    // The access token has expired: the publish refreshes the session (a rotation) and posts.
    bluesky.expireAccessTokens(made.did);
    const first = await queue(acc, `after a refresh ${randomUUID()}`);
    await run();
    expect((await itemOf(first)).status).toBe("posted");
    expect(bluesky.sessionCounts(made.did)).toEqual({ created: 1, refreshed: 1 });

    const [row] = await sql`select credentials_encrypted from public.social_accounts where id = ${acc.accountId}`;
    expect(row.credentials_encrypted).toMatch(/^v1:/);
    const stored = await decryptCredentials(row.credentials_encrypted);
    expect(stored.did).toBe(before.did);
    expect(stored.refreshJwt).not.toBe(before.refreshJwt);
    expect(stored.accessJwt).not.toBe(before.accessJwt);

    // A connector that never saw the refresh (another process, the Edge Function's next isolate):
    // with the old session it would have to refresh again; with the stored one it just posts.
    const fresh = createBlueskyConnector({ appviewUrl: bluesky.url, plcUrl: bluesky.url, allowedHosts: ["127.0.0.1"] });
    const second = await queue(acc, `from a fresh connector ${randomUUID()}`);
    await run(() => fresh);
    expect((await itemOf(second)).status).toBe("posted");
    expect(bluesky.sessionCounts(made.did)).toEqual({ created: 1, refreshed: 1 });
    expect(bluesky.posts(made.did)).toHaveLength(2);
  }, 30_000);

  it("does not give credentials back to an account that has none (disconnected meanwhile)", async () => {
    const [{ workspaceId }] = [await makeWorkspace(sql, "gone")];
    const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                          values (${workspaceId}, 'bluesky', ${`gone${randomUUID().slice(0, 6)}.bsky.test`}, 'Gone') returning id`;
    expect(await credentialStore(sql)({ id: a.id, credentials: {} }, { did: "did:plc:x", accessJwt: "a", refreshJwt: "r" })).toBe(false);
    const [row] = await sql`select credentials_encrypted from public.social_accounts where id = ${a.id}`;
    expect(row.credentials_encrypted).toBeNull();
  });

  it("keeps a reconnect's credentials over a refresh that started from the ones it replaced (compare and set)", async () => {
    const made = bluesky.createAccount({ handle: `c${randomUUID().slice(0, 8)}.bsky.test` });
    const connect = async () => {
      const c = await connectorFor("bluesky", env).connect({ handle: made.handle, credentials: { appPassword: made.appPassword } }, { signal: AbortSignal.timeout(5_000) });
      if (c.kind !== "connected") throw new Error(JSON.stringify(c));
      return c.credentials;
    };
    const first = await connect();
    const acc = await account("bluesky", made.handle, first);
    // A worker read `first` and is refreshing; meanwhile the user reconnects (the server's store).
    const reconnected = await connect();
    await sql`select private.store_account_credentials(${acc.accountId}, ${await encryptCredentials(reconnected)})`;
    const stale = { ...first, accessJwt: "at_stale", refreshJwt: "rt_stale" };
    expect(await credentialStore(sql)({ id: acc.accountId, credentials: first }, stale)).toBe(false);
    const [row] = await sql`select credentials_encrypted from public.social_accounts where id = ${acc.accountId}`;
    expect((await decryptCredentials(row.credentials_encrypted)).refreshJwt).toBe(reconnected.refreshJwt);

    // Two refreshes racing from the same credentials: one is stored, the other finds them replaced.
    const racing = await Promise.all(
      ["a", "b"].map((n) => credentialStore(sql)({ id: acc.accountId, credentials: reconnected }, { ...reconnected, accessJwt: `at_${n}`, refreshJwt: `rt_${n}` })),
    );
    expect(racing.filter(Boolean)).toHaveLength(1);
    const [raced] = await sql`select credentials_encrypted from public.social_accounts where id = ${acc.accountId}`;
    expect(["rt_a", "rt_b"]).toContain((await decryptCredentials(raced.credentials_encrypted)).refreshJwt);
  });

  it("audits a reconnect but not a worker's token rotation", async () => {
    const made = bluesky.createAccount({ handle: `a${randomUUID().slice(0, 8)}.bsky.test` });
    const c = await connectorFor("bluesky", env).connect({ handle: made.handle, credentials: { appPassword: made.appPassword } }, { signal: AbortSignal.timeout(5_000) });
    if (c.kind !== "connected") throw new Error(JSON.stringify(c));
    const acc = await account("bluesky", made.handle, c.credentials);
    // Active already: its first post moves a connected account to active, which is audited.
    await sql`update public.social_accounts set state = 'active' where id = ${acc.accountId}`;
    const audited = async () => (await sql`select count(*)::int as n from public.audit_log where entity = 'social_accounts' and entity_id = ${acc.accountId}`)[0].n as number;
    const start = await audited();

    // The access token expired: a publish refreshes (rotates) the session and stores it.
    bluesky.expireAccessTokens(made.did);
    const id = await queue(acc, `rotated ${randomUUID()}`);
    await run();
    expect((await itemOf(id)).status).toBe("posted");
    const [row] = await sql`select credentials_encrypted from public.social_accounts where id = ${acc.accountId}`;
    expect((await decryptCredentials(row.credentials_encrypted)).refreshJwt).not.toBe(c.credentials.refreshJwt);
    expect(await audited()).toBe(start);

    // A reconnect (new credentials through the server's store) is a person's action: audited.
    await sql`select private.store_account_credentials(${acc.accountId}, ${await encryptCredentials({ ...c.credentials, refreshJwt: "rt_new" })})`;
    expect(await audited()).toBe(start + 1);
  }, 30_000);

  it("writes no internal address into the history when a session names an internal PDS", async () => {
    const logged = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      // As a hostile refreshSession could leave it: the account's PDS is an internal address.
      const acc = await account("bluesky", `h${randomUUID().slice(0, 8)}.bsky.test`, { did: "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", handle: "h.bsky.test", pdsUrl: "http://10.1.2.3", accessJwt: "at", refreshJwt: "rt" });
      const id = await queue(acc, `internal ${randomUUID()}`);
      await run();
      const history = await sql`select error_message from public.posting_history where queue_item_id = ${id} and error_message is not null`;
      expect(history.length).toBeGreaterThan(0);
      for (const h of history) expect(h.error_message).not.toMatch(/10\.1\.2\.3|PACER_ALLOWED_HOSTS|private address/);
      expect(history[0].error_message).toContain("not on the public internet");
      expect(logged.mock.calls.flat().join("\n")).toMatch(/10\.1\.2\.3/);
    } finally {
      logged.mockRestore();
    }
  });
});
