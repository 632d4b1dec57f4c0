// The sandbox connector against a running sandbox: every platform failure becomes the right
// PublishOutcome, and a post whose response was lost is found again by its idempotency key.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Faults, type Sandbox } from "@/local/sandbox/index.ts";
import { connectorFor } from "@/lib/connectors/registry.ts";
import type { Connector, ConnectorAccount, PublishRequest } from "@/lib/connectors/types.ts";
import { freePort } from "../setup/free-port.ts";
import { sandboxAccount, sandboxConnector } from "../support/sandbox.ts";

let sandbox: Sandbox;
let connector: Connector;
beforeAll(async () => {
  sandbox = await startSandbox({ port: await freePort(), seed: 3 });
  connector = sandboxConnector(sandbox.url);
});
afterAll(() => sandbox?.stop());

const signal = () => AbortSignal.timeout(2_000);

/** An account created on the sandbox, with the token Pacer's connect flow would have stored. */
async function account(prefix = "conn"): Promise<ConnectorAccount> {
  const { handle, token } = await sandboxAccount(sandbox.url, `${prefix}_${randomUUID().slice(0, 8)}`);
  return { id: randomUUID(), platform: "sandbox", handle, credentials: { accessToken: token } };
}

/** An account that exists only in Pacer's records. */
function unknownAccount(prefix: string, credentials: Record<string, string> = {}): ConnectorAccount {
  return { id: randomUUID(), platform: "sandbox", handle: `${prefix}_${randomUUID().slice(0, 8)}`, credentials };
}

function request(acct: ConnectorAccount, extra: Partial<PublishRequest> = {}): PublishRequest {
  return { account: acct, idempotencyKey: randomUUID(), text: `post ${randomUUID()}`, mediaUrls: [], ...extra };
}

async function withFaults(acct: ConnectorAccount, faults: Faults) {
  await fetch(`${sandbox.url}/v1/admin/faults`, { method: "POST", body: JSON.stringify({ handle: acct.handle, faults }) });
}

const stored = (acct: ConnectorAccount) => sandbox.stats().byAccount[acct.handle] ?? 0;

describe("publishing", () => {
  it("publishes with the account's token and finds the post by its key", async () => {
    const acct = await account();
    const req = request(acct);
    const outcome = await connector.publish(req, { signal: signal() });
    expect(outcome).toMatchObject({ kind: "posted", externalId: expect.any(String) });
    const found = await connector.lookup(acct, req.idempotencyKey, { signal: signal() });
    expect(found).toEqual({ kind: "found", externalId: (outcome as { externalId: string }).externalId, url: expect.any(String) });
    expect(await connector.lookup(acct, randomUUID(), { signal: signal() })).toEqual({ kind: "not_found" });
  });

  it("answers auth_expired for a token that is not the account's", async () => {
    const acct = await account("own");
    const stale: ConnectorAccount = { ...acct, credentials: { accessToken: "sbx_revoked" } };
    expect((await connector.publish(request(stale), { signal: signal() })).kind).toBe("auth_expired");
    expect(stored(acct)).toBe(0);
  });

  it("answers auth_expired for an account without a token, and creates nothing on the platform", async () => {
    const acct = unknownAccount("tokenless");
    const outcome = await connector.publish(request(acct), { signal: signal() });
    expect(outcome).toMatchObject({ kind: "auth_expired", message: expect.stringContaining("reconnect the account") });
    expect(await connector.lookup(acct, randomUUID(), { signal: signal() })).toMatchObject({ kind: "unavailable" });
    expect(sandbox.network.accounts.has(acct.handle)).toBe(false);
  });

  it("never lends one Pacer account's token to another that names the same handle", async () => {
    const owner = await account("owned");
    expect((await connector.publish(request(owner), { signal: signal() })).kind).toBe("posted");
    const intruder: ConnectorAccount = { id: randomUUID(), platform: "sandbox", handle: owner.handle, credentials: {} };
    expect((await connector.publish(request(intruder), { signal: signal() })).kind).toBe("auth_expired");
    expect(await connector.lookup(intruder, randomUUID(), { signal: signal() })).toMatchObject({ kind: "unavailable" });
    expect(stored(owner)).toBe(1);
  });

  it("reports text the platform refuses to take as permanent", async () => {
    const outcome = await connector.publish(request(await account(), { text: "" }), { signal: signal() });
    expect(outcome).toMatchObject({ kind: "permanent", message: expect.stringMatching(/text/) });
  });
});

describe("outcomes when the response is lost", () => {
  // Each fault either stored the post or not; the connector cannot tell, so it says unknown and lookup decides.
  const cases: Array<[string, Faults, "found" | "not_found"]> = [
    ["error_after_commit (5xx after storing)", { error_after_commit: 1 }, "found"],
    ["reset_after_commit (connection dropped after storing)", { reset_after_commit: 1 }, "found"],
    ["hang_after_commit (no answer in time)", { hang_after_commit: { p: 1, ms: 30_000 } }, "found"],
    ["error_before_commit (5xx before storing)", { error_before_commit: 1 }, "not_found"],
    ["reset_before_commit (connection dropped before storing)", { reset_before_commit: 1 }, "not_found"],
  ];
  for (const [name, faults, verdict] of cases) {
    it(`${name} is unknown, and lookup says ${verdict}`, async () => {
      const acct = await account();
      await withFaults(acct, faults);
      const req = request(acct);
      const outcome = await connector.publish(req, { signal: AbortSignal.timeout(300) });
      expect(outcome.kind).toBe("unknown");
      expect((await connector.lookup(acct, req.idempotencyKey, { signal: signal() })).kind).toBe(verdict);
      expect(stored(acct)).toBe(verdict === "found" ? 1 : 0);
    });
  }
});

describe("outcomes the platform states", () => {
  const cases: Array<[Faults, Partial<PublishRequest>, string]> = [
    [{ token_expired: 1 }, {}, "auth_expired"],
    [{ restricted: 1 }, {}, "restricted"],
    [{ destination_rejected: 1 }, { destination: "r/strict" }, "destination_rejected"],
  ];
  for (const [faults, extra, kind] of cases) {
    it(`${Object.keys(faults)[0]} is ${kind}`, async () => {
      const acct = await account();
      await withFaults(acct, faults);
      expect((await connector.publish(request(acct, extra), { signal: signal() })).kind).toBe(kind);
      expect(stored(acct)).toBe(0);
    });
  }

  it("a 429 is rate_limited with the Retry-After delay", async () => {
    const acct = await account();
    await withFaults(acct, {});
    await fetch(`${sandbox.url}/v1/admin/config`, {
      method: "POST",
      body: JSON.stringify({ handle: acct.handle, rate_limit: { posts: 1, window_ms: 30_000 } }),
    });
    expect((await connector.publish(request(acct), { signal: signal() })).kind).toBe("posted");
    const outcome = await connector.publish(request(acct), { signal: signal() });
    expect(outcome.kind).toBe("rate_limited");
    const { retryAfterMs } = outcome as { retryAfterMs: number };
    expect(retryAfterMs % 1000).toBe(0);
    expect(retryAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it("a duplicate-content refusal of our own earlier attempt is posted, without a second copy", async () => {
    const acct = await account();
    await withFaults(acct, { error_after_commit: 1 });
    const req = request(acct);
    expect((await connector.publish(req, { signal: signal() })).kind).toBe("unknown");
    await withFaults(acct, {});
    const retry = await connector.publish(req, { signal: signal() });
    expect(retry.kind).toBe("posted");
    expect(stored(acct)).toBe(1);
  });

  it("a duplicate-content refusal with nothing of ours live is retryable", async () => {
    const acct = await account();
    await withFaults(acct, { duplicate_content: 1 });
    expect((await connector.publish(request(acct), { signal: signal() })).kind).toBe("retryable");
    expect(stored(acct)).toBe(0);
  });
});

describe("when the platform cannot be reached", () => {
  it("a refused connection is retryable, and lookup is unavailable", async () => {
    const closed = sandboxConnector(`http://127.0.0.1:${await freePort()}`);
    const acct = unknownAccount("offline", { accessToken: "sbx_any" });
    expect((await closed.publish(request(acct), { signal: signal() })).kind).toBe("retryable");
    expect((await closed.lookup(acct, "k", { signal: signal() })).kind).toBe("unavailable");
  });

  it("a call whose time ran out before sending is retryable", async () => {
    const controller = new AbortController();
    controller.abort();
    const outcome = await connector.publish(request(unknownAccount("late", { accessToken: "t" })), { signal: controller.signal });
    expect(outcome.kind).toBe("retryable");
  });

  it("asks to reconnect an account the sandbox forgot (reset), and creates nothing on its own", async () => {
    const sb = await startSandbox({ port: await freePort() });
    try {
      const own = sandboxConnector(sb.url);
      const { handle, token } = await sandboxAccount(sb.url, `forgot_${randomUUID().slice(0, 8)}`);
      const acct: ConnectorAccount = { id: randomUUID(), platform: "sandbox", handle, credentials: { accessToken: token } };
      expect((await own.publish(request(acct), { signal: signal() })).kind).toBe("posted");
      await fetch(`${sb.url}/v1/admin/reset`, { method: "POST" });
      expect((await own.publish(request(acct), { signal: signal() })).kind).toBe("auth_expired");
      expect(sb.stats()).toMatchObject({ accounts: 0, accepted: 0 });
    } finally {
      await sb.stop();
    }
  });
});

describe("metrics and the registry", () => {
  it("reads an account's metrics, including a decline a scenario set", async () => {
    const acct = await account();
    await withFaults(acct, {});
    await fetch(`${sandbox.url}/v1/admin/accounts/${acct.handle}/metrics`, {
      method: "POST",
      body: JSON.stringify({ reach: 2_000, engagement: 300, followers: 90, decline: 0.5 }),
    });
    const metrics = await connector.readMetrics(acct, { signal: signal() });
    expect(metrics).toMatchObject({ reach: 1_000, engagement: 150, followers: 90 });
    expect(Date.parse(metrics.observedAt)).not.toBeNaN();
  });

  it("gives the sandbox connector for sandbox and refuses platforms without one", async () => {
    const registered = connectorFor("sandbox", { PACER_SANDBOX_URL: sandbox.url, PACER_ALLOWED_HOSTS: new URL(sandbox.url).host });
    expect(registered.platform).toBe("sandbox");
    expect((await registered.publish(request(await account()), { signal: signal() })).kind).toBe("posted");
    expect(() => connectorFor("myspace", {})).toThrow(/no connector for "myspace"/);
  });
});

describe("connecting an account", () => {
  it("creates a new handle and gives back its token as the credentials to store", async () => {
    const handle = `new_${randomUUID().slice(0, 8)}`;
    const connection = await connector.connect({ handle, credentials: {} }, { signal: signal() });
    expect(connection).toEqual({ kind: "connected", credentials: { accessToken: expect.stringMatching(/^sbx_/) } });
    const acct: ConnectorAccount = { id: randomUUID(), platform: "sandbox", handle, credentials: (connection as { credentials: Record<string, string> }).credentials };
    expect((await connector.publish(request(acct), { signal: signal() })).kind).toBe("posted");
  });

  it("connects an existing handle only with its token, naming the field otherwise", async () => {
    const { handle, token } = await sandboxAccount(sandbox.url, `taken_${randomUUID().slice(0, 8)}`);
    const without = await connector.connect({ handle, credentials: {} }, { signal: signal() });
    expect(without).toMatchObject({ kind: "refused", code: "handle_taken", field: "credentials.accessToken", message: expect.stringContaining("access token") });
    const wrong = await connector.connect({ handle, credentials: { accessToken: "sbx_not_it" } }, { signal: signal() });
    expect(wrong).toMatchObject({ kind: "refused", code: "token_invalid", field: "credentials.accessToken" });
    const right = await connector.connect({ handle, credentials: { accessToken: token } }, { signal: signal() });
    expect(right).toEqual({ kind: "connected", credentials: { accessToken: token } });
  });

  it("refuses a token for a handle that does not exist, and says the sandbox cannot be reached when it cannot", async () => {
    const nobody = await connector.connect({ handle: `nobody_${randomUUID().slice(0, 8)}`, credentials: { accessToken: "sbx_x" } }, { signal: signal() });
    expect(nobody).toMatchObject({ kind: "refused", field: "credentials.accessToken" });
    const closed = sandboxConnector(`http://127.0.0.1:${await freePort()}`);
    expect(await closed.connect({ handle: "any", credentials: {} }, { signal: signal() })).toMatchObject({ kind: "unavailable" });
  });
});
