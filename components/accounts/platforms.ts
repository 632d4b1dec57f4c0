// Platform names as subscribers read them, and the platforms they can connect from the web app today.
const names: Record<string, string> = {
  sandbox: "Sandbox",
  mastodon: "Mastodon",
  bluesky: "Bluesky",
  x: "X",
  instagram: "Instagram",
  threads: "Threads",
  facebook: "Facebook",
  tiktok: "TikTok",
  youtube: "YouTube",
  linkedin: "LinkedIn",
  reddit: "Reddit",
  pinterest: "Pinterest",
  "upload-post": "Upload-Post",
};

/** Every platform a filter can name (Upload-Post is a way to connect, not a platform of its own). */
export const PLATFORM_IDS = Object.keys(names).filter((id) => id !== "upload-post");

export function platformName(id: string): string {
  return names[id] ?? id;
}

/** Only the sandbox connector ships so far; the others arrive with their connectors. */
export const connectablePlatforms = ["sandbox"] as const;
