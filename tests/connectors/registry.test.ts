// Which platforms an installation offers: the sandbox always, the real connectors only when the
// operator enables them (PACER_CONNECTORS), Upload-Post's platforms through Upload-Post.
import { describe, expect, it } from "vitest";
import { connectorFor, connectorKind, enabledConnectors, platformEnabled } from "../../lib/connectors/registry.ts";

describe("the connector registry", () => {
  it("offers the sandbox only, unless the operator enables a real connector", () => {
    expect(platformEnabled("sandbox", {})).toBe(true);
    for (const platform of ["mastodon", "bluesky", "tiktok", "reddit"]) expect(platformEnabled(platform, {})).toBe(false);
    expect(() => connectorFor("mastodon", {})).toThrow(/not enabled in this installation \(PACER_CONNECTORS\)/);
    const env = { PACER_CONNECTORS: "mastodon, Upload-Post" };
    expect(platformEnabled("mastodon", env)).toBe(true);
    expect(platformEnabled("bluesky", env)).toBe(false);
    expect(platformEnabled("tiktok", env)).toBe(true);
    expect(connectorFor("mastodon", env).platform).toBe("mastodon");
    expect(connectorFor("tiktok", env).platform).toBe("upload-post");
  });

  it("reaches TikTok, Instagram, Reddit… through Upload-Post, and knows no connector for an unknown platform", () => {
    expect(connectorKind("instagram")).toBe("upload-post");
    expect(connectorKind("bluesky")).toBe("bluesky");
    expect(connectorKind("myspace")).toBeNull();
    expect(() => connectorFor("myspace", { PACER_CONNECTORS: "mastodon,bluesky,upload-post" })).toThrow(/no connector for "myspace"/);
  });

  it("refuses a PACER_CONNECTORS entry it does not know, naming it", () => {
    expect(() => enabledConnectors({ PACER_CONNECTORS: "mastodon,twitter" })).toThrow(/"twitter".*mastodon, bluesky, upload-post/);
  });

  it("keeps one connector per configuration, so sessions and connections are reused", () => {
    const env = { PACER_CONNECTORS: "bluesky", PACER_ALLOWED_HOSTS: "127.0.0.1:1" };
    expect(connectorFor("bluesky", env)).toBe(connectorFor("bluesky", { ...env }));
    expect(connectorFor("bluesky", env)).not.toBe(connectorFor("bluesky", { ...env, PACER_ALLOWED_HOSTS: "127.0.0.1:2" }));
  });
});
