// Starts the local Bluesky (PDS + AppView + PLC directory on one loopback port; see pds.ts) and
// hands tests its controls: make accounts, take them down, revoke or expire their sessions, inject
// the documented faults, set audience figures, and read what it holds.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { BlueskyWorld, RESET_CONNECTION, type BlueskyFakeConfig, type FakeRecord, type RandomFaults } from "./pds.ts";

export type { BlueskyFakeConfig, FakeRecord, RandomFaults, RandomFaultKind } from "./pds.ts";

export interface BlueskyFakeOptions {
  /** 0 picks a free port. */
  port: number;
  config?: Partial<BlueskyFakeConfig>;
  /** The fake's clock (token expiry, rate-limit windows, AppView lag). */
  now?: () => number;
  /** Accounts to create at start (for the local stack: a user can connect one without signing up). */
  accounts?: Array<{ handle: string; appPassword: string }>;
  log?: (line: string) => void;
}

export interface BlueskyFake {
  /** The PDS, AppView and PLC directory all answer here. */
  url: string;
  stop(): Promise<void>;
  world: BlueskyWorld;
  /** A new account; its app password is what a user pastes into Pacer. */
  createAccount(opts: { handle: string; appPassword?: string; mainPassword?: string; emailAuthFactor?: boolean; pdsUrl?: string }): { did: string; handle: string; appPassword: string };
  /** What the PDS holds for the account, in commit order: the truth tests check. */
  posts(did: string): FakeRecord[];
  /** Moderation: 401 AccountTakedown on writes and logins, 400 on the AppView. */
  takedown(did: string): void;
  /** The user deactivated the account: 401 AccountDeactivated on writes. */
  deactivate(did: string): void;
  reactivate(did: string): void;
  /** The user revoked the app password: its sessions end (refresh answers 400 ExpiredToken "Token has been revoked"). */
  revokeSessions(did: string): void;
  /** Access tokens expire now (refreshing still works). */
  expireAccessTokens(did: string): void;
  /** The next request naming the account (its token, repo or actor) answers 429 with reset headers `resetInMs` ahead. */
  rateLimitNext(did: string, resetInMs: number): void;
  /** The next request naming the account answers this 5xx before doing anything. */
  failNext(did: string, status: number): void;
  /** The next create commits, then: "reset" destroys the connection, a status answers that 5xx, hangMs holds the answer. */
  afterCommitNext(did: string, then: "reset" | { status: number } | { hangMs: number }): void;
  /** The next create waits `ms` before committing. */
  slowCommitNext(did: string, ms: number): void;
  /**
   * From now on every createRecord (any account) meets one of these faults at its share, rolled from
   * `random` (seed it to replay); null turns it off. `world.randomFaults` counts what fired.
   */
  setRandomFaults(opts: RandomFaults | null): void;
  setFollowers(did: string, followersCount: number): void;
  /** Engagement on one of the account's posts, as the AppView counts it. */
  setCounts(uri: string, counts: Partial<FakeRecord["counts"]>): void;
  /** The account reposts someone else's post (shows in its feed with a repost reason). */
  addRepost(did: string, uri: string): void;
  /** createSession and refreshSession calls answered 200, per account. */
  sessionCounts(did: string): { created: number; refreshed: number };
}

const LOOPBACK = "127.0.0.1";

export async function startBlueskyFake(opts: BlueskyFakeOptions): Promise<BlueskyFake> {
  const log = opts.log ?? (() => {});
  const world = new BlueskyWorld(opts.config, opts.now);
  for (const a of opts.accounts ?? []) world.createAccount(a);

  const sleepers = new Set<() => void>();
  let stopping = false;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping || ms <= 0) return resolve();
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });

  const server = createServer((req, res) => {
    serve(req, res).catch((error) => {
      log(`bluesky fake: ${req.method} ${req.url} failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
      if (!res.headersSent && !res.destroyed) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "InternalServerError", message: "Internal Server Error" }));
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).byteLength;
      // Past the upload cap the PDS stops reading (xrpc-server util.ts): 413, and the rest is dropped.
      if (size > world.config.blobUploadLimit) {
        res.writeHead(413, { "content-type": "application/json", connection: "close" });
        res.end(JSON.stringify({ error: "PayloadTooLarge", message: "request entity too large" }));
        req.destroy();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(`http://${LOOPBACK}${req.url}`, { method: req.method, headers, body: hasBody ? Buffer.concat(chunks) : undefined });
    const reply = await world.handle(request, req.socket.remoteAddress ?? "", sleep);
    if (reply === RESET_CONNECTION) return void req.socket.destroy();
    if (res.destroyed) return; // the client gave up while the answer was held
    const body = Buffer.from(await reply.arrayBuffer());
    res.writeHead(reply.status, { ...Object.fromEntries(reply.headers), "content-length": body.length });
    res.end(body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, LOOPBACK, () => resolve());
  });
  const url = `http://${LOOPBACK}:${(server.address() as { port: number }).port}`;
  world.baseUrl = url;
  log(`bluesky fake: listening on ${url}`);

  const account = (did: string) => {
    const a = world.accounts.get(did);
    if (!a) throw new Error(`no account ${did} on the Bluesky fake`);
    return a;
  };

  return {
    url,
    world,
    createAccount: (o) => world.createAccount(o),
    posts: (did) => world.posts(did),
    takedown: (did) => void (account(did).status = "takendown"),
    deactivate: (did) => void (account(did).status = "deactivated"),
    reactivate: (did) => void (account(did).status = "active"),
    revokeSessions: (did) => world.revokeSessions(did),
    expireAccessTokens: (did) => world.expireAccessTokens(did),
    rateLimitNext: (did, resetInMs) => void account(did).faults.push({ kind: "rate_limit", resetInMs }),
    failNext: (did, status) => void account(did).faults.push({ kind: "error", status }),
    afterCommitNext: (did, then) => void account(did).faults.push({ kind: "after_commit", then }),
    slowCommitNext: (did, ms) => void account(did).faults.push({ kind: "slow_commit", ms }),
    setRandomFaults: (o) => world.setRandomFaults(o),
    setFollowers: (did, n) => void (account(did).followersCount = n),
    setCounts(uri, counts) {
      const did = uri.slice("at://".length).split("/")[0];
      const record = world.posts(did).find((r) => r.uri === uri);
      if (!record) throw new Error(`no post ${uri} on the Bluesky fake`);
      Object.assign(record.counts, counts);
    },
    addRepost: (did, uri) => void account(did).reposts.push({ uri, at: world.now() }),
    sessionCounts: (did) => ({ created: 0, refreshed: 0, ...world.sessionCounts.get(did) }),
    async stop() {
      if (stopping) return;
      stopping = true;
      for (const wake of [...sleepers]) wake();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
