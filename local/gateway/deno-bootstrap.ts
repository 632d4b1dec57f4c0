// Runs one Supabase edge function under plain Deno for local/gateway/functions.ts: makes the
// function's Deno.serve listen on a free 127.0.0.1 port, reports that port, then loads the function.
//
// Usage: deno run ... deno-bootstrap.ts <file URL of the function's index.ts>
// Runs under Deno, not Node: the declaration below only keeps the project's tsc quiet.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const Deno: any;
export {}; // a module: it uses top-level await

/** The line functions.ts waits for; everything else on stdout is the function's own output. */
const LISTENING = "__pacer_function_listening__";

type Handler = (req: Request, info: unknown) => Response | Promise<Response>;

const entry = Deno.args[0];
if (!entry) {
  console.error("deno-bootstrap: missing the function's module URL");
  Deno.exit(2);
}

// The gateway holds our stdin open; when it closes (gateway gone, even by a crash) we go too.
(async () => {
  for await (const _chunk of Deno.stdin.readable) {
    // nothing is ever sent
  }
  Deno.exit(0);
})();

const realServe = Deno.serve.bind(Deno);
let served = false;

// Supabase's edge runtime owns the socket and hands requests to whatever the function passes to
// Deno.serve; locally we do the same by forcing the address. Accepts every overload:
// serve(handler), serve(options, handler), serve({ ...options, handler }).
Deno.serve = (a: unknown, b?: unknown) => {
  const handler = (typeof a === "function" ? a : typeof b === "function" ? b : (a as { handler?: Handler })?.handler) as
    | Handler
    | undefined;
  const options = (typeof a === "object" && a !== null ? a : {}) as Record<string, unknown>;
  if (typeof handler !== "function") throw new TypeError("Deno.serve: no handler given");
  if (served) throw new Error("Deno.serve called twice: an edge function serves exactly one handler");
  served = true;
  // The runtime owns the address; TLS and unix sockets make no sense behind the gateway.
  const { onListen, cert: _cert, key: _key, path: _path, transport: _transport, ...rest } = options as {
    onListen?: (addr: unknown) => void;
    [option: string]: unknown;
  };
  return realServe({
    ...rest,
    hostname: "127.0.0.1",
    port: 0,
    handler,
    onListen(addr: { port: number }) {
      console.log(`${LISTENING} ${addr.port}`);
      onListen?.(addr);
    },
  });
};

try {
  const mod = await import(entry);
  // `export default { fetch }` is the other shape Supabase's runtime accepts.
  if (!served && typeof mod.default?.fetch === "function") {
    Deno.serve((req: Request, info: unknown) => mod.default.fetch(req, info));
  }
  if (!served) {
    console.error("deno-bootstrap: the function never called Deno.serve (nor exports default { fetch })");
    Deno.exit(1);
  }
} catch (error) {
  console.error("deno-bootstrap: the function failed to boot:");
  console.error(error);
  Deno.exit(1);
}
