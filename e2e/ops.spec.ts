// The ops page end to end: the demo user (the local installation's operator, local/seed.sql) reads
// the metrics and the schedule; anyone else gets an explanation, not a broken page. At a desktop
// and at a phone's width.
import { expect as baseExpect, test, type Page } from "@playwright/test";
import { mainNavLink } from "./support/nav";

const expect = baseExpect.configure({ timeout: process.env.PACER_NEXT_MODE === "dev" ? 60_000 : 10_000 });
const suffix = () => `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

async function noSidewaysScroll(page: Page) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
}


for (const viewport of [
  { name: "desktop", width: 1280, height: 900 },
  { name: "phone", width: 390, height: 844 },
]) {
  test(`ops (${viewport.name}): the operator reads the metrics and the schedule`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill("demo@pacer.local");
    await page.getByLabel("Password").fill("pacer-demo-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await baseExpect(page).toHaveURL(/\/dashboard$/, { timeout: 30_000 });

    const link = await mainNavLink(page, "Ops");
    await link.click();
    await expect(page.getByRole("heading", { name: "Ops", level: 1 })).toBeVisible();
    await expect(link).toHaveAttribute("aria-current", "page");
    await expect(page.getByTestId("operators-only")).toHaveCount(0);
    // The installation's own figures, whatever other tests have published meanwhile.
    await expect(page.getByRole("table", { name: "Scheduled functions" })).toContainText("process-queue");
    await expect(page.getByRole("heading", { name: "Per platform" }).or(page.getByText("Nothing has been published on this installation yet."))).toBeVisible();
    const overall = page.getByRole("heading", { name: "Overall" });
    if (await overall.isVisible()) {
      await expect(page.getByTestId("ops-success-rate")).toHaveText(/^(\d+(\.\d)?%|—)$/);
      await expect(page.getByTestId("ops-time-to-post")).toContainText("/");
      await expect(page.getByTestId("ops-queue-lag")).toHaveText(/\d|—/);
    }
    await expect(page.getByText(/^No warnings|Warnings$/).first()).toBeVisible();
    await page.getByLabel("Window").selectOption("1h");
    await expect(page.getByLabel("Window")).toHaveValue("1h");
    await noSidewaysScroll(page);
  });

  test(`ops (${viewport.name}): someone who is not an operator is told why the page is closed to them`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await page.goto("/sign-up");
    await page.getByLabel("Email").fill(`ops-${suffix()}@example.com`);
    await page.getByLabel("Password").fill("pacer-e2e-password");
    await page.getByRole("button", { name: "Create account" }).click();
    await baseExpect(page).toHaveURL(/\/dashboard$/, { timeout: 30_000 });

    await (await mainNavLink(page, "Ops")).click();
    const explanation = page.getByTestId("operators-only");
    await expect(explanation).toContainText("For the installation's operators only");
    await expect(explanation).toContainText("You are not one of them, and your own workspaces are unaffected.");
    await expect(page.getByRole("table", { name: "Scheduled functions" })).toHaveCount(0);
    await expect(page.getByText(/Could not load/)).toHaveCount(0);
    await noSidewaysScroll(page);
  });
}
