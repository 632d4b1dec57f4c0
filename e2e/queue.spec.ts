// The queue page end to end, at desktop (1440×900) and phone (390 and 320 wide) sizes: posts queued
// through the API (composing is the composer's scene), Process now announcing what its run did, a
// row's detail with its attempts, a paused account's post saying why it waits, bulk cancel with
// Undo, and keyboard-only bulk select + cancel; no sideways scroll at any width.
import { expect as baseExpect, test, type Page } from "@playwright/test";

// `next dev` compiles each page and route on first use, which can take longer than the default 5 s.
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

async function noSidewaysScroll(page: Page) {
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
}

test("the queue: Process now says what it did, a row's detail shows its attempts, bulk cancel is undone, keyboard-only bulk cancel, at desktop and phone widths", async ({
  page,
  baseURL,
}) => {
  if (process.env.PACER_NEXT_MODE === "dev") test.setTimeout(600_000);
  const id = suffix();
  const handle = `queue_${id.replace(/\W/g, "_")}`;
  const pausedHandle = `paused_${id.replace(/\W/g, "_")}`;
  const nowText = `Hello from Pacer's queue ${id}`;
  const later = [1, 2, 3].map((n) => `Later post ${n} ${id}`);
  const heldText = `Held for a paused account ${id}`;
  const queue = page.getByRole("table", { name: "Queue" });
  const row = (text: string) => queue.getByRole("row").filter({ hasText: text }).first();
  const announcer = page.getByTestId("announcer");
  const stat = (name: string) => page.getByTestId(`stat-${name}-value`);
  const api = (method: "post" | "get", path: string, data?: unknown) =>
    page.request[method](path, { data, headers: { origin: baseURL!, "content-type": "application/json" } });

  await page.setViewportSize({ width: 1440, height: 900 });

  await test.step("a new subscriber connects two sandbox accounts and pauses one", async () => {
    await signUp(page, `queue-${id}@example.com`);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Accounts" }).click();
    for (const h of [handle, pausedHandle]) {
      await page.getByLabel("Handle").fill(h);
      await page.getByRole("button", { name: "Add account" }).click();
      await expect(page.getByRole("table", { name: "Social accounts" })).toContainText(`@${h}`);
    }
  });

  let accountId: (h: string) => string = () => "";
  await test.step("posts are queued through the API: three for tomorrow, one to the paused account", async () => {
    const { accounts } = await (await api("get", "/api/accounts")).json();
    accountId = (h: string) => accounts.find((a: { handle: string }) => a.handle === h).id as string;
    expect((await api("post", `/api/accounts/${accountId(pausedHandle)}/pause`, {})).ok()).toBe(true);
    const tomorrow = new Date(Date.now() + 24 * 3600_000).toISOString();
    for (const text of later) {
      expect((await api("post", "/api/queue/add", { text, accountIds: [accountId(handle)], scheduledFor: tomorrow })).status()).toBe(201);
    }
    expect((await api("post", "/api/queue/add", { text: heldText, accountIds: [accountId(pausedHandle)], scheduledFor: tomorrow })).status()).toBe(201);
  });

  await test.step("the queue page fits at 1440×900, actions visible; the paused account's post says why it waits", async () => {
    const link = page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Queue" });
    await link.click();
    await expect(page.getByRole("heading", { name: "Queue", level: 1 })).toBeVisible();
    await expect(row(later[0])).toContainText("Pending");
    await expect(row(heldText)).toContainText("Waiting: account paused");
    await expect(row(heldText)).not.toContainText("Pending");
    await row(later[0]).scrollIntoViewIfNeeded();
    await expect(row(later[0]).getByRole("button", { name: /^Cancel/ })).toBeInViewport();
    await expect(row(later[0]).getByRole("button", { name: /^Details/ })).toBeInViewport();
    await noSidewaysScroll(page);
    await expect(page.getByTestId("queue-matching")).toHaveText("4 matching");
  });

  await test.step("Process now publishes a due post and says so; the message goes away", async () => {
    // Queued just before, so the minute's scheduled run is unlikely to have published it first.
    expect((await api("post", "/api/queue/add", { text: nowText, accountIds: [accountId(handle)] })).status()).toBe(201);
    await expect(row(nowText)).toContainText("Pending");
    await page.getByRole("button", { name: "Process now" }).click();
    await expect(announcer).toContainText("Published 1, failed 0.");
    await expect(row(nowText)).toContainText("Posted");
    await expect(stat("posted")).toHaveText("1");
    await expect(announcer).not.toContainText("Published 1", { timeout: 15_000 });
    // Nothing else is due: the run says so, with when the next scheduled run is.
    await page.getByRole("button", { name: "Process now" }).click();
    await expect(announcer).toContainText("Nothing was due.");
  });

  await test.step("a row's detail shows the full text, every attempt and the link to the post", async () => {
    await row(nowText).getByRole("button", { name: /^Details/ }).click();
    const detail = page.locator("[data-testid$='-detail']");
    await expect(detail.getByRole("region", { name: "The post" })).toContainText(nowText);
    await expect(detail.getByRole("region", { name: "Attempts" })).toContainText("Attempt 1");
    await expect(detail.getByRole("link", { name: /View the post/ })).toBeVisible();
    await row(nowText).getByRole("button", { name: /^Details/ }).click();
    await expect(detail).toHaveCount(0);
  });

  await test.step("bulk cancel says what will happen, cancels, and Undo restores", async () => {
    await row(later[0]).getByRole("checkbox").check();
    await row(later[1]).getByRole("checkbox").check();
    const bar = page.getByRole("region", { name: "Bulk actions" });
    await expect(bar).toContainText("2 posts selected");
    await bar.getByRole("button", { name: "Cancel", exact: true }).click();
    const confirm = bar.getByRole("group", { name: "Confirm: cancel" });
    await expect(confirm).toContainText("Cancel 2 posts? Posts still waiting are cancelled now");
    await confirm.getByRole("button", { name: "Cancel 2 posts" }).click();
    await expect(announcer).toContainText("Cancelled 2 posts.");
    await expect(row(later[0])).toContainText("Cancelled");
    await expect(row(later[1])).toContainText("Cancelled");
    await announcer.getByRole("button", { name: "Undo" }).click();
    await expect(announcer).toContainText("Restored 2 posts.");
    await expect(row(later[0])).toContainText("Pending");
    await expect(row(later[1])).toContainText("Pending");
  });

  await test.step("keyboard only: select a post, reach Cancel in the bulk bar, confirm", async () => {
    await row(later[2]).getByRole("checkbox").focus();
    await page.keyboard.press("Space");
    await expect(row(later[2]).getByRole("checkbox")).toBeChecked();
    const bar = page.getByRole("region", { name: "Bulk actions" });
    const cancel = bar.getByRole("button", { name: "Cancel", exact: true });
    for (let i = 0; i < 12 && !(await cancel.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press("Shift+Tab");
    await expect(cancel).toBeFocused();
    await page.keyboard.press("Enter");
    const confirmButton = bar.getByRole("button", { name: "Cancel 1 post" });
    await expect(confirmButton).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(announcer).toContainText("Cancelled 1 post.");
    await expect(row(later[2])).toContainText("Cancelled");
    // Focus came back to the bar, not the page body.
    await expect(bar.locator("p").first()).toBeFocused();
  });

  await test.step("at phone widths rows are cards, actions visible, nothing scrolls sideways", async () => {
    for (const width of [390, 320]) {
      await page.setViewportSize({ width, height: 844 });
      await expect(row(later[0])).toContainText("Pending");
      await noSidewaysScroll(page);
      await row(later[0]).scrollIntoViewIfNeeded();
      await expect(row(later[0]).getByRole("button", { name: /^Cancel/ })).toBeInViewport();
      await expect(row(later[0]).getByRole("button", { name: /^Details/ })).toBeInViewport();
    }
    await page.setViewportSize({ width: 390, height: 844 });
    await row(later[0]).getByRole("button", { name: /^Details/ }).click();
    await expect(page.getByRole("region", { name: "The post" })).toContainText(later[0]);
    await noSidewaysScroll(page);
  });
});
