// Where Pacer's servers may send a connector's requests: only to public addresses, checked after
// DNS resolution, unless the operator allows the host (PACER_ALLOWED_HOSTS, how the local stack
// reaches its loopback sandbox). Redirects are never followed and replies are read up to a cap.
// Runtime-agnostic: Node and Deno. What is pinned where:
// - Node (its fetch is undici): the address checked is the address connected to, because the check
//   runs inside the connection's own DNS lookup (an undici Agent with `connect.lookup`).
// - Deno (the Edge Function), or any fetch passed in that ignores `dispatcher`: the name is resolved
//   and checked just before the request, and the runtime resolves it again to connect. A name whose
//   DNS answer flips between the two (rebinding with a zero TTL) is not caught there.

/** The most of a platform's reply a connector reads: a real API answer is a few KiB. */
export const MAX_REPLY_BYTES = 1024 * 1024;

/** Hosts the operator allows: `host` (any port) or `host:port`, lower case, IPv6 in brackets. */
export type AllowedHosts = ReadonlySet<string>;

/** Thrown instead of sending a request to an address Pacer refuses; nothing left the process. */
export class BlockedDestination extends Error {
  readonly code = "PACER_BLOCKED_DESTINATION";
  /** `resolved`: refused for the address its name resolved to (so saying so would tell the name exists). */
  constructor(
    message: string,
    readonly resolved = false,
  ) {
    super(message);
    this.name = "BlockedDestination";
  }
}

/** Thrown when the request could not be sent (its name did not resolve, or its time ran out first). */
export class NotSent extends Error {
  readonly code = "PACER_NOT_SENT";
  constructor(message: string) {
    super(message);
    this.name = "NotSent";
  }
}

/** PACER_ALLOWED_HOSTS: a comma- or space-separated list of `host` or `host:port`. */
export function parseAllowedHosts(value: string | readonly string[] | undefined): AllowedHosts {
  const entries = typeof value === "string" ? value.split(/[\s,]+/) : (value ?? []);
  const hosts = new Set<string>();
  for (const entry of entries.map((e) => e.trim()).filter(Boolean)) {
    let url: URL;
    try {
      url = new URL(`http://${entry}`);
    } catch {
      throw new Error(`PACER_ALLOWED_HOSTS: "${entry}" is not a host or host:port.`);
    }
    // `new URL` drops the default port, so "example.com:80" still names a port here.
    const port = url.port || (/:\d+$/.test(entry) ? entry.slice(entry.lastIndexOf(":") + 1) : "");
    hosts.add(port ? `${url.hostname}:${port}` : url.hostname);
  }
  return hosts;
}

const NAMES_REFUSED = new Set(["metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"]);

/** Why an IP address is not a public one ("a loopback address"), or null when it is public. */
export function internalAddressReason(ip: string): string | null {
  const v4 = parseIPv4(ip);
  if (v4 !== null) return ipv4Reason(v4);
  const v6 = parseIPv6(ip);
  if (v6 === null) return "not an IP address";
  return ipv6Reason(v6);
}

function ipv4Reason(a: number): string | null {
  const inRange = (base: string, bits: number) => bits === 0 || a >>> (32 - bits) === parseIPv4(base)! >>> (32 - bits);
  if (a === 0xa9fea9fe) return "the cloud metadata address";
  if (inRange("0.0.0.0", 8)) return "an unspecified address";
  if (inRange("127.0.0.0", 8)) return "a loopback address";
  if (inRange("10.0.0.0", 8) || inRange("172.16.0.0", 12) || inRange("192.168.0.0", 16)) return "a private address";
  if (inRange("100.64.0.0", 10)) return "a carrier-grade NAT address";
  if (inRange("169.254.0.0", 16)) return "a link-local address";
  if (inRange("192.0.0.0", 24) || inRange("198.18.0.0", 15)) return "a reserved address";
  // Documentation (RFC 5737) and the deprecated 6to4 relay anycast (RFC 7526): no platform lives there.
  if (inRange("192.0.2.0", 24) || inRange("198.51.100.0", 24) || inRange("203.0.113.0", 24)) return "a documentation address";
  if (inRange("192.88.99.0", 24)) return "a reserved address";
  if (inRange("224.0.0.0", 4)) return "a multicast address";
  if (inRange("240.0.0.0", 4)) return "a reserved address";
  return null;
}

function ipv6Reason(g: number[]): string | null {
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  const embedded = () => ((g[6] << 16) | g[7]) >>> 0;
  if (zeros(8)) return "an unspecified address";
  if (zeros(7) && g[7] === 1) return "a loopback address";
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d, RFC 2765), IPv4-compatible
  // (::a.b.c.d) and the well-known NAT64 prefix (64:ff9b::a.b.c.d, RFC 6052) reach an IPv4 address.
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0);
  const translated = zeros(4) && g[4] === 0xffff && g[5] === 0;
  if ((zeros(5) && g[5] === 0xffff) || translated || zeros(6) || nat64) {
    return ipv4Reason(embedded());
  }
  // A network's own NAT64 prefix (64:ff9b:1::/48, RFC 8215) puts the IPv4 address where that
  // network's prefix length says, so no embedded address can be read as public: refuse all of it.
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return "a local-use NAT64 address";
  if (g[0] === 0xfd00 && g[1] === 0x0ec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) return "the cloud metadata address";
  if ((g[0] & 0xfe00) === 0xfc00) return "a private (unique local) address";
  if ((g[0] & 0xffc0) === 0xfe80 || (g[0] & 0xffc0) === 0xfec0) return "a link-local address";
  if ((g[0] & 0xff00) === 0xff00) return "a multicast address";
  // Only 2000::/3 is global unicast; everything else (discard-only 100::/64, the dummy prefix
  // 100:0:0:1::/64, SRv6 SIDs 5f00::/16, the unassigned rest) is reserved by the IETF.
  if ((g[0] & 0xe000) !== 0x2000) return "a reserved address";
  // IETF protocol assignments (Teredo, which hides an IPv4 client address, benchmarking, ORCHID):
  // not where any platform is served from.
  if (g[0] === 0x2001 && g[1] < 0x0200) return "a reserved address";
  // Documentation: 2001:db8::/32 (RFC 3849) and 3fff::/20 (RFC 9637).
  if ((g[0] === 0x2001 && g[1] === 0x0db8) || (g[0] === 0x3fff && g[1] < 0x1000)) return "a documentation address";
  if (g[0] === 0x2002) return ipv4Reason(((g[1] << 16) | g[2]) >>> 0); // 6to4 carries an IPv4 address
  return null;
}

/**
 * An IPv4 literal as a 32-bit number, in every form inet_aton accepts (decimal `2130706433`,
 * octal `0177.0.0.1`, hex `0x7f.1`), or null. URLs normalise these already; names given to a
 * resolver directly might not.
 */
export function parseIPv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length < 1 || parts.length > 4) return null;
  const nums: number[] = [];
  for (const part of parts) {
    let n: number;
    if (/^0x[0-9a-f]*$/i.test(part)) n = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
    else if (/^0[0-7]*$/.test(part)) n = part.length === 1 ? 0 : parseInt(part.slice(1), 8);
    else if (/^[1-9][0-9]*$/.test(part)) n = Number(part);
    else return null;
    nums.push(n);
  }
  const last = nums.pop()!;
  if (nums.some((n) => n > 255) || last >= 256 ** (4 - nums.length)) return null;
  return nums.reduce((acc, n, i) => acc + n * 256 ** (3 - i), 0) + last;
}

/** An IPv6 literal (brackets and zone allowed) as eight 16-bit groups, or null. */
export function parseIPv6(text: string): number[] | null {
  let s = text.replace(/^\[|\]$/g, "").replace(/%.*$/, "").toLowerCase();
  if (!s.includes(":")) return null;
  const tail = s.match(/:(\d+\.\d+\.\d+\.\d+)$/);
  if (tail) {
    const v4 = parseIPv4(tail[1]);
    if (v4 === null || !/^\d+\.\d+\.\d+\.\d+$/.test(tail[1])) return null;
    s = `${s.slice(0, -tail[1].length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const read = (h: string) => (h === "" ? [] : h.split(":"));
  const head = read(halves[0]);
  const rest = halves.length === 2 ? read(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  if (groups.some((x) => !/^[0-9a-f]{1,4}$/.test(x))) return null;
  return groups.map((x) => parseInt(x, 16));
}

const isIpLiteral = (host: string) => parseIPv6(host) !== null || (/^[0-9a-fx.]+$/i.test(host) && parseIPv4(host) !== null);

export interface Resolved {
  address: string;
  family: number;
}
type Resolver = (host: string) => Promise<Resolved[]>;

let resolver: Promise<Resolver> | undefined;

/**
 * The resolver the runtime connects with. node:dns `lookup` (getaddrinfo, /etc/hosts included) in
 * Node and in Deno (which implements node:dns); Deno.resolveDns, which skips /etc/hosts, only if
 * node:dns is missing.
 */
function systemResolver(): Promise<Resolver> {
  resolver ??= import("node:dns").then(
    (dns) => (host: string) => dns.promises.lookup(host, { all: true, verbatim: true }),
    () => {
      const deno = (globalThis as { Deno?: { resolveDns(host: string, type: "A" | "AAAA"): Promise<string[]> } }).Deno;
      if (!deno) throw new Error("No DNS resolver in this runtime.");
      return async (host: string) => {
        const [a, aaaa] = await Promise.all([deno.resolveDns(host, "A").catch(() => []), deno.resolveDns(host, "AAAA").catch(() => [])]);
        if (a.length + aaaa.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
        return [...a.map((address) => ({ address, family: 4 })), ...aaaa.map((address) => ({ address, family: 6 }))];
      };
    },
  );
  return resolver;
}

export interface DestinationCheck {
  /** The operator allows this host: nothing was checked. */
  allowed: boolean;
  /** The addresses it resolved to, every one public (empty when allowed). */
  addresses: Resolved[];
}

/**
 * Refuses (throws BlockedDestination) a URL that is not http(s) or whose host is, or resolves to,
 * an internal address, unless the operator allows the host. A name that does not resolve throws
 * the resolver's error (ENOTFOUND), which connectors read as "never sent".
 */
export async function checkDestination(target: string | URL, allowedHosts: AllowedHosts, resolve?: Resolver): Promise<DestinationCheck> {
  const url = new URL(target);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new BlockedDestination(`Pacer only sends http(s) requests to platforms, not ${url.protocol} (${url.href}).`);
  }
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  if (allowedHosts.has(host) || allowedHosts.has(`${host}:${port}`)) return { allowed: true, addresses: [] };
  const refuse = (what: string, resolved = false) =>
    new BlockedDestination(
      `Pacer does not send requests to ${host}${what}; an operator who runs this platform on an internal address can allow it with PACER_ALLOWED_HOSTS=${host}:${port}.`,
      resolved,
    );
  if (NAMES_REFUSED.has(host)) throw refuse(" (a cloud metadata name)");
  if (isIpLiteral(host)) {
    const reason = internalAddressReason(host.replace(/^\[|\]$/g, ""));
    if (reason) throw refuse(` (${reason})`);
    return { allowed: false, addresses: [{ address: host, family: host.includes(":") ? 6 : 4 }] };
  }
  const addresses = await (resolve ?? (await systemResolver()))(host);
  for (const { address } of addresses) {
    const reason = internalAddressReason(address);
    if (reason) throw refuse(`: it resolves to ${address} (${reason})`, true);
  }
  return { allowed: false, addresses };
}

/**
 * Wraps a fetch so that every request first passes `checkDestination`, follows no redirect
 * (`redirect: "manual"`: a 3xx comes back as the answer), and under Node connects only to the
 * addresses its own lookup checked. Composes with any fetch passed in (a runtime's own client).
 */
export function guardedFetch(fetchImpl: typeof fetch, allowedHosts: AllowedHosts): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const href = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    let check: DestinationCheck;
    try {
      check = await checkDestination(href, allowedHosts);
    } catch (error) {
      if (error instanceof BlockedDestination) throw error;
      throw new NotSent(`could not resolve the platform's address (${href.slice(0, 200)}): ${(error as Error).message}`);
    }
    // The engine's deadline may pass while resolving: nothing has left the process yet.
    if (init.signal?.aborted) throw new NotSent("the call's time ran out while resolving the platform's address");
    const pinned = check.allowed || "dispatcher" in init ? {} : await pinnedDispatcher();
    return fetchImpl(input, { ...init, ...pinned, redirect: "manual" });
  }) as typeof fetch;
}

let pinning: Promise<{ dispatcher?: unknown }> | undefined;

/**
 * Node only: an undici Agent (the class behind Node's own fetch, so the two always match) whose
 * connections resolve names through a lookup that refuses internal addresses. Elsewhere: nothing.
 */
export function pinnedDispatcher(): Promise<{ dispatcher?: unknown }> {
  pinning ??= (async () => {
    const g = globalThis as Record<string | symbol, unknown>;
    if ("Deno" in g || typeof g.process !== "object") return {};
    // Node installs its global undici Agent on first use of fetch; a data: URL costs no I/O.
    const key = Symbol.for("undici.globalDispatcher.1");
    if (!g[key]) await fetch("data:,").catch(() => {});
    const Agent = (g[key] as { constructor?: new (options: unknown) => unknown } | undefined)?.constructor;
    if (typeof Agent !== "function") return {};
    const dns = await import("node:dns");
    type Address = { address: string; family: number };
    const lookup = (hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      dns.lookup(hostname, { ...options, all: true }, (error, addresses: Address[]) => {
        if (error) return callback(error);
        for (const { address } of addresses) {
          const reason = internalAddressReason(address);
          if (reason) return callback(new BlockedDestination(`Pacer does not send requests to ${hostname}: it resolves to ${address} (${reason}).`, true));
        }
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      });
    };
    return { dispatcher: new Agent({ connect: { lookup } }) };
  })();
  return pinning;
}

/**
 * A reply's body as text, reading at most `limit` bytes: past it the stream is cancelled and the
 * answer is undefined (as unreadable as a cut-off body), so a platform cannot make Pacer buffer
 * without end.
 */
export async function readCapped(response: Response, limit = MAX_REPLY_BYTES): Promise<string | undefined> {
  if (Number(response.headers.get("content-length") ?? 0) > limit) {
    await response.body?.cancel().catch(() => {});
    return undefined;
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
