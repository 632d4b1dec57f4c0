// A tenant must not make Pacer's servers call an address of the operator's choosing — or its own:
// platform endpoints come only from configuration, internal addresses are refused after DNS
// resolution (in Node and under Deno), redirects are not followed and replies are read up to a cap.
import { createServer, type Server } from "node:http";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startSandbox, type Sandbox } from "@/local/sandbox/index.ts";
import { createSandboxConnector } from "@/lib/connectors/sandbox.ts";
import { connectorFor } from "@/lib/connectors/registry.ts";
import { checkDestination, internalAddressReason, parseAllowedHosts, pinnedDispatcher } from "@/lib/connectors/outbound.ts";
import type { ConnectorAccount, PublishRequest } from "@/lib/connectors/types.ts";
import { sandboxAccount } from "../support/sandbox.ts";

/** An internal service an attacker would like Pacer to call: it counts what reaches it. */
async function internalService(handler?: (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void) {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    if (handler) return handler(req, res);
    res.writeHead(201, { "content-type": "application/json" });
    res.end(JSON.stringify({ id: "secret-instance-id", url: "http://169.254.169.254/latest/meta-data/iam" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    stop: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 11 });
});
afterAll(() => sandbox?.stop());

const signal = () => AbortSignal.timeout(5_000);
const request = (account: ConnectorAccount): PublishRequest => ({ account, idempotencyKey: randomUUID(), text: `post ${randomUUID()}`, mediaUrls: [] });

describe("platform endpoints come from the operator only", () => {
  it("ignores a baseUrl an account's credentials carry: the internal service is never called", async () => {
    const internal = await internalService();
    try {
      const { handle, token } = await sandboxAccount(sandbox.url, `ssrf_${randomUUID().slice(0, 8)}`);
      // The operator allows its sandbox; the tenant points its own account elsewhere.
      const connector = createSandboxConnector({ baseUrl: sandbox.url, allowedHosts: [new URL(sandbox.url).host, internal.url.slice(7)] });
      const account: ConnectorAccount = { id: randomUUID(), platform: "sandbox", handle, credentials: { accessToken: token, baseUrl: internal.url } };
      const outcome = await connector.publish(request(account), { signal: signal() });
      await connector.lookup(account, "k", { signal: signal() });
      expect(internal.hits).toEqual([]);
      expect(outcome.kind).toBe("posted");
      expect(sandbox.stats().byAccount[handle]).toBe(1);
    } finally {
      await internal.stop();
    }
  });

  it("refuses a configured platform URL on a loopback address the operator did not allow", async () => {
    const internal = await internalService();
    try {
      const connector = createSandboxConnector({ baseUrl: internal.url });
      const account: ConnectorAccount = { id: randomUUID(), platform: "sandbox", handle: "anyone", credentials: { accessToken: "sbx_x" } };
      const logged = vi.spyOn(console, "warn").mockImplementation(() => {});
      const outcome = await connector.publish(request(account), { signal: signal() });
      // The outcome (the account's history) says it was refused; the address and the operator's
      // hint (PACER_ALLOWED_HOSTS) go to the server log only.
      expect(outcome).toMatchObject({ kind: "permanent", message: expect.stringContaining("not on the public internet") });
      expect(outcome.kind === "permanent" && outcome.message).not.toMatch(/127\.0\.0\.1|PACER_ALLOWED_HOSTS/);
      expect(logged.mock.calls.flat().join(" ")).toMatch(/loopback.*PACER_ALLOWED_HOSTS/);
      logged.mockRestore();
      expect(await connector.lookup(account, "k", { signal: signal() })).toMatchObject({ kind: "unavailable" });
      expect(internal.hits).toEqual([]);
    } finally {
      await internal.stop();
    }
  });

  it("refuses a name that resolves to loopback (after DNS), and decimal, octal and IPv4-mapped forms of it", async () => {
    const internal = await internalService();
    try {
      for (const host of ["localhost", "2130706433", "0177.0.0.1", "0x7f.1", "[::ffff:127.0.0.1]", "[::1]"]) {
        const connector = createSandboxConnector({ baseUrl: `http://${host}:${internal.port}` });
        const account: ConnectorAccount = { id: randomUUID(), platform: "sandbox", handle: "anyone", credentials: { accessToken: "sbx_x" } };
        const outcome = await connector.publish(request(account), { signal: signal() });
        expect(outcome.kind, host).toBe("permanent");
      }
      expect(internal.hits).toEqual([]);
    } finally {
      await internal.stop();
    }
  });

  it("a name that does not resolve was never sent: retryable", async () => {
    const connector = createSandboxConnector({ baseUrl: "http://no-such-host.invalid" });
    const account: ConnectorAccount = { id: randomUUID(), platform: "sandbox", handle: "anyone", credentials: { accessToken: "sbx_x" } };
    expect(await connector.publish(request(account), { signal: signal() })).toMatchObject({ kind: "retryable", message: expect.stringContaining("not sent") });
  });

  it("the registry takes the allowed hosts from PACER_ALLOWED_HOSTS", async () => {
    const { handle, token } = await sandboxAccount(sandbox.url, `reg_${randomUUID().slice(0, 8)}`);
    const account: ConnectorAccount = { id: randomUUID(), platform: "sandbox", handle, credentials: { accessToken: token } };
    const refused = connectorFor("sandbox", { PACER_SANDBOX_URL: sandbox.url });
    expect((await refused.publish(request(account), { signal: signal() })).kind).toBe("permanent");
    const allowed = connectorFor("sandbox", { PACER_SANDBOX_URL: sandbox.url, PACER_ALLOWED_HOSTS: `example.test, ${new URL(sandbox.url).host}` });
    expect((await allowed.publish(request(account), { signal: signal() })).kind).toBe("posted");
    expect(sandbox.stats().byAccount[handle]).toBe(1);
  });
});

describe("what a platform answers cannot lead Pacer elsewhere", () => {
  it("follows no redirect on publish: a 307 to an internal address is unknown (looked up, not re-sent), and that address is never called", async () => {
    const internal = await internalService();
    const platform = await internalService((_req, res) => {
      res.writeHead(307, { location: `${internal.url}/latest/meta-data/` });
      res.end();
    });
    try {
      const connector = createSandboxConnector({ baseUrl: platform.url, allowedHosts: [platform.url.slice(7)] });
      const account: ConnectorAccount = { id: randomUUID(), platform: "sandbox", handle: "redirected", credentials: { accessToken: "sbx_x" } };
      const outcome = await connector.publish(request(account), { signal: signal() });
      expect(outcome).toMatchObject({ kind: "unknown", message: expect.stringContaining("redirect") });
      expect(platform.hits.length).toBe(1);
      expect(internal.hits).toEqual([]);
    } finally {
      await Promise.all([internal.stop(), platform.stop()]);
    }
  });

  it("reads at most 1 MiB of a reply: an endless body ends the call at once, as an unknown outcome", async () => {
    let sent = 0;
    const platform = await internalService((_req, res) => {
      res.writeHead(201, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) res.once("drain", pump);
      };
      res.write('{"id": "1", "pad": "');
      pump();
    });
    try {
      const connector = createSandboxConnector({ baseUrl: platform.url, allowedHosts: [platform.url.slice(7)] });
      const account: ConnectorAccount = { id: randomUUID(), platform: "sandbox", handle: "flooded", credentials: { accessToken: "sbx_x" } };
      const started = Date.now();
      const outcome = await connector.publish(request(account), { signal: AbortSignal.timeout(10_000) });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(outcome.kind).toBe("unknown");
      expect(sent).toBeLessThan(16 * 1024 * 1024);
    } finally {
      await platform.stop();
    }
  });

  it("keeps a Retry-After from pushing a retry past any date (a 429 saying 10^17 seconds waits 7 days)", async () => {
    const platform = await internalService((_req, res) => {
      res.writeHead(429, { "content-type": "application/json", "retry-after": "99999999999999999" });
      res.end(JSON.stringify({ error: "rate_limited" }));
    });
    try {
      const connector = createSandboxConnector({ baseUrl: platform.url, allowedHosts: [platform.url.slice(7)] });
      const account: ConnectorAccount = { id: randomUUID(), platform: "sandbox", handle: "slow", credentials: { accessToken: "sbx_x" } };
      const outcome = await connector.publish(request(account), { signal: signal() });
      expect(outcome).toMatchObject({ kind: "rate_limited", retryAfterMs: 7 * 24 * 3600_000 });
    } finally {
      await platform.stop();
    }
  });
});

describe("which addresses are internal", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["169.254.169.254", "metadata"],
    ["169.254.10.10", "link-local"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.251", "multicast"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:a9fe:a9fe", "metadata"],
    ["64:ff9b::10.0.0.1", "private"],
    ["fd00:ec2::254", "metadata"],
    ["fc00::1", "unique local"],
    ["fe80::1%eth0", "link-local"],
    ["ff02::1", "multicast"],
  ])("%s is refused as %s", (ip, reason) => {
    expect(internalAddressReason(ip)).toContain(reason);
  });

  it.each(["93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"])("%s is public", (ip) => {
    expect(internalAddressReason(ip)).toBeNull();
  });

  it("refuses metadata names and non-http schemes before any lookup, and checks every address a name resolves to", async () => {
    const none = parseAllowedHosts(undefined);
    const never = async () => {
      throw new Error("must not resolve");
    };
    await expect(checkDestination("http://metadata.google.internal/computeMetadata/v1/", none, never)).rejects.toThrow(/metadata/);
    await expect(checkDestination("file:///etc/passwd", none, never)).rejects.toThrow(/http\(s\)/);
    const mixed = async () => [{ address: "93.184.216.34", family: 4 }, { address: "10.0.0.7", family: 4 }];
    await expect(checkDestination("https://api.example.test/", none, mixed)).rejects.toThrow(/10\.0\.0\.7 \(a private address\)/);
    const publicOnly = async () => [{ address: "93.184.216.34", family: 4 }];
    await expect(checkDestination("https://api.example.test/", none, publicOnly)).resolves.toMatchObject({ allowed: false });
    // Allowed by host and port, or by host for any port.
    expect((await checkDestination("http://127.0.0.1:54330/x", parseAllowedHosts("127.0.0.1:54330"), never)).allowed).toBe(true);
    await expect(checkDestination("http://127.0.0.1:54331/x", parseAllowedHosts("127.0.0.1:54330"), never)).rejects.toThrow(/loopback/);
    expect((await checkDestination("http://localhost:9/", parseAllowedHosts("localhost"), never)).allowed).toBe(true);
  });
});

describe("under Node", () => {
  it("checks the address a connection actually resolves to, not only the one checked before sending", async () => {
    const internal = await internalService();
    try {
      // The dispatcher alone, as if a name had resolved to a public address when checked and to loopback when connecting.
      const { dispatcher } = await pinnedDispatcher();
      expect(dispatcher).toBeDefined();
      const sent = fetch(`http://localhost:${internal.port}/`, { dispatcher } as RequestInit);
      await expect(sent).rejects.toMatchObject({ cause: { code: "PACER_BLOCKED_DESTINATION" } });
      expect(internal.hits).toEqual([]);
    } finally {
      await internal.stop();
    }
  });
});

describe("under Deno (the Edge Function's runtime)", () => {
  it("refuses a loopback name after resolving it and reaches an allowed host", async () => {
    const internal = await internalService((_req, res) => res.end("reached"));
    try {
      const guard = join(import.meta.dirname, "..", "..", "lib", "connectors", "outbound.ts");
      const script = `
        import { guardedFetch, parseAllowedHosts } from ${JSON.stringify(guard)};
        const refused = guardedFetch(fetch, parseAllowedHosts(""));
        let verdict;
        try { await refused("http://localhost:${internal.port}/"); verdict = "sent"; } catch (e) { verdict = e.name + ": " + e.message; }
        const allowed = guardedFetch(fetch, parseAllowedHosts("localhost:${internal.port}"));
        console.log(JSON.stringify({ verdict, allowed: await (await allowed("http://localhost:${internal.port}/")).text() }));`;
      const deno = join(dirname(createRequire(import.meta.url).resolve("deno/package.json")), "deno");
      const out = await new Promise<string>((resolve, reject) =>
        execFile(deno, ["eval", "--ext=ts", script], { env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" }, timeout: 60_000 }, (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
        ),
      );
      const result = JSON.parse(out.trim().split("\n").pop()!);
      expect(result.verdict).toMatch(/^BlockedDestination: .*resolves to 127\.0\.0\.1 \(a loopback address\)/);
      expect(result.allowed).toBe("reached");
      expect(internal.hits).toEqual(["GET /"]);
    } finally {
      await internal.stop();
    }
  }, 90_000);
});
