// The README's screenshots (`npm run screenshots`): e2e/screenshots.ts against the same local stack
// as the browser tests (playwright.config.ts: its ports, fresh database and production build), but
// not part of `npm test` — the default config only runs *.spec.ts. Writes docs/images/*.png.
import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

export default defineConfig({
  ...base,
  testDir: "e2e",
  testMatch: "screenshots.ts",
  retries: 0,
  timeout: 300_000,
  // The production build alone can pass the browser tests' 5 minutes on a busy machine.
  webServer: { ...(base.webServer as object), timeout: 900_000 } as typeof base.webServer,
});
