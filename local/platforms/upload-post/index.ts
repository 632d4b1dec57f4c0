// A local fake of Upload-Post (https://docs.upload-post.com), on 127.0.0.1: the API Pacer's
// Upload-Post connector calls, with its documented answers, headers and errors, plus the faults
// tests need (lost answers after commit, 5xx, 429s, expired tokens, restricted accounts) and its
// own record of every post it made. State lives in memory. Behaviour and its sources: state.ts, routes.ts.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createUploadPostHandler, RESET_CONNECTION, type FakeReply } from "./routes.ts";
import { UploadPostState, type ApiKeyAccount, type FakeConfig, type HeldPost, type Platform, type Profile, type RandomFaults, type SocialAccount } from "./state.ts";

export type { HeldPost, Platform, FakeConfig, RandomFaults, RandomFaultKind } from "./state.ts";
export { PLATFORMS, TEXT_LIMITS, DEFAULT_CAPS } from "./state.ts";

export interface UploadPostFakeOptions {
  /** 0 picks a free port. */
  port: number;
  config?: Partial<FakeConfig>;
  /** The fake's clock (processing delays, caps, windows); the real one by default. */
  now?: () => number;
  /** Past this processing time a synchronous upload answers asynchronously (59 s on the real API). */
  syncSwitchMs?: number;
  log?: (line: string) => void;
}

/** One social account as tests name it. */
export interface SocialTarget {
  apiKey: string;
  profile: string;
  platform: string;
}

export interface UploadPostFake {
  /** The origin; the API is under `${url}/api`. */
  url: string;
  stop(): Promise<void>;
  state: UploadPostState;
  handle(request: Request): Promise<FakeReply>;
  /** A new API key with one profile whose social accounts are connected (as after the hosted connect page). */
  seed(opts: { profile: string; connect: Partial<Record<Platform, string>>; apiKey?: string; plan?: string; monthlyLimit?: number | null; pages?: SocialAccount["pages"] }): { key: ApiKeyAccount; profile: Profile };
  /** Every post the fake made on a platform, oldest first (settled first), optionally for one social account. */
  posts(target?: SocialTarget): HeldPost[];
  /** The next upload for the account is created, then its connection destroyed without an answer. */
  dropAnswerAfterCommit(target: SocialTarget): void;
  /** The next upload for the account answers this 5xx, creating nothing. */
  failNext(target: SocialTarget, status: number): void;
  /** The next request naming the account answers 429 with X-RateLimit-Reset `resetInMs` ahead. */
  rateLimitNext(target: SocialTarget, resetInMs: number): void;
  /** The social account's token dies: its uploads fail with "session has expired"; the profile shows reauth_required. */
  expireToken(target: SocialTarget): void;
  /** The whole API key stops working (401 "API key expired"). */
  expireApiKey(apiKey: string): void;
  restrict(target: SocialTarget): void;
  rejectDestination(target: SocialTarget, destination: string): void;
  /** The next upload's platform result fails with TikTok's reached_active_user_cap. */
  userCapNext(target: SocialTarget): void;
  /** The next upload's platform result shows `retryable` for `ms` after processing, then completes. */
  retryableFor(target: SocialTarget, ms: number): void;
  setMetrics(target: SocialTarget, metrics: Partial<SocialAccount["metrics"]>): void;
  /**
   * From now on every upload (any account) meets one of these faults at its share, rolled from
   * `random` (seed it to replay); null turns it off. `state.randomFaults` counts what fired.
   */
  setRandomFaults(opts: RandomFaults | null): void;
}

const LOOPBACK = "127.0.0.1";

export async function startUploadPostFake(opts: UploadPostFakeOptions): Promise<UploadPostFake> {
  const log = opts.log ?? (() => {});
  const state = new UploadPostState(opts.config, opts.now);
  const handler = createUploadPostHandler(state, { syncSwitchMs: opts.syncSwitchMs });

  const server = createServer((req, res) => {
    serve(req, res).catch((error) => {
      log(`upload-post fake: ${req.method} ${req.url} failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
      if (!res.headersSent && !res.destroyed) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ success: false, error: "The fake failed; see its log." }));
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    const hasBody = req.method !== "GET" && req.method !== "HEAD" && chunks.length > 0;
    const request = new Request(`http://${LOOPBACK}${req.url}`, { method: req.method, headers, body: hasBody ? Buffer.concat(chunks) : undefined });
    const reply = await handler(request, req.socket.remoteAddress ?? LOOPBACK);
    if (reply === RESET_CONNECTION) return void req.socket.destroy();
    if (res.destroyed) return;
    const body = Buffer.from(await reply.arrayBuffer());
    res.writeHead(reply.status, { ...Object.fromEntries(reply.headers), "content-length": body.length });
    res.end(body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, LOOPBACK, () => resolve());
  });
  const { port } = server.address() as { port: number };
  const url = `http://${LOOPBACK}:${port}`;
  state.baseUrl = url;
  log(`upload-post fake: listening on ${url}`);

  const social = (t: SocialTarget): SocialAccount => {
    const s = state.social(t.apiKey, t.profile, t.platform);
    if (!s) throw new Error(`The fake has no ${t.platform} account on profile ${t.profile}.`);
    return s;
  };
  const faults = (t: SocialTarget) => state.faultsFor(t.apiKey, t.profile, t.platform);

  return {
    url,
    state,
    handle: (request) => handler(request),
    seed({ profile: name, connect, apiKey, plan, monthlyLimit, pages }) {
      const key = state.createKey({ apiKey, plan, monthlyLimit });
      const profile = state.createProfile(key, name);
      for (const [platform, handle] of Object.entries(connect)) state.connectSocial(profile, platform as Platform, handle!, pages ? { pages } : {});
      return { key, profile };
    },
    posts(target) {
      state.settle();
      return state.posts.filter((p) => !target || (p.apiKey === target.apiKey && p.profile === target.profile && p.platform === target.platform));
    },
    dropAnswerAfterCommit: (t) => void (faults(t).dropAnswerAfterCommit = (faults(t).dropAnswerAfterCommit ?? 0) + 1),
    failNext: (t, status) => void (faults(t).failNext ??= []).push(status),
    rateLimitNext: (t, resetInMs) => void (faults(t).rateLimitNext ??= []).push(resetInMs),
    expireToken: (t) => void (social(t).reauth_required = true),
    expireApiKey(apiKey) {
      const key = state.keys.get(apiKey);
      if (key) key.expired = true;
    },
    restrict: (t) => void (social(t).restricted = true),
    rejectDestination: (t, destination) => void social(t).rejectedDestinations.add(destination),
    userCapNext: (t) => void (faults(t).userCapNext = (faults(t).userCapNext ?? 0) + 1),
    retryableFor: (t, ms) => void (faults(t).retryableFor ??= []).push(ms),
    setMetrics: (t, metrics) => void Object.assign(social(t).metrics, metrics),
    setRandomFaults: (o) => state.setRandomFaults(o),
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
