// Connecting Mastodon accounts through the instance's sign-in (OAuth + PKCE), through the real route
// handlers with real users, against the Mastodon fake. The attacker's cases come first.
import { createServer } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as connectRoute from "@/app/api/accounts/mastodon/connect/route";
import * as callbackRoute from "@/app/api/accounts/mastodon/callback/route";
import * as accountRoute from "@/app/api/accounts/[id]/route";
import { decryptCredentials } from "@/lib/accounts/credentials";
import { startMastodonFake, type MastodonFake } from "../../local/platforms/mastodon/index.ts";
import { addAccounts, connect, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";

const BASE = "http://127.0.0.1:3000";
let sql: Sql;
let fake: MastodonFake;
let alice: TestUser;
let bob: TestUser;
const host = () => new URL(fake.url).hostname;
const unique = (label: string) => `${label}_${crypto.randomUUID().slice(0, 6)}`;

beforeAll(async () => {
  sql = connect();
  fake = await startMastodonFake({ port: 0 });
  [alice, bob] = await Promise.all([signUp("m-alice"), signUp("m-bob")]);
});
afterAll(async () => {
  await fake.stop();
  await sql.end();
});

function start(user: TestUser | null, body: unknown, extra: Record<string, string> = {}) {
  const headers = new Headers({ "content-type": "application/json", ...extra });
  if (user) headers.set("authorization", `Bearer ${user.accessToken}`);
  return connectRoute.POST(new Request(`${BASE}/api/accounts/mastodon/connect`, { method: "POST", headers, body: JSON.stringify(body) }), undefined);
}

async function authorizeUrlFor(user: TestUser, body: unknown, extra: Record<string, string> = {}): Promise<string> {
  const res = await start(user, body, extra);
  expect(res.status, JSON.stringify(await res.clone().json())).toBe(200);
  return (await res.json()).authorizeUrl;
}

/** The user on the instance's consent page: signs in as `username` and approves (or denies); returns where the instance sends them. */
async function consent(authorizeUrl: string, username: string, decision: "approve" | "deny" = "approve"): Promise<string> {
  return consentAt(fake, authorizeUrl, username, decision);
}

async function consentAt(instance: MastodonFake, authorizeUrl: string, username: string, decision: "approve" | "deny" = "approve"): Promise<string> {
  const page = await fetch(authorizeUrl);
  expect(page.status).toBe(200);
  const form = new URLSearchParams(new URL(authorizeUrl).searchParams);
  form.set("username", username);
  form.set("decision", decision);
  const res = await fetch(new URL("/oauth/authorize", instance.url), { method: "POST", body: form, redirect: "manual" });
  expect(res.status).toBe(302);
  return res.headers.get("location")!;
}

/** The browser arriving at Pacer's callback; returns the accounts page's query. */
async function finish(user: TestUser | null, callbackUrl: string): Promise<URLSearchParams> {
  const url = new URL(callbackUrl);
  const headers = new Headers();
  if (user) headers.set("authorization", `Bearer ${user.accessToken}`);
  const res = await callbackRoute.GET(new Request(`${BASE}${url.pathname}${url.search}`, { headers }));
  expect(res.status).toBe(303);
  const to = new URL(res.headers.get("location")!);
  expect(to.pathname).toBe("/dashboard/accounts");
  return to.searchParams;
}

const workspaceOf = async (user: TestUser) =>
  (await sql`select workspace_id from public.workspace_members where user_id = ${user.id} and role = 'owner'`)[0].workspace_id as string;
const accountsOf = (workspaceId: string, handle: string) =>
  sql`select id, state, handle, credentials_encrypted from public.social_accounts where workspace_id = ${workspaceId} and handle = ${handle}`;
const tokenState = (token: string) => fake.state.tokens.get(token);

describe("who may connect, and with which sign-in (attacker first)", () => {
  it("answers 401 without a session, and a callback without one takes nothing", async () => {
    expect((await start(null, { instance: fake.url })).status).toBe(401);
    const username = unique("nosession");
    const back = await consent(await authorizeUrlFor(alice, { instance: fake.url }), username);
    expect((await finish(null, back)).get("error")).toBe("signed_out");
    // The sign-in was not used up: its owner can still finish it.
    expect((await finish(alice, back)).get("result")).toBe("connected");
  });

  it("does not let another user finish someone else's sign-in, nor use it up", async () => {
    const username = unique("victim");
    const back = await consent(await authorizeUrlFor(alice, { instance: fake.url }), username);
    expect((await finish(bob, back)).get("error")).toBe("state_unknown");
    expect(await accountsOf(await workspaceOf(bob), `${username}@${host()}`)).toHaveLength(0);
    expect((await finish(alice, back)).get("result")).toBe("connected");
  });

  it("refuses a viewer, and a workspace the user is not in", async () => {
    const owner = await signUp("m-owner");
    const viewer = await signUp("m-viewer");
    const workspaceId = await workspaceOf(owner);
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${workspaceId}, ${viewer.id}, 'viewer')`;
    const asViewer = await start(viewer, { instance: fake.url, workspaceId });
    expect(asViewer.status).toBe(403);
    expect((await asViewer.json()).error.code).toBe("forbidden");
    const stranger = await start(bob, { instance: fake.url, workspaceId });
    expect(stranger.status).toBe(404);
    // In the database too: the viewer cannot begin a sign-in there by calling the function directly.
    const err = await sql
      .begin(async (tx) => {
        await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: viewer.id, role: "authenticated" })}, true), set_config('role', 'authenticated', true)`;
        await tx`select private.begin_connect(${workspaceId}, 'mastodon', ${fake.url}, 'http://x/cb', ${"a".repeat(64)}, null, null)`;
      })
      .catch((e) => e);
    expect(err?.code).toBe("42501");
  });

  it("does not let a user reconnect another workspace's account", async () => {
    const username = unique("theirs");
    await finish(alice, await consent(await authorizeUrlFor(alice, { instance: fake.url }), username));
    const [account] = await accountsOf(await workspaceOf(alice), `${username}@${host()}`);
    const res = await start(bob, { accountId: account.id });
    expect(res.status).toBe(404);
  });

  it.each(["10.0.0.5", "http://169.254.169.254", "192.168.1.1:3000", "[::1]:8080", "https://metadata.google.internal"])(
    "refuses the private address %s before sending anything",
    async (instance) => {
      const before = await sql`select count(*)::int as n from private.mastodon_apps`;
      const res = await start(alice, { instance });
      expect(res.status).toBe(400);
      const { error } = await res.json();
      expect(error.code).toBe("instance_not_allowed");
      expect(error.issues).toEqual([{ path: "instance", message: expect.stringContaining("not a public address") }]);
      expect((await sql`select count(*)::int as n from private.mastodon_apps`)[0].n).toBe(before[0].n);
    },
  );

  it("sends the code only to the app's configured address, whatever Host or X-Forwarded-Host a request names", async () => {
    const appUrl = process.env.PACER_APP_URL;
    expect(appUrl).toBeTruthy(); // the test stack sets it, as an operator must
    const apps = () => sql`select redirect_uri from private.mastodon_apps where redirect_uri like '%evil.example%'`;
    const url = new URL(
      await authorizeUrlFor(alice, { instance: fake.url }, { host: "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" }),
    );
    expect(url.searchParams.get("redirect_uri")).toBe(new URL("/api/accounts/mastodon/callback", appUrl).href);
    expect(await apps()).toHaveLength(0);
    expect([...fake.state.apps.values()].flatMap((a) => a.redirect_uris).filter((u) => u.includes("evil.example"))).toEqual([]);
    // The sign-in kept for the callback uses that address too.
    const back = await consent(url.href, unique("forged"));
    expect(new URL(back).origin).toBe(new URL(appUrl!).origin);
  });

  it("refuses to connect, naming PACER_APP_URL, when the operator has not set it, and sends nothing", async () => {
    const saved = process.env.PACER_APP_URL;
    const before = await sql`select count(*)::int as n from private.mastodon_apps`;
    delete process.env.PACER_APP_URL;
    try {
      const apps = fake.state.apps.size;
      const res = await start(alice, { instance: fake.url }, { host: "evil.example" });
      expect(res.status).toBe(503);
      const { error } = await res.json();
      expect(error.code).toBe("app_url_not_set");
      expect(error.message).toContain("PACER_APP_URL");
      expect(fake.state.apps.size).toBe(apps);
    } finally {
      if (saved === undefined) delete process.env.PACER_APP_URL;
      else process.env.PACER_APP_URL = saved;
    }
    expect((await sql`select count(*)::int as n from private.mastodon_apps`)[0].n).toBe(before[0].n);
  });

  it("counts every start against the 20 sign-ins in flight before sending anything, even one the instance fails", async () => {
    const carol = await signUp("m-carol");
    // A host that answers every request with an error: each start that reaches it fails.
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(500).end();
    }).listen(0, "127.0.0.1");
    await once(server, "listening");
    const instance = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (let i = 0; i < 20; i++) expect((await start(carol, { instance })).status).toBe(502);
      const sent = requests;
      expect(sent).toBeGreaterThan(0);
      const refused = await start(carol, { instance });
      expect(refused.status).toBe(429);
      expect((await refused.json()).error.code).toBe("too_many_sign_ins");
      expect(requests).toBe(sent);
      // Nor to another instance: Pacer is not registered there.
      const other = await startMastodonFake({ port: 0 });
      try {
        expect((await start(carol, { instance: other.url })).status).toBe(429);
        expect(other.state.apps.size).toBe(0);
      } finally {
        await other.stop();
      }
    } finally {
      server.close();
    }
  });

  it("refuses a replayed callback: one sign-in adds one account", async () => {
    const username = unique("replay");
    const back = await consent(await authorizeUrlFor(alice, { instance: fake.url }), username);
    expect((await finish(alice, back)).get("result")).toBe("connected");
    expect((await finish(alice, back)).get("error")).toBe("state_unknown");
    expect(await accountsOf(await workspaceOf(alice), `${username}@${host()}`)).toHaveLength(1);
  });

  it("refuses a sign-in older than 10 minutes", async () => {
    const url = await authorizeUrlFor(alice, { instance: fake.url });
    const back = await consent(url, unique("late"));
    const hash = Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(new URL(url).searchParams.get("state")!))).toString("hex");
    await sql`update private.connect_states set expires_at = now() - interval '1 second' where state_hash = ${hash}`;
    expect((await finish(alice, back)).get("error")).toBe("state_expired");
  });

  it("keeps Pacer's app and the sign-ins out of every user's reach", async () => {
    for (const table of ["private.mastodon_apps", "private.connect_states"]) {
      const err = await sql
        .begin(async (tx) => {
          await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: alice.id, role: "authenticated" })}, true), set_config('role', 'authenticated', true)`;
          await tx.unsafe(`select * from ${table}`);
        })
        .catch((e) => e);
      expect(err?.code, table).toBe("42501");
    }
    const [app] = await sql`select client_secret_encrypted from private.mastodon_apps where instance = ${fake.url}`;
    expect(app.client_secret_encrypted).toMatch(/^v1:/);
  });
});

describe("connecting against the fake instance", () => {
  it("registers Pacer once per instance, sends PKCE, and adds the account connected", async () => {
    const username = unique("happy");
    const url = new URL(await authorizeUrlFor(alice, { instance: `${fake.url}/` }));
    expect(url.origin).toBe(fake.url);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("scope")).toBe("read write:statuses write:media");
    const query = await finish(alice, await consent(url.href, username));
    const [account] = await accountsOf(await workspaceOf(alice), `${username}@${host()}`);
    // Only codes and the account's id travel back: the page reads the handle from the API.
    expect(Object.fromEntries(query)).toEqual({ connect: "mastodon", result: "connected", account: account.id });
    expect(account.state).toBe("connected");
    const credentials = await decryptCredentials(account.credentials_encrypted);
    expect(credentials).toMatchObject({ instance: fake.url, username });
    expect(tokenState(credentials.accessToken)?.revoked).toBe(false);
    const pacerApps = [...fake.state.apps.values()].filter((a) => a.name === "Pacer");
    expect(pacerApps).toHaveLength(1);
  });

  it("connects through an instance without PKCE, keeping no verifier it would refuse", async () => {
    const old = await startMastodonFake({ port: 0, config: { pkce: false } });
    try {
      const username = unique("nopkce");
      const url = new URL(await authorizeUrlFor(alice, { instance: old.url }));
      expect(url.searchParams.get("code_challenge")).toBeNull();
      const hash = Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(url.searchParams.get("state")!))).toString("hex");
      const [kept] = await sql`select code_verifier_encrypted from private.connect_states where state_hash = ${hash}`;
      expect(kept).toEqual({ code_verifier_encrypted: null });
      const query = await finish(alice, await consentAt(old, url.href, username));
      expect(query.get("result")).toBe("connected");
    } finally {
      await old.stop();
    }
  });

  it("adds a second account of the same instance from a browser still signed in there as the first", async () => {
    const [first, second] = [unique("first"), unique("second")];
    const signIn = async (authorizeUrl: string, username: string, cookie?: string) => {
      const form = new URLSearchParams(new URL(authorizeUrl).searchParams);
      form.set("username", username);
      form.set("decision", "approve");
      const res = await fetch(new URL("/oauth/authorize", fake.url), { method: "POST", body: form, redirect: "manual", headers: cookie ? { cookie } : {} });
      return { back: res.headers.get("location")!, cookie: res.headers.get("set-cookie")?.split(";")[0] };
    };
    const one = await signIn(await authorizeUrlFor(alice, { instance: fake.url }), first);
    expect((await finish(alice, one.back)).get("result")).toBe("connected");

    // The browser is signed in to the instance as the first user, who authorized Pacer: the instance
    // would send it straight back as them. Pacer asks the instance to let the user choose.
    const url = await authorizeUrlFor(alice, { instance: fake.url });
    expect(new URL(url).searchParams.get("force_login")).toBe("true");
    const page = await fetch(url, { headers: { cookie: one.cookie! }, redirect: "manual" });
    expect(page.status).toBe(200);
    const two = await signIn(url, second, one.cookie);
    const query = await finish(alice, two.back);
    expect(query.get("result")).toBe("connected");
    expect((await accountsOf(await workspaceOf(alice), `${second}@${host()}`)).map((a) => a.id)).toEqual([query.get("account")]);
  });

  it("lands on the accounts page saying so when the user denies", async () => {
    const username = unique("denier");
    const query = await finish(alice, await consent(await authorizeUrlFor(alice, { instance: fake.url }), username, "deny"));
    expect(query.get("error")).toBe("denied");
    expect(await accountsOf(await workspaceOf(alice), `${username}@${host()}`)).toHaveLength(0);
  });

  it("refuses an account over the plan's limit, in the database, and revokes the token it got", async () => {
    const full = await signUp("m-full");
    const workspaceId = await workspaceOf(full);
    const [{ max_accounts }] = await sql`select p.max_accounts from public.workspaces w join public.plans p on p.id = w.plan_id where w.id = ${workspaceId}`;
    await addAccounts(sql, workspaceId, max_accounts, "full");
    const username = unique("overplan");
    const query = await finish(full, await consent(await authorizeUrlFor(full, { instance: fake.url }), username));
    expect(query.get("error")).toBe("plan_limit_reached");
    expect(await accountsOf(workspaceId, `${username}@${host()}`)).toHaveLength(0);
    const user = fake.state.accountByUsername(username)!;
    const tokens = [...fake.state.tokens.values()].filter((t) => t.account_id === user.id);
    expect(tokens.length).toBe(1);
    expect(tokens[0].revoked).toBe(true);
  });

  it("answers a name that resolves to an internal address as it answers a name that does not resolve", async () => {
    // The instance is the user's input: telling the two apart would tell which internal names exist.
    const logged = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const replies = [];
      for (const instance of ["http://localhost:9", "http://no-such-instance.pacer-test.invalid"]) {
        const res = await start(alice, { instance });
        expect(res.status, instance).toBe(502);
        const { error } = await res.json();
        expect(error.code, instance).toBe("instance_unreachable");
        expect(JSON.stringify(error), instance).not.toMatch(/127\.0\.0\.1|::1|public|loopback|PACER_ALLOWED_HOSTS/);
        replies.push(error.message.replace(new URL(instance).host, "HOST"));
      }
      expect(replies[0]).toBe(replies[1]);
    } finally {
      logged.mockRestore();
    }
  });

  it("says when the instance cannot be reached", async () => {
    const res = await start(alice, { instance: "http://127.0.0.1:9" });
    expect(res.status).toBe(502);
    expect((await res.json()).error.code).toBe("instance_unreachable");
  });

  it("reconnects an account that needs it: the same account, new credentials, connected again", async () => {
    const username = unique("recon");
    const workspaceId = await workspaceOf(alice);
    await finish(alice, await consent(await authorizeUrlFor(alice, { instance: fake.url }), username));
    const [before] = await accountsOf(workspaceId, `${username}@${host()}`);
    fake.revokeTokens(username);
    await sql`update public.social_accounts set state = 'needs_reconnect', last_error = 'token revoked' where id = ${before.id}`;

    // Someone else's Mastodon user cannot stand in for it.
    const wrong = await finish(alice, await consent(await authorizeUrlFor(alice, { accountId: before.id }), unique("other")));
    expect(wrong.get("error")).toBe("wrong_account");

    const query = await finish(alice, await consent(await authorizeUrlFor(alice, { accountId: before.id }), username));
    expect(query.get("result")).toBe("reconnected");
    const after = await accountsOf(workspaceId, `${username}@${host()}`);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: before.id, state: "connected" });
    const credentials = await decryptCredentials(after[0].credentials_encrypted);
    expect(credentials.accessToken).not.toBe((await decryptCredentials(before.credentials_encrypted)).accessToken);
    expect(tokenState(credentials.accessToken)?.revoked).toBe(false);
  });

  it("revokes the token when the account is removed", async () => {
    const username = unique("bye");
    await finish(alice, await consent(await authorizeUrlFor(alice, { instance: fake.url }), username));
    const [account] = await accountsOf(await workspaceOf(alice), `${username}@${host()}`);
    const { accessToken } = await decryptCredentials(account.credentials_encrypted);
    const res = await accountRoute.DELETE(
      new Request(`${BASE}/api/accounts/${account.id}`, { method: "DELETE", headers: { authorization: `Bearer ${alice.accessToken}` } }),
      { params: Promise.resolve({ id: account.id }) },
    );
    expect(res.status).toBe(204);
    expect(tokenState(accessToken)?.revoked).toBe(true);
  });

  it("revokes it though another workspace names the same handle: only the stored identity is compared", async () => {
    const username = unique("named");
    const handle = `${username}@${host()}`;
    await finish(alice, await consent(await authorizeUrlFor(alice, { instance: fake.url }), username));
    const [account] = await accountsOf(await workspaceOf(alice), handle);
    const stored = (await sql`select platform_identity from public.social_accounts where id = ${account.id}`)[0].platform_identity;
    expect(stored).toBe(`${fake.url}#${fake.state.accountByUsername(username)!.id}`);
    // Its handle is Mastodon's: renaming it is refused, its display name is not.
    const patch = (body: unknown) =>
      accountRoute.PATCH(
        new Request(`${BASE}/api/accounts/${account.id}`, { method: "PATCH", headers: { authorization: `Bearer ${alice.accessToken}`, "content-type": "application/json" }, body: JSON.stringify(body) }),
        { params: Promise.resolve({ id: account.id }) },
      );
    const renamed = await patch({ handle: "someone_else" });
    expect(renamed.status).toBe(400);
    expect((await renamed.json()).error).toMatchObject({ code: "validation_failed", issues: [{ path: "handle" }] });
    expect((await patch({ displayName: "Shown name" })).status).toBe(200);
    // Another tenant writes a row with that handle straight to the table (no credentials, not connected).
    const mallory = await signUp("m-mallory");
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: mallory.id, role: "authenticated" })}, true), set_config('role', 'authenticated', true)`;
      await tx`insert into public.social_accounts (workspace_id, platform, handle, display_name) values (${await workspaceOf(mallory)}, 'mastodon', ${handle}, 'Not you')`;
    });
    const { accessToken } = await decryptCredentials(account.credentials_encrypted);
    const res = await accountRoute.DELETE(
      new Request(`${BASE}/api/accounts/${account.id}`, { method: "DELETE", headers: { authorization: `Bearer ${alice.accessToken}` } }),
      { params: Promise.resolve({ id: account.id }) },
    );
    expect(res.status).toBe(204);
    expect(tokenState(accessToken)?.revoked).toBe(true);
  });
});
