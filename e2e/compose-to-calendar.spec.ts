// From the composer to the calendar, as a person does it: write a post, see its preview, schedule it
// for tomorrow evening, find it on the calendar's week view, drag it to another day with
// FullCalendar's own drag (the API reports the new time), and cancel it from its dialog. And an
// editor's post while the workspace's posts need approval: the composer says it was sent for
// approval (who decides, where to follow it), not queued.
import { expect as baseExpect, test, type Locator, type Page } from "@playwright/test";
import postgres from "postgres";

const dev = process.env.PACER_NEXT_MODE === "dev";
// `next dev` compiles each page and route on first use: minutes on a busy machine.
const expect = baseExpect.configure({ timeout: dev ? 120_000 : 10_000 });
test.setTimeout(dev ? 1_200_000 : 120_000);

const password = "pacer-e2e-password";
const suffix = () => `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
const nav = (page: Page, name: string) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();

async function signUp(page: Page, email: string) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await baseExpect(page).toHaveURL(/\/dashboard$/, { timeout: dev ? 120_000 : 30_000 });
}

async function addSandboxAccount(page: Page, handle: string) {
  await nav(page, "Accounts");
  await page.getByLabel("Handle").fill(handle);
  await page.getByRole("button", { name: "Add account" }).click();
  await expect(page.getByRole("table", { name: "Social accounts" })).toContainText(`@${handle}`);
}

/**
 * Tomorrow at `hour` in the browser's zone (the user has no saved zone, so the composer and the
 * calendar use the browser's): as the composer's date-time field takes it, as an instant, and as
 * FullCalendar labels its column; the day it is dragged to (the next day while still in the same
 * Sunday-to-Saturday week, else the day before), and whether tomorrow opens next week.
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
    const target = day(tomorrow.getDay() === 6 ? 0 : 2);
    return {
      local: `${ymd(tomorrow)}T${pad(hour)}:00`,
      tomorrow: tomorrow.toISOString(),
      tomorrowDate: ymd(tomorrow),
      nextWeek: tomorrow.getDay() === 0,
      target: target.toISOString(),
      targetDate: ymd(target),
    };
  }, hour);
}

/** Drag an event with the mouse to the same time on another day's column of the week view (as e2e/calendar.spec.ts). */
async function dragToColumn(page: Page, event: Locator, date: string) {
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

test("compose → preview → schedule → on the calendar → drag to another day → cancel", async ({ page }) => {
  const id = suffix();
  const handle = `c2c_${id}`;
  const text = `From the composer to the calendar ${id}`;
  const item = async (itemId: number) => {
    const res = await page.request.get("/api/queue/items?limit=10");
    expect(res.ok()).toBe(true);
    return ((await res.json()).items as Array<{ id: number; status: string; scheduledFor: string }>).find((i) => i.id === itemId)!;
  };

  await signUp(page, `c2c-${id}@example.com`);
  await addSandboxAccount(page, handle);
  // Late in the evening, so the day it moves to is never today's past hours.
  const when = await plan(page, 21);

  await test.step("compose: the text, the account, and its preview", async () => {
    await nav(page, "Compose");
    await expect(page.getByRole("heading", { name: "Compose", level: 1 })).toBeVisible();
    await page.getByLabel("Text", { exact: true }).fill(text);
    await page.getByRole("checkbox", { name: new RegExp(`^@${handle}`) }).check();
    const preview = page.getByTestId("preview-sandbox");
    await expect(preview).toBeVisible();
    await expect(preview).toContainText(text);
  });

  await test.step("schedule it for tomorrow evening and queue it", async () => {
    await page.getByLabel("At a time").check();
    await page.getByLabel(/^Date and time/).fill(when.local);
    await expect(page.getByTestId("compose-utc")).toHaveText(`That is ${when.tomorrow.slice(0, 16).replace("T", " ")} UTC.`);
    await page.getByRole("button", { name: "Queue post" }).click();
    await expect(page.getByTestId("compose-notice")).toContainText("Queued for 1 account");
  });

  const event = page.locator(".fc-event").filter({ hasText: `@${handle}` });
  let itemId = 0;
  await test.step("the calendar's week view shows it on tomorrow's column", async () => {
    await nav(page, "Calendar");
    await expect(page.getByRole("heading", { name: "Calendar", level: 1 })).toBeVisible();
    if (when.nextWeek) await page.getByRole("button", { name: "Next ›" }).click();
    await expect(event).toBeVisible();
    await expect(page.locator(`.fc-timegrid-col[data-date="${when.tomorrowDate}"] .fc-event`).filter({ hasText: `@${handle}` })).toBeVisible();
    itemId = Number(await event.getAttribute("data-item-id"));
    expect((await item(itemId)).scheduledFor).toBe(when.tomorrow);
  });

  await test.step("dragged to another day, it moves there, and the API says so", async () => {
    await dragToColumn(page, event, when.targetDate);
    await expect(page.getByRole("status").filter({ hasText: `Moved @${handle}'s post` })).toBeVisible();
    await expect.poll(async () => (await item(itemId)).scheduledFor).toBe(when.target);
    await expect(page.locator(`.fc-timegrid-col[data-date="${when.targetDate}"] .fc-event[data-item-id="${itemId}"]`)).toBeVisible();
  });

  await test.step("opened, its dialog cancels it", async () => {
    await event.click();
    const dialog = page.getByRole("dialog", { name: `Post to @${handle}` });
    await expect(dialog.getByLabel("Text")).toHaveValue(text);
    await dialog.getByRole("button", { name: "Cancel post" }).click();
    await expect(dialog).toBeHidden();
    await expect.poll(async () => (await item(itemId)).status).toBe("cancelled");
    await expect(event).toContainText("Cancelled");
  });
});

test("an editor's post from the composer is sent for approval, not queued, and can be followed on the Approvals page", async ({ page, browser }) => {
  const [port] = process.env.PACER_E2E_PORTS!.split(",").map(Number);
  const sql = postgres(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
  const other = await browser.newContext();
  try {
    const id = suffix();
    const handle = `c2c_appr_${id}`;
    const text = `Waiting for a yes ${id}`;
    const editorEmail = `c2c-editor-${id}@example.com`;
    await signUp(page, editorEmail);
    await addSandboxAccount(page, handle);
    // The workspace gets another owner and asks for approval; its creator is now an editor in it (the
    // composer posts to the user's own workspace). One statement, so it always has exactly one owner.
    const owner = await other.newPage();
    const ownerEmail = `c2c-owner-${id}@example.com`;
    await signUp(owner, ownerEmail);
    const [{ ws, editor }] = await sql`select m.workspace_id as ws, m.user_id as editor from public.workspace_members m
                                       join auth.users u on u.id = m.user_id where u.email = ${editorEmail}`;
    const [{ id: ownerId }] = await sql`select id from auth.users where email = ${ownerEmail}`;
    await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${ownerId}, 'admin')`;
    await sql`update public.workspace_members set role = (case when user_id = ${editor} then 'editor' else 'owner' end)::public.workspace_role
              where workspace_id = ${ws} and user_id in (${editor}, ${ownerId})`;
    await sql`update public.workspaces set editor_posts_need_approval = true where id = ${ws}`;

    const when = await plan(page, 10);
    await nav(page, "Compose");
    await expect(page.getByRole("heading", { name: "Compose", level: 1 })).toBeVisible();
    await page.getByLabel("Text", { exact: true }).fill(text);
    await page.getByRole("checkbox", { name: new RegExp(`^@${handle}`) }).check();
    await page.getByLabel("At a time").check();
    await page.getByLabel(/^Date and time/).fill(when.local);
    await page.getByRole("button", { name: "Queue post" }).click();

    const notice = page.getByTestId("compose-notice");
    await expect(notice).toContainText("Sent for approval");
    await expect(notice).toContainText("waits for an admin or the owner of this workspace to approve it");
    await expect(notice).not.toContainText("Queued for");
    await expect(page.getByLabel("Text", { exact: true })).toHaveValue("");
    const [{ n }] = await sql`select count(*)::int as n from public.queue_items where workspace_id = ${ws}`;
    expect(n).toBe(0);

    await notice.getByRole("link", { name: "See it on the Approvals page" }).click();
    await expect(page.getByRole("heading", { name: "Approvals", level: 1 })).toBeVisible();
    const card = page.getByTestId("submission").filter({ hasText: text });
    await expect(card).toContainText("submitted");
    await expect(card.getByRole("button", { name: /Approve|Reject/ })).toHaveCount(0);
  } finally {
    await other.close();
    await sql.end();
  }
});
