// The outbound guard (lib/connectors/outbound.ts, used by every connector and every webhook send)
// against the IANA special-purpose address registries: every block that is not globally reachable,
// or that hands the address to a translator or relay of someone else's choosing, is refused.
// Checked against iana-ipv4-special-registry and iana-ipv6-special-registry (both as of 2026-11).
import { describe, expect, it } from "vitest";
import { checkDestination, internalAddressReason, parseAllowedHosts } from "@/lib/connectors/outbound";

describe("special-purpose IPv4 blocks", () => {
  it.each([
    ["192.0.2.10", "TEST-NET-1, RFC 5737"],
    ["198.51.100.7", "TEST-NET-2, RFC 5737"],
    ["203.0.113.200", "TEST-NET-3, RFC 5737"],
    ["192.88.99.1", "6to4 relay anycast, deprecated by RFC 7526"],
    ["192.0.0.170", "NAT64/DNS64 discovery, RFC 8880"],
    ["255.255.255.255", "limited broadcast"],
  ])("%s is refused (%s)", (ip) => {
    expect(internalAddressReason(ip)).not.toBeNull();
  });

  // Globally reachable per the registry: a platform could in principle be served from them.
  it.each(["192.31.196.1", "192.52.193.1", "192.175.48.1", "8.8.8.8", "198.20.0.1", "203.0.114.1"])("%s stays public", (ip) => {
    expect(internalAddressReason(ip)).toBeNull();
  });
});

describe("NAT64 and other IPv6 forms that reach an IPv4 address", () => {
  it.each([
    ["64:ff9b::127.0.0.1", "loopback"],
    ["64:ff9b::a9fe:a9fe", "metadata"],
    ["64:ff9b::192.168.1.1", "private"],
    ["64:ff9b::100.64.0.1", "carrier-grade NAT"],
  ])("the well-known NAT64 prefix 64:ff9b::/96 embedding %s is refused as %s", (ip, reason) => {
    expect(internalAddressReason(ip)).toContain(reason);
  });

  it("lets the well-known NAT64 prefix reach a public IPv4 address (a real IPv6-only network)", () => {
    expect(internalAddressReason("64:ff9b::8.8.8.8")).toBeNull();
  });

  // RFC 8215: a network's own NAT64 prefix. Where it puts the IPv4 address depends on the prefix
  // length the operator chose, so no embedded address can be trusted to be public: refuse it all.
  it.each(["64:ff9b:1::8.8.8.8", "64:ff9b:1::7f00:1", "64:ff9b:1:a00:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff"])(
    "refuses the local-use NAT64 prefix 64:ff9b:1::/48 (%s)",
    (ip) => {
      expect(internalAddressReason(ip)).not.toBeNull();
    },
  );

  it("refuses the rest of 64:ff9b::/16 too: it is outside global unicast (2000::/3)", () => {
    expect(internalAddressReason("64:ff9b:2::1")).toMatch(/reserved/);
  });

  it.each([
    ["::ffff:0:127.0.0.1", "loopback"], // IPv4-translated (RFC 2765 SIIT)
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"],
  ])("%s is refused (%s)", (ip) => {
    expect(internalAddressReason(ip)).not.toBeNull();
  });
});

describe("special-purpose IPv6 blocks", () => {
  it.each([
    ["100::1", "discard-only, RFC 6666"],
    ["100:0:0:1::1", "dummy prefix, RFC 9780"],
    ["2001:2::1", "benchmarking, RFC 5180"],
    ["2001:10::1", "ORCHID, deprecated"],
    ["2001:db8::1", "documentation, RFC 3849"],
    ["3fff::1", "documentation, RFC 9637"],
    ["3fff:fff:ffff::1", "documentation, RFC 9637"],
    ["5f00::1", "SRv6 SIDs, RFC 9602"],
    ["4000::1", "outside global unicast 2000::/3"],
    ["fec0::1", "site-local, deprecated"],
  ])("%s is refused (%s)", (ip) => {
    expect(internalAddressReason(ip)).not.toBeNull();
  });

  it.each(["2606:4700::1111", "2a00:1450:4001::200e", "2001:4860:4860::8888", "2001:200::1", "3ffe::1", "2002:808:808::1"])(
    "%s stays public",
    (ip) => {
      expect(internalAddressReason(ip)).toBeNull();
    },
  );
});

describe("at send time", () => {
  it("refuses a name that resolves to the local-use NAT64 prefix, and a URL naming it directly", async () => {
    const none = parseAllowedHosts(undefined);
    const nat64 = async () => [{ address: "64:ff9b:1::a00:1", family: 6 }];
    await expect(checkDestination("https://hooks.example.test/in", none, nat64)).rejects.toThrow(/64:ff9b:1::a00:1/);
    await expect(checkDestination("https://[64:ff9b:1::a00:1]/in", none, nat64)).rejects.toMatchObject({ code: "PACER_BLOCKED_DESTINATION" });
  });
});
