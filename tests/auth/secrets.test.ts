// The cron secret's comparison: equal secrets match, anything else (a prefix, a longer string, a
// different case, nothing) does not, and an unset secret never matches.
import { describe, expect, it } from "vitest";
import { bearerMatches, secretsMatch } from "@/lib/auth/secrets";

describe("comparing secrets", () => {
  const secret = "c2VjcmV0LXRoYXQtaXMtbG9uZy1lbm91Z2gtdG8tbWF0dGVy";

  it("matches the same secret", async () => {
    expect(await secretsMatch(secret, secret)).toBe(true);
    expect(await bearerMatches(`Bearer ${secret}`, secret)).toBe(true);
  });

  it.each([
    ["a prefix", secret.slice(0, -1)],
    ["a longer string", `${secret}x`],
    ["another case", secret.toUpperCase()],
    ["the empty string", ""],
  ])("refuses %s", async (_what, presented) => {
    expect(await secretsMatch(presented, secret)).toBe(false);
    expect(await bearerMatches(`Bearer ${presented}`, secret)).toBe(false);
  });

  it("refuses everything when no secret is configured, even an empty bearer", async () => {
    expect(await bearerMatches("Bearer ", "")).toBe(false);
    expect(await bearerMatches("Bearer undefined", undefined)).toBe(false);
    expect(await bearerMatches(null, undefined)).toBe(false);
  });

  it("refuses a missing header or another scheme", async () => {
    expect(await bearerMatches(null, secret)).toBe(false);
    expect(await bearerMatches(secret, secret)).toBe(false);
  });
});
