// After sign-in, `?next=` may only lead to a page on Pacer's own origin: every way a browser
// could read it as another site ends on the dashboard instead.
import { describe, expect, it } from "vitest";
import { AFTER_SIGN_IN, safeNextPath } from "@/lib/auth/redirect";

const ORIGIN = "https://pacer.example";

/** Where a browser on ORIGIN ends up when the app navigates to `path`. */
const landsOn = (path: string) => new URL(path, ORIGIN).origin;

describe("the destination after signing in", () => {
  it.each([
    "/dashboard/queue",
    "/dashboard/accounts?workspaceId=3f1c&tab=2",
    "/dashboard#usage",
    "dashboard/billing",
    "/%2F%2Fevil.com",
    "https:evil.com",
  ])("keeps a path on Pacer's origin: %s", (next) => {
    const path = safeNextPath(next, ORIGIN);
    expect(path).toBe(new URL(next, ORIGIN).href.slice(ORIGIN.length));
    expect(landsOn(path)).toBe(ORIGIN);
  });

  it.each([
    "//evil.com",
    "///evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "/\t/evil.com",
    "/\n/evil.com",
    "/\r\n/evil.com",
    " //evil.com",
    "https://evil.com",
    "https://evil.com/dashboard",
    "HTTPS://EVIL.COM",
    "http://pacer.example/dashboard",
    "https://pacer.example.evil.com/",
    "https://pacer.example@evil.com/",
    "javascript:alert(document.domain)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.com/%2F..",
    // Dot-segments that collapse to "//evil.com" once resolved.
    "/.//evil.com",
    "/..//evil.com",
    "/a/..//evil.com",
    "/%2e//evil.com",
    "/./\\evil.com",
  ])("ignores a destination on another origin: %j", (next) => {
    expect(safeNextPath(next, ORIGIN)).toBe(AFTER_SIGN_IN);
  });

  it("reads `next` as the sign-in page receives it, decoded from the query string", () => {
    // `?next=/%09/evil.com` arrives as "/\t/evil.com"; a browser drops the tab and reads //evil.com.
    const next = new URL(`${ORIGIN}/sign-in?next=/%09/evil.com`).searchParams.get("next");
    expect(landsOn(next!)).toBe("https://evil.com");
    expect(safeNextPath(next, ORIGIN)).toBe(AFTER_SIGN_IN);
  });

  it("falls back to the dashboard without a destination", () => {
    expect(safeNextPath(undefined, ORIGIN)).toBe(AFTER_SIGN_IN);
    expect(safeNextPath("", ORIGIN)).toBe(AFTER_SIGN_IN);
  });
});
