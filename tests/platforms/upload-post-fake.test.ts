// The Upload-Post fake against Upload-Post's documented behaviour (each test names its page under
// https://docs.upload-post.com; [C]/[S]/[?] mark what the docs do not say, as in docs/platforms/upload-post.md).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUploadPostFake, type UploadPostFake } from "@/local/platforms/upload-post/index.ts";
import { seededRandom } from "@/local/sandbox/network.ts";

let fake: UploadPostFake;
let offset = 0;
beforeAll(async () => {
  fake = await startUploadPostFake({ port: 0, now: () => Date.now() + offset, config: { processingMs: { text: 30, photo: 30, video: 30 } } });
});
afterAll(() => fake?.stop());

let n = 0;
function seeded(connect: Record<string, string> = { facebook: "page_owner", reddit: "redditor", x: "xer" }, extra: { plan?: string; monthlyLimit?: number | null } = {}) {
  const { key, profile } = fake.seed({ profile: `p${++n}`, connect, ...extra });
  return { apiKey: key.apiKey, profile: profile.username };
}
const auth = (apiKey: string) => ({ authorization: `Apikey ${apiKey}` });

function textForm(profile: string, platform: string, title: string, extra: Record<string, string> = {}) {
  const form = new FormData();
  form.append("user", profile);
  form.append("platform[]", platform);
  form.append("title", title);
  for (const [k, v] of Object.entries(extra)) form.append(k, v);
  return form;
}
const post = (apiKey: string, form: FormData, headers: Record<string, string> = {}, path = "/api/upload_text") =>
  fetch(`${fake.url}${path}`, { method: "POST", headers: { ...auth(apiKey), ...headers }, body: form });
const get = (apiKey: string, path: string) => fetch(`${fake.url}${path}`, { headers: auth(apiKey) });
const settle = () => new Promise((r) => setTimeout(r, 60));

describe("authentication (guides/authentication, guides/rate-limits)", () => {
  it("answers 401 without the header, with a wrong key, and accepts the Apikey scheme in any case", async () => {
    const { apiKey } = seeded();
    const none = await fetch(`${fake.url}/api/uploadposts/me`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ success: false, message: "Authorization header required" });
    const wrong = await get("up_nope", "/api/uploadposts/me");
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ success: false, message: "Invalid or expired token" });
    const ok = await fetch(`${fake.url}/api/uploadposts/me`, { headers: { authorization: `APIKEY ${apiKey}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ success: true, plan: "Professional", api_usage: { count: 0 } });
  });

  it("blocks the caller with 429 after 10 consecutive failures with one invalid key, for 5 minutes", async () => {
    const { apiKey } = seeded();
    for (let i = 0; i < 10; i++) expect((await get("up_guess", "/api/uploadposts/me")).status).toBe(401);
    expect((await get(apiKey, "/api/uploadposts/me")).status).toBe(429);
    offset += 5 * 60_000 + 1;
    expect((await get(apiKey, "/api/uploadposts/me")).status).toBe(200);
  });

  it("answers 401 API key expired for an expired key", async () => {
    const { apiKey } = seeded();
    fake.expireApiKey(apiKey);
    const res = await get(apiKey, "/api/uploadposts/me");
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ message: "API key expired" });
  });
});

describe("request rate (guides/rate-limits)", () => {
  it("sends X-RateLimit-Limit/Remaining/Reset (Unix seconds) on every authenticated answer and 429 past the limit", async () => {
    const { apiKey } = seeded();
    const saved = fake.state.config.rateLimit;
    fake.state.config.rateLimit = { limit: 2, windowMs: 60_000 };
    try {
      const first = await get(apiKey, "/api/uploadposts/me");
      expect(first.headers.get("x-ratelimit-limit")).toBe("2");
      expect(first.headers.get("x-ratelimit-remaining")).toBe("1");
      const reset = Number(first.headers.get("x-ratelimit-reset"));
      expect(reset * 1000).toBeGreaterThan(Date.now() + offset);
      expect(reset * 1000).toBeLessThanOrEqual(Date.now() + offset + 61_000);
      expect((await get(apiKey, "/api/uploadposts/me")).status).toBe(200);
      const over = await get(apiKey, "/api/uploadposts/me");
      expect(over.status).toBe(429);
      expect(over.headers.get("x-ratelimit-remaining")).toBe("0");
    } finally {
      fake.state.config.rateLimit = saved;
    }
  });
});

describe("uploads and status (api/upload-text, api/upload-status, guides/async-uploads)", () => {
  it("async_upload answers at once with our request_id; status goes from pending to completed with one platform result", async () => {
    const { apiKey, profile } = seeded();
    fake.state.config.processingMs.text = 3_000;
    const res = await post(apiKey, textForm(profile, "facebook", "hello", { request_id: "pacer-a1", async_upload: "true" }), { "idempotency-key": "pacer-a1" });
    fake.state.config.processingMs.text = 30;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true, message: "Upload initiated successfully in background.", request_id: "pacer-a1", total_platforms: 1 });
    const early = await (await get(apiKey, "/api/uploadposts/status?request_id=pacer-a1")).json();
    expect(early).toMatchObject({ request_id: "pacer-a1", status: "pending", completed: 0, total: null, results: [] });
    offset += 1_500;
    const working = await (await get(apiKey, "/api/uploadposts/status?request_id=pacer-a1")).json();
    expect(working).toMatchObject({ status: "processing", total: 1, results: [{ platform: "facebook", status: "processing" }] });
    expect(fake.posts({ apiKey, profile, platform: "facebook" })).toHaveLength(0);
    offset += 1_500;
    const done = await (await get(apiKey, "/api/uploadposts/status?request_id=pacer-a1")).json();
    expect(done).toMatchObject({ status: "completed", completed: 1, total: 1, results: [{ platform: "facebook", status: "completed", success: true }] });
    expect(fake.posts({ apiKey, profile, platform: "facebook" })).toMatchObject([{ text: "hello", request_id: "pacer-a1" }]);
  });

  it("status answers 404 not_found for an unknown id and 400 without one", async () => {
    const { apiKey } = seeded();
    const missing = await get(apiKey, "/api/uploadposts/status?request_id=nope");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ status: "not_found" });
    const none = await get(apiKey, "/api/uploadposts/status");
    expect(none.status).toBe(400);
    expect(await none.json()).toEqual({ error: "request_id or job_id is required" });
  });

  it("an Idempotency-Key already used returns the existing job and publishes nothing more (api/upload-text headers)", async () => {
    const { apiKey, profile } = seeded();
    for (let i = 0; i < 3; i++) {
      const res = await post(apiKey, textForm(profile, "x", "once", { request_id: "pacer-k1", async_upload: "true" }), { "idempotency-key": "pacer-k1" });
      expect((await res.json()).request_id).toBe("pacer-k1");
    }
    await settle();
    expect(fake.posts({ apiKey, profile, platform: "x" })).toHaveLength(1);
  });

  it("without a key every request is a new job, so a blind resend publishes twice [C: official client's note]", async () => {
    const { apiKey, profile } = seeded();
    await post(apiKey, textForm(profile, "x", "twice"));
    await post(apiKey, textForm(profile, "x", "twice"));
    await settle();
    expect(fake.posts({ apiKey, profile, platform: "x" })).toHaveLength(2);
  });

  it("a synchronous upload answers per-platform results and usage (guides/error-handling)", async () => {
    const { apiKey, profile } = seeded();
    const res = await post(apiKey, textForm(profile, "facebook", "sync"));
    const body = await res.json();
    expect(body).toMatchObject({ success: true, results: { facebook: { success: true, post_id: expect.any(String), url: expect.any(String) } }, usage: { count: 1 } });
  });

  it("refuses malformed uploads with the documented 400 messages", async () => {
    const { apiKey, profile } = seeded({ facebook: "f", reddit: "r", instagram: "i" });
    const cases: Array<[FormData, string]> = [
      [textForm(profile, "facebook", ""), "Title cannot be empty"],
      [textForm(profile, "instagram", "no text-only"), "Invalid platforms: [instagram]"],
      [textForm(profile, "reddit", "needs a subreddit"), "subreddit is required for Reddit"],
      [textForm("", "facebook", "who"), "Username required"],
    ];
    for (const [form, message] of cases) {
      const res = await post(apiKey, form);
      expect(res.status, message).toBe(400);
      expect((await res.json()).message).toBe(message);
    }
    expect((await post(apiKey, textForm("nobody", "facebook", "x"))).status).toBe(404);
  });

  it("answers 400 invalid_platforms when the profile has none of the platforms connected [S]", async () => {
    const { apiKey, profile } = seeded({ facebook: "f" });
    const res = await post(apiKey, textForm(profile, "linkedin", "not connected"));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ invalid_platforms: ["linkedin"] });
  });

  it("a platform failure is a 200 whose platform result says success: false (guides/error-handling)", async () => {
    const target = { ...seeded(), platform: "facebook" };
    fake.expireToken(target);
    const body = await (await post(target.apiKey, textForm(target.profile, "facebook", "expired"))).json();
    expect(body).toMatchObject({ success: true, results: { facebook: { success: false, error: expect.stringMatching(/session has expired/) } } });
    const profile = await (await get(target.apiKey, `/api/uploadposts/users/${target.profile}`)).json();
    expect(profile.profile.social_accounts.facebook).toMatchObject({ reauth_required: true });
    expect(fake.posts(target)).toHaveLength(0);
  });
});

describe("limits (guides/limit-of-uploads, api/upload-video)", () => {
  it("answers 429 with hard_cap violations once a social account reached its daily cap", async () => {
    const target = { ...seeded({ threads: "t" }), platform: "threads" };
    const saved = fake.state.config.caps.threads;
    fake.state.config.caps.threads = 1;
    try {
      expect((await post(target.apiKey, textForm(target.profile, "threads", "one"))).status).toBe(200);
      const res = await post(target.apiKey, textForm(target.profile, "threads", "two"));
      expect(res.status).toBe(429);
      expect(await res.json()).toEqual({
        success: false,
        message: "Post verification failed",
        violations: [{ platform: "threads", type: "hard_cap", message: "Daily cap reached for threads: 1/1 in last 24h", used_last_24h: 1, cap: 1 }],
      });
    } finally {
      fake.state.config.caps.threads = saved;
    }
  });

  it("answers 429 with usage once the plan's monthly uploads are used", async () => {
    const { apiKey, profile } = seeded({ x: "x" }, { plan: "Free", monthlyLimit: 1 });
    expect((await post(apiKey, textForm(profile, "x", "one"))).status).toBe(200);
    const res = await post(apiKey, textForm(profile, "x", "two"));
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ message: "You have reached your monthly limit of 1 uploads", usage: { count: 1, limit: 1 } });
  });
});

describe("history, post analytics and retry (api/upload-history, api/get-analytics; retry [C])", () => {
  it("lists finished platform publishes newest first with request_id, and validates limit", async () => {
    const { apiKey, profile } = seeded();
    await post(apiKey, textForm(profile, "x", "first", { request_id: "pacer-h1" }), { "idempotency-key": "pacer-h1" });
    offset += 1_000;
    await post(apiKey, textForm(profile, "x", "second", { request_id: "pacer-h2" }), { "idempotency-key": "pacer-h2" });
    const body = await (await get(apiKey, "/api/uploadposts/history?page=1&limit=10")).json();
    expect(body.history.map((h: { request_id: string }) => h.request_id)).toEqual(["pacer-h2", "pacer-h1"]);
    expect(body.history[0]).toMatchObject({ profile_username: profile, platform: "x", success: true, post_url: expect.any(String), platform_post_id: expect.any(String) });
    expect((await get(apiKey, "/api/uploadposts/history?limit=7")).status).toBe(400);
  });

  it("post analytics gives the post's id and link by request_id, 404 when no post has it", async () => {
    const { apiKey, profile } = seeded();
    await post(apiKey, textForm(profile, "facebook", "a", { request_id: "pacer-pa" }), { "idempotency-key": "pacer-pa" });
    const body = await (await get(apiKey, "/api/uploadposts/post-analytics/pacer-pa?platform=facebook")).json();
    expect(body.platforms.facebook).toMatchObject({ success: true, platform_post_id: expect.any(String), post_url: expect.any(String) });
    expect((await get(apiKey, "/api/uploadposts/post-analytics/none")).status).toBe(404);
  });

  it("retry re-runs a failed platform and answers 409 when nothing failed", async () => {
    const target = { ...seeded(), platform: "facebook" };
    fake.restrict(target);
    await post(target.apiKey, textForm(target.profile, "facebook", "r", { request_id: "pacer-r1" }), { "idempotency-key": "pacer-r1" });
    fake.state.social(target.apiKey, target.profile, "facebook")!.restricted = false;
    const retry = () => fetch(`${fake.url}/api/uploadposts/posts/retry`, { method: "POST", headers: { ...auth(target.apiKey), "content-type": "application/json" }, body: JSON.stringify({ request_id: "pacer-r1" }) });
    expect((await retry()).status).toBe(200);
    await settle();
    expect(fake.posts(target)).toHaveLength(1);
    expect((await retry()).status).toBe(409);
  });

  it("serves a finished status answer as it was for 5 minutes, even after a retry re-ran the job (docs: terminal answers cached 5 minutes)", async () => {
    const target = { ...seeded(), platform: "facebook" };
    fake.restrict(target);
    await post(target.apiKey, textForm(target.profile, "facebook", "c", { request_id: "pacer-c1" }), { "idempotency-key": "pacer-c1" });
    await settle();
    const status = async () => (await (await get(target.apiKey, "/api/uploadposts/status?request_id=pacer-c1")).json()) as { status: string; results: Array<{ status: string }> };
    expect(await status()).toMatchObject({ status: "failed", results: [{ status: "failed" }] });
    fake.state.social(target.apiKey, target.profile, "facebook")!.restricted = false;
    const retried = await fetch(`${fake.url}/api/uploadposts/posts/retry`, { method: "POST", headers: { ...auth(target.apiKey), "content-type": "application/json" }, body: JSON.stringify({ request_id: "pacer-c1" }) });
    expect(retried.status).toBe(200);
    await settle();
    expect(fake.posts(target)).toHaveLength(1);
    // Posted, but status still shows the cached failure; post analytics (live) shows the post.
    expect(await status()).toMatchObject({ status: "failed", results: [{ status: "failed" }] });
    expect((await get(target.apiKey, "/api/uploadposts/post-analytics/pacer-c1?platform=facebook")).status).toBe(200);
    offset += 5 * 60_000;
    expect(await status()).toMatchObject({ status: "completed", results: [{ status: "completed" }] });
  });
});

describe("profiles and connecting (api/user-profiles, guides/user-profile-integration)", () => {
  it("creates a profile (201, 409 when it exists), lists and reads it, 404 for an unknown one", async () => {
    const { apiKey } = seeded({});
    const create = () => fetch(`${fake.url}/api/uploadposts/users`, { method: "POST", headers: { ...auth(apiKey), "content-type": "application/json" }, body: JSON.stringify({ username: "pacer_ws1" }) });
    const created = await create();
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ success: true, profile: { username: "pacer_ws1", social_accounts: {} } });
    expect((await create()).status).toBe(409);
    expect(await (await get(apiKey, "/api/uploadposts/users")).json()).toMatchObject({ success: true, limit: 10, profiles: expect.any(Array) });
    expect((await get(apiKey, "/api/uploadposts/users/nobody")).status).toBe(404);
  });

  it("a generate-jwt link opens the connect page once; connecting there adds the social account", async () => {
    const { apiKey, profile } = seeded({});
    const res = await fetch(`${fake.url}/api/uploadposts/users/generate-jwt`, {
      method: "POST",
      headers: { ...auth(apiKey), "content-type": "application/json" },
      body: JSON.stringify({ username: profile, redirect_url: "http://localhost:3000/accounts" }),
    });
    const { access_url, duration } = await res.json();
    expect(duration).toBe("48h");
    expect((await fetch(access_url)).status).toBe(200);
    const token = new URL(access_url).searchParams.get("token")!;
    const submit = () =>
      fetch(`${fake.url}/connect`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token, platform: "tiktok", handle_tiktok: "@dancer" }) });
    const back = await submit();
    expect(back.status).toBe(303);
    expect(back.headers.get("location")).toBe("http://localhost:3000/accounts");
    const read = await (await get(apiKey, `/api/uploadposts/users/${profile}`)).json();
    expect(read.profile.social_accounts.tiktok).toMatchObject({ username: "dancer" });
    expect((await submit()).status).toBe(410);
  });
});

describe("faults", () => {
  it("dropAnswerAfterCommit creates the job, then resets the connection", async () => {
    const target = { ...seeded(), platform: "facebook" };
    fake.dropAnswerAfterCommit(target);
    await expect(post(target.apiKey, textForm(target.profile, "facebook", "lost", { request_id: "pacer-lost" }), { "idempotency-key": "pacer-lost" })).rejects.toThrow();
    await settle();
    expect(fake.posts(target)).toHaveLength(1);
  });

  it("failNext answers the 5xx and creates nothing", async () => {
    const target = { ...seeded(), platform: "facebook" };
    fake.failNext(target, 502);
    expect((await post(target.apiKey, textForm(target.profile, "facebook", "no"))).status).toBe(502);
    await settle();
    expect(fake.posts(target)).toHaveLength(0);
  });

  it("random faults (the chaos test's mode): each upload meets at most one, at its share, replayed from the seed", async () => {
    // A key per run: 60 uploads stay inside the key's request rate and LinkedIn's daily cap.
    const run = async () => {
      const target = { ...seeded({ linkedin: "poster" }), platform: "linkedin" };
      fake.setRandomFaults({ shares: { error_before_commit: 0.25, drop_after_commit: 0.25 }, random: seededRandom(5), status: 503 });
      const answers: string[] = [];
      for (let i = 0; i < 60; i++) {
        const id = `pacer-roll-${n}-${i}`;
        answers.push(await post(target.apiKey, textForm(target.profile, "linkedin", `roll ${i}`, { request_id: id }), { "idempotency-key": id }).then((r) => String(r.status), () => "reset"));
      }
      const dice = fake.state.randomFaults!;
      fake.setRandomFaults(null);
      await settle();
      return { target, answers, dice };
    };
    const { target, answers, dice } = await run();
    expect(dice.requests).toBe(60);
    for (const k of [dice.fired.error_before_commit, dice.fired.drop_after_commit]) expect(k / 60).toBeGreaterThan(0.1);
    expect(answers.filter((a) => a === "503").length).toBe(dice.fired.error_before_commit);
    expect(answers.filter((a) => a === "reset").length).toBe(dice.fired.drop_after_commit);
    // A 5xx before the commit creates nothing; a dropped answer's post is made.
    expect(fake.posts(target)).toHaveLength(60 - dice.fired.error_before_commit);
    expect((await run()).answers).toEqual(answers);
  });
});
