// The README's screenshots, taken from a real session on the local stack (`npm run screenshots`):
// a new user with three sandbox accounts and a week of posts, then the composer and the calendar at
// 1440×900, and the queue and the composer on a phone (390×844). Written to docs/images/; rerun it
// after a UI change. Kept small: viewport-sized PNGs (not full pages), phones at 2× density.
import { join } from "node:path";
import { expect, test, type Browser, type Page } from "@playwright/test";

const IMAGES = join(process.cwd(), "docs", "images");
const DESKTOP = { viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 };
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const HANDLES = ["corner_bakery", "bakery_news", "weekend_specials"];

/** A week of posts, as a small shop would schedule them: [weekday (0 = Sunday), hour, text, accounts]. */
const WEEK: Array<[number, number, string, number[]]> = [
  [0, 10, "Sunday brunch: the first batch of croissants is out at 9.", [0]],
  [1, 8, "Good morning! Our cinnamon rolls are back this week.", [0]],
  [1, 12, "Lunch special: soup and a slice of rye for 8 €.", [2]],
  [2, 9, "Behind the scenes: how we fold croissant dough, step by step.", [1]],
  [3, 8, "Fresh sourdough is out of the oven. Come early, it goes fast!", [0]],
  [3, 11, "Behind the counter: meet Ana, who shapes every baguette.", [1]],
  [3, 13, "Tasting today: try the new seeded loaf, free at the counter.", [2]],
  [4, 9, "New: a gluten-free loaf, baked every week from now on.", [1]],
  [4, 12, "Weekend orders close tonight: cakes, tarts and bread boxes.", [0]],
  [5, 8, "Market day tomorrow: find us at stand 14 from 8 to 1.", [2]],
  [5, 11, "Our apple tart is back for the weekend.", [0]],
  [6, 9, "Thank you for a wonderful week. See you Monday!", [1]],
  [6, 12, "Last loaves of the week at half price until we close.", [2]],
];

test("README screenshots", async ({ browser }) => {
  test.setTimeout(300_000);
  const email = `screenshots-${Date.now()}@example.com`;
  const password = "pacer-screenshots-password";
  const desktop = await browser.newContext(DESKTOP);
  const page = await desktop.newPage();

  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/, { timeout: 60_000 });

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Accounts", exact: true }).click();
  for (const handle of HANDLES) {
    await page.getByLabel("Handle").fill(handle);
    await page.getByRole("button", { name: "Add account" }).click();
    await expect(page.getByRole("table", { name: "Social accounts" })).toContainText(`@${handle}`);
  }

  // The week's posts through the API, as the composer would send them, at local hours: this week's
  // (Sunday to Saturday, as the calendar shows it) while most of it is ahead, else next week's.
  const accounts = (await (await page.request.get("/api/accounts")).json()).accounts as Array<{ id: string; handle: string }>;
  const idOf = (i: number) => accounts.find((a) => a.handle === HANDLES[i])!.id;
  const origin = new URL(page.url()).origin;
  const nextWeek = await page.evaluate(() => new Date().getDay() >= 4);
  for (const [weekday, hour, text, which] of WEEK) {
    const scheduledFor = await page.evaluate(
      ([weekday, hour, nextWeek]) => {
        const d = new Date();
        d.setDate(d.getDate() - d.getDay() + weekday + (nextWeek ? 7 : 0));
        d.setHours(hour, 0, 0, 0);
        return d.getTime() > Date.now() + 60_000 ? d.toISOString() : null;
      },
      [weekday, hour, nextWeek ? 1 : 0],
    );
    if (!scheduledFor) continue; // already past this week
    const res = await page.request.post("/api/queue/add", {
      headers: { origin, "content-type": "application/json" },
      data: { text, accountIds: which.map(idOf), scheduledFor },
    });
    expect(res.status(), await res.text()).toBe(201);
  }

  await composeSomething(page);
  await dismissToasts(page);
  await page.screenshot({ path: join(IMAGES, "composer.png") });

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Calendar", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Calendar", level: 1 })).toBeVisible();
  if (nextWeek) await page.getByRole("button", { name: "Next ›" }).click();
  await expect(page.locator(".fc-event").first()).toBeVisible();
  // From the filters down, so the working hours (the posts are 8:00 to 13:00) are in view.
  await page.locator("label[for=calendar-account]").evaluate((label) => window.scrollBy(0, label.getBoundingClientRect().top - 24));
  await page.mouse.move(0, 0);
  await page.screenshot({ path: join(IMAGES, "calendar.png") });

  const storageState = await desktop.storageState();
  await desktop.close();
  await phoneShots(browser, storageState);
});

/** The composer with a post being written: two accounts chosen, their previews, a time tomorrow. */
async function composeSomething(page: Page) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Compose", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Compose", level: 1 })).toBeVisible();
  await page.getByLabel("Text", { exact: true }).fill("Our autumn menu starts Monday: pumpkin bread, apple tarts and chai buns. Which one should we bake first?");
  await page.getByRole("checkbox", { name: new RegExp(`^@${HANDLES[0]}`) }).check();
  await page.getByRole("checkbox", { name: new RegExp(`^@${HANDLES[1]}`) }).check();
  await expect(page.getByTestId("preview-sandbox")).toBeVisible();
  await page.getByLabel("At a time").check();
  const tomorrowMorning = await page.evaluate(() => {
    const d = new Date();
    d.setDate(d.getDate() + 1);
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T09:30`;
  });
  await page.getByLabel(/^Date and time/).fill(tomorrowMorning);
  await page.getByLabel("Text", { exact: true }).focus();
  await page.evaluate(() => window.scrollTo(0, 0));
}

async function phoneShots(browser: Browser, storageState: Awaited<ReturnType<import("@playwright/test").BrowserContext["storageState"]>>) {
  const phone = await browser.newContext({ ...PHONE, storageState });
  const page = await phone.newPage();
  await page.goto("/dashboard/queue");
  await expect(page.getByRole("heading", { name: "Queue", level: 1 })).toBeVisible();
  await expect(page.getByText("Pending").first()).toBeVisible();
  // The list as cards, from its filters down (the stat cards above fill a phone's first screen).
  await page.getByRole("table", { name: "Queue" }).evaluate((table) => window.scrollBy(0, table.getBoundingClientRect().top - 240));
  await page.screenshot({ path: join(IMAGES, "queue-phone.png") });

  await page.goto("/dashboard/compose");
  await expect(page.getByRole("heading", { name: "Compose", level: 1 })).toBeVisible();
  await page.getByLabel("Text", { exact: true }).fill("Pumpkin bread is back tomorrow morning!");
  await page.getByRole("checkbox", { name: new RegExp(`^@${HANDLES[0]}`) }).check();
  await expect(page.getByTestId("preview-sandbox")).toBeVisible();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(IMAGES, "composer-phone.png") });
  await phone.close();
}

/** The announcer's toasts ("Added @…") are not part of the page being shown. */
async function dismissToasts(page: Page) {
  const dismiss = page.getByTestId("announcer").getByRole("button", { name: "Dismiss" });
  if (await dismiss.isVisible()) await dismiss.click();
  await expect(dismiss).toHaveCount(0);
}
