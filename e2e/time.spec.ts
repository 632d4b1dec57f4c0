// Time at phone width (390 px): a schedule already past is a choice in the composer ("Post now" or
// "Change the time"), and "Post now" publishes it now; a time shown anywhere opens its exact form
// (seconds, the zone's name) with a tap, not a hover.
import { expect as baseExpect, test } from "@playwright/test";

const dev = process.env.PACER_NEXT_MODE === "dev";
// `next dev` compiles each page and route on first use: minutes on a busy machine.
const expect = baseExpect.configure({ timeout: dev ? 120_000 : 10_000 });
test.setTimeout(dev ? 1_200_000 : 120_000);
test.use({ viewport: { width: 390, height: 844 }, timezoneId: "America/New_York", hasTouch: true });
const unique = (label: string) => `${label}_${Math.random().toString(36).slice(2, 8)}`;

test("a past schedule asks Post now or Change the time; a time shows its exact form on a tap", async ({ page }) => {
  const handle = unique("time");
  const text = page.getByLabel("Text", { exact: true });
  const postText = `Too late, post it anyway ${unique("p")}`;

  await test.step("a new user connects a sandbox account", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Email").fill(`${unique("time")}@example.com`);
    await page.getByLabel("Password").fill("pacer-e2e-password");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page).toHaveURL(/\/dashboard$/);
    await page.goto("/dashboard/accounts");
    await page.getByLabel("Handle").fill(handle);
    await page.getByRole("button", { name: "Add account" }).click();
    await expect(page.getByRole("table", { name: "Social accounts" })).toContainText(`@${handle}`);
  });

  await test.step("a time in the past is a choice; Post now posts it now", async () => {
    await page.goto("/dashboard/compose");
    await expect(page.getByRole("heading", { name: "Compose", level: 1 })).toBeVisible();
    await text.fill(postText);
    await page.getByRole("checkbox", { name: new RegExp(`^@${handle}`) }).check();
    await page.getByLabel("At a time").check();
    // The zone is beside the field.
    await page.getByLabel("Date and time (America/New_York)").fill("2020-01-01T09:00");
    await page.getByRole("button", { name: "Queue post" }).click();
    const choice = page.getByTestId("compose-past");
    await expect(choice).toBeFocused();
    // The year, since it is not this one, and how long ago.
    await expect(choice).toContainText("Jan 1, 2020, 9:00 AM EST has already passed (");
    await expect(choice).toContainText("years ago)");
    await expect(choice.getByRole("button", { name: "Change the time" })).toBeVisible();
    await choice.getByRole("button", { name: "Post now" }).tap();
    await expect(page.getByTestId("compose-notice")).toContainText("Queued for 1 account, to publish now.");
    const items = await (await page.request.get("/api/queue/items?limit=50")).json();
    const item = (items.items as Array<{ text: string; scheduledFor: string }>).find((i) => i.text === postText);
    expect(item, "the post is queued").toBeTruthy();
    expect(Date.parse(item!.scheduledFor)).toBeGreaterThan(Date.now() - 10 * 60_000);
  });

  await test.step("a time shows its exact form after a tap, and hides it after another", async () => {
    await page.goto("/dashboard/team");
    const when = page.getByTestId("when").first();
    await expect(when).toBeVisible();
    await expect(when).toHaveAttribute("aria-expanded", "false");
    await when.tap();
    await expect(when).toHaveAttribute("aria-expanded", "true");
    const exact = page.getByTestId("when-exact").first();
    await expect(exact).toBeVisible();
    await expect(exact).toHaveText(/^\w+day, \w+ \d{1,2}, \d{4} at \d{1,2}:\d{2}:\d{2} [AP]M E[SD]T \(America\/New_York\)$/);
    await when.tap();
    await expect(page.getByTestId("when-exact")).toHaveCount(0);
  });
});
