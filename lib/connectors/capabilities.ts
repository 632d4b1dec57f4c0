// Which connector serves which platform, and what each can publish: pure data, no connector code,
// so the browser (the composer) can ask it without bundling the connectors. lib/connectors/registry.ts
// builds the connectors from it.

/** The real connectors an operator can enable. */
export const REAL_CONNECTORS = ["mastodon", "bluesky", "upload-post"] as const;
export type RealConnector = (typeof REAL_CONNECTORS)[number];

/** The platforms Pacer reaches through Upload-Post: each connected profile's account is one Pacer account on it. */
export const UPLOAD_POST_PLATFORMS = ["tiktok", "instagram", "youtube", "linkedin", "facebook", "x", "threads", "pinterest", "reddit"] as const;

/** The connector that serves a platform, whether or not it is enabled; null when Pacer has none. */
export function connectorKind(platform: string): "sandbox" | RealConnector | null {
  if (platform === "sandbox" || platform === "mastodon" || platform === "bluesky") return platform;
  return (UPLOAD_POST_PLATFORMS as readonly string[]).includes(platform) ? "upload-post" : null;
}

/**
 * What each connector can publish beyond a text with media: the one place enqueue asks (and the
 * connectors themselves refuse what is not listed here, as `permanent`). `threads`: a post's further
 * parts, each a reply to the one before — Mastodon (in_reply_to_id) and Bluesky (reply refs). Not
 * the sandbox (its posts have no replies) nor Upload-Post (one request per post; its own splitting
 * of long X/Threads/Bluesky texts is not a thread Pacer controls).
 */
const CAPABILITIES: Record<"sandbox" | RealConnector, { threads: boolean }> = {
  sandbox: { threads: false },
  mastodon: { threads: true },
  bluesky: { threads: true },
  "upload-post": { threads: false },
};

/** Whether Pacer can publish a thread (posts.thread) to accounts on this platform. */
export function postsThreads(platform: string): boolean {
  const kind = connectorKind(platform);
  return kind !== null && CAPABILITIES[kind].threads;
}
