// Run by publish-once.test.ts under the real Deno binary, as the Edge Function runs the connector:
// one lookup (a read that leaves a keep-alive connection in the pool), then one publish.
// Usage: deno run … publish-once.deno.ts <base URL> <single-send|single-send-burst|pooled>
// Runs under Deno, not Node: the declaration below only keeps the project's tsc quiet.
declare const Deno: any;
import { createSandboxConnector } from "../../lib/connectors/sandbox.ts";

const [baseUrl, mode] = Deno.args;
// "pooled" forces Deno's default fetch for the publish: the behaviour the single-send fetch exists to avoid.
// The test's platform is on loopback, which connectors reach only where the operator allows it.
const connector = createSandboxConnector({ baseUrl, allowedHosts: [new URL(baseUrl).host], ...(mode === "pooled" ? { publishFetch: fetch } : {}) });
const account = { id: "a1", platform: "sandbox", handle: "once", credentials: { accessToken: "sbx_test" } };
const signal = AbortSignal.timeout(5_000);
const lookup = await connector.lookup(account, "key-1", { signal });
await new Promise((resolve) => setTimeout(resolve, 50)); // the lookup's connection back in the pool
const publish = await connector.publish({ account, idempotencyKey: "key-1", text: "hello", mediaUrls: [] }, { signal });
// "single-send-burst": as an Edge Function run does, many more publishes right after, some at once,
// through the same client: none may ride a connection another publish left open.
const more = mode === "single-send-burst"
  ? await Promise.all(Array.from({ length: 8 }, (_, i) => connector.publish({ account, idempotencyKey: `key-${i + 2}`, text: `hello ${i + 2}`, mediaUrls: [] }, { signal })))
  : [];
console.log(JSON.stringify({ lookup: lookup.kind, publish: publish.kind, more: more.map((o) => o.kind) }));
