// The local stack's platform fakes (local/platform-fakes.ts) start with what `npm run dev` prints and
// the README's try-out steps use: the Bluesky demo account and the Upload-Post demo key and profile.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUploadPostSetup } from "@/lib/connectors/upload-post";
import { DEMO_UPLOAD_POST, startLocalPlatforms, type LocalPlatforms } from "../../local/platform-fakes.ts";

let platforms: LocalPlatforms;
beforeAll(async () => {
  platforms = await startLocalPlatforms({ dbUrl: process.env.SUPABASE_DB_URL!, log: () => {} });
});
afterAll(() => platforms?.stop());

describe("the local Upload-Post fake", () => {
  it("accepts the demo key and lists its profile with TikTok and LinkedIn connected", async () => {
    const setup = createUploadPostSetup({ baseUrl: platforms.urls.uploadPost, allowedHosts: new URL(platforms.urls.uploadPost).host });
    const signal = AbortSignal.timeout(5_000);
    expect((await setup.checkKey(DEMO_UPLOAD_POST.apiKey, signal)).ok).toBe(true);
    const listed = await setup.profiles(DEMO_UPLOAD_POST.apiKey, signal);
    expect(listed.ok).toBe(true);
    if (!listed.ok) return;
    const demo = listed.value.find((p) => p.username === DEMO_UPLOAD_POST.profile);
    expect(demo?.accounts.map((a) => [a.platform, a.handle]).sort()).toEqual([
      ["linkedin", DEMO_UPLOAD_POST.connect.linkedin],
      ["tiktok", DEMO_UPLOAD_POST.connect.tiktok],
    ]);
    expect((await setup.checkKey("up_not_a_key_at_all", signal)).ok).toBe(false);
  });
});
