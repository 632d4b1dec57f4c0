// The fake Mastodon instance's state: users, OAuth apps, codes and tokens, statuses, media, the
// Idempotency-Key store, rate-limit counters and one-shot faults. Plain data on a clock the tests can
// move, so "an hour later" and "the next 5-minute window" need no waiting. What each part reproduces
// is cited in docs/platforms/mastodon.md and on the page named next to it.
import { randomBytes } from "node:crypto";
import { FaultDice, type FaultDiceOptions } from "../random-faults.ts";

/** Moderation states as the API shows them (docs: https://docs.joinmastodon.org/entities/Error/, §2.4 of the research). */
export type AccountState = "active" | "disabled" | "suspended" | "unconfirmed" | "pending";

export interface FakeAccount {
  id: string;
  username: string;
  display_name: string;
  created_at: number;
  followers_count: number;
  following_count: number;
  state: AccountState;
  /** Limited by a moderator: public posts are stored as unlisted (post_status_service.rb). */
  silenced: boolean;
}

export interface FakeStatus {
  id: string;
  account_id: string;
  text: string;
  spoiler_text: string;
  visibility: "public" | "unlisted" | "private" | "direct";
  language: string | null;
  sensitive: boolean;
  in_reply_to_id: string | null;
  media_ids: string[];
  created_at: number;
  /** The app whose token posted it (shown to the author). */
  application: { name: string; website: string | null } | null;
  favourites_count: number;
  reblogs_count: number;
  replies_count: number;
  deleted: boolean;
  /** The Idempotency-Key it was created with, for the test record only (Mastodon never shows it). */
  idempotency_key: string | null;
  /** Set when a fault replaced or held back this status's 200. */
  response_lost: string | null;
}

export interface FakeApp {
  id: string;
  name: string;
  website: string | null;
  redirect_uris: string[];
  scopes: string[];
  client_id: string;
  client_secret: string;
}

export interface FakeToken {
  id: string;
  token: string;
  /** null for an app-only token (client_credentials). */
  account_id: string | null;
  client_id: string;
  scopes: string[];
  revoked: boolean;
  created_at: number;
}

export interface FakeCode {
  code: string;
  client_id: string;
  redirect_uri: string;
  scopes: string[];
  account_id: string;
  challenge: string | null;
  expires_at: number;
  used: boolean;
}

export interface FakeMedia {
  id: string;
  account_id: string;
  type: "image" | "gifv" | "video" | "audio";
  content_type: string;
  size: number;
  description: string | null;
  /** Processing ends at this time (images: at upload). */
  ready_at: number;
  /** Processing failed (GET /api/v1/media/:id answers 422). */
  failed: boolean;
  status_id: string | null;
}

/** A fault for the account's next matching request, used once. */
export type NextFault =
  /** The documented 429 with X-RateLimit-* headers, resetting in `resetInMs`, on the next API request. */
  | { kind: "rate_limit"; resetInMs: number }
  /** A 5xx on the next API request, before anything is stored. */
  | { kind: "error_before_commit"; status: number }
  /** The connection is reset on the next status creation before anything is stored. */
  | { kind: "reset_before_commit" }
  /** The next status is stored, then the connection is reset before any answer. */
  | { kind: "drop_after_commit" }
  /** The next status is stored, then answered with a 5xx. */
  | { kind: "error_after_commit"; status: number }
  /** The next status is stored, then the answer is held `ms` (past the client's timeout). */
  | { kind: "hang_after_commit"; ms: number }
  /** The next status creation waits `ms` before storing (holding the Idempotency-Key lock). */
  | { kind: "slow_commit"; ms: number }
  /** The next media upload fails as a thumbnail error (500). */
  | { kind: "media_error" };

/**
 * Faults at random (the chaos test's mode): each status creation rolls once and may meet one of these,
 * queued as the one-shot fault of that kind, with the timings given here.
 */
export interface RandomFaults extends FaultDiceOptions<NextFault["kind"]> {
  /** rate_limit: when the window resets. */
  resetInMs?: number;
  /** error_before_commit, error_after_commit: the 5xx answered. */
  status?: number;
  /** slow_commit: how long the store waits; hang_after_commit: how long the answer is held. */
  slowCommitMs?: number;
  hangMs?: number;
}

export interface Throttle {
  limit: number;
  periodMs: number;
}

/** Rack::Attack throttles and the statuses family (config/initializers/rack_attack.rb, app/lib/rate_limiter.rb; docs: https://docs.joinmastodon.org/api/rate-limits/). */
export interface Throttles {
  perToken: Throttle;
  perUser: Throttle;
  unauthenticated: Throttle;
  media: Throttle;
  paging: Throttle;
  statuses: Throttle;
}

export const DEFAULT_THROTTLES: Throttles = {
  perToken: { limit: 300, periodMs: 5 * 60_000 },
  perUser: { limit: 1_500, periodMs: 5 * 60_000 },
  unauthenticated: { limit: 300, periodMs: 5 * 60_000 },
  media: { limit: 30, periodMs: 30 * 60_000 },
  paging: { limit: 300, periodMs: 15 * 60_000 },
  statuses: { limit: 300, periodMs: 3 * 3_600_000 },
};

export interface FakeConfig {
  /** configuration.statuses.max_characters (500 upstream; forks raise it). */
  maxCharacters: number;
  maxMediaAttachments: number;
  charactersReservedPerUrl: number;
  imageSizeLimit: number;
  videoSizeLimit: number;
  /** 4.3+: /.well-known/oauth-authorization-server advertises S256; false answers 404 (older servers, no PKCE). */
  pkce: boolean;
  /** 4.0+: /api/v2/instance exists; false answers 404 there (older servers have /api/v1/instance only). */
  instanceV2: boolean;
  /** How long a video, audio or GIF stays in processing after upload (202, then 206 while polled). */
  mediaProcessingMs: number;
  /**
   * upstream-current: a lock per (account, key); a concurrent same-key request gets 503 (PR #37879).
   * pre-lock: no lock, concurrent same-key requests both post (the bug #37879 fixed).
   * bug-40399: a same-key duplicate is detected but answered 500 (issue #40399).
   */
  idempotency: "upstream-current" | "pre-lock" | "bug-40399";
  /** Keys are kept this long from the status's creation (redis SETEX 3600). */
  idempotencyTtlMs: number;
  /** Statuses appear in account timelines only this long after creation (read-replica lag). */
  readLagMs: number;
  throttles: Throttles;
}

export const DEFAULT_CONFIG: FakeConfig = {
  maxCharacters: 500,
  maxMediaAttachments: 4,
  charactersReservedPerUrl: 23,
  imageSizeLimit: 16_777_216,
  videoSizeLimit: 103_809_024,
  pkce: true,
  instanceV2: true,
  mediaProcessingMs: 1_500,
  idempotency: "upstream-current",
  idempotencyTtlMs: 3_600_000,
  readLagMs: 0,
  throttles: DEFAULT_THROTTLES,
};

const secret = () => randomBytes(32).toString("base64url");

export class MastodonState {
  readonly accounts = new Map<string, FakeAccount>();
  readonly apps = new Map<string, FakeApp>();
  readonly tokens = new Map<string, FakeToken>();
  readonly codes = new Map<string, FakeCode>();
  /** Every status ever created, oldest first (deleted ones kept, marked): the record tests check. */
  readonly statuses: FakeStatus[] = [];
  readonly media = new Map<string, FakeMedia>();
  /** `<account_id>:<key>` → the status id and when the key expires. */
  readonly idempotency = new Map<string, { status_id: string; expires_at: number }>();
  readonly idempotencyLocks = new Set<string>();
  /** `<throttle>:<discriminator>:<bucket>` → requests counted. */
  readonly counters = new Map<string, number>();
  private readonly nextFaults = new Map<string, NextFault[]>();
  /** Set by setRandomFaults: what each status creation rolls, and what fired. */
  randomFaults: (FaultDice<NextFault["kind"]> & { opts: RandomFaults }) | null = null;
  private sequence = 0;
  private nextAccountId = 100;
  private nextAppId = 1;
  private clockOffset = 0;
  config: FakeConfig;
  /** Origin used in URLs; set once the server listens. */
  baseUrl = "http://127.0.0.1";

  constructor(config: Partial<FakeConfig> = {}, private readonly baseNow: () => number = Date.now) {
    this.config = { ...DEFAULT_CONFIG, ...config, throttles: { ...DEFAULT_THROTTLES, ...config.throttles } };
  }

  now(): number {
    return this.baseNow() + this.clockOffset;
  }

  /** Moves the fake's clock forward (idempotency expiry, rate-limit windows, media processing, code expiry). */
  advanceClock(ms: number): void {
    this.clockOffset += ms;
  }

  get host(): string {
    return new URL(this.baseUrl).host;
  }

  createAccount(username: string, init: Partial<Omit<FakeAccount, "id" | "username">> = {}): FakeAccount {
    const existing = this.accountByUsername(username);
    if (existing) return existing;
    const account: FakeAccount = {
      id: String(this.nextAccountId++),
      username,
      display_name: username,
      created_at: this.now(),
      followers_count: 0,
      following_count: 0,
      state: "active",
      silenced: false,
      ...init,
    };
    this.accounts.set(account.id, account);
    return account;
  }

  accountByUsername(username: string): FakeAccount | undefined {
    for (const account of this.accounts.values()) if (account.username === username) return account;
    return undefined;
  }

  registerApp(input: { name: string; website: string | null; redirect_uris: string[]; scopes: string[] }): FakeApp {
    const app: FakeApp = { id: String(this.nextAppId++), ...input, client_id: secret(), client_secret: secret() };
    this.apps.set(app.client_id, app);
    return app;
  }

  /** Doorkeeper's reuse_access_token: the same user, app and scopes get the same live token back. */
  issueToken(accountId: string | null, clientId: string, scopes: string[]): FakeToken {
    const wanted = [...scopes].sort().join(" ");
    for (const t of this.tokens.values()) {
      if (!t.revoked && t.account_id === accountId && t.client_id === clientId && [...t.scopes].sort().join(" ") === wanted) return t;
    }
    const token: FakeToken = { id: String(this.tokens.size + 1), token: secret(), account_id: accountId, client_id: clientId, scopes, revoked: false, created_at: this.now() };
    this.tokens.set(token.token, token);
    return token;
  }

  /** A Snowflake-like id: time-ordered, as Mastodon's are (docs: https://docs.joinmastodon.org/api/guidelines/#id). */
  newId(): string {
    return ((BigInt(this.now()) << 16n) | BigInt(this.sequence++ & 0xffff)).toString();
  }

  addFault(accountId: string, fault: NextFault): void {
    const queue = this.nextFaults.get(accountId) ?? [];
    queue.push(fault);
    this.nextFaults.set(accountId, queue);
  }

  /** Faults at random on every status creation from now on (null: none). */
  setRandomFaults(opts: RandomFaults | null): void {
    this.randomFaults = opts ? Object.assign(new FaultDice(opts), { opts }) : null;
  }

  /** A status creation's roll: queues the fault it met, if any, for the account's one-shot checks to take. */
  rollFault(accountId: string): void {
    const dice = this.randomFaults;
    const kind = dice?.roll();
    if (!dice || !kind) return;
    const { resetInMs = 1_000, status = 503, slowCommitMs = 1_000, hangMs = 2_000 } = dice.opts;
    const fault: NextFault =
      kind === "rate_limit" ? { kind, resetInMs }
      : kind === "error_before_commit" || kind === "error_after_commit" ? { kind, status }
      : kind === "slow_commit" ? { kind, ms: slowCommitMs }
      : kind === "hang_after_commit" ? { kind, ms: hangMs }
      : { kind };
    this.addFault(accountId, fault);
  }

  /** Takes the account's first pending fault of one of these kinds, if any. */
  takeFault<K extends NextFault["kind"]>(accountId: string, ...kinds: K[]): Extract<NextFault, { kind: K }> | undefined {
    const queue = this.nextFaults.get(accountId);
    const i = queue?.findIndex((f) => (kinds as string[]).includes(f.kind)) ?? -1;
    if (!queue || i < 0) return undefined;
    return queue.splice(i, 1)[0] as Extract<NextFault, { kind: K }>;
  }

  liveStatusesOf(accountId: string): FakeStatus[] {
    return this.statuses.filter((s) => s.account_id === accountId && !s.deleted);
  }

  status(id: string): FakeStatus | undefined {
    return this.statuses.find((s) => s.id === id);
  }

  /**
   * Counts one request against a throttle's fixed, epoch-aligned window (Rack::Attack buckets are
   * floor(now / period)); returns what the headers would say about it.
   */
  count(name: string, discriminator: string, throttle: Throttle, spend = true): { limit: number; remaining: number; resetAt: number; exceeded: boolean } {
    const now = this.now();
    const bucket = Math.floor(now / throttle.periodMs);
    const key = `${name}:${discriminator}:${bucket}`;
    const used = (this.counters.get(key) ?? 0) + (spend ? 1 : 0);
    if (spend) this.counters.set(key, used);
    return { limit: throttle.limit, remaining: Math.max(0, throttle.limit - used), resetAt: (bucket + 1) * throttle.periodMs, exceeded: used > throttle.limit };
  }
}
