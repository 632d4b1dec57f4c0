// A publish leaves the process at most once, in every runtime Pacer ships, checked on the wire: a raw
// TCP server answers a first request with keep-alive, then resets the connection when a publish
// arrives on it after reading it. The connector's publish must reach the server exactly once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { createSandboxConnector } from "@/lib/connectors/sandbox.ts";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");
const DENO = join(ROOT, "node_modules", ".bin", "deno");
// The flags the local gateway runs Edge Functions with (local/gateway/functions.ts): offline, npm from node_modules.
const DENO_FLAGS = ["run", "--no-remote", "--cached-only", "--node-modules-dir=manual", "--no-lock", "--no-prompt", "--allow-net", "--allow-env", "--allow-read"];

/** Requests that arrived, by connection: what the platform really received. */
interface Arrival {
  method: string;
  path: string;
  /** How many requests this connection had already served. */
  reused: number;
}

let server: Server;
/** Reset a publish on a fresh connection too (by default only on a reused one). */
let resetEveryPublish = false;
let baseUrl: string;
const arrivals: Arrival[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffer = Buffer.alloc(0);
    let served = 0;
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString();
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        buffer = buffer.subarray(end + 4 + length);
        const [method, path] = head.split(" ");
        arrivals.push({ method, path, reused: served });
        if (method === "POST" && (served > 0 || resetEveryPublish)) {
          // Read in full, then the connection is reset (RST): the client cannot know whether it landed.
          socket.resetAndDestroy();
          return;
        }
        served++;
        const body = method === "POST" ? JSON.stringify({ id: "1", url: "http://x/1" }) : JSON.stringify({ posts: [] });
        const status = method === "POST" ? "201 Created" : "200 OK";
        socket.write(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: keep-alive\r\n\r\n${body}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const idle = () => new Promise((resolve) => setTimeout(resolve, 50));
const publishes = () => arrivals.filter((a) => a.method === "POST");

async function underDeno(mode: "single-send" | "single-send-burst" | "pooled") {
  arrivals.length = 0;
  const { stdout } = await run(DENO, [...DENO_FLAGS, join(import.meta.dirname, "publish-once.deno.ts"), baseUrl, mode], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as { lookup: string; publish: string; more: string[] };
}

describe("a publish reset on a reused connection after the platform read it", () => {
  it("reaches the platform once under Node, and is unknown (for verification), not re-sent", async () => {
    arrivals.length = 0;
    const connector = createSandboxConnector({ baseUrl, allowedHosts: [new URL(baseUrl).host] });
    const account = { id: "a1", platform: "sandbox", handle: "once", credentials: { accessToken: "sbx_test" } };
    const signal = AbortSignal.timeout(5_000);
    expect((await connector.lookup(account, "key-1", { signal })).kind).toBe("not_found");
    await idle(); // the lookup's connection back in the pool, so the publish goes out on it
    const outcome = await connector.publish({ account, idempotencyKey: "key-1", text: "hello", mediaUrls: [] }, { signal });
    expect(publishes()).toEqual([{ method: "POST", path: "/v1/accounts/once/posts", reused: 1 }]);
    expect(outcome.kind).toBe("unknown");
  });

  it("reaches the platform once under Deno, as the Edge Function publishes: on a connection of its own", async () => {
    const result = await underDeno("single-send");
    expect(publishes()).toEqual([{ method: "POST", path: "/v1/accounts/once/posts", reused: 0 }]);
    expect(result).toEqual({ lookup: "not_found", publish: "posted", more: [] });
  }, 60_000);

  it("reaches the platform once per publish under Deno when many follow at once, none on another's connection", async () => {
    const result = await underDeno("single-send-burst");
    // Any publish on a reused connection would be reset by the server and re-sent by Deno: 10 arrivals, not 9.
    expect(publishes()).toHaveLength(9);
    expect(publishes().every((a) => a.reused === 0)).toBe(true);
    expect(result).toEqual({ lookup: "not_found", publish: "posted", more: Array(8).fill("posted") });
  }, 60_000);

  it("reaches the platform once under Deno when the publish's own, fresh connection is reset after the read, and is unknown", async () => {
    resetEveryPublish = true;
    try {
      const result = await underDeno("single-send");
      expect(publishes()).toEqual([{ method: "POST", path: "/v1/accounts/once/posts", reused: 0 }]);
      expect(result).toEqual({ lookup: "not_found", publish: "unknown", more: [] });
    } finally {
      resetEveryPublish = false;
    }
  }, 60_000);

  it("would reach it twice with Deno's default (pooled) fetch: why the single-send client exists", async () => {
    const result = await underDeno("pooled");
    // The pooled fetch sent it on the reused connection, was reset, and silently sent it again.
    expect(publishes().map((a) => a.reused)).toEqual([1, 0]);
    expect(result.publish).toBe("posted");
  }, 60_000);
});
