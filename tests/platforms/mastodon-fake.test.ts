// The local Mastodon fake (local/platforms/mastodon) over plain HTTP, against the documented
// behaviour each test names (docs.joinmastodon.org pages; server-code details in docs/platforms/mastodon.md).
import { createHash, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMastodonFake, type MastodonFake } from "@/local/platforms/mastodon/index.ts";
import { seededRandom } from "@/local/sandbox/network.ts";

let fake: MastodonFake;
beforeAll(async () => {
  fake = await startMastodonFake({ port: 0 });
});
afterAll(() => fake?.stop());

const REDIRECT = "https://pacer.example/api/connect/mastodon/callback";
const unique = () => `u${randomUUID().replace(/-/g, "").slice(0, 10)}`;

function api(method: string, path: string, opts: { token?: string; json?: unknown; form?: URLSearchParams | FormData; headers?: Record<string, string>; base?: string } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(opts.json);
  } else body = opts.form;
  return fetch(`${opts.base ?? fake.url}${path}`, { method, headers, body, redirect: "manual" });
}

async function user(scopes?: string[]) {
  const name = unique();
  fake.createUser(name);
  return { name, token: fake.issueToken(name, scopes) };
}

const post = (token: string, json: Record<string, unknown>, key?: string) => api("POST", "/api/v1/statuses", { token, json, headers: key ? { "idempotency-key": key } : {} });

describe("OAuth (https://docs.joinmastodon.org/methods/apps/, /methods/oauth/)", () => {
  async function registerApp(scopes = "read write:statuses write:media") {
    const res = await api("POST", "/api/v1/apps", { json: { client_name: "Pacer", redirect_uris: [REDIRECT], scopes } });
    return (await res.json()) as { client_id: string; client_secret: string; redirect_uris: string[]; scopes: string[]; client_secret_expires_at: number };
  }

  async function authorizeAndApprove(app: { client_id: string }, extra: Record<string, string> = {}, username = unique()) {
    const form = new URLSearchParams({ response_type: "code", client_id: app.client_id, redirect_uri: REDIRECT, scope: "read write:statuses write:media", state: "s1", username, decision: "approve", ...extra });
    const res = await api("POST", "/oauth/authorize", { form });
    return new URL(res.headers.get("location")!);
  }

  it("registers an app (methods/apps#create): secret that never expires, redirect_uris and scopes as arrays; a relative redirect URI is 422", async () => {
    const app = await registerApp();
    expect(app).toMatchObject({ client_secret_expires_at: 0, redirect_uris: [REDIRECT], scopes: ["read", "write:statuses", "write:media"] });
    const bad = await api("POST", "/api/v1/apps", { json: { client_name: "Pacer", redirect_uris: "/callback" } });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toEqual({ error: "Validation failed: Redirect URI must be an absolute URI." });
  });

  it("advertises PKCE S256 and no refresh_token grant (methods/oauth#authorization-server-metadata); an older server answers 404", async () => {
    const meta = (await (await api("GET", "/.well-known/oauth-authorization-server")).json()) as Record<string, string[]>;
    expect(meta.code_challenge_methods_supported).toEqual(["S256"]);
    expect(meta.grant_types_supported).not.toContain("refresh_token");
    const old = await startMastodonFake({ port: 0, config: { pkce: false } });
    try {
      expect((await api("GET", "/.well-known/oauth-authorization-server", { base: old.url })).status).toBe(404);
    } finally {
      await old.stop();
    }
  });

  it("shows a consent page, refuses scopes beyond the app's, and redirects access_denied on deny (methods/oauth#authorize)", async () => {
    const app = await registerApp("read write:statuses");
    const page = await api("GET", `/oauth/authorize?response_type=code&client_id=${app.client_id}&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=read`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="decision" value="approve"');
    const wider = await api("GET", `/oauth/authorize?response_type=code&client_id=${app.client_id}&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=read+write:media&state=x`);
    expect(new URL(wider.headers.get("location")!).searchParams.get("error")).toBe("invalid_scope");
    const denied = await authorizeAndApprove(app, { scope: "read", decision: "deny" });
    expect(Object.fromEntries(denied.searchParams)).toMatchObject({ error: "access_denied", state: "s1" });
  });

  it("exchanges a code once, checks the PKCE verifier, and issues a token without expiry or refresh (methods/oauth#token)", async () => {
    const app = await registerApp();
    const verifier = randomUUID() + randomUUID();
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const back = await authorizeAndApprove(app, { code_challenge: challenge, code_challenge_method: "S256" });
    const code = back.searchParams.get("code")!;
    const exchange = (v: string) =>
      api("POST", "/oauth/token", { json: { grant_type: "authorization_code", code, client_id: app.client_id, client_secret: app.client_secret, redirect_uri: REDIRECT, code_verifier: v } });
    const wrong = await exchange("not-the-verifier");
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toBe("invalid_grant");
    const ok = await exchange(verifier);
    const token = (await ok.json()) as Record<string, unknown>;
    expect(token).toMatchObject({ token_type: "Bearer", scope: "read write:statuses write:media" });
    expect(token).not.toHaveProperty("expires_in");
    expect(token).not.toHaveProperty("refresh_token");
    expect((await exchange(verifier)).status).toBe(400); // used once
    const refresh = await api("POST", "/oauth/token", { json: { grant_type: "refresh_token", refresh_token: "x", client_id: app.client_id, client_secret: app.client_secret } });
    expect(((await refresh.json()) as { error: string }).error).toBe("unsupported_grant_type");
  });

  it("a signed-in browser that already authorized the app is sent straight back as that user; force_login asks who signs in (Oauth::AuthorizationsController)", async () => {
    const app = await registerApp();
    const query = new URLSearchParams({ response_type: "code", client_id: app.client_id, redirect_uri: REDIRECT, scope: "read write:statuses write:media", state: "s2" });
    const first = unique();
    // Signing in on the consent page leaves the browser signed in to the instance.
    const approved = await api("POST", "/oauth/authorize", { form: new URLSearchParams({ ...Object.fromEntries(query), username: first, decision: "approve" }) });
    const cookie = approved.headers.get("set-cookie")!.split(";")[0];
    const code = new URL(approved.headers.get("location")!).searchParams.get("code")!;
    const exchanged = await api("POST", "/oauth/token", { json: { grant_type: "authorization_code", code, client_id: app.client_id, client_secret: app.client_secret, redirect_uri: REDIRECT } });
    expect(exchanged.status).toBe(200);

    // The next sign-in in that browser: no page, a code for the same user (a matching token exists).
    const again = await api("GET", `/oauth/authorize?${query}`, { headers: { cookie } });
    expect(again.status).toBe(302);
    const auto = fake.state.codes.get(new URL(again.headers.get("location")!).searchParams.get("code")!)!;
    expect(fake.state.accounts.get(auto.account_id)?.username).toBe(first);

    // With force_login the instance signs the browser out and asks; the user signs in as someone else.
    query.set("force_login", "true");
    const page = await api("GET", `/oauth/authorize?${query}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    const second = unique();
    const other = await api("POST", "/oauth/authorize", { form: new URLSearchParams({ ...Object.fromEntries(query), username: second, decision: "approve" }), headers: { cookie } });
    const code2 = fake.state.codes.get(new URL(other.headers.get("location")!).searchParams.get("code")!)!;
    expect(fake.state.accounts.get(code2.account_id)?.username).toBe(second);
  });

  it("a code expires after 10 minutes; an unknown client is 401 invalid_client", async () => {
    const app = await registerApp();
    const code = (await authorizeAndApprove(app)).searchParams.get("code")!;
    fake.advanceClock(10 * 60_000 + 1);
    const late = await api("POST", "/oauth/token", { json: { grant_type: "authorization_code", code, client_id: app.client_id, client_secret: app.client_secret, redirect_uri: REDIRECT } });
    expect(((await late.json()) as { error: string }).error).toBe("invalid_grant");
    fake.forgetApp(app.client_id);
    const forgotten = await api("POST", "/oauth/token", { json: { grant_type: "authorization_code", code, client_id: app.client_id, client_secret: app.client_secret, redirect_uri: REDIRECT } });
    expect(forgotten.status).toBe(401);
    expect(((await forgotten.json()) as { error: string }).error).toBe("invalid_client");
  });

  it("revokes idempotently; the revoked token answers 401 'The access token was revoked' (methods/oauth#revoke)", async () => {
    const app = await registerApp();
    const code = (await authorizeAndApprove(app)).searchParams.get("code")!;
    const { access_token } = (await (await api("POST", "/oauth/token", { json: { grant_type: "authorization_code", code, client_id: app.client_id, client_secret: app.client_secret, redirect_uri: REDIRECT } })).json()) as { access_token: string };
    expect((await api("GET", "/api/v1/accounts/verify_credentials", { token: access_token })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const r = await api("POST", "/oauth/revoke", { json: { client_id: app.client_id, client_secret: app.client_secret, token: access_token } });
      expect([r.status, await r.json()]).toEqual([200, {}]);
    }
    const after = await api("GET", "/api/v1/accounts/verify_credentials", { token: access_token });
    expect([after.status, await after.json()]).toEqual([401, { error: "The access token was revoked" }]);
  });
});

describe("accounts (https://docs.joinmastodon.org/methods/accounts/#verify_credentials, /entities/Error/)", () => {
  it("answers the CredentialAccount, and each moderation state with its 403", async () => {
    const u = await user();
    const me = (await (await api("GET", "/api/v1/accounts/verify_credentials", { token: u.token })).json()) as Record<string, unknown>;
    expect(me).toMatchObject({ username: u.name, acct: u.name, followers_count: 0, source: expect.any(Object) });
    for (const [state, text] of [
      ["suspended", "Your login is currently disabled"],
      ["unconfirmed", "Your login is missing a confirmed e-mail address"],
      ["pending", "Your login is currently pending approval"],
    ] as const) {
      fake.setAccountState(u.name, state);
      const r = await post(u.token, { status: "hi" });
      expect([r.status, await r.json()]).toEqual([403, { error: text }]);
    }
  });

  it("a token without write:statuses is 403 outside the authorized scopes", async () => {
    const u = await user(["read"]);
    const r = await post(u.token, { status: "hi" });
    expect([r.status, await r.json()]).toEqual([403, { error: "This action is outside the authorized scopes" }]);
  });
});

describe("statuses (https://docs.joinmastodon.org/methods/statuses/#create)", () => {
  it("creates a status with the Status entity's fields and content as HTML", async () => {
    const u = await user();
    const r = await post(u.token, { status: "Hello <world>\n\nsee https://example.com/a?b=1 @bob@other.social #Tag" });
    expect(r.status).toBe(200);
    const s = (await r.json()) as Record<string, unknown>;
    expect(s).toMatchObject({ id: expect.stringMatching(/^\d+$/), visibility: "public", application: { name: "Fake test client" }, url: expect.stringContaining(`/@${u.name}/`) });
    expect(s.content).toMatch(/^<p>Hello &lt;world&gt;<\/p><p>see <a href="https:\/\/example.com\/a\?b=1"/);
    expect(s.content).toContain('class="u-url mention">@<span>bob</span></a>');
  });

  it("Idempotency-Key: the same key returns the first status for an hour from its creation, whatever the body; then it posts again", async () => {
    const u = await user();
    const first = (await (await post(u.token, { status: "one" }, "k1")).json()) as { id: string };
    const again = await post(u.token, { status: "a different text" }, "k1");
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(first.id);
    expect(fake.statusesOf(u.name)).toHaveLength(1);
    fake.advanceClock(3_600_000 + 1);
    const later = (await (await post(u.token, { status: "one" }, "k1")).json()) as { id: string };
    expect(later.id).not.toBe(first.id);
    expect(fake.statusesOf(u.name)).toHaveLength(2);
  });

  it("Idempotency-Key: a deleted original answers 404; a failure stores no key", async () => {
    const u = await user();
    const first = (await (await post(u.token, { status: "one" }, "k2")).json()) as { id: string };
    expect((await api("DELETE", `/api/v1/statuses/${first.id}`, { token: u.token })).status).toBe(200);
    expect((await post(u.token, { status: "one" }, "k2")).status).toBe(404);
    expect((await post(u.token, { status: "" }, "k3")).status).toBe(422);
    expect((await post(u.token, { status: "now valid" }, "k3")).status).toBe(200);
  });

  it("Idempotency-Key: a same-key request while the first holds the lock is 503 (PR #37879), never a second status", async () => {
    const u = await user();
    fake.nextFault(u.name, { kind: "slow_commit", ms: 300 });
    const slow = post(u.token, { status: "slow" }, "k4");
    await new Promise((r) => setTimeout(r, 50));
    const concurrent = await post(u.token, { status: "slow" }, "k4");
    expect([concurrent.status, await concurrent.json()]).toEqual([503, { error: "There was a temporary problem serving your request, please try again" }]);
    expect((await slow).status).toBe(200);
    expect(fake.statusesOf(u.name)).toHaveLength(1);
  });

  it("modes: pre-lock lets concurrent same-key requests both post; bug-40399 answers a duplicate with 500", async () => {
    const old = await startMastodonFake({ port: 0, config: { idempotency: "pre-lock" } });
    try {
      old.createUser("a");
      const token = old.issueToken("a");
      old.nextFault("a", { kind: "slow_commit", ms: 200 });
      const send = () => api("POST", "/api/v1/statuses", { base: old.url, token, json: { status: "x" }, headers: { "idempotency-key": "k" } });
      const first = send();
      await new Promise((r) => setTimeout(r, 30));
      const statuses = await Promise.all([first, send()]);
      expect(statuses.map((r) => r.status)).toEqual([200, 200]);
      expect(old.statusesOf("a")).toHaveLength(2); // the duplicate #37879 fixed
    } finally {
      await old.stop();
    }
    const buggy = await startMastodonFake({ port: 0, config: { idempotency: "bug-40399" } });
    try {
      buggy.createUser("b");
      const token = buggy.issueToken("b");
      const send = () => api("POST", "/api/v1/statuses", { base: buggy.url, token, json: { status: "y" }, headers: { "idempotency-key": "k" } });
      expect((await send()).status).toBe(200);
      expect((await send()).status).toBe(500);
      expect(buggy.statusesOf("b")).toHaveLength(1);
    } finally {
      await buggy.stop();
    }
  });

  it("counts length as StatusLengthValidator does and names the instance's limit in the 422", async () => {
    const u = await user();
    const url = `https://example.com/${"x".repeat(300)}`;
    expect((await post(u.token, { status: `${"a".repeat(476)} ${url}` })).status).toBe(200); // 476 + 1 + 23 = 500
    const over = await post(u.token, { status: "a".repeat(501) });
    expect([over.status, await over.json()]).toEqual([422, { error: "Validation failed: Text character limit of 500 exceeded" }]);
    expect((await post(u.token, { status: "   " })).status).toBe(422);
  });

  it("visibility, spoiler_text and in_reply_to_id are stored as sent; a visibility outside the four is 422 with nothing stored", async () => {
    const { name, token } = await user();
    const root = await (await post(token, { status: "root", visibility: "private", spoiler_text: "CW" })).json();
    expect(root).toMatchObject({ visibility: "private", spoiler_text: "CW", sensitive: true, in_reply_to_id: null });
    const reply = await (await post(token, { status: "reply", visibility: "private", spoiler_text: "CW", in_reply_to_id: root.id })).json();
    expect(reply).toMatchObject({ visibility: "private", spoiler_text: "CW", in_reply_to_id: root.id });
    const refused = await post(token, { status: "loud", visibility: "everyone" });
    expect(refused.status).toBe(422);
    expect(fake.statusesOf(name).map((s) => [s.text, s.visibility, s.spoiler_text, s.in_reply_to_id])).toEqual([
      ["root", "private", "CW", null],
      ["reply", "private", "CW", root.id],
    ]);
  });

  it("context (methods/statuses#context): descendants depth first in thread order; a private thread only for its author", async () => {
    const { token } = await user();
    const root = await (await post(token, { status: "1", visibility: "private" })).json();
    const two = await (await post(token, { status: "2", visibility: "private", in_reply_to_id: root.id })).json();
    const three = await (await post(token, { status: "3", visibility: "private", in_reply_to_id: two.id })).json();
    const aside = await (await post(token, { status: "aside", visibility: "private", in_reply_to_id: root.id })).json();
    const context = await (await api("GET", `/api/v1/statuses/${root.id}/context`, { token })).json();
    expect(context.ancestors).toEqual([]);
    expect(context.descendants.map((s: { id: string }) => s.id)).toEqual([two.id, three.id, aside.id]);
    const fromThree = await (await api("GET", `/api/v1/statuses/${three.id}/context`, { token })).json();
    expect(fromThree.ancestors.map((s: { id: string }) => s.id)).toEqual([root.id, two.id]);
    const stranger = await user();
    expect((await api("GET", `/api/v1/statuses/${root.id}/context`, { token: stranger.token })).status).toBe(404);
  });

  it("a reply to an unknown status is 404; a silenced account's public post is stored unlisted", async () => {
    const u = await user();
    expect((await post(u.token, { status: "re", in_reply_to_id: "999" })).status).toBe(404);
    fake.setSilenced(u.name, true);
    const s = (await (await post(u.token, { status: "quiet", visibility: "public" })).json()) as { visibility: string };
    expect(s.visibility).toBe("unlisted");
  });

  it("a dropped answer after commit leaves the status stored; a reset before commit stores nothing", async () => {
    const u = await user();
    fake.nextFault(u.name, { kind: "drop_after_commit" });
    await expect(post(u.token, { status: "lost" })).rejects.toThrow();
    fake.nextFault(u.name, { kind: "reset_before_commit" });
    await expect(post(u.token, { status: "never" })).rejects.toThrow();
    expect(fake.statusesOf(u.name).map((s) => [s.text, s.response_lost])).toEqual([["lost", "drop_after_commit"]]);
  });

  it("random faults (the chaos test's mode): each status creation meets at most one, at its share, replayed from the seed", async () => {
    // A user per run: 300 statuses would reach the statuses family's 3-hour limit.
    const run = async (u: { name: string; token: string }) => {
      fake.setRandomFaults({ shares: { error_before_commit: 0.2, drop_after_commit: 0.2 }, random: seededRandom(7), status: 502 });
      const answers: string[] = [];
      for (let i = 0; i < 150; i++) {
        answers.push(await post(u.token, { status: `roll ${i}` }).then((r) => String(r.status), () => "reset"));
      }
      const dice = fake.state.randomFaults!;
      fake.setRandomFaults(null);
      return { answers, dice };
    };
    const u = await user();
    const { answers, dice } = await run(u);
    expect(dice.requests).toBe(150);
    for (const n of [dice.fired.error_before_commit, dice.fired.drop_after_commit]) expect(n / 150).toBeGreaterThan(0.1);
    expect(answers.filter((a) => a === "502").length).toBe(dice.fired.error_before_commit);
    expect(answers.filter((a) => a === "reset").length).toBe(dice.fired.drop_after_commit);
    // A 5xx before the commit stores nothing; a dropped answer's status is stored.
    const stored = fake.statusesOf(u.name);
    expect(stored.length).toBe(150 - dice.fired.error_before_commit);
    expect(stored.filter((s) => s.response_lost === "drop_after_commit").length).toBe(dice.fired.drop_after_commit);
    // The same seed, the same faults in the same places; off again afterwards.
    expect((await run(await user())).answers).toEqual(answers);
    expect((await post((await user()).token, { status: "calm" })).status).toBe(200);
  });
});

describe("account statuses (https://docs.joinmastodon.org/methods/accounts/#statuses, /api/guidelines/#pagination)", () => {
  it("lists newest first, at most 40, with a Link header to older pages", async () => {
    const u = await user();
    for (let i = 0; i < 45; i++) await post(u.token, { status: `n${i}`, visibility: i === 0 ? "private" : "public" });
    const me = (await (await api("GET", "/api/v1/accounts/verify_credentials", { token: u.token })).json()) as { id: string };
    const first = await api("GET", `/api/v1/accounts/${me.id}/statuses?limit=100`, { token: u.token });
    const page = (await first.json()) as Array<{ content: string; id: string }>;
    expect(page).toHaveLength(40);
    expect(page[0].content).toBe("<p>n44</p>");
    const next = first.headers.get("link")!.match(/<([^>]+)>; rel="next"/)![1];
    expect(next).toContain(`max_id=${page[39].id}`);
    const older = (await (await fetch(next, { headers: { authorization: `Bearer ${u.token}` } })).json()) as Array<{ content: string; visibility: string }>;
    expect(older.map((s) => s.content)).toEqual(["<p>n4</p>", "<p>n3</p>", "<p>n2</p>", "<p>n1</p>", "<p>n0</p>"]);
    expect(older[4].visibility).toBe("private"); // the author sees every visibility
  });
});

describe("media (https://docs.joinmastodon.org/methods/media/)", () => {
  const upload = (token: string, type: string, size = 10) => {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(size)], { type }), "f");
    return api("POST", "/api/v2/media", { token, form });
  };

  it("an image is processed at once (200); a video is 202, then 206 while processing, then 200; attaching it before is 422", async () => {
    const u = await user();
    const image = await upload(u.token, "image/png");
    expect([image.status, ((await image.json()) as { url: unknown }).url]).toEqual([200, expect.any(String)]);
    const video = await upload(u.token, "video/mp4");
    const v = (await video.json()) as { id: string; url: unknown };
    expect([video.status, v.url]).toEqual([202, null]);
    expect((await api("GET", `/api/v1/media/${v.id}`, { token: u.token })).status).toBe(206);
    const early = await post(u.token, { status: "clip", media_ids: [v.id] });
    expect(early.status).toBe(422);
    fake.advanceClock(fake.state.config.mediaProcessingMs);
    expect((await api("GET", `/api/v1/media/${v.id}`, { token: u.token })).status).toBe(200);
    expect((await post(u.token, { status: "clip", media_ids: [v.id] })).status).toBe(200);
  });

  it("refuses an unknown type with 422 and answers a thumbnail failure with 500", async () => {
    const u = await user();
    expect((await upload(u.token, "application/pdf")).status).toBe(422);
    fake.nextFault(u.name, { kind: "media_error" });
    const failed = await upload(u.token, "image/png");
    expect([failed.status, await failed.json()]).toEqual([500, { error: "Error processing thumbnail for uploaded media" }]);
  });
});

describe("rate limits (https://docs.joinmastodon.org/api/rate-limits/)", () => {
  it("states X-RateLimit-* on every API answer, the reset as ISO 8601 with microseconds at the window's end", async () => {
    const u = await user();
    const r = await api("GET", "/api/v1/accounts/verify_credentials", { token: u.token });
    expect(r.headers.get("x-ratelimit-limit")).toBe("300");
    expect(Number(r.headers.get("x-ratelimit-remaining"))).toBeLessThan(300);
    const reset = r.headers.get("x-ratelimit-reset")!;
    expect(reset).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(Date.parse(reset) % (5 * 60_000)).toBe(0);
  });

  it("a status creation states the statuses family (300 per 3 hours), and past a limit answers 429 without Retry-After", async () => {
    const small = await startMastodonFake({ port: 0, config: { throttles: { ...fake.state.config.throttles, statuses: { limit: 1, periodMs: 3 * 3_600_000 } } } });
    try {
      small.createUser("c");
      const token = small.issueToken("c");
      const send = () => api("POST", "/api/v1/statuses", { base: small.url, token, json: { status: `s ${randomUUID()}` } });
      const ok = await send();
      expect([ok.headers.get("x-ratelimit-limit"), ok.headers.get("x-ratelimit-remaining")]).toEqual(["1", "0"]);
      const limited = await send();
      expect([limited.status, await limited.json()]).toEqual([429, { error: "Too many requests" }]);
      expect(limited.headers.get("retry-after")).toBeNull();
      expect(Date.parse(limited.headers.get("x-ratelimit-reset")!) % (3 * 3_600_000)).toBe(0);
      expect(small.statusesOf("c")).toHaveLength(1);
    } finally {
      await small.stop();
    }
  });

  it("counts per token in fixed windows: the request past the limit is 429, the next window is whole again", async () => {
    const small = await startMastodonFake({ port: 0, config: { throttles: { ...fake.state.config.throttles, perToken: { limit: 2, periodMs: 60_000 } } } });
    try {
      small.createUser("d");
      const token = small.issueToken("d");
      const read = () => api("GET", "/api/v1/accounts/verify_credentials", { base: small.url, token });
      expect([(await read()).status, (await read()).status, (await read()).status]).toEqual([200, 200, 429]);
      small.advanceClock(60_000);
      expect((await read()).status).toBe(200);
    } finally {
      await small.stop();
    }
  });
});

describe("instance (https://docs.joinmastodon.org/methods/instance/#v2)", () => {
  it("states the status limits; an older server has only /api/v1/instance", async () => {
    const v2 = (await (await api("GET", "/api/v2/instance")).json()) as { configuration: { statuses: Record<string, number> } };
    expect(v2.configuration.statuses).toEqual({ max_characters: 500, max_media_attachments: 4, characters_reserved_per_url: 23 });
    const old = await startMastodonFake({ port: 0, config: { instanceV2: false, maxCharacters: 1_000 } });
    try {
      expect((await api("GET", "/api/v2/instance", { base: old.url })).status).toBe(404);
      const v1 = (await (await api("GET", "/api/v1/instance", { base: old.url })).json()) as { configuration: { statuses: Record<string, number> } };
      expect(v1.configuration.statuses.max_characters).toBe(1_000);
    } finally {
      await old.stop();
    }
  });
});
