// The sandbox's one-shot faults (network.setNextFault), which the connector contract suite uses: each
// applies to the account's next publish only, and a reset after commit leaves the post stored.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "@/local/sandbox/index.ts";
import { freePort } from "../setup/free-port.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: await freePort(), seed: 11 });
});
afterAll(() => sandbox?.stop());

async function account() {
  const handle = `next_${randomUUID().slice(0, 8)}`;
  const res = await fetch(`${sandbox.url}/v1/accounts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ handle }) });
  const { token } = (await res.json()) as { token: string };
  const publish = (text: string) =>
    fetch(`${sandbox.url}/v1/accounts/${handle}/posts`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ text }) });
  return { handle, publish };
}

describe("one-shot faults for the next publish", () => {
  it("rate_limited answers 429 with Retry-After in whole seconds, once", async () => {
    const a = await account();
    sandbox.network.setNextFault(a.handle, { kind: "rate_limited", retryAfterMs: 4_200 });
    const limited = await a.publish("one");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("5");
    expect((await a.publish("two")).status).toBe(201);
    expect(sandbox.network.accounts.get(a.handle)!.posts.map((p) => p.text)).toEqual(["two"]);
  });

  it("error_before_commit answers the chosen 5xx and stores nothing, once", async () => {
    const a = await account();
    sandbox.network.setNextFault(a.handle, { kind: "error_before_commit", status: 503 });
    expect((await a.publish("one")).status).toBe(503);
    expect(sandbox.network.accounts.get(a.handle)!.posts).toHaveLength(0);
    expect((await a.publish("two")).status).toBe(201);
  });

  it("reset_after_commit stores the post and resets the connection, once", async () => {
    const a = await account();
    sandbox.network.setNextFault(a.handle, { kind: "reset_after_commit" });
    await expect(a.publish("one")).rejects.toThrow();
    expect(sandbox.network.accounts.get(a.handle)!.posts.map((p) => [p.text, p.response_fault])).toEqual([["one", "reset_after_commit"]]);
    expect((await a.publish("two")).status).toBe(201);
  });
});
