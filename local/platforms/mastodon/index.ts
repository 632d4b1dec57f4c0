// A local fake of one Mastodon instance on 127.0.0.1, for the connector's tests, the contract suite
// and the local stack: the documented OAuth flow, statuses with Idempotency-Key, media processing,
// account timelines, rate limits with their headers, and the faults a real instance produces.
// State lives in memory; the controls below are how a test arranges it.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createMastodonHandler, RESET_CONNECTION } from "./routes.ts";
import { MastodonState, type AccountState, type FakeAccount, type FakeConfig, type FakeStatus, type NextFault, type RandomFaults } from "./state.ts";

export type { FakeAccount, FakeConfig, FakeStatus, NextFault, AccountState, RandomFaults } from "./state.ts";
export { MastodonState } from "./state.ts";

export interface MastodonFakeOptions {
  /** 0 picks a free port. */
  port: number;
  config?: Partial<FakeConfig>;
  /** The fake's clock before any advanceClock (defaults to Date.now). */
  now?: () => number;
  log?: (line: string) => void;
}

export interface MastodonFake {
  url: string;
  stop(): Promise<void>;
  state: MastodonState;
  /** A user on the instance (as someone who signed up); the same username returns the same user. */
  createUser(username: string, init?: Partial<Omit<FakeAccount, "id" | "username">>): FakeAccount;
  /** A token for a user without the OAuth dance (for tests that are not about connecting). */
  issueToken(username: string, scopes?: string[]): string;
  /** Every status the instance created for the user, oldest first: the record exactly-once is checked against (deleted ones included, marked). */
  statusesOf(username: string): FakeStatus[];
  setAccountState(username: string, state: AccountState): void;
  setSilenced(username: string, silenced: boolean): void;
  /** Revokes every token of the user (as the user would in Settings → Authorized apps). */
  revokeTokens(username: string): void;
  setFollowers(username: string, followers: number): void;
  /** A status the user wrote on the instance's own web interface (not through Pacer). */
  postAsUser(username: string, text: string): FakeStatus;
  /** Sets a status's favourites, reblogs and replies counts. */
  setCounts(statusId: string, counts: Partial<Pick<FakeStatus, "favourites_count" | "reblogs_count" | "replies_count">>): void;
  /** Queues a one-shot fault for the user's next matching request. */
  nextFault(username: string, fault: NextFault): void;
  /**
   * From now on every status creation (any user) meets one of these faults at its share, rolled from
   * `random` (seed it to replay); null turns it off. `state.randomFaults` counts what fired.
   */
  setRandomFaults(opts: RandomFaults | null): void;
  /** Moves the fake's clock forward. */
  advanceClock(ms: number): void;
  /** Forgets the OAuth app (Mastodon < 4.3 could vacuum apps): its client can no longer authenticate. */
  forgetApp(clientId: string): void;
}

const LOOPBACK = "127.0.0.1";

export async function startMastodonFake(opts: MastodonFakeOptions = { port: 0 }): Promise<MastodonFake> {
  const log = opts.log ?? (() => {});
  const state = new MastodonState(opts.config, opts.now);

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
  const handle = createMastodonHandler(state, { sleep });

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    const hasBody = req.method !== "GET" && req.method !== "HEAD" && chunks.length > 0;
    const request = new Request(`http://${LOOPBACK}${req.url}`, { method: req.method, headers, body: hasBody ? Buffer.concat(chunks) : undefined });
    const reply = await handle(request);
    if (reply === RESET_CONNECTION) return void req.socket.destroy();
    if (res.destroyed) return;
    const body = Buffer.from(await reply.arrayBuffer());
    res.writeHead(reply.status, { ...Object.fromEntries(reply.headers), "content-length": body.length });
    res.end(body);
  }

  const server = createServer((req, res) => {
    serve(req, res).catch((error) => {
      log(`mastodon fake: ${req.method} ${req.url} failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
      if (!res.headersSent && !res.destroyed) res.writeHead(500, { "content-type": "text/html" });
      res.end("<h1>We're sorry, but something went wrong.</h1>");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, LOOPBACK, () => resolve());
  });
  const { port } = server.address() as { port: number };
  const url = `http://${LOOPBACK}:${port}`;
  state.baseUrl = url;
  log(`mastodon fake: listening on ${url}`);

  const user = (username: string): FakeAccount => {
    const account = state.accountByUsername(username);
    if (!account) throw new Error(`The fake Mastodon has no user @${username}.`);
    return account;
  };

  return {
    url,
    state,
    createUser: (username, init) => state.createAccount(username, init),
    issueToken(username, scopes = ["read", "write:statuses", "write:media"]) {
      const app = [...state.apps.values()].find((a) => a.name === "Fake test client") ?? state.registerApp({ name: "Fake test client", website: null, redirect_uris: ["urn:ietf:wg:oauth:2.0:oob"], scopes });
      return state.issueToken(user(username).id, app.client_id, scopes).token;
    },
    statusesOf: (username) => state.statuses.filter((s) => s.account_id === user(username).id),
    setAccountState: (username, s) => void (user(username).state = s),
    setSilenced: (username, silenced) => void (user(username).silenced = silenced),
    revokeTokens(username) {
      const id = user(username).id;
      for (const t of state.tokens.values()) if (t.account_id === id) t.revoked = true;
    },
    setFollowers: (username, followers) => void (user(username).followers_count = followers),
    postAsUser(username, text) {
      const status: FakeStatus = {
        id: state.newId(),
        account_id: user(username).id,
        text,
        spoiler_text: "",
        visibility: "public",
        language: "en",
        sensitive: false,
        in_reply_to_id: null,
        media_ids: [],
        created_at: state.now(),
        application: { name: "Web", website: null },
        favourites_count: 0,
        reblogs_count: 0,
        replies_count: 0,
        deleted: false,
        idempotency_key: null,
        response_lost: null,
      };
      state.statuses.push(status);
      return status;
    },
    setCounts(statusId, counts) {
      const status = state.status(statusId);
      if (!status) throw new Error(`No status ${statusId}.`);
      Object.assign(status, counts);
    },
    nextFault: (username, fault) => state.addFault(user(username).id, fault),
    setRandomFaults: (o) => state.setRandomFaults(o),
    advanceClock: (ms) => state.advanceClock(ms),
    forgetApp: (clientId) => void state.apps.delete(clientId),
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
