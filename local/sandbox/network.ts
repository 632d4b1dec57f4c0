// The sandbox social network's state and rules, in memory: accounts, posts, per-account rate
// limits, scenario conditions, injected faults and the counts tests use to check exactly-once.
import { randomBytes } from "node:crypto";
import { z } from "zod";

export interface SandboxPost {
  id: string;
  handle: string;
  text: string;
  media_urls: string[];
  first_comment: string | null;
  destination: string | null;
  client_ref: string | null;
  created_at: string;
  url: string;
  /** The injected fault that replaced or held back this post's 201, if any. */
  response_fault?: "error_after_commit" | "reset_after_commit" | "hang_after_commit";
  /** Taken down (DELETE /v1/admin/posts/:id): no read shows it, the counts keep it. */
  deleted?: boolean;
  /** When its request reached the handler (ms): tests compare it with created_at to see a late store. */
  received_at_ms?: number;
}

export interface AccountMetricsFigures {
  reach: number;
  engagement: number;
  followers: number;
}

export interface SandboxAccount {
  handle: string;
  token: string;
  created_at: string;
  /** Oldest first; the feed shows them newest first. */
  posts: SandboxPost[];
  metrics: AccountMetricsFigures;
  /** Persistent conditions set by a scenario (unlike faults, which are random). */
  restricted: boolean;
  tokenExpired: boolean;
  /** Destinations (exact names, e.g. "r/cats") that refuse every post from this account: 403 destination_rejected. */
  rejectedDestinations: string[];
  /** Fixed-window rate-limit counter: O(1) per request. */
  window: { start: number; count: number };
  /** Posts by Idempotency-Key, only used when the network honours the header. */
  idempotency: Map<string, SandboxPost>;
}

const probability = z.number().min(0).max(1);
export const faultsSchema = z
  .object({
    latency: z.object({ ms: z.number().int().min(0), jitterMs: z.number().int().min(0).optional() }),
    error_before_commit: probability,
    error_after_commit: probability,
    hang_after_commit: z.object({ p: probability, ms: z.number().int().min(0) }),
    reset_before_commit: probability,
    /** Holds the request `ms` before storing the post: past the client's timeout, it lands after the client gave up. */
    commit_late: z.object({ p: probability, ms: z.number().int().min(0) }),
    reset_after_commit: probability,
    token_expired: probability,
    restricted: probability,
    destination_rejected: probability,
    duplicate_content: probability,
    /** Reads of an account's posts (the read-back by client_ref included) answer 503. */
    lookup_error: probability,
  })
  .partial()
  .strict();
export type Faults = z.infer<typeof faultsSchema>;

/**
 * A fault for the account's next publish only, used once (the connector contract suite's controls:
 * a chosen reset time or server error, where the faults above are probabilities that stay set).
 */
export type NextFault =
  /** 429 with Retry-After (whole seconds, rounded up) for the next publish. */
  | { kind: "rate_limited"; retryAfterMs: number }
  /** The next publish fails with this 5xx before the post is stored. */
  | { kind: "error_before_commit"; status: number }
  /** The next publish is stored, then the connection is reset before any answer. */
  | { kind: "reset_after_commit" };

export interface RateLimit {
  posts: number;
  windowMs: number;
}

export interface NetworkConfig {
  /** Per-account publish limit; over it the network answers 429 with Retry-After. */
  rateLimit: RateLimit;
  /** How many of an account's latest posts an identical text is checked against (0 turns the check off). */
  duplicateWindow: number;
  /** Honour an Idempotency-Key header on publish, as Mastodon does. Off by default, as on most platforms. */
  idempotencyKeys: boolean;
}

export const DEFAULT_CONFIG: NetworkConfig = {
  rateLimit: { posts: 600, windowMs: 60_000 },
  duplicateWindow: 50,
  idempotencyKeys: false,
};

// Where a new account's audience starts, so health scenarios have something to decline from.
const STARTING_METRICS: AccountMetricsFigures = { reach: 5_000, engagement: 250, followers: 1_000 };

export interface SandboxStats {
  accounts: number;
  /** Every post the network stored, including those whose response a fault replaced. */
  accepted: number;
  /** Stored posts whose 201 was replaced or held back by an injected fault. */
  responsesLost: number;
  byAccount: Record<string, number>;
  /**
   * Publish requests answered with an error and nothing stored, per account (only accounts with any)
   * and error code: what an account was sent that the platform refused, e.g. while restricted.
   */
  refusedByAccount: Record<string, Record<string, number>>;
  /** client_refs stored more than once: each is a post published twice. */
  duplicateClientRefs: Array<{ client_ref: string; count: number }>;
}

/** mulberry32: a tiny seeded generator, so a test's faults fall the same way on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class SandboxNetwork {
  readonly accounts = new Map<string, SandboxAccount>();
  /** Every stored post by client_ref, across accounts: O(1) read-back and duplicate counting. */
  private readonly postsByRef = new Map<string, SandboxPost[]>();
  private readonly duplicateRefs = new Set<string>();
  private globalFaults: Faults = {};
  private readonly accountFaults = new Map<string, Faults>();
  private readonly accountLimits = new Map<string, RateLimit>();
  private readonly nextFaults = new Map<string, NextFault[]>();
  /** Per-account overrides of config.idempotencyKeys. */
  private readonly accountIdempotency = new Map<string, boolean>();
  private readonly refusals = new Map<string, Record<string, number>>();
  private nextId = 1;
  private accepted = 0;
  private responsesLost = 0;
  config: NetworkConfig;
  random: () => number;
  /** Origin used in post URLs; set once the server listens. */
  baseUrl = "http://127.0.0.1";

  constructor(
    private readonly initial: Partial<NetworkConfig> & { seed?: number } = {},
    readonly now: () => number = Date.now,
  ) {
    this.config = { ...DEFAULT_CONFIG, ...initial };
    this.random = seededRandom(initial.seed ?? Date.now());
  }

  /**
   * Creates the account and returns it, with the token that is handed out this once; null when the
   * handle is taken (as on a real platform, connecting an existing account needs its owner's token).
   */
  createAccount(handle: string): SandboxAccount | null {
    if (this.accounts.has(handle)) return null;
    const account: SandboxAccount = {
      handle,
      token: `sbx_${randomBytes(18).toString("base64url")}`,
      created_at: new Date(this.now()).toISOString(),
      posts: [],
      metrics: { ...STARTING_METRICS },
      restricted: false,
      tokenExpired: false,
      rejectedDestinations: [],
      window: { start: 0, count: 0 },
      idempotency: new Map(),
    };
    this.accounts.set(handle, account);
    return account;
  }

  faultsFor(handle: string): Faults {
    const own = this.accountFaults.get(handle);
    return own ? { ...this.globalFaults, ...own } : this.globalFaults;
  }

  setFaults(handle: string | undefined, faults: Faults, seed?: number): void {
    if (handle) this.accountFaults.set(handle, faults);
    else this.globalFaults = faults;
    if (seed !== undefined) this.random = seededRandom(seed);
  }

  clearFaults(handle?: string): void {
    if (handle) this.accountFaults.delete(handle);
    else {
      this.globalFaults = {};
      this.accountFaults.clear();
    }
  }

  /** Queues a fault for the account's next publish. */
  setNextFault(handle: string, fault: NextFault): void {
    const queue = this.nextFaults.get(handle) ?? [];
    queue.push(fault);
    this.nextFaults.set(handle, queue);
  }

  /** The account's next queued fault, removed; undefined when none is queued. */
  takeNextFault(handle: string): NextFault | undefined {
    return this.nextFaults.get(handle)?.shift();
  }

  setRateLimit(handle: string | undefined, limit: RateLimit): void {
    if (handle) this.accountLimits.set(handle, limit);
    else this.config.rateLimit = limit;
  }

  setIdempotencyKeys(handle: string | undefined, on: boolean): void {
    if (handle) this.accountIdempotency.set(handle, on);
    else this.config.idempotencyKeys = on;
  }

  /** Whether publishes to this account honour an Idempotency-Key header. */
  honoursIdempotencyKeys(handle: string): boolean {
    return this.accountIdempotency.get(handle) ?? this.config.idempotencyKeys;
  }

  /** True with probability p, from the (seedable) generator. */
  roll(p: number | undefined): boolean {
    return p !== undefined && p > 0 && this.random() < p;
  }

  /** Counts one publish request; returns the seconds to wait when the account is over its limit. */
  spendRateLimit(account: SandboxAccount): number | null {
    const limit = this.accountLimits.get(account.handle) ?? this.config.rateLimit;
    const now = this.now();
    if (now - account.window.start >= limit.windowMs) account.window = { start: now, count: 0 };
    if (account.window.count >= limit.posts) return Math.max(1, Math.ceil((account.window.start + limit.windowMs - now) / 1000));
    account.window.count++;
    return null;
  }

  /** Counts a publish request refused without storing anything (`code`: the error the client got). */
  countRefusal(handle: string, code: string): void {
    const counts = this.refusals.get(handle) ?? {};
    counts[code] = (counts[code] ?? 0) + 1;
    this.refusals.set(handle, counts);
  }

  /** Whether the text equals one of the account's latest posts (the duplicate-content rule). */
  isDuplicateText(account: SandboxAccount, text: string): boolean {
    const { posts } = account;
    for (let i = posts.length - 1; i >= Math.max(0, posts.length - this.config.duplicateWindow); i--) {
      if (posts[i].text === text) return true;
    }
    return false;
  }

  /** Stores a post: from here on it is published and counted, whatever happens to the response. */
  commit(account: SandboxAccount, input: Omit<SandboxPost, "id" | "handle" | "created_at" | "url">, idempotencyKey?: string): SandboxPost {
    const id = String(this.nextId++);
    const post: SandboxPost = {
      id,
      handle: account.handle,
      ...input,
      created_at: new Date(this.now()).toISOString(),
      url: `${this.baseUrl}/?handle=${encodeURIComponent(account.handle)}#post-${id}`,
    };
    this.store(account, post);
    if (idempotencyKey) account.idempotency.set(idempotencyKey, post);
    return post;
  }

  private store(account: SandboxAccount, post: SandboxPost): void {
    account.posts.push(post);
    this.accepted++;
    if (post.response_fault) this.responsesLost++;
    if (post.client_ref === null) return;
    const same = this.postsByRef.get(post.client_ref);
    if (!same) this.postsByRef.set(post.client_ref, [post]);
    else {
      same.push(post);
      this.duplicateRefs.add(post.client_ref);
    }
  }

  /** Marks a stored post's response as lost to a fault (for stats and the admin detail). */
  loseResponse(post: SandboxPost, fault: NonNullable<SandboxPost["response_fault"]>): void {
    post.response_fault = fault;
    this.responsesLost++;
  }

  postsByClientRef(clientRef: string, handle?: string): SandboxPost[] {
    const posts = (this.postsByRef.get(clientRef) ?? []).filter((p) => !p.deleted);
    return handle ? posts.filter((p) => p.handle === handle) : posts;
  }

  /**
   * Takes a post down, as its owner or the platform's moderators would: gone from the timeline and
   * from reads by client_ref. The counts (accepted, duplicates) keep it: it was published.
   */
  deletePost(id: string): SandboxPost | null {
    for (const account of this.accounts.values()) {
      const i = account.posts.findIndex((p) => p.id === id);
      if (i < 0) continue;
      const [post] = account.posts.splice(i, 1);
      post.deleted = true;
      return post;
    }
    return null;
  }

  stats(): SandboxStats {
    const byAccount: Record<string, number> = {};
    for (const [handle, account] of this.accounts) byAccount[handle] = account.posts.length;
    return {
      accounts: this.accounts.size,
      accepted: this.accepted,
      responsesLost: this.responsesLost,
      byAccount,
      refusedByAccount: Object.fromEntries([...this.refusals].map(([handle, counts]) => [handle, { ...counts }])),
      duplicateClientRefs: [...this.duplicateRefs].map((ref) => ({ client_ref: ref, count: this.postsByRef.get(ref)!.length })),
    };
  }

  /** Forgets everything: accounts, posts, faults and config go back to how the network started. */
  reset(): void {
    this.accounts.clear();
    this.postsByRef.clear();
    this.duplicateRefs.clear();
    this.accountFaults.clear();
    this.nextFaults.clear();
    this.accountLimits.clear();
    this.accountIdempotency.clear();
    this.refusals.clear();
    this.globalFaults = {};
    this.config = { ...DEFAULT_CONFIG, ...this.initial };
    this.accepted = 0;
    this.responsesLost = 0;
  }

  /** What a snapshot keeps: accounts and their posts (faults and limits are a test's business). */
  toSnapshot(): Snapshot {
    return {
      version: 1,
      nextId: this.nextId,
      accounts: [...this.accounts.values()].map(({ window: _w, idempotency: _i, ...rest }) => rest),
    };
  }

  loadSnapshot(snapshot: Snapshot): void {
    if (snapshot.version !== 1) throw new Error(`Unknown sandbox snapshot version ${snapshot.version}; delete the file to start afresh.`);
    this.nextId = snapshot.nextId;
    for (const saved of snapshot.accounts) {
      // Snapshots written before a scenario field existed load with it off.
      const account: SandboxAccount = {
        ...saved,
        rejectedDestinations: saved.rejectedDestinations ?? [],
        posts: [],
        window: { start: 0, count: 0 },
        idempotency: new Map(),
      };
      this.accounts.set(account.handle, account);
      for (const post of saved.posts) this.store(account, post);
    }
  }
}

export interface Snapshot {
  version: number;
  nextId: number;
  accounts: Array<Omit<SandboxAccount, "window" | "idempotency" | "rejectedDestinations"> & { rejectedDestinations?: string[] }>;
}
