// GET /api/platforms/limits: each offered platform's text limit and how it is counted, for the composer.
import { beforeAll, describe, expect, it } from "vitest";
import * as limitsRoute from "@/app/api/platforms/limits/route";
import { signUp, type TestUser } from "../support/users";
import { call } from "./support";

let user: TestUser;
beforeAll(async () => {
  user = await signUp("limits-route");
});

describe("GET /api/platforms/limits", () => {
  it("lists the offered platforms with their text limits, counted units and posting limits", async () => {
    const res = await call(limitsRoute.GET, user, "/api/platforms/limits");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.workspaceId).toMatch(/^[0-9a-f-]{36}$/);
    const byId = new Map(body.platforms.map((p: { platform: string }) => [p.platform, p]));
    expect(byId.get("bluesky")).toMatchObject({ name: "Bluesky", textLimit: 300, textUnit: "graphemes" });
    expect(byId.get("mastodon")).toMatchObject({ name: "Mastodon", textLimit: 500 });
    expect(byId.get("sandbox")).toMatchObject({ platform: "sandbox", perHour: expect.any(Number) });
  });

  it("answers 401 without a session, and 404 for a workspace the user is not in", async () => {
    expect((await call(limitsRoute.GET, null, "/api/platforms/limits")).status).toBe(401);
    const other = await call(limitsRoute.GET, user, `/api/platforms/limits?workspaceId=${crypto.randomUUID()}`);
    expect(other.status).toBe(404);
  });
});
