// The local stand-in for a Supabase project's API on 127.0.0.1: Auth under /auth/v1, Edge Functions
// under /functions/v1, and (optionally) the scheduler that invokes functions as pg_cron would.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import postgres from "postgres";
import type { LocalKeys } from "../keys.ts";
import { createAuthHandler, type AuthMail } from "./auth.ts";
import { LocalMailbox, authMailDelivery } from "./mailbox.ts";
import { createFunctionsRunner } from "./functions.ts";
import { startScheduler } from "./scheduler.ts";

export interface GatewayOptions {
  port: number;
  /** Only 127.0.0.1 is accepted: this server holds the secret key and must never face a network. */
  host?: string;
  dbUrl: string;
  keys: LocalKeys;
  functionsDir: string;
  functionEnv: Record<string, string>;
  scheduler: boolean;
  log: (line: string) => void;
  /** Tuning for tests (short-lived tokens, no refresh-token grace period). */
  auth?: { accessTokenTtlSeconds?: number; refreshTokenReuseIntervalSeconds?: number };
  /** The app Auth's emails link to (GoTrue's SITE_URL); the stack passes PACER_APP_URL. */
  siteUrl?: string;
  /** Where Auth's emails go; by default SMTP when configured, else the mailbox at /mailbox. */
  sendMail?: (mail: AuthMail) => Promise<void>;
}

export interface Gateway {
  url: string;
  /** The mails caught in local mode, newest first (also shown at <url>/mailbox). */
  mailbox: LocalMailbox;
  stop(): Promise<void>;
}

const LOOPBACK = "127.0.0.1";

// What browsers may send to /auth/v1: the headers supabase-js and @supabase/ssr set.
const ALLOWED_HEADERS = ["authorization", "apikey", "content-type", "x-client-info", "x-supabase-api-version"];

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  if (process.env.NODE_ENV === "production") {
    throw new Error("The local Supabase gateway refuses to run with NODE_ENV=production: it is for development and tests only.");
  }
  const host = opts.host ?? LOOPBACK;
  if (host !== LOOPBACK) {
    throw new Error(`The local Supabase gateway only listens on ${LOOPBACK}, not ${host}.`);
  }
  const { keys, log } = opts;
  const sql = postgres(opts.dbUrl, { max: 10, onnotice: () => {} });
  const runner = createFunctionsRunner({
    functionsDir: opts.functionsDir,
    env: opts.functionEnv,
    log,
  });
  // Both are set once the server listens and its port is known.
  let gatewayUrl = "";
  let auth: ((req: Request) => Promise<Response>) | undefined;
  const mailbox = new LocalMailbox();

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      log(`gateway: ${req.method} ${req.url} failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "Internal gateway error, see the dev server log" }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const started = Date.now();
    const url = new URL(req.url ?? "/", gatewayUrl);
    const path = url.pathname;
    let response: Response;

    if (path === "/auth/v1" || path.startsWith("/auth/v1/")) {
      const origin = req.headers.origin;
      if (req.method === "OPTIONS") {
        response = new Response(null, { status: 204 });
      } else {
        response = apiKeyProblem(req, url) ?? (await auth!(await toWebRequest(req, url, res)));
      }
      // Supabase's gateway answers CORS for Auth itself and allows any origin.
      withCors(response.headers, origin, req.headers["access-control-request-headers"]);
    } else if (path === "/mailbox" && req.method === "GET") {
      // Not part of Supabase's API: the local stand-in for the inbox a reset link is sent to.
      response = mailbox.page();
    } else if (path.startsWith("/functions/v1/")) {
      // CORS here is the function's own business, as on Supabase: a function that forgets its
      // OPTIONS answer fails in the browser locally too.
      const name = decodeURIComponent(path.slice("/functions/v1/".length).split("/")[0]);
      response = name
        ? await runner.fetch(await toWebRequest(req, url, res), name)
        : json(404, { message: "Function name missing: use /functions/v1/<name>" });
    } else {
      response = json(404, {
        message: `${path} is not served by Pacer's local gateway (only /auth/v1, /functions/v1 and /mailbox are)`,
      });
    }

    await sendWebResponse(response, res);
    // Failures only (successes would drown the dev log: the scheduler calls every tick), and the
    // path only, as query strings can carry keys.
    if (response.status >= 400) log(`${req.method} ${path} ${response.status} ${Date.now() - started}ms`);
  }

  /** Supabase's API gateway rejects Auth calls without a project API key before Auth sees them. */
  function apiKeyProblem(req: IncomingMessage, url: URL): Response | undefined {
    if (url.pathname === "/auth/v1/health" || url.pathname === "/auth/v1/.well-known/jwks.json") return undefined;
    const bearer = /^bearer (\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const apikey = header(req, "apikey") ?? url.searchParams.get("apikey") ?? undefined;
    const valid = (key: string | undefined) => key === keys.publishableKey || key === keys.secretKey;
    if (apikey === undefined && !valid(bearer)) {
      return json(401, {
        message: "No API key found in request",
        hint: "No `apikey` request header or url param was found.",
      });
    }
    if (apikey !== undefined && !valid(apikey)) {
      return json(401, {
        message: "Invalid API key",
        hint: "Double check your Supabase `anon` or `service_role` API key.",
      });
    }
    return undefined;
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port, LOOPBACK, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await runner.stop().catch(() => {});
    await sql.end({ timeout: 1 });
    throw new Error(`The local Supabase gateway could not listen on ${LOOPBACK}:${opts.port}: ${(error as Error).message}`);
  }
  const { port } = server.address() as { port: number };
  gatewayUrl = `http://${LOOPBACK}:${port}`;
  auth = createAuthHandler({
    sql,
    keys,
    log,
    issuer: `${gatewayUrl}/auth/v1`,
    accessTokenTtlSeconds: opts.auth?.accessTokenTtlSeconds,
    refreshTokenReuseIntervalSeconds: opts.auth?.refreshTokenReuseIntervalSeconds,
    siteUrl: opts.siteUrl,
    sendMail: opts.sendMail ?? authMailDelivery(mailbox, log, () => `${gatewayUrl}/mailbox`),
  });

  // Scheduled functions are invoked through the gateway as pg_cron + pg_net do
  // (private.invoke_scheduled_function): `Authorization: Bearer <PACER_CRON_SECRET>`, nothing else.
  const scheduler = opts.scheduler
    ? startScheduler({
        dbUrl: opts.dbUrl,
        log,
        invoke: (name: string) => invokeScheduled(gatewayUrl, name, keys.cronSecret),
      })
    : undefined;

  log(`gateway listening on ${gatewayUrl}`);
  return {
    url: gatewayUrl,
    mailbox,
    async stop() {
      await scheduler?.stop().catch((e: unknown) => log(`gateway: stopping the scheduler failed: ${e}`));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await runner.stop().catch((e: unknown) => log(`gateway: stopping the functions runner failed: ${e}`));
      await sql.end({ timeout: 5 });
    },
  };
}

/** One scheduled call, as Supabase's cron job sends it. */
export function invokeScheduled(gatewayUrl: string, name: string, cronSecret: string): Promise<Response> {
  return fetch(`${gatewayUrl}/functions/v1/${name}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${cronSecret}`, "content-type": "application/json" },
    body: "{}",
    // pg_net's timeout for these calls (private.invoke_scheduled_function): a hung function is a
    // failed call, recorded, and called again on schedule.
    signal: AbortSignal.timeout(150_000),
  });
}

function withCors(headers: Headers, origin: string | undefined, requestedHeaders: string | undefined) {
  if (origin) {
    headers.set("access-control-allow-origin", origin);
    headers.set("access-control-allow-credentials", "true");
    headers.append("vary", "Origin");
  } else {
    headers.set("access-control-allow-origin", "*");
  }
  headers.set("access-control-allow-methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
  const requested = (requestedHeaders ?? "").split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
  headers.set("access-control-allow-headers", [...new Set([...ALLOWED_HEADERS, ...requested])].join(", "));
  // auth-js reads this header to decide how to parse an error body.
  headers.set("access-control-expose-headers", "x-supabase-api-version");
  headers.set("access-control-max-age", "3600");
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function toWebRequest(req: IncomingMessage, url: URL, res: ServerResponse): Promise<Request> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  // Auth records the caller's address the way GoTrue reads it behind Supabase's proxy.
  if (!headers.has("x-forwarded-for") && req.socket.remoteAddress) {
    headers.set("x-forwarded-for", req.socket.remoteAddress);
  }
  const abort = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  let body: Uint8Array<ArrayBuffer> | undefined;
  if (req.method !== "GET" && req.method !== "HEAD") {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const all = Buffer.concat(chunks);
    body = new Uint8Array(all.byteLength);
    body.set(all);
  }
  return new Request(url, { method: req.method, headers, body, signal: abort.signal });
}

async function sendWebResponse(response: Response, res: ServerResponse) {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies;
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  // Streamed chunk by chunk so server-sent events from functions arrive as they are written.
  const reader = response.body.getReader();
  res.once("close", () => reader.cancel().catch(() => {}));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise((resolve) => {
          res.once("drain", resolve);
          res.once("close", resolve);
        });
      }
    }
  } finally {
    res.end();
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
