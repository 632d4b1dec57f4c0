// The sandbox connector's recentPosts: the account's timeline since a time, paged newest first past
// the sandbox's 100-post page, with Pacer's marker; read through the same outbound guard as every call.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { startSandbox, type Sandbox } from "../../local/sandbox/index.ts";
import { sandboxAccount, sandboxConnector } from "../support/sandbox";
import { createSandboxConnector } from "../../lib/connectors/sandbox.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 3 });
});
afterAll(() => sandbox.stop());

const HOUR = 3600_000;

describe("sandbox recentPosts", () => {
  it("pages the whole window newest first, with markers, and stops at since", async () => {
    const { handle, token } = await sandboxAccount(sandbox.url, `rp_${randomUUID().slice(0, 8)}`);
    const account = sandbox.network.accounts.get(handle)!;
    const now = Date.now();
    // 250 posts an hour apart in creation order, every other one carrying a marker.
    for (let i = 0; i < 250; i++) {
      const post = sandbox.network.commit(account, {
        text: `post ${i}`, media_urls: [], first_comment: null, destination: null, client_ref: i % 2 ? `ref-${i}` : null,
      });
      post.created_at = new Date(now - (249 - i) * HOUR).toISOString();
    }
    const connector = sandboxConnector(sandbox.url);
    const acct = { id: "a", platform: "sandbox", handle, credentials: { accessToken: token } };

    const all = await connector.recentPosts(acct, { since: new Date(now - 300 * HOUR), signal: AbortSignal.timeout(5000) });
    expect(all.complete).toBe(true);
    expect(all.posts).toHaveLength(250);
    expect(all.posts[0]).toMatchObject({ marker: "ref-249" });
    expect(all.posts[249]).toMatchObject({ marker: null });
    expect(new Set(all.posts.map((p) => p.externalId)).size).toBe(250);
    const times = all.posts.map((p) => Date.parse(p.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const recent = await connector.recentPosts(acct, { since: new Date(now - 9.5 * HOUR), signal: AbortSignal.timeout(5000) });
    expect(recent).toMatchObject({ complete: true });
    expect(recent.posts.map((p) => p.marker)).toEqual(["ref-249", null, "ref-247", null, "ref-245", null, "ref-243", null, "ref-241", null]);
  });

  it("throws, saying why, when the posts cannot be read; never reaches a host the operator did not allow", async () => {
    const { handle, token } = await sandboxAccount(sandbox.url, `rp_${randomUUID().slice(0, 8)}`);
    const acct = { id: "a", platform: "sandbox", handle, credentials: { accessToken: token } };
    sandbox.network.setFaults(handle, { lookup_error: 1 });
    await expect(sandboxConnector(sandbox.url).recentPosts(acct, { since: new Date(0), signal: AbortSignal.timeout(5000) })).rejects.toThrow(/503/);
    sandbox.network.clearFaults(handle);
    await expect(
      sandboxConnector(sandbox.url).recentPosts({ ...acct, credentials: { accessToken: "wrong" } }, { since: new Date(0), signal: AbortSignal.timeout(5000) }),
    ).rejects.toThrow(/401/);
    // Loopback without PACER_ALLOWED_HOSTS: refused before any request leaves.
    let requests = 0;
    const counting = ((input: RequestInfo | URL, init?: RequestInit) => (requests++, fetch(input, init))) as typeof fetch;
    const unguarded = createSandboxConnector({ baseUrl: sandbox.url, fetch: counting });
    await expect(unguarded.recentPosts(acct, { since: new Date(0), signal: AbortSignal.timeout(5000) })).rejects.toThrow(/Could not read/);
    expect(requests).toBe(0);
    // The same connector allowed to reach it reads through that fetch.
    await createSandboxConnector({ baseUrl: sandbox.url, fetch: counting, allowedHosts: [new URL(sandbox.url).host] })
      .recentPosts(acct, { since: new Date(0), signal: AbortSignal.timeout(5000) });
    expect(requests).toBe(1);
  });
});
