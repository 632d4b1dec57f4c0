// A subscriber's first visit: sign up, connect a sandbox account within the plan, rename it, remove it, sign out.
import { expect, test, type Page } from "@playwright/test";

// A tab of Pacer calling its API sends its Origin; a cookie-authenticated change without one is refused.
const sameOrigin = (page: Page) => ({ origin: new URL(page.url()).origin });

const password = "pacer-e2e-password";

function uniqueEmail() {
  return `subscriber-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

async function signUp(page: Page, email: string) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}

test("a new subscriber connects a sandbox account, renames it and removes it, with usage counted against the plan", async ({
  page,
}) => {
  const email = uniqueEmail();
  const usage = page.getByTestId("usage-summary");
  const meter = page.getByRole("meter", { name: "Social accounts used" });
  const accounts = page.getByRole("table", { name: "Social accounts" });
  // Handles are the sandbox's account names, shared by every test (and retry) against this stack.
  const demo = `pacer_demo_${Math.random().toString(36).slice(2, 8)}`;
  const demoRow = accounts.getByRole("row").filter({ hasText: `@${demo}` });

  await test.step("signed out, the dashboard sends the visitor to sign in", async () => {
    await page.goto("/dashboard");
    await expect(page).toHaveURL(/\/sign-in\?next=%2Fdashboard$/);
  });

  await test.step("signing up lands on the dashboard, signed in", async () => {
    await page.getByRole("link", { name: "Sign up" }).click();
    await expect(page.getByRole("heading", { name: "Create your Pacer account" })).toBeVisible();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page).toHaveURL(/\/dashboard$/);
    await expect(page.getByTestId("signed-in-email")).toHaveText(email);
  });

  await test.step("the accounts page starts empty with all 10 accounts of the Free plan available", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Accounts" }).click();
    await expect(page.getByRole("heading", { name: "Accounts", level: 1 })).toBeVisible();
    await expect(usage).toHaveText("0 of 10 accounts used · Free plan");
    await expect(meter).toHaveAttribute("aria-valuenow", "0");
    await expect(page.getByText("No social accounts yet.")).toBeVisible();
  });

  await test.step("adding a sandbox account lists it and counts it", async () => {
    await expect(page.getByLabel("Platform")).toHaveValue("sandbox");
    await page.getByLabel("Handle").fill(`@${demo}`);
    await page.getByLabel("Display name").fill("Pacer Demo");
    await page.getByRole("button", { name: "Add account" }).click();

    await expect(demoRow).toContainText("Pacer Demo");
    await expect(demoRow).toContainText("Sandbox");
    await expect(demoRow).toContainText("Connected");
    await expect(demoRow).toContainText("100/100");
    await expect(usage).toHaveText("1 of 10 accounts used · Free plan");
    await expect(meter).toHaveAttribute("aria-valuenow", "1");
    await expect(page.getByLabel("Handle")).toHaveValue("");
  });

  await test.step("adding the same handle again is refused next to the field", async () => {
    await page.getByLabel("Handle").fill(demo);
    await page.getByRole("button", { name: "Add account" }).click();
    await expect(page.getByText("This account is already connected.")).toBeVisible();
    await expect(page.getByLabel("Handle")).toHaveAttribute("aria-invalid", "true");
    await expect(usage).toHaveText("1 of 10 accounts used · Free plan");
  });

  await test.step("renaming it inline changes its display name", async () => {
    await page.getByRole("button", { name: `Rename @${demo}` }).click();
    await page.getByRole("textbox", { name: `Display name of @${demo}` }).fill("Pacer Demo Studio");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(demoRow).toContainText("Pacer Demo Studio");
    await expect(page.getByRole("textbox", { name: `Display name of @${demo}` })).toBeHidden();
  });

  await test.step("removing it after confirming frees its place on the plan", async () => {
    await page.getByRole("button", { name: `Remove @${demo}` }).click();
    await page.getByRole("button", { name: "Yes, remove" }).click();
    await expect(page.getByText("No social accounts yet.")).toBeVisible();
    await expect(accounts).toBeHidden();
    await expect(usage).toHaveText("0 of 10 accounts used · Free plan");
    await expect(meter).toHaveAttribute("aria-valuenow", "0");
  });

  await test.step("adding it back asks for its access token: the handle still exists on the sandbox", async () => {
    await page.getByLabel("Handle").fill(demo);
    await page.getByRole("button", { name: "Add account" }).click();
    await expect(page.getByText(`@${demo} already exists on the sandbox`)).toBeVisible();
    await expect(page.getByLabel(/^Access token/)).toHaveAttribute("aria-invalid", "true");
    await expect(page.getByText("No social accounts yet.")).toBeVisible();
  });

  await test.step("signing out returns to sign-in and closes the dashboard again", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/sign-in$/);
    await page.goto("/dashboard");
    await expect(page).toHaveURL(/\/sign-in\?next=%2Fdashboard$/);
  });
});

test("when the plan's last account slot is taken elsewhere, adding says so and Add account is disabled", async ({
  page,
}) => {
  await signUp(page, uniqueEmail());
  const run = Math.random().toString(36).slice(2, 8);
  // Nine accounts through the HTTP API with the same session, as another tab or a script would.
  for (let i = 1; i <= 9; i++) {
    const response = await page.request.post("/api/accounts", { headers: sameOrigin(page), data: { platform: "sandbox", handle: `brand_${i}_${run}` } });
    expect(response.status()).toBe(201);
  }
  await page.goto("/dashboard/accounts");
  await expect(page.getByTestId("usage-summary")).toHaveText("9 of 10 accounts used · Free plan");

  // The tenth slot is taken while this page still shows one free.
  expect((await page.request.post("/api/accounts", { headers: sameOrigin(page), data: { platform: "sandbox", handle: `brand_10_${run}` } })).status()).toBe(
    201,
  );
  await page.getByLabel("Handle").fill("one_too_many");
  await page.getByRole("button", { name: "Add account" }).click();

  await expect(page.getByRole("alert").filter({ hasText: "Plan limit reached" })).toContainText(
    "This workspace is on the Free plan, which allows 10 social accounts, and all 10 are in use.",
  );
  await expect(page.getByTestId("usage-summary")).toHaveText("10 of 10 accounts used · Free plan");
  await expect(page.getByTestId("usage-detail")).toHaveText(
    "All 10 accounts the Free plan allows are in use. Remove an account or upgrade the plan to add another.",
  );
  await expect(page.getByRole("meter", { name: "Social accounts used" })).toHaveAttribute("aria-valuenow", "10");
  await expect(page.getByRole("button", { name: "Add account" })).toBeDisabled();
  await expect(page.getByRole("table", { name: "Social accounts" }).getByRole("row")).toHaveCount(11);
});

test("signing in with a wrong password says so in Pacer's words, offers a reset, and stays signed out", async ({
  page,
  browser,
}) => {
  const email = uniqueEmail();
  const other = await browser.newContext();
  await signUp(await other.newPage(), email);
  await other.close();

  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();

  const alert = page.getByRole("alert").filter({ hasText: "Could not sign in" });
  await expect(alert).toContainText("Wrong email or password.");
  await expect(alert.getByRole("link", { name: "Forgot password?" })).toHaveAttribute("href", "/forgot-password");
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fdashboard$/);
});
