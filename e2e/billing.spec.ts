// Billing in local mode, in a real browser: from the default plan to Pro and back, with the accounts
// over the default plan's limit paused (and why), then resumed by upgrading again.
import { expect, test, type Page } from "@playwright/test";

// A tab of Pacer calling its API sends its Origin; a cookie-authenticated change without one is refused.
const sameOrigin = (page: Page) => ({ origin: new URL(page.url()).origin });

const password = "pacer-e2e-password";

async function signUp(page: Page) {
  const email = `billing-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}

test("a subscriber moves from Free to Pro and back in local mode; accounts over Free's limit are paused with the reason, and resume on upgrade", async ({
  page,
}) => {
  const currentPlan = page.getByTestId("current-plan");
  const usage = page.getByTestId("billing-usage-summary");
  const paused = page.getByRole("table", { name: "Accounts paused by the plan" });
  const reason = "Paused: the Free plan allows 10 accounts; upgrade or remove accounts to resume it.";
  // Handles are the sandbox's account names, shared by every test (and retry) against this stack.
  const run = Math.random().toString(36).slice(2, 8);
  const brand = (i: number) => `@brand_${i}_${run}`;

  await signUp(page);

  await test.step("the billing page shows the default plan and says it is a local simulation", async () => {
    await page.goto("/dashboard/billing");
    await expect(page.getByRole("heading", { name: "Billing", level: 1 })).toBeVisible();
    await expect(page.getByTestId("local-mode-notice")).toContainText("Local mode: no payment is taken");
    await expect(currentPlan).toHaveText("Free plan");
    await expect(usage).toHaveText("0 of 10 accounts used · Free plan");
    const freeCard = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "Free", exact: true }) });
    await expect(freeCard.getByRole("button", { name: "Current plan" })).toBeDisabled();
    // Free and Starter differ in what each includes, said in product words on both cards.
    const starterCard = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "Starter", exact: true }) });
    await expect(freeCard.getByRole("list", { name: "What Free includes" })).toContainText("Not included: Import posts from a CSV file");
    await expect(starterCard.getByRole("list", { name: "What Starter includes" })).toContainText("Import posts from a CSV file");
    await expect(starterCard.getByRole("list", { name: "What Starter includes" })).not.toContainText("Not included: Import posts");
    await expect(page.getByTestId("local-mode-notice")).toContainText("every plan is free to try");
  });

  await test.step("upgrading to Pro applies at once and raises the limit to 150", async () => {
    await page.getByRole("button", { name: "Upgrade to Pro" }).click();
    await expect(page.getByTestId("plan-change-done")).toHaveText(
      "This workspace is now on the Pro plan. Local mode: no payment was taken.",
    );
    await expect(currentPlan).toHaveText("Pro plan");
    await expect(page.getByTestId("subscription-status")).toHaveText("Active");
    await expect(usage).toHaveText("0 of 150 accounts used · Pro plan");
  });

  await test.step("a failed renewal payment shows a banner saying until when the plan holds; paying clears it", async () => {
    await page.getByRole("button", { name: "Simulate a failed payment" }).click();
    const banner = page.getByTestId("payment-failed");
    await expect(banner).toContainText("Your last payment failed");
    await expect(banner).toContainText("to keep the Pro plan. After that this workspace moves to the Free plan (10 accounts)");
    await expect(page.getByTestId("subscription-status")).toHaveText("Payment failed");
    await expect(currentPlan).toHaveText("Pro plan");
    await banner.getByRole("button", { name: "Simulate a successful payment" }).click();
    await expect(banner).toBeHidden();
    await expect(page.getByTestId("subscription-status")).toHaveText("Active");
  });

  await test.step("on Pro, the workspace connects more than Free's 10 accounts", async () => {
    for (let i = 1; i <= 12; i++) {
      const response = await page.request.post("/api/accounts", { headers: sameOrigin(page), data: { platform: "sandbox", handle: brand(i).slice(1) } });
      expect(response.status()).toBe(201);
    }
    await page.reload();
    await expect(usage).toHaveText("12 of 150 accounts used · Pro plan");
    await expect(page.getByRole("meter", { name: "Sandbox accounts used" })).toHaveAttribute("aria-valuenow", "12");
  });

  await test.step("downgrading to Free asks first, then pauses the two newest accounts and shows why", async () => {
    await page.getByRole("button", { name: "Downgrade to Free" }).click();
    await expect(page.getByRole("group", { name: "Confirm moving to Free" })).toContainText(
      "Moving to Free pauses 2 accounts (the most recently added). Nothing is deleted",
    );
    await page.getByRole("button", { name: "Yes, move to Free" }).click();
    await expect(currentPlan).toHaveText("Free plan");
    await expect(usage).toHaveText("12 of 10 accounts used · Free plan");
    // Over the limit, the count and the sentence under it agree: which accounts are paused, and why.
    await expect(page.getByTestId("billing-usage-detail")).toContainText(
      "2 accounts are over the Free plan's limit of 10, so the 2 most recently added are paused",
    );
    await expect(page.getByTestId("billing-usage-detail")).not.toContainText("in use");
    await expect(paused.getByRole("row")).toHaveCount(3);
    await expect(paused.getByRole("row").filter({ hasText: brand(11) })).toContainText(reason);
    await expect(paused.getByRole("row").filter({ hasText: brand(12) })).toContainText(reason);
    await expect(paused).not.toContainText(brand(10));
  });

  await test.step("the accounts page lists them as paused, and nothing was deleted", async () => {
    await page.goto("/dashboard/accounts");
    const accounts = page.getByRole("table", { name: "Social accounts" });
    await expect(accounts.getByRole("row")).toHaveCount(13);
    await expect(accounts.getByRole("row").filter({ hasText: brand(12) })).toContainText("Paused");
    await expect(accounts.getByRole("row").filter({ hasText: brand(10) })).toContainText("Connected");
  });

  await test.step("upgrading to Pro again resumes exactly those accounts", async () => {
    await page.goto("/dashboard/billing");
    await page.getByRole("button", { name: "Upgrade to Pro" }).click();
    await expect(currentPlan).toHaveText("Pro plan");
    await expect(paused).toBeHidden();
    await page.goto("/dashboard/accounts");
    const accounts = page.getByRole("table", { name: "Social accounts" });
    await expect(accounts.getByRole("row").filter({ hasText: brand(12) })).toContainText("Connected");
    await expect(accounts.getByText("Paused", { exact: true })).toHaveCount(0);
  });
});

test("back from a canceled or expired checkout, the page says nothing was charged", async ({ page }) => {
  await signUp(page);
  await page.goto("/dashboard/billing?checkout=canceled");
  await expect(page.getByRole("alert").filter({ hasText: "Checkout did not finish" })).toContainText(
    "nothing was charged and your plan is unchanged",
  );
  await expect(page.getByTestId("current-plan")).toHaveText("Free plan");
});
