// zod probes `Function("")` when it builds its first object schema, to decide whether to compile its
// parsers; Pacer's CSP has no 'unsafe-eval', so the browser refuses the probe and reports a violation.
// Jitless skips the probe. Imported first by the page, before any module that builds a schema.
import { z } from "zod";

z.config({ jitless: true });
