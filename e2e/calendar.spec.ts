// The calendar end to end: a post queued for tomorrow shows on the week view, is dragged to another
// day (and the API reports the new time), a drop into the past is put back with the reason, and
// the post is cancelled from its dialog, opened with the keyboard.
import { expect as baseExpect, test, type Page } from "@playwright/test";

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

/**
 * Days and times as the browser's calendar sees them: tomorrow at `hour` (local), the day it is moved
 * to (the next day when that is still in the same Sunday-to-Saturday week, else the day before), and
 * their dates as FullCalendar labels its columns (YYYY-MM-DD).
 */
function plan(page: Page, hour: number) {
  return page.evaluate((hour) => {
    const day = (offset: number) => {
      const d = new Date();
      d.setDate(d.getDate() + offset);
      d.setHours(hour, 0, 0, 0);
      return d;
    };
    const pad = (n: number) => String(n).padStart(2, "0");
    const ymd = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    const tomorrow = day(1);
    const moveBy = tomorrow.getDay() === 6 ? -1 : 1;
    const target = day(1 + moveBy);
    return {
      tomorrow: tomorrow.toISOString(),
      tomorrowDate: ymd(tomorrow),
      // A Sunday tomorrow opens next week: the view starts on today's week.
      nextWeek: tomorrow.getDay() === 0,
      target: target.toISOString(),
      targetDate: ymd(target),
      yesterdayDate: ymd(day(-1)),
    };
  }, hour);
}

test("a post queued for tomorrow is on the week view, is dragged to another day, and is cancelled from its dialog", async ({ page, baseURL }) => {
  // `next dev` compiles every page and route on first use; on a busy machine that alone passes 30 s.
  if (process.env.PACER_NEXT_MODE === "dev") test.setTimeout(600_000);
  const id = suffix();
  const handle = `cal_${id.replace(/\W/g, "_")}`;
  const text = `On the calendar ${id}`;
  const api = (path: string, data: unknown) =>
    page.request.post(path, { data, headers: { origin: baseURL!, "content-type": "application/json" } });
  const itemNow = async (itemId: number) => {
    const res = await page.request.get("/api/queue/items?limit=10");
    expect(res.ok()).toBe(true);
    return ((await res.json()).items as Array<{ id: number; status: string; scheduledFor: string }>).find((i) => i.id === itemId)!;
  };

  await signUp(page, `calendar-${id}@example.com`);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Accounts" }).click();
  await page.getByLabel("Handle").fill(handle);
  await page.getByRole("button", { name: "Add account" }).click();
  await expect(page.getByRole("table", { name: "Social accounts" })).toContainText(`@${handle}`);

  // Late in the day, so the day before tomorrow (when that is the day to move to) is not yet past at this hour.
  const when = await plan(page, 22);
  let itemId = 0;
  await test.step("a post is queued for tomorrow through the API", async () => {
    const accounts = await (await page.request.get("/api/accounts")).json();
    const accountId = accounts.accounts.find((a: { handle: string }) => a.handle === handle).id;
    const res = await api("/api/queue/add", { text, accountIds: [accountId], scheduledFor: when.tomorrow });
    expect(res.status(), await res.text()).toBe(201);
    itemId = (await res.json()).items[0].id;
  });

  const event = page.locator(`.fc-event[data-item-id="${itemId}"]`);
  await test.step("the calendar's week view shows it on tomorrow's column", async () => {
    const link = page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Calendar" });
    await link.click();
    await expect(page.getByRole("heading", { name: "Calendar", level: 1 })).toBeVisible();
    await expect(link).toHaveAttribute("aria-current", "page");
    if (when.nextWeek) await page.getByRole("button", { name: "Next ›" }).click();
    await expect(event).toBeVisible();
    await expect(event).toContainText(`@${handle}`);
    await expect(event).toContainText("Pending");
    await expect(page.locator(`.fc-timegrid-col[data-date="${when.tomorrowDate}"] .fc-event[data-item-id="${itemId}"]`)).toBeVisible();
    await expect(page.getByRole("table", { name: "Posts in this view" })).toContainText(text);
  });

  await test.step("dragging it to another day moves it there, and the API says so", async () => {
    await dragToColumn(page, event, when.targetDate);
    await expect(page.getByRole("status").filter({ hasText: `Moved @${handle}'s post` })).toBeVisible();
    await expect.poll(async () => (await itemNow(itemId)).scheduledFor).toBe(when.target);
    await expect(page.locator(`.fc-timegrid-col[data-date="${when.targetDate}"] .fc-event[data-item-id="${itemId}"]`)).toBeVisible();
  });

  await test.step("a drop into the past is refused, put back, and the reason is shown", async () => {
    // Yesterday is in the view unless today starts the week; then there is no past day to drop on.
    if ((await page.locator(`.fc-timegrid-col[data-date="${when.yesterdayDate}"]`).count()) === 0) return;
    await dragToColumn(page, event, when.yesterdayDate);
    await expect(page.getByRole("alert").filter({ hasText: "was not moved" })).toContainText("in the past");
    await expect(page.locator(`.fc-timegrid-col[data-date="${when.targetDate}"] .fc-event[data-item-id="${itemId}"]`)).toBeVisible();
    expect((await itemNow(itemId)).scheduledFor).toBe(when.target);
  });

  await test.step("opened with the keyboard, its dialog cancels it", async () => {
    await event.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: `Post to @${handle}` });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByLabel("Text")).toHaveValue(text);
    await dialog.getByRole("button", { name: "Cancel post" }).click();
    await expect(dialog).toBeHidden();
    await expect.poll(async () => (await itemNow(itemId)).status).toBe("cancelled");
    await expect(event).toContainText("Cancelled");
    // Cancelled items stay on the calendar but no longer move.
    await expect(event).not.toHaveClass(/fc-event-draggable/);
  });
});

test.describe("in the user's saved zone, not the browser's", () => {
  // The browser runs in New York; the user's setting is Tokyo, 13 or 14 hours ahead.
  test.use({ timezoneId: "America/New_York" });

  test("a post is placed on its Tokyo day and hour, and labelled in Tokyo time", async ({ page, baseURL }) => {
    if (process.env.PACER_NEXT_MODE === "dev") test.setTimeout(600_000);
    const id = suffix();
    const handle = `caltz_${id.replace(/\W/g, "_")}`;
    const headers = { origin: baseURL!, "content-type": "application/json" };

    // 09:00 in Tokyo the day after tomorrow (Tokyo's days), i.e. the evening before in New York.
    const [y, m, d] = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Tokyo" }).format(new Date()).split("-").map(Number);
    const at = new Date(Date.UTC(y, m - 1, d + 2, 0, 0)); // Tokyo is UTC+9 all year: 00:00 UTC is 09:00 there.
    const tokyoDate = at.toISOString().slice(0, 10);
    const newYorkDate = new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York" }).format(at);
    expect(newYorkDate).not.toBe(tokyoDate);
    // The week (Sunday to Saturday, Tokyo's) that holds it is next week when today in Tokyo is Friday or Saturday.
    const nextWeek = new Date(Date.UTC(y, m - 1, d)).getUTCDay() >= 5;

    await signUp(page, `calendar-tz-${id}@example.com`);
    const saved = await page.request.put("/api/me/settings", { data: { timeZone: "Asia/Tokyo" }, headers });
    expect(saved.status(), await saved.text()).toBe(200);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Accounts" }).click();
    await page.getByLabel("Handle").fill(handle);
    await page.getByRole("button", { name: "Add account" }).click();
    await expect(page.getByRole("table", { name: "Social accounts" })).toContainText(`@${handle}`);
    const accounts = await (await page.request.get("/api/accounts")).json();
    const accountId = accounts.accounts.find((a: { handle: string }) => a.handle === handle).id;
    const queued = await page.request.post("/api/queue/add", { data: { text: `Tokyo morning ${id}`, accountIds: [accountId], scheduledFor: at.toISOString() }, headers });
    expect(queued.status(), await queued.text()).toBe(201);
    const itemId = (await queued.json()).items[0].id;

    await page.goto("/dashboard/calendar");
    await expect(page.getByTestId("time-zone-setting")).toContainText("Times are in Asia/Tokyo (your setting).");
    if (nextWeek) await page.getByRole("button", { name: "Next ›" }).click();
    const event = page.locator(`.fc-timegrid-col[data-date="${tokyoDate}"] .fc-event[data-item-id="${itemId}"]`);
    await expect(event).toBeVisible();
    await expect(event).toContainText(/^9:00\s?a/i);
    await expect(page.locator(`.fc-timegrid-col[data-date="${newYorkDate}"] .fc-event[data-item-id="${itemId}"]`)).toHaveCount(0);
    const list = page.getByRole("table", { name: "Posts in this view" });
    await expect(list.getByRole("columnheader", { name: "When (Asia/Tokyo)" })).toBeVisible();
    await expect(list).toContainText("9:00 AM GMT+9");

    await event.click();
    const dialog = page.getByRole("dialog", { name: `Post to @${handle}` });
    await expect(dialog.getByLabel("Move to (Asia/Tokyo)")).toHaveValue(`${tokyoDate}T09:00`);
  });
});

/** Drag an event with the mouse to the same time on another day's column of the week view. */
async function dragToColumn(page: Page, event: ReturnType<Page["locator"]>, date: string) {
  await event.scrollIntoViewIfNeeded();
  const from = (await event.boundingBox())!;
  const column = (await page.locator(`.fc-timegrid-col[data-date="${date}"]`).boundingBox())!;
  const start = { x: from.x + from.width / 2, y: from.y + Math.min(6, from.height / 2) };
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  await page.mouse.move(start.x + 5, start.y + 5, { steps: 2 });
  await page.mouse.move(column.x + column.width / 2, start.y, { steps: 10 });
  await page.mouse.up();
}
