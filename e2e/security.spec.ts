// What a browser gets from Pacer's security headers: a nonce-based CSP that Next's own scripts satisfy
// (no violation while signing up and using the dashboard, nor from zod on pages with forms: its eval
// probe is off app-wide, instrumentation-client.ts), no framing, no sniffing, a trimmed
// referrer; and `?next=` after sign-in that cannot lead off the site.
import { expect, test, type Page, type Response } from "@playwright/test";

const password = "pacer-e2e-password";
const uniqueEmail = (label: string) => `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;

/** Every CSP violation the page reports, from the moment this is called. */
async function recordViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  await page.exposeFunction("pacerCspViolation", (line: string) => violations.push(line));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      (window as unknown as { pacerCspViolation: (l: string) => void }).pacerCspViolation(
        `${e.violatedDirective} blocked ${e.blockedURI || "inline"} on ${location.pathname}`,
      ),
    );
  });
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  return violations;
}

/**
 * Every `new Function("")` the page's scripts make: zod's probe for whether it may compile parsers.
 * Under `next dev` the CSP allows eval (React needs it there), so the browser would report nothing;
 * counting the probe itself makes the check hold in both modes.
 */
async function recordEvalProbes(page: Page): Promise<string[]> {
  const probes: string[] = [];
  await page.exposeFunction("pacerEvalProbe", (path: string) => probes.push(`new Function("") on ${path}`));
  await page.addInitScript(() => {
    const report = (window as unknown as { pacerEvalProbe: (p: string) => void }).pacerEvalProbe;
    globalThis.Function = new Proxy(Function, {
      construct(target, args, newTarget) {
        if (args.every((a) => a === "")) void report(location.pathname);
        return Reflect.construct(target, args, newTarget);
      },
    });
  });
  return probes;
}

function expectSecurityHeaders(response: Response | null) {
  const headers = response!.headers();
  const csp = headers["content-security-policy"];
  expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("object-src 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  expect(headers["x-frame-options"]).toBe("DENY");
  return csp;
}

test("pages carry the security headers, Next's scripts run under the CSP, and nothing is blocked", async ({ page, request }) => {
  const violations = await recordViolations(page);

  const signIn = await page.goto("/sign-in");
  const firstCsp = expectSecurityHeaders(signIn);
  const nonce = /'nonce-([^']+)'/.exec(firstCsp)![1];
  // Next put this request's nonce on its own scripts.
  expect(await page.locator(`script[nonce]`).count()).toBeGreaterThan(0);
  expect(await page.locator("script[src]").evaluateAll((s) => s.map((e) => (e as HTMLScriptElement).nonce))).toContain(nonce);
  // A fresh nonce per request.
  const again = await request.get("/sign-in");
  expect(again.headers()["content-security-policy"]).not.toBe(firstCsp);

  // Hydrated and working under the policy: signing up (supabase-js talks to Auth) lands on the dashboard.
  await page.getByRole("link", { name: "Sign up" }).click();
  // Both pages have an Email field: fill the sign-up form only once the client navigation has shown it.
  await expect(page).toHaveURL(/\/sign-up$/);
  await expect(page.getByRole("button", { name: "Create account" })).toBeVisible();
  await page.getByLabel("Email").fill(uniqueEmail("csp"));
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  for (const path of ["/dashboard/accounts", "/dashboard/queue", "/dashboard/billing"]) {
    expectSecurityHeaders(await page.goto(path));
    await expect(page.getByTestId("signed-in-email")).toBeVisible();
  }

  // The API answers with them too.
  const api = await page.request.get("/api/accounts");
  expect(api.headers()["x-content-type-options"]).toBe("nosniff");
  expect(api.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");

  expect(violations).toEqual([]);
});

test("pages with forms build their zod schemas without eval: no CSP violation, no probe", async ({ page }) => {
  // `next dev` compiles each page on first use: minutes on a busy machine.
  const dev = process.env.PACER_NEXT_MODE === "dev";
  test.setTimeout(dev ? 900_000 : 60_000);
  const wait = { timeout: dev ? 180_000 : 10_000 };
  const violations = await recordViolations(page);
  const probes = await recordEvalProbes(page);

  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(uniqueEmail("jitless"));
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/, wait);
  // Loaded fresh, each page's own modules build its schemas (the composer's and the queue's forms
  // share lib/queue/input.ts; the API keys page has its own). The page's own request for its data
  // says its client code has run (the server-rendered markup shows before it does).
  for (const [path, data] of [
    ["/dashboard/compose", "/api/drafts"],
    ["/dashboard/queue", "/api/queue/status"],
    ["/dashboard/api-keys", "/api/keys"],
  ] as const) {
    const fetched = page.waitForResponse((r) => new URL(r.url()).pathname === data, wait);
    await page.goto(path, wait);
    await fetched;
  }

  expect(probes).toEqual([]);
  expect(violations).toEqual([]);
});

test("after signing in, ?next= pointing off the site lands on the dashboard instead", async ({ page }) => {
  const email = uniqueEmail("next");
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);

  const origin = new URL(page.url()).origin;
  for (const next of ["/%09/example.com", "//example.com", "/%5Cexample.com", "https://example.com/"]) {
    await page.goto(`/sign-in?next=${next}`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(`${origin}/dashboard`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/sign-in$/);
  }

  // A destination on the site is still honoured.
  await page.goto(`/sign-in?next=${encodeURIComponent("/dashboard/queue")}`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${origin}/dashboard/queue`);
});
