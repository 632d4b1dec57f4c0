// The Upload-Post fake's state and rules, in memory: API keys and their plans, profiles and their
// connected social accounts, upload jobs (by request_id), the per-platform posts the fake "made"
// (its own record, the truth tests check), limits, and injected faults.
//
// Each rule names where it comes from, with the marks of docs/platforms/upload-post.md:
//   [D] documented on docs.upload-post.com (page given), [C] only in the official client's source,
//   [S] only in third-party notes or fakes, [?] undocumented: the fake's choice, stated.
import { randomBytes, randomUUID } from "node:crypto";
import { FaultDice, type FaultDiceOptions } from "../random-faults.ts";

/** Upload-Post's platform keys (https://docs.upload-post.com/api/user-profiles) [D]. */
export const PLATFORMS = ["tiktok", "instagram", "linkedin", "youtube", "facebook", "x", "threads", "pinterest", "reddit", "bluesky", "google_business"] as const;
export type Platform = (typeof PLATFORMS)[number];
export const isPlatform = (p: string): p is Platform => (PLATFORMS as readonly string[]).includes(p);

/** Platforms /api/upload_text accepts (https://docs.upload-post.com/api/upload-text) [D]. */
export const TEXT_PLATFORMS: readonly Platform[] = ["linkedin", "x", "facebook", "threads", "reddit", "bluesky", "google_business"];

/**
 * Daily hard caps per connected social account, rolling 24 h, successful publishes only
 * (https://docs.upload-post.com/guides/limit-of-uploads, /guides/rate-limits) [D]. X differs between
 * pages (10–30 by plan, or 50) [?]: 20 here. Pinterest 20 (another page says 25) [?].
 */
export const DEFAULT_CAPS: Record<Platform, number> = {
  instagram: 50,
  tiktok: 15,
  linkedin: 150,
  youtube: 10,
  facebook: 25,
  x: 20,
  threads: 50,
  pinterest: 20,
  reddit: 40,
  bluesky: 50,
  google_business: 50, // [?] not listed
};

/**
 * One post's text limit where the fake refuses longer text. X, Threads and Bluesky split longer text
 * into a thread on Upload-Post's side [D upload-text]; the fake refuses it instead, since a thread is
 * several posts [?: how a thread's ids come back is undocumented]. Facebook and LinkedIn: the
 * platforms' own limits (Upload-Post documents none) [?].
 */
export const TEXT_LIMITS: Partial<Record<Platform, number>> = { x: 280, threads: 500, bluesky: 300, facebook: 63_206, linkedin: 3_000, tiktok: 2_200, instagram: 2_200 };

export interface SocialAccount {
  platform: Platform;
  /** The @name, as `social_accounts[p].username` [D user-profiles]. */
  username: string;
  display_name: string;
  /** Set when the stored token is dead [S]; uploads then fail with the "session has expired" error [D error-handling]. */
  reauth_required: boolean;
  restricted: boolean;
  /** Facebook pages the account manages; "any" accepts every page id (a harness convenience). */
  pages: Array<{ page_id: string; page_name: string }> | "any";
  /** Destinations (subreddit, page id) whose posts are refused. */
  rejectedDestinations: Set<string>;
  metrics: { followers: number; reach: number; likes: number; comments: number; shares: number; saves: number };
}

export interface Profile {
  username: string;
  created_at: string;
  social: Map<Platform, SocialAccount>;
}

export interface ApiKeyAccount {
  apiKey: string;
  email: string;
  plan: string;
  /** Uploads per month; null = unlimited. Free: 10 [D authentication, rate-limits]. */
  monthlyLimit: number | null;
  usage: { count: number; last_reset: string };
  /** Profiles the plan allows (the docs' example: `limit: 10` for plan `default`) [D user-profiles]. */
  profileLimit: number;
  expired: boolean;
  profiles: Map<string, Profile>;
  /** Request-rate window for X-RateLimit-* [D rate-limits; numbers [S]]. */
  window: { start: number; count: number };
}

export type ResultStatus = "queued" | "processing" | "completed" | "failed" | "retryable";

export interface PlatformResult {
  platform: Platform;
  status: ResultStatus;
  success: boolean;
  message: string;
  error?: string;
  error_code?: string;
  upload_timestamp?: string;
  platform_post_id?: string;
  url?: string;
}

export interface Job {
  apiKey: string;
  request_id: string;
  /** The key the job is deduplicated by (Idempotency-Key / X-Idempotency-Key / X-Request-Id), if one came. */
  idempotencyKey: string | null;
  profile: string;
  platforms: Platform[];
  media_type: "text" | "photo" | "video";
  title: string;
  description: string | null;
  first_comment: string | null;
  /** The destination field sent for each platform (subreddit, facebook_page_id, pinterest_board_id, target_linkedin_page_id). */
  destination: string | null;
  media: string[];
  created_at: number;
  /** When processing finishes (processing delay, or later if a platform stays retryable). */
  dueAt: number;
  /** Set when the platforms show `retryable` from this moment until dueAt (a failure Upload-Post retries itself) [D upload-status]. */
  retryableFrom?: number;
  results: Map<Platform, PlatformResult>;
  settled: boolean;
}

/** A post the fake made on a platform: the ground truth tests read. */
export interface HeldPost {
  platform_post_id: string;
  apiKey: string;
  profile: string;
  platform: Platform;
  text: string;
  description: string | null;
  first_comment: string | null;
  destination: string | null;
  request_id: string;
  media_type: Job["media_type"];
  media: string[];
  created_at: string;
  post_url: string;
}

/** Faults aimed at one social account (apiKey/profile/platform). */
export interface AccountFaults {
  /** The next upload is committed (job created), then the connection is destroyed without an answer. */
  dropAnswerAfterCommit?: number;
  /** The next upload answers this 5xx before anything is created. */
  failNext?: number[];
  /** The next request naming the account answers 429 with X-RateLimit-Reset this many ms ahead. */
  rateLimitNext?: number[];
  /** The next upload's platform result fails with TikTok's reached_active_user_cap [D reached-active-user-cap-error]. */
  userCapNext?: number;
  /** The next upload's platform result stays `retryable` this long, then completes [D upload-status]. */
  retryableFor?: number[];
}

/** What an upload can meet at random (setRandomFaults), each one of the account faults above. */
export type RandomFaultKind = "rate_limit" | "error_before_commit" | "drop_after_commit" | "slow_commit";

/** Faults at random (the chaos test's mode): each upload rolls once, and a rolled kind is queued as its account fault. */
export interface RandomFaults extends FaultDiceOptions<RandomFaultKind> {
  /** rate_limit: when X-RateLimit-Reset falls. */
  resetInMs?: number;
  /** error_before_commit: the 5xx answered. */
  status?: number;
  /** slow_commit: how long the platform result stays `retryable` before it completes. */
  slowCommitMs?: number;
}

export interface FakeConfig {
  /** Request-rate window per API key, answered in X-RateLimit-* [D rate-limits; numbers [S]: 100/min]. */
  rateLimit: { limit: number; windowMs: number };
  caps: Record<Platform, number>;
  /** How long an Idempotency-Key names its job: 24 h per the official client [C-npm] [?]. */
  idempotencyWindowMs: number;
  /** Background processing time by media type (recommended polling: photos 5–10 s, videos longer [D upload-status]). */
  processingMs: Record<Job["media_type"], number>;
  /** Whether a completed status result carries `url` and `platform_post_id` ([S-fakes]; the docs' example shows neither) [?]. */
  statusCarriesIds: boolean;
  /**
   * For this long after an upload, status still answers 404 for it: status answers are cached 2–3 s
   * [D upload-status], so a just-accepted id may not show yet [?]. 0 by default.
   */
  statusLagMs: number;
  /**
   * How long a finished status answer (top-level `completed` or `failed`) is served again as it was:
   * "terminal (completed, failed) 5 minutes" [D upload-status, docs/platforms/upload-post.md §3.7].
   * So for up to 5 minutes after a posts/retry the status still shows the old `failed`. Whether a
   * retry clears that cache is undocumented [?]: the fake assumes not (the pessimistic reading).
   */
  finishedStatusCacheMs: number;
}

export const DEFAULT_CONFIG: FakeConfig = {
  rateLimit: { limit: 100, windowMs: 60_000 },
  caps: DEFAULT_CAPS,
  idempotencyWindowMs: 24 * 3600_000,
  processingMs: { text: 1_000, photo: 3_000, video: 8_000 },
  statusCarriesIds: true,
  statusLagMs: 0,
  finishedStatusCacheMs: 5 * 60_000,
};

const STARTING_METRICS = { followers: 1_000, reach: 5_000, likes: 200, comments: 30, shares: 15, saves: 5 };

/** After this many consecutive failures with one invalid key, the caller is blocked for 5 minutes [D rate-limits]. */
export const BRUTE_FORCE = { failures: 10, blockMs: 5 * 60_000 };

export class UploadPostState {
  readonly keys = new Map<string, ApiKeyAccount>();
  /** Jobs by `${apiKey} ${request_id}`, and by `${apiKey} ${idempotencyKey}`. */
  readonly jobs = new Map<string, Job>();
  private readonly byIdempotencyKey = new Map<string, Job>();
  readonly posts: HeldPost[] = [];
  readonly faults = new Map<string, AccountFaults>();
  /** Invalid keys: consecutive failures and when a block ends. */
  readonly badKeys = new Map<string, { failures: number; blockedUntil: number }>();
  /** Single-use, 48 h connect links (generate-jwt) [D user-profiles]. */
  /** Finished status answers as first served, by `${apiKey} ${request_id}`, until they expire (finishedStatusCacheMs). */
  readonly statusCache = new Map<string, { body: unknown; until: number }>();
  readonly connectLinks = new Map<string, { apiKey: string; profile: string; redirect_url: string | null; expiresAt: number; used: boolean }>();
  config: FakeConfig;
  baseUrl = "http://127.0.0.1";
  private nextPostId = 1;
  /** Set by setRandomFaults: what each upload rolls, and what fired. */
  randomFaults: (FaultDice<RandomFaultKind> & { opts: RandomFaults }) | null = null;

  constructor(
    config: Partial<FakeConfig> = {},
    readonly now: () => number = Date.now,
  ) {
    this.config = { ...DEFAULT_CONFIG, ...config, caps: { ...DEFAULT_CAPS, ...config.caps } };
  }

  /** A new API key (as the dashboard hands out), with its plan. */
  createKey(opts: { apiKey?: string; plan?: string; monthlyLimit?: number | null; profileLimit?: number; email?: string } = {}): ApiKeyAccount {
    // A fixed key only for the local stack's demo (local/platform-fakes.ts); otherwise a fresh one.
    const apiKey = opts.apiKey ?? `up_${randomBytes(18).toString("base64url")}`;
    const plan = opts.plan ?? "Professional";
    const account: ApiKeyAccount = {
      apiKey,
      email: opts.email ?? `${apiKey.slice(3, 11).toLowerCase()}@example.test`,
      plan,
      monthlyLimit: opts.monthlyLimit !== undefined ? opts.monthlyLimit : plan === "Free" ? 10 : null,
      usage: { count: 0, last_reset: new Date(this.now()).toISOString() },
      profileLimit: opts.profileLimit ?? 10,
      expired: false,
      profiles: new Map(),
      window: { start: this.now(), count: 0 },
    };
    this.keys.set(apiKey, account);
    return account;
  }

  createProfile(key: ApiKeyAccount, username: string): Profile {
    const profile: Profile = { username, created_at: new Date(this.now()).toUTCString(), social: new Map() };
    key.profiles.set(username, profile);
    return profile;
  }

  /** What a user's OAuth on Upload-Post's connect page does: one social account per platform per profile. */
  connectSocial(profile: Profile, platform: Platform, username: string, opts: Partial<Pick<SocialAccount, "pages" | "display_name">> = {}): SocialAccount {
    const social: SocialAccount = {
      platform,
      username,
      display_name: opts.display_name ?? username,
      reauth_required: false,
      restricted: false,
      pages: opts.pages ?? (platform === "facebook" ? [{ page_id: `${100_000 + profile.social.size}`, page_name: `${username}'s page` }] : []),
      rejectedDestinations: new Set(),
      metrics: { ...STARTING_METRICS },
    };
    profile.social.set(platform, social);
    return social;
  }

  social(apiKey: string, profile: string, platform: string): SocialAccount | undefined {
    return isPlatform(platform) ? this.keys.get(apiKey)?.profiles.get(profile)?.social.get(platform) : undefined;
  }

  /** Faults at random on every upload from now on (null: none). */
  setRandomFaults(opts: RandomFaults | null): void {
    this.randomFaults = opts ? Object.assign(new FaultDice(opts), { opts }) : null;
  }

  /** An upload's roll: queues the fault it met, if any, on the account it names. */
  rollFault(apiKey: string, profile: string, platform: string): void {
    const dice = this.randomFaults;
    const kind = dice?.roll();
    if (!dice || !kind) return;
    const { resetInMs = 1_000, status = 502, slowCommitMs = 1_000 } = dice.opts;
    const f = this.faultsFor(apiKey, profile, platform);
    if (kind === "rate_limit") (f.rateLimitNext ??= []).push(resetInMs);
    else if (kind === "error_before_commit") (f.failNext ??= []).push(status);
    else if (kind === "drop_after_commit") f.dropAnswerAfterCommit = (f.dropAnswerAfterCommit ?? 0) + 1;
    else (f.retryableFor ??= []).push(slowCommitMs);
  }

  faultsFor(apiKey: string, profile: string, platform: string): AccountFaults {
    const id = `${apiKey} ${profile} ${platform}`;
    let f = this.faults.get(id);
    if (!f) this.faults.set(id, (f = {}));
    return f;
  }

  /** The job an idempotency key names, inside the window [D upload-text "returns the existing job"; window [C]]. */
  jobForKey(apiKey: string, idempotencyKey: string): Job | undefined {
    const job = this.byIdempotencyKey.get(`${apiKey} ${idempotencyKey}`);
    return job && this.now() - job.created_at < this.config.idempotencyWindowMs ? job : undefined;
  }

  addJob(job: Job) {
    this.jobs.set(`${job.apiKey} ${job.request_id}`, job);
    if (job.idempotencyKey) this.byIdempotencyKey.set(`${job.apiKey} ${job.idempotencyKey}`, job);
  }

  /** Successful publishes of one social account in the last 24 h (what the hard caps count) [D limit-of-uploads]. */
  postsLast24h(apiKey: string, profile: string, platform: Platform): number {
    const since = this.now() - 24 * 3600_000;
    return this.posts.filter((p) => p.apiKey === apiKey && p.profile === profile && p.platform === platform && Date.parse(p.created_at) >= since).length;
  }

  /**
   * Finishes every job whose processing time has passed: each platform of it is published (a held
   * post) or fails as the social account's state says. Called before every answer and every read of
   * the record, so time (the injected clock included) is all it takes.
   */
  settle() {
    const now = this.now();
    for (const job of this.jobs.values()) {
      if (job.settled || job.dueAt > now) continue;
      for (const result of job.results.values()) {
        if (result.status === "queued" || result.status === "processing" || result.status === "retryable") this.publish(job, result);
      }
      job.settled = true;
    }
  }

  /** One platform of a job, run now. */
  publish(job: Job, result: PlatformResult) {
    const now = new Date(this.now()).toISOString();
    const social = this.social(job.apiKey, job.profile, result.platform);
    const faults = this.faultsFor(job.apiKey, job.profile, result.platform);
    const fail = (error: string, error_code?: string) =>
      Object.assign(result, { status: "failed" as const, success: false, message: "Failed", error, error_code, upload_timestamp: now });
    const name = platformName(result.platform);
    if (!social) return fail(`${name} is not connected to profile ${job.profile}.`, "profile_platform_mapping_invalid");
    // The LinkedIn example of https://docs.upload-post.com/guides/error-handling, per platform [D].
    if (social.reauth_required) {
      return fail(`Your ${name} session has expired. Please reconnect your ${name} account. Go to Manage Users, remove the account, and connect it again.`, "account_reauth_required");
    }
    // [S] error_code account_restricted; the text is the fake's.
    if (social.restricted) return fail(`Your ${name} account is restricted by ${name} and cannot publish right now.`, "account_restricted");
    if (faults.userCapNext) {
      faults.userCapNext--;
      // https://docs.upload-post.com/guides/reached-active-user-cap-error [D]
      return fail("reached_active_user_cap: TikTok's daily limit of active users for this app has been reached; wait a few hours and retry.", "reached_active_user_cap");
    }
    if (job.destination) {
      if (social.rejectedDestinations.has(job.destination)) {
        return fail(
          result.platform === "reddit"
            ? `Reddit rejected the post: you are banned from r/${job.destination}.`
            : `${name} rejected the post for destination ${job.destination}: not allowed.`,
        );
      }
      if (result.platform === "facebook" && social.pages !== "any" && !social.pages.some((p) => p.page_id === job.destination)) {
        return fail(`Facebook page ${job.destination} is not one of this account's pages.`);
      }
    }
    const limit = TEXT_LIMITS[result.platform];
    if (limit && [...job.title].length > limit) return fail(`${name} refused the post: the text is longer than ${limit} characters.`);
    const id = String(this.nextPostId++);
    const post: HeldPost = {
      platform_post_id: `${result.platform}_${id}`,
      apiKey: job.apiKey,
      profile: job.profile,
      platform: result.platform,
      text: job.title,
      description: job.description,
      first_comment: job.first_comment,
      destination: job.destination,
      request_id: job.request_id,
      media_type: job.media_type,
      media: job.media,
      created_at: now,
      post_url: `${this.baseUrl}/p/${result.platform}/${id}`,
    };
    this.posts.push(post);
    Object.assign(result, { status: "completed" as const, success: true, message: "Published", error: undefined, upload_timestamp: now, platform_post_id: post.platform_post_id, url: post.post_url });
  }

  /** The top-level status of https://docs.upload-post.com/api/upload-status [D]. */
  jobStatus(job: Job): "pending" | "queued" | "processing" | "in_progress" | "completed" | "failed" {
    const results = [...job.results.values()];
    const finished = results.filter((r) => r.status === "completed" || r.status === "failed");
    if (finished.length === results.length) return results.every((r) => r.status === "failed") ? "failed" : "completed";
    if (finished.length > 0) return "in_progress";
    const elapsed = this.now() - job.created_at;
    // Accepted with nothing recorded for the first third of the work, then processing.
    return elapsed < (job.dueAt - job.created_at) / 3 ? "pending" : "processing";
  }

  newRequestId() {
    return randomUUID();
  }
}

export function platformName(p: Platform): string {
  const names: Record<Platform, string> = {
    tiktok: "TikTok",
    instagram: "Instagram",
    linkedin: "LinkedIn",
    youtube: "YouTube",
    facebook: "Facebook",
    x: "X",
    threads: "Threads",
    pinterest: "Pinterest",
    reddit: "Reddit",
    bluesky: "Bluesky",
    google_business: "Google Business",
  };
  return names[p];
}
