// Where an API request's time goes: each piece a read route runs, called one at a time with the
// app's own code (lib/), outside Next. Run by bench/api-http.ts as its own process (lib/db keeps one
// pool per process, and another section may have ended the bench's):
//   node --import tsx bench/api-pieces.ts   with SUPABASE_DB_URL, NEXT_PUBLIC_SUPABASE_*, TOKEN, SAMPLES
// Prints one JSON line: piece name → { p50, p99 } in milliseconds.
import { NextRequest } from "next/server";
import { percentile } from "./stats.ts";

const env = process.env;
const { authenticate } = await import("../lib/auth/index.ts");
const { hitApiLimit } = await import("../lib/api/limits.ts");
const { getQueueStatus, listQueuePage } = await import("../lib/queue/index.ts");
const { listAccounts } = await import("../lib/accounts/index.ts");
const { updateSession } = await import("../lib/supabase/proxy.ts");
const { contentSecurityPolicy, newNonce } = await import("../lib/security/csp.ts");
const { db } = await import("../lib/db/index.ts");

const samples = Number(env.SAMPLES ?? 200);
const url = "http://127.0.0.1:3000/api/queue/status";
const headers = { authorization: `Bearer ${env.TOKEN}` };

async function time(fn: () => Promise<unknown>) {
  for (let i = 0; i < 10; i++) await fn(); // warm-up: connections, JWKS, plans
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

const user = (await authenticate(new Request(url, { headers })))!;
if (!user) throw new Error("The bench's access token did not authenticate.");
const status = await getQueueStatus(user);
const accounts = await listAccounts(user, null, {});
const items = await listQueuePage(user, {});

const out = {
  roundTrip: await time(() => db()`select 1`),
  proxy: await time(async () => {
    const request = new NextRequest(url, { headers });
    request.headers.set("content-security-policy", contentSecurityPolicy({ nonce: newNonce(), dev: false, supabaseUrl: env.NEXT_PUBLIC_SUPABASE_URL, https: false }));
    await updateSession(request);
  }),
  authenticate: await time(() => authenticate(new Request(url, { headers }))),
  rateLimit: await time(() => hitApiLimit(user, "read")),
  statusSql: await time(() => getQueueStatus(user)),
  accountsSql: await time(() => listAccounts(user, null, {})),
  itemsSql: await time(() => listQueuePage(user, {})),
  statusJson: await time(async () => JSON.stringify(status)),
  accountsJson: await time(async () => JSON.stringify(accounts)),
  itemsJson: await time(async () => JSON.stringify(items)),
};
console.log(JSON.stringify(out));
await db().end({ timeout: 1 });
process.exit(0);
