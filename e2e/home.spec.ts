// The dashboard home end to end, at phone and desktop width: a new user's getting-started checklist
// with nothing ticked; its steps tick from what the workspace really did (an account added through
// the checklist's own link, a post queued and published); the upcoming post is listed; a paused
// account and a failed payment put a banner on other pages until the cause is gone; and nothing
// scrolls sideways.
import { expect as baseExpect, test, type Page } from "@playwright/test";
import { mainNavLink } from "./support/nav";

// `next dev` compiles each page on first use, which can take longer than the default 5 s.
const dev = process.env.PACER_NEXT_MODE === "dev";
const expect = baseExpect.configure({ timeout: dev ? 60_000 : 5_000 });
test.setTimeout(dev ? 600_000 : 120_000);

const password = "pacer-e2e-password";
const suffix = () => `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
const sameOrigin = (page: Page) => ({ origin: new URL(page.url()).origin });

async function noSidewaysScroll(page: Page) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
}

for (const viewport of [
  { name: "phone", width: 390, height: 844 },
  { name: "desktop", width: 1440, height: 900 },
]) {
  test(`home (${viewport.name}): the checklist ticks from real data, upcoming posts are listed, a paused account and a failed payment show banners on other pages`, async ({ page }) => {
    await page.setViewportSize(viewport);
    const id = suffix();
    const handle = `home_${id.replace(/\W/g, "_")}`;
    const checklist = page.getByTestId("getting-started");
    const steps = page.getByTestId("getting-started-step");

    await test.step("a new user's home shows the checklist with nothing ticked", async () => {
      await page.goto("/sign-up");
      await page.getByLabel("Email").fill(`home-${id}@example.com`);
      await page.getByLabel("Password").fill(password);
      await page.getByRole("button", { name: "Create account" }).click();
      await baseExpect(page).toHaveURL(/\/dashboard$/, { timeout: dev ? 120_000 : 30_000 });
      await expect(page.getByRole("heading", { name: "Getting started" })).toBeVisible();
      await expect(checklist).toContainText("0 of 3 steps done.");
      await expect(steps).toHaveCount(3);
      for (const step of await steps.all()) await expect(step).toHaveAttribute("data-done", "false");
      await expect(page.getByText("Nothing is scheduled.")).toBeVisible();
      await expect(page.getByText("Nothing failed and nothing needs review.")).toBeVisible();
      await expect(page.getByTestId("usage-summary")).toHaveText("0 of 10 accounts used · Free plan");
      await expect(page.getByTestId("banner-paused")).toHaveCount(0);
      await noSidewaysScroll(page);
    });

    await test.step("the checklist's link leads to adding an account; back home, the first step is ticked", async () => {
      await checklist.getByRole("link", { name: "Add an account" }).click();
      await expect(page.getByRole("heading", { name: "Accounts", level: 1 })).toBeVisible();
      await page.getByLabel("Handle").fill(handle);
      await page.getByRole("button", { name: "Add account" }).click();
      await expect(page.getByText(`@${handle}`).first()).toBeVisible();
      await (await mainNavLink(page, "Dashboard")).click();
      await expect(checklist).toContainText("1 of 3 steps done.");
      await expect(steps.filter({ hasText: "Connect an account" })).toHaveAttribute("data-done", "true");
      await expect(steps.filter({ hasText: "Compose a post" })).toHaveAttribute("data-done", "false");
    });

    let accountId = "";
    await test.step("a post published and another scheduled: every step ticked, the checklist folds, the scheduled post is upcoming", async () => {
      const accounts = await (await page.request.get("/api/accounts")).json();
      accountId = accounts.accounts.find((a: { handle: string }) => a.handle === handle).id;
      const now = await page.request.post("/api/queue/add", { headers: sameOrigin(page), data: { text: `Published from the home test ${id}`, accountIds: [accountId] } });
      expect(now.status()).toBe(201);
      const later = await page.request.post("/api/queue/add", {
        headers: sameOrigin(page),
        data: { text: `Scheduled from the home test ${id}`, accountIds: [accountId], scheduledFor: new Date(Date.now() + 26 * 3600_000).toISOString() },
      });
      expect(later.status()).toBe(201);
      const processed = await page.request.post("/api/queue/process", { headers: sameOrigin(page), data: {} });
      expect(processed.status()).toBe(200);

      await page.reload();
      const done = page.getByTestId("getting-started-done");
      await expect(done).toContainText("Getting started: all 3 steps done");
      await expect(checklist).toHaveCount(0);
      await done.getByText("Getting started: all 3 steps done").click();
      for (const step of await steps.all()) await expect(step).toHaveAttribute("data-done", "true");
      const upcoming = page.getByRole("list", { name: "Upcoming posts" });
      await expect(upcoming).toContainText(`Scheduled from the home test ${id}`);
      await expect(upcoming).toContainText(`@${handle} · Sandbox`);
      await expect(upcoming.getByTestId("when")).toContainText("in 1 day");
      await noSidewaysScroll(page);
    });

    await test.step("a paused account shows a banner on another page, with the way to resume it; resumed, it is gone", async () => {
      expect((await page.request.post(`/api/accounts/${accountId}/pause`, { headers: sameOrigin(page), data: {} })).status()).toBe(200);
      await (await mainNavLink(page, "Queue")).click();
      await expect(page.getByRole("heading", { name: "Queue", level: 1 })).toBeVisible();
      const banner = page.getByTestId("banner-paused");
      await expect(banner).toContainText("1 account is paused: it publishes nothing, and its posts wait.");
      await expect(banner).toContainText("1 was paused by a person or the health rules.");
      await expect(banner.getByRole("link", { name: "Review and resume on Health" })).toHaveAttribute("href", "/dashboard/health");
      await noSidewaysScroll(page);

      expect((await page.request.post(`/api/accounts/${accountId}/resume`, { headers: sameOrigin(page), data: {} })).status()).toBe(200);
      await (await mainNavLink(page, "Dashboard")).click();
      await expect(page.getByTestId("getting-started-done")).toBeVisible();
      await expect(banner).toHaveCount(0);
    });

    await test.step("a failed payment shows a banner on other pages, for an owner with the way to Billing; paid, it is gone", async () => {
      // Local billing mode: the plan change applies at once, and the billing page can simulate a renewal failing.
      expect((await page.request.post("/api/billing/checkout", { headers: sameOrigin(page), data: { planId: "pro" } })).status()).toBe(200);
      await page.goto("/dashboard/billing");
      await page.getByRole("button", { name: "Simulate a failed payment" }).click();
      await expect(page.getByTestId("payment-failed")).toBeVisible();
      // The billing page says it itself, with its own buttons: no second banner there.
      const banner = page.getByTestId("banner-payment");
      await expect(banner).toHaveCount(0);

      await (await mainNavLink(page, "Dashboard")).click();
      await expect(banner).toContainText("failed.");
      await expect(banner).toContainText("The Pro plan holds until");
      await expect(banner.getByRole("link", { name: "Update the payment on Billing" })).toHaveAttribute("href", "/dashboard/billing");
      await noSidewaysScroll(page);

      await banner.getByRole("link", { name: "Update the payment on Billing" }).click();
      await page.getByTestId("payment-failed").getByRole("button", { name: "Simulate a successful payment" }).click();
      await expect(page.getByTestId("payment-failed")).toBeHidden();
      await (await mainNavLink(page, "Queue")).click();
      await expect(page.getByRole("heading", { name: "Queue", level: 1 })).toBeVisible();
      await expect(banner).toHaveCount(0);
    });
  });
}
