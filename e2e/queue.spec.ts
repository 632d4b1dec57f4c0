// The queue page end to end: compose a post to a sandbox account, publish it with Process now, schedule another and cancel it.
import { expect as baseExpect, test, type Page } from "@playwright/test";

// `next dev` compiles each page and action on first use, which can take longer than the default 5 s.
const expect = baseExpect.configure({ timeout: process.env.PACER_NEXT_MODE === "dev" ? 60_000 : 5_000 });

const password = "pacer-e2e-password";
const suffix = () => `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

async function signUp(page: Page, email: string) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}

/** A datetime-local value an hour from now, in the browser's own time zone (the one the form reads it in). */
function anHourFromNow(page: Page): Promise<string> {
  return page.evaluate(() => {
    const at = new Date(Date.now() + 60 * 60_000);
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
  });
}

test("a post composed on the queue page is pending, then posted by Process now; a scheduled one is cancelled", async ({ page }) => {
  const id = suffix();
  const handle = `queue_${id.replace(/\W/g, "_")}`;
  const firstText = `Hello from Pacer's queue ${id}`;
  const laterText = `Tomorrow's news, queued early ${id}`;
  const queue = page.getByRole("table", { name: "Queue" });
  const firstRow = queue.getByRole("row").filter({ hasText: firstText });
  const laterRow = queue.getByRole("row").filter({ hasText: laterText });
  const stat = (name: string) => page.getByTestId(`stat-${name}-value`);

  await test.step("a new subscriber connects a sandbox account", async () => {
    await signUp(page, `queue-${id}@example.com`);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Accounts" }).click();
    await page.getByLabel("Handle").fill(handle);
    await page.getByRole("button", { name: "Add account" }).click();
    await expect(page.getByRole("table", { name: "Social accounts" })).toContainText(`@${handle}`);
  });

  await test.step("the queue page starts empty", async () => {
    const link = page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Queue" });
    await link.click();
    await expect(page.getByRole("heading", { name: "Queue", level: 1 })).toBeVisible();
    await expect(link).toHaveAttribute("aria-current", "page");
    await expect(page.getByRole("group", { name: "Total" })).toBeVisible();
    await expect(stat("total")).toHaveText("0");
    await expect(page.getByText("The queue is empty.")).toBeVisible();
    await expect(page.getByLabel("Priority")).toHaveValue("5");
  });

  await test.step("adding with no text and no account says what is missing next to each field", async () => {
    await page.getByRole("button", { name: "Add to queue" }).click();
    await expect(page.getByLabel("Text")).toHaveAttribute("aria-invalid", "true");
    await expect(page.getByLabel("Text")).toHaveAccessibleDescription(/.+/);
    await expect(page.getByLabel(`@${handle}`)).toHaveAttribute("aria-invalid", "true");
    await expect(stat("total")).toHaveText("0");
  });

  await test.step("a post composed for the account is queued as pending", async () => {
    await page.getByLabel("Text").fill(firstText);
    await page.getByLabel(`@${handle}`).check();
    await page.getByRole("button", { name: "Add to queue" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Queued for 1 account." })).toBeVisible();
    await expect(page.getByLabel("Text")).toHaveValue("");
    // The minute cron could publish it first; the window between adding and seeing it is a fraction of a second.
    await expect(firstRow).toContainText("Pending");
    await expect(firstRow).toContainText(`@${handle}`);
    await expect(firstRow).toContainText("Sandbox");
    await expect(stat("total")).toHaveText("1");
    await expect(stat("waiting")).toHaveText("1");
  });

  await test.step("Process now publishes it: posted, with a 100% success rate", async () => {
    await page.getByRole("button", { name: "Process now" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Processing ran." })).toContainText("Now 1 posted");
    await expect(firstRow).toContainText("Posted");
    await expect(firstRow.getByRole("button", { name: /^Cancel/ })).toHaveCount(0);
    await expect(stat("posted")).toHaveText("1");
    await expect(stat("waiting")).toHaveText("0");
    await expect(page.getByTestId("success-rate")).toHaveText("100% success rate");
    await expect(stat("issues")).toHaveText("0");
  });

  await test.step("a post scheduled an hour ahead waits as pending, and Cancel cancels it", async () => {
    await page.getByLabel("Text").fill(laterText);
    await page.getByLabel(`@${handle}`).check();
    await page.getByLabel("Schedule for").fill(await anHourFromNow(page));
    await page.getByLabel("Priority").selectOption("8");
    await page.getByRole("button", { name: "Add to queue" }).click();
    await expect(laterRow).toContainText("Pending");
    await expect(stat("total")).toHaveText("2");

    // It is not due yet, so processing leaves it waiting.
    await page.getByRole("button", { name: "Process now" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Processing ran." })).toContainText(
      "Now 1 posted, 1 waiting or in progress, 0 with issues.",
    );
    await expect(laterRow).toContainText("Pending");

    await laterRow.getByRole("button", { name: /^Cancel/ }).click();
    await expect(laterRow).toContainText("Cancelled");
    await expect(laterRow.getByRole("button", { name: /^Cancel/ })).toHaveCount(0);
    await expect(stat("waiting")).toHaveText("0");
    await expect(stat("posted")).toHaveText("1");
    await expect(firstRow).toContainText("Posted");
  });
});
