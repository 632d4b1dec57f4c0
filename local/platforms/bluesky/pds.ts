// A local Bluesky: one server plays the user's PDS (sessions, repo writes and reads, blobs), the
// AppView (profiles, author feeds) and the PLC directory (DID documents), answering the requests,
// errors and headers Pacer's connector uses the way the reference server does. Sources are cited
// per route; docs/platforms/bluesky.md collects them (§ numbers below refer to it).
//   Docs: https://docs.bsky.app/docs/advanced-guides/rate-limits, https://docs.bsky.app/docs/advanced-guides/posts,
//   https://atproto.com/specs/xrpc, https://atproto.com/specs/record-key, https://atproto.com/specs/tid,
//   https://atproto.com/specs/did, Lexicons in bluesky-social/atproto/lexicons/.
// State is in memory; the record of committed posts is the ground truth tests check.
import { createHash, randomBytes } from "node:crypto";
import { FaultDice, type FaultDiceOptions } from "../random-faults.ts";

export const RESET_CONNECTION = Symbol("reset the connection");
export type FakeReply = Response | typeof RESET_CONNECTION;

export interface BlueskyFakeConfig {
  /** Access tokens live 120 minutes, refresh tokens 90 days (packages/pds/src/account-manager/helpers/auth.ts). */
  accessTtlMs: number;
  refreshTtlMs: number;
  /** A rotated refresh token still works this long (account-manager.ts REFRESH_GRACE_MS = 2 h). */
  refreshGraceMs: number;
  /** Write points per account (rate-limits.md: 5,000/hour, 35,000/day; a create costs 3). */
  writePoints: { hour: number; day: number };
  /** createSession per identifier+IP (rate-limits.md: 30 per 5 minutes, 300 per day). */
  sessionLimits: { fiveMinutes: number; day: number };
  /** uploadBlob per account (uploadBlob.ts: 1,000 per day). */
  blobsPerDay: number;
  /** Image size in a post record (embed/images.json maxSize: 2,000,000 since #4823; formerly 1,000,000). */
  maxImageBytes: number;
  /** Upload cap (bsky.social: 50 MB, rate-limits.md) and JSON body cap (1 MB, createRecord.ts jsonLimit). */
  blobUploadLimit: number;
  jsonLimit: number;
  /** How long after its commit a post shows in the AppView (the firehose's lag); 0 = at once. */
  appviewLagMs: number;
  /**
   * What a create at an existing rkey answers: the reference PDS throws inside the MST and answers
   * 500 InternalServerError (§3.1; bluesky-social/atproto#3718); PR #4728 (open) would name it.
   */
  duplicateRkey: "internal_error" | "named";
}

export const DEFAULT_CONFIG: BlueskyFakeConfig = {
  accessTtlMs: 120 * 60_000,
  refreshTtlMs: 90 * 24 * 3600_000,
  refreshGraceMs: 2 * 3600_000,
  writePoints: { hour: 5000, day: 35000 },
  sessionLimits: { fiveMinutes: 30, day: 300 },
  blobsPerDay: 1000,
  maxImageBytes: 2_000_000,
  blobUploadLimit: 50 * 1024 * 1024,
  jsonLimit: 1_000_000,
  appviewLagMs: 0,
  duplicateRkey: "internal_error",
};

export interface FakeRecord {
  uri: string;
  cid: string;
  rkey: string;
  value: Record<string, unknown>;
  committedAt: number;
  indexedAt: number;
  counts: { likeCount: number; repostCount: number; replyCount: number; quoteCount: number };
  /** The injected fault that replaced or held back this record's answer. */
  answerLost?: "reset" | "error" | "hang";
}

/** A fault the next matching request of an account meets. */
export type Fault =
  | { kind: "rate_limit"; resetInMs: number }
  /** Answers `status` before anything is written. */
  | { kind: "error"; status: number }
  /** The next create commits, then answers `status` (5xx), resets the connection, or holds the answer `ms`. */
  | { kind: "after_commit"; then: "reset" | { status: number } | { hangMs: number } }
  /** The next create waits `ms` before its commit (a loaded PDS), then answers as usual. */
  | { kind: "slow_commit"; ms: number };

/** What a create can meet at random (setRandomFaults): the kinds above, each answer-losing one apart. */
export type RandomFaultKind = "rate_limit" | "error" | "slow_commit" | "reset_after_commit" | "error_after_commit" | "hang_after_commit";

/** Faults at random (the chaos test's mode): each createRecord rolls once, and a rolled kind is queued as its one-shot fault. */
export interface RandomFaults extends FaultDiceOptions<RandomFaultKind> {
  /** rate_limit: when the window resets. */
  resetInMs?: number;
  /** error, error_after_commit: the 5xx answered. */
  status?: number;
  slowCommitMs?: number;
  hangMs?: number;
}

export interface FakeAccount {
  did: string;
  handle: string;
  appPasswords: Set<string>;
  /** The main password: with email 2FA on, logging in with it asks for a code (§2.3). */
  mainPassword: string;
  emailAuthFactor: boolean;
  status: "active" | "takendown" | "deactivated";
  followersCount: number;
  followsCount: number;
  displayName: string;
  /** Commit order. */
  records: Map<string, FakeRecord>;
  /** The author's reposts of others' posts, as the feed shows them (reason repost). */
  reposts: Array<{ uri: string; at: number }>;
  faults: Fault[];
  /** The PDS its DID document names, when not this fake (a hostile or broken identity: tests only). */
  pdsUrl?: string;
}

interface Token {
  did: string;
  kind: "access" | "refresh";
  expiresAt: number;
  revoked: boolean;
  /** Refresh tokens: the token it was rotated to, and when (the grace period). */
  rotatedTo?: string;
  rotatedAt?: number;
}

interface Window {
  start: number;
  used: number;
}

interface Limit {
  name: string;
  points: number;
  windowMs: number;
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** An XRPC error: `{"error","message"}` as JSON (https://atproto.com/specs/xrpc § Error Responses). */
export function xrpcError(status: number, error: string, message: string, headers: Record<string, string> = {}): Response {
  return json(status, { error, message }, headers);
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", ...headers } });
}

const cidOf = (prefix: string, bytes: Uint8Array | string) => prefix + createHash("sha256").update(bytes).digest("hex").slice(0, 52);

const S32 = "234567abcdefghijklmnopqrstuvwxyz";
const TID_RE = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/;
/** Any record key (https://atproto.com/specs/record-key). */
const RKEY_RE = /^[A-Za-z0-9._~:-]{1,512}$/;
const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
const graphemes = (text: string) => [...segmenter.segment(text)].length;
const utf8 = (text: string) => Buffer.byteLength(text, "utf8");

export class BlueskyWorld {
  readonly accounts = new Map<string, FakeAccount>();
  private readonly byHandle = new Map<string, string>();
  private readonly tokens = new Map<string, Token>();
  private readonly windows = new Map<string, Window>();
  private readonly blobs = new Map<string, { did: string; mimeType: string; size: number }>();
  /** Every createSession and refreshSession answered 200, by DID: "never a login per post" is checked on these. */
  readonly sessionCounts = new Map<string, { created: number; refreshed: number }>();
  private lastTid = 0n;
  /** Set by setRandomFaults: what each create rolls, and what fired. */
  randomFaults: (FaultDice<RandomFaultKind> & { opts: RandomFaults }) | null = null;
  config: BlueskyFakeConfig;
  /** Where the PDS is, for DID documents; set once the server listens. */
  baseUrl = "http://127.0.0.1";

  constructor(config: Partial<BlueskyFakeConfig> = {}, readonly now: () => number = Date.now) {
    this.config = { ...DEFAULT_CONFIG, ...config };
  }

  createAccount(opts: { handle: string; appPassword?: string; mainPassword?: string; emailAuthFactor?: boolean; pdsUrl?: string }): { did: string; handle: string; appPassword: string } {
    const handle = opts.handle.toLowerCase();
    if (this.byHandle.has(handle)) throw new Error(`@${handle} exists on the fake already`);
    const did = `did:plc:${[...randomBytes(24)].map((b) => S32[b & 31]).join("")}`;
    const appPassword = opts.appPassword ?? [0, 1, 2, 3].map(() => [...randomBytes(4)].map((b) => "abcdefghijklmnopqrstuvwxyz234567"[b & 31]).join("")).join("-");
    this.accounts.set(did, {
      did,
      handle,
      appPasswords: new Set([appPassword]),
      mainPassword: opts.mainPassword ?? randomBytes(12).toString("base64url"),
      emailAuthFactor: opts.emailAuthFactor ?? false,
      status: "active",
      followersCount: 0,
      followsCount: 0,
      displayName: handle.split(".")[0],
      records: new Map(),
      reposts: [],
      faults: [],
      ...(opts.pdsUrl ? { pdsUrl: opts.pdsUrl } : {}),
    });
    this.byHandle.set(handle, did);
    return { did, handle, appPassword };
  }

  /** By DID or handle. */
  account(actor: string | null | undefined): FakeAccount | undefined {
    if (!actor) return undefined;
    return this.accounts.get(actor) ?? this.accounts.get(this.byHandle.get(actor.toLowerCase().replace(/^@/, "")) ?? "");
  }

  /** The account's posts in commit order: the truth about what was published. */
  posts(did: string): FakeRecord[] {
    return [...(this.accounts.get(did)?.records.values() ?? [])];
  }

  /** Revoking app passwords revokes their sessions (deleteAppPassword removes the refresh tokens). */
  revokeSessions(did: string) {
    const account = this.accounts.get(did);
    if (account) account.appPasswords.clear();
    // A revoked app password's access token stops at its expiry (≤ 2 h); the fake ends it at once.
    for (const token of this.tokens.values()) if (token.did === did) token.revoked = true;
  }

  /** Access tokens reach their expiry now; refresh tokens still work. */
  expireAccessTokens(did: string) {
    for (const token of this.tokens.values()) if (token.did === did && token.kind === "access") token.expiresAt = this.now() - 1;
  }

  // ---- sessions -------------------------------------------------------------------------------

  private issue(did: string, kind: Token["kind"]): string {
    const token = `${kind === "access" ? "at" : "rt"}_${randomBytes(24).toString("base64url")}`;
    this.tokens.set(token, { did, kind, expiresAt: this.now() + (kind === "access" ? this.config.accessTtlMs : this.config.refreshTtlMs), revoked: false });
    return token;
  }

  private sessionBody(account: FakeAccount, accessJwt: string, refreshJwt: string) {
    return {
      accessJwt,
      refreshJwt,
      handle: account.handle,
      did: account.did,
      didDoc: this.didDoc(account),
      active: account.status === "active",
      ...(account.status === "active" ? {} : { status: account.status }),
    };
  }

  didDoc(account: FakeAccount) {
    return {
      "@context": ["https://www.w3.org/ns/did/v1"],
      id: account.did,
      alsoKnownAs: [`at://${account.handle}`],
      service: [{ id: "#atproto_pds", type: "AtprotoPersonalDataServer", serviceEndpoint: account.pdsUrl ?? this.baseUrl }],
    };
  }

  private count(did: string, what: "created" | "refreshed") {
    const c = this.sessionCounts.get(did) ?? { created: 0, refreshed: 0 };
    c[what]++;
    this.sessionCounts.set(did, c);
  }

  /**
   * The bearer token's account, or the error the reference auth verifier answers
   * (auth-verifier.ts: missing → 401 AuthMissing; unknown/wrong type → 400 InvalidToken;
   * expired → 400 ExpiredToken — 400, not 401, §0.3).
   */
  private authenticate(request: Request, kind: Token["kind"]): { account: FakeAccount; token: string; info: Token } | { error: Response } {
    const header = request.headers.get("authorization") ?? "";
    if (!header) return { error: xrpcError(401, "AuthMissing", "Authentication Required") };
    const match = /^Bearer (\S+)$/.exec(header);
    if (!match) return { error: xrpcError(400, "InvalidToken", "Unexpected authorization type") };
    const info = this.tokens.get(match[1]);
    if (!info) return { error: xrpcError(400, "InvalidToken", "Token could not be verified") };
    if (info.kind !== kind) return { error: xrpcError(400, "InvalidToken", "Bad token scope") };
    const account = this.accounts.get(info.did)!;
    if (kind === "refresh" && info.revoked) return { error: xrpcError(400, "ExpiredToken", "Token has been revoked") };
    if (info.revoked || info.expiresAt <= this.now()) return { error: xrpcError(400, "ExpiredToken", "Token has expired") };
    return { account, token: match[1], info };
  }

  // ---- rate limits: fixed windows from first use (rate-limiter-flexible), §6 ----------------

  /**
   * Spends `points` on every limit or none. Headers describe the limit with the fewest points left
   * (CombinedRateLimiter.consume); a refusal adds Retry-After (rate-limiter-http.ts setStatusHeaders).
   */
  private consume(key: string, limits: Limit[], points: number): { headers: Record<string, string>; refused?: Response } {
    const now = this.now();
    const states = limits.map((limit) => {
      const id = `${limit.name}:${key}`;
      let w = this.windows.get(id);
      if (!w || w.start + limit.windowMs <= now) this.windows.set(id, (w = { start: now, used: 0 }));
      return { limit, w };
    });
    const over = states.find(({ limit, w }) => w.used + points > limit.points);
    if (!over) for (const { w } of states) w.used += points;
    const tightest = over ?? states.reduce((a, b) => (b.limit.points - b.w.used < a.limit.points - a.w.used ? b : a));
    const reset = tightest.w.start + tightest.limit.windowMs;
    const headers = rateHeaders(tightest.limit.points, Math.max(0, tightest.limit.points - tightest.w.used), reset, tightest.limit.windowMs);
    if (!over) return { headers };
    headers["retry-after"] = String(Math.max(0, Math.ceil((reset - now) / 1000)));
    return { headers, refused: xrpcError(429, "RateLimitExceeded", "Rate Limit Exceeded", headers) };
  }

  /** Faults at random on every createRecord from now on (null: none). */
  setRandomFaults(opts: RandomFaults | null): void {
    this.randomFaults = opts ? Object.assign(new FaultDice(opts), { opts }) : null;
  }

  /** A create's roll: queues the fault it met, if any, for the one-shot checks to take. */
  private rollFault(account: FakeAccount): void {
    const dice = this.randomFaults;
    const kind = dice?.roll();
    if (!dice || !kind) return;
    const { resetInMs = 1_000, status = 502, slowCommitMs = 1_000, hangMs = 2_000 } = dice.opts;
    const fault: Fault =
      kind === "rate_limit" ? { kind, resetInMs }
      : kind === "error" ? { kind, status }
      : kind === "slow_commit" ? { kind, ms: slowCommitMs }
      : { kind: "after_commit", then: kind === "reset_after_commit" ? "reset" : kind === "error_after_commit" ? { status } : { hangMs } };
    account.faults.push(fault);
  }

  /** A fault that answers before anything happens: an injected 429 (with its reset headers) or 5xx. */
  private faultBefore(account: FakeAccount | undefined): Response | undefined {
    const i = account ? account.faults.findIndex((f) => f.kind === "rate_limit" || f.kind === "error") : -1;
    if (!account || i < 0) return undefined;
    const [fault] = account.faults.splice(i, 1);
    if (fault.kind === "rate_limit") {
      const reset = this.now() + fault.resetInMs;
      const limit = this.config.writePoints.hour;
      const headers = { ...rateHeaders(limit, 0, reset, HOUR), "retry-after": String(Math.ceil(fault.resetInMs / 1000)) };
      return xrpcError(429, "RateLimitExceeded", "Rate Limit Exceeded", headers);
    }
    if (fault.kind === "error") return serverError(fault.status);
    return undefined;
  }

  // ---- routes -------------------------------------------------------------------------------

  async handle(request: Request, ip: string, sleep: (ms: number) => Promise<void>): Promise<FakeReply> {
    const url = new URL(request.url);
    // PLC directory stand-in: GET /<did> → the DID document (https://atproto.com/specs/did, web.plc.directory).
    if (url.pathname.startsWith("/did:")) {
      const account = this.accounts.get(decodeURIComponent(url.pathname.slice(1)));
      return account ? json(200, this.didDoc(account)) : json(404, { message: "DID not registered" });
    }
    if (url.pathname === "/admin/accounts" && request.method === "POST") {
      // Not Bluesky: how the local stack and e2e tests make an account to connect (a user would sign up on bsky.app).
      // `pdsUrl`: the DID document names another PDS (a test's hostile identity).
      const body = (await request.json().catch(() => ({}))) as { handle?: string; appPassword?: string; pdsUrl?: string };
      if (!body.handle || this.account(body.handle)) return json(400, { message: "a new handle is required" });
      return json(201, this.createAccount({ handle: body.handle, appPassword: body.appPassword, pdsUrl: body.pdsUrl }));
    }
    const m = /^\/xrpc\/([a-zA-Z0-9.]+)$/.exec(url.pathname);
    if (!m) return json(404, { error: "NotFound", message: "Not Found" });
    const route = ROUTES[m[1]];
    if (!route) return xrpcError(501, "MethodNotImplemented", "Method Not Implemented");
    // Queries are GET, procedures POST (https://atproto.com/specs/xrpc; xrpc-server/src/server.ts).
    if (request.method !== route.method) return xrpcError(400, "InvalidRequest", `Incorrect HTTP method (${request.method}) expected ${route.method}`);
    return route.run.call(this, request, url.searchParams, { ip, sleep });
  }

  async createSession(request: Request, _q: URLSearchParams, { ip }: Ctx): Promise<Response> {
    // lexicons/com/atproto/server/createSession.json; packages/pds/src/api/com/atproto/server/createSession.ts
    const body = await jsonBody(request);
    if (!body || typeof body.identifier !== "string" || typeof body.password !== "string") {
      return xrpcError(400, "InvalidRequest", "Input must have the properties \"identifier\" and \"password\"");
    }
    const limit = this.consume(`${body.identifier.toLowerCase()}-${ip}`, [
      { name: "session-5m", points: this.config.sessionLimits.fiveMinutes, windowMs: 5 * 60_000 },
      { name: "session-day", points: this.config.sessionLimits.day, windowMs: DAY },
    ], 1);
    if (limit.refused) return limit.refused;
    const account = this.account(body.identifier);
    const invalid = () => xrpcError(401, "AuthenticationRequired", "Invalid identifier or password", limit.headers);
    if (!account) return invalid();
    if (account.appPasswords.has(body.password)) {
      // A taken-down account cannot log in with an app password at all (account-manager.ts login).
      if (account.status === "takendown") return xrpcError(401, "AccountTakedown", "Account has been taken down", limit.headers);
    } else if (body.password === account.mainPassword) {
      if (account.status === "takendown") return xrpcError(401, "AccountTakedown", "Account has been taken down", limit.headers);
      // Email 2FA applies to the main password only (discussion #2435).
      if (account.emailAuthFactor && !body.authFactorToken) return xrpcError(401, "AuthFactorTokenRequired", "A sign in code has been sent to your email address", limit.headers);
    } else {
      return invalid();
    }
    this.count(account.did, "created");
    return json(200, this.sessionBody(account, this.issue(account.did, "access"), this.issue(account.did, "refresh")), limit.headers);
  }

  async refreshSession(request: Request): Promise<Response> {
    // refreshSession.ts; account-manager.ts rotateRefreshToken (a 2 h grace for the old token, which gets the same next token).
    const auth = this.authenticate(request, "refresh");
    if ("error" in auth) return auth.error;
    const { account, info } = auth;
    const fault = this.faultBefore(account);
    if (fault) return fault;
    if (account.status === "takendown") return xrpcError(401, "AccountTakedown", "Account has been taken down");
    let next: string;
    if (info.rotatedTo) {
      if (this.now() - info.rotatedAt! > this.config.refreshGraceMs) return xrpcError(400, "ExpiredToken", "Token has been revoked");
      next = info.rotatedTo;
    } else {
      next = this.issue(account.did, "refresh");
      info.rotatedTo = next;
      info.rotatedAt = this.now();
    }
    this.count(account.did, "refreshed");
    return json(200, this.sessionBody(account, this.issue(account.did, "access"), next));
  }

  async getSession(request: Request): Promise<Response> {
    const auth = this.authenticate(request, "access");
    if ("error" in auth) return auth.error;
    const { account } = auth;
    return json(200, { did: account.did, handle: account.handle, didDoc: this.didDoc(account), active: account.status === "active", ...(account.status === "active" ? {} : { status: account.status }) });
  }

  async deleteSession(request: Request): Promise<Response> {
    // deleteSession.ts: revokes that refresh token (an expired one too); 200 with no body.
    const token = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
    const info = token ? this.tokens.get(token) : undefined;
    if (!info || info.kind !== "refresh") return xrpcError(400, "InvalidToken", "Token could not be verified");
    info.revoked = true;
    return new Response(null, { status: 200 });
  }

  async resolveHandle(_r: Request, q: URLSearchParams): Promise<Response> {
    // lexicons/com/atproto/identity/resolveHandle.json; pds resolveHandle.ts answers 400 InvalidRequest.
    const account = this.account(q.get("handle"));
    if (!account || !q.get("handle") || q.get("handle")!.startsWith("did:")) return xrpcError(400, "InvalidRequest", "Unable to resolve handle");
    return json(200, { did: account.did });
  }

  async createRecord(request: Request, _q: URLSearchParams, { sleep }: Ctx): Promise<FakeReply> {
    // lexicons/com/atproto/repo/createRecord.json; the order of xrpc-server createHandlerInternal:
    // auth → body → rate limit (points spent here) → handler (account, rkey, record) → commit (§3.1).
    const auth = this.authenticate(request, "access");
    if ("error" in auth) return auth.error;
    const { account } = auth;
    const text = await request.text();
    if (utf8(text) > this.config.jsonLimit) return xrpcError(413, "PayloadTooLarge", "request entity too large");
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text);
    } catch {
      return xrpcError(400, "InvalidRequest", "Request body is not valid JSON");
    }
    this.rollFault(account);
    const fault = this.faultBefore(account);
    if (fault) return fault;
    const limit = this.consume(account.did, [
      { name: "repo-write-hour", points: this.config.writePoints.hour, windowMs: HOUR },
      { name: "repo-write-day", points: this.config.writePoints.day, windowMs: DAY },
    ], 3);
    if (limit.refused) return limit.refused;
    const h = limit.headers;
    if (account.status === "takendown") return xrpcError(401, "AccountTakedown", "Account has been taken down", h);
    if (account.status === "deactivated") return xrpcError(401, "AccountDeactivated", "Account is deactivated", h);
    if (this.account(String(body.repo ?? ""))?.did !== account.did) return xrpcError(401, "AuthenticationRequired", "Input/repo must be the authenticated account", h);
    const collection = String(body.collection ?? "");
    if (collection !== "app.bsky.feed.post") return xrpcError(400, "InvalidRequest", `This fake only stores app.bsky.feed.post, not ${collection}`, h);
    const rkey = body.rkey === undefined ? this.nextTid() : String(body.rkey);
    if (!RKEY_RE.test(rkey) || rkey === "." || rkey === "..") return xrpcError(400, "InvalidRequest", `Invalid record key: ${rkey}`, h);
    if (!TID_RE.test(rkey)) return xrpcError(400, "InvalidRequest", `Invalid record key for app.bsky.feed.post: ${rkey}`, h);
    const record = body.record as Record<string, unknown>;
    const problem = this.recordProblem(account, record);
    if (problem) return problem.status === 400 && problem.error === "InvalidRequest"
      ? xrpcError(400, "InvalidRequest", `Invalid app.bsky.feed.post record: ${problem.message}`, h)
      : xrpcError(problem.status, problem.error, problem.message, h);
    if (account.records.has(rkey)) {
      // MST.add throws "There is already a value at key"; a plain Error is a 500 with its message hidden (§3.1).
      return this.config.duplicateRkey === "named"
        ? xrpcError(400, "RecordAlreadyExists", `Record already exists at ${collection}/${rkey}`, h)
        : xrpcError(500, "InternalServerError", "Internal Server Error", h);
    }
    const slow = account.faults.findIndex((f) => f.kind === "slow_commit");
    if (slow >= 0) {
      const [{ ms }] = account.faults.splice(slow, 1) as Array<Extract<Fault, { kind: "slow_commit" }>>;
      await sleep(ms);
      // Another create of the same rkey may have committed meanwhile: the same duplicate answer.
      if (account.records.has(rkey)) return this.config.duplicateRkey === "named"
        ? xrpcError(400, "RecordAlreadyExists", `Record already exists at ${collection}/${rkey}`, h)
        : xrpcError(500, "InternalServerError", "Internal Server Error", h);
    }
    const stored = this.store(account, rkey, record);
    const after = account.faults.findIndex((f) => f.kind === "after_commit");
    const lost = after < 0 ? undefined : (account.faults.splice(after, 1)[0] as Extract<Fault, { kind: "after_commit" }>);
    if (lost?.then === "reset") {
      stored.answerLost = "reset";
      return RESET_CONNECTION;
    }
    if (lost && "status" in lost.then) {
      stored.answerLost = "error";
      return serverError(lost.then.status);
    }
    if (lost && "hangMs" in lost.then) {
      stored.answerLost = "hang";
      await sleep(lost.then.hangMs);
    }
    return json(200, { uri: stored.uri, cid: stored.cid, commit: { cid: cidOf("bafyrei", `${stored.cid}:commit`), rev: this.nextTid() }, validationStatus: "valid" }, h);
  }

  /** Commits a post to the account's repo. */
  store(account: FakeAccount, rkey: string, record: Record<string, unknown>): FakeRecord {
    const value = { $type: "app.bsky.feed.post", ...record };
    const committedAt = this.now();
    const stored: FakeRecord = {
      uri: `at://${account.did}/app.bsky.feed.post/${rkey}`,
      cid: cidOf("bafyrei", JSON.stringify(value)),
      rkey,
      value,
      committedAt,
      indexedAt: committedAt + this.config.appviewLagMs,
      counts: { likeCount: 0, repostCount: 0, replyCount: 0, quoteCount: 0 },
    };
    account.records.set(rkey, stored);
    return stored;
  }

  /** A post the user wrote elsewhere (the Bluesky app), as tests need one. */
  postOutsidePacer(did: string, text: string): FakeRecord {
    const account = this.accounts.get(did);
    if (!account) throw new Error(`no account ${did} on the Bluesky fake`);
    return this.store(account, this.nextTid(), { text, createdAt: new Date(this.now()).toISOString() });
  }

  /** Lexicon checks of app.bsky.feed.post (lexicons/app/bsky/feed/post.json, richtext/facet.json, embed/images.json). */
  private recordProblem(account: FakeAccount, record: Record<string, unknown> | undefined): { status: number; error: string; message: string } | null {
    const bad = (message: string) => ({ status: 400, error: "InvalidRequest", message });
    if (!record || typeof record !== "object") return bad("Record must be an object");
    if (record.$type !== undefined && record.$type !== "app.bsky.feed.post") return bad("Record/$type must be app.bsky.feed.post");
    const text = record.text;
    if (typeof text !== "string") return bad("Record/text must be a string");
    if (graphemes(text) > 300) return bad("Record/text must not be longer than 300 graphemes");
    if (utf8(text) > 3000) return bad("Record/text must not be longer than 3000 characters");
    if (typeof record.createdAt !== "string" || !/T.*(Z|[+-]\d\d:\d\d)$/.test(record.createdAt) || Number.isNaN(Date.parse(record.createdAt))) {
      return bad("Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)");
    }
    if (record.facets !== undefined) {
      if (!Array.isArray(record.facets)) return bad("Record/facets must be an array");
      for (const [i, facet] of record.facets.entries()) {
        const { byteStart, byteEnd } = facet?.index ?? {};
        if (!Number.isInteger(byteStart) || !Number.isInteger(byteEnd) || byteStart < 0 || byteEnd < byteStart || byteEnd > utf8(text)) return bad(`Record/facets/${i}/index is out of the text`);
        if (!Array.isArray(facet.features) || facet.features.length === 0) return bad(`Record/facets/${i}/features must not be empty`);
        for (const f of facet.features) {
          if (f?.$type === "app.bsky.richtext.facet#mention" && !(typeof f.did === "string" && f.did.startsWith("did:"))) return bad(`Record/facets/${i}/features/0/did must be a valid did`);
          if (f?.$type === "app.bsky.richtext.facet#link" && !(typeof f.uri === "string" && /^[a-z][a-z0-9+.-]*:\S+$/i.test(f.uri))) return bad(`Record/facets/${i}/features/0/uri must be a valid uri`);
          if (f?.$type === "app.bsky.richtext.facet#tag" && !(typeof f.tag === "string" && graphemes(f.tag) <= 64 && utf8(f.tag) <= 640)) return bad(`Record/facets/${i}/features/0/tag must not be longer than 64 graphemes`);
        }
      }
    }
    if (record.reply !== undefined) {
      const reply = record.reply as Record<string, { uri?: unknown; cid?: unknown } | undefined>;
      for (const k of ["root", "parent"]) {
        const ref = reply?.[k];
        if (!(typeof ref?.uri === "string" && ref.uri.startsWith("at://") && typeof ref.cid === "string")) return bad(`Record/reply/${k} must be a strong ref`);
      }
    }
    if (record.langs !== undefined && (!Array.isArray(record.langs) || record.langs.length > 3)) return bad("Record/langs must not have more than 3 elements");
    const embed = record.embed as { $type?: string; images?: unknown } | undefined;
    if (embed !== undefined) {
      if (embed?.$type !== "app.bsky.embed.images") return bad("This fake only takes app.bsky.embed.images embeds");
      if (!Array.isArray(embed.images) || embed.images.length === 0 || embed.images.length > 4) return bad("Record/embed/images must have 1 to 4 elements");
      for (const [i, img] of (embed.images as Array<Record<string, unknown>>).entries()) {
        if (typeof img?.alt !== "string") return bad(`Record/embed/images/${i}/alt must be a string`);
        const blob = img.image as { $type?: string; ref?: { $link?: string }; mimeType?: string; size?: number } | undefined;
        const link = blob?.ref?.$link;
        const known = link ? this.blobs.get(link) : undefined;
        if (!known || known.did !== account.did) return { status: 400, error: "BlobNotFound", message: `Could not find blob: ${link}` };
        if (!known.mimeType.startsWith("image/")) return { status: 400, error: "InvalidMimeType", message: `Wrong type of file. It is ${known.mimeType} but it must match image/*.` };
        if (known.size > this.config.maxImageBytes) return bad(`Record/embed/images/${i}/image file too large. ${known.size} bytes but the maximum is ${this.config.maxImageBytes}`);
      }
    }
    return null;
  }

  async getRecord(_r: Request, q: URLSearchParams): Promise<Response> {
    // lexicons/com/atproto/repo/getRecord.json; getRecord.ts reads the repo directly (no lag); no auth.
    const account = this.account(q.get("repo"));
    const fault = this.faultBefore(account);
    if (fault) return fault;
    const uri = `at://${q.get("repo")}/${q.get("collection")}/${q.get("rkey")}`;
    const record = account && account.status !== "takendown" && q.get("collection") === "app.bsky.feed.post" ? account.records.get(q.get("rkey") ?? "") : undefined;
    if (!record) return xrpcError(400, "RecordNotFound", `Could not locate record: ${uri}`);
    return json(200, { uri: record.uri, cid: record.cid, value: record.value });
  }

  async listRecords(_r: Request, q: URLSearchParams): Promise<Response> {
    // listRecords.json: ordered by rkey, descending unless reverse; cursor = the last rkey; limit 1–100.
    const account = this.account(q.get("repo"));
    if (!account) return xrpcError(400, "InvalidRequest", `Could not find repo: ${q.get("repo")}`);
    const limit = Math.min(100, Math.max(1, Number(q.get("limit") ?? 50) || 50));
    const reverse = q.get("reverse") === "true";
    const cursor = q.get("cursor");
    const sorted = [...account.records.values()].sort((a, b) => (a.rkey < b.rkey ? 1 : -1));
    if (reverse) sorted.reverse();
    const page = sorted.filter((r) => !cursor || (reverse ? r.rkey > cursor : r.rkey < cursor)).slice(0, limit);
    return json(200, { records: page.map((r) => ({ uri: r.uri, cid: r.cid, value: r.value })), ...(page.length === limit ? { cursor: page[page.length - 1].rkey } : {}) });
  }

  async uploadBlob(request: Request): Promise<Response> {
    // uploadBlob.json; uploadBlob.ts (1,000 a day); the content decides the CID, so a re-upload is harmless (§5).
    const auth = this.authenticate(request, "access");
    if ("error" in auth) return auth.error;
    const { account } = auth;
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > this.config.blobUploadLimit) return xrpcError(413, "PayloadTooLarge", "request entity too large");
    const fault = this.faultBefore(account);
    if (fault) return fault;
    const limit = this.consume(account.did, [{ name: "blob-day", points: this.config.blobsPerDay, windowMs: DAY }], 1);
    if (limit.refused) return limit.refused;
    if (account.status === "takendown") return xrpcError(401, "AccountTakedown", "Account has been taken down", limit.headers);
    if (account.status === "deactivated") return xrpcError(401, "AccountDeactivated", "Account is deactivated", limit.headers);
    const mimeType = sniff(bytes) ?? request.headers.get("content-type") ?? "application/octet-stream";
    const cid = cidOf("bafkrei", bytes);
    this.blobs.set(cid, { did: account.did, mimeType, size: bytes.byteLength });
    return json(200, { blob: { $type: "blob", ref: { $link: cid }, mimeType, size: bytes.byteLength } }, limit.headers);
  }

  async getProfile(_r: Request, q: URLSearchParams): Promise<Response> {
    // app/bsky/actor/getProfile.json, profileViewDetailed; bsky getProfile.ts: takedown/deactivation are 400s here.
    const account = this.account(q.get("actor"));
    const fault = this.faultBefore(account);
    if (fault) return fault;
    if (!account) return xrpcError(400, "InvalidRequest", "Profile not found");
    if (account.status === "takendown") return xrpcError(400, "AccountTakedown", "Account has been suspended");
    if (account.status === "deactivated") return xrpcError(400, "AccountDeactivated", "Account is deactivated");
    return json(200, {
      did: account.did,
      handle: account.handle,
      displayName: account.displayName,
      followersCount: account.followersCount,
      followsCount: account.followsCount,
      postsCount: [...account.records.values()].filter((r) => r.indexedAt <= this.now()).length,
      indexedAt: new Date(this.now()).toISOString(),
      labels: [],
    });
  }

  async getAuthorFeed(_r: Request, q: URLSearchParams): Promise<Response> {
    // app/bsky/feed/getAuthorFeed.json: newest first by min(createdAt, indexedAt) (timestamps.md), limit 1–100, opaque cursor.
    const account = this.account(q.get("actor"));
    const fault = this.faultBefore(account);
    if (fault) return fault;
    if (!account) return xrpcError(400, "InvalidRequest", "Profile not found");
    if (account.status === "takendown") return xrpcError(400, "AccountTakedown", "Account has been suspended");
    const limit = Math.min(100, Math.max(1, Number(q.get("limit") ?? 50) || 50));
    const noReplies = q.get("filter") === "posts_no_replies";
    const author = { did: account.did, handle: account.handle, displayName: account.displayName };
    type Item = { sortAt: number; key: string; item: unknown };
    const items: Item[] = [];
    for (const r of account.records.values()) {
      if (r.indexedAt > this.now() || (noReplies && r.value.reply)) continue;
      const created = Date.parse(String(r.value.createdAt));
      const sortAt = Math.min(Number.isNaN(created) ? r.indexedAt : created, r.indexedAt);
      items.push({ sortAt, key: r.uri, item: { post: { uri: r.uri, cid: r.cid, author, record: r.value, indexedAt: new Date(r.indexedAt).toISOString(), ...r.counts, bookmarkCount: 0, labels: [] } } });
    }
    for (const repost of account.reposts) {
      items.push({
        sortAt: repost.at,
        key: `${repost.uri}#repost`,
        item: {
          post: { uri: repost.uri, cid: cidOf("bafyrei", repost.uri), author: { did: "did:plc:someoneelse", handle: "someone.else" }, record: { $type: "app.bsky.feed.post", text: "someone else's post", createdAt: new Date(repost.at).toISOString() }, indexedAt: new Date(repost.at).toISOString(), likeCount: 0, repostCount: 1, replyCount: 0, quoteCount: 0 },
          reason: { $type: "app.bsky.feed.defs#reasonRepost", by: author, indexedAt: new Date(repost.at).toISOString() },
        },
      });
    }
    const order = (i: Item) => `${String(i.sortAt).padStart(15, "0")}::${i.key}`;
    items.sort((a, b) => (order(a) < order(b) ? 1 : -1));
    const cursor = q.get("cursor");
    const page = items.filter((i) => !cursor || order(i) < cursor).slice(0, limit);
    return json(200, { feed: page.map((i) => i.item), ...(page.length === limit ? { cursor: order(page[page.length - 1]) } : {}) });
  }

  /** A TID for a record the client gave no rkey: the current microsecond, never repeating (https://atproto.com/specs/tid). */
  private nextTid(): string {
    let value = (BigInt(this.now()) * 1000n) << 10n;
    if (value <= this.lastTid) value = this.lastTid + 1n;
    this.lastTid = value;
    let out = "";
    for (let v = value; v > 0n; v >>= 5n) out = S32[Number(v & 31n)] + out;
    return out.padStart(13, "2");
  }
}

interface Ctx {
  ip: string;
  sleep: (ms: number) => Promise<void>;
}

type Route = { method: "GET" | "POST"; run: (this: BlueskyWorld, request: Request, q: URLSearchParams, ctx: Ctx) => Promise<FakeReply> };
const ROUTES: Record<string, Route> = {
  "com.atproto.server.createSession": { method: "POST", run: BlueskyWorld.prototype.createSession },
  "com.atproto.server.refreshSession": { method: "POST", run: BlueskyWorld.prototype.refreshSession },
  "com.atproto.server.getSession": { method: "GET", run: BlueskyWorld.prototype.getSession },
  "com.atproto.server.deleteSession": { method: "POST", run: BlueskyWorld.prototype.deleteSession },
  "com.atproto.identity.resolveHandle": { method: "GET", run: BlueskyWorld.prototype.resolveHandle },
  "com.atproto.repo.createRecord": { method: "POST", run: BlueskyWorld.prototype.createRecord },
  "com.atproto.repo.getRecord": { method: "GET", run: BlueskyWorld.prototype.getRecord },
  "com.atproto.repo.listRecords": { method: "GET", run: BlueskyWorld.prototype.listRecords },
  "com.atproto.repo.uploadBlob": { method: "POST", run: BlueskyWorld.prototype.uploadBlob },
  "app.bsky.actor.getProfile": { method: "GET", run: BlueskyWorld.prototype.getProfile },
  "app.bsky.feed.getAuthorFeed": { method: "GET", run: BlueskyWorld.prototype.getAuthorFeed },
};

/** RateLimit-* as the reference PDS sets them: Reset in epoch seconds, Policy "<limit>;w=<seconds>" (§6). */
function rateHeaders(limit: number, remaining: number, resetAtMs: number, windowMs: number): Record<string, string> {
  return {
    "ratelimit-limit": String(limit),
    "ratelimit-remaining": String(remaining),
    "ratelimit-reset": String(Math.ceil(resetAtMs / 1000)),
    "ratelimit-policy": `${limit};w=${Math.round(windowMs / 1000)}`,
  };
}

/** The XRPC names of server errors (https://atproto.com/specs/xrpc § Summary of HTTP Status Codes; xrpc types.ts). */
function serverError(status: number): Response {
  const names: Record<number, [string, string]> = {
    500: ["InternalServerError", "Internal Server Error"],
    502: ["UpstreamFailure", "Upstream Failure"],
    503: ["NotEnoughResources", "Not Enough Resources"],
    504: ["UpstreamTimeout", "Upstream Timeout"],
  };
  const [error, message] = names[status] ?? ["InternalServerError", "Internal Server Error"];
  return xrpcError(status, error, message);
}

async function jsonBody(request: Request): Promise<Record<string, unknown> | undefined> {
  try {
    const body = await request.json();
    return body && typeof body === "object" ? body : undefined;
  } catch {
    return undefined;
  }
}

/** The PDS sniffs the type from the bytes and falls back to the header (blob/transactor.ts). */
function sniff(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png";
  if (bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46) return "image/gif";
  if (bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x46 && bytes[8] === 0x57 && bytes[9] === 0x45) return "image/webp";
  return null;
}
