// The sandbox platform over real HTTP: what it stores, counts and refuses, and that every injected
// fault does what it says — especially that faults after commit leave the post live.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Faults, type Sandbox } from "@/local/sandbox/index.ts";
import { freePort } from "../setup/free-port.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: await freePort(), seed: 7 });
});
afterAll(() => sandbox?.stop());

const unique = (prefix: string) => `${prefix}_${randomUUID().slice(0, 8)}`;

function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, base = sandbox.url) {
  return fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function newAccount(prefix = "acct", base = sandbox.url) {
  const handle = unique(prefix);
  const res = await call("POST", "/v1/accounts", { handle }, {}, base);
  const { token } = (await res.json()) as { token: string };
  const auth = { authorization: `Bearer ${token}` };
  return {
    handle,
    token,
    publish: (body: Record<string, unknown>, init: { signal?: AbortSignal } = {}) =>
      fetch(`${base}/v1/accounts/${handle}/posts`, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth },
        body: JSON.stringify(body),
        signal: init.signal,
      }),
    read: (query = "") => fetch(`${base}/v1/accounts/${handle}/posts${query}`, { headers: auth }),
    metrics: () => fetch(`${base}/v1/accounts/${handle}/metrics`, { headers: auth }),
    faults: (faults: Faults) => call("POST", "/v1/admin/faults", { handle, faults }, {}, base),
    stored: () => sandbox.stats().byAccount[handle] ?? 0,
  };
}

describe("accounts and posts", () => {
  it("hands a handle's token out once, to whoever creates it: creating it again is refused without the token", async () => {
    const handle = unique("twice");
    const first = await call("POST", "/v1/accounts", { handle });
    const second = await call("POST", "/v1/accounts", { handle });
    expect([first.status, second.status]).toEqual([201, 409]);
    const { token } = await first.json();
    expect(token).toMatch(/^sbx_/);
    const refusal = await second.json();
    expect(refusal).toMatchObject({ error: "handle_taken" });
    expect(JSON.stringify(refusal)).not.toContain(token);
    // Without the token, the second caller cannot post into the first one's feed.
    const post = await call("POST", `/v1/accounts/${handle}/posts`, { text: "not mine" }, { authorization: "Bearer sbx_guess" });
    expect(post.status).toBe(401);
    expect(sandbox.stats().byAccount[handle]).toBe(0);
  });

  it("stores a post, counts it and reads it back by client_ref", async () => {
    const acct = await newAccount();
    const res = await acct.publish({ text: "hello", client_ref: "ref-hello", destination: "r/test" });
    expect(res.status).toBe(201);
    const post = await res.json();
    expect(post).toMatchObject({ text: "hello", client_ref: "ref-hello", destination: "r/test" });
    expect(post.url).toContain(sandbox.url);
    expect(acct.stored()).toBe(1);

    const found = await (await acct.read("?client_ref=ref-hello")).json();
    expect(found.posts.map((p: { id: string }) => p.id)).toEqual([post.id]);
    expect((await (await acct.read("?client_ref=ref-other")).json()).posts).toEqual([]);
  });

  it("lists an account's recent posts newest first", async () => {
    const acct = await newAccount();
    for (const text of ["one", "two", "three"]) await acct.publish({ text });
    const { posts } = await (await acct.read("?limit=2")).json();
    expect(posts.map((p: { text: string }) => p.text)).toEqual(["three", "two"]);
  });

  it("refuses a token that is not the account's, and an account that does not exist", async () => {
    const acct = await newAccount();
    const other = await newAccount();
    const wrong = await call("POST", `/v1/accounts/${acct.handle}/posts`, { text: "x" }, { authorization: `Bearer ${other.token}` });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error).toBe("invalid_token");
    const missing = await call("POST", `/v1/accounts/nobody_${randomUUID().slice(0, 6)}/posts`, { text: "x" });
    expect(missing.status).toBe(404);
  });

  it("rejects a post without text, naming the field", async () => {
    const acct = await newAccount();
    const res = await acct.publish({ text: "" });
    expect(res.status).toBe(400);
    expect((await res.json()).issues[0].path).toBe("text");
    expect(acct.stored()).toBe(0);
  });

  it("rejects the exact text of a recent post as duplicate content", async () => {
    const acct = await newAccount();
    expect((await acct.publish({ text: "same words" })).status).toBe(201);
    const again = await acct.publish({ text: "same words", client_ref: "another" });
    expect(again.status).toBe(422);
    expect((await again.json()).error).toBe("duplicate_content");
    expect(acct.stored()).toBe(1);
  });

  it("answers 429 with Retry-After once the account is over its limit", async () => {
    const acct = await newAccount();
    await call("POST", "/v1/admin/config", { handle: acct.handle, rate_limit: { posts: 2, window_ms: 60_000 } });
    expect((await acct.publish({ text: "a" })).status).toBe(201);
    expect((await acct.publish({ text: "b" })).status).toBe(201);
    const limited = await acct.publish({ text: "c" });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(acct.stored()).toBe(2);
  });
});

describe("faults before the post is stored", () => {
  it("error_before_commit answers 500 and stores nothing", async () => {
    const acct = await newAccount();
    await acct.faults({ error_before_commit: 1 });
    expect((await acct.publish({ text: "x" })).status).toBe(500);
    expect(acct.stored()).toBe(0);
  });

  it("reset_before_commit drops the connection and stores nothing", async () => {
    const acct = await newAccount();
    await acct.faults({ reset_before_commit: 1 });
    await expect(acct.publish({ text: "x" })).rejects.toThrow(TypeError);
    expect(acct.stored()).toBe(0);
  });

  it("token_expired, restricted and duplicate_content refuse with the platform's codes", async () => {
    const cases: Array<[Faults, number, string]> = [
      [{ token_expired: 1 }, 401, "token_expired"],
      [{ restricted: 1 }, 403, "account_restricted"],
      [{ duplicate_content: 1 }, 422, "duplicate_content"],
    ];
    for (const [faults, status, code] of cases) {
      const acct = await newAccount();
      await acct.faults(faults);
      const res = await acct.publish({ text: `never seen ${randomUUID()}` });
      expect([res.status, (await res.json()).error]).toEqual([status, code]);
      expect(acct.stored()).toBe(0);
    }
  });

  it("destination_rejected refuses only posts that name a destination", async () => {
    const acct = await newAccount();
    await acct.faults({ destination_rejected: 1 });
    const into = await acct.publish({ text: "to a group", destination: "g/cats" });
    expect([into.status, (await into.json()).error]).toEqual([403, "destination_rejected"]);
    expect((await acct.publish({ text: "to my own feed" })).status).toBe(201);
    expect(acct.stored()).toBe(1);
  });

  it("latency holds every answer for at least its ms", async () => {
    const acct = await newAccount();
    await acct.faults({ latency: { ms: 150 } });
    const started = performance.now();
    expect((await acct.publish({ text: "slow" })).status).toBe(201);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });

  it("lookup_error makes reads answer 503 while posting still works", async () => {
    const acct = await newAccount();
    await acct.faults({ lookup_error: 1 });
    expect((await acct.publish({ text: "written", client_ref: "le" })).status).toBe(201);
    const read = await acct.read("?client_ref=le");
    expect([read.status, (await read.json()).error]).toEqual([503, "unavailable"]);
    await acct.faults({});
    expect((await (await acct.read("?client_ref=le")).json()).posts).toHaveLength(1);
  });
});

describe("faults after the post is stored", () => {
  it("error_after_commit stores the post and answers 500", async () => {
    const acct = await newAccount();
    await acct.faults({ error_after_commit: 1 });
    expect((await acct.publish({ text: "x", client_ref: "eac" })).status).toBe(500);
    expect(acct.stored()).toBe(1);
    expect((await (await acct.read("?client_ref=eac")).json()).posts).toHaveLength(1);
  });

  it("reset_after_commit stores the post and the client sees the connection drop", async () => {
    const acct = await newAccount();
    await acct.faults({ reset_after_commit: 1 });
    await expect(acct.publish({ text: "x", client_ref: "rac" })).rejects.toThrow(TypeError);
    expect(acct.stored()).toBe(1);
  });

  it("hang_after_commit stores the post and holds the answer past the client's timeout", async () => {
    const acct = await newAccount();
    await acct.faults({ hang_after_commit: { p: 1, ms: 30_000 } });
    await expect(acct.publish({ text: "x", client_ref: "hac" }, { signal: AbortSignal.timeout(200) })).rejects.toThrow(/abort|timeout/i);
    expect(acct.stored()).toBe(1);
    await acct.faults({});
    expect((await (await acct.read("?client_ref=hac")).json()).posts).toHaveLength(1);
  });

  it("counts posts whose response was lost as accepted, and shows which fault hid them", async () => {
    const before = sandbox.stats();
    const acct = await newAccount();
    await acct.faults({ error_after_commit: 1 });
    await acct.publish({ text: "lost", client_ref: "lost-ref" });
    const after = (await (await call("GET", "/v1/admin/stats")).json()) as typeof before;
    expect(after.accepted - before.accepted).toBe(1);
    expect(after.responsesLost - before.responsesLost).toBe(1);
    const { posts } = await (await call("GET", "/v1/admin/posts?client_ref=lost-ref")).json();
    expect(posts[0]).toMatchObject({ handle: acct.handle, response_fault: "error_after_commit" });
  });
});

describe("scenario controls and counts", () => {
  it("lists a client_ref published twice among the duplicates", async () => {
    const acct = await newAccount();
    const ref = `dup-${randomUUID()}`;
    await acct.publish({ text: "first try", client_ref: ref });
    await acct.publish({ text: "second try", client_ref: ref });
    expect(sandbox.stats().duplicateClientRefs).toContainEqual({ client_ref: ref, count: 2 });
  });

  it("keeps an account restricted or its token expired until the scenario lifts it", async () => {
    const acct = await newAccount();
    const state = (body: object) => call("POST", `/v1/admin/accounts/${acct.handle}/state`, body);
    await state({ restricted: true });
    expect((await acct.publish({ text: "a" })).status).toBe(403);
    expect((await acct.publish({ text: "b" })).status).toBe(403);
    await state({ restricted: false, tokenExpired: true });
    expect((await acct.publish({ text: "c" })).status).toBe(401);
    expect((await acct.metrics()).status).toBe(401);
    await state({ tokenExpired: false });
    expect((await acct.publish({ text: "d" })).status).toBe(201);
  });

  it("counts what a restricted account was sent and refused, per code, apart from what it stored", async () => {
    const acct = await newAccount();
    await call("POST", `/v1/admin/accounts/${acct.handle}/state`, { restricted: true });
    await acct.publish({ text: "a" });
    await acct.publish({ text: "b" });
    expect(sandbox.stats().refusedByAccount[acct.handle]).toEqual({ account_restricted: 2 });
    expect(acct.stored()).toBe(0);
    // A stored post is not a refusal.
    await call("POST", `/v1/admin/accounts/${acct.handle}/state`, { restricted: false });
    expect((await acct.publish({ text: "c" })).status).toBe(201);
    expect(sandbox.stats().refusedByAccount[acct.handle]).toEqual({ account_restricted: 2 });
    expect(acct.stored()).toBe(1);
  });

  it("keeps a destination refusing every post of one account until the scenario lifts it", async () => {
    const acct = await newAccount();
    const other = await newAccount();
    const state = (body: object, handle = acct.handle) => call("POST", `/v1/admin/accounts/${handle}/state`, body);
    const set = await state({ rejectedDestinations: ["r/cats"] });
    expect(await set.json()).toMatchObject({ handle: acct.handle, rejectedDestinations: ["r/cats"] });

    for (const text of ["one", "two", "three"]) {
      const refused = await acct.publish({ text, destination: "r/cats" });
      expect([refused.status, (await refused.json()).error]).toEqual([403, "destination_rejected"]);
    }
    // Only that destination, only for that account: another destination and the account's own feed take posts,
    // and another account still posts to r/cats.
    expect((await acct.publish({ text: "to dogs", destination: "r/dogs" })).status).toBe(201);
    expect((await acct.publish({ text: "to my feed" })).status).toBe(201);
    expect((await other.publish({ text: "other to cats", destination: "r/cats" })).status).toBe(201);
    expect(acct.stored()).toBe(2);
    expect(sandbox.stats().refusedByAccount[acct.handle]).toEqual({ destination_rejected: 3 });
    expect(sandbox.stats().refusedByAccount[other.handle]).toBeUndefined();
    // The sandbox's page shows the condition.
    expect(await (await fetch(`${sandbox.url}/?handle=${acct.handle}`)).text()).toContain("rejected by r/cats");

    // Other state changes leave the list as it is; an empty list lifts it.
    await state({ restricted: false });
    expect((await acct.publish({ text: "four", destination: "r/cats" })).status).toBe(403);
    expect(await (await state({ rejectedDestinations: [] })).json()).toMatchObject({ rejectedDestinations: [] });
    expect((await acct.publish({ text: "five", destination: "r/cats" })).status).toBe(201);
    expect(acct.stored()).toBe(3);
    expect((await state({ rejectedDestinations: [""] })).status).toBe(400);
  });

  it("sets metrics and cuts reach and engagement by a decline", async () => {
    const acct = await newAccount();
    const metrics = (body: object) => call("POST", `/v1/admin/accounts/${acct.handle}/metrics`, body);
    await metrics({ reach: 1000, engagement: 100, followers: 50 });
    await metrics({ decline: 0.6 });
    expect(await (await acct.metrics()).json()).toEqual({ reach: 400, engagement: 40, followers: 50 });
  });

  it("rejects an unknown fault name with the field named", async () => {
    const res = await call("POST", "/v1/admin/faults", { faults: { meteor_strike: 1 } });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/meteor_strike/);
  });

  it("injects the same faults in the same order for the same seed", async () => {
    const run = async () => {
      const sb = await startSandbox({ port: await freePort(), seed: 42 });
      try {
        const acct = await newAccount("seeded", sb.url);
        await acct.faults({ error_before_commit: 0.5 });
        const statuses: number[] = [];
        for (let i = 0; i < 12; i++) statuses.push((await acct.publish({ text: `n${i}` })).status);
        return statuses;
      } finally {
        await sb.stop();
      }
    };
    const first = await run();
    expect(new Set(first)).toEqual(new Set([201, 500]));
    expect(await run()).toEqual(first);
  });

  it("honours Idempotency-Key, like Mastodon, only when set to", async () => {
    const sb = await startSandbox({ port: await freePort(), config: { idempotencyKeys: true } });
    try {
      const acct = await newAccount("idem", sb.url);
      const send = (text: string) =>
        call("POST", `/v1/accounts/${acct.handle}/posts`, { text }, { authorization: `Bearer ${acct.token}`, "idempotency-key": "k1" }, sb.url);
      const first = await (await send("original")).json();
      const replay = await send("changed");
      expect(replay.status).toBe(201);
      expect((await replay.json()).id).toBe(first.id);
      expect(sb.stats().accepted).toBe(1);
    } finally {
      await sb.stop();
    }
  });

  it("forgets everything on reset", async () => {
    const sb = await startSandbox({ port: await freePort() });
    try {
      const acct = await newAccount("gone", sb.url);
      await acct.publish({ text: "x" });
      await call("POST", "/v1/admin/reset", {}, {}, sb.url);
      expect(sb.stats()).toMatchObject({ accounts: 0, accepted: 0 });
    } finally {
      await sb.stop();
    }
  });

  it("keeps accounts, tokens and posts across a restart with a data file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pacer-sandbox-"));
    const dataFile = join(dir, "sandbox.json");
    try {
      const first = await startSandbox({ port: await freePort(), dataFile });
      const acct = await newAccount("kept", first.url);
      await acct.publish({ text: "survives", client_ref: "kept-ref" });
      await call("POST", `/v1/admin/accounts/${acct.handle}/state`, { rejectedDestinations: ["r/kept"] }, {}, first.url);
      await first.stop();
      // A new port, so the client's pooled connections to the stopped server cannot be picked up.
      const second = await startSandbox({ port: await freePort(), dataFile });
      try {
        expect(second.stats()).toMatchObject({ accepted: 1, byAccount: { [acct.handle]: 1 } });
        const read = await fetch(`${second.url}/v1/accounts/${acct.handle}/posts?client_ref=kept-ref`, {
          headers: { authorization: `Bearer ${acct.token}` },
        });
        expect((await read.json()).posts[0].text).toBe("survives");
        expect(second.network.accounts.get(acct.handle)!.rejectedDestinations).toEqual(["r/kept"]);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("loads a data file written before destinations could be made to refuse, with none refusing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pacer-sandbox-"));
    const dataFile = join(dir, "sandbox.json");
    const token = "sbx_old";
    const old = {
      handle: "old_one",
      token,
      created_at: new Date().toISOString(),
      posts: [],
      metrics: { reach: 1, engagement: 1, followers: 1 },
      restricted: false,
      tokenExpired: false,
    };
    writeFileSync(dataFile, JSON.stringify({ version: 1, nextId: 1, accounts: [old] }));
    const sb = await startSandbox({ port: await freePort(), dataFile });
    try {
      const res = await call("POST", "/v1/accounts/old_one/posts", { text: "still fine", destination: "r/any" }, { authorization: `Bearer ${token}` }, sb.url);
      expect(res.status).toBe(201);
      expect(sb.network.accounts.get("old_one")!.rejectedDestinations).toEqual([]);
    } finally {
      await sb.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the feed page", () => {
  it("lists accounts with their posts newest first, escaping what users wrote", async () => {
    const acct = await newAccount("paged");
    await acct.publish({ text: "older" });
    await acct.publish({ text: "<b>newer</b>" });
    const res = await fetch(`${sandbox.url}/?handle=${acct.handle}`);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain(`@${acct.handle}`);
    expect(html).toContain("&lt;b&gt;newer&lt;/b&gt;");
    expect(html.indexOf("newer")).toBeLessThan(html.indexOf("older"));
    expect(await (await fetch(sandbox.url)).text()).toContain(acct.handle);
  });
});
