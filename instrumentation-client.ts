// Runs in the browser before any of the app's own modules (Next's instrumentation-client convention:
// after Next's runtime loads, before hydration, before a page's client components are evaluated).
//
// zod probes `new Function("")` when it builds its first object schema, to decide whether to compile
// its parsers. Pacer's CSP has no 'unsafe-eval', so the browser refuses the probe and reports a
// violation on every page whose client code builds a schema (the composer, the queue, forms). Jitless
// skips the probe; it must be set before the first schema is built, which is why it lives here and not
// in a component (a page's modules may be evaluated before a layout's). The server keeps the JIT.
import { z } from "zod";

z.config({ jitless: true });
