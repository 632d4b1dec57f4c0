// What the connector contract suite (tests/connectors/contract/contract.test.ts) needs from each
// platform: its connector wired to a local fake of the platform, fresh connected accounts on that
// fake, the fake's own record of what it published (the wire, not Pacer's tables), and the faults
// the platform's documentation says can happen. One harness per platform, in <platform>.harness.ts.
import type { Connector, ConnectorAccount } from "../../../lib/connectors/types.ts";

/** A post as the fake platform holds it. */
export interface HeldPost {
  externalId: string;
  text: string;
  /** Set when the post is a reply (a thread or a first comment). */
  inReplyTo?: string | null;
  destination?: string | null;
}

export interface HarnessFaults {
  /** The next publish for the account is committed by the platform, then the connection is reset before any answer. */
  dropAnswerAfterCommit(account: ConnectorAccount): void;
  /** The next request for the account is refused with the platform's documented 429 and reset headers, resetting in `resetInMs`. */
  rateLimitNext(account: ConnectorAccount, resetInMs: number): void;
  /** The account's token stops working, as the platform reports an expired or revoked token. */
  expireToken(account: ConnectorAccount): void;
  /** The platform restricts (suspends, takes down) the account, as it reports that. */
  restrict(account: ConnectorAccount): void;
  /** The next request for the account fails with a server error (5xx) after the platform committed nothing. */
  failNext(account: ConnectorAccount, status: number): void;
  /** Only for platforms with destinations (a subreddit, a page): posts to it are refused. */
  rejectDestination?(account: ConnectorAccount, destination: string): void;
}

export interface HarnessInstance {
  connector: Connector;
  /** A fresh account, connected through the connector's own connect flow (or the platform's documented equivalent). */
  account(): Promise<ConnectorAccount>;
  /** What the fake platform holds for the account, oldest first. */
  posts(account: ConnectorAccount): Promise<HeldPost[]>;
  /** Make the account's audience figures these (for readMetrics). */
  setMetrics(account: ConnectorAccount, metrics: { followers: number; engagement: number; reach?: number }): Promise<void>;
  faults: HarnessFaults;
  /** The platform's text limit for one post (in the platform's unit: characters or graphemes). */
  textLimit: number;
  /** The connector posts threads (PublishRequest.thread), each part a reply to the one before; others must refuse one. */
  threads?: boolean;
  /** Where the platform has them (Mastodon): the visibility and content warning it stored for a post. */
  statusOptions?(account: ConnectorAccount, externalId: string): Promise<{ visibility: string; contentWarning: string }>;
  stop(): Promise<void>;
}

export interface PlatformHarness {
  platform: string;
  start(): Promise<HarnessInstance>;
}
