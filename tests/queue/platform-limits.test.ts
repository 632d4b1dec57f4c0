// Each platform's text limit as data (public.platforms.text_limit, text_unit), the same figures the
// connectors refuse by before sending, and the read the queue API returns: only the platforms this
// installation offers (PACER_CONNECTORS), with the workspace's own limits, never another's.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, makeUser, type Sql } from "../support/db";
import { listPlatformLimits } from "@/lib/queue/platform-limits";
import { checkAccounts } from "@/lib/queue/enqueue";
import { asUser } from "@/lib/db";
import { UPLOAD_POST_TEXT_LIMITS } from "@/lib/connectors/upload-post";
import { TEXT_MAX_GRAPHEMES } from "@/lib/connectors/bluesky/index";
import { DEFAULT_MAX_CHARACTERS } from "@/lib/connectors/mastodon/text";
import { UPLOAD_POST_PLATFORMS } from "@/lib/connectors/registry";

let sql: Sql;
beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());
const saved = process.env.PACER_CONNECTORS;
afterEach(() => {
  if (saved === undefined) delete process.env.PACER_CONNECTORS;
  else process.env.PACER_CONNECTORS = saved;
});

const claims = (id: string) => ({ sub: id, role: "authenticated" });

describe("the platforms' text limits", () => {
  it("are the limits the connectors enforce", async () => {
    const rows = await sql`select id, text_limit, text_unit from public.platforms`;
    const table = Object.fromEntries(rows.map((r) => [r.id, { limit: r.text_limit, unit: r.text_unit }]));
    expect(table.mastodon).toEqual({ limit: DEFAULT_MAX_CHARACTERS, unit: "graphemes" });
    expect(table.bluesky).toEqual({ limit: TEXT_MAX_GRAPHEMES, unit: "graphemes" });
    expect(table.sandbox).toEqual({ limit: 10_000, unit: "characters" });
    for (const platform of UPLOAD_POST_PLATFORMS) expect(table[platform], platform).toEqual({ limit: UPLOAD_POST_TEXT_LIMITS[platform], unit: "characters" });
  });

  it("keeps Upload-Post's daily caps where they are tighter than Pacer's defaults, and the defaults where those are", async () => {
    const rows = await sql`select platform, per_day from public.rate_limit_policies where action = 'post'`;
    const perDay = Object.fromEntries(rows.map((r) => [r.platform, r.per_day]));
    // Upload-Post: Instagram 50, TikTok 15, LinkedIn 150, YouTube 10, Facebook 25, X 10 (lowest plan), Threads 50, Pinterest 20, Reddit 40.
    expect(perDay).toMatchObject({ instagram: 15, tiktok: 10, linkedin: 50, youtube: 10, facebook: 25, x: 10, threads: 50, pinterest: 20, reddit: 10 });
    const [mastodon] = await sql`select per_hour from public.rate_limit_policies where platform = 'mastodon' and action = 'post'`;
    // 300 statuses per 3 h, a first comment being a second status: at most 150 items in 3 h.
    expect(mastodon.per_hour * 3 * 2).toBeLessThanOrEqual(300);
  });
});

describe("listPlatformLimits (what the queue API returns)", () => {
  it("lists only what this installation offers, with each text limit", async () => {
    const user = await makeUser(sql, "limits");
    delete process.env.PACER_CONNECTORS;
    expect((await listPlatformLimits(claims(user.id))).platforms.map((p) => p.platform)).toEqual(["sandbox"]);

    process.env.PACER_CONNECTORS = "mastodon,bluesky";
    const { workspaceId, platforms } = await listPlatformLimits(claims(user.id));
    expect(workspaceId).toBe(user.workspaceId);
    expect(platforms.map((p) => p.platform).sort()).toEqual(["bluesky", "mastodon", "sandbox"]);
    expect(platforms.find((p) => p.platform === "bluesky")).toMatchObject({ textLimit: 300, textUnit: "graphemes", perHour: 100, perDay: 1000 });

    process.env.PACER_CONNECTORS = "upload-post";
    const names = (await listPlatformLimits(claims(user.id))).platforms.map((p) => p.platform);
    expect(names).toEqual(expect.arrayContaining([...UPLOAD_POST_PLATFORMS]));
    expect(names).not.toContain("mastodon");
  });

  it("shows the workspace's tightened limits, and refuses a workspace the user is not in", async () => {
    const owner = await makeUser(sql, "limits-owner");
    const stranger = await makeUser(sql, "limits-stranger");
    await sql`insert into public.workspace_rate_limits (workspace_id, platform, action, per_hour) values (${owner.workspaceId}, 'sandbox', 'post', 7)`;
    const mine = await listPlatformLimits(claims(owner.id), owner.workspaceId);
    expect(mine.platforms.find((p) => p.platform === "sandbox")?.perHour).toBe(7);
    // Another workspace's id: as if it did not exist (no limits of theirs leak).
    await expect(listPlatformLimits(claims(stranger.id), owner.workspaceId)).rejects.toMatchObject({ status: 404 });
    const theirs = await listPlatformLimits(claims(stranger.id));
    expect(theirs.platforms.find((p) => p.platform === "sandbox")?.perHour).toBe(3600);
  });
});

describe("queueing to a platform the installation does not offer", () => {
  it("is refused by the server while PACER_CONNECTORS leaves the platform out, though the database knows its connector", async () => {
    const user = await makeUser(sql, "offered");
    const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name)
                          values (${user.workspaceId}, 'mastodon', 'offered_m', 'M') returning id`;
    const check = () => asUser(claims(user.id), (tx) => checkAccounts(tx, user.workspaceId, [{ path: "accountIds[0]", id: a.id }]));
    delete process.env.PACER_CONNECTORS;
    expect(await check()).toEqual([{ path: "accountIds[0]", message: "Pacer cannot publish to Mastodon yet." }]);
    process.env.PACER_CONNECTORS = "mastodon";
    expect(await check()).toEqual([]);
  });
});
