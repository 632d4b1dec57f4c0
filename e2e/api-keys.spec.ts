// API keys end to end: make a key in the app (its secret shown once), call the API with it as a
// program would, revoke it, and the same call is refused; the API reference renders under the CSP.
import { expect as baseExpect, test, type Page } from "@playwright/test";

const expect = baseExpect.configure({ timeout: process.env.PACER_NEXT_MODE === "dev" ? 60_000 : 10_000 });

const password = "pacer-e2e-password";
const suffix = () => `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

async function signUp(page: Page, email: string) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}

/** CSP violations the page reports from now on. */
async function recordViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  await page.exposeFunction("pacerCspViolation", (line: string) => violations.push(line));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      (window as unknown as { pacerCspViolation: (l: string) => void }).pacerCspViolation(
        `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`,
      ),
    );
  });
  return violations;
}

test("a key made in the app calls the API until it is revoked; the API reference renders", async ({ page, playwright, baseURL }) => {
  test.setTimeout(120_000);
  const id = suffix();
  const handle = `keys_${id.replace(/\W/g, "_")}`;
  const violations = await recordViolations(page);
  // A program's HTTP client: no cookies, only the key.
  const program = await playwright.request.newContext({ baseURL });
  let secret = "";

  await test.step("a subscriber with an account makes a read-only key; it is shown once", async () => {
    await signUp(page, `keys-${id}@example.com`);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Accounts" }).click();
    // The page's data has loaded (so its form is live) before typing: a click before that was lost once.
    await expect(page.getByText("No social accounts yet.")).toBeVisible();
    await page.getByLabel("Handle").fill(handle);
    await page.getByRole("button", { name: "Add account" }).click();
    await expect(page.getByRole("table", { name: "Social accounts" })).toContainText(`@${handle}`);

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API keys" }).click();
    await expect(page.getByRole("heading", { name: "API keys", level: 1 })).toBeVisible();
    await expect(page.getByText("No API keys yet.")).toBeVisible();
    await page.getByRole("button", { name: "Make key" }).click();
    await expect(page.getByText("Name the key, e.g. the program that will use it.")).toBeVisible();
    await page.getByLabel("Name").fill("Reporting script");
    await page.getByRole("button", { name: "Make key" }).click();
    const shown = page.getByLabel("New API key");
    await expect(shown).toHaveValue(/^pk_[A-Za-z0-9_-]{43}$/);
    secret = await shown.inputValue();
    const row = page.getByRole("table", { name: "API keys" }).getByRole("row").filter({ hasText: "Reporting script" });
    await expect(row).toContainText(`${secret.slice(0, 11)}…`);
    await expect(row).toContainText("read");
    await expect(row).toContainText("active");
    await page.getByRole("button", { name: "I have copied it" }).click();
    await expect(page.getByLabel("New API key")).toHaveCount(0);
    // Shown once: nowhere on the page after that, nor in the list the page loads.
    await page.reload();
    await expect(page.getByRole("table", { name: "API keys" })).toContainText("Reporting script");
    expect(await page.content()).not.toContain(secret);
  });

  await test.step("a program reads with the key, and is refused a write its scope lacks", async () => {
    const accounts = await program.get("/api/accounts", { headers: { authorization: `Bearer ${secret}` } });
    expect(accounts.status()).toBe(200);
    expect(JSON.stringify(await accounts.json())).toContain(handle);
    const write = await program.post("/api/queue/add", {
      headers: { authorization: `Bearer ${secret}` },
      data: { text: "from a read key", accountIds: [] },
    });
    expect(write.status()).toBe(403);
    expect((await write.json()).error.code).toBe("insufficient_scope");
    // Last use shows on the page.
    await page.reload();
    const row = page.getByRole("table", { name: "API keys" }).getByRole("row").filter({ hasText: "Reporting script" });
    await expect(row.getByRole("cell").nth(4)).not.toHaveText("Never");
  });

  await test.step("revoked in the app, the key is refused", async () => {
    const row = page.getByRole("table", { name: "API keys" }).getByRole("row").filter({ hasText: "Reporting script" });
    await row.getByRole("button", { name: "Revoke" }).click();
    await row.getByRole("button", { name: "Revoke “Reporting script”" }).click();
    await expect(row).toContainText("revoked");
    const after = await program.get("/api/accounts", { headers: { authorization: `Bearer ${secret}` } });
    expect(after.status()).toBe(401);
    expect((await after.json()).error.code).toBe("api_key_revoked");
  });

  await test.step("the API reference, linked from the keys page, renders the OpenAPI document", async () => {
    await page.getByRole("link", { name: "API reference" }).click();
    await expect(page).toHaveURL(/\/dashboard\/api-reference$/);
    await expect(page.getByRole("heading", { name: "API reference", level: 1 })).toBeVisible();
    // Swagger UI's own rendering of the document: its title, and an operation with its path.
    await expect(page.locator(".swagger-ui .info .title")).toContainText("Pacer API");
    await expect(page.locator('.swagger-ui .opblock-summary-path[data-path="/api/queue/add"]')).toBeVisible();
    const doc = await program.get("/api/openapi.json");
    expect((await doc.json()).openapi).toBe("3.1.0");
  });

  expect(violations).toEqual([]);
  await program.dispose();
});
