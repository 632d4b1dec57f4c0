// The one interface every platform connector implements, and the outcomes the engine acts on.
// Runtime-agnostic: these files run in the Edge Function (Deno) and in Node.

/** A connected social account as a connector sees it. */
export interface ConnectorAccount {
  /** Pacer's id of the social account (for messages and logs, never sent to the platform). */
  id: string;
  /** The platform key, e.g. "sandbox", "mastodon". */
  platform: string;
  /** The account's handle on the platform, without a leading "@". */
  handle: string;
  /** Decrypted platform credentials; each connector documents the keys it reads. */
  credentials: Record<string, string>;
}

/** Mastodon's visibility of a status (https://docs.joinmastodon.org/entities/Status/#visibility). */
export const MASTODON_VISIBILITIES = ["public", "unlisted", "private", "direct"] as const;
export type MastodonVisibility = (typeof MASTODON_VISIBILITIES)[number];

/**
 * What only one platform understands, keyed by platform (posts.platform_options); a connector reads
 * its own key and nothing else, so a post to several platforms carries each one's options.
 */
export interface PlatformOptions {
  mastodon?: {
    /** Left out: the account's default visibility (its `source.privacy`). */
    visibility?: MastodonVisibility;
    /** Mastodon's spoiler_text: shown before the text, which is folded behind it; counts toward the length. */
    contentWarning?: string;
  };
}

/** One post to publish to one account. */
export interface PublishRequest {
  account: ConnectorAccount;
  /** The queue item's idempotency key: sent to the platform (header or marker) so `lookup` can find the post. */
  idempotencyKey: string;
  text: string;
  mediaUrls: string[];
  /** Posted as the first reply, where the platform supports it. Never together with `thread`. */
  firstComment?: string | null;
  /**
   * The further posts of a thread, in order, each a reply to the one before (the first to the post).
   * Only connectors that post threads are given one (`postsThreads` in registry.ts); any other
   * refuses it as `permanent` rather than drop it.
   */
  thread?: string[];
  options?: PlatformOptions;
  /**
   * Set by the engine when a lookup found the post itself (part 0) live with this id: send none of
   * what is already there, only the parts still missing (connectors with `postsInParts`).
   */
  landed?: { externalId: string };
  /** A place the account posts into but does not own (subreddit, group, channel). */
  destination?: string | null;
}

/**
 * A platform's rate-limit budget as the headers of a call's answer stated it (Bluesky's RateLimit-*,
 * Mastodon's X-RateLimit-*), so the engine can slow an account down before the platform says 429.
 */
export interface RateLimitBudget {
  limit: number;
  remaining: number;
  /** ISO timestamp of when the window resets. */
  resetAt: string;
  /** The window's length in seconds, where the platform states it (Bluesky: RateLimit-Policy "5000;w=3600"). */
  windowSeconds?: number;
}

/**
 * What happened to one publish call. Every kind but "posted" and "unknown" means the platform did NOT publish it.
 * `rateLimit` (optional, any kind): the budget the platform's last answer reported, where it reports one.
 */
export type PublishOutcome = (
  /** Published; the platform's id (and link) for the post. */
  | { kind: "posted"; externalId: string; url?: string }
  /** Refused for rate; retryAfterMs from Retry-After or the platform's reset header, null when it gave none. */
  | { kind: "rate_limited"; retryAfterMs: number | null; message: string }
  /** Known NOT to have reached the platform (connection refused, DNS failure): safe to send again later. */
  | { kind: "retryable"; message: string }
  /** The token is expired or revoked: the account needs reconnecting. */
  | { kind: "auth_expired"; message: string }
  /** The platform has restricted the account: pause it and show a human. */
  | { kind: "restricted"; message: string }
  /** The destination refused the post; the account itself is fine. */
  | { kind: "destination_rejected"; message: string }
  /** Will never succeed as is (validation, content rules). */
  | { kind: "permanent"; message: string }
  /**
   * May or may not have been published (timeout, reset after send, 5xx): verify with `lookup` before any retry.
   * `externalId` (and `url`): the post itself is live with this id and only a later part (of a thread, a
   * first comment) is in doubt. Recorded at once, so no later step can take the post for unsent.
   */
  | { kind: "unknown"; message: string; externalId?: string; url?: string }
) & { rateLimit?: RateLimitBudget };

export type PublishOutcomeKind = PublishOutcome["kind"];
/** Every outcome but "posted": each carries a message for the posting history. */
export type PublishFailure = Exclude<PublishOutcome, { kind: "posted" }>;

/** The answer to "does a post carrying our idempotency key exist on the platform?" */
export type Lookup =
  | { kind: "found"; externalId: string; url?: string }
  | { kind: "not_found" }
  /** The platform could not be asked (down, auth failed): the engine must not assume either way. */
  | { kind: "unavailable"; message: string };

/** An account's audience figures at one moment, for the health scan. */
export interface AccountMetrics {
  reach: number;
  engagement: number;
  followers: number;
  /** ISO timestamp of when these figures were read. */
  observedAt: string;
}

/** What connecting an account to Pacer gave: the credentials to store (encrypted), or why not. */
export type Connection =
  | { kind: "connected"; credentials: Record<string, string> }
  /** The user's input cannot connect it; `field` is the path in the add-account input to fix. */
  | { kind: "refused"; code: string; field: string; message: string }
  /**
   * The platform could not be asked: try again later. `message` is for the user; `detail` (what failed:
   * addresses, resolver errors) only for the server's log, never shown (it would map internal names).
   */
  | { kind: "unavailable"; message: string; detail?: string };

/** One of an account's posts as the platform lists it, for reconciliation. */
export interface PlatformPost {
  externalId: string;
  url?: string;
  /** ISO timestamp of when the platform made the post. */
  createdAt: string;
  /** Pacer's marker: the idempotency key Pacer sent with it, where the platform kept it; null otherwise. */
  marker: string | null;
}

/** The account's posts made since a moment, newest first; `complete` is false when the read stopped short of it. */
export interface RecentPosts {
  posts: PlatformPost[];
  /** Every post since `since` is in `posts` (only then can a missing one be called gone). */
  complete: boolean;
}

/**
 * What the attempt being verified sent, for platforms that keep no marker on a post (Mastodon): their
 * lookup matches the account's own posts against it. The engine passes it when it has it.
 */
export interface SentAttempt {
  text: string;
  mediaCount?: number;
  /** ISO timestamp of when the attempt was sent: posts older than it cannot be it. */
  sentAt?: string;
  /** The platform's id for it, when an answer carrying one was recorded. */
  externalId?: string | null;
  /**
   * Ids of the account's posts already recorded for its other items: never this attempt's, so a
   * lookup skips them (two items with the same text must not both claim one post).
   */
  excludeExternalIds?: string[];
  /** The post's platform options: a Mastodon status carries its content warning (spoiler_text). */
  options?: PlatformOptions;
}

export interface Connector {
  /** The platform key this connector serves. */
  readonly platform: string;
  /**
   * True when a first comment and each part of a thread are posts of their own, sent one by one
   * after the post: a post found live may still lack some, and publishing it again with `landed`
   * sends only those (Mastodon, Bluesky). Unset where the platform takes the whole post in one request.
   */
  readonly postsInParts?: boolean;
  /** Publish one post. Never throws for platform or network failures: it classifies them. */
  publish(req: PublishRequest, opts: { signal: AbortSignal }): Promise<PublishOutcome>;
  /** Find a post carrying our idempotency key (or marker), to settle an unknown outcome. Never throws. */
  lookup(account: ConnectorAccount, idempotencyKey: string, opts: { signal: AbortSignal; sent?: SentAttempt }): Promise<Lookup>;
  /**
   * Connect an account as its owner would (OAuth on most platforms): with what the user supplied
   * (`credentials`, already checked for shape), return what Pacer stores. Never throws for platform
   * or network failures.
   */
  connect(account: { handle: string; credentials: Record<string, string> }, opts: { signal: AbortSignal }): Promise<Connection>;
  /**
   * The account's posts made at or after `since`, for reconciliation (read-only, paged inside the
   * platform's read limits). Throws an Error saying what failed when the platform cannot be read.
   */
  recentPosts(account: ConnectorAccount, opts: { since: Date; signal: AbortSignal; keys?: string[] }): Promise<RecentPosts>;
  /**
   * Set where the platform keeps no marker but a post's id is derived from Pacer's key (Bluesky's
   * record key): `recentPosts` then needs `keys`, the idempotency keys of the account's items that
   * may be on the platform, and names the matching key as a post's marker.
   */
  readonly markersFromKeys?: boolean;
  /** Read the account's current metrics; throws an Error saying what failed. */
  readMetrics(account: ConnectorAccount, opts: { signal: AbortSignal }): Promise<AccountMetrics>;
}
