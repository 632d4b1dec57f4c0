// How a publish leaves the process: at most once per call, in every runtime Pacer ships. Reads
// (lookups, metrics) keep the runtime's pooled fetch; only non-idempotent calls need this.
//
// Deno's fetch re-sends a request once, on a new connection, when a connection that came from its
// keep-alive pool fails after the server read the request (denoland/deno#35610; since #36415 the
// retry is limited to pooled connections, and node:http under Deno does the same, #36786). A
// publish therefore goes through a client that keeps no idle connection and speaks HTTP/1.1 only
// (no multiplexing onto a sibling's connection): every publish opens its own connection, which
// never counts as pooled, so it is never retried. Node's fetch (undici) sends a POST once.

/** The part of the Deno namespace this file uses; present only under Deno (and Supabase's edge runtime). */
interface DenoHttp {
  createHttpClient?: (options: { poolMaxIdlePerHost?: number; http1?: boolean; http2?: boolean }) => unknown;
}

let denoSingleSend: typeof fetch | undefined;

/** A fetch that sends each request at most once (no transparent re-send by the HTTP layer). */
export function singleSendFetch(): typeof fetch {
  const deno = (globalThis as { Deno?: DenoHttp }).Deno;
  if (!deno) return fetch;
  if (denoSingleSend) return denoSingleSend;
  if (typeof deno.createHttpClient !== "function") {
    // Refuse rather than risk a duplicate post: the pooled fetch may send a publish twice.
    throw new Error(
      "This Deno runtime has no Deno.createHttpClient, so a publish could be re-sent by fetch on a reused connection; " +
        "Pacer will not publish from it. Use Deno 2 or a Supabase edge runtime that exposes it (supabase/edge-runtime#515), or run `npm run worker` on Node.",
    );
  }
  const client = deno.createHttpClient({ poolMaxIdlePerHost: 0, http1: true, http2: false });
  denoSingleSend = (input, init) => fetch(input, { ...init, client } as RequestInit);
  return denoSingleSend;
}
