// The real platforms' local fakes the stack runs beside the sandbox (Mastodon, Bluesky, Upload-Post),
// and the environment that points Pacer's connectors at them. They keep their data in memory: a
// restart forgets their users, tokens and posts (the sandbox is the one platform kept across restarts).
import postgres from "postgres";
import { startBlueskyFake } from "./platforms/bluesky/index.ts";
import { startMastodonFake } from "./platforms/mastodon/index.ts";
import { startUploadPostFake } from "./platforms/upload-post/index.ts";

export interface LocalPlatformPorts {
  mastodon: number;
  bluesky: number;
  uploadPost: number;
}

/** A Bluesky account the fake has from the start, so `npm run dev` can connect one with no setup. */
export const DEMO_BLUESKY = { handle: "demo.bsky.local", appPassword: "demo-demo-demo-demo" };

/**
 * An Upload-Post API key the fake has from the start, with one profile whose TikTok and LinkedIn are
 * connected, so `npm run dev` can set a key and import accounts with no setup. Fixed, so a key stored
 * in a workspace still works after a restart (the fake forgets everything else).
 */
export const DEMO_UPLOAD_POST = {
  apiKey: "up_demo_pacer_local_key",
  profile: "pacer_demo",
  connect: { tiktok: "pacer_demo_tt", linkedin: "pacer-demo-li" },
} as const;

export interface LocalPlatforms {
  urls: { mastodon: string; bluesky: string; uploadPost: string };
  /** PACER_CONNECTORS and the connectors' addresses, for the app, workers and functions. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startLocalPlatforms(opts: {
  ports?: Partial<LocalPlatformPorts>;
  dbUrl: string;
  log: (source: string, line: string) => void;
}): Promise<LocalPlatforms> {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    const mastodon = await startMastodonFake({ port: opts.ports?.mastodon ?? 0, log: (l) => opts.log("mastodon", l) });
    stops.push(mastodon.stop);
    const bluesky = await startBlueskyFake({ port: opts.ports?.bluesky ?? 0, accounts: [DEMO_BLUESKY], log: (l) => opts.log("bluesky", l) });
    stops.push(bluesky.stop);
    const uploadPost = await startUploadPostFake({ port: opts.ports?.uploadPost ?? 0, log: (l) => opts.log("upload-post", l) });
    stops.push(uploadPost.stop);
    uploadPost.seed({ apiKey: DEMO_UPLOAD_POST.apiKey, profile: DEMO_UPLOAD_POST.profile, connect: { ...DEMO_UPLOAD_POST.connect } });

    // The fake instance has forgotten the app Pacer registered on it last time: forget it too, or
    // the next "Connect Mastodon" would send the user to an authorize page that rejects Pacer's client.
    const sql = postgres(opts.dbUrl, { max: 1, onnotice: () => {} });
    try {
      await sql`delete from private.mastodon_apps where instance = ${mastodon.url}`;
    } finally {
      await sql.end();
    }

    return {
      urls: { mastodon: mastodon.url, bluesky: bluesky.url, uploadPost: uploadPost.url },
      env: {
        PACER_CONNECTORS: "mastodon,bluesky,upload-post",
        // The Bluesky fake is PDS, AppView and PLC directory in one.
        PACER_BLUESKY_APPVIEW_URL: bluesky.url,
        PACER_BLUESKY_PLC_URL: bluesky.url,
        PACER_UPLOAD_POST_URL: uploadPost.url,
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
