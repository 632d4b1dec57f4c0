// Which ways to connect an account the installation offers: the operator's PACER_CONNECTORS, the sandbox always.
import { describe, expect, it } from "vitest";
import * as platformsRoute from "@/app/api/accounts/platforms/route";
import * as accountsRoute from "@/app/api/accounts/route";
import { offeredConnections } from "@/lib/accounts/offered";
import { signUp } from "../support/users";

const get = (token?: string) =>
  platformsRoute.GET(new Request("http://127.0.0.1:3000/api/accounts/platforms", { headers: token ? { authorization: `Bearer ${token}` } : {} }), undefined);

describe("the ways to connect an account", () => {
  it("offers only the sandbox when the operator enabled no connector", () => {
    expect(offeredConnections({})).toEqual(["sandbox"]);
    expect(offeredConnections({ PACER_CONNECTORS: "bluesky" })).toEqual(["sandbox", "bluesky"]);
  });

  it("answers what the local stack enables, to signed-in users only", async () => {
    expect((await get()).status).toBe(401);
    const user = await signUp("offered");
    const res = await get(user.accessToken);
    expect(await res.json()).toEqual({ offered: ["sandbox", "mastodon", "bluesky", "upload-post"] });
  });

  it("refuses a Bluesky account when the installation does not offer Bluesky, and sends Mastodon to its sign-in", async () => {
    const user = await signUp("not-offered");
    const add = (body: unknown) =>
      accountsRoute.POST(
        new Request("http://127.0.0.1:3000/api/accounts", {
          method: "POST",
          headers: { authorization: `Bearer ${user.accessToken}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
        undefined,
      );
    const mastodon = await add({ platform: "mastodon", handle: "someone", credentials: {} });
    expect(mastodon.status).toBe(400);
    expect((await mastodon.json()).error.code).toBe("connect_via_sign_in");

    const enabled = process.env.PACER_CONNECTORS;
    process.env.PACER_CONNECTORS = "mastodon";
    try {
      const res = await add({ platform: "bluesky", handle: "someone.bsky.test", credentials: { appPassword: "aaaa-bbbb-cccc-dddd" } });
      expect(res.status).toBe(400);
      expect((await res.json()).error.code).toBe("platform_unavailable");
    } finally {
      process.env.PACER_CONNECTORS = enabled;
    }
  });
});
